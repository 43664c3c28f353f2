//! A parent zone in Route 53 (a hosted zone): how it is named
//! ([`ZoneRef`]), and its lookups, reads and writes, shared by every link of
//! one engine and coalesced per (account, zone).
//!
//! - **Lookups**: a parent zone (by name or ID) is looked up once per
//!   [`ParentConfig::zone_ttl`], single-flight: concurrent links wait for
//!   the one lookup under way instead of each making their own.
//! - **Reads**: a zone's records are listed once (one page, up to
//!   [`SNAPSHOT_RECORDS`] record sets) and the snapshot serves every link's
//!   NS record and occluded-records question for [`ParentConfig::snapshot_ttl`],
//!   single-flight too. Our own writes invalidate it. A zone too big for one
//!   page falls back to per-link reads.
//! - **Writes**: NS record changes for one zone that arrive within
//!   [`ParentConfig::window`] of each other, or while an earlier batch of the
//!   zone is still on its way (paced or retried), go out as one
//!   `ChangeResourceRecordSets` batch (within Route 53's limits of 1000
//!   values and 32000 characters), so they share one change and one
//!   `GetChange`. Each link's compare-and-swap holds: the batch is atomic, and
//!   when Route 53 rejects it because a record changed underneath, the links
//!   named in the rejection get it and the others go out again without them
//!   (halving the batch when the rejection names none).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, RrType};
use aws_sdk_route53::Client;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::account::AccountSettings;
use crate::error::{AwsFault, Error, Result};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::record::{self, NsRecord};
use crate::zone::{self, build_error, record_set, HostedZone, RecordSet};

/// How a Route 53 parent zone is named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZoneRef {
    /// By hosted zone ID.
    Id(String),
    /// By name (public zones only; several with the name is an error).
    Name(DomainName),
}

/// Record sets a snapshot lists (one page); a zone with this many or more is
/// read per link instead.
pub const SNAPSHOT_RECORDS: usize = 300;

/// Route 53's limit of record values in one change batch (DELETE and CREATE
/// values each count).
pub const BATCH_VALUES: usize = 1000;

/// Route 53's limit of characters of record values in one change batch.
pub const BATCH_CHARS: usize = 32000;

/// How the parent side shares work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParentConfig {
    /// How long a gathered write waits for others to the same zone.
    pub window: Duration,
    /// How long a batch may wait, beyond `window`, for links that said they
    /// will write to the zone (see [`ParentSide::intend`]).
    pub max_gather: Duration,
    /// How long a listing of a parent zone serves reads.
    pub snapshot_ttl: Duration,
    /// How long a parent zone lookup is reused.
    pub zone_ttl: Duration,
}

impl Default for ParentConfig {
    fn default() -> Self {
        ParentConfig {
            window: Duration::from_millis(100),
            max_gather: Duration::from_secs(5),
            snapshot_ttl: Duration::from_secs(30),
            zone_ttl: Duration::from_secs(300),
        }
    }
}

/// One parent zone in one account.
type Key = (AccountSettings, String);

/// A zone's records as listed once.
#[derive(Debug)]
struct Snapshot {
    at: Instant,
    generation: u64,
    records: Vec<RecordSet>,
}

type Cell<T> = Arc<tokio::sync::Mutex<Option<T>>>;

/// A map shared by the clones of a [`ParentSide`].
type Shared<K, V> = Arc<Mutex<HashMap<K, V>>>;

/// One NS record change for the batch.
#[derive(Debug, Clone)]
struct Write {
    name: DomainName,
    delete: Option<NsRecord>,
    create: Option<NsRecord>,
    action: String,
}

impl Write {
    fn values(&self) -> (usize, usize) {
        let mut n = 0;
        let mut chars = 0;
        for r in self.delete.iter().chain(self.create.iter()) {
            for v in r.values.to_fqdns() {
                n += 1;
                chars += v.len();
            }
        }
        (n, chars)
    }
}

struct Queued {
    write: Write,
    done: oneshot::Sender<Result<String>>,
}

#[derive(Default)]
struct Queue {
    items: Vec<Queued>,
    /// A flush task is running for this zone.
    busy: bool,
    /// Links that will write to this zone soon (their [`Intent`] is alive)
    /// and have not queued their write yet.
    intents: usize,
    /// Told when an intent ends.
    changed: Arc<tokio::sync::Notify>,
}

/// A link's word that it will write to a parent zone soon (after creating
/// its zone, say): the zone's next batch waits for it, up to
/// [`ParentConfig::max_gather`]. Ends when dropped (the link wrote, failed
/// or was cancelled).
#[must_use = "the intent ends when dropped"]
pub struct Intent {
    side: ParentSide,
    key: Key,
}

impl std::fmt::Debug for Intent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intent")
            .field("zone_id", &self.key.1)
            .finish()
    }
}

impl Drop for Intent {
    fn drop(&mut self) {
        let mut queues = lock(&self.side.queues);
        if let Some(q) = queues.get_mut(&self.key) {
            q.intents = q.intents.saturating_sub(1);
            q.changed.notify_waiters();
        }
    }
}

/// The shared parent side (see the module docs). Cheap to clone.
#[derive(Clone, Default)]
pub struct ParentSide {
    cfg: ParentConfig,
    zones: Shared<(AccountSettings, ZoneRef), Cell<(Instant, HostedZone)>>,
    snapshots: Arc<Mutex<HashMap<Key, Cell<Arc<Snapshot>>>>>,
    generations: Arc<Mutex<HashMap<Key, u64>>>,
    queues: Arc<Mutex<HashMap<Key, Queue>>>,
}

impl std::fmt::Debug for ParentSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParentSide")
            .field("cfg", &self.cfg)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ParentSide {
    /// A parent side with these settings.
    pub fn new(cfg: ParentConfig) -> ParentSide {
        ParentSide {
            cfg,
            ..Default::default()
        }
    }

    /// The parent zone `zref` in the account `account` (effective settings)
    /// reaches: looked up once per [`ParentConfig::zone_ttl`], one lookup at
    /// a time per zone. Not found is `None` and is not kept.
    pub async fn zone(
        &self,
        r53: &Client,
        account: &AccountSettings,
        zref: &ZoneRef,
    ) -> Result<Option<HostedZone>> {
        let cell = lock(&self.zones)
            .entry((account.clone(), zref.clone()))
            .or_default()
            .clone();
        let mut slot = cell.lock().await;
        if let Some((at, z)) = slot.as_ref() {
            if at.elapsed() < self.cfg.zone_ttl {
                return Ok(Some(z.clone()));
            }
        }
        let found = match zref {
            ZoneRef::Id(id) => zone::get_zone(r53, id).await?,
            ZoneRef::Name(n) => zone::find_public_zone(r53, n).await?,
        };
        if let Some(z) = &found {
            *slot = Some((Instant::now(), z.clone()));
            // The same zone by ID, for reads that know only the ID.
            if matches!(zref, ZoneRef::Name(_)) {
                let by_id = lock(&self.zones)
                    .entry((account.clone(), ZoneRef::Id(z.id.clone())))
                    .or_default()
                    .clone();
                if let Ok(mut s) = by_id.try_lock() {
                    *s = Some((Instant::now(), z.clone()));
                };
            }
        }
        Ok(found)
    }

    /// Says a write to this zone is coming (see [`Intent`]).
    pub fn intend(&self, account: &AccountSettings, zone_id: &str) -> Intent {
        let key = (account.clone(), zone_id.to_string());
        lock(&self.queues).entry(key.clone()).or_default().intents += 1;
        Intent {
            side: self.clone(),
            key,
        }
    }

    fn generation(&self, key: &Key) -> u64 {
        lock(&self.generations).get(key).copied().unwrap_or(0)
    }

    fn invalidate(&self, key: &Key) {
        *lock(&self.generations).entry(key.clone()).or_default() += 1;
    }

    /// The zone's snapshot, listed at most once per TTL (and after each of
    /// our writes); `None` when the zone is too big for one.
    async fn snapshot(&self, r53: &Client, key: &Key) -> Result<Option<Arc<Snapshot>>> {
        if self.cfg.snapshot_ttl.is_zero() {
            return Ok(None);
        }
        let cell = lock(&self.snapshots)
            .entry(key.clone())
            .or_default()
            .clone();
        let mut slot = cell.lock().await;
        if let Some(s) = slot.as_ref() {
            if s.at.elapsed() < self.cfg.snapshot_ttl && s.generation == self.generation(key) {
                return Ok((s.records.len() < SNAPSHOT_RECORDS).then(|| s.clone()));
            }
        }
        let generation = self.generation(key);
        let records = zone::list_records_from(r53, &key.1, None, SNAPSHOT_RECORDS).await?;
        let snap = Arc::new(Snapshot {
            at: Instant::now(),
            generation,
            records,
        });
        *slot = Some(snap.clone());
        Ok((snap.records.len() < SNAPSHOT_RECORDS).then_some(snap))
    }

    /// The NS record for `name` in the parent zone, from the shared snapshot.
    pub async fn read_ns(
        &self,
        r53: &Client,
        account: &AccountSettings,
        zone_id: &str,
        name: &DomainName,
    ) -> Result<Option<NsRecord>> {
        let key = (account.clone(), zone_id.to_string());
        let Some(snap) = self.snapshot(r53, &key).await.map_err(|e| {
            e.with_action(format!("reading NS record {name} in parent zone {zone_id}"))
        })?
        else {
            return record::read_ns(r53, zone_id, name).await;
        };
        Ok(snap
            .records
            .iter()
            .find(|s| s.name == name.as_str() && s.rtype == RrType::Ns)
            .map(|s| NsRecord {
                ttl: s.ttl.unwrap_or(0),
                values: NsSet::parse(&s.values).unwrap_or_default(),
            }))
    }

    /// Records at or below `name` other than its NS and DS, from the shared
    /// snapshot (see [`record::occluded_records`]).
    pub async fn occluded_records(
        &self,
        r53: &Client,
        account: &AccountSettings,
        zone_id: &str,
        name: &DomainName,
    ) -> Result<Vec<RecordSet>> {
        let key = (account.clone(), zone_id.to_string());
        let Some(snap) = self.snapshot(r53, &key).await? else {
            return record::occluded_records(r53, zone_id, name).await;
        };
        let suffix = format!(".{}", name.as_str());
        Ok(snap
            .records
            .iter()
            .filter(|s| s.name == name.as_str() || s.name.ends_with(&suffix))
            .filter(|s| !(s.name == name.as_str() && matches!(s.rtype, RrType::Ns | RrType::Ds)))
            .cloned()
            .collect())
    }

    /// Writes the NS record through the shared batch, atomically: CREATE `wanted`, after
    /// a DELETE of exactly `current` when there is one. Returns the change.
    pub async fn write_ns(
        &self,
        r53: &Client,
        intent: Intent,
        name: &DomainName,
        wanted: &NsRecord,
        current: Option<&NsRecord>,
    ) -> Result<record::WriteOutcome> {
        let zone_id = intent.key.1.clone();
        if current == Some(wanted) {
            return Ok(record::WriteOutcome::Unchanged);
        }
        let action = format!("writing NS record {name} in parent zone {zone_id}");
        let write = Write {
            name: name.clone(),
            delete: current.cloned(),
            create: Some(wanted.clone()),
            action: action.clone(),
        };
        match self.submit(r53, write, intent).await {
            Ok(change_id) => Ok(match current {
                Some(prev) => record::WriteOutcome::Replaced {
                    change_id,
                    previous: prev.clone(),
                },
                None => record::WriteOutcome::Created { change_id },
            }),
            Err(err) if err.aws_fault() == Some(AwsFault::InvalidChangeBatch) => {
                // The compare-and-swap lost: say what is there now.
                if let Ok(now) = record::read_ns(r53, &zone_id, name).await {
                    if now.as_ref().map(|r| &r.values) != current.map(|c| &c.values) {
                        return Err(Error::RecordChanged {
                            action: "writing NS record",
                            name: name.clone(),
                            zone_id: zone_id.clone(),
                            expected: current.map(|c| c.values.clone()).unwrap_or_default(),
                            found: now.map(|r| r.values).unwrap_or_default(),
                        });
                    }
                }
                Err(err)
            }
            Err(err) => Err(err),
        }
    }

    /// [`record::delete_exact`] through the shared batch: DELETE exactly
    /// `current`; gone already is `Ok(None)`.
    pub async fn delete_exact(
        &self,
        r53: &Client,
        intent: Intent,
        name: &DomainName,
        current: &NsRecord,
    ) -> Result<Option<String>> {
        let zone_id = intent.key.1.clone();
        let write = Write {
            name: name.clone(),
            delete: Some(current.clone()),
            create: None,
            action: format!("deleting NS record {name} in parent zone {zone_id}"),
        };
        match self.submit(r53, write, intent).await {
            Ok(id) => Ok(Some(id)),
            Err(err) => {
                // Route 53 says a DELETE of a record that is gone only in
                // the message of its InvalidChangeBatch: nothing typed.
                let gone = err.aws_fault() == Some(AwsFault::InvalidChangeBatch)
                    && err
                        .aws_message()
                        .is_some_and(|m| m.contains("but it was not found"));
                if err.is_not_found() || gone {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }
}

mod batch;

#[cfg(test)]
mod tests;
