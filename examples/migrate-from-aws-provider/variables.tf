variable "name" {
  description = "The delegated subdomain."
  type        = string
  default     = "api.example.com"
}

variable "ttl" {
  description = "TTL of the parent NS record as the old aws_route53_record wrote it."
  type        = number
  default     = 30
}

variable "parent_zone_id" {
  description = "The parent hosted zone (the old aws_route53_record's zone_id)."
  type        = string
}

variable "parent_role_arn" {
  description = "Role in the parent account (the old aws.parent alias's role)."
  type        = string
}

variable "child_role_arn" {
  description = "Role in the child account (the old aws.child alias's role)."
  type        = string
}

variable "route53_endpoint" {
  description = "Route 53 endpoint override (null: AWS)."
  type        = string
  default     = null
}

variable "sts_endpoint" {
  description = "STS endpoint override (null: AWS)."
  type        = string
  default     = null
}

variable "dns_resolvers" {
  description = "Resolvers used to find name-server addresses (empty: the system's)."
  type        = list(string)
  default     = []
}
