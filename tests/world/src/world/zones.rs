//! Zones and domains: delegating a domain at its TLD (to a hosted zone or
//! to explicit servers), flushing the resolver, creating a hosted zone as
//! its owner would, and listing an account's zones.

use std::time::Duration;

use super::World;
use crate::model;
use crate::{RRSet, WorldError};

/// A zone as seen by introspection helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneInfo {
    pub id: String,
    pub name: String,
    pub private: bool,
    pub name_servers: Vec<String>,
    pub records: Vec<RRSet>,
    pub tags: std::collections::BTreeMap<String, String>,
}

impl World {
    /// Delegate `domain` at its TLD to the hosted zone's current name servers.
    pub async fn register_domain(
        &self,
        domain: &str,
        hosted_zone_id: &str,
    ) -> Result<Vec<String>, WorldError> {
        let id = hosted_zone_id.trim_start_matches("/hostedzone/");
        let ns = self
            .shared
            .lock()
            .zone_any(id)
            .map(|z| z.ns.clone())
            .ok_or_else(|| WorldError::NoSuchZone(id.to_string()))?;
        self.shared.infra.register(domain, &ns).await?;
        Ok(ns)
    }

    /// Delegate `domain` at its TLD to explicit name servers (empty: remove).
    pub async fn register_domain_ns(&self, domain: &str, ns: &[String]) -> Result<(), WorldError> {
        self.shared.infra.register(domain, ns).await
    }

    /// Flush `name` (and everything below it), negative and infra caches of
    /// the resolver.
    pub async fn flush(&self, name: &str) -> Result<(), WorldError> {
        self.shared.infra.flush(name).await
    }

    /// Creates a public hosted zone in `account`, as its owner would in the
    /// console, and waits until it is INSYNC (served over DNS). Returns the
    /// zone ID without the `/hostedzone/` prefix.
    pub async fn create_zone(&self, account: &str, name: &str) -> Result<String, WorldError> {
        let reference = format!("console-{name}-{:016x}", rand::random::<u64>());
        let (id, change) = self
            .shared
            .lock()
            .create_zone(
                &self.shared.infra.pool,
                account,
                name,
                &reference,
                None,
                false,
                Vec::new(),
            )
            .map_err(|e| {
                WorldError::Invalid(format!("creating hosted zone {name}: {}", e.message))
            })?;
        let id = id.trim_start_matches("/hostedzone/").to_string();
        let change = change.trim_start_matches("/change/").to_string();
        loop {
            let done = {
                let mut st = self.shared.lock();
                st.advance();
                st.change_status(&change).is_none_or(|(_, insync)| insync)
            };
            if done {
                return Ok(id);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Hosted zones of an account, with their current (API) records.
    pub fn zones(&self, account: &str) -> Vec<ZoneInfo> {
        let st = self.shared.lock();
        let Some(a) = st.accounts.get(account) else {
            return Vec::new();
        };
        let mut v: Vec<&model::Zone> = a.zones.values().collect();
        v.sort_by_key(|z| z.seq);
        v.into_iter()
            .map(|z| ZoneInfo {
                id: z.id.clone(),
                name: z.name.clone(),
                private: z.private,
                name_servers: z.ns.clone(),
                records: z.records.values().cloned().collect(),
                tags: z.tags.clone(),
            })
            .collect()
    }
}
