//! One question to one server over hickory-net's client streams.
//!
//! hickory-net checks the reply's source, id and question (a stray or forged
//! reply is ignored, as RFC 5452 asks) and bounds each try by the timeout. What
//! it leaves to the caller, and this module adds: a fresh UDP stream per try
//! with our retry count and per-try timeout (so a silent server costs
//! `timeout × (retries + 1)`), and repeating a truncated UDP reply's question
//! over TCP.
//!
//! hickory's UDP sockets are not connected, so an ICMP port-unreachable is
//! not seen: a port where nothing listens is a silent server (it times out
//! after the retries) rather than an immediate "connection refused".

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::tcp::TcpClientStream;
use hickory_net::udp::UdpClientStream;
use hickory_net::xfer::{DnsHandle, DnsRequestSender, FirstAnswer};
use hickory_net::NetError;
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Message, Query};
use hickory_proto::rr::Name;

use super::{convert, DnsClient, DnsError, DnsResponse, RecordType, EDNS_PAYLOAD};
use crate::name::DomainName;

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
            rtype,
            reason: e.to_string(),
        })?;
        let ctx = Ctx {
            server,
            name: name.to_string(),
            rtype,
        };
        let request = request(qname, rtype, recursion_desired);
        for attempt in 0..=self.retries {
            let started = Instant::now();
            match self.udp(&ctx, request.clone()).await {
                Ok(msg) if msg.metadata.truncation => {
                    tracing::debug!(%server, name = %ctx.name, "truncated reply, retrying over TCP");
                    let started = Instant::now();
                    let msg = self.tcp(&ctx, request).await?;
                    let mut resp = convert(server, &msg, started.elapsed());
                    resp.truncated = true;
                    return Ok(resp);
                }
                Ok(msg) => return Ok(convert(server, &msg, started.elapsed())),
                Err(DnsError::Timeout { .. }) => {
                    tracing::debug!(%server, name = %ctx.name, attempt, "no reply");
                }
                Err(e) => return Err(e),
            }
        }
        Err(ctx.timeout(self.timeout))
    }

    /// One try over UDP: a new stream (a new random source port) that sends
    /// the question once and waits `timeout` for the reply.
    async fn udp(&self, ctx: &Ctx, request: DnsRequest) -> Result<Message, DnsError> {
        let mut stream = UdpClientStream::builder(ctx.server, TokioRuntimeProvider::new())
            .with_timeout(Some(self.timeout))
            .with_max_retries(1)
            .build();
        let reply = stream.send_message(request).first_answer();
        // hickory bounds the try; the outer bound only guards against a stall.
        match tokio::time::timeout(self.timeout, reply).await {
            Ok(r) => r
                .map(|resp| resp.into_message())
                .map_err(|e| ctx.error(e, self.timeout)),
            Err(_) => Err(ctx.timeout(self.timeout)),
        }
    }

    /// The question over TCP (connect, exchange), bounded by `timeout`.
    async fn tcp(&self, ctx: &Ctx, request: DnsRequest) -> Result<Message, DnsError> {
        // The provider owns the exchange's background task (a JoinSet that
        // aborts on drop), so it lives until the answer is in.
        let provider = TokioRuntimeProvider::new();
        let exchange = async {
            let handle = TcpClientStream::exchange(
                ctx.server,
                None,
                self.timeout,
                Some(1),
                provider.clone(),
            )
            .await?;
            handle.send(request).first_answer().await
        };
        let reply = tokio::time::timeout(self.timeout, exchange).await;
        drop(provider);
        match reply {
            Ok(r) => r
                .map(|resp| resp.into_message())
                .map_err(|e| ctx.error(e, self.timeout)),
            Err(_) => Err(ctx.timeout(self.timeout)),
        }
    }
}

/// The question: one query, RD as asked, EDNS0 with our payload size, no
/// case randomization (verification compares names as the server wrote them).
pub(super) fn request(qname: Name, rtype: RecordType, recursion_desired: bool) -> DnsRequest {
    let mut options = DnsRequestOptions::default();
    options.use_edns = true;
    options.edns_payload_len = EDNS_PAYLOAD;
    options.recursion_desired = recursion_desired;
    options.case_randomization = false;
    DnsRequest::from_query(Query::query(qname, rtype), options)
}

/// The server and question an error is about.
pub(super) struct Ctx {
    pub(super) server: SocketAddr,
    pub(super) name: String,
    pub(super) rtype: RecordType,
}

impl Ctx {
    pub(super) fn timeout(&self, after: Duration) -> DnsError {
        DnsError::Timeout {
            server: self.server,
            name: self.name.clone(),
            rtype: self.rtype,
            after,
        }
    }

    /// Our error for hickory-net's: a timeout, a socket error (its source
    /// kept), or a reply that could not be decoded.
    fn error(&self, e: NetError, after: Duration) -> DnsError {
        match e {
            NetError::Timeout => self.timeout(after),
            NetError::Io(io) => DnsError::Io {
                server: self.server,
                name: self.name.clone(),
                rtype: self.rtype,
                source: std::io::Error::new(io.kind(), Arc::clone(&io)),
            },
            other => DnsError::Malformed {
                server: self.server,
                name: self.name.clone(),
                rtype: self.rtype,
                reason: other.to_string(),
            },
        }
    }
}
