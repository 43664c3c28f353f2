# Continuous validation of delegations this team does not own: every plan
# and apply checks each name from the root servers down, with no AWS
# credentials, and a broken delegation shows as a warning ("Check block
# assertion failed") naming what is wrong, without failing the run.
terraform {
  required_version = ">= 1.5"
  required_providers {
    route53delegation = {
      source = "route53delegation/route53delegation"
    }
  }
}

# No region, profile or role: the check data source never calls AWS.
provider "route53delegation" {
  verify {
    resolvers = var.dns_resolvers
  }
}

data "route53delegation_check" "delegation" {
  for_each = var.delegations

  name                  = each.key
  expected_name_servers = length(each.value) > 0 ? each.value : null
  root_servers          = var.root_servers
}

check "delegations_resolve" {
  assert {
    condition = alltrue([for d in data.route53delegation_check.delegation : d.healthy])
    error_message = join("\n", [
      for d in data.route53delegation_check.delegation : d.summary if !d.healthy
    ])
  }
}

output "status" {
  description = "Each delegation's status: healthy, broken or unknown."
  value       = { for name, d in data.route53delegation_check.delegation : name => d.status }
}

output "findings" {
  description = "What is wrong with each broken delegation (stable codes)."
  value = {
    for name, d in data.route53delegation_check.delegation :
    name => [for f in d.findings : f.code] if !d.healthy
  }
}
