//! Injected faults: an API fault for the next calls of an operation, a
//! call held at the door until the test lets it through, and DNS faults
//! switched on at a pool name server (for a zone or for all).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::{Operation, State};

/// A fault injected into the next calls of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 400 `Throttling` "Rate exceeded".
    Throttling,
    /// 500 `InternalFailure`.
    InternalFailure,
    /// 400 `PriorRequestNotComplete`.
    PriorRequestNotComplete,
    /// Sleep, then serve the call normally.
    Delay(Duration),
}

/// How a pool name server misbehaves for a zone (or for every zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsFault {
    /// Drop the query: no reply at all (a silent server; TCP connections are
    /// closed without an answer).
    Drop,
    /// Answer REFUSED, as a server that does not serve the zone.
    Refuse,
}

/// A [`DnsFault`] switched on at one pool server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsFaultEntry {
    pub fault: DnsFault,
    /// How many more queries it applies to; `None`: until switched off.
    pub remaining: Option<u32>,
}

/// The next call of an operation, held once it has been counted until the
/// test releases it: a test can act at the moment a client's call is on
/// the wire (change what the call will find, say), without guessing a time.
#[derive(Debug)]
pub struct Hold {
    /// One permit once the call has arrived.
    arrived: Semaphore,
    /// One permit once the test lets it through.
    released: Semaphore,
}

impl Hold {
    pub fn new() -> Arc<Hold> {
        Arc::new(Hold {
            arrived: Semaphore::new(0),
            released: Semaphore::new(0),
        })
    }

    /// The call's side: say it arrived, then wait to be let through.
    pub async fn hold(&self) {
        self.arrived.add_permits(1);
        // Never closed; a permit comes when the test releases the call.
        if let Ok(p) = self.released.acquire().await {
            p.forget();
        }
    }

    /// The test's side: wait until the call has arrived (at once if it has).
    pub async fn wait_arrived(&self) {
        if let Ok(p) = self.arrived.acquire().await {
            p.forget();
            self.arrived.add_permits(1);
        }
    }

    pub fn has_arrived(&self) -> bool {
        self.arrived.available_permits() > 0
    }

    /// The test's side: let the call through.
    pub fn release(&self) {
        self.released.add_permits(1);
    }
}

impl State {
    pub fn take_hold(&mut self, op: Operation) -> Option<Arc<Hold>> {
        let q = self.holds.get_mut(&op)?;
        let h = q.pop_front();
        if q.is_empty() {
            self.holds.remove(&op);
        }
        h
    }

    pub fn take_fault(&mut self, op: Operation) -> Option<Fault> {
        let q = self.faults.get_mut(&op)?;
        let f = q.pop_front();
        if q.is_empty() {
            self.faults.remove(&op);
        }
        f
    }

    /// The fault switched on at `server` for `zone`, if any; counts the query
    /// against a fault limited to a number of queries.
    pub fn take_dns_fault(&mut self, server: &str, zone: &str) -> Option<DnsFault> {
        let key = [
            (server.to_string(), Some(zone.to_string())),
            (server.to_string(), None),
        ]
        .into_iter()
        .find(|k| self.dns_faults.contains_key(k))?;
        let entry = self.dns_faults.get_mut(&key)?;
        let fault = entry.fault;
        if let Some(n) = entry.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.dns_faults.remove(&key);
            }
        }
        Some(fault)
    }
}
