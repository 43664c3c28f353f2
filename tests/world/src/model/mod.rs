//! In-memory Route 53 + STS state: accounts, hosted zones, record sets,
//! changes, roles, credentials, counters, faults and rate limits.
//!
//! [`State`] is here with what concerns all of it (reset, call counts); one
//! module per concept holds the rest, each with the `impl State` block of
//! its own operations: `accounts` (account IDs, base credentials,
//! principals), `roles` (IAM roles and permissions), `zone` (hosted zones),
//! `pool` (the name-server pool), `records` (record sets and their
//! values), `batch` (ChangeResourceRecordSets), `change` (PENDING to
//! INSYNC), `faults` (injected API and DNS faults), `operation` (the
//! operations served, by name), `names`, `ids` and `error`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

mod accounts;
mod batch;
mod change;
mod error;
mod faults;
mod ids;
mod names;
mod operation;
mod policy;
mod pool;
mod records;
mod roles;
mod zone;

#[cfg(test)]
mod tests;

pub use accounts::{
    all_accounts, base_access_key, base_secret_key, new_session, Account, Principal,
    CHILD_ACCOUNTS, OPERATOR_ACCOUNT, PARENT_ACCOUNT,
};
pub use batch::ChangeReq;
pub use change::ChangeRec;
pub use error::{access_denied, ApiError};
pub use faults::{DnsFault, DnsFaultEntry, Fault, Hold};
pub use ids::format_time;
pub use names::{in_zone, normalize_name, reversed_key};
pub use operation::{Operation, Service, UnknownOperation};
pub use policy::{ChangeFacts, Policy};
pub use pool::Pool;
pub use records::{RRSet, Records, RrType, UnknownRrType};
pub use roles::{default_roles, Permission, RoleSpec};
pub use zone::Zone;

#[derive(Debug)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    pub keys: HashMap<String, Principal>,
    pub roles: BTreeMap<String, RoleSpec>,
    pub changes: HashMap<String, ChangeRec>,
    /// NS server index sets ever used per zone name (kept across reset).
    pub used_sets: HashMap<String, Vec<[usize; 4]>>,
    pub calls: BTreeMap<(String, Operation), u64>,
    pub faults: HashMap<Operation, VecDeque<Fault>>,
    /// Calls to hold at the door, per operation, in the order they come.
    pub holds: HashMap<Operation, VecDeque<std::sync::Arc<Hold>>>,
    pub throttle: crate::throttle::Throttle,
    pub insync_delay: Duration,
    /// Each change's INSYNC time is `insync_delay` plus a uniform random
    /// part of up to this much.
    pub insync_jitter: Duration,
    pub fail_assume: HashMap<String, u32>,
    pub seq: u64,
    /// DNS faults by (pool server name with trailing dot, zone name with
    /// trailing dot, or `None` for every zone).
    pub dns_faults: HashMap<(String, Option<String>), DnsFaultEntry>,
    /// Per pool server (name with trailing dot): how long after submission a
    /// change becomes visible there (capped at INSYNC; a lag beyond the insync
    /// delay pushes INSYNC back, so INSYNC still means every server has it).
    pub publish_lag: HashMap<String, Duration>,
    /// Pool servers (name with trailing dot) that also serve zones outside
    /// their own delegation sets, by zone ID: a server listed in a zone's
    /// apex NS record by hand that does serve it.
    pub also_serving: HashMap<String, Vec<String>>,
}

impl State {
    pub fn new(insync_delay: Duration) -> State {
        let mut s = State {
            accounts: BTreeMap::new(),
            keys: HashMap::new(),
            roles: BTreeMap::new(),
            changes: HashMap::new(),
            used_sets: HashMap::new(),
            calls: BTreeMap::new(),
            faults: HashMap::new(),
            holds: HashMap::new(),
            throttle: Default::default(),
            insync_delay,
            insync_jitter: Duration::ZERO,
            fail_assume: HashMap::new(),
            seq: 0,
            dns_faults: HashMap::new(),
            publish_lag: HashMap::new(),
            also_serving: HashMap::new(),
        };
        s.reset();
        s
    }

    /// Restore accounts, base credentials and default roles; wipe zones,
    /// changes, counters, faults, rate limit and sessions. The record of
    /// name-server sets ever used per zone name survives (like Route 53).
    pub fn reset(&mut self) {
        self.accounts.clear();
        self.keys.clear();
        self.roles.clear();
        self.changes.clear();
        self.calls.clear();
        self.faults.clear();
        self.holds.clear();
        self.throttle.reset();
        self.fail_assume.clear();
        self.dns_faults.clear();
        self.publish_lag.clear();
        self.also_serving.clear();
        for a in all_accounts() {
            self.accounts.insert(a.to_string(), Account::default());
            self.keys.insert(
                base_access_key(a),
                Principal {
                    account: a.to_string(),
                    secret: base_secret_key(a),
                    role: None,
                },
            );
        }
        for r in default_roles() {
            self.roles.insert(r.arn(), r);
        }
    }

    pub fn count_call(&mut self, account: &str, op: Operation) {
        *self.calls.entry((account.to_string(), op)).or_insert(0) += 1;
    }
}
