//! Hosted zones: what each holds and serves, finding one, creating one
//! (caller reference, name servers from the pool, SOA and NS) and deleting
//! one (only when it holds nothing but its SOA and NS).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::error::{no_such_zone, ApiError};
use super::ids::random_id;
use super::names::normalize_name;
use super::pool::Pool;
use super::records::{RRSet, Records, RrType};
use super::State;

#[derive(Debug, Clone)]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub caller_ref: String,
    pub comment: Option<String>,
    pub private: bool,
    pub vpcs: Vec<(String, String)>,
    pub ns: Vec<String>,
    pub records: Records,
    /// Its tags (ChangeTagsForResource).
    pub tags: std::collections::BTreeMap<String, String>,
    /// What DNS serves (None until the creation change is INSYNC).
    pub published: Option<Records>,
    /// Pending snapshots: (change id, due, records after the change,
    /// submitted at).
    pub pending: VecDeque<(String, Instant, Records, Instant)>,
    pub seq: u64,
}

impl Zone {
    /// What `server` serves for this zone now: the published snapshot, or a
    /// later pending one when the server's publish lag has passed.
    pub fn view(&self, lag: Option<Duration>, now: Instant) -> Option<&Records> {
        let mut view = self.published.as_ref();
        if let Some(lag) = lag {
            for (_, due, snap, submitted) in &self.pending {
                if now >= (*submitted + lag).min(*due) {
                    view = Some(snap);
                } else {
                    break;
                }
            }
        }
        view
    }
}

pub(super) fn z_last(zone: &Zone) -> Option<(&String, Instant, &Records)> {
    zone.pending.back().map(|(a, b, c, _)| (a, *b, c))
}

impl State {
    pub fn zone(&self, account: &str, id: &str) -> Result<&Zone, ApiError> {
        self.accounts
            .get(account)
            .and_then(|a| a.zones.get(id))
            .ok_or_else(|| no_such_zone(id))
    }

    /// A zone of `account`, to change it.
    pub fn zone_mut(&mut self, account: &str, id: &str) -> Result<&mut Zone, ApiError> {
        self.accounts
            .get_mut(account)
            .and_then(|a| a.zones.get_mut(id))
            .ok_or_else(|| no_such_zone(id))
    }

    /// Find a zone by id in any account.
    pub fn zone_any(&self, id: &str) -> Option<&Zone> {
        self.accounts.values().find_map(|a| a.zones.get(id))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn create_zone(
        &mut self,
        pool: &Pool,
        account: &str,
        name: &str,
        caller_ref: &str,
        comment: Option<String>,
        private: bool,
        vpcs: Vec<(String, String)>,
    ) -> Result<(String, String), ApiError> {
        let name = normalize_name(name);
        let bare = name.trim_end_matches('.');
        if bare.is_empty()
            || bare.split('.').count() < 2
            || bare.split('.').any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || !l
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            })
        {
            return Err(ApiError::bad(
                "InvalidDomainName",
                format!("{name} is reserved by AWS!"),
            ));
        }
        if caller_ref.is_empty() {
            return Err(ApiError::bad("InvalidInput", "CallerReference is required"));
        }
        if private && vpcs.is_empty() {
            return Err(ApiError::bad(
                "InvalidVPCId",
                "A private hosted zone requires a VPC",
            ));
        }
        let acct = self.accounts.entry(account.to_string()).or_default();
        if acct.caller_refs.contains(caller_ref) {
            return Err(ApiError::new(
                409,
                "HostedZoneAlreadyExists",
                format!(
                    "A hosted zone has already been created with the specified caller reference: {caller_ref}"
                ),
            ));
        }
        acct.caller_refs.insert(caller_ref.to_string());
        let pick = self.pick_ns(pool, &name);
        let ns: Vec<String> = pick
            .iter()
            .enumerate()
            .map(|(t, i)| pool.servers[t][*i].0.clone())
            .collect();
        let mut records = Records::new();
        records.insert(
            (name.clone(), RrType::Soa),
            RRSet {
                name: name.clone(),
                rtype: RrType::Soa,
                ttl: 900,
                values: vec![format!(
                    "{} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
                    ns[0]
                )],
            },
        );
        records.insert(
            (name.clone(), RrType::Ns),
            RRSet {
                name: name.clone(),
                rtype: RrType::Ns,
                ttl: 172800,
                values: ns.clone(),
            },
        );
        self.seq += 1;
        let id = random_id('Z', 20);
        let mut zone = Zone {
            id: id.clone(),
            name,
            caller_ref: caller_ref.to_string(),
            comment,
            private,
            vpcs,
            ns,
            records,
            tags: Default::default(),
            published: None,
            pending: VecDeque::new(),
            seq: self.seq,
        };
        let change = self.new_change(account, &mut zone, None);
        if let Some(a) = self.accounts.get_mut(account) {
            a.zones.insert(id.clone(), zone);
        }
        Ok((id, change))
    }

    /// Puts back a zone as a snapshot recorded it ([`crate::Snapshot`]):
    /// same ID, name servers and records, served at once (no change to wait
    /// for). Replaces a zone of the same ID.
    pub fn restore_zone(&mut self, account: &str, snap: &crate::SnapshotZone) {
        self.seq += 1;
        let records: Records = snap
            .records
            .iter()
            .map(|r| ((r.name.clone(), r.rtype), r.clone()))
            .collect();
        let zone = Zone {
            id: snap.id.clone(),
            name: normalize_name(&snap.name),
            caller_ref: snap.caller_ref.clone(),
            comment: snap.comment.clone(),
            private: false,
            vpcs: Vec::new(),
            ns: snap.name_servers.clone(),
            published: Some(records.clone()),
            records,
            tags: snap.tags.clone(),
            pending: VecDeque::new(),
            seq: self.seq,
        };
        let acct = self.accounts.entry(account.to_string()).or_default();
        acct.caller_refs.insert(snap.caller_ref.clone());
        acct.zones.insert(snap.id.clone(), zone);
    }

    pub fn delete_zone(&mut self, account: &str, id: &str) -> Result<String, ApiError> {
        let zone = self.zone(account, id)?;
        if zone
            .records
            .values()
            .any(|r| !(r.name == zone.name && matches!(r.rtype, RrType::Soa | RrType::Ns)))
        {
            return Err(ApiError::bad(
                "HostedZoneNotEmpty",
                "The specified hosted zone contains non-required resource record sets and so cannot be deleted.",
            ));
        }
        let mut zone = self
            .accounts
            .get_mut(account)
            .and_then(|a| a.zones.remove(id))
            .ok_or_else(|| no_such_zone(id))?;
        let change = self.new_change(account, &mut zone, None);
        Ok(change)
    }
}
