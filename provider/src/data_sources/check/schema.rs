//! The schema of `route53delegation_check`.

use crate::protocol::{Attribute, Block, Schema, Type};

/// The type of one entry of `servers`.
pub fn server_type() -> Type {
    Type::object([
        ("role", Type::String),
        ("check", Type::String),
        ("server", Type::String),
        ("address", Type::String),
        ("ok", Type::Bool),
        ("detail", Type::String),
        ("rtt_ms", Type::Number),
        ("listed", Type::String),
    ])
}

/// The type of one entry of `findings`.
pub fn finding_type() -> Type {
    Type::object([
        ("code", Type::String),
        ("severity", Type::String),
        ("message", Type::String),
    ])
}

/// The schema.
pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new()
            .description("Checks any DNS delegation the way `route53delegation_link` verifies its own: walks from the root servers to the zone that delegates `name` (recursion off, no resolver cache), asks each of the parent's servers for the referral and each child server for the zone's SOA and NS. Needs no AWS credentials, so it works for delegations made by anyone, in any DNS. A broken delegation is reported in `status`, `findings` and `servers`, not as an error: use it in a `check {}` block with an `assert` on `healthy` for continuous validation.")
            .attribute(Attribute::new("name", Type::String).required().description("The delegated name, e.g. `api.example.com`."))
            .attribute(Attribute::new("expected_name_servers", Type::set(Type::String)).optional().description("The name servers `name` must be delegated to. Unset: whatever the parent refers to must answer authoritatively."))
            .attribute(Attribute::new("root_servers", Type::list(Type::String)).optional().description("Root server addresses (`ADDRESS` or `ADDRESS:PORT`) the walk starts from. Default: the thirteen root servers."))
            .attribute(Attribute::new("query_timeout", Type::String).optional().description("How long to wait for each answer, e.g. `2s` (the default); each question is asked twice at most."))
            .attribute(Attribute::new("status", Type::String).computed().description("`healthy`, `broken`, or `unknown` (no server could be reached)."))
            .attribute(Attribute::new("healthy", Type::Bool).computed().description("True when `status` is `healthy`."))
            .attribute(Attribute::new("parent_zone", Type::String).computed().description("The zone that holds the delegation."))
            .attribute(Attribute::new("parent_name_servers", Type::list(Type::String)).computed().description("The parent zone's name servers, as the zone above refers to them."))
            .attribute(Attribute::new("delegated_name_servers", Type::list(Type::String)).computed().description("What the parent's servers refer `name` to (empty: not delegated)."))
            .attribute(Attribute::new("servers", Type::list(server_type())).computed().description("Every question asked, failing ones first: `role` (parent or child), `check` (parent_referral, child_soa, child_ns), `server`, `address`, `ok`, `detail`, `rtt_ms`, and `listed` for a child-side server: where it is named (`both`: the delegation and the child zone's apex NS set; `child_only`; `delegation_only`; null when no apex NS set was seen). Every server the parent's referral or the child's apex NS set names is asked, as Zonemaster does."))
            .attribute(Attribute::new("findings", Type::list(finding_type())).computed().description("What is wrong, errors first: `code` (stable, e.g. `no_parent_record`, `parent_points_elsewhere`, `lame_child_server`), `severity`, `message`."))
            .attribute(Attribute::new("summary", Type::String).computed().description("One line for people."))
            .attribute(Attribute::new("error", Type::String).computed().description("Why the check could not be made, when `status` is `unknown`.")),
    )
}
