# Delegate api.example.net, whose parent zone example.net runs on your own
# BIND or Knot server (RFC 2136 dynamic updates signed with TSIG), to a new
# Route 53 hosted zone in the team's account, and verify it over DNS.
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

variable "tsig_secret" {
  description = "The TSIG key's secret (base64), as in the server's key file."
  type        = string
  sensitive   = true
}

resource "route53delegation_link" "api" {
  name = "api.example.net"
  ttl  = 3600

  parent {
    dns_update {
      server        = "192.0.2.53" # the zone's primary; port 53 by default
      zone          = "example.net"
      key_name      = "route53delegation"
      key_algorithm = "hmac-sha256"
      key_secret    = var.tsig_secret
    }
  }

  child {
    assume_role {
      role_arn = "arn:aws:iam::222222222222:role/delegation-child"
    }
  }
}

output "name_servers" {
  value = route53delegation_link.api.name_servers
}
