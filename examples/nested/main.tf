# Two levels: example.com delegates testing.example.com to a zone in one
# account, and that child zone in turn delegates dev.testing.example.com to
# a zone in a third account. The second link's parent is the first link's
# child zone, so Terraform creates (and verifies) them in order and destroys
# them in reverse.
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

resource "route53delegation_link" "testing" {
  name = "testing.example.com"

  parent {
    zone_name = "example.com"
    assume_role {
      role_arn = var.parent_role_arn
    }
  }

  child {
    assume_role {
      role_arn = var.testing_role_arn
    }
  }
}

resource "route53delegation_link" "dev" {
  name = "dev.testing.example.com"

  parent {
    # The zone the first link created, in the testing account.
    zone_id = route53delegation_link.testing.child_zone_id
    assume_role {
      role_arn = var.testing_role_arn
    }
  }

  child {
    assume_role {
      role_arn = var.dev_role_arn
    }
  }
}

output "testing" {
  value = {
    zone_id = route53delegation_link.testing.child_zone_id
    status  = route53delegation_link.testing.verification.status
  }
}

output "dev" {
  value = {
    zone_id = route53delegation_link.dev.child_zone_id
    status  = route53delegation_link.dev.verification.status
  }
}
