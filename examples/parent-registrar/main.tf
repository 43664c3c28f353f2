# Delegate api.example.org, whose parent zone example.org is at a registrar
# without an API, to a new Route 53 hosted zone: apply shows the name
# servers to enter at the registrar and waits until DNS shows them.
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
}

resource "route53delegation_link" "api" {
  name = "api.example.org"

  parent {
    manual {
      zone = "example.org"
    }
  }

  child {
    assume_role {
      role_arn = "arn:aws:iam::222222222222:role/delegation-child"
    }
  }

  verify {
    # How long apply waits for the registrar's delegation to show in DNS.
    timeout = "15m"
  }
}

output "registrar_instructions" {
  value = route53delegation_link.api.registrar_instructions
}
