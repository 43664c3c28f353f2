//! The NS record of a delegation in a zone on a DNS server that accepts RFC
//! 2136 dynamic updates: read it (authoritative query, recursion off), write
//! it with a compare-and-swap made of update prerequisites (RFC 2136 §2.4),
//! and delete exactly what was written. Every update is signed with TSIG by
//! hickory, and the response's TSIG is verified.
//!
//! - create: prerequisite "RRset does not exist" (NS at the name), add;
//! - replace: prerequisite "RRset exists (value dependent)" with exactly the
//!   values read, delete those, add the new ones;
//! - delete: the same prerequisite, delete those RRs.
//!
//! A prerequisite that fails (YXRRSET, NXRRSET) means someone else changed
//! the record: nothing was changed.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use hickory_proto::op::{update_message, Message, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::tsig::{TsigAlgorithm as HickoryAlg, TsigError};
use hickory_proto::rr::rdata::NS;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordSet, RecordType, TSigner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{DnsUpdateParent, TsigAlgorithm};
use crate::dns::{DnsClient, RecordData};
use crate::error::BoxError;
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::record::NsRecord;

/// TSIG fudge: how far apart the clocks of this host and the server may be.
pub const TSIG_FUDGE: u16 = 300;

/// How long one update exchange may take.
pub const UPDATE_TIMEOUT: Duration = Duration::from_secs(10);

/// What an update did not do, and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// A prerequisite failed: the record is not what this update expected.
    /// `exists` says whether the server said an NS set exists (YXRRSET) or
    /// does not / differs (NXRRSET).
    #[error("{}: the NS record is not what was read (someone else changed it); nothing was changed", if *.exists { "YXRRSET" } else { "NXRRSET" })]
    Prerequisite {
        /// YXRRSET (true) or NXRRSET (false).
        exists: bool,
    },
    /// The server refused the update, with what to check.
    #[error("{0}")]
    Refused(String),
    /// No answer, or an answer that cannot be trusted.
    #[error("{message}")]
    Transport {
        /// What happened and what to check (the source's text included).
        message: String,
        /// What failed, when something did: the [`crate::dns::DnsError`]
        /// of a query, the I/O error of the exchange, hickory's error
        /// encoding, signing or parsing a message.
        #[source]
        source: Option<BoxError>,
    },
}

impl UpdateError {
    /// A transport failure that no error stands behind (an answer that
    /// cannot be trusted, a wait that ran out).
    fn transport(message: impl Into<String>) -> Self {
        UpdateError::Transport {
            message: message.into(),
            source: None,
        }
    }

    /// A transport failure caused by `source`; `message` is the whole text.
    fn transport_from(message: String, source: impl Into<BoxError>) -> Self {
        UpdateError::Transport {
            message,
            source: Some(source.into()),
        }
    }
}

/// The NS record of `name` as the parent's server holds it, and the zone's
/// SOA serial at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    /// The NS record, `None` when there is none.
    pub record: Option<NsRecord>,
    /// The zone's SOA serial when it was read.
    pub serial: u32,
}

/// Reads the zone's SOA serial from the update server, recursion off.
pub async fn read_serial(p: &DnsUpdateParent, client: &DnsClient) -> Result<u32, UpdateError> {
    let resp = client
        .query(p.server, &p.zone, RecordType::SOA, false)
        .await
        .map_err(|e| UpdateError::transport_from(e.to_string(), e))?;
    if !resp.is_noerror() || !resp.authoritative {
        return Err(UpdateError::Refused(format!(
            "{}: the server does not answer authoritatively for zone {} (rcode {}, AA {}); check server and zone",
            p.server, p.zone, resp.rcode, resp.authoritative
        )));
    }
    resp.answers
        .iter()
        .find_map(|r| match r.data {
            RecordData::Soa { serial, .. } if r.owner_is(&p.zone) => Some(serial),
            _ => None,
        })
        .ok_or_else(|| {
            UpdateError::transport(format!(
                "{} gave no SOA record for zone {}",
                p.server, p.zone
            ))
        })
}

/// What the parent's server holds at `name` now, for an error message after
/// a failed prerequisite: the NS values, or none when it cannot be read.
pub async fn values_now(p: &DnsUpdateParent, name: &DomainName, client: &DnsClient) -> NsSet {
    read_ns(p, name, client)
        .await
        .ok()
        .and_then(|v| v.record)
        .map(|r| r.values)
        .unwrap_or_default()
}

/// Reads the NS record of `name` from the update server (authoritative
/// data of the parent zone, recursion off), with the SOA serial it was read
/// at. Reads the serial before and after the record and again if they
/// differ, so the record and the serial belong to one version of the zone.
pub async fn read_ns(
    p: &DnsUpdateParent,
    name: &DomainName,
    client: &DnsClient,
) -> Result<ServerView, UpdateError> {
    let mut serial = read_serial(p, client).await?;
    for _ in 0..3 {
        let resp = client
            .query(p.server, name, RecordType::NS, false)
            .await
            .map_err(|e| UpdateError::transport_from(e.to_string(), e))?;
        if resp.rcode != "NOERROR" && resp.rcode != "NXDOMAIN" {
            return Err(UpdateError::Refused(format!(
                "{} answered {} for {name} NS; check that it is a primary server of zone {}",
                p.server, resp.rcode, p.zone
            )));
        }
        let records: Vec<_> = resp
            .answers
            .iter()
            .chain(resp.authority.iter())
            .filter(|r| r.owner_is(name) && matches!(r.data, RecordData::Ns(_)))
            .collect();
        let record = if records.is_empty() {
            None
        } else {
            let mut values = NsSet::new();
            for r in &records {
                if let RecordData::Ns(n) = &r.data {
                    values.insert(n.clone());
                }
            }
            Some(NsRecord {
                ttl: i64::from(records[0].ttl),
                values,
            })
        };
        let after = read_serial(p, client).await?;
        if after == serial {
            return Ok(ServerView { record, serial });
        }
        serial = after;
    }
    Err(UpdateError::transport(format!(
        "zone {} on {} kept changing while its NS record for {name} was read; try again",
        p.zone, p.server
    )))
}

/// Waits until the server's SOA serial has moved past `before` (RFC 1982
/// serial arithmetic), so that what is read next reflects the update.
/// Returns the new serial.
pub async fn wait_serial_past(
    p: &DnsUpdateParent,
    before: u32,
    client: &DnsClient,
    timeout: Duration,
) -> Result<u32, UpdateError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        let s = read_serial(p, client).await?;
        if serial_gt(s, before) {
            return Ok(s);
        }
        if tokio::time::Instant::now() + delay > deadline {
            return Err(UpdateError::transport(format!(
                "the SOA serial of zone {} on {} is still {s} (not past {before}) {}s after the update was accepted",
                p.zone,
                p.server,
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// `a > b` in RFC 1982 serial number arithmetic.
pub fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// Writes the NS record of `name`: a create when `current` is `None`
/// (prerequisite: no NS RRset at the name), else a compare-and-swap against
/// exactly `current`.
pub async fn write_ns(
    p: &DnsUpdateParent,
    name: &DomainName,
    wanted: &NsRecord,
    current: Option<&NsRecord>,
) -> Result<(), UpdateError> {
    let origin = fq(&p.zone)?;
    let new = rrset(name, wanted)?;
    let msg = match current {
        None => update_message::create(new, origin, false),
        Some(cur) => update_message::compare_and_swap(rrset(name, cur)?, new, origin, false),
    };
    send(p, msg).await
}

/// Deletes exactly `record` at `name`, only if the NS RRset is exactly it.
pub async fn delete_exact(
    p: &DnsUpdateParent,
    name: &DomainName,
    record: &NsRecord,
) -> Result<(), UpdateError> {
    let origin = fq(&p.zone)?;
    let set = rrset(name, record)?;
    let mut prereq = set.clone();
    prereq.set_ttl(0);
    let mut msg = update_message::delete_by_rdata(set, origin, false);
    msg.add_pre_requisites(prereq);
    send(p, msg).await
}

/// Checks the key and the server's update policy without changing
/// anything: a signed update whose only content is a prerequisite that
/// holds in every zone (the apex SOA exists), and no updates. A bad key
/// comes back as BADKEY or BADSIG, a policy that refuses the key as NOTAUTH
/// or REFUSED, exactly as a real update would.
pub async fn probe(p: &DnsUpdateParent) -> Result<(), UpdateError> {
    let origin = fq(&p.zone)?;
    let mut zone = Query::new();
    zone.set_name(origin.clone())
        .set_query_class(DNSClass::IN)
        .set_query_type(RecordType::SOA);
    let mut msg = Message::query();
    msg.metadata.op_code = OpCode::Update;
    msg.metadata.recursion_desired = false;
    msg.add_zone(zone);
    let mut pre = Record::update0(origin, 0, RecordType::SOA);
    pre.dns_class = DNSClass::ANY;
    msg.add_pre_requisite(pre.into_record_of_rdata());
    send(p, msg).await
}

fn fq(n: &DomainName) -> Result<Name, UpdateError> {
    Name::from_ascii(n.fqdn())
        .map_err(|e| UpdateError::transport_from(format!("cannot encode {n}: {e}"), e))
}

fn rrset(name: &DomainName, r: &NsRecord) -> Result<RecordSet, UpdateError> {
    let owner = fq(name)?;
    let ttl = u32::try_from(r.ttl).unwrap_or(u32::MAX);
    let mut set = RecordSet::with_ttl(owner.clone(), RecordType::NS, ttl);
    for v in r.values.iter() {
        set.insert(
            Record::from_rdata(owner.clone(), ttl, RData::NS(NS(fq(v)?))),
            0,
        );
    }
    Ok(set)
}

fn signer(p: &DnsUpdateParent) -> Result<TSigner, UpdateError> {
    let alg = match p.key.algorithm {
        TsigAlgorithm::HmacSha256 => HickoryAlg::HmacSha256,
        TsigAlgorithm::HmacSha384 => HickoryAlg::HmacSha384,
        TsigAlgorithm::HmacSha512 => HickoryAlg::HmacSha512,
    };
    let name = Name::from_ascii(&p.key.name)
        .map_err(|e| UpdateError::transport_from(format!("key name {:?}: {e}", p.key.name), e))?;
    TSigner::new(p.key.secret.clone(), alg, name, TSIG_FUDGE)
        .map_err(|e| UpdateError::transport_from(format!("TSIG key {:?}: {e}", p.key.name), e))
}

/// Signs `msg`, sends it over TCP, verifies the response's TSIG and turns
/// its response code into an outcome.
async fn send(p: &DnsUpdateParent, mut msg: Message) -> Result<(), UpdateError> {
    let signer = signer(p)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut verifier = msg
        .finalize(&signer, now)
        .map_err(|e| UpdateError::transport_from(format!("signing the update: {e}"), e))?;
    let bytes = msg
        .to_vec()
        .map_err(|e| UpdateError::transport_from(format!("encoding the update: {e}"), e))?;
    let reply = tokio::time::timeout(UPDATE_TIMEOUT, exchange(p.server, &bytes))
        .await
        .map_err(|_| {
            UpdateError::transport(format!(
                "no reply within {}s; check that {} is the zone's primary server and reachable over TCP",
                UPDATE_TIMEOUT.as_secs(),
                p.server
            ))
        })?
        .map_err(|e| UpdateError::transport_from(format!("{e}; check server (address and port)"), e))?;
    let resp = Message::from_vec(&reply)
        .map_err(|e| UpdateError::transport_from(format!("malformed reply: {e}"), e))?;
    if resp.metadata.id != msg.metadata.id {
        return Err(UpdateError::transport(
            "the reply does not answer the update (another message ID)",
        ));
    }
    let key = &p.key.name;
    // A TSIG error comes back unsigned (BADKEY, BADSIG) or signed (BADTIME):
    // name it before anything else.
    if let Some(err) = resp.signature().and_then(|s| s.data.error) {
        return Err(UpdateError::Refused(tsig_error_text(err, key, p)));
    }
    match resp.metadata.response_code {
        ResponseCode::BADSIG => {
            return Err(UpdateError::Refused(tsig_error_text(
                TsigError::BadSig,
                key,
                p,
            )))
        }
        ResponseCode::BADKEY => {
            return Err(UpdateError::Refused(tsig_error_text(
                TsigError::BadKey,
                key,
                p,
            )))
        }
        ResponseCode::BADTIME => {
            return Err(UpdateError::Refused(tsig_error_text(
                TsigError::BadTime,
                key,
                p,
            )))
        }
        _ => {}
    }
    // The answer must be signed with our key, or it may not be the server's.
    match (&mut verifier, resp.signature()) {
        (Some(v), Some(_)) => {
            v.verify(&reply).map_err(|e| {
                UpdateError::transport_from(format!(
                    "the reply's TSIG signature does not verify with key '{key}' ({e}); the answer was not trusted"
                ), e)
            })?;
        }
        _ => {
            // Unsigned replies are only trusted to report a refusal; a
            // success must be signed.
            if resp.metadata.response_code == ResponseCode::NoError {
                return Err(UpdateError::transport(format!(
                    "the reply to a signed update is not signed with key '{key}'; the answer was not trusted"
                )));
            }
        }
    }
    match resp.metadata.response_code {
        ResponseCode::NoError => Ok(()),
        ResponseCode::YXRRSet => Err(UpdateError::Prerequisite { exists: true }),
        ResponseCode::NXRRSet => Err(UpdateError::Prerequisite { exists: false }),
        ResponseCode::NotAuth => Err(UpdateError::Refused(format!(
            "NOTAUTH: the server does not accept updates for zone {} with key '{key}'; check key_name, key_secret and the server's update-policy (or ACL) for this key and zone",
            p.zone
        ))),
        ResponseCode::Refused => Err(UpdateError::Refused(format!(
            "REFUSED: the server refuses updates for zone {} from this host or with key '{key}'; check the server's update ACL (allow-update / acl with action update) for this key and zone",
            p.zone
        ))),
        ResponseCode::NotZone => Err(UpdateError::Refused(format!(
            "NOTZONE: the name is not in zone {} on the server; check zone",
            p.zone
        ))),
        ResponseCode::ServFail => Err(UpdateError::Refused(format!(
            "SERVFAIL: the server failed to apply the update to zone {}; check its logs (a read-only zone file, a secondary server)",
            p.zone
        ))),
        other => Err(UpdateError::Refused(format!(
            "{}: the server did not apply the update",
            crate::dns::rcode_name(other)
        ))),
    }
}

fn tsig_error_text(err: TsigError, key: &str, p: &DnsUpdateParent) -> String {
    match err {
        TsigError::BadKey => format!(
            "BADKEY: the server does not know key '{key}' with algorithm {}; check key_name and key_algorithm against the server's key configuration",
            p.key.algorithm.as_str()
        ),
        TsigError::BadSig => format!(
            "BADSIG: the server knows key '{key}' but the signature does not match; check key_secret (and key_algorithm)"
        ),
        TsigError::BadTime => format!(
            "BADTIME: the server's clock and this host's differ by more than {TSIG_FUDGE}s; check the clocks (NTP)"
        ),
        other => format!("TSIG error {}: the server rejected the signature of key '{key}'", u16::from(other)),
    }
}

/// One DNS message over TCP (RFC 1035 §4.2.2: two-byte length prefix).
async fn exchange(server: SocketAddr, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(server).await?;
    let len =
        u16::try_from(msg.len()).map_err(|_| std::io::Error::other("update message too long"))?;
    let mut out = Vec::with_capacity(msg.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(msg);
    s.write_all(&out).await?;
    let mut l = [0u8; 2];
    s.read_exact(&mut l).await?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(l))];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}

/// The prerequisite class of an update record, for tests.
pub fn prerequisite_classes(msg: &Message) -> Vec<DNSClass> {
    msg.prerequisites().iter().map(|r| r.dns_class).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(serial_gt(2, 1));
        assert!(!serial_gt(1, 1));
        assert!(!serial_gt(1, 2));
        assert!(serial_gt(0, u32::MAX));
    }

    #[test]
    fn create_requires_no_rrset_and_swap_requires_exactly_what_was_read() {
        let name = DomainName::parse("api.example.net").unwrap();
        let zone = Name::from_ascii("example.net.").unwrap();
        let a = NsRecord {
            ttl: 300,
            values: NsSet::parse(["ns-1.awsdns-01.com"]).unwrap(),
        };
        let b = NsRecord {
            ttl: 300,
            values: NsSet::parse(["ns-2.awsdns-02.net"]).unwrap(),
        };
        let create = update_message::create(rrset(&name, &a).unwrap(), zone.clone(), false);
        assert_eq!(prerequisite_classes(&create), vec![DNSClass::NONE]);
        let swap = update_message::compare_and_swap(
            rrset(&name, &a).unwrap(),
            rrset(&name, &b).unwrap(),
            zone,
            false,
        );
        // Value dependent: the RRs themselves, in the zone's class.
        assert_eq!(prerequisite_classes(&swap), vec![DNSClass::IN]);
        assert_eq!(swap.prerequisites()[0].ttl, 0);
    }
}
