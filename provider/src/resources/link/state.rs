//! State mapping: the core's `LinkState` to and from Terraform values, and
//! the private state (the NS record this link wrote, zone ownership, what a
//! move still has to retire).

use std::time::{Duration, SystemTime};

use route53delegation::delegation::{
    Retired, RetiredObject, VerificationSummary, VerifyStatus, DEFAULT_TTL,
};
use route53delegation::record::NsRecord;
use route53delegation::verify::{ServerResult, ServerRole};
use route53delegation::{AccountSettings, AssumeRole, DomainName, LinkState, NsSet};

use crate::protocol::Value;

/// The format of the private state this build writes. History:
/// - absent (0.1.0): `written`, `owned`, `retired`, as in version 1;
/// - 1: the same fields, with `v`.
///
/// A change of meaning takes the next number and an upgrade in
/// [`decode_private`] from every older one.
pub(crate) const PRIVATE_VERSION: u32 = 1;

/// What the provider keeps in the resource's private state: the NS record
/// this link last wrote, so that it can tell its own stale record from one
/// someone else wrote.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct Private {
    /// The format version ([`PRIVATE_VERSION`]); 0 when absent (0.1.0).
    #[serde(default)]
    v: u32,
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
pub(crate) struct PrivateRetired {
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
pub(crate) struct PrivateRecord {
    ttl: i64,
    values: Vec<String>,
}

pub(crate) fn encode_private(st: &LinkState) -> Vec<u8> {
    let p = Private {
        v: PRIVATE_VERSION,
        written: st.written.as_ref().map(|w| PrivateRecord {
            ttl: w.ttl,
            values: w.values.to_strings(),
        }),
        owned: Some(st.zone_owned),
        retired: st.retired.iter().map(PrivateRetired::from_core).collect(),
    };
    serde_json::to_vec(&p).unwrap_or_default()
}

/// How a stored private state was read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PrivateRead {
    /// Nothing stored (an import, or state from another tool).
    Empty,
    /// This version's format, or an older one upgraded.
    Current { from_version: u32 },
    /// A newer provider's format, or bytes that are not ours: nothing of it
    /// is used, and the link is read again as an import would read it (the
    /// record is this link's if it holds the child zone's servers; the zone
    /// is the link's unless `child.zone_id` adopts it).
    Unknown(String),
}

/// Reads private state of any version, never guessing at one it does not
/// know.
pub(crate) fn decode_private(private: &[u8]) -> (Private, PrivateRead) {
    if private.is_empty() {
        return (Private::default(), PrivateRead::Empty);
    }
    match serde_json::from_slice::<Private>(private) {
        // 0.1.0 wrote version 1's fields without `v`: nothing to change.
        Ok(p) if p.v <= PRIVATE_VERSION => {
            let from_version = p.v;
            (
                Private {
                    v: PRIVATE_VERSION,
                    ..p
                },
                PrivateRead::Current { from_version },
            )
        }
        Ok(p) => (
            Private::default(),
            PrivateRead::Unknown(format!(
                "written in format {} by a newer provider (this one knows up to {PRIVATE_VERSION})",
                p.v
            )),
        ),
        Err(e) => (
            Private::default(),
            PrivateRead::Unknown(format!("not this provider's private state: {e}")),
        ),
    }
}

pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn ns_list(set: &NsSet) -> Value {
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
    let (p, read) = decode_private(private);
    if let PrivateRead::Unknown(why) = &read {
        tracing::warn!(%why, "private state not used; the link is read again from AWS and DNS");
    }
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
    let child_tags = state
        .get("child")
        .and_then(|c| c.get("tags"))
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        });
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
        child_tags,
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

pub(crate) fn server_result(v: &Value) -> Option<ServerResult> {
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

pub(crate) fn server_result_value(r: &ServerResult) -> Value {
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

pub(crate) fn verification_value(v: &Option<VerificationSummary>) -> Value {
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
        super::parent::registrar_instructions(spec_name, st),
    );
    // A zone this link manages: its comment as read (drift shows in plan).
    if let Some(Value::Object(child)) = v.get_mut("child") {
        // Managed tags (`tags` set): as read, so drift shows in plan.
        if let (Some(tags), Some(Value::Map(_))) = (&st.child_tags, child.get("tags")) {
            child.insert(
                "tags".into(),
                Value::Map(
                    tags.iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                ),
            );
        }
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
