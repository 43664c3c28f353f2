# An import ID mirrors the configuration, because Read (which import calls)
# never sees the configuration: the ID alone must say which parent zone to
# look in and which roles reach the parent and child accounts.
#
# Semicolon-separated key=value pairs:
#   name                       the delegated subdomain (required)
#   parent_zone_id | parent_zone_name    the parent zone (exactly one)
#   child_zone_id              adopt this zone instead of the one found by name
#   parent_* and child_*       region, profile, role_arn, session_name,
#                              external_id_env, external_id, role_duration
#
# external_id_env names an environment variable holding the external ID, so
# the ID itself (which Terraform prints) does not carry it:
#   child_external_id_env=CHILD_EXTERNAL_ID
#
# Import says whether the zone is managed or adopted: a zone this provider
# created for the delegation is managed (destroy deletes it), any other zone
# found by name is adopted (destroy keeps it). Set child.zone_id in the
# configuration to keep a managed zone on destroy.
terraform import route53delegation_link.api \
  'name=api.example.com;parent_zone_name=example.com;parent_role_arn=arn:aws:iam::111111111111:role/delegation-parent;child_role_arn=arn:aws:iam::222222222222:role/delegation-child'

# Shorthand NAME@PARENT_ZONE_ID (the resource's id), when the provider's own
# credentials reach both the parent and the child account (otherwise use the
# long form with role ARNs above):
terraform import route53delegation_link.api 'api.example.com@Z0123456789ABCDEFGHIJ'

# Terraform 1.5 and later can import from configuration instead, with the
# same ID (import-by-string-id.tf next to this file):
#
#   import {
#     to = route53delegation_link.api
#     id = "name=api.example.com;parent_zone_name=example.com;..."
#   }

# A parent zone on a DNS server taking RFC 2136 updates: the ID names the
# server and zone and the key; the secret comes from an environment variable
# (never from the ID). child_* keys as above.
TSIG_SECRET=... terraform import route53delegation_link.net \
  'api.example.net@dns-update:192.0.2.53:53/example.net?key_name=route53delegation&key_secret_env=TSIG_SECRET&child_role_arn=arn:aws:iam::222222222222:role/delegation-child'

# A parent zone at a registrar (root_servers=ADDR,ADDR to start the walk
# elsewhere):
terraform import route53delegation_link.org \
  'api.example.org@manual:example.org?child_role_arn=arn:aws:iam::222222222222:role/delegation-child'
