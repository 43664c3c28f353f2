//! The diagnosis: a pure function from one attempt's checks to findings and
//! a verdict. No I/O: everything here is unit-tested with made-up checks.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use super::listing::NsSets;
use super::servers::resolver_text;
use super::Finding;
use crate::check::{CheckKind, Listing, ServerCheck, VerifyRequest};
use crate::dns::Rcode;
use crate::name::DomainName;
use crate::nsset::NsSet;

/// What one attempt adds up to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// True when the delegation is verified.
    pub passed: bool,
    /// True when every authoritative check (parent referral, child SOA and
    /// NS) passed, whatever the recursive resolvers say.
    pub authoritative_ok: bool,
    /// What is wrong, in words.
    pub findings: Vec<Finding>,
    /// The NS set the parent points at when it is not the child's: the
    /// servers to probe for a dangling delegation.
    pub points_elsewhere: Option<NsSet>,
}

/// The verdict on one attempt's checks: the findings, and whether the
/// delegation passed. The authoritative servers decide; with
/// `require_recursive` the resolvers must agree too, except that a resolver
/// still holding a negative answer or the parent domain's old delegation is a
/// warning (it lags, the servers are right). A parent domain delegated
/// elsewhere at the zone above never passes: no resolver asks the parent
/// hosted zone.
pub fn verdict(req: &VerifyRequest, checks: &[ServerCheck], require_recursive: bool) -> Verdict {
    let authoritative_ok = authoritative_ok(checks);
    let findings = diagnose(req, checks);
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
    let misdelegated = findings
        .iter()
        .any(|f| matches!(f, Finding::ParentZoneNotDelegated { .. }));
    let passed = authoritative_ok && !misdelegated && (!require_recursive || others_ok);
    let points_elsewhere = findings.iter().find_map(|f| match f {
        Finding::ParentPointsElsewhere { parent_ns, .. } => Some(parent_ns.clone()),
        _ => None,
    });
    Verdict {
        passed,
        authoritative_ok,
        findings,
        points_elsewhere,
    }
}

/// Derives findings from the checks of one verification attempt.
pub fn diagnose(req: &VerifyRequest, checks: &[ServerCheck]) -> Vec<Finding> {
    let mut out = Vec::new();
    // Said first: the takeover risk outweighs every other finding.
    out.extend(dangling(req, checks));
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
pub(super) fn authoritative_ok(checks: &[ServerCheck]) -> bool {
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

/// The parent refers the name to exactly the servers asked, and none of them
/// serves it: each that answered refused the name or answered without
/// authority, and none answered with authority. Whatever was expected, that
/// is a dangling delegation. Silent servers tell nothing: with every server
/// silent it cannot be told.
fn dangling(req: &VerifyRequest, checks: &[ServerCheck]) -> Option<Finding> {
    let referred = checks
        .iter()
        .any(|c| c.kind == CheckKind::ParentReferral && c.ok);
    let mut answers = checks.iter().filter(|c| {
        matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs)
            && c.error.is_none()
            && c.rcode.is_some()
    });
    let first = answers.next()?;
    let serves = |c: &ServerCheck| c.rcode == Some(Rcode::NOERROR) && c.authoritative == Some(true);
    let served = serves(first) || answers.any(serves);
    (referred && !served).then(|| Finding::DanglingDelegation {
        name: req.name.clone(),
        parent_ns: req.child_name_servers.clone(),
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
    let sets = NsSets::of(req, checks);
    // A server that refuses the zone (or answers without AA) is lame: one
    // finding per server, whatever it was asked, saying where it is listed.
    let mut lame: Vec<DomainName> = Vec::new();
    // Servers that answered the zone's SOA with authority.
    let serving: Vec<&DomainName> = checks
        .iter()
        .filter(|c| c.kind == CheckKind::ChildSoa && c.ok)
        .filter_map(|c| c.server_name.as_ref())
        .collect();
    // Apex NS sets seen, each with the servers that serve it.
    let mut apex_sets: Vec<(NsSet, Vec<DomainName>)> = Vec::new();
    for c in checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs) && c.error.is_none())
    {
        let (Some(server), Some(address), Some(rcode)) = (&c.server_name, c.address, c.rcode)
        else {
            continue;
        };
        let aa = c.authoritative.unwrap_or(false);
        if rcode != Rcode::NOERROR || !aa {
            // A server only a wrong referral names belongs to that
            // referral's finding (parent_points_elsewhere, and
            // dangling_delegation when none of its servers serves).
            let listed = sets.listing(server);
            let referral_only =
                !req.child_name_servers.contains(server) && listed != Some(Listing::ChildOnly);
            if lame.contains(server) {
                continue;
            }
            lame.push(server.clone());
            if !referral_only {
                out.push(Finding::LameChildServer {
                    server: server.clone(),
                    address,
                    rcode,
                    authoritative: aa,
                    listed,
                });
            }
            continue;
        }
        let Some(apex) = c.ns_seen.as_ref().filter(|_| c.kind == CheckKind::ChildNs) else {
            continue;
        };
        if *apex == req.child_name_servers {
            continue;
        }
        match apex_sets.iter_mut().find(|(set, _)| set == apex) {
            Some((_, servers)) if !servers.contains(server) => servers.push(server.clone()),
            Some(_) => {}
            None => apex_sets.push((apex.clone(), vec![server.clone()])),
        }
    }
    for (apex, servers) in apex_sets {
        out.extend(apex_finding(req, apex, servers, &lame, &serving));
    }
}

/// What one apex NS set that differs from the delegation adds up to, once
/// for every server that serves it: a mismatch when it lacks a server of
/// the delegation that is not lame; a warning when it only names more
/// servers that serve the zone (Zonemaster's notice `EXTRA_NAME_CHILD`);
/// nothing when the difference is only servers found lame or silent, which
/// their own findings name.
fn apex_finding(
    req: &VerifyRequest,
    apex: NsSet,
    mut servers: Vec<DomainName>,
    lame: &[DomainName],
    serving: &[&DomainName],
) -> Option<Finding> {
    let d = apex.diff(&req.child_name_servers)?;
    if d.only_there.iter().any(|s| !lame.contains(s)) {
        servers.sort();
        return Some(Finding::ChildNsMismatch {
            servers,
            apex_ns: apex,
            delegation: req.child_name_servers.clone(),
        });
    }
    let extra: NsSet = d
        .only_here
        .iter()
        .filter(|s| serving.contains(s))
        .cloned()
        .collect();
    (!extra.is_empty()).then(|| Finding::ChildNsExtraServers {
        servers: extra,
        apex_ns: apex,
        delegation: req.child_name_servers.clone(),
    })
}
