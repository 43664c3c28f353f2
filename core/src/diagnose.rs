//! Failure modes of a delegation, in words a user can act on.
//!
//! [`diagnose`] turns the raw [`ServerCheck`]s of a verification attempt into
//! [`Finding`]s: "the parent has no NS record", "the parent still points at the
//! old servers", "this resolver holds a cached NXDOMAIN for 812 more
//! seconds". [`server_results`] reduces the checks to one line per server.
//! Everything here is a pure function of the observations: the questions
//! themselves (and the probe for a dangling delegation) live in
//! [`crate::verify`].

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

use crate::check::{CheckKind, ServerCheck, ServerResult, ServerRole, VerifyRequest};
use crate::dns::{Rcode, DNS_PORT};
use crate::name::DomainName;
use crate::nsset::NsSet;

/// One thing wrong (or worth knowing) about a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Finding {
    /// The parent's servers have no NS record for the name: they answer
    /// NXDOMAIN, or NODATA with their own SOA, instead of a referral.
    NoParentRecord {
        /// The delegated name.
        name: DomainName,
        /// The parent zone.
        parent_zone: DomainName,
    },
    /// The parent refers the name to other servers than the child hosted
    /// zone's (for example the child zone was deleted and re-created).
    ParentPointsElsewhere {
        /// The delegated name.
        name: DomainName,
        /// The NS set the parent's servers refer to.
        parent_ns: NsSet,
        /// The child hosted zone's NS set.
        child_ns: NsSet,
        /// True when the two sets share no server.
        disjoint: bool,
    },
    /// The parent domain itself is delegated to other servers than the parent
    /// hosted zone's: the NS record is written into a zone nobody asks.
    ParentZoneNotDelegated {
        /// The parent zone.
        parent_zone: DomainName,
        /// The servers the parent domain is delegated to, as resolvers see it.
        delegated_to: NsSet,
        /// The parent hosted zone's own name servers.
        parent_zone_ns: NsSet,
    },
    /// A new delegation: resolvers that asked for the name before it existed
    /// may keep their negative answer this long (the parent SOA's negative
    /// TTL, RFC 2308).
    NegativeCaching {
        /// The delegated name.
        name: DomainName,
        /// The parent zone.
        parent_zone: DomainName,
        /// The parent zone's negative-caching TTL in seconds.
        seconds: u32,
    },
    /// A resolver still holds an old delegation of the parent domain in its
    /// cache, while the authoritative chain already delegates it to the
    /// parent hosted zone's servers (after the parent zone was re-created).
    StaleParentDelegation {
        /// The resolver.
        resolver: SocketAddr,
        /// The parent zone.
        parent_zone: DomainName,
        /// The delegation the resolver still serves.
        cached: NsSet,
        /// Seconds it may keep serving it.
        remaining_ttl: Option<u32>,
        /// The delegation the authoritative chain holds.
        current: NsSet,
    },
    /// A parent hosted zone name server that does not serve the parent zone.
    LameParentServer {
        /// The name server.
        server: DomainName,
        /// Its address.
        address: SocketAddr,
        /// What it answered (`REFUSED`, `SERVFAIL`, ...).
        rcode: Rcode,
    },
    /// A child name server that does not answer authoritatively for the name.
    LameChildServer {
        /// The name server.
        server: DomainName,
        /// Its address.
        address: SocketAddr,
        /// What it answered.
        rcode: Rcode,
        /// Whether the AA flag was set.
        authoritative: bool,
    },
    /// The NS set at the child zone's apex differs from the delegation: one
    /// finding per distinct apex set, naming the servers that serve it.
    ChildNsMismatch {
        /// The child name servers that answered with this apex set.
        servers: Vec<DomainName>,
        /// The NS set at the child zone's apex.
        apex_ns: NsSet,
        /// The NS set the delegation has (the child hosted zone's, which the
        /// parent refers to).
        delegation: NsSet,
    },
    /// Some parent servers refer correctly and others not yet (or Route 53
    /// still reports the change PENDING).
    Propagating {
        /// The servers that are behind, as `host (address)`.
        servers_behind: Vec<String>,
    },
    /// A recursive resolver still serves a negative answer it cached before
    /// the delegation existed.
    CachedNegative {
        /// The resolver.
        resolver: SocketAddr,
        /// The delegated name.
        name: DomainName,
        /// True for a cached NXDOMAIN, false for a cached NODATA.
        nxdomain: bool,
        /// Seconds the resolver will keep serving it, at most.
        remaining_ttl: u32,
    },
    /// A recursive resolver fails to resolve the name although the
    /// authoritative servers are right.
    ResolverFailure {
        /// The resolver.
        resolver: SocketAddr,
        /// The delegated name.
        name: DomainName,
        /// What went wrong.
        detail: String,
    },
    /// A server did not answer at all, or its host name did not resolve.
    Unreachable {
        /// The server: host name, or address for a resolver.
        server: String,
        /// Its address, when known.
        address: Option<SocketAddr>,
        /// The error.
        error: String,
    },
    /// Records in the parent zone at or under the delegated name (other than
    /// the NS and DS at the cut), unreachable once the name is delegated.
    OccludedRecords {
        /// The delegated name.
        name: DomainName,
        /// The occluded records as (name, type).
        records: Vec<(String, String)>,
    },
    /// The parent's NS record points at servers that refuse the name or do not
    /// serve it: anyone who can create the zone there can take the name over.
    DanglingDelegation {
        /// The delegated name.
        name: DomainName,
        /// The NS set in the parent.
        parent_ns: NsSet,
    },
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The delegation does not work (or is dangerous) until this is fixed.
    Error,
    /// Worth knowing; resolves itself or does not break the delegation.
    Warning,
}

impl Finding {
    /// A stable snake_case identifier, for machines and documentation.
    pub fn code(&self) -> &'static str {
        match self {
            Finding::NoParentRecord { .. } => "no_parent_record",
            Finding::ParentPointsElsewhere { .. } => "parent_points_elsewhere",
            Finding::ParentZoneNotDelegated { .. } => "parent_zone_not_delegated",
            Finding::StaleParentDelegation { .. } => "stale_parent_delegation",
            Finding::NegativeCaching { .. } => "negative_caching",
            Finding::LameParentServer { .. } => "lame_parent_server",
            Finding::LameChildServer { .. } => "lame_child_server",
            Finding::ChildNsMismatch { .. } => "child_ns_mismatch",
            Finding::Propagating { .. } => "propagating",
            Finding::CachedNegative { .. } => "cached_negative",
            Finding::ResolverFailure { .. } => "resolver_failure",
            Finding::Unreachable { .. } => "unreachable",
            Finding::OccludedRecords { .. } => "occluded_records",
            Finding::DanglingDelegation { .. } => "dangling_delegation",
        }
    }

    /// How serious it is.
    pub fn severity(&self) -> Severity {
        match self {
            Finding::Propagating { .. }
            | Finding::CachedNegative { .. }
            | Finding::StaleParentDelegation { .. }
            | Finding::NegativeCaching { .. }
            | Finding::OccludedRecords { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// What is wrong and what to do, in one or two sentences without a
    /// trailing period.
    pub fn message(&self) -> String {
        match self {
            Finding::NoParentRecord { name, parent_zone } => format!(
                "the parent zone {parent_zone} has no NS record for {name}: its servers answer as if {name} did not exist, so resolvers get NXDOMAIN; apply again to write the NS record"
            ),
            Finding::ParentPointsElsewhere {
                name,
                parent_ns,
                child_ns,
                disjoint,
            } => {
                let why = if *disjoint {
                    "; they share no server, as happens when the child hosted zone was deleted and re-created"
                } else {
                    ""
                };
                format!(
                    "the parent's NS record for {name} points at {parent_ns}, not at the child hosted zone's name servers {child_ns}{why}; apply again to point it at {child_ns}"
                )
            }
            Finding::ParentZoneNotDelegated {
                parent_zone,
                delegated_to,
                parent_zone_ns,
            } => format!(
                "{parent_zone} is delegated to {delegated_to}, but the parent hosted zone's name servers are {parent_zone_ns}: the NS record is written into a zone nobody asks; use the hosted zone {parent_zone} is actually delegated to, or fix the delegation of {parent_zone} at its registrar or parent zone"
            ),
            Finding::NegativeCaching {
                name,
                parent_zone,
                seconds,
            } => format!(
                "{name} is delegated and verified; resolvers that asked for it before may keep their NXDOMAIN for up to {seconds} seconds ({parent_zone}'s negative-caching TTL, RFC 2308); flush them or wait"
            ),
            Finding::StaleParentDelegation {
                resolver,
                parent_zone,
                cached,
                remaining_ttl,
                current,
            } => format!(
                "resolver {} still holds the old delegation of {parent_zone} to {cached}{} (a cache, not the delegation): the authoritative chain delegates {parent_zone} to {current}, the parent hosted zone's servers; clients of that resolver see the new servers when the cache expires, or flush it",
                resolver_text(resolver),
                remaining_ttl
                    .map(|t| format!(" for up to {t} more seconds"))
                    .unwrap_or_default()
            ),
            Finding::LameParentServer {
                server,
                address,
                rcode,
            } => format!(
                "parent name server {server} ({address}) answered {rcode} instead of a referral: it does not serve the parent zone; check that the parent hosted zone and its name servers are the right ones"
            ),
            Finding::LameChildServer {
                server,
                address,
                rcode,
                authoritative,
            } => {
                let aa = if *authoritative {
                    ""
                } else {
                    " without the authoritative flag"
                };
                format!(
                    "child name server {server} ({address}) is lame: it answered {rcode}{aa}, so it does not serve the child zone and resolvers that pick it fail; the delegation must list only the child hosted zone's own name servers"
                )
            }
            Finding::ChildNsMismatch {
                servers,
                apex_ns,
                delegation,
            } => {
                let names: Vec<String> = servers.iter().map(ToString::to_string).collect();
                let (who, verb) = if names.len() == 1 {
                    (format!("child name server {}", names[0]), "lists")
                } else {
                    (format!("child name servers {}", names.join(", ")), "list")
                };
                let mut diff = Vec::new();
                if let Some(d) = apex_ns.diff(delegation) {
                    if !d.only_here.is_empty() {
                        diff.push(format!("only at the apex: {}", d.only_here));
                    }
                    if !d.only_there.is_empty() {
                        diff.push(format!("only in the delegation: {}", d.only_there));
                    }
                }
                format!(
                    "{who} {verb} {apex_ns} at the zone apex, but the delegation is {delegation} ({}); make the child zone's apex NS record match its delegation set",
                    diff.join("; ")
                )
            }
            Finding::Propagating { servers_behind } => format!(
                "the change is still propagating: {} not yet up to date ({}); wait and verify again",
                if servers_behind.len() == 1 {
                    "1 server is"
                } else {
                    "some servers are"
                },
                servers_behind.join(", ")
            ),
            Finding::CachedNegative {
                resolver,
                name,
                nxdomain,
                remaining_ttl,
            } => {
                let what = if *nxdomain {
                    "NXDOMAIN"
                } else {
                    "negative answer (NODATA)"
                };
                format!(
                    "resolver {} holds a cached {what} for {name} for up to {remaining_ttl} more seconds (negative caching, RFC 2308); the authoritative servers are already correct; flush the resolver cache or wait",
                    resolver_text(resolver)
                )
            }
            Finding::ResolverFailure {
                resolver,
                name,
                detail,
            } => format!(
                "resolver {} cannot resolve {name} ({detail}) although the authoritative servers are correct; check that the resolver can reach them and whether it validates DNSSEC",
                resolver_text(resolver)
            ),
            Finding::Unreachable {
                server,
                address,
                error,
            } => match address {
                Some(a) => format!(
                    "{server} ({a}) did not answer: {error}; check that it is reachable from here, or wait and verify again"
                ),
                None => format!("{server} cannot be reached: {error}; check the host name and the resolvers"),
            },
            Finding::OccludedRecords { name, records } => {
                let list: Vec<String> = records.iter().map(|(n, t)| format!("{n} {t}")).collect();
                format!(
                    "{} in the parent zone at or under {name} ({}) will be unreachable once {name} is delegated, because resolvers follow the delegation; move them into the child hosted zone",
                    if records.len() == 1 { "1 record".to_string() } else { format!("{} records", records.len()) },
                    list.join(", ")
                )
            }
            Finding::DanglingDelegation { name, parent_ns } => format!(
                "the parent's NS record for {name} points at {parent_ns}, but none of those servers serves {name}: a dangling delegation that whoever creates the zone on those servers can take over (subdomain takeover); delete the NS record or point it at a zone you own"
            ),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Derives findings from the checks of one verification attempt.
pub fn diagnose(req: &VerifyRequest, checks: &[ServerCheck]) -> Vec<Finding> {
    let mut out = Vec::new();
    diagnose_parent(req, checks, &mut out);
    diagnose_child(req, checks, &mut out);

    let authoritative_ok = authoritative_ok(checks);
    // Whom the parent domain is delegated to: the authoritative chain
    // decides when it answered; a resolver's view only without it.
    let chain = checks
        .iter()
        .find(|c| c.kind == CheckKind::ParentZoneChain && c.error.is_none() && c.ns_seen.is_some());
    let mut zone_findings = Vec::new();
    for c in checks.iter().filter(|c| c.kind == CheckKind::ParentZone) {
        let (false, None, Some(seen)) = (c.ok, &c.error, &c.ns_seen) else {
            continue;
        };
        match (chain, c.address) {
            (Some(ch), Some(resolver)) if ch.ok => {
                zone_findings.push(Finding::StaleParentDelegation {
                    resolver,
                    parent_zone: req.parent_zone.clone(),
                    cached: seen.clone(),
                    remaining_ttl: c.ns_ttl,
                    current: req.parent_name_servers.clone(),
                })
            }
            (Some(_), _) => {}
            (None, _) => zone_findings.push(Finding::ParentZoneNotDelegated {
                parent_zone: req.parent_zone.clone(),
                delegated_to: seen.clone(),
                parent_zone_ns: req.parent_name_servers.clone(),
            }),
        }
    }
    if let Some(ch) = chain.filter(|c| !c.ok) {
        zone_findings.push(Finding::ParentZoneNotDelegated {
            parent_zone: req.parent_zone.clone(),
            delegated_to: ch.ns_seen.clone().unwrap_or_default(),
            parent_zone_ns: req.parent_name_servers.clone(),
        });
    }
    let parent_zone_misdelegated = zone_findings
        .iter()
        .any(|f| matches!(f, Finding::ParentZoneNotDelegated { .. }));
    for c in checks.iter().filter(|c| c.kind == CheckKind::Recursive) {
        let (Some(resolver), None, false) = (c.address, &c.error, c.ok) else {
            continue;
        };
        // With the authoritative side broken, or the parent domain delegated
        // to other servers (resolvers never ask the parent hosted zone), a
        // failing resolver is a consequence, not a finding of its own.
        if !authoritative_ok || parent_zone_misdelegated {
            continue;
        }
        match (c.negative_ttl, c.rcode) {
            (Some(ttl), Some(rcode @ (Rcode::NXDOMAIN | Rcode::NOERROR))) => {
                out.push(Finding::CachedNegative {
                    resolver,
                    name: req.name.clone(),
                    nxdomain: rcode == Rcode::NXDOMAIN,
                    remaining_ttl: ttl,
                });
            }
            (_, rcode) => out.push(Finding::ResolverFailure {
                resolver,
                name: req.name.clone(),
                detail: match rcode {
                    Some(Rcode::NOERROR) => c.detail.clone(),
                    Some(rcode) => format!("it answered {rcode}"),
                    None => "it answered ".into(),
                },
            }),
        }
    }

    out.extend(zone_findings);

    let mut seen = BTreeSet::new();
    for c in checks
        .iter()
        .filter(|c| !matches!(c.kind, CheckKind::ParentZone | CheckKind::ParentZoneChain))
    {
        let Some(error) = &c.error else { continue };
        let server = match (&c.server_name, c.address) {
            (Some(n), _) => n.to_string(),
            (None, Some(a)) => format!("resolver {}", resolver_text(&a)),
            (None, None) => "a server".to_string(),
        };
        if seen.insert((server.clone(), c.address)) {
            out.push(Finding::Unreachable {
                server,
                address: c.address,
                error: error.clone(),
            });
        }
    }
    out
}

/// True when there is at least one check of each authoritative kind and all
/// of them passed.
pub(crate) fn authoritative_ok(checks: &[ServerCheck]) -> bool {
    let kinds = [
        CheckKind::ParentReferral,
        CheckKind::ChildSoa,
        CheckKind::ChildNs,
    ];
    kinds.iter().all(|k| {
        let mut of_kind = checks.iter().filter(|c| c.kind == *k).peekable();
        of_kind.peek().is_some() && of_kind.all(|c| c.ok)
    })
}

fn label(c: &ServerCheck) -> String {
    match (&c.server_name, c.address) {
        (Some(n), Some(a)) => format!("{n} ({})", a.ip()),
        (Some(n), None) => n.to_string(),
        (None, Some(a)) => a.to_string(),
        (None, None) => "?".to_string(),
    }
}

fn diagnose_parent(req: &VerifyRequest, checks: &[ServerCheck], out: &mut Vec<Finding>) {
    let answered: Vec<&ServerCheck> = checks
        .iter()
        .filter(|c| c.kind == CheckKind::ParentReferral && c.error.is_none())
        .collect();
    let mut good = Vec::new();
    let mut missing = Vec::new();
    let mut elsewhere = Vec::new();
    for c in &answered {
        match (&c.ns_seen, c.rcode) {
            _ if c.ok => good.push(*c),
            (_, Some(Rcode::NXDOMAIN)) | (None, Some(Rcode::NOERROR)) => missing.push(*c),
            (Some(ns), Some(Rcode::NOERROR)) if !ns.is_empty() && *ns != req.child_name_servers => {
                elsewhere.push(*c)
            }
            (Some(ns), Some(Rcode::NOERROR)) if ns.is_empty() => missing.push(*c),
            (_, Some(Rcode::NOERROR) | None) => {}
            (_, Some(rcode)) => {
                if let (Some(server), Some(address)) = (&c.server_name, c.address) {
                    out.push(Finding::LameParentServer {
                        server: server.clone(),
                        address,
                        rcode,
                    });
                }
            }
        }
    }
    if good.is_empty() {
        if !missing.is_empty() && elsewhere.is_empty() {
            out.push(Finding::NoParentRecord {
                name: req.name.clone(),
                parent_zone: req.parent_zone.clone(),
            });
        }
        if let Some(first) = elsewhere.first() {
            let parent_ns = first.ns_seen.clone().unwrap_or_default();
            out.push(Finding::ParentPointsElsewhere {
                name: req.name.clone(),
                disjoint: parent_ns.is_disjoint(&req.child_name_servers),
                parent_ns,
                child_ns: req.child_name_servers.clone(),
            });
        }
    } else if !missing.is_empty() || !elsewhere.is_empty() {
        let mut behind: Vec<String> = missing.iter().chain(&elsewhere).map(|c| label(c)).collect();
        behind.sort();
        behind.dedup();
        out.push(Finding::Propagating {
            servers_behind: behind,
        });
    }
}

fn diagnose_child(req: &VerifyRequest, checks: &[ServerCheck], out: &mut Vec<Finding>) {
    // A server that refuses the zone (or answers without AA) is lame: one
    // finding per server, whatever it was asked.
    let mut lame: Vec<DomainName> = Vec::new();
    // Apex NS sets seen, each with the servers that serve it.
    let mut apex_sets: Vec<(NsSet, Vec<DomainName>)> = Vec::new();
    for c in checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs) && c.error.is_none())
    {
        let (Some(server), Some(address)) = (&c.server_name, c.address) else {
            continue;
        };
        let Some(rcode) = c.rcode else {
            continue;
        };
        let aa = c.authoritative.unwrap_or(false);
        if rcode != Rcode::NOERROR || !aa {
            if !lame.contains(server) {
                lame.push(server.clone());
                out.push(Finding::LameChildServer {
                    server: server.clone(),
                    address,
                    rcode,
                    authoritative: aa,
                });
            }
            continue;
        }
        if c.kind == CheckKind::ChildNs {
            if let Some(apex) = &c.ns_seen {
                if *apex != req.child_name_servers {
                    match apex_sets.iter_mut().find(|(set, _)| set == apex) {
                        Some((_, servers)) => {
                            if !servers.contains(server) {
                                servers.push(server.clone())
                            }
                        }
                        None => apex_sets.push((apex.clone(), vec![server.clone()])),
                    }
                }
            }
        }
    }
    for (apex, mut servers) in apex_sets {
        // The delegation lists the zone's servers plus servers found lame:
        // the lame findings already say it all.
        if let Some(d) = apex.diff(&req.child_name_servers) {
            if d.only_here.is_empty() && d.only_there.iter().all(|s| lame.contains(s)) {
                continue;
            }
        }
        servers.sort();
        out.push(Finding::ChildNsMismatch {
            servers,
            apex_ns: apex,
            delegation: req.child_name_servers.clone(),
        });
    }
}

/// One entry per server asked (parent and child name servers, resolvers),
/// failing servers first, each with what it did in a few words.
pub fn server_results(checks: &[ServerCheck]) -> Vec<ServerResult> {
    let mut out: Vec<ServerResult> = Vec::new();
    for c in checks {
        let role = match c.kind {
            CheckKind::ParentReferral => ServerRole::Parent,
            CheckKind::ChildSoa | CheckKind::ChildNs => ServerRole::Child,
            CheckKind::Recursive => ServerRole::Resolver,
            _ => continue,
        };
        let name = match (&c.server_name, c.address) {
            (Some(n), _) => n.to_string(),
            (None, Some(a)) => resolver_text(&a),
            (None, None) => continue,
        };
        let address = c.address.map(|a| a.ip());
        let what = if c.ok { None } else { Some(check_result(c)) };
        match out
            .iter_mut()
            .find(|r| r.role == role && r.name == name && r.address == address)
        {
            Some(r) => {
                r.rtt = r.rtt.max(c.latency);
                if let (true, Some(w)) = (r.ok, what) {
                    r.ok = false;
                    r.result = w;
                }
            }
            None => out.push(ServerResult {
                name,
                address,
                role,
                ok: what.is_none(),
                result: what.unwrap_or_else(|| "ok".into()),
                rtt: c.latency,
            }),
        }
    }
    out.sort_by(|a, b| (a.ok, a.role, &a.name, a.address).cmp(&(b.ok, b.role, &b.name, b.address)));
    out
}

/// What a failed check saw, in a few words.
fn check_result(c: &ServerCheck) -> String {
    if c.timed_out {
        return "timed out".into();
    }
    if let Some(e) = &c.error {
        return if c.address.is_none() {
            format!("address not found: {e}")
        } else {
            format!("no answer: {e}")
        };
    }
    let rcode = c.rcode.map(|r| r.to_string()).unwrap_or_default();
    let aa = c.authoritative.unwrap_or(false);
    match c.kind {
        CheckKind::ParentReferral => match (&c.ns_seen, c.rcode) {
            (_, Some(Rcode::NXDOMAIN)) => "no NS record (NXDOMAIN)".into(),
            (None, Some(Rcode::NOERROR)) => "no referral (NODATA)".into(),
            (Some(ns), Some(Rcode::NOERROR)) if aa => {
                format!("answers {ns} authoritatively instead of referring")
            }
            (Some(ns), Some(Rcode::NOERROR)) => format!("refers to other servers {ns}"),
            _ => rcode,
        },
        CheckKind::ChildSoa | CheckKind::ChildNs if c.rcode != Some(Rcode::NOERROR) => {
            format!("{rcode} (does not serve the zone)")
        }
        CheckKind::ChildSoa | CheckKind::ChildNs if !aa => "not authoritative".into(),
        CheckKind::ChildSoa => "no SOA at the zone apex".into(),
        CheckKind::ChildNs => match &c.ns_seen {
            Some(ns) => format!("different NS set {ns}"),
            None => "no NS set".into(),
        },
        _ if !c.detail.is_empty() => c.detail.clone(),
        _ => rcode,
    }
}

fn resolver_text(a: &SocketAddr) -> String {
    if a.port() == DNS_PORT {
        a.ip().to_string()
    } else {
        a.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    fn set(v: &[&str]) -> NsSet {
        NsSet::parse(v).unwrap()
    }

    fn req() -> VerifyRequest {
        VerifyRequest {
            name: n("api.example.com"),
            parent_zone: n("example.com"),
            parent_name_servers: set(&["ns1.parent.net", "ns2.parent.net"]),
            child_name_servers: set(&["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"]),
        }
    }

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 20, last], 53))
    }

    fn check(kind: CheckKind, server: Option<&str>, last: u8) -> ServerCheck {
        ServerCheck {
            kind,
            server_name: server.map(n),
            address: Some(addr(last)),
            ok: false,
            rcode: Some(Rcode::NOERROR),
            authoritative: Some(true),
            ns_seen: None,
            negative_ttl: None,
            ns_ttl: None,
            latency: Some(Duration::from_millis(2)),
            error: None,
            timed_out: false,
            detail: String::new(),
        }
    }

    fn referral(server: &str, last: u8, ns: Option<NsSet>) -> ServerCheck {
        let mut c = check(CheckKind::ParentReferral, Some(server), last);
        c.authoritative = Some(false);
        c.ok = ns.as_ref() == Some(&req().child_name_servers);
        c.ns_seen = ns;
        c
    }

    /// Everything right: two referrals, child SOA and NS on two servers.
    fn good() -> Vec<ServerCheck> {
        let child = req().child_name_servers;
        let mut v = vec![
            referral("ns1.parent.net", 1, Some(child.clone())),
            referral("ns2.parent.net", 2, Some(child.clone())),
        ];
        for (s, last) in [("ns-1.awsdns-01.com", 11), ("ns-2.awsdns-02.net", 12)] {
            let mut soa = check(CheckKind::ChildSoa, Some(s), last);
            soa.ok = true;
            let mut nsc = check(CheckKind::ChildNs, Some(s), last);
            nsc.ok = true;
            nsc.ns_seen = Some(child.clone());
            v.push(soa);
            v.push(nsc);
        }
        v
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(Finding::code).collect()
    }

    #[test]
    fn good_checks_have_no_findings() {
        assert!(diagnose(&req(), &good()).is_empty());
        assert!(authoritative_ok(&good()));
        assert!(!authoritative_ok(&good()[..2]), "child checks are required");
    }

    #[test]
    fn nxdomain_or_nodata_from_every_parent_is_no_parent_record() {
        let mut checks = good();
        checks[0].ns_seen = None;
        checks[0].ok = false;
        checks[0].rcode = Some(Rcode::NXDOMAIN);
        checks[0].authoritative = Some(true);
        checks[1].ns_seen = None;
        checks[1].ok = false;
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::NoParentRecord {
                name: n("api.example.com"),
                parent_zone: n("example.com")
            }]
        );
        assert_eq!(
            f[0].message(),
            "the parent zone example.com has no NS record for api.example.com: its servers answer as if api.example.com did not exist, so resolvers get NXDOMAIN; apply again to write the NS record"
        );
        assert_eq!(f[0].severity(), Severity::Error);
    }

    #[test]
    fn other_servers_in_the_referral_are_parent_points_elsewhere() {
        let old = set(&["ns-9.awsdns-09.org", "ns-8.awsdns-08.co.uk"]);
        let mut checks = good();
        checks[0] = referral("ns1.parent.net", 1, Some(old.clone()));
        checks[1] = referral("ns2.parent.net", 2, Some(old.clone()));
        let f = diagnose(&req(), &checks);
        assert_eq!(codes(&f), vec!["parent_points_elsewhere"]);
        assert!(
            matches!(&f[0], Finding::ParentPointsElsewhere { disjoint: true, parent_ns, .. } if *parent_ns == old)
        );
        assert!(
            f[0].message().contains("deleted and re-created"),
            "{}",
            f[0]
        );

        // Overlapping sets are not disjoint, and the message does not guess.
        let partly = set(&["ns-1.awsdns-01.com", "ns-9.awsdns-09.org"]);
        checks[0] = referral("ns1.parent.net", 1, Some(partly.clone()));
        checks[1] = referral("ns2.parent.net", 2, Some(partly));
        let f = diagnose(&req(), &checks);
        assert!(matches!(
            &f[0],
            Finding::ParentPointsElsewhere {
                disjoint: false,
                ..
            }
        ));
        assert!(!f[0].message().contains("re-created"));
    }

    #[test]
    fn some_parents_behind_is_propagating() {
        let mut checks = good();
        checks[1] = referral("ns2.parent.net", 2, None);
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::Propagating {
                servers_behind: vec!["ns2.parent.net (127.0.20.2)".into()]
            }]
        );
        assert_eq!(f[0].severity(), Severity::Warning);
        assert!(f[0]
            .to_string()
            .starts_with("the change is still propagating: 1 server is"));
    }

    #[test]
    fn refusing_parent_server_is_lame_parent() {
        let mut checks = good();
        checks[1].rcode = Some(Rcode::REFUSED);
        checks[1].ok = false;
        checks[1].ns_seen = None;
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::LameParentServer {
                server: n("ns2.parent.net"),
                address: addr(2),
                rcode: Rcode::REFUSED
            }]
        );
    }

    #[test]
    fn refusing_or_non_authoritative_child_is_lame_once_per_address() {
        let mut checks = good();
        for c in checks.iter_mut().filter(|c| c.address == Some(addr(12))) {
            c.ok = false;
            c.rcode = Some(Rcode::REFUSED);
            c.authoritative = Some(false);
            c.ns_seen = None;
        }
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::LameChildServer {
                server: n("ns-2.awsdns-02.net"),
                address: addr(12),
                rcode: Rcode::REFUSED,
                authoritative: false
            }]
        );
        assert!(f[0].message().contains("without the authoritative flag"));
    }

    #[test]
    fn apex_ns_differing_from_delegation_is_one_child_ns_mismatch_with_the_difference() {
        let apex = set(&["ns-1.awsdns-01.com", "ns-3.awsdns-03.org"]);
        let mut checks = good();
        for c in checks.iter_mut().filter(|c| c.kind == CheckKind::ChildNs) {
            c.ok = false;
            c.ns_seen = Some(apex.clone());
        }
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::ChildNsMismatch {
                servers: vec![n("ns-1.awsdns-01.com"), n("ns-2.awsdns-02.net")],
                apex_ns: apex,
                delegation: req().child_name_servers
            }],
            "one finding for the one apex set, not one per server"
        );
        assert_eq!(
            f[0].message(),
            "child name servers ns-1.awsdns-01.com, ns-2.awsdns-02.net list [ns-1.awsdns-01.com, ns-3.awsdns-03.org] at the zone apex, but the delegation is [ns-1.awsdns-01.com, ns-2.awsdns-02.net] (only at the apex: [ns-3.awsdns-03.org]; only in the delegation: [ns-2.awsdns-02.net]); make the child zone's apex NS record match its delegation set"
        );
    }

    #[test]
    fn a_refusing_server_in_the_delegation_is_lame_once_not_an_ns_mismatch() {
        // The parent lists the zone's two servers plus a third that refuses
        // the zone; the two real ones show the zone's own apex NS set.
        let mut r = req();
        r.child_name_servers = set(&[
            "ns-1.awsdns-01.com",
            "ns-2.awsdns-02.net",
            "ns-9.awsdns-09.org",
        ]);
        let mut checks = good();
        for c in checks.iter_mut().filter(|c| c.kind == CheckKind::ChildNs) {
            c.ok = false;
            c.ns_seen = Some(req().child_name_servers);
        }
        for kind in [CheckKind::ChildSoa, CheckKind::ChildNs] {
            let mut c = check(kind, Some("ns-9.awsdns-09.org"), 19);
            c.rcode = Some(Rcode::REFUSED);
            c.authoritative = Some(false);
            checks.push(c);
        }
        let f = diagnose(&r, &checks);
        assert_eq!(
            f,
            vec![Finding::LameChildServer {
                server: n("ns-9.awsdns-09.org"),
                address: addr(19),
                rcode: Rcode::REFUSED,
                authoritative: false
            }]
        );
    }

    #[test]
    fn server_results_name_each_server_once_failing_first_with_what_it_did() {
        let mut checks = good();
        // ns-2: REFUSED to both questions; ns2.parent.net: silent.
        for c in checks.iter_mut().filter(|c| c.address == Some(addr(12))) {
            c.ok = false;
            c.rcode = Some(Rcode::REFUSED);
            c.authoritative = Some(false);
        }
        checks[1].ok = false;
        checks[1].rcode = None;
        checks[1].latency = None;
        checks[1].error =
            Some("querying 127.0.20.2:53 for api.example.com NS: timed out after 1.5s".into());
        checks[1].timed_out = true;
        let r = server_results(&checks);
        let rows: Vec<(String, &str, bool, String)> = r
            .iter()
            .map(|r| (r.label(), r.role.as_str(), r.ok, r.result.clone()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    "ns2.parent.net (127.0.20.2)".to_string(),
                    "parent",
                    false,
                    "timed out".to_string()
                ),
                (
                    "ns-2.awsdns-02.net (127.0.20.12)".to_string(),
                    "child",
                    false,
                    "REFUSED (does not serve the zone)".to_string()
                ),
                (
                    "ns1.parent.net (127.0.20.1)".to_string(),
                    "parent",
                    true,
                    "ok".to_string()
                ),
                (
                    "ns-1.awsdns-01.com (127.0.20.11)".to_string(),
                    "child",
                    true,
                    "ok".to_string()
                ),
            ]
        );
        assert_eq!(r[2].rtt, Some(Duration::from_millis(2)));
        // A child server with another apex NS set.
        let mut checks = good();
        let c = checks
            .iter_mut()
            .find(|c| c.kind == CheckKind::ChildNs)
            .unwrap();
        c.ok = false;
        c.ns_seen = Some(set(&["ns-1.awsdns-01.com"]));
        assert_eq!(
            server_results(&checks)[0].result,
            "different NS set [ns-1.awsdns-01.com]"
        );
    }

    fn recursive(rcode: Rcode, neg: Option<u32>) -> ServerCheck {
        let mut c = check(CheckKind::Recursive, None, 53);
        c.authoritative = Some(false);
        c.rcode = Some(rcode);
        c.negative_ttl = neg;
        c
    }

    #[test]
    fn resolver_nxdomain_with_correct_authorities_is_cached_negative() {
        let mut checks = good();
        checks.push(recursive(Rcode::NXDOMAIN, Some(812)));
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::CachedNegative {
                resolver: addr(53),
                name: n("api.example.com"),
                nxdomain: true,
                remaining_ttl: 812
            }]
        );
        assert_eq!(
            f[0].message(),
            "resolver 127.0.20.53 holds a cached NXDOMAIN for api.example.com for up to 812 more seconds (negative caching, RFC 2308); the authoritative servers are already correct; flush the resolver cache or wait"
        );
        // A cached NODATA too.
        let mut checks = good();
        checks.push(recursive(Rcode::NOERROR, Some(30)));
        assert!(matches!(
            diagnose(&req(), &checks)[..],
            [Finding::CachedNegative {
                nxdomain: false,
                remaining_ttl: 30,
                ..
            }]
        ));
    }

    #[test]
    fn resolver_nxdomain_is_not_blamed_on_caches_when_the_parent_is_wrong() {
        let mut checks = good();
        checks[0] = referral("ns1.parent.net", 1, None);
        checks[1] = referral("ns2.parent.net", 2, None);
        checks.push(recursive(Rcode::NXDOMAIN, Some(300)));
        assert_eq!(codes(&diagnose(&req(), &checks)), vec!["no_parent_record"]);
    }

    #[test]
    fn resolver_servfail_with_correct_authorities_is_resolver_failure() {
        let mut checks = good();
        checks.push(recursive(Rcode::SERVFAIL, None));
        let f = diagnose(&req(), &checks);
        assert_eq!(codes(&f), vec!["resolver_failure"]);
        assert!(f[0].message().contains("it answered SERVFAIL"), "{}", f[0]);
    }

    #[test]
    fn parent_domain_delegated_elsewhere_is_parent_zone_not_delegated() {
        let mut checks = good();
        let mut c = check(CheckKind::ParentZone, Some("example.com"), 53);
        c.ns_seen = Some(set(&["ns1.registrar-dns.net"]));
        checks.push(c);
        let f = diagnose(&req(), &checks);
        assert_eq!(
            f,
            vec![Finding::ParentZoneNotDelegated {
                parent_zone: n("example.com"),
                delegated_to: set(&["ns1.registrar-dns.net"]),
                parent_zone_ns: req().parent_name_servers
            }]
        );
        assert!(f[0].message().contains("a zone nobody asks"));
        // A parent-zone lookup that failed says nothing.
        let mut checks = good();
        let mut c = check(CheckKind::ParentZone, Some("example.com"), 53);
        c.error = Some("timed out".into());
        checks.push(c);
        assert!(diagnose(&req(), &checks).is_empty());
    }

    #[test]
    fn errors_are_unreachable_once_per_server() {
        let mut checks = good();
        for c in checks.iter_mut().filter(|c| c.address == Some(addr(11))) {
            c.ok = false;
            c.rcode = None;
            c.authoritative = None;
            c.error =
                Some("querying 127.0.20.11:53 for api.example.com SOA: timed out after 2s".into());
        }
        let mut unresolved = check(CheckKind::ParentReferral, Some("ns3.parent.net"), 0);
        unresolved.address = None;
        unresolved.error = Some("cannot resolve ns3.parent.net: NXDOMAIN".into());
        checks.push(unresolved);
        let mut resolver = recursive(Rcode::NOERROR, None);
        resolver.error = Some("connection refused".into());
        checks.push(resolver);
        let f = diagnose(&req(), &checks);
        assert_eq!(codes(&f), vec!["unreachable", "unreachable", "unreachable"]);
        assert!(
            matches!(&f[0], Finding::Unreachable { server, address: Some(a), .. } if server == "ns-1.awsdns-01.com" && *a == addr(11))
        );
        assert!(
            matches!(&f[1], Finding::Unreachable { server, address: None, .. } if server == "ns3.parent.net")
        );
        assert!(
            matches!(&f[2], Finding::Unreachable { server, .. } if server == "resolver 127.0.20.53")
        );
        assert!(f[0].message().ends_with("or wait and verify again"));
    }

    #[test]
    fn every_finding_has_a_code_severity_and_message_without_trailing_period() {
        let all = vec![
            Finding::NoParentRecord {
                name: n("a.example.com"),
                parent_zone: n("example.com"),
            },
            Finding::ParentPointsElsewhere {
                name: n("a.example.com"),
                parent_ns: set(&["x.net"]),
                child_ns: set(&["y.net"]),
                disjoint: true,
            },
            Finding::ParentZoneNotDelegated {
                parent_zone: n("example.com"),
                delegated_to: set(&["x.net"]),
                parent_zone_ns: set(&["y.net"]),
            },
            Finding::LameParentServer {
                server: n("x.net"),
                address: addr(1),
                rcode: Rcode::REFUSED,
            },
            Finding::LameChildServer {
                server: n("x.net"),
                address: addr(1),
                rcode: Rcode::NOERROR,
                authoritative: false,
            },
            Finding::ChildNsMismatch {
                servers: vec![n("x.net")],
                apex_ns: set(&["x.net"]),
                delegation: set(&["y.net"]),
            },
            Finding::Propagating {
                servers_behind: vec!["x.net".into(), "y.net".into()],
            },
            Finding::CachedNegative {
                resolver: addr(53),
                name: n("a.example.com"),
                nxdomain: true,
                remaining_ttl: 5,
            },
            Finding::ResolverFailure {
                resolver: addr(53),
                name: n("a.example.com"),
                detail: "x".into(),
            },
            Finding::Unreachable {
                server: "x.net".into(),
                address: None,
                error: "e".into(),
            },
            Finding::OccludedRecords {
                name: n("a.example.com"),
                records: vec![
                    ("www.a.example.com".into(), "A".into()),
                    ("a.example.com".into(), "TXT".into()),
                ],
            },
            Finding::DanglingDelegation {
                name: n("a.example.com"),
                parent_ns: set(&["x.net"]),
            },
            Finding::StaleParentDelegation {
                resolver: addr(53),
                parent_zone: n("example.com"),
                cached: set(&["x.net"]),
                remaining_ttl: Some(100),
                current: set(&["y.net"]),
            },
            Finding::NegativeCaching {
                name: n("a.example.com"),
                parent_zone: n("example.com"),
                seconds: 900,
            },
        ];
        let mut seen = BTreeSet::new();
        for f in &all {
            assert!(seen.insert(f.code()), "duplicate code {}", f.code());
            let m = f.message();
            assert!(!m.ends_with('.'), "{m}");
            assert_eq!(f.to_string(), m);
            let json = serde_json::to_value(f).unwrap();
            assert_eq!(json["code"], f.code());
        }
        assert!(all[10].message().starts_with("2 records in the parent zone at or under a.example.com (www.a.example.com A, a.example.com TXT)"));
        assert!(all[11].message().contains("subdomain takeover"));
        assert_eq!(all[10].severity(), Severity::Warning);
        assert_eq!(all[11].severity(), Severity::Error);
    }
}
