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

variable "parent_role_arn" {
  description = "Role in the account that owns example.com."
  type        = string
  default     = "arn:aws:iam::111111111111:role/delegation-parent"
}

variable "testing_role_arn" {
  description = "Role in the account that gets testing.example.com and delegates dev.testing.example.com from it: it needs both the child and the parent policy (examples/iam/)."
  type        = string
  default     = "arn:aws:iam::333333333333:role/delegation-nested"
}

variable "dev_role_arn" {
  description = "Role in the account that gets dev.testing.example.com."
  type        = string
  default     = "arn:aws:iam::444444444444:role/delegation-child"
}
