//! The planning rules of `route53delegation_link` for an update, as a pure
//! function of the prior state and the configuration: which computed values
//! stay, which become unknown, what forces replacement and what plan warns
//! about or refuses. No I/O, so every rule is table-tested below.
//!
//! The rules:
//! - only `name` forces replacement: every other change is carried out in
//!   place, without an outage (a new zone is created or adopted, the parent
//!   record swapped atomically, then the old zone and record retired);
//! - a change of what the link is placed on (the child account or
//!   `child.zone_id`, the parent zone by ID or name, or the account a parent
//!   zone name is looked up in) makes the values that depend on it unknown,
//!   including values unknown in the configuration itself;
//! - zone IDs compare normalised: `/hostedzone/Z1` is `Z1`;
//! - a child zone gone from state (deleted) plans the repair: a new zone, the
//!   parent re-pointed;
//! - a parent record this link did not write is refused, or with
//!   `allow_overwrite` replaced with a warning naming its servers.

use std::time::Duration;

use route53delegation::delegation::Preflight;
use route53delegation::{DomainName, LinkSpec};

use super::diag::path_of;
use super::{core_error_diag, link_state, LinkConfig};
use crate::protocol::{AttributePath, Diagnostic, PlanResponse, Value};

/// Computed attributes that depend on where the delegation lives.
const COMPUTED: [&str; 8] = [
    "id",
    "registrar_instructions",
    "child_zone_id",
    "parent_zone_id",
    "parent_zone_name",
    "name_servers",
    "delegated_name_servers",
    "verification",
];

/// A setting as planned: known, unknown, or not set.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setting {
    Unset,
    Unknown,
    Known(String),
}

fn setting(v: Option<&Value>, key: &str) -> Setting {
    match v.and_then(|b| b.get(key)) {
        Some(Value::Unknown) => Setting::Unknown,
        Some(Value::String(s)) => Setting::Known(s.clone()),
        _ => match v {
            Some(Value::Unknown) => Setting::Unknown,
            _ => Setting::Unset,
        },
    }
}

/// A hosted zone ID without its `/hostedzone/` prefix.
pub fn bare_zone_id(id: &str) -> String {
    id.trim().trim_start_matches("/hostedzone/").to_string()
}

/// The settings that decide which account a side reaches: region
/// (partition), profile and the role's ARN. Session name, external ID and
/// duration do not change the account.
fn account_key(side: Option<&Value>) -> Vec<Setting> {
    let role = match side.and_then(|s| s.get("assume_role")) {
        Some(Value::Unknown) => Setting::Unknown,
        Some(r @ Value::Object(_)) => setting(Some(r), "role_arn"),
        _ => Setting::Unset,
    };
    vec![setting(side, "region"), setting(side, "profile"), role]
}

fn account_changes(prior: Option<&Value>, config: Option<&Value>) -> bool {
    let (a, b) = (account_key(prior), account_key(config));
    a != b || b.contains(&Setting::Unknown)
}

/// Which kind of parent a configuration (or state) names, and for the kinds
/// outside Route 53 which zone: `route53`, `dns_update:ZONE`, `manual:ZONE`.
fn parent_identity(v: &Value) -> String {
    let p = v.get("parent");
    for kind in ["dns_update", "manual"] {
        match p.and_then(|p| p.get(kind)) {
            Some(b @ Value::Object(_)) => {
                let zone = match b.get("zone") {
                    Some(Value::String(z)) => DomainName::parse(z)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|_| z.clone()),
                    Some(Value::Unknown) => "(unknown)".into(),
                    _ => String::new(),
                };
                return format!("{kind}:{zone}");
            }
            Some(Value::Unknown) => return format!("{kind}:(unknown)"),
            _ => {}
        }
    }
    "route53".into()
}

/// The `child.zone_id` asked for, without its `/hostedzone/` prefix.
fn child_target(config: &Value) -> Setting {
    match setting(config.get("child"), "zone_id") {
        Setting::Known(id) => Setting::Known(bare_zone_id(&id)),
        other => other,
    }
}

/// The setting that moves the child side of an existing link to another
/// zone (`child.zone_id`) or account (`child.region`, `child.profile`,
/// `child.assume_role.role_arn`), where a diagnostic about the move belongs;
/// `None` when the child stays where it is.
pub fn child_move_attribute(prior: &Value, config: &Value) -> Option<AttributePath> {
    let child = AttributePath::attr("child");
    let prior_zone = bare_zone_id(prior.get_str("child_zone_id").unwrap_or(""));
    let other_zone = match child_target(config) {
        Setting::Unknown => true,
        Setting::Known(id) => id != prior_zone,
        Setting::Unset => false,
    };
    if other_zone {
        return Some(child.then_attr("zone_id"));
    }
    let (before, after) = (
        account_key(prior.get("child")),
        account_key(config.get("child")),
    );
    if !account_changes(prior.get("child"), config.get("child")) {
        return None;
    }
    // account_key's order: region, profile, the role's ARN.
    let changed = (0..after.len())
        .find(|&i| before.get(i) != after.get(i) || after[i] == Setting::Unknown)
        .unwrap_or(2);
    Some(match changed {
        0 => child.then_attr("region"),
        1 => child.then_attr("profile"),
        _ => match config.get("child").and_then(|c| c.get("assume_role")) {
            Some(Value::Object(_)) => child.then_attr("assume_role").then_attr("role_arn"),
            _ => child.then_attr("assume_role"),
        },
    })
}

/// Plans an update (the prior state exists). `cfg` is the parsed
/// configuration when it is wholly known.
pub fn plan_update(
    prior: &Value,
    prior_private: &[u8],
    config: &Value,
    proposed: &Value,
    cfg: Option<&LinkConfig>,
) -> PlanResponse {
    let mut resp = PlanResponse {
        planned_private: prior_private.to_vec(),
        ..Default::default()
    };
    let mut planned = proposed.clone();
    let ttl = match config.get("ttl") {
        Some(Value::Null) | None => Value::int(route53delegation::delegation::DEFAULT_TTL),
        Some(v) => v.clone(),
    };
    planned.set("ttl", ttl);

    let name_of = |v: &Value| v.get_str("name").and_then(|n| DomainName::parse(n).ok());
    let renamed =
        name_of(prior) != name_of(config) || matches!(config.get("name"), Some(Value::Unknown));
    // Another kind of parent (Route 53, DNS UPDATE, registrar), or another
    // zone outside Route 53: a new link, as nothing can be moved between them.
    let reparented = parent_identity(prior) != parent_identity(config);
    if renamed || reparented {
        for k in COMPUTED {
            planned.set(k, Value::Unknown);
        }
        resp.requires_replace = vec![if renamed {
            AttributePath::attr("name")
        } else {
            AttributePath::attr("parent")
        }];
        resp.planned_state = planned;
        return resp;
    }
    for k in COMPUTED {
        planned.set(k, prior.get(k).cloned().unwrap_or(Value::Null));
    }

    // The child side: another zone, another account, or the zone gone.
    let prior_zone = prior.get_str("child_zone_id").unwrap_or("").to_string();
    let target = child_target(config);
    let zone_missing = prior_zone.is_empty();
    let child_moves = child_move_attribute(prior, config).is_some() || zone_missing;

    // The parent side: another zone by ID or name, or a name looked up in
    // another account.
    let prior_pz_id = prior.get_str("parent_zone_id").unwrap_or("").to_string();
    let prior_pz_name = prior
        .get_str("parent_zone_name")
        .and_then(|n| DomainName::parse(n).ok());
    let parent_account = account_changes(prior.get("parent"), config.get("parent"));
    let (parent_moves, new_pz_id, new_pz_name) = match (
        setting(config.get("parent"), "zone_id"),
        setting(config.get("parent"), "zone_name"),
    ) {
        (Setting::Known(id), _) => {
            let id = bare_zone_id(&id);
            (id != prior_pz_id, Some(id), None)
        }
        (Setting::Unset, Setting::Known(n)) => {
            let n = DomainName::parse(&n).ok();
            (n != prior_pz_name || parent_account, None, n)
        }
        (Setting::Unset, Setting::Unset) => (false, None, None),
        _ => (true, None, None),
    };

    if parent_moves {
        match &new_pz_id {
            Some(id) => {
                planned.set("parent_zone_id", Value::String(id.clone()));
                planned.set(
                    "id",
                    match name_of(config) {
                        Some(n) => Value::String(format!("{n}@{id}")),
                        None => Value::Unknown,
                    },
                );
                planned.set("parent_zone_name", Value::Unknown);
            }
            None => {
                planned.set("parent_zone_id", Value::Unknown);
                planned.set("id", Value::Unknown);
                planned.set(
                    "parent_zone_name",
                    new_pz_name
                        .as_ref()
                        .map(|n| Value::String(n.to_string()))
                        .unwrap_or(Value::Unknown),
                );
            }
        }
        planned.set("delegated_name_servers", Value::Unknown);
        planned.set("verification", Value::Unknown);
    }
    if child_moves {
        planned.set(
            "child_zone_id",
            match &target {
                Setting::Known(id) => Value::String(id.clone()),
                _ => Value::Unknown,
            },
        );
        planned.set("name_servers", Value::Unknown);
        planned.set("delegated_name_servers", Value::Unknown);
        planned.set("verification", Value::Unknown);
    }

    let st = link_state(prior, prior_private);
    if !st.retired.is_empty() {
        // A move stopped before it removed what it left: apply finishes it.
        planned.set("verification", Value::Unknown);
        resp.diagnostics.push(Diagnostic::warning(
            "Unfinished move",
            format!(
                "a previous apply moved this delegation but did not yet remove {}; apply removes {} once the delegation verifies",
                st.retired
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(" and "),
                if st.retired.len() == 1 { "it" } else { "them" }
            ),
        ));
    }
    if !child_moves && !parent_moves {
        // The parent should refer to exactly the child's servers.
        let want = prior.get("name_servers").cloned().unwrap_or(Value::Null);
        let repair = st.delegated.as_ref().map(|d| &d.values) != Some(&st.name_servers);
        planned.set("delegated_name_servers", want);
        let ttl_changes = planned.get("ttl") != prior.get("ttl");
        let verify_enabled = cfg.map(|c| c.spec.verify.enabled).unwrap_or(true);
        let status = prior
            .get("verification")
            .and_then(|v| v.get_str("status"))
            .unwrap_or("");
        let expected = if verify_enabled {
            "verified"
        } else {
            "skipped"
        };
        if repair || ttl_changes || status != expected {
            planned.set("verification", Value::Unknown);
        }
    }
    // A parent record someone else wrote, in the parent zone that stays. A
    // registrar's record is never this link's to write: a difference there
    // is a delegation still to be entered, which apply waits for.
    let manual = cfg.is_some_and(|c| {
        matches!(
            c.spec.parent.kind,
            route53delegation::parent::ParentKind::Manual(_)
        )
    });
    if !parent_moves && !manual {
        if let (Some(cfg), Some(d)) = (cfg, &st.delegated) {
            let ours = route53delegation::plan::written_by_link(
                &d.values,
                st.written.as_ref(),
                (!child_moves).then_some(&st.name_servers),
            );
            let up_to_date = !child_moves && d.values == st.name_servers;
            if !ours && !up_to_date {
                if cfg.spec.parent.allow_overwrite {
                    resp.diagnostics.push(
                        Diagnostic::warning(
                            "NS record of someone else will be replaced",
                            format!(
                                "parent.allow_overwrite = true: apply replaces the NS record for {} in parent zone {}, which this link did not write; it now delegates to {}",
                                cfg.spec.name, st.parent_zone_id, d.values
                            ),
                        )
                        .with_attribute(AttributePath::attr("parent").then_attr("allow_overwrite")),
                    );
                } else {
                    resp.diagnostics.push(core_error_diag(
                        &route53delegation::Error::ForeignRecord {
                            name: cfg.spec.name.clone(),
                            zone_id: st.parent_zone_id.clone(),
                            existing: d.values.clone(),
                            wanted: if child_moves {
                                Default::default()
                            } else {
                                st.name_servers.clone()
                            },
                        },
                    ));
                }
            }
        }
    }
    resp.planned_state = planned;
    resp
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

#[cfg(test)]
mod tests;
