//! Finding where a name is delegated by asking the authoritative chain from
//! the root, with recursion off, the way a resolver with an empty cache
//! would: the root refers to the TLD's servers, they refer to the parent
//! zone's servers, and those either refer the name onwards (a delegation),
//! or answer for it themselves (no delegation). No recursive resolver's
//! cache is trusted for the chain; a resolver is only used to find the
//! addresses of name servers that came without glue.

use std::net::{IpAddr, SocketAddr};

use hickory_proto::rr::RecordType;

use crate::dns::{AddressResolver, DnsClient, DnsResponse, Rcode, RecordData, DNS_PORT};
use crate::name::DomainName;
use crate::nsset::NsSet;

/// A walk to the parent of `name` that failed, for callers that report it
/// with the name: the [`WalkError`] stays its source.
#[derive(Debug, thiserror::Error)]
#[error("walking from the root servers to the parent of {name}: {source}")]
pub struct WalkFailed {
    /// The name whose parent was looked for.
    pub name: DomainName,
    /// Why the walk stopped.
    #[source]
    pub source: WalkError,
}

/// Most zone cuts followed before giving up (a loop, or a broken chain).
pub const MAX_DEPTH: usize = 16;

/// Where a name's delegation comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentFound {
    /// The name asked about.
    pub name: DomainName,
    /// The zone that holds (or would hold) the delegation: the closest
    /// enclosing zone whose servers answer for the name.
    pub parent_zone: DomainName,
    /// That zone's name servers, as the zone above refers to them.
    pub parent_name_servers: NsSet,
    /// What the parent's servers refer the name to: `None` when they answer
    /// for the name themselves (no delegation: NXDOMAIN, or no NS record).
    pub delegated_to: Option<NsSet>,
    /// The zones walked through from the root, in order (`.` first).
    pub chain: Vec<String>,
}

/// Why the walk stopped without an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WalkError {
    /// No server of a zone on the way answered usefully.
    #[error("no name server of {zone} answered for {name}: {reasons}")]
    Unreachable {
        /// The zone whose servers were asked.
        zone: String,
        /// The name asked about.
        name: String,
        /// What each server did, `; `-separated.
        reasons: String,
    },
    /// A zone's servers could not be given addresses.
    #[error("cannot find the addresses of {zone}'s name servers [{servers}]: {reason}")]
    NoAddresses {
        /// The zone.
        zone: String,
        /// Its name servers.
        servers: String,
        /// Why.
        reason: String,
    },
    /// More than [`MAX_DEPTH`] zone cuts, or a referral that does not lead
    /// closer to the name.
    #[error("the delegation chain for {name} does not end: {detail}")]
    Loop {
        /// The name asked about.
        name: String,
        /// What was seen.
        detail: String,
    },
    /// A server asked as a root server answered what only a server of the
    /// name's own zones would: it answered for the name itself, or referred
    /// the name itself. The name is valid; the server is not a root server.
    #[error(
        "{server}, asked as a root server, {what}; check the root servers the check was given"
    )]
    UnexpectedAnswer {
        /// The server that answered.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// What it answered, in words.
        what: String,
    },
    /// The name is the root or a top-level domain: it has no parent to check.
    #[error("{0} has no parent zone to check; expected a name such as api.example.com")]
    NoParent(String),
}

/// Walks from `roots` (the root servers' addresses) down to the zone that
/// holds the delegation of `name`.
pub async fn find_parent(
    name: &DomainName,
    roots: &[SocketAddr],
    client: &DnsClient,
    resolver: &AddressResolver,
) -> Result<ParentFound, WalkError> {
    if name.label_count() < 2 {
        return Err(WalkError::NoParent(name.to_string()));
    }
    let mut zone: Option<DomainName> = None; // None: the root
    let mut zone_ns = NsSet::new();
    let mut servers: Vec<SocketAddr> = roots.to_vec();
    let mut chain = vec![".".to_string()];
    for _ in 0..MAX_DEPTH {
        let zone_text = zone
            .as_ref()
            .map_or_else(|| ".".to_string(), |z| z.to_string());
        let resp = ask_any(&servers, name, client, &zone_text).await?;
        match step(name, zone.as_ref(), &resp) {
            Step::Referral { cut, ns } if &cut == name => {
                let parent_zone = zone.ok_or_else(|| WalkError::UnexpectedAnswer {
                    server: resp.server,
                    name: name.to_string(),
                    what: format!(
                        "referred {name} itself to {ns}, as only a server of its parent zone does"
                    ),
                })?;
                return Ok(ParentFound {
                    name: name.clone(),
                    parent_zone,
                    parent_name_servers: zone_ns,
                    delegated_to: Some(ns),
                    chain,
                });
            }
            Step::Referral { cut, ns } => {
                servers = addresses(&cut, &ns, &resp, resolver).await?;
                chain.push(cut.to_string());
                zone = Some(cut);
                zone_ns = ns;
            }
            Step::Answered { apex_ns } => {
                let parent_zone = zone.ok_or_else(|| unexpected_answer(name, &resp))?;
                return Ok(ParentFound {
                    name: name.clone(),
                    parent_zone,
                    parent_name_servers: zone_ns,
                    delegated_to: apex_ns,
                    chain,
                });
            }
            Step::Sideways(detail) => {
                return Err(WalkError::Loop {
                    name: name.to_string(),
                    detail,
                })
            }
        }
    }
    Err(WalkError::Loop {
        name: name.to_string(),
        detail: format!("more than {MAX_DEPTH} zone cuts ({})", chain.join(" > ")),
    })
}

/// What each server of a zone refers `name` to: the NS set of its
/// referral (or, for a server that answers for the name itself, of its
/// answer), one entry per server that gave one. A zone's servers can
/// disagree (a secondary behind its primary): a delegation any of them
/// still serves is one a resolver may be sent to.
pub async fn delegations_from_each(
    name: &DomainName,
    servers: &NsSet,
    client: &DnsClient,
    resolver: &AddressResolver,
) -> Vec<(SocketAddr, NsSet)> {
    let mut out = Vec::new();
    for host in servers.iter() {
        let Ok(ips) = resolver.lookup(host).await else {
            continue;
        };
        for ip in ips {
            let server = SocketAddr::new(ip, DNS_PORT);
            let Ok(r) = client.query(server, name, RecordType::NS, false).await else {
                continue;
            };
            let ns = if r.authoritative {
                r.answer_ns(name)
            } else {
                r.authority_ns(name)
            };
            if !ns.is_empty() {
                out.push((server, ns));
            }
        }
    }
    out
}

/// A root server's answer for the name itself, which only a server of the
/// name's own zones gives.
fn unexpected_answer(name: &DomainName, resp: &DnsResponse) -> WalkError {
    let how = if resp.authoritative {
        "authoritatively"
    } else {
        "without the authoritative flag"
    };
    WalkError::UnexpectedAnswer {
        server: resp.server,
        name: name.to_string(),
        what: format!(
            "answered {} for {name} NS {how} and without a referral",
            resp.rcode
        ),
    }
}

/// What one answer on the way means.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The servers refer to the zone `cut`, closer to the name.
    Referral { cut: DomainName, ns: NsSet },
    /// The servers answer for the name themselves; with the NS set they
    /// hold at the name, if any (a server hosting parent and child zones).
    Answered { apex_ns: Option<NsSet> },
    /// A referral that does not lead closer to the name.
    Sideways(String),
}

/// Reads one answer to `name NS`, asked of the servers of `zone`.
fn step(name: &DomainName, zone: Option<&DomainName>, resp: &DnsResponse) -> Step {
    if resp.authoritative {
        let ns = resp.answer_ns(name);
        return Step::Answered {
            apex_ns: (!ns.is_empty()).then_some(ns),
        };
    }
    // A referral: NS records in AUTHORITY, owned by a name between the zone
    // and the name (inclusive of the name).
    let owner = resp.authority.iter().find_map(|r| match r.data {
        RecordData::Ns(_) => r.owner(),
        _ => None,
    });
    let Some(cut) = owner else {
        // Neither authoritative nor a referral: answer as it stands.
        return Step::Answered { apex_ns: None };
    };
    let closer = name.is_at_or_under(&cut) && zone.is_none_or(|z| cut.is_strict_subdomain_of(z));
    if !closer {
        let from = zone.map_or_else(|| ".".to_string(), |z| z.to_string());
        return Step::Sideways(format!(
            "{} (a server of {from}) referred {name} to {cut}, which is not below {from}",
            resp.server
        ));
    }
    let ns = resp.authority_ns(&cut);
    Step::Referral { cut, ns }
}

/// Asks `name NS` of each server in turn until one gives a usable reply.
async fn ask_any(
    servers: &[SocketAddr],
    name: &DomainName,
    client: &DnsClient,
    zone: &str,
) -> Result<DnsResponse, WalkError> {
    let mut reasons = Vec::new();
    for &server in servers {
        match client.query(server, name, RecordType::NS, false).await {
            Ok(r) if r.rcode == Rcode::NOERROR || r.rcode == Rcode::NXDOMAIN => return Ok(r),
            Ok(r) => reasons.push(format!("{server} answered {}", r.rcode)),
            Err(e) => reasons.push(e.to_string()),
        }
    }
    if reasons.is_empty() {
        reasons.push("no addresses to ask".into());
    }
    Err(WalkError::Unreachable {
        zone: zone.to_string(),
        name: name.to_string(),
        reasons: reasons.join("; "),
    })
}

/// Addresses of a zone's name servers: glue from the referral, else looked
/// up through the resolver.
async fn addresses(
    zone: &DomainName,
    ns: &NsSet,
    resp: &DnsResponse,
    resolver: &AddressResolver,
) -> Result<Vec<SocketAddr>, WalkError> {
    let mut out = Vec::new();
    let mut reasons = Vec::new();
    for host in ns.iter() {
        let glue: Vec<IpAddr> = resp
            .additional
            .iter()
            .filter(|r| r.owner_is(host))
            .filter_map(|r| match r.data {
                RecordData::A(a) => Some(IpAddr::V4(a)),
                RecordData::Aaaa(a) => Some(IpAddr::V6(a)),
                _ => None,
            })
            .collect();
        let ips = if glue.is_empty() {
            match resolver.lookup(host).await {
                Ok(ips) => ips,
                Err(e) => {
                    reasons.push(format!("{host}: {e}"));
                    continue;
                }
            }
        } else {
            glue
        };
        out.extend(ips.into_iter().map(|ip| SocketAddr::new(ip, DNS_PORT)));
    }
    if out.is_empty() {
        return Err(WalkError::NoAddresses {
            zone: zone.to_string(),
            servers: ns.to_strings().join(", "),
            reason: if reasons.is_empty() {
                "the referral listed no name servers".into()
            } else {
                reasons.join("; ")
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::DnsRecord;
    use std::time::Duration;

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    fn ns_rec(owner: &str, target: &str) -> DnsRecord {
        DnsRecord {
            name: owner.into(),
            rtype: RecordType::NS,
            ttl: 172_800,
            data: RecordData::Ns(n(target)),
        }
    }

    fn resp(
        authoritative: bool,
        answers: Vec<DnsRecord>,
        authority: Vec<DnsRecord>,
    ) -> DnsResponse {
        DnsResponse {
            server: "127.0.0.1:53".parse().unwrap(),
            rcode: Rcode::NOERROR,
            authoritative,
            truncated: false,
            recursion_available: false,
            answers,
            authority,
            additional: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    #[test]
    fn a_referral_to_a_closer_zone_is_followed() {
        let r = resp(false, vec![], vec![ns_rec("com", "a.gtld.com")]);
        match step(&n("api.example.com"), None, &r) {
            Step::Referral { cut, ns } => {
                assert_eq!(cut, n("com"));
                assert!(ns.contains(&n("a.gtld.com")));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_referral_for_the_name_itself_is_the_delegation() {
        let r = resp(
            false,
            vec![],
            vec![ns_rec("api.example.com", "ns-1.awsdns-01.com")],
        );
        assert!(matches!(
            step(&n("api.example.com"), Some(&n("example.com")), &r),
            Step::Referral { cut, .. } if cut == n("api.example.com")
        ));
    }

    #[test]
    fn an_authoritative_answer_means_no_delegation_below() {
        let r = resp(true, vec![], vec![]);
        assert_eq!(
            step(&n("api.example.com"), Some(&n("example.com")), &r),
            Step::Answered { apex_ns: None }
        );
    }

    #[test]
    fn a_root_server_answering_for_the_name_says_which_server_answered_what() {
        let mut r = resp(true, vec![], vec![]);
        r.rcode = Rcode::NXDOMAIN;
        let e = unexpected_answer(&n("api.example.com"), &r).to_string();
        assert_eq!(
            e,
            "127.0.0.1:53, asked as a root server, answered NXDOMAIN for api.example.com NS authoritatively and without a referral; check the root servers the check was given"
        );
        assert!(!e.contains("expected a name such as"), "{e}");
    }

    #[test]
    fn a_referral_sideways_or_upwards_is_refused() {
        let r = resp(false, vec![], vec![ns_rec("org", "a.org")]);
        assert!(matches!(
            step(&n("api.example.com"), Some(&n("com")), &r),
            Step::Sideways(_)
        ));
        let r = resp(false, vec![], vec![ns_rec("com", "a.gtld.com")]);
        assert!(matches!(
            step(&n("api.example.com"), Some(&n("example.com")), &r),
            Step::Sideways(_)
        ));
    }
}
