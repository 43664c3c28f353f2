# Provider settings, as variables so that the same configuration runs against
# real AWS (leave them unset) or the project's local world (scripts/demo.sh
# and scripts/examples.sh set them through TF_VAR_* variables).

variable "route53_endpoint" {
  description = "Route 53 endpoint URL; null for the standard AWS endpoint."
  type        = string
  default     = null
}

variable "sts_endpoint" {
  description = "STS endpoint URL; null for the standard AWS endpoint."
  type        = string
  default     = null
}

variable "dns_resolvers" {
  description = "Resolvers used during verification (ADDRESS or ADDRESS:PORT); empty for the system's."
  type        = list(string)
  default     = []
}

variable "verify_timeout" {
  description = "How long apply keeps verifying the delegation before it fails."
  type        = string
  default     = "5m"
}

variable "parent_zone_name" {
  description = "The parent public hosted zone."
  type        = string
  default     = "example.com"
}

variable "parent_role_arn" {
  description = "Role in the account that owns the parent zone."
  type        = string
  default     = "arn:aws:iam::111111111111:role/delegation-parent"
}

variable "environments" {
  description = "Environment name => AWS account that gets ENV.<parent_zone_name>."
  type        = map(string)
  default = {
    dev     = "222222222222"
    staging = "333333333333"
    prod    = "444444444444"
  }
}
