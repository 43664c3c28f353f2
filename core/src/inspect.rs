//! A delegation check anyone can run: given a name (and, optionally, the
//! name servers it should be delegated to), find its parent by walking the
//! authoritative chain from the root, then run the same checks and diagnosis
//! as a link's verification. No AWS credentials are involved, so it works for
//! delegations made by anyone, in any DNS. The `route53delegation check`
//! command and the `route53delegation_check` data source are front ends.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::check::Listing;
use crate::diagnose::{Finding, Severity};
use crate::dns::{AddressResolver, DnsClient, DNS_PORT};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::verify::{self, CheckKind, ServerCheck, VerifyOptions, VerifyRequest};
use crate::walk;

/// The IPv4 addresses of the thirteen root servers (a.root-servers.net to
/// m.root-servers.net), the hints a resolver starts from.
pub const ROOT_SERVERS: [Ipv4Addr; 13] = [
    Ipv4Addr::new(198, 41, 0, 4),
    Ipv4Addr::new(170, 247, 170, 2),
    Ipv4Addr::new(192, 33, 4, 12),
    Ipv4Addr::new(199, 7, 91, 13),
    Ipv4Addr::new(192, 203, 230, 10),
    Ipv4Addr::new(192, 5, 5, 241),
    Ipv4Addr::new(192, 112, 36, 4),
    Ipv4Addr::new(198, 97, 190, 53),
    Ipv4Addr::new(192, 36, 148, 17),
    Ipv4Addr::new(192, 58, 128, 30),
    Ipv4Addr::new(193, 0, 14, 129),
    Ipv4Addr::new(199, 7, 83, 42),
    Ipv4Addr::new(202, 12, 27, 33),
];

/// The root servers as socket addresses on port 53.
pub fn default_roots() -> Vec<SocketAddr> {
    ROOT_SERVERS
        .iter()
        .map(|ip| SocketAddr::new((*ip).into(), DNS_PORT))
        .collect()
}

/// What to check.
#[derive(Debug, Clone)]
pub struct InspectRequest {
    /// The delegated name.
    pub name: DomainName,
    /// The name servers the name should be delegated to; `None`: whatever
    /// the parent refers to must work.
    pub expect: Option<NsSet>,
    /// Where the walk starts: the root servers' addresses.
    pub roots: Vec<SocketAddr>,
    /// Per-question timeout and retries.
    pub query: DnsClient,
}

/// The verdict, which is also the command's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// The parent refers the name to exactly the expected servers, and each
    /// of them answers for it authoritatively.
    Healthy,
    /// Something is wrong; the findings say what.
    Broken,
    /// The check could not be made (no server reachable, the chain broken
    /// above the parent).
    Unknown,
}

impl Health {
    /// `healthy`, `broken` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Broken => "broken",
            Health::Unknown => "unknown",
        }
    }

    /// 0 healthy, 1 broken, 2 could not check.
    pub fn exit_code(self) -> u8 {
        match self {
            Health::Healthy => 0,
            Health::Broken => 1,
            Health::Unknown => 2,
        }
    }
}

/// One finding, for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingOut {
    /// Stable snake_case code (`no_parent_record`, `lame_child_server`, ...).
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl From<&Finding> for FindingOut {
    fn from(f: &Finding) -> Self {
        FindingOut {
            code: f.code().to_string(),
            severity: match f.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
            .to_string(),
            message: f.message(),
        }
    }
}

/// One question asked of one server, for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerOut {
    /// `parent` or `child` (`resolver` for a recursive check).
    pub role: String,
    /// What was checked: `parent_referral`, `child_soa`, `child_ns`.
    pub check: String,
    /// The server's host name.
    pub server: Option<String>,
    /// The address asked.
    pub address: Option<String>,
    /// True when the answer was the one wanted.
    pub ok: bool,
    /// What was seen, in words.
    pub detail: String,
    /// Round-trip time in milliseconds, when an answer came.
    pub rtt_ms: Option<u64>,
    /// For a child-side server, where it is named: `both` (the delegation
    /// and the child zone's apex NS set), `child_only` or `delegation_only`;
    /// none for parent servers and resolvers, or when no child server gave
    /// its apex NS set.
    pub listed: Option<Listing>,
}

impl From<&ServerCheck> for ServerOut {
    fn from(c: &ServerCheck) -> Self {
        let (role, check) = match c.kind {
            CheckKind::ParentReferral => ("parent", "parent_referral"),
            CheckKind::ParentZone => ("resolver", "parent_zone"),
            CheckKind::ParentZoneChain => ("parent", "parent_zone_chain"),
            CheckKind::ChildSoa => ("child", "child_soa"),
            CheckKind::ChildNs => ("child", "child_ns"),
            CheckKind::Recursive => ("resolver", "recursive"),
        };
        ServerOut {
            role: role.to_string(),
            check: check.to_string(),
            server: c.server_name.as_ref().map(ToString::to_string),
            address: c.address.map(|a| a.to_string()),
            ok: c.ok,
            // A server that gave no answer says why (timed out, refused
            // connection, no address), never an empty detail.
            detail: match (&c.error, c.detail.is_empty()) {
                (Some(e), true) => format!("no answer: {e}"),
                _ => c.detail.clone(),
            },
            rtt_ms: c.latency.map(|d| d.as_millis() as u64),
            listed: c.listed,
        }
    }
}

/// The result of a check: the stable, documented shape of
/// `route53delegation check --json` (version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The shape's version: 1.
    pub version: u32,
    /// The name checked.
    pub name: String,
    /// The verdict.
    pub status: Health,
    /// The zone holding the delegation, when found.
    pub parent_zone: Option<String>,
    /// Its name servers, as the zone above refers to them.
    pub parent_name_servers: Vec<String>,
    /// What the parent's servers refer the name to (empty: no delegation).
    pub delegated_name_servers: Vec<String>,
    /// The expected name servers, when given.
    pub expected_name_servers: Option<Vec<String>>,
    /// The zones walked through from the root.
    pub chain: Vec<String>,
    /// Every question asked and its result, failing ones first.
    pub servers: Vec<ServerOut>,
    /// What is wrong, errors first.
    pub findings: Vec<FindingOut>,
    /// One line for people.
    pub summary: String,
    /// Why the check could not be made, when `status` is `unknown`.
    pub error: Option<String>,
}

/// Runs the check. Never fails: a check that cannot be made is
/// [`Health::Unknown`] with the reason in [`Inspection::error`].
pub async fn inspect(req: &InspectRequest, resolver: &AddressResolver) -> Inspection {
    let mut out = Inspection {
        version: 1,
        name: req.name.to_string(),
        status: Health::Unknown,
        parent_zone: None,
        parent_name_servers: Vec::new(),
        delegated_name_servers: Vec::new(),
        expected_name_servers: req.expect.as_ref().map(NsSet::to_strings),
        chain: Vec::new(),
        servers: Vec::new(),
        findings: Vec::new(),
        summary: String::new(),
        error: None,
    };
    let found = match walk::find_parent(&req.name, &req.roots, &req.query, resolver).await {
        Ok(f) => f,
        Err(e) => {
            out.summary = format!("{}: could not check: {e}", req.name);
            out.error = Some(e.to_string());
            return out;
        }
    };
    out.parent_zone = Some(found.parent_zone.to_string());
    out.parent_name_servers = found.parent_name_servers.to_strings();
    out.delegated_name_servers = found
        .delegated_to
        .as_ref()
        .map(NsSet::to_strings)
        .unwrap_or_default();
    out.chain = found.chain.clone();

    let Some(wanted) = req.expect.clone().or(found.delegated_to.clone()) else {
        let f = Finding::NoParentRecord {
            name: req.name.clone(),
            parent_zone: found.parent_zone.clone(),
        };
        out.status = Health::Broken;
        out.summary = format!(
            "{}: broken: {} does not delegate it (no NS record)",
            req.name, found.parent_zone
        );
        out.findings.push((&f).into());
        return out;
    };
    let vreq = VerifyRequest {
        name: req.name.clone(),
        parent_zone: found.parent_zone.clone(),
        parent_name_servers: found.parent_name_servers.clone(),
        child_name_servers: wanted,
    };
    let opts = VerifyOptions {
        query: req.query.clone(),
        deadline: Duration::ZERO,
        ..Default::default()
    };
    let report = verify::check_once(&vreq, resolver, &opts).await;
    let mut checks: Vec<&ServerCheck> = report.checks.iter().collect();
    checks.sort_by_key(|c| c.ok);
    out.servers = checks.into_iter().map(ServerOut::from).collect();
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| f.severity());
    out.findings = findings.into_iter().map(FindingOut::from).collect();
    let answered = report.checks.iter().any(|c| c.error.is_none());
    out.status = if report.passed {
        Health::Healthy
    } else if answered {
        Health::Broken
    } else {
        Health::Unknown
    };
    if out.status == Health::Unknown {
        out.error = Some("no name server answered".into());
    }
    out.summary = format!(
        "{}: {}: {}",
        req.name,
        out.status.as_str(),
        report.summary()
    );
    out
}
