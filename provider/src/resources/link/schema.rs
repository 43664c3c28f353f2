//! The schema of `route53delegation_link`: attributes, blocks and their
//! descriptions (which the docs generator renders).

use route53delegation::delegation::{DEFAULT_TTL, MAX_TTL, MIN_TTL};

use crate::protocol::{Attribute, Block, NestedBlock, NestingMode, Schema, Type};

/// The resource schema.
pub fn schema() -> Schema {
    let s = || Type::String;
    let account_attrs = |b: Block, side: &str| {
        b.attribute(Attribute::new("region", s()).optional().description(format!(
            "Region for the {side} account. Route 53 is global; the region picks the partition (`aws`, `aws-cn`, `aws-us-gov`). Defaults to the provider's `region`."
        )))
        .attribute(Attribute::new("profile", s()).optional().description(format!(
            "Named profile (shared config and credentials files) for the {side} account's base credentials. Defaults to the provider's `profile`."
        )))
        .nested_block(NestedBlock::new("assume_role", NestingMode::Single, assume_role_block(side)))
    };
    let parent = account_attrs(
        Block::new().description(
            "The parent zone and the account that holds it. Exactly one of `zone_id` and `zone_name` (a Route 53 hosted zone), a `dns_update` block (a zone on a DNS server taking RFC 2136 updates) or a `manual` block (a zone at a registrar). Changing the kind of parent, or the zone of a `dns_update` or `manual` parent, replaces the link. Changing the parent zone (by ID, by name, or a name looked up in another account) moves the delegation in place: the NS record is written in the new parent zone, waited for and verified, and only then removed from the old one (only if it still holds what this link wrote).",
        ),
        "parent",
    )
    .attribute(Attribute::new("zone_id", s()).optional().description(
        "ID of the parent public hosted zone, e.g. `Z0123456789ABCDEFGHIJ`.",
    ))
    .attribute(Attribute::new("zone_name", s()).optional().description(
        "Name of the parent public hosted zone, e.g. `example.com`. More than one public zone with this name is an error that lists them.",
    ))
    .attribute(Attribute::new("allow_overwrite", Type::Bool).optional().description(
        "Replace an NS record for `name` that this link did not write. Default `false`: such a record is never overwritten, and plan fails showing its values.",
    ))
    .nested_block(super::parent::dns_update_block())
    .nested_block(super::parent::manual_block());
    let child = account_attrs(
        Block::new().description(
            "The child account. Without `zone_id` the link creates the child hosted zone (and deletes it on destroy); with `zone_id` it adopts that zone and never deletes it. A zone the link did not create (adopted, imported from elsewhere, or re-created by hand and re-pointed to) is never deleted and its comment is left alone. Changing the account (`assume_role.role_arn`, `profile`, `region`) or `zone_id` moves the delegation in place without an outage: the new zone is created (or adopted), the parent record is swapped in one atomic change, waited for and verified, and only then is the old zone deleted, if the link created it. A move is refused before any change while the old zone holds records of its own, unless `force_destroy = true`.",
        ),
        "child",
    )
    .attribute(Attribute::new("zone_id", s()).optional().description(
        "Adopt this existing public hosted zone (named `name`) instead of creating one; `/hostedzone/Z...` and `Z...` are the same. Changing it moves the delegation to that zone in place (see above); naming the zone the link already uses changes nothing but makes it adopted (kept on destroy).",
    ))
    .attribute(Attribute::new("comment", s()).optional().description(
        "Comment of a hosted zone the link creates; updated in place, and a comment changed outside Terraform shows as drift.",
    ))
    .attribute(Attribute::new("tags", Type::map(s())).optional().description(
        "Tags of the child hosted zone, exactly: the link adds, changes and removes tags so the zone carries these and no others, and a tag changed outside Terraform shows as drift. Without `tags` the zone's tags are left as they are (an adopted zone's too). Route 53 allows 50 tags per zone, keys of 1 to 128 characters and values of at most 256.",
    ))
    .attribute(Attribute::new("force_destroy", Type::Bool).optional().description(
        "On destroy (or when a move retires the old zone), delete the records of a zone the link created before deleting the zone. Default `false`: a zone holding records other than its apex SOA and NS makes destroy fail naming them, before anything is changed: the parent record stays and the subdomain keeps resolving.",
    ));
    let verify = Block::new()
        .description("DNS verification after every change: straight from the authoritative servers, the parent must refer `name` to exactly the child zone's name servers, and each of them must answer authoritatively.")
        .attribute(Attribute::new("enabled", Type::Bool).optional().description("Verify at all. Default `true`."))
        .attribute(Attribute::new("timeout", s()).optional().description("How long to keep checking before apply fails, e.g. `5m` (the default)."))
        .attribute(Attribute::new("resolvers", Type::list(s())).optional().description("Resolvers (`ADDRESS` or `ADDRESS:PORT`) used to find the name servers' addresses, and for the recursive check. Defaults to the provider's `verify.resolvers`, then the system's."))
        .attribute(Attribute::new("recursive", Type::Bool).optional().description("Also resolve `name` through the first resolver. A negative answer it cached before the delegation existed is reported as a warning with its remaining TTL; it does not fail apply, as the authoritative servers decide. Default `false`."))
        .attribute(Attribute::new("on_refresh", Type::Bool).optional().description("Check the delegation again on every refresh (`terraform plan`, `apply`, `apply -refresh-only`): one quick, concurrent round of questions to the parent and child name servers (1.5 s per question, a server counts as silent only after two missed questions in a row, 8 s at most per link). A delegation that no longer verifies shows as a change to `verification` (apply verifies again, with `timeout`) and a warning naming each failing server. A check that reaches no name server at all keeps the last verification. Default `true`; set `false` for thousands of links or where DNS is not reachable."));
    let timeouts = Block::new()
        .description("How long each operation may take, e.g. `30m` (the default for each). The timeout bounds every step, each AWS call and every wait included; a step cut short fails with `timed out`, and the state records what was created.")
        .attribute(
            Attribute::new("create", s())
                .optional()
                .description("Timeout for create."),
        )
        .attribute(
            Attribute::new("update", s())
                .optional()
                .description("Timeout for update."),
        )
        .attribute(
            Attribute::new("delete", s())
                .optional()
                .description("Timeout for delete."),
        );
    let block = Block::new()
        .description("Delegates a subdomain to its own Route 53 hosted zone, usually in another AWS account, and verifies the delegation over DNS before calling it done. Destroy removes the parent NS record first, then the zone it created, so no delegation is left dangling.")
        .attribute(Attribute::new("id", s()).computed().description("`NAME@PARENT_ZONE_ID` (`NAME@dns-update:ZONE`, `NAME@manual:ZONE` for the parents outside Route 53)."))
        .attribute(Attribute::new("name", s()).required().description("The subdomain to delegate, e.g. `api.example.com`. Trailing dot and letter case do not matter; internationalised names are converted to punycode. Changing it replaces the link."))
        .attribute(Attribute::new("ttl", Type::Number).optional().computed().description(format!(
            "TTL of the NS record in the parent zone, {MIN_TTL} to {MAX_TTL} seconds (Route 53's range, so an existing delegation imports as it is). Default {DEFAULT_TTL} (one hour): a repaired delegation reaches resolvers within the hour, where Route 53's usual NS TTL of two days would keep a wrong referral cached for two days."
        )))
        .attribute(Attribute::new("child_zone_id", s()).computed().description("ID of the child hosted zone."))
        .attribute(Attribute::new("parent_zone_id", s()).computed().description("ID of the parent hosted zone; `dns-update:ZONE` for a `parent.dns_update` zone, `manual:ZONE` for a `parent.manual` one."))
        .attribute(Attribute::new("parent_zone_name", s()).computed().description("Name of the parent hosted zone."))
        .attribute(Attribute::new("name_servers", Type::list(s())).computed().description("The child zone's name servers, sorted."))
        .attribute(Attribute::new("registrar_instructions", s()).computed().description("With a `parent.manual` block: what to enter at the registrar, in words (the NS set for `name`, exactly `name_servers`). Null for other parents."))
        .attribute(Attribute::new("delegated_name_servers", Type::list(s())).computed().description("The name servers the parent's NS record for `name` holds now, sorted. A plan that changes it is repairing the delegation."))
        .attribute(Attribute::new("verification", verification_type()).computed().description("The last DNS verification, by apply or by the refresh check (`verify.on_refresh`): `status` (`verified`; `failed`; `pending`: a registrar parent's delegation not yet seen in DNS, which the next apply waits for again; `skipped`: `verify.enabled = false`; `cancelled`: apply was interrupted while verifying), `checked_at` (RFC 3339; a refresh that finds the same verdict on the same servers keeps the earlier entry, so state does not churn), `servers_checked`, a one-line `summary` naming failing servers first, and `servers`: one entry per server checked, failing first, with `name`, `address`, `role` (`parent`, `child` or `resolver`), `result` (`ok`, or what it did: `timed out`, `REFUSED (does not serve the zone)`, `not authoritative`, `serves the zone but is missing from the child zone's apex NS set`, `different NS set [...]` (when child servers disagree on it), `refers to other servers [...]`, ...; a failing server named by only the delegation or only the child's apex NS set says so) and `rtt_ms`."))
        .nested_block(NestedBlock::new("parent", NestingMode::Single, parent).items(1, 1))
        .nested_block(NestedBlock::new("child", NestingMode::Single, child).items(1, 1))
        .nested_block(NestedBlock::new("verify", NestingMode::Single, verify))
        .nested_block(NestedBlock::new("timeouts", NestingMode::Single, timeouts));
    Schema::new(0, block)
}

pub(crate) fn assume_role_block(side: &str) -> Block {
    Block::new()
        .description(format!(
            "Role to assume in the {side} account with STS, using the base credentials."
        ))
        .attribute(
            Attribute::new("role_arn", Type::String)
                .required()
                .description("`arn:aws:iam::ACCOUNT:role/NAME`."),
        )
        .attribute(
            Attribute::new("session_name", Type::String)
                .optional()
                .description("Session name. Default `route53delegation`."),
        )
        .attribute(
            Attribute::new("external_id", Type::String)
                .optional()
                .sensitive()
                .description("External ID the role's trust policy requires. Sensitive: never shown in plan output or logs. Terraform keeps it in state like every configured attribute, and Read needs it there to assume the role, so protect the state as you would the configuration."),
        )
        .attribute(
            Attribute::new("duration", Type::String)
                .optional()
                .description("Session duration, `15m` to `12h`. Default `1h`."),
        )
}

pub(crate) fn verification_type() -> Type {
    Type::object([
        ("status", Type::String),
        ("checked_at", Type::String),
        ("servers_checked", Type::Number),
        ("summary", Type::String),
        ("servers", Type::list(server_result_type())),
    ])
}

pub(crate) fn server_result_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("address", Type::String),
        ("role", Type::String),
        ("result", Type::String),
        ("rtt_ms", Type::Number),
    ])
}
