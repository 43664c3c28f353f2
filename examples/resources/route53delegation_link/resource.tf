# Delegate api.example.com (parent zone example.com in account 111111111111)
# to a new hosted zone in account 222222222222, then verify over DNS that
# the parent refers to exactly the child zone's name servers.
resource "route53delegation_link" "api" {
  name = "api.example.com"
  ttl  = 3600

  parent {
    zone_name = "example.com"
    assume_role {
      role_arn = "arn:aws:iam::111111111111:role/delegation-parent"
    }
  }

  child {
    comment = "api team"
    assume_role {
      role_arn = "arn:aws:iam::222222222222:role/delegation-child"
    }
  }

  verify {
    timeout   = "10m"
    recursive = true
  }
}

output "api_name_servers" {
  value = route53delegation_link.api.name_servers
}

output "api_verification" {
  value = route53delegation_link.api.verification
}
