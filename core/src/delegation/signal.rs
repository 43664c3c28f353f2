//! The DNS early signals of INSYNC waits: when to ask `GetChange`.
//!
//! Route 53 reports a change INSYNC once every one of its servers has it, so
//! the authoritative servers answering with the change is the sign that a
//! `GetChange` will probably find it INSYNC. Asking before that only spends
//! the account's rate: at Route 53's pace (about 60 s) a blind schedule
//! makes two or three polls per change where the signal makes one.
//!
//! A signal only counts when DNS changed while it watched: the first look
//! must show the old answer. If the servers already answer as wanted (an
//! update that changes only the TTL, or a world that is faster than the
//! first look), DNS says nothing about this change, and the signal falls
//! back to the plain schedule: it fires at [`Polling::first`].

use std::future::Future;
use std::net::SocketAddr;

use futures::future::{BoxFuture, Shared};

use super::*;
use crate::dns::{Rcode, RecordType, DNS_PORT};

/// A wait's early signal, shareable between the waits of one link.
pub(crate) type Signal<'a> = Shared<BoxFuture<'a, ()>>;

impl Engine {
    /// The schedule and early signal of the wait for a new or changed
    /// delegation: the parent's servers refer to `child_ns` and each child
    /// server answers SOA and NS. Without verification (or without a
    /// resolver) there is no signal and the plain schedule applies.
    pub(super) fn appearance_signal<'a>(
        &'a self,
        spec: &'a LinkSpec,
        parent_zone: &'a HostedZone,
        child_ns: &'a NsSet,
    ) -> (Polling, Signal<'a>) {
        let client = DnsClient::new(verify::REFRESH_QUERY_TIMEOUT, verify::REFRESH_RETRIES);
        let resolver = match self.resolver_with(&spec.verify, client.clone()) {
            Ok(r) if spec.verify.enabled && !child_ns.is_empty() => r,
            _ => return (self.polling, no_signal()),
        };
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: parent_zone.name.clone(),
            parent_name_servers: parent_zone.name_servers.clone(),
            child_name_servers: child_ns.clone(),
        };
        let resolver = std::sync::Arc::new(resolver);
        let look = move || {
            let (req, resolver, client) = (req.clone(), resolver.clone(), client.clone());
            async move {
                verify::refresh_check(&req, &resolver, client, verify::REFRESH_BUDGET)
                    .await
                    .is_ok_and(|r| r.passed)
            }
        };
        let signal = watch(self.polling, look, spec.name.to_string(), "answer");
        (self.polling.with_signal(), signal.boxed().shared())
    }

    /// The schedule and early signal of the wait for a removed parent NS
    /// record: every server of the parent zone answers for `spec.name`
    /// without referring to any name server (NXDOMAIN, or no NS).
    pub(super) fn removal_signal<'a>(
        &'a self,
        spec: &'a LinkSpec,
        parent_zone: &'a HostedZone,
    ) -> (Polling, Signal<'a>) {
        let client = DnsClient::new(verify::REFRESH_QUERY_TIMEOUT, verify::REFRESH_RETRIES);
        let resolver = match self.resolver_with(&spec.verify, client.clone()) {
            Ok(r) if spec.verify.enabled && !parent_zone.name_servers.is_empty() => r,
            _ => return (self.polling, no_signal()),
        };
        let resolver = std::sync::Arc::new(resolver);
        let look = move || {
            let (resolver, client) = (resolver.clone(), client.clone());
            async move { referral_gone(&spec.name, &parent_zone.name_servers, &resolver, &client).await }
        };
        let signal = watch(self.polling, look, spec.name.to_string(), "stop referring");
        (self.polling.with_signal(), signal.boxed().shared())
    }
}

/// A signal that never fires.
pub(super) fn no_signal<'a>() -> Signal<'a> {
    std::future::pending().boxed().shared()
}

/// Looks every half interval until `look` turns true. If it is true at the
/// first look, DNS cannot tell about this change: fires at `polling.first`.
async fn watch<F, Fut>(polling: Polling, mut look: F, name: String, what: &'static str)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    if look().await {
        tracing::debug!(%name, "DNS already shows the change: polling on the plain schedule");
        tokio::time::sleep_until(start + polling.first).await;
        return;
    }
    let every = (polling.interval / 2).max(Duration::from_millis(50));
    loop {
        tokio::time::sleep(every).await;
        if look().await {
            tracing::debug!(%name, "the authoritative servers {what}: asking GetChange");
            return;
        }
    }
}

/// Whether every server of `parent_ns` answers for `name` without a
/// referral: authoritative NXDOMAIN, or an authoritative answer without NS
/// for the name. A server that does not answer, or a host name that does
/// not resolve, makes it false.
async fn referral_gone(
    name: &DomainName,
    parent_ns: &NsSet,
    resolver: &AddressResolver,
    client: &DnsClient,
) -> bool {
    let lookups =
        futures::future::join_all(parent_ns.iter().map(|host| resolver.lookup(host))).await;
    let mut addrs = Vec::new();
    for l in lookups {
        match l {
            Ok(a) if !a.is_empty() => addrs.extend(a),
            _ => return false,
        }
    }
    addrs.sort();
    addrs.dedup();
    let answers = futures::future::join_all(
        addrs
            .iter()
            .map(|ip| client.query(SocketAddr::new(*ip, DNS_PORT), name, RecordType::NS, false)),
    )
    .await;
    answers.iter().all(|r| match r {
        Ok(resp) => {
            resp.authoritative
                && (resp.rcode == Rcode::NXDOMAIN
                    || (resp.is_noerror()
                        && resp.answer_ns(name).is_empty()
                        && resp.authority_ns(name).is_empty()))
        }
        Err(_) => false,
    })
}
