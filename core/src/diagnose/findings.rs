//! The findings: each known failure mode of a delegation, its severity,
//! its stable code, and its message in words a user can act on.

use std::fmt;
use std::net::SocketAddr;

use serde::Serialize;

use super::servers::resolver_text;
use crate::check::Listing;
use crate::dns::Rcode;
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
        /// Where it is named: the delegation, the child zone's apex NS set,
        /// or both (none when no apex NS set was seen).
        listed: Option<Listing>,
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
    /// The child zone's apex NS set names working servers the delegation
    /// does not (and lacks none it has): resolvers that follow the
    /// delegation never ask them. Zonemaster's `EXTRA_NAME_CHILD`, a notice.
    ChildNsExtraServers {
        /// The servers named only at the apex.
        servers: NsSet,
        /// The NS set at the child zone's apex.
        apex_ns: NsSet,
        /// The NS set the delegation has.
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
            Finding::ChildNsExtraServers { .. } => "child_ns_extra_servers",
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
            | Finding::OccludedRecords { .. }
            | Finding::ChildNsExtraServers { .. } => Severity::Warning,
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
                listed,
            } => {
                let aa = if *authoritative {
                    ""
                } else {
                    " without the authoritative flag"
                };
                let fix = match listed {
                    Some(Listing::ChildOnly) => "it is listed only in the child zone's apex NS set: remove it from the apex NS record, which must list only servers that serve the zone",
                    Some(Listing::DelegationOnly) => "it is listed only in the delegation: the delegation must list only the child hosted zone's own name servers",
                    _ => "the delegation must list only the child hosted zone's own name servers",
                };
                format!(
                    "child name server {server} ({address}) is lame: it answered {rcode}{aa}, so it does not serve the child zone and resolvers that pick it fail; {fix}"
                )
            }
            Finding::ChildNsExtraServers {
                servers,
                apex_ns,
                delegation,
            } => format!(
                "the child zone's apex NS set {apex_ns} also names {servers}, which the delegation {delegation} does not: they serve the zone, but resolvers that follow the delegation never ask them; add them to the delegation or remove them from the apex NS record"
            ),
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
