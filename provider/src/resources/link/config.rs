//! Configuration parsing: Terraform values to the core's `LinkSpec`, every
//! problem a diagnostic on its attribute path.

use std::net::SocketAddr;
use std::time::Duration;

use route53delegation::account::{validate_role_arn, validate_session_duration};
use route53delegation::delegation::{
    ChildSpec, ParentSpec, VerifySpec, ZoneRef, DEFAULT_TTL, DEFAULT_VERIFY_TIMEOUT, MAX_TTL,
    MIN_TTL,
};
use route53delegation::dns::parse_resolver;
use route53delegation::{AccountSettings, AssumeRole, DomainName, LinkSpec};

use super::DEFAULT_TIMEOUT;
use crate::duration;
use crate::protocol::{AttributePath, Diagnostic, Value};

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

pub(crate) struct Checker {
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

    /// `child.tags`: Route 53's limits checked at validate time, so no
    /// apply is half-done by a tag Route 53 refuses.
    fn tags(&mut self, v: &Value, path: AttributePath) -> Option<route53delegation::tags::Tags> {
        let m = match v.get("tags") {
            Some(Value::Unknown) => {
                self.incomplete = true;
                return None;
            }
            Some(Value::Map(m)) => m,
            _ => return None,
        };
        let mut tags = route53delegation::tags::Tags::new();
        for (k, val) in m {
            let key_path = path.clone().then_key(k);
            match val {
                Value::Unknown => {
                    self.incomplete = true;
                    return None;
                }
                Value::String(s) if s.chars().count() > 256 => self.error(
                    key_path,
                    "Invalid tag value",
                    format!("child.tags[{k:?}] has {} characters; Route 53 allows values of at most 256", s.chars().count()),
                ),
                Value::String(s) => {
                    tags.insert(k.clone(), s.clone());
                }
                _ => self.error(key_path, "Invalid tag value", format!("child.tags[{k:?}] must be a string")),
            }
            if k.is_empty() || k.chars().count() > 128 {
                self.error(
                    path.clone(),
                    "Invalid tag key",
                    format!("child.tags has the key {k:?} of {} characters; Route 53 expects keys of 1 to 128", k.chars().count()),
                );
            }
        }
        if m.len() > 50 {
            self.error(
                path,
                "Too many tags",
                format!(
                    "child.tags has {} tags; Route 53 allows at most 50 per hosted zone",
                    m.len()
                ),
            );
        }
        Some(tags)
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
        Some(p @ Value::Object(_)) if super::parent::parse(p, name.as_ref()).set => {
            let mut parsed = super::parent::parse(p, name.as_ref());
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
            tags: c.tags(ch, cpath.clone().then_attr("tags")),
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

/// Parses resolver strings from the provider configuration.
pub fn parse_resolvers(items: &[String]) -> Result<Vec<SocketAddr>, String> {
    items
        .iter()
        .map(|s| parse_resolver(s).map_err(|e| e.to_string()))
        .collect()
}
