//! Injected faults: an API fault for the next calls of an operation, and
//! DNS faults switched on at a pool name server (for a zone or for all).

use std::time::Duration;

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

impl State {
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
