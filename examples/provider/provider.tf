# Credentials come from the standard AWS chain (environment, shared config,
# SSO, web identity, instance metadata); no secret goes into the
# configuration. Each link names the roles it assumes in the parent and
# child accounts, so one provider instance serves any number of accounts.
terraform {
  required_providers {
    route53delegation = {
      source  = "route53delegation/route53delegation"
      version = "~> 0.1"
    }
  }
}

provider "route53delegation" {
  region  = "us-east-1"
  profile = "operator"

  # Optional: the resolvers used to find the name servers' addresses during
  # verification (default: the system's).
  dns_resolvers = ["1.1.1.1", "8.8.8.8:53"]

  # Optional: how long apply keeps verifying before it fails.
  verify_timeout = "5m"
}
