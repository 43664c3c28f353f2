variable "region" {
  description = "Region of the certificate (us-east-1 for CloudFront)."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "The subdomain to delegate and certify."
  type        = string
  default     = "api.example.com"
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

variable "child_role_arn" {
  description = "Role in the child account (Route 53 records and ACM certificates)."
  type        = string
  default     = "arn:aws:iam::222222222222:role/delegation-child"
}
