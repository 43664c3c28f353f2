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

use serde::Serialize;

use crate::diagnose::{self, Finding};
use crate::dns::{
    fmt_duration, AddressResolver, DnsClient, DnsError, DnsResponse, RecordType, DNS_PORT,
};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::CancellationToken;

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

/// What to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    /// The delegated name, `api.example.com`.
    pub name: DomainName,
    /// The parent zone, `example.com`.
    pub parent_zone: DomainName,
    /// The parent hosted zone's own name servers.
    pub parent_name_servers: NsSet,
    /// The child hosted zone's name servers: the delegation wanted.
    pub child_name_servers: NsSet,
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

/// One question to one server and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerCheck {
    /// What was checked.
    pub kind: CheckKind,
    /// The name server's host name (none for resolvers).
    pub server_name: Option<DomainName>,
    /// The address asked (none when the host name did not resolve).
    pub address: Option<SocketAddr>,
    /// True when the answer is the one wanted.
    pub ok: bool,
    /// The response code.
    pub rcode: Option<String>,
    /// The AA flag.
    pub authoritative: Option<bool>,
    /// The NS set seen (referral, apex NS, or parent domain's NS).
    pub ns_seen: Option<NsSet>,
    /// The TTL of a negative answer (SOA in AUTHORITY, RFC 2308).
    pub negative_ttl: Option<u32>,
    /// Time to the answer.
    #[serde(rename = "latency_ms", serialize_with = "ser_opt_ms")]
    pub latency: Option<Duration>,
    /// Why there was no answer.
    pub error: Option<String>,
    /// What was seen, in words.
    pub detail: String,
}

/// The kinds of checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckKind {
    /// A parent server refers the name to the child's NS set.
    ParentReferral,
    /// A child server answers the zone's SOA authoritatively.
    ChildSoa,
    /// A child server's apex NS set equals the delegation.
    ChildNs,
    /// A recursive resolver resolves the name's SOA.
    Recursive,
    /// The parent domain is delegated to the parent hosted zone's servers.
    ParentZone,
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
            r = check_once(req, resolver, opts) => r,
        };
        report.attempts = attempts;
        report.elapsed = start.elapsed();
        tracing::info!(name = %req.name, attempt = attempts, passed = report.passed, "{}", report.summary());
        if report.passed {
            return Ok(report);
        }
        let now = Instant::now();
        if now >= deadline {
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

/// One verification attempt.
pub async fn check_once(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
) -> VerificationReport {
    let start = Instant::now();
    let client = &opts.query;
    let (parent_hosts, child_hosts) = futures::join!(
        resolve_all(&req.parent_name_servers, resolver),
        resolve_all(&req.child_name_servers, resolver)
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

    let (parent, child, rec, zone) = futures::join!(
        futures::future::join_all(parent_checks),
        futures::future::join_all(child_checks),
        futures::future::join_all(recursive.iter().map(|r| check_recursive(req, client, *r))),
        check_parent_zone(req, client, &zone_resolvers),
    );
    let mut checks: Vec<ServerCheck> = early;
    checks.extend(parent);
    checks.extend(child);
    checks.extend(rec);
    checks.extend(zone);
    checks.sort_by(|a, b| {
        (a.kind, &a.server_name, a.address).cmp(&(b.kind, &b.server_name, b.address))
    });

    let authoritative_ok = diagnose::authoritative_ok(&checks);
    let others_ok = checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::Recursive | CheckKind::ParentZone))
        .all(|c| c.ok);
    let mut findings = diagnose::diagnose(req, &checks);
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
        if let Some(f) = diagnose::probe_dangling(&req.name, &parent_ns, resolver, client).await {
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

    /// One line: verdict, counts and finding codes.
    pub fn summary(&self) -> String {
        let attempts = if self.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", self.attempts)
        };
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        let mut s = if self.passed {
            format!(
                "delegation of {} verified on {} servers ({} checks, {attempts}, {})",
                self.name,
                self.servers_checked(),
                self.checks.len(),
                fmt_duration(self.elapsed)
            )
        } else {
            format!(
                "delegation of {} not verified: {failed} of {} checks failed on {} servers; authoritative servers {} ({attempts}, {})",
                self.name,
                self.checks.len(),
                self.servers_checked(),
                if self.authoritative_ok { "correct" } else { "not correct" },
                fmt_duration(self.elapsed)
            )
        };
        if !self.findings.is_empty() {
            let codes: Vec<&str> = self.findings.iter().map(Finding::code).collect();
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
                    c.rcode.clone().unwrap_or_else(|| "-".into()),
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
) -> Vec<(&'a DomainName, Result<Vec<IpAddr>, DnsError>)> {
    futures::future::join_all(
        hosts
            .iter()
            .map(|h| async move { (h, resolver.lookup(h).await) }),
    )
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
        latency: None,
        error: None,
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
    c.rcode = Some(resp.rcode.clone());
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
    c
}

async fn check_parent(
    req: &VerifyRequest,
    client: &DnsClient,
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
    client: &DnsClient,
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
    client: &DnsClient,
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
        (false, Some(ttl)) if resp.rcode == "NXDOMAIN" => {
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
    client: &DnsClient,
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
        c.ns_seen = Some(seen);
        return Some(c);
    }
    last
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn ser_opt_ms<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_ms(d, s),
        None => s.serialize_none(),
    }
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
        c.rcode = Some("NOERROR".into());
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
            "delegation of api.example.com not verified: 2 of 2 checks failed on 2 servers; authoritative servers not correct (3 attempts, 1.5s); findings: no_parent_record"
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
