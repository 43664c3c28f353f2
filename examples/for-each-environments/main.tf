# One link per environment: ENV.example.com is delegated to a hosted zone in
# that environment's own account, each through the account's
# delegation-child role.
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

resource "route53delegation_link" "env" {
  for_each = var.environments

  name = "${each.key}.${var.parent_zone_name}"

  parent {
    zone_name = var.parent_zone_name
    assume_role {
      role_arn = var.parent_role_arn
    }
  }

  child {
    comment = "${each.key} environment"
    assume_role {
      role_arn = "arn:aws:iam::${each.value}:role/delegation-child"
    }
  }
}

output "zones" {
  description = "Environment => child zone ID, name servers and verification status."
  value = {
    for env, link in route53delegation_link.env : env => {
      zone_id      = link.child_zone_id
      name_servers = link.name_servers
      status       = link.verification.status
    }
  }
}
