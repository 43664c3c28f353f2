//! DNS transport: one question to one server, answered as plain data, and
//! name-server addresses through recursive resolvers.
//!
//! [`DnsClient::query`] (in `exchange`) asks one server one question over
//! hickory-net's UDP client stream with EDNS0 (payload 1232), retries on
//! timeout and repeats the question over hickory-net's TCP stream when the
//! reply is truncated. The reply comes back as a [`DnsResponse`] whose records
//! are converted to [`DnsRecord`]s, so callers never touch hickory types other
//! than [`RecordType`] and the typed response code [`Rcode`].
//!
//! [`AddressResolver`] (in `resolver`) turns name-server host names into
//! addresses with hickory-resolver, asking recursive resolvers (the system's,
//! from `/etc/resolv.conf`, or explicit ones): TTL-bound caching, CNAME
//! chasing, TCP fallback and AAAA when a host has no A record.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
pub use hickory_proto::rr::RecordType;
use hickory_proto::rr::{Name, RData, Record};
use serde::Serialize;

use crate::name::DomainName;
use crate::nsset::NsSet;

mod exchange;
mod resolver;

pub use resolver::AddressResolver;

/// EDNS0 UDP payload size advertised in queries (DNS flag day 2020).
pub const EDNS_PAYLOAD: u16 = 1232;

/// The standard DNS port.
pub const DNS_PORT: u16 = 53;

/// Sends single DNS questions to single servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsClient {
    /// How long to wait for each reply before retrying.
    pub timeout: Duration,
    /// How many times to repeat a question that got no reply.
    pub retries: u32,
}

impl Default for DnsClient {
    fn default() -> Self {
        DnsClient {
            timeout: Duration::from_secs(2),
            retries: 2,
        }
    }
}

/// A reply from one server, reduced to what verification needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsResponse {
    /// The server that answered.
    pub server: SocketAddr,
    /// The response code; shown as `NOERROR`, `NXDOMAIN`, `REFUSED`, ...
    pub rcode: Rcode,
    /// The AA flag.
    pub authoritative: bool,
    /// The TC flag of the UDP reply (the records then come from TCP).
    pub truncated: bool,
    /// The RA flag.
    pub recursion_available: bool,
    /// The ANSWER section.
    pub answers: Vec<DnsRecord>,
    /// The AUTHORITY section.
    pub authority: Vec<DnsRecord>,
    /// The ADDITIONAL section, without the OPT pseudo-record.
    pub additional: Vec<DnsRecord>,
    /// Time from sending the (last) question to the reply.
    pub latency: Duration,
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name: canonical (lower case, no trailing dot), or `.` for the
    /// root.
    pub name: String,
    /// The record type (shown as DNS presents it: `NS`, `SOA`, `A`, ...).
    pub rtype: RecordType,
    /// Time to live in seconds, as the server sent it.
    pub ttl: u32,
    /// The record data.
    pub data: RecordData,
}

/// Record data of the types verification looks at; others as text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordData {
    /// A name-server host name.
    Ns(DomainName),
    /// An alias target.
    Cname(DomainName),
    /// Start of authority.
    Soa {
        /// Primary name server, as text.
        mname: String,
        /// Responsible mailbox, as text.
        rname: String,
        /// Serial number.
        serial: u32,
        /// Refresh interval.
        refresh: i32,
        /// Retry interval.
        retry: i32,
        /// Expiry.
        expire: i32,
        /// Minimum / negative-caching TTL (RFC 2308).
        minimum: u32,
    },
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// Anything else, in presentation form.
    Other(String),
}

/// A DNS response code, typed (hickory's [`ResponseCode`]), shown and
/// serialized as its upper-case mnemonic: `NOERROR`, `NXDOMAIN`, `REFUSED`.
/// It compares equal to its mnemonic as text (`rcode == "NXDOMAIN"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub ResponseCode);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(ResponseCode::NoError);
    /// The name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(ResponseCode::NXDomain);
    /// The server refused to answer (Route 53 for zones it does not serve).
    pub const REFUSED: Rcode = Rcode(ResponseCode::Refused);
    /// The server failed.
    pub const SERVFAIL: Rcode = Rcode(ResponseCode::ServFail);

    /// The hickory response code.
    pub fn code(self) -> ResponseCode {
        self.0
    }

    /// The upper-case mnemonic, `RCODE<n>` for codes without one.
    pub fn mnemonic(self) -> Cow<'static, str> {
        let name = match self.0 {
            ResponseCode::NoError => "NOERROR",
            ResponseCode::FormErr => "FORMERR",
            ResponseCode::ServFail => "SERVFAIL",
            ResponseCode::NXDomain => "NXDOMAIN",
            ResponseCode::NotImp => "NOTIMP",
            ResponseCode::Refused => "REFUSED",
            ResponseCode::NotAuth => "NOTAUTH",
            ResponseCode::NotZone => "NOTZONE",
            other => return Cow::Owned(format!("RCODE{}", u16::from(other))),
        };
        Cow::Borrowed(name)
    }
}

impl From<ResponseCode> for Rcode {
    fn from(code: ResponseCode) -> Self {
        Rcode(code)
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mnemonic())
    }
}

impl PartialEq<str> for Rcode {
    fn eq(&self, other: &str) -> bool {
        self.mnemonic() == other
    }
}

impl PartialEq<&str> for Rcode {
    fn eq(&self, other: &&str) -> bool {
        self.mnemonic() == *other
    }
}

impl Serialize for Rcode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.mnemonic())
    }
}

/// Why a DNS question got no usable answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// No reply within the timeout, after all retries.
    #[error("querying {server} for {name} {rtype}: timed out after {}", fmt_duration(*after))]
    Timeout {
        /// The server asked.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: RecordType,
        /// The per-query timeout.
        after: Duration,
    },
    /// The caller's deadline passed before a reply came.
    #[error("querying {server} for {name} {rtype}: no reply before the deadline")]
    Deadline {
        /// The server asked.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: RecordType,
    },
    /// A socket error.
    #[error("querying {server} for {name} {rtype}: {source}")]
    Io {
        /// The server asked.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: RecordType,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A reply that could not be decoded or does not answer the question.
    #[error("querying {server} for {name} {rtype}: malformed reply: {reason}")]
    Malformed {
        /// The server asked.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: RecordType,
        /// What is wrong with it.
        reason: String,
    },
    /// The question itself could not be encoded.
    #[error("cannot encode a query for {name} {rtype}: {reason}")]
    Encode {
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: RecordType,
        /// Why.
        reason: String,
    },
    /// The resolvers answered, but without an address for the host
    /// (`NXDOMAIN`, no A or AAAA record, or an error code from every one).
    #[error("cannot resolve {host}: {reason}")]
    NoAddress {
        /// The host name.
        host: DomainName,
        /// What the resolvers said (`NXDOMAIN`, no A record, ...).
        reason: String,
    },
    /// The address lookup failed without an answer that says the host has
    /// none (no reply, a socket error): the host may well exist.
    #[error("looking up the address of {host}: {source}")]
    Lookup {
        /// The host name.
        host: DomainName,
        /// What hickory-resolver reported.
        #[source]
        source: hickory_net::NetError,
    },
    /// No recursive resolver is configured.
    #[error("no recursive resolver is configured (no nameserver line in /etc/resolv.conf and none given)")]
    NoResolvers,
    /// The resolver configuration could not be read.
    #[error("cannot read resolver configuration {path}: {reason}")]
    ResolverConfig {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A resolver given as text is not an address.
    #[error("{input:?} is not a resolver address; expected an IP address with an optional port, such as 127.0.10.53 or 127.0.10.53:5353")]
    BadResolver {
        /// The text given.
        input: String,
    },
}

/// Parses a resolver address: `127.0.10.53`, `127.0.10.53:5353`, `::1` or
/// `[::1]:5353`; the port defaults to 53.
pub fn parse_resolver(s: &str) -> Result<SocketAddr, DnsError> {
    let t = s.trim();
    if let Ok(addr) = t.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bare = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    bare.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, DNS_PORT))
        .map_err(|_| DnsError::BadResolver {
            input: s.to_string(),
        })
}

impl DnsResponse {
    /// True when the response code is `NOERROR`.
    pub fn is_noerror(&self) -> bool {
        self.rcode == Rcode::NOERROR
    }

    /// The NS targets of records owned by `owner` in the ANSWER section.
    pub fn answer_ns(&self, owner: &DomainName) -> NsSet {
        ns_of(&self.answers, owner)
    }

    /// The NS targets of records owned by `owner` in the AUTHORITY section
    /// (a referral).
    pub fn authority_ns(&self, owner: &DomainName) -> NsSet {
        ns_of(&self.authority, owner)
    }

    /// True when the ANSWER section holds an SOA record owned by `owner`.
    pub fn has_answer_soa(&self, owner: &DomainName) -> bool {
        self.answers
            .iter()
            .any(|r| matches!(r.data, RecordData::Soa { .. }) && r.owner_is(owner))
    }

    /// The negative-caching TTL of a negative answer: the TTL of the SOA in
    /// the AUTHORITY section, capped by its minimum field (RFC 2308). A cache
    /// counts this TTL down, so from a recursive resolver it is the time the
    /// negative answer will still be served.
    pub fn negative_ttl(&self) -> Option<u32> {
        self.authority.iter().find_map(|r| match r.data {
            RecordData::Soa { minimum, .. } => Some(r.ttl.min(minimum)),
            _ => None,
        })
    }
}

impl DnsRecord {
    /// The owner as a [`DomainName`]; `None` for the root or a name that is
    /// not a host name (a wildcard, say).
    pub fn owner(&self) -> Option<DomainName> {
        DomainName::parse(&self.name).ok()
    }

    /// True when the owner equals `name`.
    pub fn owner_is(&self, name: &DomainName) -> bool {
        self.name == name.as_str()
    }
}

impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} {}", self.name, self.ttl, self.rtype, self.data)
    }
}

impl fmt::Display for RecordData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordData::Ns(n) | RecordData::Cname(n) => write!(f, "{}", n.fqdn()),
            RecordData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => write!(
                f,
                "{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"
            ),
            RecordData::A(a) => write!(f, "{a}"),
            RecordData::Aaaa(a) => write!(f, "{a}"),
            RecordData::Other(s) => f.write_str(s),
        }
    }
}

/// Formats a duration briefly: `2s`, `1.5s`, `250ms`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

/// Upper-case mnemonic of a response code.
pub fn rcode_name(rc: ResponseCode) -> String {
    Rcode(rc).to_string()
}

/// Converts a decoded hickory message into a [`DnsResponse`].
pub(crate) fn convert(server: SocketAddr, msg: &Message, latency: Duration) -> DnsResponse {
    let records = |rs: &[Record]| -> Vec<DnsRecord> {
        rs.iter()
            .filter(|r| r.record_type() != RecordType::OPT)
            .map(convert_record)
            .collect()
    };
    DnsResponse {
        server,
        rcode: Rcode(msg.metadata.response_code),
        authoritative: msg.metadata.authoritative,
        truncated: msg.metadata.truncation,
        recursion_available: msg.metadata.recursion_available,
        answers: records(&msg.answers),
        authority: records(&msg.authorities),
        additional: records(&msg.additionals),
        latency,
    }
}

fn canonical_name(name: &Name) -> String {
    if name.is_root() {
        return ".".to_string();
    }
    let s = name.to_ascii().to_ascii_lowercase();
    s.strip_suffix('.').map(str::to_string).unwrap_or(s)
}

fn convert_record(r: &Record) -> DnsRecord {
    let data = match &r.data {
        RData::NS(ns) => match DomainName::parse(&ns.0.to_ascii()) {
            Ok(n) => RecordData::Ns(n),
            Err(_) => RecordData::Other(ns.0.to_ascii()),
        },
        RData::CNAME(c) => match DomainName::parse(&c.0.to_ascii()) {
            Ok(n) => RecordData::Cname(n),
            Err(_) => RecordData::Other(c.0.to_ascii()),
        },
        RData::SOA(soa) => RecordData::Soa {
            mname: soa.mname.to_ascii(),
            rname: soa.rname.to_ascii(),
            serial: soa.serial,
            refresh: soa.refresh,
            retry: soa.retry,
            expire: soa.expire,
            minimum: soa.minimum,
        },
        RData::A(a) => RecordData::A(a.0),
        RData::AAAA(a) => RecordData::Aaaa(a.0),
        other => RecordData::Other(other.to_string()),
    };
    DnsRecord {
        name: canonical_name(&r.name),
        rtype: r.record_type(),
        ttl: r.ttl,
        data,
    }
}

fn ns_of(records: &[DnsRecord], owner: &DomainName) -> NsSet {
    records
        .iter()
        .filter(|r| r.owner_is(owner))
        .filter_map(|r| match &r.data {
            RecordData::Ns(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
