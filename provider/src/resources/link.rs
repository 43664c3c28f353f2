//! Resource `route53delegation_link`: schema, state type and lifecycle.
//!
//! The resource is glue: it turns configuration and state into the core's
//! [`LinkSpec`] and [`LinkState`], calls the [`Engine`], and turns the results
//! back into state and diagnostics. All delegation logic lives in the core.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use route53delegation::account::{validate_role_arn, validate_session_duration};
use route53delegation::delegation::{
    ChildSpec, Notice, ParentSpec, Preflight, Retired, RetiredObject, VerificationSummary,
    VerifySpec, VerifyStatus, ZoneRef, DEFAULT_TTL, DEFAULT_VERIFY_TIMEOUT, MAX_TTL, MIN_TTL,
};
use route53delegation::diagnose::Finding;
use route53delegation::dns::parse_resolver;
use route53delegation::record::NsRecord;
use route53delegation::verify::{ServerResult, ServerRole};
use route53delegation::{
    AccountSettings, AssumeRole, CancellationToken, DomainName, Engine, LinkSpec, LinkState, NsSet,
};

use crate::duration;
use crate::protocol::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostic, ImportResponse,
    ImportedResource, NestedBlock, NestingMode, PlanRequest, PlanResponse, ReadRequest,
    ReadResponse, Schema, Type, Value,
};

/// The resource type name.
pub const TYPE_NAME: &str = "route53delegation_link";

/// Default create, update and delete timeouts.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
    .nested_block(super::link_parent::dns_update_block())
    .nested_block(super::link_parent::manual_block());
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
    .attribute(Attribute::new("force_destroy", Type::Bool).optional().description(
        "On destroy (or when a move retires the old zone), delete the records of a zone the link created before deleting the zone. Default `false`: a zone holding records other than its apex SOA and NS makes destroy fail naming them, before anything is changed: the parent record stays and the subdomain keeps resolving.",
    ));
    let verify = Block::new()
        .description("DNS verification after every change: straight from the authoritative servers, the parent must refer `name` to exactly the child zone's name servers, and each of them must answer authoritatively.")
        .attribute(Attribute::new("enabled", Type::Bool).optional().description("Verify at all. Default `true`."))
        .attribute(Attribute::new("timeout", s()).optional().description("How long to keep checking before apply fails, e.g. `5m` (the default)."))
        .attribute(Attribute::new("resolvers", Type::list(s())).optional().description("Resolvers (`ADDRESS` or `ADDRESS:PORT`) used to find the name servers' addresses, and for the recursive check. Defaults to the provider's `dns_resolvers`, then the system's."))
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
        .attribute(Attribute::new("verification", verification_type()).computed().description("The last DNS verification, by apply or by the refresh check (`verify.on_refresh`): `status` (`verified`, `failed`, `skipped`, `cancelled`), `checked_at` (RFC 3339; a refresh that finds the same verdict on the same servers keeps the earlier entry, so state does not churn), `servers_checked`, a one-line `summary` naming failing servers first, and `servers`: one entry per server checked, failing first, with `name`, `address`, `role` (`parent`, `child` or `resolver`), `result` (`ok`, or what it did: `timed out`, `REFUSED (does not serve the zone)`, `not authoritative`, `different NS set [...]`, `refers to other servers [...]`, ...) and `rtt_ms`."))
        .nested_block(NestedBlock::new("parent", NestingMode::Single, parent).items(1, 1))
        .nested_block(NestedBlock::new("child", NestingMode::Single, child).items(1, 1))
        .nested_block(NestedBlock::new("verify", NestingMode::Single, verify))
        .nested_block(NestedBlock::new("timeouts", NestingMode::Single, timeouts));
    Schema::new(0, block)
}

fn assume_role_block(side: &str) -> Block {
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

fn verification_type() -> Type {
    Type::object([
        ("status", Type::String),
        ("checked_at", Type::String),
        ("servers_checked", Type::Number),
        ("summary", Type::String),
        ("servers", Type::list(server_result_type())),
    ])
}

fn server_result_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("address", Type::String),
        ("role", Type::String),
        ("result", Type::String),
        ("rtt_ms", Type::Number),
    ])
}

/// The configuration, parsed and checked.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// What the core needs.
    pub spec: LinkSpec,
    /// Operation timeouts.
    pub timeouts: Timeouts,
}

/// Operation timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Create.
    pub create: Duration,
    /// Update.
    pub update: Duration,
    /// Delete.
    pub delete: Duration,
}

struct Checker {
    diags: Vec<Diagnostic>,
    incomplete: bool,
}

impl Checker {
    fn error(&mut self, path: AttributePath, summary: &str, detail: String) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_attribute(path));
    }

    fn string(&mut self, v: &Value, name: &str) -> Option<String> {
        match v.get(name) {
            Some(Value::Unknown) => {
                self.incomplete = true;
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        }
    }

    fn boolean(&mut self, v: &Value, name: &str) -> Option<bool> {
        match v.get(name) {
            Some(Value::Unknown) => {
                self.incomplete = true;
                None
            }
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    fn duration(&mut self, v: &Value, name: &str, path: AttributePath) -> Option<Duration> {
        let s = self.string(v, name)?;
        match duration::parse(&s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(path, "Invalid duration", e);
                None
            }
        }
    }

    fn zone_id(&mut self, v: &Value, name: &str, path: AttributePath) -> Option<String> {
        let s = self.string(v, name)?;
        let bare = s.trim().trim_start_matches("/hostedzone/").to_string();
        if bare.is_empty()
            || bare.len() > 32
            || !bare
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            self.error(
                path,
                "Invalid hosted zone ID",
                format!("{s:?} is not a Route 53 hosted zone ID; expected upper-case letters and digits such as Z0123456789ABCDEFGHIJ"),
            );
            return None;
        }
        Some(bare)
    }

    fn account(&mut self, v: &Value, path: &AttributePath) -> AccountSettings {
        let mut a = AccountSettings {
            region: self.string(v, "region"),
            profile: self.string(v, "profile"),
            ..Default::default()
        };
        match v.get("assume_role") {
            Some(Value::Unknown) => self.incomplete = true,
            Some(r @ Value::Object(_)) => {
                let rp = path.clone().then_attr("assume_role");
                let arn = self.string(r, "role_arn");
                if let Some(arn) = &arn {
                    if let Err(e) = validate_role_arn(arn) {
                        self.error(rp.clone().then_attr("role_arn"), "Invalid role ARN", e);
                    }
                }
                let duration = self.duration(r, "duration", rp.clone().then_attr("duration"));
                if let Some(d) = duration {
                    if let Err(e) = validate_session_duration(d) {
                        self.error(
                            rp.clone().then_attr("duration"),
                            "Invalid session duration",
                            e,
                        );
                    }
                }
                if let Some(arn) = arn {
                    a.assume_role = Some(AssumeRole {
                        role_arn: arn,
                        session_name: self.string(r, "session_name"),
                        external_id: self.string(r, "external_id"),
                        duration,
                    });
                } else {
                    self.incomplete = true;
                }
            }
            _ => {}
        }
        a
    }
}

/// Parses and checks a configuration (or planned state). Returns the
/// diagnostics, and the parsed configuration when it is complete and valid.
pub fn parse_config(v: &Value) -> (Option<LinkConfig>, Vec<Diagnostic>) {
    let mut c = Checker {
        diags: Vec::new(),
        incomplete: false,
    };
    let name = match v.get("name") {
        Some(Value::String(s)) => match DomainName::parse_subdomain(s) {
            Ok(n) => Some(n),
            Err(e) => {
                c.error(
                    AttributePath::attr("name"),
                    "Invalid name",
                    format!("{e}; expected a subdomain such as api.example.com"),
                );
                None
            }
        },
        _ => {
            c.incomplete = true;
            None
        }
    };
    let ttl = match v.get("ttl") {
        Some(Value::Unknown) => {
            c.incomplete = true;
            None
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(t) if (MIN_TTL..=MAX_TTL).contains(&t) => Some(t),
            _ => {
                c.error(
                    AttributePath::attr("ttl"),
                    "TTL out of range",
                    format!("ttl must be a whole number of seconds from {MIN_TTL} to {MAX_TTL}, got {n}"),
                );
                None
            }
        },
        _ => Some(DEFAULT_TTL),
    };

    let ppath = AttributePath::attr("parent");
    let parent = match v.get("parent") {
        Some(p @ Value::Object(_)) if super::link_parent::parse(p, name.as_ref()).set => {
            let mut parsed = super::link_parent::parse(p, name.as_ref());
            c.diags.append(&mut parsed.diags);
            c.incomplete |= parsed.incomplete;
            parsed.kind.map(|kind| ParentSpec {
                zone: ZoneRef::Name(
                    kind.zone()
                        .cloned()
                        .unwrap_or_else(|| DomainName::parse("invalid").expect("static name")),
                ),
                account: AccountSettings::default(),
                allow_overwrite: c.boolean(p, "allow_overwrite").unwrap_or(false),
                kind,
            })
        }
        Some(p @ Value::Object(_)) => {
            let zone_id = c.zone_id(p, "zone_id", ppath.clone().then_attr("zone_id"));
            let zone_name_raw = c.string(p, "zone_name");
            let zone_name = zone_name_raw
                .as_deref()
                .and_then(|z| match DomainName::parse(z) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        c.error(
                            ppath.clone().then_attr("zone_name"),
                            "Invalid zone name",
                            e.to_string(),
                        );
                        None
                    }
                });
            let id_set = !matches!(p.get("zone_id"), None | Some(Value::Null));
            let name_set = !matches!(p.get("zone_name"), None | Some(Value::Null));
            if id_set && name_set {
                c.error(
                    ppath.clone().then_attr("zone_id"),
                    "Conflicting parent zone",
                    "set only one of parent.zone_id and parent.zone_name".into(),
                );
            } else if !id_set && !name_set {
                c.error(
                    ppath.clone(),
                    "Missing parent zone",
                    "set one of parent.zone_id or parent.zone_name (a Route 53 hosted zone), a parent.dns_update block (a zone on a DNS server taking RFC 2136 updates) or a parent.manual block (a zone at a registrar)".into(),
                );
            }
            if let (Some(n), Some(z)) = (&name, &zone_name) {
                if !n.is_strict_subdomain_of(z) {
                    c.error(
                        AttributePath::attr("name"),
                        "Name not under the parent zone",
                        format!("name {n} is not a subdomain of parent.zone_name {z}; expected a name such as api.{z}"),
                    );
                }
            }
            let account = c.account(p, &ppath);
            let zone = zone_id.map(ZoneRef::Id).or(zone_name.map(ZoneRef::Name));
            zone.map(|zone| ParentSpec {
                zone,
                account,
                allow_overwrite: c.boolean(p, "allow_overwrite").unwrap_or(false),
                kind: Default::default(),
            })
        }
        Some(Value::Unknown) => {
            c.incomplete = true;
            None
        }
        _ => {
            c.error(
                ppath.clone(),
                "Missing parent block",
                "a parent block is required".into(),
            );
            None
        }
    };

    let cpath = AttributePath::attr("child");
    let child = match v.get("child") {
        Some(ch @ Value::Object(_)) => Some(ChildSpec {
            account: c.account(ch, &cpath),
            zone_id: c.zone_id(ch, "zone_id", cpath.clone().then_attr("zone_id")),
            comment: c.string(ch, "comment"),
            force_destroy: c.boolean(ch, "force_destroy").unwrap_or(false),
        }),
        Some(Value::Unknown) => {
            c.incomplete = true;
            None
        }
        _ => {
            c.error(
                cpath.clone(),
                "Missing child block",
                "a child block is required".into(),
            );
            None
        }
    };

    let vpath = AttributePath::attr("verify");
    let mut verify = VerifySpec::default();
    if let Some(vb @ Value::Object(_)) = v.get("verify") {
        verify.enabled = c.boolean(vb, "enabled").unwrap_or(true);
        verify.recursive = c.boolean(vb, "recursive").unwrap_or(false);
        verify.on_refresh = c.boolean(vb, "on_refresh").unwrap_or(true);
        verify.timeout = c
            .duration(vb, "timeout", vpath.clone().then_attr("timeout"))
            .unwrap_or(DEFAULT_VERIFY_TIMEOUT);
        match vb.get("resolvers") {
            Some(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => match parse_resolver(s) {
                            Ok(a) => verify.resolvers.push(a),
                            Err(e) => c.error(
                                vpath.clone().then_attr("resolvers").then_index(i as i64),
                                "Invalid resolver",
                                format!("{e}; expected an address such as 127.0.0.53 or 127.0.0.53:5353"),
                            ),
                        },
                        _ => c.incomplete = true,
                    }
                }
            }
            Some(Value::Unknown) => c.incomplete = true,
            _ => {}
        }
    }

    let tpath = AttributePath::attr("timeouts");
    let mut timeouts = Timeouts {
        create: DEFAULT_TIMEOUT,
        update: DEFAULT_TIMEOUT,
        delete: DEFAULT_TIMEOUT,
    };
    if let Some(tb @ Value::Object(_)) = v.get("timeouts") {
        if let Some(d) = c.duration(tb, "create", tpath.clone().then_attr("create")) {
            timeouts.create = d;
        }
        if let Some(d) = c.duration(tb, "update", tpath.clone().then_attr("update")) {
            timeouts.update = d;
        }
        if let Some(d) = c.duration(tb, "delete", tpath.clone().then_attr("delete")) {
            timeouts.delete = d;
        }
    }

    let ok = c.diags.iter().all(|d| !d.is_error()) && !c.incomplete;
    let cfg = match (ok, name, ttl, parent, child) {
        (true, Some(name), Some(ttl), Some(parent), Some(child)) => Some(LinkConfig {
            spec: LinkSpec {
                name,
                ttl,
                parent,
                child,
                verify,
            },
            timeouts,
        }),
        _ => None,
    };
    (cfg, c.diags)
}

/// What the provider keeps in the resource's private state: the NS record
/// this link last wrote, so that it can tell its own stale record from one
/// someone else wrote.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Private {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    written: Option<PrivateRecord>,
    /// Whether this link created the child zone (and deletes it on
    /// destroy). Absent in state from older versions: then a link without
    /// `child.zone_id` owns its zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owned: Option<bool>,
    /// What a move left behind and the link still has to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    retired: Vec<PrivateRetired>,
}

/// A [`Retired`] in private state, with the account it lives in (the
/// external ID included, as in the configuration part of the state).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PrivateRetired {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duration_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent_zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<PrivateRecord>,
}

impl PrivateRetired {
    fn from_core(r: &Retired) -> Self {
        let role = r.account.assume_role.as_ref();
        let (zone_id, parent_zone_id, record) = match &r.what {
            RetiredObject::Zone { zone_id } => (Some(zone_id.clone()), None, None),
            RetiredObject::Record {
                parent_zone_id,
                record,
            } => (
                None,
                Some(parent_zone_id.clone()),
                Some(PrivateRecord {
                    ttl: record.ttl,
                    values: record.values.to_strings(),
                }),
            ),
        };
        PrivateRetired {
            region: r.account.region.clone(),
            profile: r.account.profile.clone(),
            role_arn: role.map(|a| a.role_arn.clone()),
            session_name: role.and_then(|a| a.session_name.clone()),
            external_id: role.and_then(|a| a.external_id.clone()),
            duration_secs: role.and_then(|a| a.duration).map(|d| d.as_secs()),
            zone_id,
            parent_zone_id,
            record,
        }
    }

    fn to_core(&self) -> Option<Retired> {
        let account = AccountSettings {
            region: self.region.clone(),
            profile: self.profile.clone(),
            assume_role: self.role_arn.as_ref().map(|arn| AssumeRole {
                role_arn: arn.clone(),
                session_name: self.session_name.clone(),
                external_id: self.external_id.clone(),
                duration: self.duration_secs.map(Duration::from_secs),
            }),
            ..Default::default()
        };
        let what = match (&self.zone_id, &self.parent_zone_id, &self.record) {
            (Some(z), _, _) => RetiredObject::Zone { zone_id: z.clone() },
            (None, Some(p), Some(r)) => RetiredObject::Record {
                parent_zone_id: p.clone(),
                record: NsRecord {
                    ttl: r.ttl,
                    values: NsSet::parse(&r.values).ok()?,
                },
            },
            _ => return None,
        };
        Some(Retired { account, what })
    }
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PrivateRecord {
    ttl: i64,
    values: Vec<String>,
}

pub(crate) fn encode_private(st: &LinkState) -> Vec<u8> {
    let p = Private {
        written: st.written.as_ref().map(|w| PrivateRecord {
            ttl: w.ttl,
            values: w.values.to_strings(),
        }),
        owned: Some(st.zone_owned),
        retired: st.retired.iter().map(PrivateRetired::from_core).collect(),
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn ns_list(set: &NsSet) -> Value {
    Value::List(set.to_strings().into_iter().map(Value::String).collect())
}

/// Rebuilds the core's state from Terraform state and private data.
pub fn link_state(state: &Value, private: &[u8]) -> LinkState {
    let get = |k: &str| state.get_str(k).unwrap_or_default().to_string();
    let name_servers = NsSet::parse(strings(state.get("name_servers"))).unwrap_or_default();
    let delegated_values =
        NsSet::parse(strings(state.get("delegated_name_servers"))).unwrap_or_default();
    let ttl = state.get_i64("ttl").unwrap_or(DEFAULT_TTL);
    let delegated = (!delegated_values.is_empty()).then_some(NsRecord {
        ttl,
        values: delegated_values,
    });
    let p: Private = serde_json::from_slice(private).unwrap_or_default();
    let written = match p.written {
        Some(w) => NsSet::parse(&w.values)
            .ok()
            .map(|values| NsRecord { ttl: w.ttl, values }),
        // State from elsewhere (e.g. import): the record is ours if it
        // already holds the child's servers.
        None => delegated.clone().filter(|d| d.values == name_servers),
    };
    let verification = state.get("verification").and_then(|v| {
        let status = VerifyStatus::parse(v.get_str("status")?)?;
        let checked_at = v
            .get_str("checked_at")
            .and_then(|s| {
                time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
            })
            .map(SystemTime::from)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Some(VerificationSummary {
            status,
            checked_at,
            servers_checked: v.get_i64("servers_checked").unwrap_or(0) as u32,
            summary: v.get_str("summary").unwrap_or_default().to_string(),
            servers: v
                .get("servers")
                .and_then(Value::as_list)
                .map(|l| l.iter().filter_map(server_result).collect())
                .unwrap_or_default(),
        })
    });
    let child_comment = state
        .get("child")
        .and_then(|c| c.get_str("comment"))
        .map(str::to_string);
    let adopted_by_config = state
        .get("child")
        .is_some_and(|c| !matches!(c.get("zone_id"), None | Some(Value::Null)));
    let zone_owned = !adopted_by_config && p.owned.unwrap_or(true);
    let retired = p
        .retired
        .iter()
        .filter_map(PrivateRetired::to_core)
        .collect();
    LinkState {
        zone_owned,
        parent_account: None,
        child_account: None,
        retired,
        child_comment,
        parent_zone_id: get("parent_zone_id"),
        parent_zone_name: DomainName::parse(&get("parent_zone_name"))
            .unwrap_or_else(|_| DomainName::parse("invalid").expect("static name")),
        child_zone_id: get("child_zone_id"),
        name_servers,
        delegated,
        written,
        verification,
    }
}

fn server_result(v: &Value) -> Option<ServerResult> {
    let result = v.get_str("result")?.to_string();
    Some(ServerResult {
        name: v.get_str("name")?.to_string(),
        address: v.get_str("address").and_then(|a| a.parse().ok()),
        role: ServerRole::parse(v.get_str("role")?)?,
        ok: result == "ok",
        result,
        rtt: v
            .get_i64("rtt_ms")
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis),
    })
}

fn server_result_value(r: &ServerResult) -> Value {
    Value::object([
        ("name", Value::String(r.name.clone())),
        (
            "address",
            r.address
                .map(|a| Value::String(a.to_string()))
                .unwrap_or(Value::Null),
        ),
        ("role", Value::string(r.role.as_str())),
        ("result", Value::String(r.result.clone())),
        (
            "rtt_ms",
            r.rtt
                .map(|d| Value::int(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
                .unwrap_or(Value::Null),
        ),
    ])
}

fn verification_value(v: &Option<VerificationSummary>) -> Value {
    match v {
        None => Value::Null,
        Some(v) => {
            let at = time::OffsetDateTime::from(v.checked_at)
                .replace_nanosecond(0)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
            Value::object([
                ("status", Value::string(v.status.as_str())),
                ("checked_at", Value::String(at)),
                ("servers_checked", Value::int(i64::from(v.servers_checked))),
                ("summary", Value::String(v.summary.clone())),
                (
                    "servers",
                    Value::List(v.servers.iter().map(server_result_value).collect()),
                ),
            ])
        }
    }
}

/// Writes the core's state into a resource object (the planned state or
/// prior state supplies every configured attribute).
pub(crate) fn with_state(base: &Value, spec_name: &DomainName, st: &LinkState) -> Value {
    let mut v = base.clone();
    v.set(
        "id",
        Value::String(format!("{spec_name}@{}", st.parent_zone_id)),
    );
    v.set("parent_zone_id", Value::String(st.parent_zone_id.clone()));
    v.set(
        "parent_zone_name",
        Value::String(st.parent_zone_name.to_string()),
    );
    v.set(
        "child_zone_id",
        if st.child_zone_id.is_empty() {
            Value::Null
        } else {
            Value::String(st.child_zone_id.clone())
        },
    );
    v.set("name_servers", ns_list(&st.name_servers));
    match &st.delegated {
        Some(d) => {
            v.set("delegated_name_servers", ns_list(&d.values));
            v.set("ttl", Value::int(d.ttl));
        }
        None => {
            v.set("delegated_name_servers", Value::List(Vec::new()));
        }
    }
    if matches!(
        v.get("ttl"),
        None | Some(Value::Null) | Some(Value::Unknown)
    ) {
        v.set("ttl", Value::int(DEFAULT_TTL));
    }
    v.set("verification", verification_value(&st.verification));
    v.set(
        "registrar_instructions",
        super::link_parent::registrar_instructions(spec_name, st),
    );
    // A zone this link manages: its comment as read (drift shows in plan).
    if let Some(Value::Object(child)) = v.get_mut("child") {
        let managed = matches!(child.get("zone_id"), None | Some(Value::Null)) && st.zone_owned;
        if managed && !st.child_zone_id.is_empty() {
            child.insert(
                "comment".into(),
                st.child_comment
                    .clone()
                    .map(Value::String)
                    .unwrap_or(Value::Null),
            );
        }
    }
    v
}

/// What is wrong with a stored state, for messages: `` (attr: detail; ...)``.
fn state_problems(diags: &[Diagnostic]) -> String {
    let problems: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == crate::protocol::Severity::Error)
        .map(|d| match &d.attribute {
            Some(path) => format!("{path}: {}", d.detail),
            None => d.detail.clone(),
        })
        .collect();
    if problems.is_empty() {
        String::new()
    } else {
        format!(" ({})", problems.join("; "))
    }
}

fn error_diag(summary: &str, e: &impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

pub(crate) fn core_error_diag(e: &route53delegation::Error) -> Diagnostic {
    use route53delegation::Error as E;
    let (summary, path) = match e.root() {
        E::NotUnderParent { .. } => (
            "Name not under the parent zone",
            Some(AttributePath::attr("name")),
        ),
        E::AmbiguousZone { .. } => (
            "Ambiguous hosted zone name",
            Some(AttributePath::attr("parent").then_attr("zone_name")),
        ),
        E::ZoneNotFound { .. } => ("Hosted zone not found", None),
        E::ForeignRecord { .. } => (
            "NS record written by someone else",
            Some(AttributePath::attr("parent").then_attr("allow_overwrite")),
        ),
        E::RecordChanged { .. } => ("NS record changed by someone else", None),
        E::ZoneNotEmpty { .. } => (
            "Child hosted zone not empty",
            Some(AttributePath::attr("child").then_attr("force_destroy")),
        ),
        E::AssumeRole { .. } => ("Cannot assume role", None),
        E::VerificationFailed { .. } => ("Delegation not verified", None),
        E::Cancelled { .. } => ("Interrupted", None),
        E::TimedOut { .. } => ("Timed out", Some(AttributePath::attr("timeouts"))),
        E::InvalidSetting { attribute, .. } => ("Invalid setting", Some(path_of(attribute))),
        E::ExternalParent { .. } => ("Parent zone outside Route 53", None),
        _ => ("Route 53 delegation failed", None),
    };
    let d = Diagnostic::error(summary, e.to_string());
    match path {
        Some(p) => d.with_attribute(p),
        None => d,
    }
}

/// How long plan-time lookups may take before plan goes on without them.
pub const PLAN_LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The planned values of a new link from the plan-time checks: the parent
/// zone when it was found, the adopted zone's ID; notices become warnings
/// with their attribute path, refusals errors.
pub fn created_plan(
    planned: &mut Value,
    spec: &LinkSpec,
    pre: route53delegation::Result<Preflight>,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if let Some(id) = &spec.child.zone_id {
        planned.set("child_zone_id", Value::String(id.clone()));
    }
    match pre {
        Ok(pre) => {
            if let Some(pz) = &pre.parent_zone {
                planned.set("parent_zone_id", Value::String(pz.id.clone()));
                planned.set("parent_zone_name", Value::String(pz.name.to_string()));
                planned.set("id", Value::String(format!("{}@{}", spec.name, pz.id)));
            }
            for n in pre.notices {
                let mut d = Diagnostic::warning(n.summary, n.detail);
                if let Some(a) = n.attribute {
                    d = d.with_attribute(path_of(a));
                }
                diags.push(d);
            }
        }
        Err(e) => diags.push(core_error_diag(&e)),
    }
    diags
}

fn path_of(attribute: &str) -> AttributePath {
    let mut p = AttributePath::root();
    for part in attribute.split('.') {
        p = p.then_attr(part);
    }
    p
}

/// The resource's lifecycle on top of an engine.
#[derive(Debug, Clone)]
pub struct Link {
    engine: Engine,
}

impl Link {
    /// A resource served by this engine.
    pub fn new(engine: Engine) -> Self {
        Link { engine }
    }

    /// ValidateResourceConfig.
    pub fn validate(config: &Value) -> Vec<Diagnostic> {
        parse_config(config).1
    }

    /// PlanResourceChange.
    pub async fn plan(&self, req: PlanRequest) -> PlanResponse {
        self.plan_with(req, &CancellationToken::new()).await
    }

    /// PlanResourceChange, ended early by `cancel` (StopProvider): the
    /// plan-time lookups stop and plan reports the interruption.
    pub async fn plan_with(&self, req: PlanRequest, cancel: &CancellationToken) -> PlanResponse {
        let fallback = req.proposed_new_state.clone();
        tokio::select! {
            biased;
            () = cancel.cancelled() => PlanResponse {
                planned_state: fallback,
                diagnostics: vec![Diagnostic::error(
                    "Interrupted",
                    "planning route53delegation_link: cancelled",
                )],
                ..Default::default()
            },
            r = self.plan_inner(req) => r,
        }
    }

    async fn plan_inner(&self, req: PlanRequest) -> PlanResponse {
        let mut resp = PlanResponse {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        if req.proposed_new_state.is_null() {
            // Destroy.
            resp.planned_state = Value::Null;
            return resp;
        }
        let (cfg, diags) = parse_config(&req.config);
        if diags.iter().any(Diagnostic::is_error) {
            resp.diagnostics = diags;
            resp.planned_state = req.proposed_new_state.clone();
            return resp;
        }
        if !req.prior_state.is_null() {
            let mut r = super::plan_rules::plan_update(
                &req.prior_state,
                &req.prior_private,
                &req.config,
                &req.proposed_new_state,
                cfg.as_ref(),
            );
            let mut all = diags;
            all.append(&mut r.diagnostics);
            r.diagnostics = all;
            return r;
        }
        resp.diagnostics = diags;
        let mut planned = req.proposed_new_state.clone();
        let ttl = match req.config.get("ttl") {
            Some(Value::Null) | None => Value::int(DEFAULT_TTL),
            Some(v) => v.clone(),
        };
        planned.set("ttl", ttl);
        for k in [
            "id",
            "child_zone_id",
            "parent_zone_id",
            "parent_zone_name",
            "name_servers",
            "delegated_name_servers",
            "verification",
        ] {
            planned.set(k, Value::Unknown);
        }
        let manual = matches!(
            req.config.get("parent").and_then(|p| p.get("manual")),
            Some(Value::Object(_)) | Some(Value::Unknown)
        );
        planned.set(
            "registrar_instructions",
            if manual { Value::Unknown } else { Value::Null },
        );
        if let Some(cfg) = &cfg {
            // Plan-time lookups only warn early; they are bounded so that a
            // role still propagating does not hold the plan for long.
            let pre =
                tokio::time::timeout(PLAN_LOOKUP_TIMEOUT, self.engine.preflight(&cfg.spec, None))
                    .await;
            let pre = match pre {
                Ok(r) => r,
                Err(_) => Ok(Preflight::new(
                    None,
                    vec![Notice {
                        summary: "Not checked at plan time",
                        attribute: None,
                        detail: format!(
                            "the parent zone and the accounts of {} could not be checked within {}s (a role still propagating, or Route 53 slow); apply checks them again",
                            cfg.spec.name,
                            PLAN_LOOKUP_TIMEOUT.as_secs()
                        ),
                    }],
                )),
            };
            resp.diagnostics
                .extend(created_plan(&mut planned, &cfg.spec, pre));
        }
        resp.planned_state = planned;
        resp
    }

    /// ApplyResourceChange.
    pub async fn apply(&self, req: ApplyRequest) -> ApplyResponse {
        let cancel: CancellationToken = req.cancel.clone();
        if req.planned_state.is_null() {
            return self.destroy(req, &cancel).await;
        }
        let (cfg, diags) = parse_config(&req.config);
        let Some(cfg) = cfg else {
            let mut d = diags;
            if d.is_empty() {
                d.push(Diagnostic::error(
                    "Invalid configuration",
                    "the configuration is incomplete at apply time",
                ));
            }
            return ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: d,
            };
        };
        let prior = (!req.prior_state.is_null()).then(|| {
            let mut st = link_state(&req.prior_state, &req.planned_private);
            // Where the prior objects live: the configuration they were
            // made with, so that a move can retire them.
            if let (Some(prior_cfg), _) = parse_config(&req.prior_state) {
                st.parent_account = Some(prior_cfg.spec.parent.account);
                st.child_account = Some(prior_cfg.spec.child.account);
            }
            st
        });
        let timeout = if prior.is_some() {
            cfg.timeouts.update
        } else {
            cfg.timeouts.create
        };
        let base = req.planned_state.clone();
        // Each object created or written is recorded with the protocol layer
        // as it happens: should this apply panic, Terraform still gets it.
        let checkpoint = req.checkpoint.clone();
        let progress_base = base.clone();
        let progress_name = cfg.spec.name.clone();
        let progress = move |st: &LinkState| {
            checkpoint.record(
                with_state(&progress_base, &progress_name, st),
                encode_private(st),
            );
        };
        match self
            .engine
            .apply_with_progress(&cfg.spec, prior.as_ref(), timeout, &cancel, &progress)
            .await
        {
            Ok(applied) => {
                if let Some(r) = &applied.report {
                    tracing::info!(name = %cfg.spec.name, report = %r.render(), "delegation verified");
                }
                // Occluded records were a plan warning already: not twice.
                let diagnostics = applied
                    .findings
                    .iter()
                    .filter(|f| !matches!(f, Finding::OccludedRecords { .. }))
                    .map(|f| f.message())
                    .chain(applied.warnings.iter().cloned())
                    .map(|w| Diagnostic::warning("Delegation warning", w))
                    .collect();
                ApplyResponse {
                    new_state: with_state(&base, &cfg.spec.name, &applied.state),
                    private: encode_private(&applied.state),
                    diagnostics,
                }
            }
            Err(failure) => {
                let mut d = core_error_diag(&failure.error);
                if let Some(r) = &failure.report {
                    d.detail = format!("{}\n\n{}", d.detail, r.render());
                }
                let (new_state, private) = match &failure.partial {
                    Some(st) => (with_state(&base, &cfg.spec.name, st), encode_private(st)),
                    None => (req.prior_state.clone(), req.planned_private.clone()),
                };
                ApplyResponse {
                    new_state,
                    private,
                    diagnostics: vec![d],
                }
            }
        }
    }

    async fn destroy(&self, req: ApplyRequest, cancel: &CancellationToken) -> ApplyResponse {
        let (cfg, _) = parse_config(&req.prior_state);
        let Some(cfg) = cfg else {
            return ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: vec![Diagnostic::error(
                    "Cannot destroy",
                    "the stored state of this link is incomplete; import it again",
                )],
            };
        };
        let st = link_state(&req.prior_state, &req.planned_private);
        match self
            .engine
            .destroy(&cfg.spec, &st, cfg.timeouts.delete, cancel)
            .await
        {
            Ok(()) => ApplyResponse {
                new_state: Value::Null,
                private: Vec::new(),
                diagnostics: Vec::new(),
            },
            Err(e) => ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: vec![core_error_diag(&e)],
            },
        }
    }

    /// ReadResource.
    pub async fn read(&self, req: ReadRequest) -> ReadResponse {
        let (cfg, diags) = parse_config(&req.current_state);
        let Some(cfg) = cfg else {
            return ReadResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: vec![Diagnostic::error(
                    "Cannot read",
                    format!(
                        "the stored state of this link is incomplete or invalid{}; import it again",
                        state_problems(&diags)
                    ),
                )],
            };
        };
        let prior = link_state(&req.current_state, &req.private);
        // StopProvider (Ctrl-C) ends a read too, keeping the state as it was.
        let read = tokio::select! {
            biased;
            () = req.cancel.cancelled() => Err(route53delegation::Error::Cancelled {
                during: format!("reading the delegation of {}", cfg.spec.name),
            }),
            r = self.engine.read(&cfg.spec, &prior) => r,
        };
        match read {
            Ok(out) => {
                let diagnostics = out
                    .warnings
                    .iter()
                    .map(|w| Diagnostic::warning("Delegation drift", w.clone()))
                    .chain(
                        out.verification_warning
                            .iter()
                            .map(|w| Diagnostic::warning("Delegation not verified", w.clone())),
                    )
                    .collect();
                match out.state {
                    Some(st) => {
                        let mut st = st;
                        // Keep what this link wrote across reads.
                        st.written = prior.written.clone();
                        ReadResponse {
                            new_state: with_state(&req.current_state, &cfg.spec.name, &st),
                            private: encode_private(&st),
                            diagnostics,
                        }
                    }
                    None => ReadResponse {
                        new_state: Value::Null,
                        private: Vec::new(),
                        diagnostics,
                    },
                }
            }
            Err(e) => ReadResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: vec![core_error_diag(&e)],
            },
        }
    }

    /// ImportResourceState.
    pub async fn import(&self, id: &str) -> ImportResponse {
        self.import_with(id, &CancellationToken::new()).await
    }

    /// ImportResourceState, ended early by `cancel` (StopProvider).
    pub async fn import_with(&self, id: &str, cancel: &CancellationToken) -> ImportResponse {
        let value = match import_id::parse(id) {
            Ok(v) => v,
            Err(e) => {
                return ImportResponse {
                    imported: Vec::new(),
                    diagnostics: vec![Diagnostic::error("Invalid import ID", e)],
                }
            }
        };
        let (cfg, diags) = parse_config(&value);
        let Some(cfg) = cfg else {
            // Name the import keys the user typed, not configuration paths.
            let detail = diags
                .iter()
                .map(|d| import_id::in_key_terms(&d.detail))
                .collect::<Vec<_>>()
                .join("; ");
            return ImportResponse {
                imported: Vec::new(),
                diagnostics: vec![Diagnostic::error(
                    "Invalid import ID",
                    format!("{detail}\n\n{}", import_id::HELP),
                )],
            };
        };
        match self.engine.import(&cfg.spec, cancel).await {
            Ok(imported) => {
                let mut st = imported.state;
                // Verify once, so that a plan after import has nothing to do
                // when the delegation is already right.
                let verify = VerifySpec {
                    timeout: Duration::from_secs(15),
                    ..cfg.spec.verify.clone()
                };
                let spec = LinkSpec {
                    verify,
                    ..cfg.spec.clone()
                };
                st.verification = Some(self.engine.verify_state(&spec, &st, cancel).await);
                let mut v = value.clone();
                if let Some(d) = &st.delegated {
                    v.set("ttl", Value::int(d.ttl));
                }
                let mut diagnostics = Vec::new();
                if cfg.spec.child.zone_id.is_none() {
                    diagnostics.push(if st.zone_owned {
                        Diagnostic::warning(
                            "Imported zone is managed",
                            format!(
                                "hosted zone {} was created by route53delegation for {}, so the link manages it: destroy deletes it (after removing the parent NS record); to keep it on destroy, set child.zone_id = \"{}\" in the configuration",
                                st.child_zone_id, cfg.spec.name, st.child_zone_id
                            ),
                        )
                    } else {
                        Diagnostic::warning(
                            "Imported zone is adopted",
                            format!(
                                "hosted zone {} was not created by route53delegation for {}, so the link adopts it: destroy removes the parent NS record and keeps the zone, and its comment is left alone",
                                st.child_zone_id, cfg.spec.name
                            ),
                        )
                    });
                }
                ImportResponse {
                    imported: vec![ImportedResource {
                        type_name: TYPE_NAME.into(),
                        state: with_state(&v, &cfg.spec.name, &st),
                        private: encode_private(&st),
                    }],
                    diagnostics,
                }
            }
            Err(e) => ImportResponse {
                imported: Vec::new(),
                diagnostics: vec![error_diag("Cannot import delegation", &e)],
            },
        }
    }
}

/// The import ID, which has to carry everything Read needs, because Read
/// never sees the configuration.
pub mod import_id {
    use super::*;

    /// Shown with every parse error.
    pub const HELP: &str = "An import ID is either NAME@PARENT_ZONE_ID (the resource's id, when the provider's own credentials reach both accounts); NAME@dns-update:SERVER/ZONE?key_name=KEY&key_secret_env=VARIABLE[&key_algorithm=hmac-sha256][&child_role_arn=...] for a parent taking DNS updates (the secret comes from the environment variable, never from the ID); NAME@manual:ZONE[?root_servers=ADDR,ADDR][&child_role_arn=...] for a parent at a registrar; or semicolon-separated key=value pairs mirroring the configuration:\n  name=api.example.com;parent_zone_name=example.com;parent_role_arn=arn:aws:iam::111111111111:role/delegation-parent;child_role_arn=arn:aws:iam::222222222222:role/delegation-child\nKeys: name (required); parent_zone_id or parent_zone_name (one); child_zone_id (adopt that zone instead of the one found by name); parent_ and child_ followed by region, profile, role_arn, session_name, external_id_env (the name of an environment variable holding the external ID, so that it is not typed into the import ID), external_id or role_duration.";

    /// Rewrites configuration paths in a message into the import keys.
    pub fn in_key_terms(detail: &str) -> String {
        let mut d = detail.to_string();
        for (path, key) in [
            ("parent.assume_role.role_arn", "parent_role_arn"),
            ("child.assume_role.role_arn", "child_role_arn"),
            ("parent.assume_role.duration", "parent_role_duration"),
            ("child.assume_role.duration", "child_role_duration"),
            ("parent.zone_id", "parent_zone_id"),
            ("parent.zone_name", "parent_zone_name"),
            ("child.zone_id", "child_zone_id"),
        ] {
            d = d.replace(path, key);
        }
        d
    }

    const SIDE_KEYS: [&str; 7] = [
        "region",
        "profile",
        "role_arn",
        "session_name",
        "external_id",
        "external_id_env",
        "role_duration",
    ];

    /// Parses an import ID into a resource object with the configured
    /// attributes filled in.
    pub fn parse(id: &str) -> Result<Value, String> {
        let id = id.trim();
        let mut kv: std::collections::BTreeMap<String, String> = Default::default();
        let mut external = None;
        if let Some(r) = super::super::link_parent::import_kv(id) {
            let p = r.map_err(|e| format!("{e}.\n\n{HELP}"))?;
            kv = p.rest.clone();
            kv.insert("name".into(), p.name.clone());
            external = Some(p);
        } else if !id.contains('=') {
            let Some((name, zone)) = id.split_once('@') else {
                return Err(format!("{id:?} is not an import ID.\n\n{HELP}"));
            };
            kv.insert("name".into(), name.into());
            kv.insert("parent_zone_id".into(), zone.into());
        } else {
            for part in id.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((k, v)) = part.split_once('=') else {
                    return Err(format!("{part:?} is not key=value.\n\n{HELP}"));
                };
                let k = k.trim().to_string();
                let known = k == "name"
                    || k == "parent_zone_id"
                    || k == "parent_zone_name"
                    || k == "child_zone_id"
                    || SIDE_KEYS
                        .iter()
                        .any(|s| k == format!("parent_{s}") || k == format!("child_{s}"));
                if !known {
                    return Err(format!("unknown key {k:?}.\n\n{HELP}"));
                }
                if kv.insert(k.clone(), v.trim().to_string()).is_some() {
                    return Err(format!("key {k:?} appears twice.\n\n{HELP}"));
                }
            }
        }
        if !kv.contains_key("name") {
            return Err(format!("the name key is missing.\n\n{HELP}"));
        }
        for p in ["parent", "child"] {
            if let Some(var) = kv.remove(&format!("{p}_external_id_env")) {
                if kv.contains_key(&format!("{p}_external_id")) {
                    return Err(format!(
                        "set only one of {p}_external_id and {p}_external_id_env.\n\n{HELP}"
                    ));
                }
                let value = std::env::var(&var).map_err(|_| {
                    format!("{p}_external_id_env names the environment variable {var:?}, which is not set in Terraform's environment.\n\n{HELP}")
                })?;
                kv.insert(format!("{p}_external_id"), value);
            }
        }
        let opt = |k: &str| {
            kv.get(k)
                .map(|v| Value::String(v.clone()))
                .unwrap_or(Value::Null)
        };
        let side = |p: &str| {
            let role = match kv.get(&format!("{p}_role_arn")) {
                Some(arn) => Value::object([
                    ("role_arn", Value::String(arn.clone())),
                    ("session_name", opt(&format!("{p}_session_name"))),
                    ("external_id", opt(&format!("{p}_external_id"))),
                    ("duration", opt(&format!("{p}_role_duration"))),
                ]),
                None => Value::Null,
            };
            vec![
                ("region".to_string(), opt(&format!("{p}_region"))),
                ("profile".to_string(), opt(&format!("{p}_profile"))),
                ("assume_role".to_string(), role),
            ]
        };
        if kv.keys().any(|k| {
            k.ends_with("_session_name")
                || k.ends_with("_external_id")
                || k.ends_with("_role_duration")
        }) && !kv.keys().any(|k| k.ends_with("_role_arn"))
        {
            return Err(format!(
                "session_name, external_id and role_duration need a role_arn.\n\n{HELP}"
            ));
        }
        let mut parent = side("parent");
        parent.push(("zone_id".into(), opt("parent_zone_id")));
        parent.push(("zone_name".into(), opt("parent_zone_name")));
        parent.push(("allow_overwrite".into(), Value::Null));
        let (dns_update, manual) = match external {
            Some(p) => (p.dns_update, p.manual),
            None => (Value::Null, Value::Null),
        };
        parent.push(("dns_update".into(), dns_update));
        parent.push(("manual".into(), manual));
        let mut child = side("child");
        child.push(("zone_id".into(), opt("child_zone_id")));
        child.push(("comment".into(), Value::Null));
        child.push(("force_destroy".into(), Value::Null));
        Ok(Value::object([
            ("id".to_string(), Value::Null),
            ("name".to_string(), opt("name")),
            ("ttl".to_string(), Value::Null),
            ("parent".to_string(), Value::object(parent)),
            ("child".to_string(), Value::object(child)),
            ("verify".to_string(), Value::Null),
            ("timeouts".to_string(), Value::Null),
            ("child_zone_id".to_string(), Value::Null),
            ("parent_zone_id".to_string(), Value::Null),
            ("parent_zone_name".to_string(), Value::Null),
            ("name_servers".to_string(), Value::Null),
            ("delegated_name_servers".to_string(), Value::Null),
            ("registrar_instructions".to_string(), Value::Null),
            ("verification".to_string(), Value::Null),
        ]))
    }
}

/// Parses resolver strings from the provider configuration.
pub fn parse_resolvers(items: &[String]) -> Result<Vec<SocketAddr>, String> {
    items
        .iter()
        .map(|s| parse_resolver(s).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(name: &str, parent: Value, child: Value) -> Value {
        Value::object([
            ("name", Value::string(name)),
            ("ttl", Value::Null),
            ("parent", parent),
            ("child", child),
            ("verify", Value::Null),
            ("timeouts", Value::Null),
        ])
    }

    fn parent_by_name(z: &str) -> Value {
        Value::object([
            ("zone_name", Value::string(z)),
            ("zone_id", Value::Null),
            ("assume_role", Value::Null),
        ])
    }

    fn child() -> Value {
        Value::object([("zone_id", Value::Null), ("assume_role", Value::Null)])
    }

    fn paths(d: &[Diagnostic]) -> Vec<String> {
        d.iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn schema_is_valid() {
        schema().validate().unwrap();
        assert!(schema().block.has_secrets(), "external_id is sensitive");
    }

    #[test]
    fn good_config_parses() {
        let (c, d) = parse_config(&cfg(
            "API.example.com.",
            parent_by_name("example.com"),
            child(),
        ));
        assert!(d.is_empty(), "{d:?}");
        let c = c.unwrap();
        assert_eq!(c.spec.name.as_str(), "api.example.com");
        assert_eq!(c.spec.ttl, DEFAULT_TTL);
    }

    #[test]
    fn bad_inputs_name_the_attribute() {
        let (_, d) = parse_config(&cfg(
            "api.example.org",
            parent_by_name("example.com"),
            child(),
        ));
        assert_eq!(paths(&d), vec!["name"]);
        assert!(d[0]
            .detail
            .contains("not a subdomain of parent.zone_name example.com"));

        let (_, d) = parse_config(&cfg(
            "*.example.com",
            parent_by_name("example.com"),
            child(),
        ));
        assert!(d[0].detail.contains("wildcard"), "{d:?}");

        let both = Value::object([
            ("zone_name", Value::string("example.com")),
            ("zone_id", Value::string("Z123")),
        ]);
        let (_, d) = parse_config(&cfg("api.example.com", both, child()));
        assert_eq!(paths(&d), vec!["parent.zone_id"]);

        let neither = Value::object([("zone_name", Value::Null), ("zone_id", Value::Null)]);
        let (_, d) = parse_config(&cfg("api.example.com", neither, child()));
        assert_eq!(paths(&d), vec!["parent"]);

        let mut v = cfg("api.example.com", parent_by_name("example.com"), child());
        v.set("ttl", Value::int(-5));
        let (_, d) = parse_config(&v);
        assert_eq!(paths(&d), vec!["ttl"]);
        assert!(d[0].detail.contains("from 0 to 2147483647"));

        let bad_role = Value::object([
            ("zone_name", Value::string("example.com")),
            (
                "assume_role",
                Value::object([("role_arn", Value::string("arn:aws:iam::1:role/x"))]),
            ),
        ]);
        let (_, d) = parse_config(&cfg("api.example.com", bad_role, child()));
        assert_eq!(paths(&d), vec!["parent.assume_role.role_arn"]);

        let bad_zone = Value::object([("zone_id", Value::string("not a zone"))]);
        let (_, d) = parse_config(&cfg(
            "api.example.com",
            parent_by_name("example.com"),
            bad_zone,
        ));
        assert_eq!(paths(&d), vec!["child.zone_id"]);
    }

    #[test]
    fn unknowns_are_not_errors() {
        let p = Value::object([("zone_id", Value::Unknown), ("zone_name", Value::Null)]);
        let (c, d) = parse_config(&cfg("api.example.com", p, child()));
        assert!(c.is_none());
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn import_ids() {
        let v = import_id::parse("api.example.com@Z123").unwrap();
        let (c, d) = parse_config(&v);
        assert!(d.is_empty(), "{d:?}");
        assert!(matches!(c.unwrap().spec.parent.zone, ZoneRef::Id(ref z) if z == "Z123"));

        let v = import_id::parse(
            "name=api.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/delegation-child;child_external_id=x",
        )
        .unwrap();
        let c = parse_config(&v).0.unwrap();
        let role = c.spec.child.account.assume_role.unwrap();
        assert_eq!(role.external_id.as_deref(), Some("x"));

        // The external ID can come from the environment instead of the ID.
        std::env::set_var("R53D_TEST_EXTERNAL_ID", "from-env");
        let v = import_id::parse(
            "name=api.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/delegation-child;child_external_id_env=R53D_TEST_EXTERNAL_ID",
        )
        .unwrap();
        let c = parse_config(&v).0.unwrap();
        let role = c.spec.child.account.assume_role.unwrap();
        assert_eq!(role.external_id.as_deref(), Some("from-env"));
        assert!(import_id::parse(
            "name=a.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/x;child_external_id_env=R53D_NO_SUCH_VARIABLE"
        )
        .unwrap_err()
        .contains("not set"));

        assert!(import_id::parse("api.example.com")
            .unwrap_err()
            .contains("NAME@PARENT_ZONE_ID"));
        assert!(import_id::parse("name=a.example.com;colour=blue")
            .unwrap_err()
            .contains("unknown key"));
        assert!(import_id::parse("parent_zone_id=Z1")
            .unwrap_err()
            .contains("name key is missing"));
    }

    #[test]
    fn state_round_trips_through_terraform_values() {
        let st = LinkState {
            parent_zone_id: "ZP".into(),
            parent_zone_name: DomainName::parse("example.com").unwrap(),
            child_zone_id: "ZC".into(),
            name_servers: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
            delegated: Some(NsRecord {
                ttl: 300,
                values: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
            }),
            written: Some(NsRecord {
                ttl: 300,
                values: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
            }),
            verification: Some(VerificationSummary {
                status: VerifyStatus::Verified,
                checked_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
                servers_checked: 12,
                summary: "delegation of api.example.com verified".into(),
                servers: vec![
                    ServerResult {
                        name: "a.example.net".into(),
                        address: Some("127.0.21.1".parse().unwrap()),
                        role: ServerRole::Child,
                        ok: false,
                        result: "timed out".into(),
                        rtt: None,
                    },
                    ServerResult {
                        name: "ns1.example.net".into(),
                        address: Some("127.0.0.3".parse().unwrap()),
                        role: ServerRole::Parent,
                        ok: true,
                        result: "ok".into(),
                        rtt: Some(Duration::from_millis(3)),
                    },
                ],
            }),
            child_comment: None,
            zone_owned: true,
            parent_account: None,
            child_account: None,
            retired: vec![Retired {
                account: AccountSettings {
                    assume_role: Some(AssumeRole {
                        role_arn: "arn:aws:iam::222222222222:role/delegation-child".into(),
                        external_id: Some("ext".into()),
                        duration: Some(Duration::from_secs(3600)),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                what: RetiredObject::Zone {
                    zone_id: "ZOLD".into(),
                },
            }],
        };
        let base = cfg("api.example.com", parent_by_name("example.com"), child());
        let v = with_state(&base, &DomainName::parse("api.example.com").unwrap(), &st);
        assert_eq!(v.get_str("id"), Some("api.example.com@ZP"));
        let back = link_state(&v, &encode_private(&st));
        assert_eq!(back, st);
    }
}
