//! Changes: each accepted change is PENDING until its INSYNC time (the
//! insync delay, its jitter, the slowest publish lag of the zone's servers,
//! never before the zone's previous change), then published to DNS.

use std::time::{Duration, Instant};

use super::ids::random_id;
use super::zone::{z_last, Zone};
use super::State;

#[derive(Debug, Clone)]
pub struct ChangeRec {
    pub account: String,
    pub submitted_at: time::OffsetDateTime,
    pub comment: Option<String>,
    pub due: Instant,
}

impl State {
    /// Apply every pending change whose delay elapsed (in order per zone).
    pub fn advance(&mut self) {
        let now = Instant::now();
        for acct in self.accounts.values_mut() {
            for z in acct.zones.values_mut() {
                while z.pending.front().is_some_and(|(_, due, _, _)| *due <= now) {
                    if let Some((_, _, snap, _)) = z.pending.pop_front() {
                        z.published = Some(snap);
                    }
                }
            }
        }
    }

    pub(super) fn new_change(
        &mut self,
        account: &str,
        zone: &mut Zone,
        comment: Option<String>,
    ) -> String {
        let id = random_id('C', 20);
        let now = Instant::now();
        let jitter = if self.insync_jitter.is_zero() {
            Duration::ZERO
        } else {
            self.insync_jitter.mul_f64(rand::random::<f64>())
        };
        let slowest = zone
            .ns
            .iter()
            .filter_map(|n| self.publish_lag.get(n))
            .max()
            .copied()
            .unwrap_or_default();
        let mut due = now + (self.insync_delay + jitter).max(slowest);
        if let Some((_, last, _)) = z_last(zone) {
            due = due.max(last);
        }
        zone.pending
            .push_back((id.clone(), due, zone.records.clone(), now));
        self.changes.insert(
            id.clone(),
            ChangeRec {
                account: account.to_string(),
                submitted_at: time::OffsetDateTime::now_utc(),
                comment,
                due,
            },
        );
        id
    }

    /// Every pending change is due now: what Route 53 finishes while
    /// nobody watches (a client interrupted during its wait, say).
    pub fn complete_pending(&mut self) {
        let now = Instant::now();
        for acct in self.accounts.values_mut() {
            for z in acct.zones.values_mut() {
                for p in z.pending.iter_mut() {
                    p.1 = p.1.min(now);
                }
            }
        }
        for c in self.changes.values_mut() {
            c.due = c.due.min(now);
        }
        self.advance();
    }

    pub fn change_status(&self, id: &str) -> Option<(&ChangeRec, bool)> {
        self.changes.get(id).map(|c| (c, Instant::now() >= c.due))
    }
}
