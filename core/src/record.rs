//! The delegation's NS record in the parent zone.
//!
//! Reads, the records a delegation occludes, and deletes that name the exact
//! values this delegation wrote. Writes go through `parent::route53`'s shared
//! batches, which keep the compare-and-swap: a record that exists is
//! replaced with one atomic batch that DELETEs exactly the values read and
//! CREATEs the new ones, so if someone else changed the record in between,
//! Route 53 rejects the batch instead of losing their change.

use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, RrType};
use aws_sdk_route53::Client;

use crate::error::{Error, Result};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::zone::{build_error, list_records_from, list_records_while, record_set, RecordSet};

/// An NS record set: TTL and values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct NsRecord {
    /// TTL in seconds.
    pub ttl: i64,
    /// The name servers.
    pub values: NsSet,
}

/// Reads the NS record set for `name` in a zone; `None` when absent.
pub async fn read_ns(r53: &Client, zone_id: &str, name: &DomainName) -> Result<Option<NsRecord>> {
    let sets = list_records_from(r53, zone_id, Some((name, RrType::Ns)), 1)
        .await
        .map_err(|e| e.with_action(format!("reading NS record {name} in parent zone {zone_id}")))?;
    Ok(sets
        .into_iter()
        .find(|s| s.name == name.as_str() && s.rtype == RrType::Ns)
        .map(|s| NsRecord {
            ttl: s.ttl.unwrap_or(0),
            values: NsSet::parse(&s.values).unwrap_or_default(),
        }))
}

/// Records in the parent zone at or below `name` other than the NS and DS at
/// the cut: once delegated, no resolver will ever see them.
pub async fn occluded_records(
    r53: &Client,
    zone_id: &str,
    name: &DomainName,
) -> Result<Vec<RecordSet>> {
    // Route 53 lists names by their reversed-label text (`com.example.api`),
    // so every name at or below `name` follows it, but possibly after
    // siblings such as `api-x.example.com` (`-` sorts before `.`): read on
    // while the reversed text starts with the name's, and keep those at or
    // under it.
    let reversed = |n: &str| n.rsplit('.').collect::<Vec<_>>().join(".");
    let prefix = reversed(name.as_str());
    let suffix = format!(".{}", name.as_str());
    let sets = list_records_while(r53, zone_id, Some((name, RrType::A)), usize::MAX, |s| {
        reversed(&s.name).starts_with(&prefix)
    })
    .await
    .map_err(|e| {
        e.with_action(format!(
            "listing records under {name} in parent zone {zone_id}"
        ))
    })?;
    Ok(sets
        .into_iter()
        .filter(|s| s.name == name.as_str() || s.name.ends_with(&suffix))
        .filter(|s| !(s.name == name.as_str() && matches!(s.rtype, RrType::Ns | RrType::Ds)))
        .collect())
}

/// What a write of the NS record did (the engine writes through
/// [`crate::parent::route53::ParentSide::write_ns`], in shared batches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOutcome {
    /// The record was created.
    Created {
        /// The change to wait for.
        change_id: String,
    },
    /// The record existed and was replaced atomically.
    Replaced {
        /// The change to wait for.
        change_id: String,
        /// What was there before.
        previous: NsRecord,
    },
    /// The record already had exactly these values and TTL.
    Unchanged,
}

impl WriteOutcome {
    /// The change to wait for, if any.
    pub fn change_id(&self) -> Option<&str> {
        match self {
            WriteOutcome::Created { change_id } | WriteOutcome::Replaced { change_id, .. } => {
                Some(change_id)
            }
            WriteOutcome::Unchanged => None,
        }
    }
}

/// Deletes the NS record for `name` if it holds exactly `written` (what this
/// delegation wrote). Already gone is success (`Ok(None)`); other values are
/// [`Error::RecordChanged`], showing both sets.
pub async fn delete_ns(
    r53: &Client,
    zone_id: &str,
    name: &DomainName,
    written: &NsRecord,
) -> Result<Option<String>> {
    let Some(current) = read_ns(r53, zone_id, name).await? else {
        return Ok(None);
    };
    if current.values != written.values {
        return Err(Error::RecordChanged {
            action: "deleting NS record",
            name: name.clone(),
            zone_id: zone_id.to_string(),
            expected: written.values.clone(),
            found: current.values,
        });
    }
    // Delete what is there (same values; the TTL may have been edited).
    delete_exact(r53, zone_id, name, &current).await
}

/// Deletes exactly this NS record (as just read), in one batch: if it
/// changed since, Route 53 rejects the DELETE and nothing is lost; if it is
/// gone already, that is success (`Ok(None)`).
pub async fn delete_exact(
    r53: &Client,
    zone_id: &str,
    name: &DomainName,
    current: &NsRecord,
) -> Result<Option<String>> {
    let action = format!("deleting NS record {name} in parent zone {zone_id}");
    let batch = ChangeBatch::builder()
        .comment(format!("route53delegation: remove delegation of {name}"))
        .changes(
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(record_set(
                    name,
                    RrType::Ns,
                    current.ttl,
                    &current.values.to_fqdns(),
                    &action,
                )?)
                .build()
                .map_err(|e| build_error(action.clone(), e))?,
        )
        .build()
        .map_err(|e| build_error(action.clone(), e))?;
    match r53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch)
        .send()
        .await
    {
        Ok(out) => Ok(out.change_info().map(|c| c.id().to_string())),
        Err(e) => {
            let rejected = matches!(
                e.as_service_error(),
                Some(ChangeResourceRecordSetsError::InvalidChangeBatch(_))
            );
            let err = Error::aws(action, e);
            if err.is_not_found() {
                return Ok(None);
            }
            // Route 53 rejects a DELETE that does not match the record as it
            // is: either it is gone already (success) or it changed (the
            // error stands). Which one, a read tells; not the message.
            if rejected && read_ns(r53, zone_id, name).await?.is_none() {
                return Ok(None);
            }
            Err(err)
        }
    }
}
