//! In-process authoritative DNS for the Route 53 pool name servers.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::model::{in_zone, DnsFault, Records, RrType};
use crate::Shared;

/// Bind UDP and TCP on every pool address (synchronously, so errors show).
pub(crate) fn bind_all(
    shared: &Arc<Shared>,
) -> Result<Vec<(String, std::net::UdpSocket, std::net::TcpListener)>, crate::WorldError> {
    let mut out = Vec::new();
    for (name, addr) in shared.infra.pool.all() {
        let sa = SocketAddr::from((*addr, 53));
        let bind_err = |e: std::io::Error| crate::WorldError::Bind {
            addr: sa,
            source: e,
        };
        let u = std::net::UdpSocket::bind(sa).map_err(bind_err)?;
        u.set_nonblocking(true).map_err(bind_err)?;
        let t = std::net::TcpListener::bind(sa).map_err(bind_err)?;
        t.set_nonblocking(true).map_err(bind_err)?;
        out.push((name.clone(), u, t));
    }
    Ok(out)
}

/// Serve one pool address (UDP + TCP) forever.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    name: String,
    udp: std::net::UdpSocket,
    tcp: std::net::TcpListener,
) {
    let (Ok(udp), Ok(tcp)) = (
        tokio::net::UdpSocket::from_std(udp),
        tokio::net::TcpListener::from_std(tcp),
    ) else {
        tracing::error!("cannot register DNS sockets for {name}");
        return;
    };
    let s2 = shared.clone();
    let n2 = name.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = tcp.accept().await else {
                continue;
            };
            let shared = s2.clone();
            let name = n2.clone();
            tokio::spawn(async move {
                loop {
                    let mut len = [0u8; 2];
                    if stream.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut buf = vec![0u8; u16::from_be_bytes(len) as usize];
                    if stream.read_exact(&mut buf).await.is_err() {
                        return;
                    }
                    let Some(resp) = handle(&shared, &name, &buf, None) else {
                        return;
                    };
                    let mut out = (resp.len() as u16).to_be_bytes().to_vec();
                    out.extend_from_slice(&resp);
                    if stream.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let mut buf = vec![0u8; 65535];
    loop {
        let Ok((n, peer)) = udp.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(resp) = handle(&shared, &name, &buf[..n], Some(())) {
            let _ = udp.send_to(&resp, peer).await;
        }
    }
}

fn to_name(s: &str) -> Option<Name> {
    Name::from_ascii(s).ok()
}

fn records_of(rr: &crate::model::RRSet, owner: &str) -> Vec<Record> {
    let ty = rr.rtype.dns_type();
    let Some(name) = to_name(owner) else {
        return Vec::new();
    };
    rr.values
        .iter()
        .filter_map(|v| RData::try_from_str(ty, v).ok())
        .map(|d| Record::from_rdata(name.clone(), rr.ttl, d))
        .collect()
}

/// Build the answer for one query on the server named `server`.
pub(crate) fn handle(
    shared: &Shared,
    server: &str,
    req: &[u8],
    udp: Option<()>,
) -> Option<Vec<u8>> {
    let req = Message::from_vec(req).ok()?;
    if req.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut resp = Message::response(req.metadata.id, req.metadata.op_code);
    resp.metadata.recursion_desired = req.metadata.recursion_desired;
    resp.queries = req.queries.clone();
    let max = req.edns.as_ref().map_or(512, |e| e.max_payload().max(512));
    if req.edns.is_some() {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        resp.edns = Some(e);
    }
    if req.edns.as_ref().is_some_and(|e| e.version() > 0) {
        resp.metadata.response_code = ResponseCode::BADVERS;
        return resp.to_vec().ok();
    }
    if req.metadata.op_code != OpCode::Query || req.queries.len() != 1 {
        resp.metadata.response_code = ResponseCode::NotImp;
        return resp.to_vec().ok();
    }
    let q = &req.queries[0];
    let qname = q.name.to_ascii().to_ascii_lowercase();
    let qname = if qname.ends_with('.') {
        qname
    } else {
        format!("{qname}.")
    };
    let qtype = q.query_type;
    // Route 53 does not do zone transfers.
    if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
        resp.metadata.response_code = ResponseCode::Refused;
        return resp.to_vec().ok();
    }

    let zone: Option<(String, Records)> = {
        let mut st = shared.lock();
        st.advance();
        let now = std::time::Instant::now();
        let lag = st.publish_lag.get(server).copied();
        let mut best: Option<(String, Records)> = None;
        let also = st.also_serving.get(server);
        for acct in st.accounts.values() {
            for z in acct.zones.values() {
                let serves =
                    z.ns.iter().any(|n| n == server) || also.is_some_and(|ids| ids.contains(&z.id));
                if z.private || !serves {
                    continue;
                }
                let Some(p) = z.view(lag, now) else { continue };
                if in_zone(&qname, &z.name)
                    && best.as_ref().is_none_or(|(b, _)| z.name.len() > b.len())
                {
                    best = Some((z.name.clone(), p.clone()));
                }
            }
        }
        // Fault switches (admin API): a server silent or refusing for a zone.
        let apex = best.as_ref().map(|(a, _)| a.clone()).unwrap_or_default();
        match st.take_dns_fault(server, &apex) {
            Some(DnsFault::Drop) => return None,
            Some(DnsFault::Refuse) => best = None,
            None => {}
        }
        best
    };
    let Some((apex, recs)) = zone else {
        resp.metadata.response_code = ResponseCode::Refused;
        return resp.to_vec().ok();
    };
    answer(&mut resp, &apex, &recs, &qname, qtype);

    let bytes = resp.to_vec().ok()?;
    if udp.is_some() && bytes.len() > max as usize {
        resp.answers.clear();
        resp.authorities.clear();
        resp.additionals.clear();
        resp.metadata.truncation = true;
        return resp.to_vec().ok();
    }
    Some(bytes)
}

fn soa_negative(recs: &Records, apex: &str) -> Vec<Record> {
    let Some(soa) = recs.get(&(apex.to_string(), RrType::Soa)) else {
        return Vec::new();
    };
    let min = soa
        .values
        .first()
        .and_then(|v| v.split_whitespace().nth(6))
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(soa.ttl);
    let mut r = records_of(soa, apex);
    for rec in &mut r {
        rec.ttl = rec.ttl.min(min);
    }
    r
}

fn answer(resp: &mut Message, apex: &str, recs: &Records, qname: &str, qtype: RecordType) {
    // Delegation below the apex? Take the cut closest to the apex.
    let mut cut: Option<String> = None;
    {
        let rel = &qname[..qname.len() - apex.len()];
        let labels: Vec<&str> = rel.trim_end_matches('.').split('.').collect();
        if !rel.is_empty() {
            for i in (0..labels.len()).rev() {
                let candidate = format!("{}.{}", labels[i..].join("."), apex);
                let candidate = candidate.replace("..", ".");
                if recs.contains_key(&(candidate.clone(), RrType::Ns)) {
                    cut = Some(candidate);
                    break;
                }
            }
        }
    }
    if let Some(cut) = cut {
        if !(cut == qname && qtype == RecordType::DS) {
            let ns = &recs[&(cut.clone(), RrType::Ns)];
            resp.metadata.authoritative = false;
            resp.authorities.extend(records_of(ns, &cut));
            for v in &ns.values {
                let target = crate::model::normalize_name(v);
                if in_zone(&target, apex) {
                    for t in [RrType::A, RrType::Aaaa] {
                        if let Some(g) = recs.get(&(target.clone(), t)) {
                            resp.additionals.extend(records_of(g, &target));
                        }
                    }
                }
            }
            return;
        }
    }
    resp.metadata.authoritative = true;
    let at_name: Vec<&crate::model::RRSet> = recs
        // `A` is the least type: the range starts at the name's first set.
        .range((qname.to_string(), RrType::A)..)
        .take_while(|((n, _), _)| n == qname)
        .map(|(_, r)| r)
        .collect();
    if qtype == RecordType::ANY && !at_name.is_empty() {
        for r in at_name {
            resp.answers.extend(records_of(r, qname));
        }
        return;
    }
    if let Some(r) = at_name
        .iter()
        .find(|r| Some(r.rtype) == RrType::from_dns(qtype))
    {
        resp.answers.extend(records_of(r, qname));
        if qtype == RecordType::NS || qtype == RecordType::MX {
            add_glue(resp, recs, apex, r);
        }
        return;
    }
    if let Some(c) = at_name.iter().find(|r| r.rtype == RrType::Cname) {
        resp.answers.extend(records_of(c, qname));
        let target = c.values.first().map(|v| crate::model::normalize_name(v));
        if let Some(t) = target {
            if let Some(r) = RrType::from_dns(qtype).and_then(|q| recs.get(&(t.clone(), q))) {
                resp.answers.extend(records_of(r, &t));
            }
        }
        return;
    }
    let exists = !at_name.is_empty() || recs.keys().any(|(n, _)| n.ends_with(&format!(".{qname}")));
    if !exists {
        resp.metadata.response_code = ResponseCode::NXDomain;
    }
    resp.authorities.extend(soa_negative(recs, apex));
}

fn add_glue(resp: &mut Message, recs: &Records, apex: &str, r: &crate::model::RRSet) {
    for v in &r.values {
        let target = crate::model::normalize_name(v.split_whitespace().last().unwrap_or(""));
        if in_zone(&target, apex) {
            if let Some(g) = recs.get(&(target.clone(), RrType::A)) {
                resp.additionals.extend(records_of(g, &target));
            }
        }
    }
}

/// Send one query over UDP and return the response (used for readiness
/// checks and the bench).
pub async fn query(
    server: SocketAddr,
    name: &str,
    qtype: RecordType,
    recursion: bool,
) -> std::io::Result<Message> {
    let mut m = Message::query();
    m.metadata.id = rand::random();
    m.metadata.recursion_desired = recursion;
    let n = Name::from_ascii(name)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
    m.add_query(hickory_proto::op::Query::query(n, qtype));
    let bytes = m
        .to_vec()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let bind: SocketAddr = match server {
        SocketAddr::V4(a) if a.ip().octets()[0] == 127 => SocketAddr::from((*a.ip(), 0)),
        _ => SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    };
    let sock = tokio::net::UdpSocket::bind(bind).await?;
    sock.send_to(&bytes, server).await?;
    let mut buf = vec![0u8; 65535];
    let n = sock.recv(&mut buf).await?;
    Message::from_vec(&buf[..n]).map_err(|e| std::io::Error::other(e.to_string()))
}
