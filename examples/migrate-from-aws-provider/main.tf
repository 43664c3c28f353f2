# Moving an existing delegation from the AWS provider's two-alias pattern
# (an aws_route53_zone in the child account plus an aws_route53_record of
# type NS in the parent account) to one route53delegation_link, with no
# change in DNS: the link imports the delegation as it is, and the old
# resources leave Terraform's state without being destroyed (Terraform 1.7+).
#
# What the old configuration looked like, for reference:
#
#   resource "aws_route53_zone" "api" {
#     provider = aws.child
#     name     = "api.example.com"
#   }
#   resource "aws_route53_record" "api_ns" {
#     provider = aws.parent
#     zone_id  = var.parent_zone_id
#     name     = "api.example.com"
#     type     = "NS"
#     ttl      = 30
#     records  = aws_route53_zone.api.name_servers
#   }
terraform {
  required_version = ">= 1.7"
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
  }
}

# 1. Adopt the delegation as it stands: the child zone found by name in the
#    child account, the NS record read from the parent zone.
import {
  to = route53delegation_link.api
  id = "name=${var.name};parent_zone_id=${var.parent_zone_id};parent_role_arn=${var.parent_role_arn};child_role_arn=${var.child_role_arn}"
}

# 2. Forget the old resources without destroying them.
removed {
  from = aws_route53_record.api_ns
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_route53_zone.api
  lifecycle {
    destroy = false
  }
}

# 3. The link, matching what exists: the same parent zone and the NS record's
#    TTL as the old aws_route53_record wrote it, so the plan changes nothing
#    in DNS. Change ttl afterwards if you like (an in-place update).
resource "route53delegation_link" "api" {
  name = var.name
  ttl  = var.ttl

  parent {
    zone_id = var.parent_zone_id
    assume_role {
      role_arn = var.parent_role_arn
    }
  }

  child {
    assume_role {
      role_arn = var.child_role_arn
    }
  }
}

output "verification_status" {
  description = "verified once the imported delegation has been checked over DNS."
  value       = route53delegation_link.api.verification.status
}
