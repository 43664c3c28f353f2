//! DNS transport: one question to one server, answered as plain data.
//!
//! [`DnsClient::query`] sends a single question over UDP with EDNS0 (payload
//! 1232), checks the reply's id and question, retries on timeout and repeats
//! the question over TCP when the reply is truncated. The reply comes back as a
//! [`DnsResponse`] whose records are converted to [`DnsRecord`]s, so callers
//! never touch hickory types other than [`RecordType`].
//!
//! [`AddressResolver`] turns name-server host names into addresses by asking
//! recursive resolvers (the system's, from `/etc/resolv.conf`, or explicit
//! ones) and caches what it learns for its own lifetime.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
pub use hickory_proto::rr::RecordType;
use hickory_proto::rr::{Name, RData, Record};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::name::DomainName;
use crate::nsset::NsSet;

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
    /// The response code in upper case: `NOERROR`, `NXDOMAIN`, `REFUSED`,
    /// `SERVFAIL`, ...
    pub rcode: String,
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
    /// The record type as DNS presents it: `NS`, `SOA`, `A`, ...
    pub rtype: String,
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

/// Resolves host names to addresses through recursive resolvers, with a cache
/// that lasts as long as the resolver.
#[derive(Debug)]
pub struct AddressResolver {
    resolvers: Vec<SocketAddr>,
    client: DnsClient,
    cache: Mutex<HashMap<DomainName, Vec<IpAddr>>>,
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
        rtype: String,
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
        rtype: String,
    },
    /// A socket error.
    #[error("querying {server} for {name} {rtype}: {source}")]
    Io {
        /// The server asked.
        server: SocketAddr,
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: String,
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
        rtype: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The question itself could not be encoded.
    #[error("cannot encode a query for {name} {rtype}: {reason}")]
    Encode {
        /// The name asked about.
        name: String,
        /// The record type asked for.
        rtype: String,
        /// Why.
        reason: String,
    },
    /// The resolvers answered, but without an address for the host.
    #[error("cannot resolve {host}: {reason}")]
    NoAddress {
        /// The host name.
        host: DomainName,
        /// What the resolvers said (`NXDOMAIN`, no A record, ...).
        reason: String,
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

impl DnsClient {
    /// A client with the given per-query timeout and retry count.
    pub fn new(timeout: Duration, retries: u32) -> Self {
        DnsClient { timeout, retries }
    }

    /// Asks `server` one question. With `recursion_desired` false the server
    /// answers from its own zones only, as verification wants.
    pub async fn query(
        &self,
        server: SocketAddr,
        name: &DomainName,
        rtype: RecordType,
        recursion_desired: bool,
    ) -> Result<DnsResponse, DnsError> {
        let qname = Name::from_ascii(name.fqdn()).map_err(|e| DnsError::Encode {
            name: name.to_string(),
            rtype: rtype.to_string(),
            reason: e.to_string(),
        })?;
        let ctx = Ctx {
            server,
            name: name.to_string(),
            rtype,
        };
        let mut last_err = None;
        for attempt in 0..=self.retries {
            let (id, packet) = build_query(&qname, rtype, recursion_desired, &ctx)?;
            let started = Instant::now();
            match tokio::time::timeout(self.timeout, udp_exchange(&ctx, id, &qname, &packet)).await
            {
                Ok(Ok(msg)) if msg.metadata.truncation => {
                    tracing::debug!(%server, name = %ctx.name, "truncated reply, retrying over TCP");
                    let started = Instant::now();
                    let msg = match tokio::time::timeout(
                        self.timeout,
                        tcp_exchange(&ctx, id, &qname, &packet),
                    )
                    .await
                    {
                        Ok(r) => r?,
                        Err(_) => return Err(ctx.timeout(self.timeout)),
                    };
                    let mut resp = convert(server, &msg, started.elapsed());
                    resp.truncated = true;
                    return Ok(resp);
                }
                Ok(Ok(msg)) => return Ok(convert(server, &msg, started.elapsed())),
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    tracing::debug!(%server, name = %ctx.name, attempt, "no reply");
                    last_err = Some(ctx.timeout(self.timeout));
                }
            }
        }
        Err(last_err.unwrap_or_else(|| ctx.timeout(self.timeout)))
    }
}

impl DnsResponse {
    /// True when the response code is `NOERROR`.
    pub fn is_noerror(&self) -> bool {
        self.rcode == "NOERROR"
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

impl AddressResolver {
    /// A resolver asking the given recursive resolvers, in order.
    pub fn new(resolvers: Vec<SocketAddr>) -> Self {
        Self::with_client(resolvers, DnsClient::default())
    }

    /// Like [`new`](Self::new) with a specific client (timeouts, retries).
    pub fn with_client(resolvers: Vec<SocketAddr>, client: DnsClient) -> Self {
        AddressResolver {
            resolvers,
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The system's resolvers, from `/etc/resolv.conf`, on port 53.
    pub fn from_system() -> Result<Self, DnsError> {
        Self::from_resolv_conf(Path::new("/etc/resolv.conf"))
    }

    /// The resolvers named in a resolv.conf file, on port 53.
    pub fn from_resolv_conf(path: &Path) -> Result<Self, DnsError> {
        let config_error = |reason: String| DnsError::ResolverConfig {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| config_error(e.to_string()))?;
        let conf = resolv_conf::Config::parse(&bytes).map_err(|e| config_error(e.to_string()))?;
        let resolvers: Vec<SocketAddr> = conf
            .nameservers
            .iter()
            .map(|ip| SocketAddr::new(IpAddr::from(ip), DNS_PORT))
            .collect();
        if resolvers.is_empty() {
            return Err(DnsError::NoResolvers);
        }
        Ok(Self::new(resolvers))
    }

    /// The recursive resolvers asked, in order.
    pub fn resolvers(&self) -> &[SocketAddr] {
        &self.resolvers
    }

    /// The client used for lookups.
    pub fn client(&self) -> &DnsClient {
        &self.client
    }

    /// Records addresses for `host` as if looked up (static hints).
    pub fn insert(&self, host: DomainName, addrs: Vec<IpAddr>) {
        self.lock_cache().insert(host, addrs);
    }

    /// The IPv4 addresses of `host`, following CNAMEs in the answer. The
    /// resolvers are tried in order until one answers; answers are cached.
    pub async fn lookup(&self, host: &DomainName) -> Result<Vec<IpAddr>, DnsError> {
        if let Some(hit) = self.lock_cache().get(host) {
            return Ok(hit.clone());
        }
        if self.resolvers.is_empty() {
            return Err(DnsError::NoResolvers);
        }
        let mut last_err = None;
        for resolver in &self.resolvers {
            let resp = match self
                .client
                .query(*resolver, host, RecordType::A, true)
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(%resolver, %host, error = %e, "address lookup failed");
                    last_err = Some(e);
                    continue;
                }
            };
            if resp.rcode == "SERVFAIL" || resp.rcode == "REFUSED" {
                last_err = Some(DnsError::NoAddress {
                    host: host.clone(),
                    reason: format!("resolver {resolver} answered {}", resp.rcode),
                });
                continue;
            }
            let addrs = follow_a(&resp.answers, host);
            if addrs.is_empty() {
                let reason = if resp.is_noerror() {
                    format!("resolver {resolver} found no A record")
                } else {
                    format!("resolver {resolver} answered {}", resp.rcode)
                };
                return Err(DnsError::NoAddress {
                    host: host.clone(),
                    reason,
                });
            }
            self.lock_cache().insert(host.clone(), addrs.clone());
            return Ok(addrs);
        }
        Err(last_err.unwrap_or(DnsError::NoResolvers))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<DomainName, Vec<IpAddr>>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Formats a duration briefly: `2s`, `1.5s`, `250ms`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms >= 1000 && ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

/// Upper-case mnemonic of a response code.
pub fn rcode_name(rc: ResponseCode) -> String {
    match rc {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
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
        rcode: rcode_name(msg.metadata.response_code),
        authoritative: msg.metadata.authoritative,
        truncated: msg.metadata.truncation,
        recursion_available: msg.metadata.recursion_available,
        answers: records(&msg.answers),
        authority: records(&msg.authorities),
        additional: records(&msg.additionals),
        latency,
    }
}

struct Ctx {
    server: SocketAddr,
    name: String,
    rtype: RecordType,
}

impl Ctx {
    fn timeout(&self, after: Duration) -> DnsError {
        DnsError::Timeout {
            server: self.server,
            name: self.name.clone(),
            rtype: self.rtype.to_string(),
            after,
        }
    }
    fn io(&self, source: std::io::Error) -> DnsError {
        DnsError::Io {
            server: self.server,
            name: self.name.clone(),
            rtype: self.rtype.to_string(),
            source,
        }
    }
    fn malformed(&self, reason: impl Into<String>) -> DnsError {
        DnsError::Malformed {
            server: self.server,
            name: self.name.clone(),
            rtype: self.rtype.to_string(),
            reason: reason.into(),
        }
    }
}

fn build_query(
    qname: &Name,
    rtype: RecordType,
    recursion_desired: bool,
    ctx: &Ctx,
) -> Result<(u16, Vec<u8>), DnsError> {
    let id: u16 = rand::random();
    let mut msg = Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = recursion_desired;
    msg.add_query(Query::query(qname.clone(), rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(EDNS_PAYLOAD);
    msg.set_edns(edns);
    let packet = msg.to_vec().map_err(|e| DnsError::Encode {
        name: ctx.name.clone(),
        rtype: rtype.to_string(),
        reason: e.to_string(),
    })?;
    Ok((id, packet))
}

/// Checks that a reply belongs to the question; `Ok(None)` for a stray packet
/// that should be ignored.
fn check_reply(ctx: &Ctx, id: u16, qname: &Name, buf: &[u8]) -> Result<Option<Message>, DnsError> {
    let Ok(msg) = Message::from_vec(buf) else {
        if buf.len() >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            let msg = Message::from_vec(buf).err().map(|e| e.to_string());
            return Err(ctx.malformed(msg.unwrap_or_default()));
        }
        return Ok(None);
    };
    if msg.metadata.id != id || msg.metadata.message_type != MessageType::Response {
        return Ok(None);
    }
    match msg.queries.first() {
        Some(q)
            if q.query_type() == ctx.rtype && q.name().to_lowercase() == qname.to_lowercase() =>
        {
            Ok(Some(msg))
        }
        // Some servers omit the question in error replies.
        None if msg.metadata.response_code != ResponseCode::NoError => Ok(Some(msg)),
        _ => Err(ctx.malformed("the reply answers a different question")),
    }
}

async fn udp_exchange(
    ctx: &Ctx,
    id: u16,
    qname: &Name,
    packet: &[u8],
) -> Result<Message, DnsError> {
    let bind: SocketAddr = if ctx.server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).await.map_err(|e| ctx.io(e))?;
    sock.connect(ctx.server).await.map_err(|e| ctx.io(e))?;
    sock.send(packet).await.map_err(|e| ctx.io(e))?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = sock.recv(&mut buf).await.map_err(|e| ctx.io(e))?;
        if let Some(msg) = check_reply(ctx, id, qname, &buf[..n])? {
            return Ok(msg);
        }
    }
}

async fn tcp_exchange(
    ctx: &Ctx,
    id: u16,
    qname: &Name,
    packet: &[u8],
) -> Result<Message, DnsError> {
    let mut stream = TcpStream::connect(ctx.server)
        .await
        .map_err(|e| ctx.io(e))?;
    let len = u16::try_from(packet.len()).map_err(|_| ctx.malformed("query too long"))?;
    let mut framed = Vec::with_capacity(packet.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(packet);
    stream.write_all(&framed).await.map_err(|e| ctx.io(e))?;
    let mut len_buf = [0u8; 2];
    stream
        .read_exact(&mut len_buf)
        .await
        .map_err(|e| ctx.io(e))?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len_buf))];
    stream.read_exact(&mut buf).await.map_err(|e| ctx.io(e))?;
    check_reply(ctx, id, qname, &buf)?.ok_or_else(|| ctx.malformed("TCP reply with a wrong id"))
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
        rtype: r.record_type().to_string(),
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

fn follow_a(answers: &[DnsRecord], host: &DomainName) -> Vec<IpAddr> {
    let mut target = host.as_str().to_string();
    for _ in 0..8 {
        let addrs: Vec<IpAddr> = answers
            .iter()
            .filter(|r| r.name == target)
            .filter_map(|r| match r.data {
                RecordData::A(a) => Some(IpAddr::V4(a)),
                _ => None,
            })
            .collect();
        if !addrs.is_empty() {
            return addrs;
        }
        let next = answers.iter().find_map(|r| match &r.data {
            RecordData::Cname(c) if r.name == target => Some(c.as_str().to_string()),
            _ => None,
        });
        match next {
            Some(n) => target = n,
            None => break,
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    fn hn(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn ctx() -> Ctx {
        Ctx {
            server: "127.0.0.1:53".parse().unwrap(),
            name: "api.example.com".into(),
            rtype: RecordType::NS,
        }
    }

    fn referral(id: u16) -> Message {
        let mut m = Message::response(id, OpCode::Query);
        m.add_query(Query::query(hn("API.example.com."), RecordType::NS));
        for ns in ["NS-1.awsdns-01.com.", "ns-2.awsdns-02.net."] {
            m.add_authority(Record::from_rdata(
                hn("api.example.com."),
                172800,
                RData::NS(NS(hn(ns))),
            ));
        }
        m.add_additional(Record::from_rdata(
            hn("ns-1.awsdns-01.com."),
            300,
            RData::A(A("127.0.20.1".parse().unwrap())),
        ));
        let mut e = Edns::new();
        e.set_max_payload(1232);
        m.set_edns(e);
        m
    }

    #[test]
    fn referral_round_trips_through_the_wire() {
        let wire = referral(4242).to_vec().unwrap();
        let msg = check_reply(&ctx(), 4242, &hn("api.example.com."), &wire)
            .unwrap()
            .unwrap();
        let resp = convert(ctx().server, &msg, Duration::from_millis(3));
        assert_eq!(resp.rcode, "NOERROR");
        assert!(!resp.authoritative);
        assert!(resp.answers.is_empty());
        assert_eq!(
            resp.authority_ns(&n("api.example.com")),
            NsSet::parse(["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"]).unwrap()
        );
        assert!(resp.answer_ns(&n("api.example.com")).is_empty());
        // The OPT pseudo-record is not an additional record.
        assert_eq!(resp.additional.len(), 1);
        assert_eq!(
            resp.additional[0].data,
            RecordData::A("127.0.20.1".parse().unwrap())
        );
        assert_eq!(
            resp.authority[0].to_string(),
            "api.example.com 172800 NS ns-1.awsdns-01.com."
        );
    }

    #[test]
    fn stray_and_mismatched_replies_are_told_apart() {
        let wire = referral(1).to_vec().unwrap();
        // Another id: ignored, keep waiting.
        assert!(check_reply(&ctx(), 2, &hn("api.example.com."), &wire)
            .unwrap()
            .is_none());
        // Same id, other question: an error.
        let err = check_reply(&ctx(), 1, &hn("www.example.com."), &wire).unwrap_err();
        assert!(matches!(err, DnsError::Malformed { .. }), "{err}");
        // Garbage with our id.
        let err = check_reply(&ctx(), 0x0102, &hn("api.example.com."), &[1, 2, 3]).unwrap_err();
        assert!(err.to_string().contains("malformed reply"), "{err}");
    }

    #[test]
    fn negative_answer_carries_the_soa_ttl() {
        let mut m = Message::error_msg(7, OpCode::Query, ResponseCode::NXDomain);
        m.add_query(Query::query(hn("api.example.com."), RecordType::SOA));
        m.add_authority(Record::from_rdata(
            hn("example.com."),
            812,
            RData::SOA(SOA::new(
                hn("ns1.example.com."),
                hn("hostmaster.example.com."),
                1,
                7200,
                900,
                1209600,
                86400,
            )),
        ));
        let wire = m.to_vec().unwrap();
        let msg = Message::from_vec(&wire).unwrap();
        let resp = convert(ctx().server, &msg, Duration::ZERO);
        assert_eq!(resp.rcode, "NXDOMAIN");
        assert_eq!(resp.negative_ttl(), Some(812));
        assert!(!resp.has_answer_soa(&n("api.example.com")));
    }

    #[test]
    fn root_owner_and_cname_chains() {
        let mut m = Message::response(9, OpCode::Query);
        m.add_answer(Record::from_rdata(
            Name::root(),
            5,
            RData::NS(NS(hn("a.root-servers.net."))),
        ));
        m.add_answer(Record::from_rdata(
            hn("ns.example.com."),
            5,
            RData::CNAME(CNAME(hn("Real.Example.NET."))),
        ));
        m.add_answer(Record::from_rdata(
            hn("real.example.net."),
            5,
            RData::A(A("127.0.0.9".parse().unwrap())),
        ));
        let resp = convert(
            ctx().server,
            &Message::from_vec(&m.to_vec().unwrap()).unwrap(),
            Duration::ZERO,
        );
        assert_eq!(resp.answers[0].name, ".");
        assert_eq!(resp.answers[0].owner(), None);
        assert_eq!(
            follow_a(&resp.answers, &n("ns.example.com")),
            vec![IpAddr::from([127, 0, 0, 9])]
        );
        assert!(follow_a(&resp.answers, &n("other.example.com")).is_empty());
    }

    #[test]
    fn query_encodes_question_flags_and_edns() {
        let (id, wire) =
            build_query(&hn("api.example.com."), RecordType::SOA, false, &ctx()).unwrap();
        let m = Message::from_vec(&wire).unwrap();
        assert_eq!(m.metadata.id, id);
        assert!(!m.metadata.recursion_desired);
        assert_eq!(m.queries[0].query_type(), RecordType::SOA);
        assert_eq!(m.edns.as_ref().map(Edns::max_payload), Some(EDNS_PAYLOAD));
    }

    #[test]
    fn resolver_strings() {
        assert_eq!(
            parse_resolver("127.0.10.53").unwrap(),
            "127.0.10.53:53".parse().unwrap()
        );
        assert_eq!(
            parse_resolver(" 127.0.10.53:5353 ").unwrap(),
            "127.0.10.53:5353".parse().unwrap()
        );
        assert_eq!(parse_resolver("::1").unwrap(), "[::1]:53".parse().unwrap());
        assert_eq!(
            parse_resolver("[::1]").unwrap(),
            "[::1]:53".parse().unwrap()
        );
        assert!(matches!(
            parse_resolver("resolver.example"),
            Err(DnsError::BadResolver { .. })
        ));
    }

    #[test]
    fn error_messages_name_server_question_and_timeout() {
        let e = ctx().timeout(Duration::from_secs(2));
        assert_eq!(
            e.to_string(),
            "querying 127.0.0.1:53 for api.example.com NS: timed out after 2s"
        );
        assert_eq!(fmt_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(fmt_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn resolv_conf_is_read() {
        let dir = std::env::temp_dir().join(format!("r53d-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(&path, "# test\nnameserver 127.0.10.53\nnameserver ::1\n").unwrap();
        let r = AddressResolver::from_resolv_conf(&path).unwrap();
        assert_eq!(
            r.resolvers(),
            &[
                "127.0.10.53:53".parse().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
        std::fs::write(&path, "search example.com\n").unwrap();
        assert!(matches!(
            AddressResolver::from_resolv_conf(&path),
            Err(DnsError::NoResolvers)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn silent_server_times_out_after_retries() {
        let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server = silent.local_addr().unwrap();
        let client = DnsClient::new(Duration::from_millis(100), 2);
        let started = Instant::now();
        let err = client
            .query(server, &n("api.example.com"), RecordType::NS, false)
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(
            err.to_string(),
            format!("querying {server} for api.example.com NS: timed out after 100ms")
        );
        // One question plus two retries.
        let mut buf = [0u8; 512];
        for _ in 0..3 {
            let (len, _) = tokio::time::timeout(Duration::from_secs(1), silent.recv_from(&mut buf))
                .await
                .expect("the retries reached the server")
                .unwrap();
            let m = Message::from_vec(&buf[..len]).unwrap();
            assert_eq!(m.queries[0].name().to_ascii(), "api.example.com.");
            assert!(!m.metadata.recursion_desired);
        }
    }

    #[tokio::test]
    async fn lookup_uses_cache_and_reports_missing_resolvers() {
        let r = AddressResolver::new(Vec::new());
        assert!(matches!(
            r.lookup(&n("ns.example.com")).await,
            Err(DnsError::NoResolvers)
        ));
        r.insert(n("ns.example.com"), vec![IpAddr::from([127, 0, 0, 7])]);
        assert_eq!(
            r.lookup(&n("ns.example.com")).await.unwrap(),
            vec![IpAddr::from([127, 0, 0, 7])]
        );
    }
}
