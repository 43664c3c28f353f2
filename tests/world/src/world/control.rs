//! Switching the world's behaviour from a test: reset, roles, call counts,
//! injected API faults, held calls, throttling, INSYNC timing, DNS faults and publish
//! lag at pool servers, AssumeRole failures.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::World;
use crate::model;
use crate::{fqdn, DnsFault, Fault, Operation, RoleSpec, ThrottleMode, WorldError};

impl World {
    /// Restore accounts/roles, wipe zones/changes/counters/faults/limits,
    /// remove every TLD registration and restore the pristine example.net
    /// zone. Blocks the calling thread for a few tens of milliseconds (the
    /// work runs on the world's own runtime, so calling it from async code
    /// is fine).
    pub fn reset(&self) {
        self.shared.lock().reset();
        let Some(rt) = &self.rt else { return };
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = self.shared.clone();
        rt.spawn(async move {
            let r = shared.infra.reset().await;
            let _ = tx.send(r);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("r53world reset: {e}"),
            Err(e) => tracing::error!("r53world reset timed out: {e}"),
        }
    }

    /// Async form of [`World::reset`] that reports DNS-side errors.
    pub async fn reset_async(&self) -> Result<(), WorldError> {
        self.shared.lock().reset();
        self.shared.infra.reset().await
    }

    /// Add (or replace) a role.
    pub fn add_role(&self, role: RoleSpec) {
        self.shared.lock().roles.insert(role.arn(), role);
    }

    /// Per (account, operation) call counts, including faulted calls; an
    /// operation never called is absent (see [`World::calls`]).
    pub fn call_counts(&self) -> BTreeMap<(String, Operation), u64> {
        self.shared.lock().calls.clone()
    }

    /// Calls of `operation` made by `account` so far (faulted ones
    /// included), 0 when none.
    pub fn calls(&self, account: &str, operation: Operation) -> u64 {
        let st = self.shared.lock();
        st.calls
            .get(&(account.to_string(), operation))
            .copied()
            .unwrap_or(0)
    }

    /// Make the next `count` calls of `operation` (e.g.
    /// [`Operation::ChangeResourceRecordSets`], [`Operation::AssumeRole`])
    /// fail with `fault`.
    pub fn inject_fault(&self, operation: Operation, fault: Fault, count: u32) {
        let mut st = self.shared.lock();
        let q = st.faults.entry(operation).or_default();
        for _ in 0..count {
            q.push_back(fault);
        }
    }

    /// Holds the next call of `operation` at the door, once it has been
    /// counted, until the returned [`HeldCall`] is released or dropped: a
    /// test can act at the moment a client's call is on the wire (change
    /// what the call will find, say) without guessing a time. Later calls
    /// of the operation are not held.
    pub fn hold_next(&self, operation: Operation) -> HeldCall {
        let hold = model::Hold::new();
        self.shared
            .lock()
            .holds
            .entry(operation)
            .or_default()
            .push_back(hold.clone());
        HeldCall { hold }
    }

    /// Per-account requests/second limit for Route 53 calls (None: off):
    /// [`ThrottleMode::Legacy`].
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.set_throttle(match per_second {
            Some(per_second) => ThrottleMode::Legacy { per_second },
            None => ThrottleMode::Off,
        });
    }

    /// How Route 53 calls are throttled per account: off, the legacy
    /// requests/second rule, or Route 53's current token buckets.
    pub fn set_throttle(&self, mode: ThrottleMode) {
        self.shared.lock().throttle.set_mode(mode);
    }

    /// `Throttling` answers sent by the throttle, per (account, operation)
    /// (injected faults are not counted here).
    pub fn throttled_counts(&self) -> BTreeMap<(String, Operation), u64> {
        self.shared.lock().throttle.throttled().clone()
    }

    /// Delay between PENDING and INSYNC for new changes.
    pub fn set_insync_delay(&self, d: Duration) {
        self.shared.lock().insync_delay = d;
    }

    /// Makes every pending change INSYNC now (and published to DNS), as
    /// Route 53 finishes changes nobody waits for.
    pub fn complete_pending_changes(&self) {
        self.shared.lock().complete_pending();
    }

    /// Random extra delay, uniform up to `d`, added to each new change's
    /// INSYNC time (Route 53 takes "generally" 60 s, not exactly).
    pub fn set_insync_jitter(&self, d: Duration) {
        self.shared.lock().insync_jitter = d;
    }

    /// Switches a DNS fault on at pool server `server` (host name, with or
    /// without the trailing dot) for `zone` (`None`: every zone it serves),
    /// for the next `count` queries (`None`: until cleared). `fault = None`
    /// switches it off.
    pub fn set_dns_fault(
        &self,
        server: &str,
        zone: Option<&str>,
        fault: Option<DnsFault>,
        count: Option<u32>,
    ) {
        let key = (fqdn(server), zone.map(fqdn));
        let mut st = self.shared.lock();
        match fault {
            Some(fault) => {
                st.dns_faults.insert(
                    key,
                    model::DnsFaultEntry {
                        fault,
                        remaining: count,
                    },
                );
            }
            None => {
                st.dns_faults.remove(&key);
            }
        }
    }

    /// How long after submission a change becomes visible on pool server
    /// `server` (`None`: at INSYNC, the default). A lag shorter than the
    /// insync delay makes that server serve changes before INSYNC, while the
    /// others still serve the old data; a longer one delays INSYNC for the
    /// zones the server hosts.
    pub fn set_publish_lag(&self, server: &str, lag: Option<Duration>) {
        let mut st = self.shared.lock();
        match lag {
            Some(l) => {
                st.publish_lag.insert(fqdn(server), l);
            }
            None => {
                st.publish_lag.remove(&fqdn(server));
            }
        }
    }

    /// Makes pool server `server` (host name, with or without the trailing
    /// dot) serve the hosted zone `zone_id` too, with the records every
    /// server of that zone serves, although it is not one of the zone's own
    /// name servers: a working server that only a hand-edited apex NS
    /// record names.
    pub fn serve_zone_also(&self, server: &str, zone_id: &str) {
        let mut st = self.shared.lock();
        let id = zone_id.trim_start_matches("/hostedzone/").to_string();
        let ids = st.also_serving.entry(fqdn(server)).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Make the next `n` AssumeRole calls for `role_arn` fail with AccessDenied.
    pub fn fail_assume_role(&self, role_arn: &str, n: u32) {
        self.shared
            .lock()
            .fail_assume
            .insert(role_arn.to_string(), n);
    }
}

/// A call the world holds at the door ([`World::hold_next`]); released when
/// [`HeldCall::release`] is called or the value is dropped, so a failing
/// test never leaves a client waiting.
#[derive(Debug)]
pub struct HeldCall {
    hold: Arc<model::Hold>,
}

impl HeldCall {
    /// Resolves once the call has arrived and is being held (at once if it
    /// already has); wrap it in a timeout to bound the wait.
    pub async fn arrived(&self) {
        self.hold.wait_arrived().await;
    }

    /// Whether the call has arrived.
    pub fn has_arrived(&self) -> bool {
        self.hold.has_arrived()
    }

    /// Lets the call through: the world then serves it as usual.
    pub fn release(self) {}
}

impl Drop for HeldCall {
    fn drop(&mut self) {
        self.hold.release();
    }
}
