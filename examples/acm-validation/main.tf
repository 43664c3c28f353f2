# A certificate for the delegated subdomain, validated through DNS records
# in the child zone: our provider creates and verifies the delegation, and
# the hashicorp/aws provider (assuming the child account's role) requests the
# certificate and writes the validation records into the child zone. ACM can
# only validate once the delegation resolves, which is what the link has
# verified by the time it is created.
#
# Needs real AWS: see README.md.
terraform {
  required_version = ">= 1.5"
  required_providers {
    route53delegation = {
      source = "route53delegation/route53delegation"
    }
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "route53delegation" {
  region = var.region
}

# The child account, where the zone, the validation records and the
# certificate live.
provider "aws" {
  alias  = "child"
  region = var.region
  assume_role {
    role_arn = var.child_role_arn
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
    # The validation records live in this zone: let destroy remove them too.
    force_destroy = true
    assume_role {
      role_arn = var.child_role_arn
    }
  }
}

resource "aws_acm_certificate" "api" {
  provider          = aws.child
  domain_name       = route53delegation_link.api.name
  validation_method = "DNS"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "validation" {
  provider = aws.child
  for_each = {
    for o in aws_acm_certificate.api.domain_validation_options : o.domain_name => {
      name   = o.resource_record_name
      type   = o.resource_record_type
      record = o.resource_record_value
    }
  }

  zone_id         = route53delegation_link.api.child_zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  provider                = aws.child
  certificate_arn         = aws_acm_certificate.api.arn
  validation_record_fqdns = [for r in aws_route53_record.validation : r.fqdn]
}

output "certificate_arn" {
  value = aws_acm_certificate_validation.api.certificate_arn
}

output "delegation_status" {
  value = route53delegation_link.api.verification.status
}
