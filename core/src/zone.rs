//! Hosted zones: create, adopt, find, read and delete.
//!
//! Creation is idempotent across retries and crashes: the CallerReference is
//! `r53d/<identity>/<nonce>`, where `<identity>` is a hash of what the zone is
//! for (see [`caller_reference_prefix`]). Before creating, the account is
//! searched for a zone with the same prefix; one found is the zone an earlier,
//! interrupted attempt made, and it is adopted instead of leaking a second one
//! (the engine does this search before [`create_zone`]).
//! A retried request with the same reference gets `HostedZoneAlreadyExists`,
//! which is resolved the same way.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;
use sha2::{Digest, Sha256};

use crate::error::{AwsFault, Error, Result};
use crate::name::DomainName;
use crate::nsset::NsSet;

/// A hosted zone as read from Route 53.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostedZone {
    /// The zone ID without the `/hostedzone/` prefix: `Z0123456789ABC`.
    pub id: String,
    /// The zone's name.
    pub name: DomainName,
    /// The CallerReference it was created with.
    pub caller_reference: String,
    /// Its comment.
    pub comment: Option<String>,
    /// True for a private zone.
    pub private: bool,
    /// The four name servers Route 53 assigned (empty for private zones).
    pub name_servers: NsSet,
}

/// A record set of any type, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSet {
    /// Owner name, lower case without the trailing dot (`*` for wildcards).
    pub name: String,
    /// Type (shown as `NS`, `A`, ...).
    pub rtype: RrType,
    /// TTL, absent for alias records.
    pub ttl: Option<i64>,
    /// Values.
    pub values: Vec<String>,
    /// True for alias and other records that cannot be deleted by values
    /// alone.
    pub special: bool,
    /// The raw set, for deleting it exactly as it is.
    pub raw: ResourceRecordSet,
}

/// Strips `/hostedzone/` from a zone ID.
pub fn bare_zone_id(id: &str) -> String {
    id.trim_start_matches("/hostedzone/").to_string()
}

/// The CallerReference prefix for a zone with this identity: the same
/// delegation gets the same prefix, so an interrupted create can be found.
pub fn caller_reference_prefix(name: &DomainName, identity: &str) -> String {
    let mut h = Sha256::new();
    h.update(name.as_str().as_bytes());
    h.update(b"\0");
    h.update(identity.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("r53d/{}/", &digest[..20])
}

fn parse_zone(hz: &aws_sdk_route53::types::HostedZone, ns: &[String]) -> Result<HostedZone> {
    let name = DomainName::parse(hz.name()).map_err(|e| Error::InvalidName {
        attribute: format!("hosted zone {} name", hz.id()),
        source: e,
    })?;
    let name_servers = NsSet::parse(ns).map_err(|e| Error::InvalidName {
        attribute: format!("hosted zone {} name servers", hz.id()),
        source: e,
    })?;
    Ok(HostedZone {
        id: bare_zone_id(hz.id()),
        name,
        caller_reference: hz.caller_reference().to_string(),
        comment: hz
            .config()
            .and_then(|c| c.comment())
            .map(str::to_string)
            .filter(|c| !c.is_empty()),
        private: hz.config().map(|c| c.private_zone()).unwrap_or(false),
        name_servers,
    })
}

/// Reads a zone by ID; `None` when it does not exist.
pub async fn get_zone(r53: &Client, id: &str) -> Result<Option<HostedZone>> {
    match r53.get_hosted_zone().id(bare_zone_id(id)).send().await {
        Ok(out) => {
            let hz = out.hosted_zone().ok_or_else(|| {
                Error::aws_other(
                    format!("reading Route 53 hosted zone ({id})"),
                    "MalformedResponse",
                    "no HostedZone in response",
                )
            })?;
            let ns = out
                .delegation_set()
                .map(|d| d.name_servers().to_vec())
                .unwrap_or_default();
            Ok(Some(parse_zone(hz, &ns)?))
        }
        Err(e) => {
            let err = Error::aws(format!("reading Route 53 hosted zone ({id})"), e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// The public zones with exactly this name (several are possible).
pub async fn find_public_zones(r53: &Client, name: &DomainName) -> Result<Vec<HostedZone>> {
    let action = || format!("listing Route 53 hosted zones named {name}");
    let mut out = Vec::new();
    let mut next: Option<(String, Option<String>)> = Some((name.fqdn(), None));
    while let Some((dns_name, zone_id)) = next.take() {
        let mut req = r53
            .list_hosted_zones_by_name()
            .dns_name(dns_name)
            .max_items(100);
        if let Some(z) = zone_id {
            req = req.hosted_zone_id(z);
        }
        let page = req.send().await.map_err(|e| Error::aws(action(), e))?;
        let mut past = false;
        for hz in page.hosted_zones() {
            let Ok(zn) = DomainName::parse(hz.name()) else {
                continue;
            };
            if zn != *name {
                past = true;
                break;
            }
            if !hz.config().map(|c| c.private_zone()).unwrap_or(false) {
                out.push(bare_zone_id(hz.id()));
            }
        }
        if !past && page.is_truncated() {
            if let Some(n) = page.next_dns_name() {
                next = Some((
                    n.to_string(),
                    page.next_hosted_zone_id().map(str::to_string),
                ));
            }
        }
    }
    let mut zones = Vec::new();
    for id in out {
        if let Some(z) = get_zone(r53, &id).await? {
            zones.push(z);
        }
    }
    Ok(zones)
}

/// The one public zone with this name: `None` if there is none, an error
/// listing them if there are several.
pub async fn find_public_zone(r53: &Client, name: &DomainName) -> Result<Option<HostedZone>> {
    let mut zones = find_public_zones(r53, name).await?;
    match zones.len() {
        0 => Ok(None),
        1 => Ok(zones.pop()),
        _ => Err(Error::AmbiguousZone {
            name: name.clone(),
            zone_ids: zones.into_iter().map(|z| z.id).collect(),
        }),
    }
}

/// Outcome of [`create_zone`].
#[derive(Debug, Clone)]
pub struct Created {
    /// The zone.
    pub zone: HostedZone,
    /// The change to wait for, when the zone is new.
    pub change_id: Option<String>,
    /// True when an existing zone from an interrupted attempt was adopted.
    pub recovered: bool,
}

/// Creates a public hosted zone with a CallerReference starting with
/// `prefix`. A retried request that Route 53 already served
/// (`HostedZoneAlreadyExists`) returns the zone it made. Callers look for a
/// zone of an earlier, interrupted attempt first with [`find_own_zone`].
pub async fn create_zone(
    r53: &Client,
    name: &DomainName,
    prefix: &str,
    comment: Option<&str>,
) -> Result<Created> {
    let action = || format!("creating Route 53 hosted zone ({name})");
    let nonce = format!(
        "{:x}{:08x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0),
        rand::random::<u32>()
    );
    let reference = format!("{prefix}{nonce}");
    let mut req = r53
        .create_hosted_zone()
        .name(name.fqdn())
        .caller_reference(&reference);
    if let Some(c) = comment {
        req = req.hosted_zone_config(
            HostedZoneConfig::builder()
                .comment(c)
                .private_zone(false)
                .build(),
        );
    }
    match req.send().await {
        Ok(out) => {
            let hz = out.hosted_zone().ok_or_else(|| {
                Error::aws_other(action(), "MalformedResponse", "no HostedZone in response")
            })?;
            let ns = out
                .delegation_set()
                .map(|d| d.name_servers().to_vec())
                .unwrap_or_default();
            let zone = parse_zone(hz, &ns)?;
            Ok(Created {
                zone,
                change_id: out.change_info().map(|c| c.id().to_string()),
                recovered: false,
            })
        }
        Err(e) => {
            let err = Error::aws(action(), e);
            if err.aws_fault() == Some(AwsFault::ZoneAlreadyExists) {
                if let Some(zone) = find_own_zone(r53, name, prefix).await? {
                    return Ok(Created {
                        zone,
                        change_id: None,
                        recovered: true,
                    });
                }
            }
            Err(err)
        }
    }
}

/// The zone an earlier attempt of the same delegation created (its
/// CallerReference starts with `prefix`), if one exists.
pub async fn find_own_zone(
    r53: &Client,
    name: &DomainName,
    prefix: &str,
) -> Result<Option<HostedZone>> {
    Ok(find_public_zones(r53, name)
        .await?
        .into_iter()
        .find(|z| z.caller_reference.starts_with(prefix)))
}

/// Sets a zone's comment (`None` clears it).
pub async fn update_comment(r53: &Client, zone_id: &str, comment: Option<&str>) -> Result<()> {
    r53.update_hosted_zone_comment()
        .id(zone_id)
        .comment(comment.unwrap_or(""))
        .send()
        .await
        .map_err(|e| {
            Error::aws(
                format!("updating comment of Route 53 hosted zone ({zone_id})"),
                e,
            )
        })?;
    Ok(())
}

/// Lists every record set in a zone.
pub async fn list_records(r53: &Client, zone_id: &str) -> Result<Vec<RecordSet>> {
    list_records_while(r53, zone_id, None, usize::MAX, |_| true).await
}

/// Lists record sets starting at `start` (in Route 53's order), at most `limit`.
pub async fn list_records_from(
    r53: &Client,
    zone_id: &str,
    start: Option<(&DomainName, RrType)>,
    limit: usize,
) -> Result<Vec<RecordSet>> {
    list_records_while(r53, zone_id, start, limit, |_| true).await
}

/// Lists at most `limit` record sets starting at `start` (in Route 53's
/// order) for as long as `more` accepts them: paging stops at the first set
/// it refuses, so a scan of one name's subtree never reads the rest of the
/// zone.
pub async fn list_records_while(
    r53: &Client,
    zone_id: &str,
    start: Option<(&DomainName, RrType)>,
    limit: usize,
    mut more: impl FnMut(&RecordSet) -> bool,
) -> Result<Vec<RecordSet>> {
    let page_size = limit.min(100);
    let action = || format!("listing records of Route 53 hosted zone ({zone_id})");
    let mut out = Vec::new();
    let mut next: Option<(String, Option<RrType>)> = start.map(|(n, t)| (n.fqdn(), Some(t)));
    let mut first = true;
    while first || next.is_some() {
        first = false;
        let mut req = r53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .max_items(page_size.clamp(1, 300) as i32);
        if let Some((n, t)) = next.take() {
            req = req.start_record_name(n);
            if let Some(t) = t {
                req = req.start_record_type(t);
            }
        }
        let page = req.send().await.map_err(|e| Error::aws(action(), e))?;
        for rrs in page.resource_record_sets() {
            let name = rrs
                .name()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .replace("\\052", "*");
            let set = RecordSet {
                name,
                rtype: rrs.r#type().clone(),
                ttl: rrs.ttl(),
                values: rrs
                    .resource_records()
                    .iter()
                    .map(|r| r.value().to_string())
                    .collect(),
                special: rrs.alias_target().is_some() || rrs.set_identifier().is_some(),
                raw: rrs.clone(),
            };
            if !more(&set) {
                return Ok(out);
            }
            out.push(set);
            if out.len() >= limit {
                return Ok(out);
            }
        }
        if page.is_truncated() {
            if let Some(n) = page.next_record_name() {
                next = Some((n.to_string(), page.next_record_type().cloned()));
            }
        }
    }
    Ok(out)
}

/// The records of a zone other than its apex SOA and NS.
pub async fn own_records(r53: &Client, zone: &HostedZone) -> Result<Vec<RecordSet>> {
    Ok(list_records(r53, &zone.id)
        .await?
        .into_iter()
        .filter(|r| !(r.name == zone.name.as_str() && matches!(r.rtype, RrType::Soa | RrType::Ns)))
        .collect())
}

/// Deletes a zone. Refuses when it holds records other than the apex SOA and
/// NS, naming them, unless `force` asks to delete them first. A zone already
/// gone is success. Returns the change to wait for.
pub async fn delete_zone(r53: &Client, zone: &HostedZone, force: bool) -> Result<Option<String>> {
    let records = own_records(r53, zone).await?;
    if !records.is_empty() {
        if !force {
            return Err(Error::ZoneNotEmpty {
                zone_id: zone.id.clone(),
                name: zone.name.clone(),
                records: records
                    .iter()
                    .map(|r| (r.name.clone(), r.rtype.clone()))
                    .collect(),
            });
        }
        let action = || {
            format!(
                "deleting records of Route 53 hosted zone {} ({})",
                zone.name, zone.id
            )
        };
        for chunk in records.chunks(500) {
            let mut batch = ChangeBatch::builder().comment("route53delegation force_destroy");
            for r in chunk {
                batch = batch.changes(
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(r.raw.clone())
                        .build()
                        .map_err(|e| build_error(action(), e))?,
                );
            }
            let out = r53
                .change_resource_record_sets()
                .hosted_zone_id(&zone.id)
                .change_batch(batch.build().map_err(|e| build_error(action(), e))?)
                .send()
                .await
                .map_err(|e| Error::aws(action(), e))?;
            tracing::info!(zone_id = %zone.id, change = ?out.change_info().map(|c| c.id()), "deleted records for force_destroy");
        }
    }
    delete_empty_zone(r53, zone).await
}

/// Deletes a zone whose own records were just listed and found empty (the
/// caller's check before its first write), without listing them again. If a
/// record was added since, Route 53 refuses (`HostedZoneNotEmpty`) and
/// nothing is deleted. A zone already gone is success. Returns the change.
pub async fn delete_empty_zone(r53: &Client, zone: &HostedZone) -> Result<Option<String>> {
    match r53.delete_hosted_zone().id(&zone.id).send().await {
        Ok(out) => Ok(out.change_info().map(|c| c.id().to_string())),
        Err(e) => {
            let err = Error::aws(
                format!("deleting Route 53 hosted zone {} ({})", zone.name, zone.id),
                e,
            );
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// Builds a record set value for requests.
pub(crate) fn record_set(
    name: &DomainName,
    rtype: RrType,
    ttl: i64,
    values: &[String],
    action: &str,
) -> Result<ResourceRecordSet> {
    let mut b = ResourceRecordSet::builder()
        .name(name.fqdn())
        .r#type(rtype)
        .ttl(ttl);
    for v in values {
        b = b.resource_records(
            ResourceRecord::builder()
                .value(v)
                .build()
                .map_err(|e| build_error(action.to_string(), e))?,
        );
    }
    b.build().map_err(|e| build_error(action.to_string(), e))
}

pub(crate) fn build_error(action: String, e: impl std::fmt::Display) -> Error {
    Error::aws_other(action, "BuildError", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_reference_prefix_is_stable_and_distinct() {
        let n = DomainName::parse("api.example.com").unwrap();
        let a = caller_reference_prefix(&n, "222222222222");
        assert_eq!(a, caller_reference_prefix(&n, "222222222222"));
        assert_ne!(a, caller_reference_prefix(&n, "333333333333"));
        assert!(a.starts_with("r53d/") && a.ends_with('/'));
        // CallerReference may be at most 128 characters.
        assert!(a.len() + 24 <= 128);
    }

    #[test]
    fn zone_ids_lose_their_prefix() {
        assert_eq!(bare_zone_id("/hostedzone/Z123"), "Z123");
        assert_eq!(bare_zone_id("Z123"), "Z123");
    }
}
