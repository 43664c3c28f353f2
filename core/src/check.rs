//! What verification observed: the request, and each question asked of one
//! server with what came of it. Plain data, shared by [`crate::verify`] (the
//! checks, which do the I/O) and [`crate::diagnose`] (a pure function from
//! these observations to findings), so neither depends on the other's
//! internals.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;

use crate::dns::Rcode;
use crate::name::DomainName;
use crate::nsset::NsSet;

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
    pub rcode: Option<Rcode>,
    /// The AA flag.
    pub authoritative: Option<bool>,
    /// The NS set seen (referral, apex NS, or parent domain's NS).
    pub ns_seen: Option<NsSet>,
    /// The TTL of a negative answer (SOA in AUTHORITY, RFC 2308).
    pub negative_ttl: Option<u32>,
    /// The TTL of the NS set seen: for a resolver, how long it keeps it.
    pub ns_ttl: Option<u32>,
    /// Time to the answer.
    #[serde(rename = "latency_ms", serialize_with = "ser_opt_ms")]
    pub latency: Option<Duration>,
    /// Why there was no answer.
    pub error: Option<String>,
    /// True when the error is that no reply came in time (after the retries).
    pub timed_out: bool,
    /// What was seen, in words.
    pub detail: String,
    /// For a child-side server: which NS sets name it (the delegation, the
    /// child zone's apex NS set, or both); none for parent servers and
    /// resolvers, and when no child server gave its apex NS set.
    pub listed: Option<Listing>,
}

/// Which NS sets name a child-side server: the delegation (the parent's
/// referral, or the NS set wanted) and the child zone's apex NS set.
/// Verification asks every server either names, as Zonemaster does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Listing {
    /// Named by the delegation and by the child zone's apex NS set.
    Both,
    /// Named by the child zone's apex NS set only.
    ChildOnly,
    /// Named by the delegation only.
    DelegationOnly,
}

impl Listing {
    /// `both`, `child_only` or `delegation_only`, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Listing::Both => "both",
            Listing::ChildOnly => "child_only",
            Listing::DelegationOnly => "delegation_only",
        }
    }

    /// Where the server is named, in words: `listed only in the child
    /// zone's apex NS set`, ...
    pub fn text(self) -> &'static str {
        match self {
            Listing::Both => "listed in the delegation and the child zone's apex NS set",
            Listing::ChildOnly => "listed only in the child zone's apex NS set",
            Listing::DelegationOnly => "listed only in the delegation",
        }
    }
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
    /// The parent domain is delegated to the parent hosted zone's servers,
    /// as a recursive resolver sees it (its cache).
    ParentZone,
    /// The parent domain is delegated to the parent hosted zone's servers,
    /// as the servers of the zone above it say (asked without recursion):
    /// the authoritative chain.
    ParentZoneChain,
}

pub(crate) fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn ser_opt_ms<S: serde::Serializer>(
    d: &Option<Duration>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_ms(d, s),
        None => s.serialize_none(),
    }
}

/// Which side of the delegation a server is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    /// A parent zone name server (asked for the referral).
    Parent,
    /// A child zone name server (asked for the zone's SOA and NS).
    Child,
    /// A recursive resolver.
    Resolver,
}

impl ServerRole {
    /// `parent`, `child` or `resolver`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Parent => "parent",
            ServerRole::Child => "child",
            ServerRole::Resolver => "resolver",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "parent" => ServerRole::Parent,
            "child" => ServerRole::Child,
            "resolver" => ServerRole::Resolver,
            _ => return None,
        })
    }
}

/// One server's outcome in a verification: what a front end keeps in state
/// and names in warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerResult {
    /// The name server's host name, or the resolver's address.
    pub name: String,
    /// The address asked (none when the host name did not resolve).
    pub address: Option<IpAddr>,
    /// Parent, child or resolver.
    pub role: ServerRole,
    /// True when every question to this server got the answer wanted.
    pub ok: bool,
    /// `ok`, or what the server did: `timed out`, `REFUSED`, `not
    /// authoritative`, `different NS set [...]`, ...
    pub result: String,
    /// Round-trip time of its slowest answer.
    #[serde(rename = "rtt_ms", serialize_with = "ser_opt_ms")]
    pub rtt: Option<Duration>,
}

impl ServerResult {
    /// `name (address)`, or `name` when there is no address.
    pub fn label(&self) -> String {
        match self.address {
            Some(a) if a.to_string() != self.name => format!("{} ({a})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// The failing servers grouped by what they did, in order: `(labels,
/// result)`, so that four servers with the same wrong NS set make one entry.
pub fn failing_by_result(servers: &[ServerResult]) -> Vec<(Vec<String>, String)> {
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    for r in servers.iter().filter(|r| !r.ok) {
        match out.iter_mut().find(|(_, result)| *result == r.result) {
            Some((labels, _)) => labels.push(r.label()),
            None => out.push((vec![r.label()], r.result.clone())),
        }
    }
    out
}
