//! Route 53's per-account request throttling, both ways it is described:
//! the legacy "5 requests per second per account", and the token buckets of
//! its current documentation (an account-wide bucket of 50 refilled at 10
//! per second, plus `CreateHostedZone` 40 at 2 per second and
//! `DeleteHostedZone` 40 at 5 per second, each call taking one token from
//! the account bucket and one from its operation's bucket). A refused call
//! gets 400 `Throttling` "Rate exceeded" and is counted, per account and
//! operation, so tests and benchmarks can say how often a client was
//! throttled.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::Operation;

/// How the world throttles Route 53 calls.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ThrottleMode {
    /// No throttling (the default).
    #[default]
    Off,
    /// At most `per_second` calls per account in any one-second window
    /// (Route 53's long-documented rule is 5).
    Legacy {
        /// Calls per second per account.
        per_second: u32,
    },
    /// Route 53's current token buckets.
    Buckets {
        /// The account-wide bucket.
        #[serde(default = "Bucket::account")]
        account: Bucket,
        /// `CreateHostedZone`'s own bucket.
        #[serde(default = "Bucket::create_hosted_zone")]
        create_hosted_zone: Bucket,
        /// `DeleteHostedZone`'s own bucket.
        #[serde(default = "Bucket::delete_hosted_zone")]
        delete_hosted_zone: Bucket,
    },
}

impl ThrottleMode {
    /// The legacy rule as documented: 5 requests per second per account.
    pub fn legacy() -> ThrottleMode {
        ThrottleMode::Legacy { per_second: 5 }
    }

    /// The token buckets as documented.
    pub fn buckets() -> ThrottleMode {
        ThrottleMode::Buckets {
            account: Bucket::account(),
            create_hosted_zone: Bucket::create_hosted_zone(),
            delete_hosted_zone: Bucket::delete_hosted_zone(),
        }
    }
}

/// A token bucket's shape.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Tokens when full (the burst).
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_second: f64,
}

impl Bucket {
    /// Account-wide: 50, refilled at 10 per second.
    pub fn account() -> Bucket {
        Bucket {
            capacity: 50,
            refill_per_second: 10.0,
        }
    }

    /// `CreateHostedZone`: 40, refilled at 2 per second.
    pub fn create_hosted_zone() -> Bucket {
        Bucket {
            capacity: 40,
            refill_per_second: 2.0,
        }
    }

    /// `DeleteHostedZone`: 40, refilled at 5 per second.
    pub fn delete_hosted_zone() -> Bucket {
        Bucket {
            capacity: 40,
            refill_per_second: 5.0,
        }
    }
}

/// A bucket's current level.
#[derive(Debug, Clone, Copy)]
struct Level {
    tokens: f64,
    at: Instant,
}

impl Level {
    fn full(b: Bucket, now: Instant) -> Level {
        Level {
            tokens: f64::from(b.capacity),
            at: now,
        }
    }

    fn refill(&mut self, b: Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * b.refill_per_second).min(f64::from(b.capacity));
        self.at = now;
    }
}

/// The throttle's state: the mode, per-account windows or bucket levels,
/// and the count of `Throttling` answers sent.
#[derive(Debug, Default)]
pub struct Throttle {
    mode: ThrottleMode,
    windows: HashMap<String, VecDeque<Instant>>,
    levels: HashMap<(String, &'static str), Level>,
    throttled: BTreeMap<(String, Operation), u64>,
}

impl Throttle {
    /// The mode in force.
    pub fn mode(&self) -> ThrottleMode {
        self.mode
    }

    /// Switches mode; windows and buckets start afresh (full), the counters
    /// are kept.
    pub fn set_mode(&mut self, mode: ThrottleMode) {
        self.mode = mode;
        self.windows.clear();
        self.levels.clear();
    }

    /// Back to no throttling, with the counters cleared.
    pub fn reset(&mut self) {
        *self = Throttle::default();
    }

    /// `Throttling` answers sent so far, per (account, operation).
    pub fn throttled(&self) -> &BTreeMap<(String, Operation), u64> {
        &self.throttled
    }

    /// Whether a call of `operation` by `account` may go ahead now; a
    /// refusal is counted.
    pub fn admit(&mut self, account: &str, operation: Operation) -> bool {
        self.admit_at(account, operation, Instant::now())
    }

    /// [`Throttle::admit`] at a given instant (for tests).
    pub fn admit_at(&mut self, account: &str, operation: Operation, now: Instant) -> bool {
        let ok = match self.mode {
            ThrottleMode::Off => true,
            ThrottleMode::Legacy { per_second } => {
                let w = self.windows.entry(account.to_string()).or_default();
                while w
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= Duration::from_secs(1))
                {
                    w.pop_front();
                }
                if w.len() >= per_second as usize {
                    false
                } else {
                    w.push_back(now);
                    true
                }
            }
            ThrottleMode::Buckets {
                account: acct,
                create_hosted_zone,
                delete_hosted_zone,
            } => {
                let own = match operation {
                    Operation::CreateHostedZone => Some(("CreateHostedZone", create_hosted_zone)),
                    Operation::DeleteHostedZone => Some(("DeleteHostedZone", delete_hosted_zone)),
                    _ => None,
                };
                let mut wanted = vec![("account", acct)];
                wanted.extend(own);
                let mut levels: Vec<Level> = wanted
                    .iter()
                    .map(|(class, b)| {
                        let l = self
                            .levels
                            .entry((account.to_string(), class))
                            .or_insert_with(|| Level::full(*b, now));
                        l.refill(*b, now);
                        *l
                    })
                    .collect();
                // Take from every bucket or from none.
                let ok = levels.iter().all(|l| l.tokens >= 1.0);
                if ok {
                    for ((class, _), l) in wanted.iter().zip(levels.iter_mut()) {
                        l.tokens -= 1.0;
                        self.levels.insert((account.to_string(), class), *l);
                    }
                }
                ok
            }
        };
        if !ok {
            *self
                .throttled
                .entry((account.to_string(), operation))
                .or_default() += 1;
        }
        ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCT: &str = "111111111111";

    fn burst(t: &mut Throttle, op: Operation, now: Instant, n: usize) -> usize {
        (0..n).filter(|_| t.admit_at(ACCT, op, now)).count()
    }

    #[test]
    fn off_admits_everything() {
        let mut t = Throttle::default();
        assert_eq!(
            burst(&mut t, Operation::GetChange, Instant::now(), 1000),
            1000
        );
        assert!(t.throttled().is_empty());
    }

    #[test]
    fn legacy_allows_five_per_second_per_account() {
        let mut t = Throttle::default();
        t.set_mode(ThrottleMode::legacy());
        let t0 = Instant::now();
        assert_eq!(burst(&mut t, Operation::GetChange, t0, 8), 5);
        // Another account has its own window.
        assert!(t.admit_at("222222222222", Operation::GetChange, t0));
        // A second later the window has moved on.
        assert_eq!(
            burst(&mut t, Operation::GetChange, t0 + Duration::from_secs(1), 8),
            5
        );
        assert_eq!(t.throttled()[&(ACCT.into(), Operation::GetChange)], 6);
    }

    #[test]
    fn buckets_burst_then_refill_at_their_rate() {
        let mut t = Throttle::default();
        t.set_mode(ThrottleMode::buckets());
        let t0 = Instant::now();
        // The account bucket: a burst of 50, then 10 per second.
        assert_eq!(burst(&mut t, Operation::ListResourceRecordSets, t0, 60), 50);
        assert_eq!(
            burst(
                &mut t,
                Operation::GetChange,
                t0 + Duration::from_millis(500),
                20
            ),
            5
        );
        assert_eq!(
            t.throttled()[&(ACCT.into(), Operation::ListResourceRecordSets)],
            10
        );
    }

    #[test]
    fn create_hosted_zone_has_its_own_slower_bucket() {
        let mut t = Throttle::default();
        t.set_mode(ThrottleMode::buckets());
        let t0 = Instant::now();
        assert_eq!(burst(&mut t, Operation::CreateHostedZone, t0, 45), 40);
        // Refilled at 2 per second, while the account bucket has room.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(burst(&mut t, Operation::CreateHostedZone, t1, 10), 2);
        // A refused create takes nothing from the account bucket: 10 of
        // the account's 50 were left, plus 10 refilled.
        assert_eq!(
            burst(&mut t, Operation::GetHostedZone, t1, 30),
            50 - 40 - 2 + 10
        );
    }
}
