//! ChangeResourceRecordSets: a batch is checked as Route 53 checks it
//! (permission, size, types, TTLs, values, CNAME and apex rules, DELETE of
//! exactly what is there) and applied atomically, or refused whole.

use super::accounts::Principal;
use super::error::{access_denied, no_such_zone, ApiError};
use super::names::{in_zone, normalize_name};
use super::operation::Operation;
use super::policy::ChangeFacts;
use super::records::{sorted_norm, validate_value, RRSet, RrType};
use super::State;

/// One change of a ChangeResourceRecordSets batch.
#[derive(Debug, Clone)]
pub struct ChangeReq {
    pub action: String,
    pub name: String,
    pub rtype: String,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub unsupported: Option<&'static str>,
}

impl State {
    pub fn change_rrsets(
        &mut self,
        principal: &Principal,
        zone_id: &str,
        comment: Option<String>,
        changes: &[ChangeReq],
    ) -> Result<String, ApiError> {
        let account = principal.account.clone();
        let zone = self.zone(&account, zone_id)?;
        let facts = ChangeFacts {
            types: changes
                .iter()
                .map(|c| c.rtype.to_ascii_uppercase())
                .collect(),
            actions: changes
                .iter()
                .map(|c| c.action.to_ascii_uppercase())
                .collect(),
            names: changes
                .iter()
                .map(|c| {
                    normalize_name(&c.name)
                        .trim_end_matches('.')
                        .to_ascii_lowercase()
                })
                .collect(),
        };
        let resource = format!("arn:aws:route53:::hostedzone/{zone_id}");
        if !principal.permission().allows(
            Operation::ChangeResourceRecordSets,
            &resource,
            Some(&facts),
        ) {
            return Err(access_denied(
                principal,
                Operation::ChangeResourceRecordSets,
                &resource,
            ));
        }
        if changes.is_empty() {
            return Err(ApiError::bad(
                "InvalidInput",
                "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        if changes.len() > 1000 {
            return Err(ApiError::bad(
                "InvalidChangeBatch",
                "[Number of records limit of 1000 exceeded.]",
            ));
        }
        let zname = zone.name.clone();
        let mut recs = zone.records.clone();
        let mut errors: Vec<String> = Vec::new();
        for c in changes {
            if let Some(what) = c.unsupported {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("r53world does not support {what}"),
                ));
            }
            let name = normalize_name(&c.name);
            let raw = c.rtype.to_ascii_uppercase();
            let Ok(rtype) = raw.parse::<RrType>() else {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid XML ; cvc-enumeration-valid: Value '{raw}' is not facet-valid"
                    ),
                ));
            };
            let Some(ttl) = c.ttl else {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action={}, Name={}, Type={}, SetIdentifier=null]",
                        c.action, name, rtype
                    ),
                ));
            };
            if !(0..=2_147_483_647).contains(&ttl) {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("1 validation error detected: Value '{ttl}' at 'changeBatch.changes.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and 2147483647"),
                ));
            }
            if c.values.is_empty() {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action={}, Name={}, Type={}, SetIdentifier=null]",
                        c.action, name, rtype
                    ),
                ));
            }
            let ttl = ttl as u32;
            let key = (name.clone(), rtype);
            let desc = format!("[name='{name}', type='{rtype}']");
            if !in_zone(&name, &zname) {
                errors.push(format!(
                    "RRSet with DNS name {name} is not permitted in zone {zname}"
                ));
                continue;
            }
            let mut bad_value = false;
            for v in &c.values {
                if let Err(e) = validate_value(rtype, v) {
                    errors.push(e);
                    bad_value = true;
                }
            }
            if bad_value {
                continue;
            }
            let apex = name == zname;
            match c.action.as_str() {
                "CREATE" | "UPSERT" => {
                    if c.action == "CREATE" && recs.contains_key(&key) {
                        errors.push(format!(
                            "Tried to create resource record set {desc} but it already exists"
                        ));
                        continue;
                    }
                    if rtype == RrType::Cname {
                        if apex {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted at apex in zone {zname}"
                            ));
                            continue;
                        }
                        if c.values.len() > 1 {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted because it contains more than one value"
                            ));
                            continue;
                        }
                        if let Some(((_, t), _)) = recs
                            .iter()
                            .find(|((n, t), _)| *n == name && *t != RrType::Cname)
                        {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted as it conflicts with other records with the same DNS name in zone {zname} (type {t})"
                            ));
                            continue;
                        }
                    } else if recs.contains_key(&(name.clone(), RrType::Cname)) {
                        errors.push(format!(
                            "RRSet of type {rtype} with DNS name {name} is not permitted as it conflicts with other records with the same DNS name in zone {zname}"
                        ));
                        continue;
                    }
                    if apex && rtype == RrType::Soa && c.values.len() != 1 {
                        errors.push("SOA must have exactly one value".into());
                        continue;
                    }
                    if rtype == RrType::Soa && !apex {
                        errors.push(format!(
                            "RRSet of type SOA with DNS name {name} is not permitted because SOA records are only permitted at the zone apex"
                        ));
                        continue;
                    }
                    recs.insert(
                        key,
                        RRSet {
                            name,
                            rtype,
                            ttl,
                            values: c.values.clone(),
                        },
                    );
                }
                "DELETE" => {
                    let Some(cur) = recs.get(&key) else {
                        errors.push(format!(
                            "Tried to delete resource record set {desc} but it was not found"
                        ));
                        continue;
                    };
                    if cur.ttl != ttl
                        || sorted_norm(rtype, &cur.values) != sorted_norm(rtype, &c.values)
                    {
                        errors.push(format!(
                            "Tried to delete resource record set {desc} but the values provided do not match the current values"
                        ));
                        continue;
                    }
                    if apex && matches!(rtype, RrType::Soa | RrType::Ns) {
                        errors.push(format!(
                            "A HostedZone must contain at least one {rtype} record for the zone itself."
                        ));
                        continue;
                    }
                    recs.remove(&key);
                }
                other => {
                    return Err(ApiError::bad(
                        "InvalidInput",
                        format!("Invalid XML ; cvc-enumeration-valid: Value '{other}' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::bad(
                "InvalidChangeBatch",
                format!("[{}]", errors.join(", ")),
            ));
        }
        let mut zone = self
            .accounts
            .get_mut(&account)
            .and_then(|a| a.zones.remove(zone_id))
            .ok_or_else(|| no_such_zone(zone_id))?;
        zone.records = recs;
        let id = self.new_change(&account, &mut zone, comment);
        if let Some(a) = self.accounts.get_mut(&account) {
            a.zones.insert(zone_id.to_string(), zone);
        }
        Ok(id)
    }
}
