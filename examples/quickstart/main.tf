# Quick start: the parent account owns example.com; a child account gets its
# own hosted zone for api.example.com, and example.com refers to it. Apply
# verifies the delegation over DNS before calling it done.
terraform {
  required_version = ">= 1.5"
  required_providers {
    route53delegation = {
      source = "route53delegation/route53delegation"
    }
  }
}

provider "route53delegation" {
  region = "us-east-1"
  endpoints {
    route53 = var.route53_endpoint
    sts     = var.sts_endpoint
  }
  verify {
    resolvers = var.dns_resolvers
    timeout   = var.verify_timeout
  }
}

resource "route53delegation_link" "api" {
  name = var.name

  parent {
    zone_name = var.parent_zone_name
    assume_role {
      role_arn = var.parent_role_arn
    }
  }

  child {
    comment = "delegated by route53delegation (quickstart)"
    assume_role {
      role_arn = var.child_role_arn
    }
  }
}

output "child_zone_id" {
  description = "The child hosted zone."
  value       = route53delegation_link.api.child_zone_id
}

output "name_servers" {
  description = "The child zone's name servers."
  value       = route53delegation_link.api.name_servers
}

output "delegated_name_servers" {
  description = "What the parent's NS record for the subdomain holds."
  value       = route53delegation_link.api.delegated_name_servers
}

output "verification_status" {
  description = "verified, failed, skipped or cancelled."
  value       = route53delegation_link.api.verification.status
}

output "servers_checked" {
  description = "How many name servers the verification asked."
  value       = route53delegation_link.api.verification.servers_checked
}
