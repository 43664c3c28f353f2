//! Verification of a delegation over DNS, straight from the authoritative
//! servers.
//!
//! [`check_once`] asks every address of every parent name server, without
//! recursion, for a referral to the child's NS set; asks every child server
//! for the zone's SOA and NS authoritatively; optionally asks recursive
//! resolvers to resolve the name; and asks the resolvers whom the parent domain
//! itself is delegated to. [`verify`] repeats that with backoff until the
//! delegation is verified, the deadline passes or it is cancelled.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::time::Instant as TokioInstant;

use serde::Serialize;

use crate::check::ser_ms;
pub use crate::check::{CheckKind, ServerCheck, ServerResult, ServerRole, VerifyRequest};
use crate::diagnose::{self, Finding};
use crate::dns::{
    fmt_duration, AddressResolver, DnsClient, DnsError, DnsResponse, Rcode, RecordType, DNS_PORT,
};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::CancellationToken;

/// Per-question timeout of the refresh check ([`refresh_check`]).
pub const REFRESH_QUERY_TIMEOUT: Duration = Duration::from_millis(1500);
/// Questions the refresh check repeats after a timeout: a server counts as
/// silent only after two missed questions in a row.
pub const REFRESH_RETRIES: u32 = 1;
/// Upper bound on one refresh check, however many servers it asks.
pub const REFRESH_BUDGET: Duration = Duration::from_secs(8);

/// Longest wait between two attempts.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Timeouts and retries of each DNS question.
    pub query: DnsClient,
    /// How long [`verify`] keeps trying.
    pub deadline: Duration,
    /// The first wait between attempts; doubled after each attempt up to
    /// [`MAX_POLL_INTERVAL`].
    pub poll_interval: Duration,
    /// Recursive resolvers that must also resolve the name, if any.
    pub recursive: Option<Vec<SocketAddr>>,
    /// Whether failures seen through the recursive resolvers (including the
    /// parent domain's own delegation) keep the report from passing.
    pub require_recursive: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            query: DnsClient::default(),
            deadline: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
            recursive: None,
            require_recursive: false,
        }
    }
}

/// The outcome of one verification attempt (the last one, from [`verify`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationReport {
    /// The delegated name.
    pub name: DomainName,
    /// The parent zone.
    pub parent_zone: DomainName,
    /// True when the delegation is verified.
    pub passed: bool,
    /// True when every authoritative check (parent referral, child SOA and NS)
    /// passed, whatever the recursive resolvers say.
    pub authoritative_ok: bool,
    /// Attempts made.
    pub attempts: u32,
    /// Time since verification started.
    #[serde(rename = "elapsed_ms", serialize_with = "ser_ms")]
    pub elapsed: Duration,
    /// Every question asked in the last attempt.
    pub checks: Vec<ServerCheck>,
    /// What is wrong, in words.
    pub findings: Vec<Finding>,
}

/// Why verification stopped without a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Cancelled; carries the last complete report, if any.
    #[error("verification cancelled{}", last_report.as_ref().map(|r| format!(" ({})", r.summary())).unwrap_or_default())]
    Cancelled {
        /// The last complete attempt.
        last_report: Option<Box<VerificationReport>>,
    },
    /// Verification could not start (bad request, no resolvers).
    #[error("verification could not start: {0}")]
    Setup(String),
}

/// Verifies until the delegation passes, the deadline passes (then the last,
/// failing report is returned) or `cancel` fires.
pub async fn verify(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
    cancel: &CancellationToken,
) -> Result<VerificationReport, VerifyError> {
    validate(req)?;
    let start = Instant::now();
    let deadline = start + opts.deadline;
    // The deadline is a deadline: no question outlives it by more than one
    // per-query timeout, however many retries the client would make.
    let hard_stop = TokioInstant::from_std(deadline + opts.query.timeout);
    let mut interval = opts.poll_interval.max(Duration::from_millis(10));
    let mut last: Option<VerificationReport> = None;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let mut report = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(VerifyError::Cancelled { last_report: last.map(Box::new) });
            }
            r = check_until(req, resolver, opts, Some(hard_stop)) => r,
        };
        report.attempts = attempts;
        report.elapsed = start.elapsed();
        tracing::info!(name = %req.name, attempt = attempts, passed = report.passed, "{}", report.summary());
        if report.passed {
            return Ok(report);
        }
        let now = Instant::now();
        if now >= deadline {
            // An attempt cut short by the deadline says less than the last
            // complete one.
            if TokioInstant::now() >= hard_stop {
                if let Some(mut prev) = last {
                    prev.attempts = attempts;
                    prev.elapsed = report.elapsed;
                    return Ok(prev);
                }
            }
            return Ok(report);
        }
        last = Some(report);
        let wait = interval.min(deadline - now);
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(VerifyError::Cancelled { last_report: last.map(Box::new) });
            }
            () = tokio::time::sleep(wait) => {}
        }
        interval = (interval * 2).min(MAX_POLL_INTERVAL.max(opts.poll_interval));
    }
}

/// The quick check run when a front end refreshes its state: one attempt,
/// every server asked at once, each question with `query`'s timeout and
/// retries, the whole check ended after `budget` (questions still open then
/// count as unanswered). No recursive resolver is asked: a cache is not the
/// delegation.
///
/// Anti-flap rule: with [`REFRESH_RETRIES`], a server counts as silent only
/// when it missed two questions in a row; an answer that is wrong (REFUSED,
/// not authoritative, another NS set) counts at once, as it is no accident
/// of the network. When no parent or child server answered at all the
/// report is [`inconclusive`](VerificationReport::inconclusive).
pub async fn refresh_check(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    query: DnsClient,
    budget: Duration,
) -> Result<VerificationReport, VerifyError> {
    validate(req)?;
    let opts = VerifyOptions {
        query,
        deadline: budget,
        poll_interval: budget,
        recursive: None,
        require_recursive: false,
    };
    let start = Instant::now();
    let mut report = check_until(req, resolver, &opts, Some(TokioInstant::now() + budget)).await;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// One verification attempt.
pub async fn check_once(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
) -> VerificationReport {
    check_until(req, resolver, opts, None).await
}

/// Questions asked with a per-query client and, optionally, a hard deadline
/// after which every unanswered question gives up.
struct Ask<'a> {
    client: &'a DnsClient,
    until: Option<TokioInstant>,
}

impl Ask<'_> {
    async fn query(
        &self,
        server: SocketAddr,
        name: &DomainName,
        rtype: RecordType,
        recursion: bool,
    ) -> Result<DnsResponse, DnsError> {
        let q = self.client.query(server, name, rtype, recursion);
        match self.until {
            None => q.await,
            Some(until) => tokio::time::timeout_at(until, q).await.unwrap_or_else(|_| {
                Err(DnsError::Deadline {
                    server,
                    name: name.to_string(),
                    rtype: rtype.to_string(),
                })
            }),
        }
    }

    async fn bounded<T>(&self, f: impl std::future::Future<Output = T>) -> Option<T> {
        match self.until {
            None => Some(f.await),
            Some(until) => tokio::time::timeout_at(until, f).await.ok(),
        }
    }
}

/// One attempt in which no question outlives `until`.
async fn check_until(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
    until: Option<TokioInstant>,
) -> VerificationReport {
    let start = Instant::now();
    let client = &Ask {
        client: &opts.query,
        until,
    };
    let (parent_hosts, child_hosts) = futures::join!(
        resolve_all(&req.parent_name_servers, resolver, client),
        resolve_all(&req.child_name_servers, resolver, client)
    );

    let mut parent_checks = Vec::new();
    let mut child_checks = Vec::new();
    let mut early = Vec::new();
    for (host, r) in &parent_hosts {
        match r {
            Ok(addrs) => {
                parent_checks.extend(addrs.iter().map(|ip| check_parent(req, client, host, *ip)))
            }
            Err(e) => early.push(unresolved(CheckKind::ParentReferral, host, e)),
        }
    }
    for (host, r) in &child_hosts {
        match r {
            Ok(addrs) => {
                for ip in addrs {
                    child_checks.push(check_child(req, client, host, *ip, RecordType::SOA));
                    child_checks.push(check_child(req, client, host, *ip, RecordType::NS));
                }
            }
            Err(e) => {
                early.push(unresolved(CheckKind::ChildSoa, host, e));
                early.push(unresolved(CheckKind::ChildNs, host, e));
            }
        }
    }
    let recursive: Vec<SocketAddr> = opts.recursive.clone().unwrap_or_default();
    let zone_resolvers: Vec<SocketAddr> = opts
        .recursive
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| resolver.resolvers().to_vec());

    let (parent, child, rec, zone, chain) = futures::join!(
        futures::future::join_all(parent_checks),
        futures::future::join_all(child_checks),
        futures::future::join_all(recursive.iter().map(|r| check_recursive(req, client, *r))),
        check_parent_zone(req, client, &zone_resolvers),
        check_parent_zone_chain(req, client, &zone_resolvers),
    );
    let mut checks: Vec<ServerCheck> = early;
    checks.extend(parent);
    checks.extend(child);
    checks.extend(rec);
    checks.extend(zone);
    checks.extend(chain);
    checks.sort_by(|a, b| {
        (a.kind, &a.server_name, a.address).cmp(&(b.kind, &b.server_name, b.address))
    });

    let authoritative_ok = diagnose::authoritative_ok(&checks);
    let mut findings = diagnose::diagnose(req, &checks);
    // A resolver that still holds a negative answer cached from before the
    // delegation is information, not failure: the authoritative servers
    // decide, and the finding (a warning with its remaining seconds) says
    // how long that resolver will lag.
    // So is a resolver still holding the parent domain's old delegation
    // while the authoritative chain already has the new one.
    let cached: Vec<(CheckKind, SocketAddr)> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::CachedNegative { resolver, .. } => Some((CheckKind::Recursive, *resolver)),
            Finding::StaleParentDelegation { resolver, .. } => {
                Some((CheckKind::ParentZone, *resolver))
            }
            _ => None,
        })
        .collect();
    let others_ok = checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::Recursive | CheckKind::ParentZone))
        .all(|c| c.ok || c.address.is_some_and(|a| cached.contains(&(c.kind, a))));
    // The parent domain delegated elsewhere at its TLD is never "verified":
    // the record sits in a zone no resolver asks, whatever the servers say.
    let misdelegated = findings
        .iter()
        .any(|f| matches!(f, Finding::ParentZoneNotDelegated { .. }));
    let passed = authoritative_ok && !misdelegated && (!opts.require_recursive || others_ok);
    let elsewhere = findings.iter().find_map(|f| match f {
        Finding::ParentPointsElsewhere { parent_ns, .. } => Some(parent_ns.clone()),
        _ => None,
    });
    if let Some(parent_ns) = elsewhere {
        let probe = probe_dangling(&req.name, &parent_ns, resolver, &opts.query);
        if let Some(Some(f)) = client.bounded(probe).await {
            findings.push(f);
        }
    }
    VerificationReport {
        name: req.name.clone(),
        parent_zone: req.parent_zone.clone(),
        passed,
        authoritative_ok,
        attempts: 1,
        elapsed: start.elapsed(),
        checks,
        findings,
    }
}

impl VerificationReport {
    /// Number of distinct server addresses asked.
    pub fn servers_checked(&self) -> usize {
        let mut addrs: Vec<SocketAddr> = self.checks.iter().filter_map(|c| c.address).collect();
        addrs.sort();
        addrs.dedup();
        addrs.len()
    }

    /// One entry per server asked, failing servers first.
    pub fn servers(&self) -> Vec<ServerResult> {
        diagnose::server_results(&self.checks)
    }

    /// True when no parent or child name server answered at all (every
    /// question timed out or failed to be sent): the check says nothing
    /// about the delegation, only about the network it ran from.
    pub fn inconclusive(&self) -> bool {
        let mut authoritative = self
            .checks
            .iter()
            .filter(|c| {
                matches!(
                    c.kind,
                    CheckKind::ParentReferral | CheckKind::ChildSoa | CheckKind::ChildNs
                )
            })
            .peekable();
        authoritative.peek().is_some() && authoritative.all(|c| c.error.is_some())
    }

    /// One line: verdict, the failing servers first (with what they did),
    /// counts and finding codes.
    pub fn summary(&self) -> String {
        let attempts = if self.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", self.attempts)
        };
        let mut s = if self.passed {
            format!(
                "delegation of {} verified on {} servers ({} checks, {attempts}, {})",
                self.name,
                self.servers_checked(),
                self.checks.len(),
                fmt_duration(self.elapsed)
            )
        } else {
            let servers = self.servers();
            let failing: Vec<String> = crate::check::failing_by_result(&servers)
                .into_iter()
                .map(|(labels, result)| format!("{} {result}", labels.join(", ")))
                .collect();
            let ok = servers.iter().filter(|r| r.ok).count();
            let mut head = format!("delegation of {} not verified: ", self.name);
            if !failing.is_empty() {
                const SHOWN: usize = 4;
                head.push_str(
                    &failing
                        .iter()
                        .take(SHOWN)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                if failing.len() > SHOWN {
                    let _ = write!(head, "; and {} more", failing.len() - SHOWN);
                }
                head.push_str("; ");
            }
            let _ = write!(
                head,
                "{ok} of {} servers correct; authoritative servers {} ({attempts}, {})",
                servers.len(),
                if self.authoritative_ok {
                    "correct"
                } else {
                    "not correct"
                },
                fmt_duration(self.elapsed)
            );
            head
        };
        if !self.findings.is_empty() {
            let mut codes: Vec<&str> = self.findings.iter().map(Finding::code).collect();
            codes.dedup();
            let _ = write!(s, "; findings: {}", codes.join(", "));
        }
        s
    }

    /// A multi-line table of checks and findings, for logs and the CLI.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.summary());
        let header = [
            "CHECK", "SERVER", "ADDRESS", "RESULT", "RCODE", "AA", "TIME", "DETAIL",
        ];
        let rows: Vec<[String; 8]> = self
            .checks
            .iter()
            .map(|c| {
                [
                    kind_text(c.kind).to_string(),
                    c.server_name
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "-".into()),
                    c.address
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "-".into()),
                    if c.ok { "ok" } else { "FAIL" }.to_string(),
                    c.rcode.map_or_else(|| "-".into(), |r| r.to_string()),
                    match c.authoritative {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "-".into(),
                    },
                    c.latency.map(fmt_duration).unwrap_or_else(|| "-".into()),
                    c.error.clone().unwrap_or_else(|| c.detail.clone()),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: &[&str]| {
            let mut l = String::from(" ");
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    let _ = write!(l, " {cell}");
                } else {
                    let _ = write!(l, " {cell:<w$}", w = widths[i]);
                }
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header));
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            let _ = writeln!(out, "{}", line(&cells));
        }
        if !self.findings.is_empty() {
            let _ = writeln!(out, "findings:");
            for f in &self.findings {
                let _ = writeln!(out, "  {} {}: {}", f.severity(), f.code(), f.message());
            }
        }
        out
    }
}

fn kind_text(k: CheckKind) -> &'static str {
    match k {
        CheckKind::ParentReferral => "parent-referral",
        CheckKind::ChildSoa => "child-soa",
        CheckKind::ChildNs => "child-ns",
        CheckKind::Recursive => "recursive",
        CheckKind::ParentZone => "parent-zone",
        CheckKind::ParentZoneChain => "parent-zone-chain",
    }
}

fn validate(req: &VerifyRequest) -> Result<(), VerifyError> {
    if !req.name.is_strict_subdomain_of(&req.parent_zone) {
        return Err(VerifyError::Setup(format!(
            "{} is not a subdomain of the parent zone {}",
            req.name, req.parent_zone
        )));
    }
    if req.parent_name_servers.is_empty() {
        return Err(VerifyError::Setup(format!(
            "the parent zone {} has no name servers",
            req.parent_zone
        )));
    }
    if req.child_name_servers.is_empty() {
        return Err(VerifyError::Setup(format!(
            "the child zone {} has no name servers",
            req.name
        )));
    }
    Ok(())
}

async fn resolve_all<'a>(
    hosts: &'a NsSet,
    resolver: &AddressResolver,
    ask: &Ask<'_>,
) -> Vec<(&'a DomainName, Result<Vec<IpAddr>, DnsError>)> {
    futures::future::join_all(hosts.iter().map(|h| async move {
        let r = ask.bounded(resolver.lookup(h)).await.unwrap_or_else(|| {
            Err(DnsError::NoAddress {
                host: h.clone(),
                reason: "no answer from the resolvers before the deadline".into(),
            })
        });
        (h, r)
    }))
    .await
}

fn blank(
    kind: CheckKind,
    server_name: Option<&DomainName>,
    address: Option<SocketAddr>,
) -> ServerCheck {
    ServerCheck {
        kind,
        server_name: server_name.cloned(),
        address,
        ok: false,
        rcode: None,
        authoritative: None,
        ns_seen: None,
        negative_ttl: None,
        ns_ttl: None,
        latency: None,
        error: None,
        timed_out: false,
        detail: String::new(),
    }
}

fn unresolved(kind: CheckKind, host: &DomainName, e: &DnsError) -> ServerCheck {
    let mut c = blank(kind, Some(host), None);
    c.error = Some(e.to_string());
    c
}

fn answered(kind: CheckKind, host: Option<&DomainName>, resp: &DnsResponse) -> ServerCheck {
    let mut c = blank(kind, host, Some(resp.server));
    c.rcode = Some(resp.rcode);
    c.authoritative = Some(resp.authoritative);
    c.latency = Some(resp.latency);
    c.negative_ttl = if resp.answers.is_empty() {
        resp.negative_ttl()
    } else {
        None
    };
    c
}

fn failed(
    kind: CheckKind,
    host: Option<&DomainName>,
    addr: SocketAddr,
    e: &DnsError,
) -> ServerCheck {
    let mut c = blank(kind, host, Some(addr));
    c.error = Some(e.to_string());
    c.timed_out = matches!(e, DnsError::Timeout { .. } | DnsError::Deadline { .. });
    c
}

async fn check_parent(
    req: &VerifyRequest,
    client: &Ask<'_>,
    host: &DomainName,
    ip: IpAddr,
) -> ServerCheck {
    let addr = SocketAddr::new(ip, DNS_PORT);
    let kind = CheckKind::ParentReferral;
    let resp = match client.query(addr, &req.name, RecordType::NS, false).await {
        Ok(r) => r,
        Err(e) => return failed(kind, Some(host), addr, &e),
    };
    let mut c = answered(kind, Some(host), &resp);
    let referral = resp.authority_ns(&req.name);
    let in_answer = resp.answer_ns(&req.name);
    let want = &req.child_name_servers;
    if !resp.is_noerror() {
        c.detail = format!("answered {} instead of a referral", resp.rcode);
    } else if !referral.is_empty() && !resp.authoritative {
        c.ok = referral == *want;
        c.detail = if c.ok {
            format!("refers to {referral}")
        } else {
            format!("refers to {referral}, want {want}")
        };
        c.ns_seen = Some(referral);
    } else if resp.authoritative && !in_answer.is_empty() {
        c.detail = format!(
            "answers NS {in_answer} itself (authoritatively) instead of referring to {want}"
        );
        c.ns_seen = Some(in_answer);
    } else if !referral.is_empty() {
        c.detail = format!("refers to {referral} with the authoritative flag set");
        c.ns_seen = Some(referral);
    } else {
        c.detail = format!("no NS record for {} (NODATA), no referral", req.name);
    }
    c
}

async fn check_child(
    req: &VerifyRequest,
    client: &Ask<'_>,
    host: &DomainName,
    ip: IpAddr,
    rtype: RecordType,
) -> ServerCheck {
    let addr = SocketAddr::new(ip, DNS_PORT);
    let kind = if rtype == RecordType::SOA {
        CheckKind::ChildSoa
    } else {
        CheckKind::ChildNs
    };
    let resp = match client.query(addr, &req.name, rtype, false).await {
        Ok(r) => r,
        Err(e) => return failed(kind, Some(host), addr, &e),
    };
    let mut c = answered(kind, Some(host), &resp);
    if !resp.is_noerror() || !resp.authoritative {
        c.detail = format!(
            "answered {}{}: does not serve {}",
            resp.rcode,
            if resp.authoritative {
                ""
            } else {
                " without AA"
            },
            req.name
        );
        return c;
    }
    if rtype == RecordType::SOA {
        c.ok = resp.has_answer_soa(&req.name);
        c.detail = if c.ok {
            "SOA answered authoritatively".into()
        } else {
            format!("no SOA for {} in the answer: not the zone apex", req.name)
        };
    } else {
        let apex = resp.answer_ns(&req.name);
        let want = &req.child_name_servers;
        c.ok = apex == *want;
        c.detail = if c.ok {
            format!("apex NS {apex}")
        } else {
            format!("apex NS {apex}, delegation {want}")
        };
        c.ns_seen = Some(apex);
    }
    c
}

async fn check_recursive(
    req: &VerifyRequest,
    client: &Ask<'_>,
    resolver: SocketAddr,
) -> ServerCheck {
    let kind = CheckKind::Recursive;
    let resp = match client
        .query(resolver, &req.name, RecordType::SOA, true)
        .await
    {
        Ok(r) => r,
        Err(e) => return failed(kind, None, resolver, &e),
    };
    let mut c = answered(kind, None, &resp);
    c.ok = resp.is_noerror() && resp.has_answer_soa(&req.name);
    c.detail = match (c.ok, c.negative_ttl) {
        (true, _) => "resolves the SOA".into(),
        (false, Some(ttl)) if resp.rcode == Rcode::NXDOMAIN => {
            format!("NXDOMAIN (negative TTL {ttl}s)")
        }
        (false, Some(ttl)) if resp.is_noerror() => {
            format!("NODATA, no SOA (negative TTL {ttl}s)")
        }
        (false, _) if resp.is_noerror() => "no SOA in the answer".into(),
        (false, _) => format!("answered {}", resp.rcode),
    };
    c
}

async fn check_parent_zone(
    req: &VerifyRequest,
    client: &Ask<'_>,
    resolvers: &[SocketAddr],
) -> Option<ServerCheck> {
    let kind = CheckKind::ParentZone;
    let mut last = None;
    for r in resolvers {
        let resp = match client
            .query(*r, &req.parent_zone, RecordType::NS, true)
            .await
        {
            Ok(resp) => resp,
            Err(e) => {
                last = Some(failed(kind, Some(&req.parent_zone), *r, &e));
                continue;
            }
        };
        let mut c = answered(kind, Some(&req.parent_zone), &resp);
        let seen = resp.answer_ns(&req.parent_zone);
        if !resp.is_noerror() || seen.is_empty() {
            c.detail = format!(
                "{} NS: answered {} without NS records",
                req.parent_zone, resp.rcode
            );
            last = Some(c);
            continue;
        }
        c.ok = seen == req.parent_name_servers;
        c.detail = if c.ok {
            format!(
                "{} is delegated to the parent hosted zone's servers",
                req.parent_zone
            )
        } else {
            format!(
                "{} is delegated to {seen}, the parent hosted zone has {}",
                req.parent_zone, req.parent_name_servers
            )
        };
        c.ns_ttl = resp
            .answers
            .iter()
            .filter(|r| r.rtype == "NS" && r.owner_is(&req.parent_zone))
            .map(|r| r.ttl)
            .min();
        c.ns_seen = Some(seen);
        return Some(c);
    }
    last
}

/// Whom the parent domain is delegated to according to the authoritative
/// chain: the zone above it is found through the resolvers (its servers
/// rarely change), then one of its servers is asked directly, without
/// recursion, for the parent domain's NS set. A resolver's cache of the
/// parent domain's own delegation (up to two days at a TLD) does not count.
/// `None` when no server of the zone above answered.
async fn check_parent_zone_chain(
    req: &VerifyRequest,
    client: &Ask<'_>,
    resolvers: &[SocketAddr],
) -> Option<ServerCheck> {
    let kind = CheckKind::ParentZoneChain;
    // The zone above: the nearest ancestor with an NS set.
    let mut candidate = req.parent_zone.parent();
    let mut above = None;
    'find: while let Some(zone) = candidate {
        for r in resolvers {
            if let Ok(resp) = client.query(*r, &zone, RecordType::NS, true).await {
                let ns = resp.answer_ns(&zone);
                if !ns.is_empty() {
                    above = Some(ns);
                    break 'find;
                }
                break;
            }
        }
        candidate = zone.parent();
    }
    let above = above?;
    let lookup = AddressResolver::with_client(resolvers.to_vec(), client.client.clone());
    for host in above.iter() {
        let Some(Ok(addrs)) = client.bounded(lookup.lookup(host)).await else {
            continue;
        };
        for ip in addrs {
            let addr = SocketAddr::new(ip, DNS_PORT);
            let Ok(resp) = client
                .query(addr, &req.parent_zone, RecordType::NS, false)
                .await
            else {
                continue;
            };
            if !resp.is_noerror() {
                continue;
            }
            let mut seen = resp.authority_ns(&req.parent_zone);
            if seen.is_empty() {
                seen = resp.answer_ns(&req.parent_zone);
            }
            if seen.is_empty() {
                continue;
            }
            let mut c = answered(kind, Some(host), &resp);
            c.ok = seen == req.parent_name_servers;
            c.detail = format!("{host} delegates {} to {seen}", req.parent_zone);
            c.ns_seen = Some(seen);
            return Some(c);
        }
    }
    None
}

/// How long a resolver may cache a negative answer from `zone` (RFC 2308:
/// the lesser of the SOA record's TTL and its minimum field), asked of the
/// zone's own servers without recursion. `None` when none answered.
pub async fn negative_caching_ttl(
    zone: &DomainName,
    servers: &NsSet,
    resolver: &AddressResolver,
    client: &DnsClient,
) -> Option<u32> {
    for host in servers.iter() {
        let Ok(addrs) = resolver.lookup(host).await else {
            continue;
        };
        for ip in addrs {
            let Ok(resp) = client
                .query(SocketAddr::new(ip, DNS_PORT), zone, RecordType::SOA, false)
                .await
            else {
                continue;
            };
            let soa = resp.answers.iter().find_map(|r| match r.data {
                crate::dns::RecordData::Soa { minimum, .. } if r.owner_is(zone) => {
                    Some(r.ttl.min(minimum))
                }
                _ => None,
            });
            if soa.is_some() {
                return soa;
            }
        }
    }
    None
}

/// Asks each server of an existing parent NS record for `name SOA`. When none
/// answers authoritatively (they refuse, answer without AA, or their host
/// names do not resolve), the record is a dangling delegation. Returns `None`
/// when some server serves the name, or when no server answered at all (the
/// state cannot be told).
pub async fn probe_dangling(
    name: &DomainName,
    parent_ns_values: &NsSet,
    resolver: &AddressResolver,
    client: &DnsClient,
) -> Option<Finding> {
    if parent_ns_values.is_empty() {
        return None;
    }
    let lookups = futures::future::join_all(
        parent_ns_values
            .iter()
            .map(|host| async move { (host, resolver.lookup(host).await) }),
    )
    .await;
    let mut addrs: Vec<IpAddr> = Vec::new();
    let mut evidence = false;
    for (host, r) in lookups {
        match r {
            Ok(a) => addrs.extend(a),
            Err(DnsError::NoAddress { .. }) => {
                tracing::debug!(%host, "name server host does not resolve");
                evidence = true;
            }
            Err(e) => tracing::debug!(%host, error = %e, "cannot look up name server"),
        }
    }
    addrs.sort();
    addrs.dedup();
    let answers = futures::future::join_all(
        addrs
            .iter()
            .map(|ip| client.query(SocketAddr::new(*ip, DNS_PORT), name, RecordType::SOA, false)),
    )
    .await;
    for r in answers {
        match r {
            Ok(resp)
                if resp.authoritative && (resp.is_noerror() || resp.rcode == Rcode::NXDOMAIN) =>
            {
                return None;
            }
            Ok(resp) => {
                tracing::debug!(server = %resp.server, rcode = %resp.rcode, aa = resp.authoritative, "server does not serve the name");
                evidence = true;
            }
            Err(e) => {
                tracing::debug!(error = %e, "no answer while probing for a dangling delegation")
            }
        }
    }
    evidence.then(|| Finding::DanglingDelegation {
        name: name.clone(),
        parent_ns: parent_ns_values.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    fn report(passed: bool) -> VerificationReport {
        let mut c = blank(
            CheckKind::ParentReferral,
            Some(&n("ns1.parent.net")),
            Some(SocketAddr::from(([127, 0, 20, 1], 53))),
        );
        c.ok = passed;
        c.rcode = Some(Rcode::NOERROR);
        c.authoritative = Some(false);
        c.latency = Some(Duration::from_millis(3));
        c.detail = "refers to [ns-1.awsdns-01.com]".into();
        let mut e = blank(
            CheckKind::Recursive,
            None,
            Some(SocketAddr::from(([127, 0, 10, 53], 53))),
        );
        e.error = Some("timed out after 2s".into());
        VerificationReport {
            name: n("api.example.com"),
            parent_zone: n("example.com"),
            passed,
            authoritative_ok: passed,
            attempts: 3,
            elapsed: Duration::from_millis(1500),
            checks: vec![c, e],
            findings: if passed {
                vec![]
            } else {
                vec![Finding::NoParentRecord {
                    name: n("api.example.com"),
                    parent_zone: n("example.com"),
                }]
            },
        }
    }

    #[test]
    fn summary_is_one_line_with_counts_and_codes() {
        let r = report(false);
        assert_eq!(
            r.summary(),
            "delegation of api.example.com not verified: ns1.parent.net (127.0.20.1) no referral (NODATA); 127.0.10.53 no answer: timed out after 2s; 0 of 2 servers correct; authoritative servers not correct (3 attempts, 1.5s); findings: no_parent_record",
            "the failing servers come first, each with what it did"
        );
        assert_eq!(r.servers_checked(), 2);
        assert!(report(true)
            .summary()
            .starts_with("delegation of api.example.com verified on 2 servers"));
    }

    #[test]
    fn render_is_an_aligned_table_with_findings() {
        let text = report(false).render();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("  CHECK"), "{text}");
        assert!(
            lines[2].contains("parent-referral")
                && lines[2].contains("ns1.parent.net")
                && lines[2].contains("FAIL")
        );
        assert!(lines[3].contains("recursive") && lines[3].contains("timed out after 2s"));
        // Columns line up: ADDRESS starts at the same offset in every row.
        let col = lines[1].find("ADDRESS").unwrap();
        assert_eq!(&lines[2][col..col + 13], "127.0.20.1:53");
        assert_eq!(lines[4], "findings:");
        assert!(lines[5].starts_with("  error no_parent_record: the parent zone example.com"));
    }

    #[test]
    fn report_serializes_durations_as_milliseconds() {
        let json = serde_json::to_value(report(false)).unwrap();
        assert_eq!(json["elapsed_ms"], 1500);
        assert_eq!(json["checks"][0]["latency_ms"], 3);
        assert_eq!(json["checks"][1]["latency_ms"], serde_json::Value::Null);
        assert_eq!(json["findings"][0]["code"], "no_parent_record");
    }

    #[test]
    fn bad_requests_are_refused_before_any_query() {
        let req = VerifyRequest {
            name: n("api.example.org"),
            parent_zone: n("example.com"),
            parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
            child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
        };
        let err = validate(&req).unwrap_err();
        assert_eq!(err.to_string(), "verification could not start: api.example.org is not a subdomain of the parent zone example.com");
        let req = VerifyRequest {
            name: n("api.example.com"),
            child_name_servers: NsSet::new(),
            ..req
        };
        assert!(validate(&req)
            .unwrap_err()
            .to_string()
            .contains("no name servers"));
    }

    #[tokio::test]
    async fn verify_refuses_a_bad_request_and_honours_prior_cancellation() {
        let resolver = AddressResolver::new(Vec::new());
        let req = VerifyRequest {
            name: n("api.example.com"),
            parent_zone: n("example.com"),
            parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
            child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
        };
        let cancel = CancellationToken::new();
        cancel.cancel();
        let r = verify(&req, &resolver, &VerifyOptions::default(), &cancel).await;
        assert!(
            matches!(r, Err(VerifyError::Cancelled { last_report: None })),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn unresolvable_servers_fail_every_check() {
        // No resolvers at all: every host fails to resolve, nothing passes.
        let resolver = AddressResolver::new(Vec::new());
        let req = VerifyRequest {
            name: n("api.example.com"),
            parent_zone: n("example.com"),
            parent_name_servers: NsSet::parse(["ns1.parent.net"]).unwrap(),
            child_name_servers: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
        };
        let r = check_once(&req, &resolver, &VerifyOptions::default()).await;
        assert!(!r.passed && !r.authoritative_ok);
        assert_eq!(r.checks.len(), 3);
        assert!(r.checks.iter().all(|c| c.error.is_some() && !c.ok));
        assert!(r.findings.iter().all(|f| f.code() == "unreachable"));
    }
}
