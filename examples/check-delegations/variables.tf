variable "delegations" {
  description = "Delegated names to watch, each with the name servers it must be delegated to (an empty list: whatever the parent refers to must work)."
  type        = map(list(string))
  default = {
    "api.example.com" = []
  }
}

variable "root_servers" {
  description = "Root server addresses the checks start from; null for the thirteen root servers."
  type        = list(string)
  default     = null
}

variable "dns_resolvers" {
  description = "Resolvers used to find name-server addresses that come without glue; empty for the system's."
  type        = list(string)
  default     = []
}
