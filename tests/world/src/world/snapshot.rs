//! A world's lasting contents as data: every account's public hosted zones
//! (IDs, name servers, records), the domains registered at the TLDs, and
//! what `example.net` on Knot holds below its own names. A snapshot taken
//! from one world restores into another (on another net), so a Terraform
//! state written against the first stays true against the second: the state
//! fixtures of `provider/tests/state_fixtures.rs` are kept with one.

use std::collections::BTreeMap;

use super::World;
use crate::{RRSet, WorldError};

/// What [`World::snapshot`] records and [`World::restore`] puts back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Public hosted zones, by account, in creation order.
    pub zones: Vec<SnapshotZone>,
    /// Domains delegated at their TLD: domain (trailing dot) to servers.
    pub registrations: BTreeMap<String, Vec<String>>,
    /// Record sets of `example.net` (the RFC 2136 parent on Knot) other than
    /// its apex, `ns1` and `www`, which every world starts with.
    pub example_net: Vec<RRSet>,
}

/// One hosted zone of a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotZone {
    pub account: String,
    /// Without the `/hostedzone/` prefix.
    pub id: String,
    pub name: String,
    pub caller_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub name_servers: Vec<String>,
    pub records: Vec<RRSet>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// Owners in `example.net` that the pristine zone already has.
const EXAMPLE_NET_OWN: [&str; 3] = ["example.net.", "ns1.example.net.", "www.example.net."];

impl World {
    /// Records the world's lasting contents (see [`Snapshot`]). Pending
    /// changes are taken as the API shows them (their records, not what DNS
    /// serves yet).
    pub async fn snapshot(&self) -> Result<Snapshot, WorldError> {
        let zones = {
            let st = self.shared.lock();
            let mut zones: Vec<(u64, SnapshotZone)> = st
                .accounts
                .iter()
                .flat_map(|(account, a)| {
                    a.zones.values().filter(|z| !z.private).map(|z| {
                        (
                            z.seq,
                            SnapshotZone {
                                account: account.clone(),
                                id: z.id.clone(),
                                name: z.name.clone(),
                                caller_ref: z.caller_ref.clone(),
                                comment: z.comment.clone(),
                                name_servers: z.ns.clone(),
                                records: z.records.values().cloned().collect(),
                                tags: z.tags.clone(),
                            },
                        )
                    })
                })
                .collect();
            zones.sort_by_key(|(seq, _)| *seq);
            zones.into_iter().map(|(_, z)| z).collect()
        };
        let registrations = self.shared.infra.registrations();
        let example_net = self
            .shared
            .infra
            .example_net_records()
            .await?
            .into_iter()
            .filter(|r| !EXAMPLE_NET_OWN.contains(&r.name.as_str()))
            .collect();
        Ok(Snapshot {
            zones,
            registrations,
            example_net,
        })
    }

    /// Puts a snapshot's contents into this world, on top of what it holds:
    /// its zones (same IDs and name servers, served at once), its
    /// registrations at the TLDs, and its `example.net` records. Use it on a
    /// world just started or reset.
    pub async fn restore(&self, snap: &Snapshot) -> Result<(), WorldError> {
        {
            let pool: Vec<&str> = self
                .shared
                .infra
                .pool
                .all()
                .map(|(n, _)| n.as_str())
                .collect();
            for z in &snap.zones {
                if let Some(ns) = z.name_servers.iter().find(|n| !pool.contains(&n.as_str())) {
                    return Err(WorldError::Invalid(format!(
                        "restoring hosted zone {} ({}): its name server {ns} is not in this world's pool",
                        z.name, z.id
                    )));
                }
            }
            let mut st = self.shared.lock();
            for z in &snap.zones {
                st.restore_zone(&z.account, z);
            }
        }
        for (domain, ns) in &snap.registrations {
            self.shared.infra.register(domain, ns).await?;
        }
        self.shared
            .infra
            .set_example_net_records(&snap.example_net)
            .await
    }
}
