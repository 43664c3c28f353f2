//! The checks: every question verification asks, and what each answer
//! means for one server (a [`ServerCheck`]). This is the only I/O of
//! verification; what the checks add up to is [`crate::diagnose`]'s.

use std::net::{IpAddr, SocketAddr};

use tokio::time::Instant as TokioInstant;

use super::VerifyOptions;
use crate::check::{CheckKind, ServerCheck, VerifyRequest};
use crate::diagnose::{self, Finding};
use crate::dns::{
    AddressResolver, DnsClient, DnsError, DnsResponse, Rcode, RecordData, RecordType, DNS_PORT,
};
use crate::name::DomainName;
use crate::nsset::NsSet;

/// Most servers asked in the second round (named by a referral or an apex
/// NS set, not by the request): a bound on what a hostile answer can cost.
const MAX_MORE_SERVERS: usize = 16;

/// Every check of one attempt, sorted by kind, server and address: the
/// parent and child servers' addresses are looked up first, then all
/// questions go out at once; then every server a referral or the child's
/// apex NS set names that the request does not is asked the child's
/// questions too (Zonemaster asks them all), and each child check is marked
/// with where its server is listed.
pub(super) async fn observe(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
    client: &Ask<'_>,
) -> Vec<ServerCheck> {
    let (parent_hosts, child) = futures::join!(
        resolve_all(&req.parent_name_servers, resolver, client),
        ask_child_servers(req, &req.child_name_servers, resolver, client)
    );
    let mut parent_checks = Vec::new();
    let mut checks = Vec::new();
    for (host, r) in &parent_hosts {
        match r {
            Ok(addrs) => {
                parent_checks.extend(addrs.iter().map(|ip| check_parent(req, client, host, *ip)))
            }
            Err(e) => checks.push(unresolved(CheckKind::ParentReferral, host, e)),
        }
    }
    let recursive: Vec<SocketAddr> = opts.recursive.clone().unwrap_or_default();
    let zone_resolvers: Vec<SocketAddr> = opts
        .recursive
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| resolver.resolvers().to_vec());

    let (parent, rec, zone, chain) = futures::join!(
        futures::future::join_all(parent_checks),
        futures::future::join_all(recursive.iter().map(|r| check_recursive(req, client, *r))),
        check_parent_zone(req, client, &zone_resolvers),
        check_parent_zone_chain(req, client, &zone_resolvers),
    );
    checks.extend(child);
    checks.extend(parent);
    checks.extend(rec);
    checks.extend(zone);
    checks.extend(chain);
    let more: NsSet = diagnose::servers_to_ask(req, &checks)
        .iter()
        .take(MAX_MORE_SERVERS)
        .cloned()
        .collect();
    if !more.is_empty() {
        checks.extend(ask_child_servers(req, &more, resolver, client).await);
    }
    diagnose::mark_listings(req, &mut checks);
    checks.sort_by(|a, b| {
        (a.kind, &a.server_name, a.address).cmp(&(b.kind, &b.server_name, b.address))
    });
    checks
}

/// The child's questions (SOA and NS, without recursion) to every address
/// of `hosts`, their addresses looked up first.
async fn ask_child_servers(
    req: &VerifyRequest,
    hosts: &NsSet,
    resolver: &AddressResolver,
    client: &Ask<'_>,
) -> Vec<ServerCheck> {
    let mut asked = Vec::new();
    let mut out = Vec::new();
    for (host, r) in resolve_all(hosts, resolver, client).await {
        match r {
            Ok(addrs) => {
                for ip in addrs {
                    asked.push(check_child(req, client, host, ip, RecordType::SOA));
                    asked.push(check_child(req, client, host, ip, RecordType::NS));
                }
            }
            Err(e) => {
                out.push(unresolved(CheckKind::ChildSoa, host, &e));
                out.push(unresolved(CheckKind::ChildNs, host, &e));
            }
        }
    }
    out.extend(futures::future::join_all(asked).await);
    out
}

/// Questions asked with a per-query client and, optionally, a hard deadline
/// after which every unanswered question gives up.
pub(super) struct Ask<'a> {
    pub(super) client: &'a DnsClient,
    pub(super) until: Option<TokioInstant>,
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
                    rtype,
                })
            }),
        }
    }

    pub(super) async fn bounded<T>(&self, f: impl std::future::Future<Output = T>) -> Option<T> {
        match self.until {
            None => Some(f.await),
            Some(until) => tokio::time::timeout_at(until, f).await.ok(),
        }
    }
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

pub(super) fn blank(
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
        listed: None,
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
        // More servers at the apex than in the delegation is no fault
        // (Zonemaster's notice EXTRA_NAME_CHILD); one fewer is.
        c.ok = want.iter().all(|s| apex.contains(s));
        c.detail = if apex == *want {
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
            .filter(|r| r.rtype == RecordType::NS && r.owner_is(&req.parent_zone))
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
                RecordData::Soa { minimum, .. } if r.owner_is(zone) => Some(r.ttl.min(minimum)),
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
