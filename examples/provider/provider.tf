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

  # Optional: defaults for every link's verify block, under the same names.
  verify {
    # The resolvers used to find the name servers' addresses during
    # verification (default: the system's).
    resolvers = ["1.1.1.1", "8.8.8.8:53"]
    # How long apply keeps verifying before it fails.
    timeout = "5m"
  }
}
