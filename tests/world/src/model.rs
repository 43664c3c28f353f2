//! In-memory Route 53 + STS state: accounts, hosted zones, record sets,
//! changes, roles, credentials, counters, faults and rate limits.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use hickory_proto::rr::{RData, RecordType};
use rand::Rng;

/// The operator account: the base credentials Terraform runs with.
pub const OPERATOR_ACCOUNT: &str = "999999999999";
/// The parent account (owns `example.com` in the default scenarios).
pub const PARENT_ACCOUNT: &str = "111111111111";
/// Child accounts.
pub const CHILD_ACCOUNTS: [&str; 3] = ["222222222222", "333333333333", "444444444444"];

/// Deterministic base access key of an account: `AKIA` + account id + `WRLD`.
pub fn base_access_key(account: &str) -> String {
    format!("AKIA{account}WRLD")
}

/// Deterministic base secret key of an account.
pub fn base_secret_key(account: &str) -> String {
    format!("r53world-secret-key-for-account-{account}")
}

/// What a role (or session) may do in Route 53.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    /// Everything in the role's account.
    Full,
    /// Reads (Get*/List*) plus ChangeResourceRecordSets whose changes are all
    /// of type NS with a name strictly under the given domain.
    NsChangesUnder(String),
}

/// An IAM role that can be assumed through STS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleSpec {
    /// Account owning the role.
    pub account: String,
    /// Role name (the ARN is `arn:aws:iam::ACCOUNT:role/NAME`).
    pub name: String,
    /// Accounts allowed to assume the role.
    pub trusted_accounts: Vec<String>,
    /// External id the caller must pass, if any.
    pub external_id: Option<String>,
    /// What the assumed-role credentials may do.
    pub permission: Permission,
}

impl RoleSpec {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.name)
    }
}

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

/// Who signed a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: String,
    pub secret: String,
    /// `None` for base account credentials.
    pub role: Option<SessionRole>,
}

#[derive(Debug, Clone)]
pub struct SessionRole {
    pub role_name: String,
    pub session_name: String,
    pub permission: Permission,
    pub token: String,
}

impl Principal {
    pub fn arn(&self) -> String {
        match &self.role {
            None if self.account == OPERATOR_ACCOUNT => {
                format!("arn:aws:iam::{}:user/operator", self.account)
            }
            None => format!("arn:aws:iam::{}:user/admin", self.account),
            Some(r) => format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                self.account, r.role_name, r.session_name
            ),
        }
    }
    pub fn permission(&self) -> Permission {
        self.role
            .as_ref()
            .map_or(Permission::Full, |r| r.permission.clone())
    }
}

/// One resource record set (values as the API carries them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RRSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    pub values: Vec<String>,
}

pub type Records = BTreeMap<(String, String), RRSet>;

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
    /// What DNS serves (None until the creation change is INSYNC).
    pub published: Option<Records>,
    /// Pending snapshots: (change id, due, records after the change,
    /// submitted at).
    pub pending: VecDeque<(String, Instant, Records, Instant)>,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub struct ChangeRec {
    pub account: String,
    pub submitted_at: time::OffsetDateTime,
    pub comment: Option<String>,
    pub due: Instant,
}

#[derive(Debug, Default)]
pub struct Account {
    pub zones: BTreeMap<String, Zone>,
    pub caller_refs: HashSet<String>,
}

/// Route 53-style name-server pool: 4 TLDs (com, net, org, co.uk) × n.
#[derive(Debug, Clone)]
pub struct Pool {
    /// `servers[tld][i] = (name with trailing dot, address)`.
    pub servers: Vec<Vec<(String, Ipv4Addr)>>,
}

pub const POOL_TLDS: [&str; 4] = ["com", "net", "org", "co.uk"];

impl Pool {
    pub fn new(net: u8, per_tld: u16) -> Pool {
        let servers = POOL_TLDS
            .iter()
            .enumerate()
            .map(|(t, tld)| {
                (1..=per_tld)
                    .map(|i| {
                        let num = (u32::from(i) * 17) % 512 + (t as u32) * 512;
                        let name = format!("ns-{num}.awsdns-{i:02}.{tld}.");
                        let addr = Ipv4Addr::new(127, net, 20 + t as u8, (i % 256) as u8);
                        (name, addr)
                    })
                    .collect()
            })
            .collect();
        Pool { servers }
    }
    pub fn all(&self) -> impl Iterator<Item = &(String, Ipv4Addr)> {
        self.servers.iter().flatten()
    }
}

/// The API-visible error of an operation.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(400, code, message)
    }
}

/// One change of a ChangeResourceRecordSets batch.
#[derive(Debug, Clone)]
pub struct ChangeReq {
    pub action: String,
    pub name: String,
    pub rtype: String,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub unsupported: Option<&'static str>,
}

#[derive(Debug)]
pub struct State {
    pub accounts: BTreeMap<String, Account>,
    pub keys: HashMap<String, Principal>,
    pub roles: BTreeMap<String, RoleSpec>,
    pub changes: HashMap<String, ChangeRec>,
    /// NS server index sets ever used per zone name (kept across reset).
    pub used_sets: HashMap<String, Vec<[usize; 4]>>,
    pub calls: BTreeMap<(String, String), u64>,
    pub faults: HashMap<String, VecDeque<Fault>>,
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
}

pub fn default_roles() -> Vec<RoleSpec> {
    let mut roles = vec![
        RoleSpec {
            account: PARENT_ACCOUNT.into(),
            name: "delegation-parent".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::NsChangesUnder("example.com".into()),
        },
        RoleSpec {
            account: PARENT_ACCOUNT.into(),
            name: "parent-admin".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::Full,
        },
    ];
    for acct in CHILD_ACCOUNTS {
        roles.push(RoleSpec {
            account: acct.into(),
            name: "delegation-child".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::Full,
        });
    }
    roles.push(RoleSpec {
        account: CHILD_ACCOUNTS[0].into(),
        name: "delegation-child-ext".into(),
        trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
        external_id: Some("ext-secret-123".into()),
        permission: Permission::Full,
    });
    roles
}

pub fn all_accounts() -> Vec<&'static str> {
    let mut v = vec![OPERATOR_ACCOUNT, PARENT_ACCOUNT];
    v.extend(CHILD_ACCOUNTS);
    v
}

fn random_id(prefix: char, len: usize) -> String {
    const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let mut s = String::with_capacity(len + 1);
    s.push(prefix);
    for _ in 0..len {
        s.push(CH[rng.random_range(0..CH.len())] as char);
    }
    s
}

/// Lower-case with a trailing dot.
pub fn normalize_name(name: &str) -> String {
    let mut n = name.trim().to_ascii_lowercase();
    if !n.ends_with('.') {
        n.push('.');
    }
    n
}

/// Sort key that orders names like Route 53: by reversed labels.
pub fn reversed_key(name: &str) -> String {
    let n = name.trim_end_matches('.');
    let mut labels: Vec<&str> = n.split('.').collect();
    labels.reverse();
    labels.join(".")
}

/// `name` equals `zone` or is below it at a label boundary (both normalized).
pub fn in_zone(name: &str, zone: &str) -> bool {
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}

fn strictly_under(name: &str, domain: &str) -> bool {
    let d = normalize_name(domain);
    name != d && in_zone(name, &d)
}

pub fn format_time(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

const KNOWN_TYPES: [&str; 12] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
];

fn norm_value(rtype: &str, v: &str) -> String {
    match rtype {
        "NS" | "CNAME" | "PTR" => normalize_name(v),
        _ => v.trim().to_string(),
    }
}

fn sorted_norm(rtype: &str, vals: &[String]) -> Vec<String> {
    let mut v: Vec<String> = vals.iter().map(|x| norm_value(rtype, x)).collect();
    v.sort();
    v
}

fn validate_value(rtype: &str, value: &str) -> Result<(), String> {
    let ty = match rtype {
        "SPF" => RecordType::TXT,
        "TXT" => RecordType::TXT,
        other => other
            .parse::<RecordType>()
            .map_err(|_| format!("unknown type {other}"))?,
    };
    if matches!(rtype, "NS" | "CNAME" | "PTR" | "MX" | "SRV") {
        let host = value.split_whitespace().last().unwrap_or("");
        let ok = !host.is_empty()
            && host.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
            });
        if !ok {
            return Err(format!(
                "Invalid Resource Record: 'FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '{value}''"
            ));
        }
    }
    match RData::try_from_str(ty, value) {
        Ok(_) => Ok(()),
        Err(_) => Err(match rtype {
            "A" => format!(
                "Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{value}''"
            ),
            "AAAA" => format!(
                "Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{value}''"
            ),
            _ => format!(
                "Invalid Resource Record: 'FATAL problem: InvalidRDATA (Value is not valid for type {rtype}) encountered with '{value}''"
            ),
        }),
    }
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
            throttle: Default::default(),
            insync_delay,
            insync_jitter: Duration::ZERO,
            fail_assume: HashMap::new(),
            seq: 0,
            dns_faults: HashMap::new(),
            publish_lag: HashMap::new(),
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
        self.throttle.reset();
        self.fail_assume.clear();
        self.dns_faults.clear();
        self.publish_lag.clear();
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

    pub fn count_call(&mut self, account: &str, op: &str) {
        *self
            .calls
            .entry((account.to_string(), op.to_string()))
            .or_insert(0) += 1;
    }

    pub fn take_fault(&mut self, op: &str) -> Option<Fault> {
        let q = self.faults.get_mut(op)?;
        let f = q.pop_front();
        if q.is_empty() {
            self.faults.remove(op);
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

    fn new_change(&mut self, account: &str, zone: &mut Zone, comment: Option<String>) -> String {
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

    pub fn change_status(&self, id: &str) -> Option<(&ChangeRec, bool)> {
        self.changes.get(id).map(|c| (c, Instant::now() >= c.due))
    }

    pub fn zone(&self, account: &str, id: &str) -> Result<&Zone, ApiError> {
        self.accounts
            .get(account)
            .and_then(|a| a.zones.get(id))
            .ok_or_else(|| no_such_zone(id))
    }

    /// Find a zone by id in any account.
    pub fn zone_any(&self, id: &str) -> Option<&Zone> {
        self.accounts.values().find_map(|a| a.zones.get(id))
    }

    fn pick_ns(&mut self, pool: &Pool, name: &str) -> [usize; 4] {
        // Like Route 53, never give a zone a name server that also serves a
        // public zone above or below it: that server could not refer
        // resolvers from the parent to the child.
        let related = |other: &str| {
            other != name
                && (other.ends_with(&format!(".{name}")) || name.ends_with(&format!(".{other}")))
        };
        let busy: std::collections::HashSet<String> = self
            .accounts
            .values()
            .flat_map(|a| a.zones.values())
            .filter(|z| !z.private && related(&z.name))
            .flat_map(|z| z.ns.iter().cloned())
            .collect();
        let used = self.used_sets.entry(name.to_string()).or_default();
        let mut rng = rand::rng();
        let per = pool.servers[0].len();
        let mut pick = [0usize; 4];
        for _attempt in 0..200 {
            for (t, slot) in pick.iter_mut().enumerate() {
                // Prefer servers no other zone of this name ever used.
                let allowed: Vec<usize> = (0..per)
                    .filter(|i| !busy.contains(&pool.servers[t][*i].0))
                    .collect();
                let free: Vec<usize> = allowed
                    .iter()
                    .copied()
                    .filter(|i| !used.iter().any(|s| s[t] == *i))
                    .collect();
                *slot = if !free.is_empty() && _attempt <= 100 {
                    free[rng.random_range(0..free.len())]
                } else if !allowed.is_empty() {
                    allowed[rng.random_range(0..allowed.len())]
                } else {
                    rng.random_range(0..per)
                };
            }
            if !used.contains(&pick) {
                break;
            }
        }
        used.push(pick);
        pick
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
            (name.clone(), "SOA".into()),
            RRSet {
                name: name.clone(),
                rtype: "SOA".into(),
                ttl: 900,
                values: vec![format!(
                    "{} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
                    ns[0]
                )],
            },
        );
        records.insert(
            (name.clone(), "NS".into()),
            RRSet {
                name: name.clone(),
                rtype: "NS".into(),
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

    pub fn delete_zone(&mut self, account: &str, id: &str) -> Result<String, ApiError> {
        let zone = self.zone(account, id)?;
        if zone
            .records
            .values()
            .any(|r| !(r.name == zone.name && (r.rtype == "SOA" || r.rtype == "NS")))
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

    pub fn change_rrsets(
        &mut self,
        principal: &Principal,
        zone_id: &str,
        comment: Option<String>,
        changes: &[ChangeReq],
    ) -> Result<String, ApiError> {
        let account = principal.account.clone();
        let zone = self.zone(&account, zone_id)?;
        if let Permission::NsChangesUnder(d) = principal.permission() {
            let ok = !changes.is_empty()
                && changes
                    .iter()
                    .all(|c| c.rtype == "NS" && strictly_under(&normalize_name(&c.name), &d));
            if !ok {
                return Err(access_denied(
                    principal,
                    "ChangeResourceRecordSets",
                    &format!("arn:aws:route53:::hostedzone/{zone_id}"),
                ));
            }
        }
        if changes.is_empty() {
            return Err(ApiError::bad(
                "InvalidInput",
                "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1",
            ));
        }
        if changes.len() > 1000 {
            return Err(ApiError::bad(
                "InvalidChangeBatch",
                "[Number of records limit of 1000 exceeded.]",
            ));
        }
        let zname = zone.name.clone();
        let mut recs = zone.records.clone();
        let mut errors: Vec<String> = Vec::new();
        for c in changes {
            if let Some(what) = c.unsupported {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("r53world does not support {what}"),
                ));
            }
            let name = normalize_name(&c.name);
            let rtype = c.rtype.to_ascii_uppercase();
            if !KNOWN_TYPES.contains(&rtype.as_str()) && rtype != "TXT" {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid XML ; cvc-enumeration-valid: Value '{rtype}' is not facet-valid"
                    ),
                ));
            }
            let Some(ttl) = c.ttl else {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action={}, Name={}, Type={}, SetIdentifier=null]",
                        c.action, name, rtype
                    ),
                ));
            };
            if !(0..=2_147_483_647).contains(&ttl) {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("1 validation error detected: Value '{ttl}' at 'changeBatch.changes.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value between 0 and 2147483647"),
                ));
            }
            if c.values.is_empty() {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!(
                        "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action={}, Name={}, Type={}, SetIdentifier=null]",
                        c.action, name, rtype
                    ),
                ));
            }
            let ttl = ttl as u32;
            let key = (name.clone(), rtype.clone());
            let desc = format!("[name='{name}', type='{rtype}']");
            if !in_zone(&name, &zname) {
                errors.push(format!(
                    "RRSet with DNS name {name} is not permitted in zone {zname}"
                ));
                continue;
            }
            let mut bad_value = false;
            for v in &c.values {
                if let Err(e) = validate_value(&rtype, v) {
                    errors.push(e);
                    bad_value = true;
                }
            }
            if bad_value {
                continue;
            }
            let apex = name == zname;
            match c.action.as_str() {
                "CREATE" | "UPSERT" => {
                    if c.action == "CREATE" && recs.contains_key(&key) {
                        errors.push(format!(
                            "Tried to create resource record set {desc} but it already exists"
                        ));
                        continue;
                    }
                    if rtype == "CNAME" {
                        if apex {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted at apex in zone {zname}"
                            ));
                            continue;
                        }
                        if c.values.len() > 1 {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted because it contains more than one value"
                            ));
                            continue;
                        }
                        if let Some(((_, t), _)) =
                            recs.iter().find(|((n, t), _)| *n == name && t != "CNAME")
                        {
                            errors.push(format!(
                                "RRSet of type CNAME with DNS name {name} is not permitted as it conflicts with other records with the same DNS name in zone {zname} (type {t})"
                            ));
                            continue;
                        }
                    } else if recs.contains_key(&(name.clone(), "CNAME".to_string())) {
                        errors.push(format!(
                            "RRSet of type {rtype} with DNS name {name} is not permitted as it conflicts with other records with the same DNS name in zone {zname}"
                        ));
                        continue;
                    }
                    if apex && rtype == "SOA" && c.values.len() != 1 {
                        errors.push("SOA must have exactly one value".into());
                        continue;
                    }
                    if rtype == "SOA" && !apex {
                        errors.push(format!(
                            "RRSet of type SOA with DNS name {name} is not permitted because SOA records are only permitted at the zone apex"
                        ));
                        continue;
                    }
                    recs.insert(
                        key,
                        RRSet {
                            name,
                            rtype,
                            ttl,
                            values: c.values.clone(),
                        },
                    );
                }
                "DELETE" => {
                    let Some(cur) = recs.get(&key) else {
                        errors.push(format!(
                            "Tried to delete resource record set {desc} but it was not found"
                        ));
                        continue;
                    };
                    if cur.ttl != ttl
                        || sorted_norm(&rtype, &cur.values) != sorted_norm(&rtype, &c.values)
                    {
                        errors.push(format!(
                            "Tried to delete resource record set {desc} but the values provided do not match the current values"
                        ));
                        continue;
                    }
                    if apex && (rtype == "SOA" || rtype == "NS") {
                        errors.push(format!(
                            "A HostedZone must contain at least one {rtype} record for the zone itself."
                        ));
                        continue;
                    }
                    recs.remove(&key);
                }
                other => {
                    return Err(ApiError::bad(
                        "InvalidInput",
                        format!("Invalid XML ; cvc-enumeration-valid: Value '{other}' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'"),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::bad(
                "InvalidChangeBatch",
                format!("[{}]", errors.join(", ")),
            ));
        }
        let mut zone = self
            .accounts
            .get_mut(&account)
            .and_then(|a| a.zones.remove(zone_id))
            .ok_or_else(|| no_such_zone(zone_id))?;
        zone.records = recs;
        let id = self.new_change(&account, &mut zone, comment);
        if let Some(a) = self.accounts.get_mut(&account) {
            a.zones.insert(zone_id.to_string(), zone);
        }
        Ok(id)
    }
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

fn z_last(zone: &Zone) -> Option<(&String, Instant, &Records)> {
    zone.pending.back().map(|(a, b, c, _)| (a, *b, c))
}

pub fn no_such_zone(id: &str) -> ApiError {
    ApiError::new(
        404,
        "NoSuchHostedZone",
        format!("No hosted zone found with ID: {id}"),
    )
}

pub fn access_denied(p: &Principal, action: &str, resource: &str) -> ApiError {
    ApiError::new(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: route53:{action} on resource: {resource}",
            p.arn()
        ),
    )
}

/// Is `op` a read-only Route 53 operation?
pub fn is_read_op(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List")
}

/// Fresh temporary credentials for an assumed role.
pub fn new_session(role: &RoleSpec, session_name: &str) -> (String, Principal) {
    let key = random_id('A', 19).replacen('A', "ASIA", 1)[..20].to_string();
    let secret = random_id('s', 39);
    let token = format!("r53world-session-{}", random_id('T', 40));
    (
        key,
        Principal {
            account: role.account.clone(),
            secret,
            role: Some(SessionRole {
                role_name: role.name.clone(),
                session_name: session_name.to_string(),
                permission: role.permission.clone(),
                token,
            }),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_zone() -> Zone {
        Zone {
            id: "Z1".into(),
            name: "example.com.".into(),
            caller_ref: "r".into(),
            comment: None,
            private: false,
            vpcs: Vec::new(),
            ns: Vec::new(),
            records: Records::new(),
            published: None,
            pending: VecDeque::new(),
            seq: 0,
        }
    }

    #[test]
    fn insync_is_due_after_the_delay_plus_up_to_the_jitter() {
        let mut st = State::new(Duration::from_secs(60));
        st.insync_jitter = Duration::from_secs(10);
        let before = Instant::now();
        let dues: Vec<Duration> = (0..64)
            .map(|_| {
                let id = st.new_change("111111111111", &mut empty_zone(), None);
                st.changes[&id].due - before
            })
            .collect();
        let after = before.elapsed();
        let (min, max) = (dues.iter().min().unwrap(), dues.iter().max().unwrap());
        assert!(*min >= Duration::from_secs(60), "{min:?}");
        assert!(*max <= Duration::from_secs(70) + after, "{max:?}");
        // Spread out, not one instant: 64 uniform draws over 10 s.
        assert!(*max - *min > Duration::from_secs(5), "{min:?}..{max:?}");

        st.insync_jitter = Duration::ZERO;
        let id = st.new_change("111111111111", &mut empty_zone(), None);
        let d = st.changes[&id].due - Instant::now();
        assert!(d <= Duration::from_secs(60));
    }

    #[test]
    fn reversed_key_orders_like_route53() {
        let mut v = [
            "b.example.com.",
            "example.com.",
            "a.example.net.",
            "z.a.example.com.",
        ];
        v.sort_by_key(|n| reversed_key(n));
        assert_eq!(
            v,
            [
                "example.com.",
                "z.a.example.com.",
                "b.example.com.",
                "a.example.net."
            ]
        );
    }

    #[test]
    fn value_validation() {
        assert!(validate_value("A", "192.0.2.1").is_ok());
        assert!(validate_value("A", "not-an-ip").is_err());
        assert!(validate_value("NS", "ns1.example.com.").is_ok());
        assert!(validate_value("NS", "bad..name").is_err());
        assert!(validate_value("TXT", "\"hello world\"").is_ok());
    }

    #[test]
    fn pool_names_are_route53_style() {
        let p = Pool::new(7, 16);
        assert_eq!(p.servers[0][0].0, "ns-17.awsdns-01.com.");
        assert_eq!(p.servers[3][1].0, "ns-1570.awsdns-02.co.uk.");
        assert_eq!(p.servers[2][15].1, Ipv4Addr::new(127, 7, 22, 16));
    }
}
