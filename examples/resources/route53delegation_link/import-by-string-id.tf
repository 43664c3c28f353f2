import {
  to = route53delegation_link.api
  id = "name=api.example.com;parent_zone_name=example.com;parent_role_arn=arn:aws:iam::111111111111:role/delegation-parent;child_role_arn=arn:aws:iam::222222222222:role/delegation-child"
}
