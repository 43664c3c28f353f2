//! Client-side pacing of Route 53 requests, per AWS account.
//!
//! Route 53 throttles each account (long documented as 5 requests per
//! second; now token buckets of 50 refilled at 10 per second). A plan over
//! hundreds of links that sends as fast as it can gets `Throttling` answers
//! and, with enough of them, failures. [`Pacer`] spaces the requests of one
//! account so they stay under the rate: every HTTP request a Route 53 client
//! sends (retries included) first takes a slot from its account's pacer.
//!
//! The pacer is a GCRA token bucket (a "virtual scheduling" bucket): each
//! request reserves the next free slot under a lock and sleeps until it, so
//! requests go out in the order they asked, at most `burst` at once and
//! `per_second` on average. Reserving never holds the lock across an await.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::time::Instant;

/// How fast one account's Route 53 requests may go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second on average.
    pub per_second: f64,
    /// Requests that may go out at once after a quiet spell.
    pub burst: u32,
}

impl Rate {
    /// The default: just under Route 53's long-documented 5 requests per
    /// second per account (a tenth kept for requests that arrive bunched
    /// after leaving evenly spaced), one at a time, which also stays within
    /// its current token buckets (10 per second).
    pub const DEFAULT: Rate = Rate {
        per_second: 4.5,
        burst: 1,
    };

    /// Checks a configured rate: a positive, finite number of requests per
    /// second and a burst of at least one.
    pub fn new(per_second: f64, burst: u32) -> std::result::Result<Rate, String> {
        if !per_second.is_finite() || per_second <= 0.0 || per_second > 10_000.0 {
            return Err(format!(
                "expected a number of requests per second above 0 and at most 10000, got {per_second}"
            ));
        }
        if burst == 0 {
            return Err("expected a burst of at least 1 request".into());
        }
        Ok(Rate { per_second, burst })
    }

    fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

impl Default for Rate {
    fn default() -> Self {
        Rate::DEFAULT
    }
}

/// Whether and how an engine paces Route 53 requests.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Pacing {
    /// [`Rate::DEFAULT`].
    #[default]
    Default,
    /// No client-side pacing (the SDK's retries alone ride out throttling).
    Off,
    /// This rate per account.
    At(Rate),
}

impl Pacing {
    /// The rate, if any.
    pub fn rate(self) -> Option<Rate> {
        match self {
            Pacing::Default => Some(Rate::DEFAULT),
            Pacing::Off => None,
            Pacing::At(r) => Some(r),
        }
    }
}

/// One account's pacer, shared by every client that reaches the account.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: Rate,
    /// The theoretical arrival time of the next request (GCRA).
    next: Arc<Mutex<Option<Instant>>>,
}

impl Pacer {
    /// A pacer at `rate`.
    pub fn new(rate: Rate) -> Pacer {
        Pacer {
            rate,
            next: Arc::default(),
        }
    }

    /// Reserves the next slot for a request asking at `now`: when it may go.
    fn reserve_at(&self, now: Instant) -> Instant {
        let interval = self.rate.interval();
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = next.map_or(now, |t| t.max(now));
        let tolerance = interval * self.rate.burst.saturating_sub(1);
        *next = Some(tat + interval);
        tat.checked_sub(tolerance).unwrap_or(now).max(now)
    }

    /// Waits for this request's slot.
    pub async fn acquire(&self) {
        let at = self.reserve_at(Instant::now());
        tokio::time::sleep_until(at).await;
    }

    /// An HTTP client that paces every request `inner` sends.
    pub fn wrap(&self, inner: SharedHttpClient) -> SharedHttpClient {
        SharedHttpClient::new(PacedClient {
            inner,
            pacer: self.clone(),
        })
    }
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxy
/// from the environment), for a configuration that does not carry one yet:
/// pacing needs a client to wrap.
pub fn default_http_client() -> SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        conn.set_connector_settings(settings.cloned());
        if let Some(c) = components {
            conn.set_sleep_impl(c.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
}

#[derive(Debug)]
struct PacedClient {
    inner: SharedHttpClient,
    pacer: Pacer,
}

impl HttpClient for PacedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(PacedConnector {
            inner: self.inner.http_connector(settings, components),
            pacer: self.pacer.clone(),
        })
    }
}

#[derive(Debug)]
struct PacedConnector {
    inner: SharedHttpConnector,
    pacer: Pacer,
}

impl HttpConnector for PacedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let pacer = self.pacer.clone();
        HttpConnectorFuture::new(async move {
            pacer.acquire().await;
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(pacer: &Pacer, asks: &[u64]) -> Vec<u128> {
        let t0 = Instant::now();
        asks.iter()
            .map(|ms| {
                let at = pacer.reserve_at(t0 + Duration::from_millis(*ms));
                (at - t0).as_millis()
            })
            .collect()
    }

    #[test]
    fn requests_are_spaced_at_the_rate_after_the_burst() {
        // Failure mode: a plan's hundreds of reads all at once, throttled.
        let pacer = Pacer::new(Rate::new(5.0, 2).unwrap());
        assert_eq!(
            offsets(&pacer, &[0, 0, 0, 0, 0, 0]),
            vec![0, 0, 200, 400, 600, 800]
        );
    }

    #[test]
    fn the_default_lets_at_most_five_go_in_any_second() {
        // The legacy throttle: 5 per second per account.
        let pacer = Pacer::new(Rate::DEFAULT);
        let at = offsets(&pacer, &[0; 20]);
        for w in at.windows(6) {
            assert!(
                w[5] - w[0] >= 1000,
                "six requests within {} ms",
                w[5] - w[0]
            );
        }
    }

    #[test]
    fn a_quiet_spell_gives_the_burst_back() {
        let pacer = Pacer::new(Rate::new(10.0, 3).unwrap());
        assert_eq!(offsets(&pacer, &[0, 0, 0, 0]), vec![0, 0, 0, 100]);
        assert_eq!(offsets(&pacer, &[5000, 5000, 5000, 5000])[3] % 1000, 100);
    }

    #[test]
    fn bad_rates_are_refused() {
        assert!(Rate::new(0.0, 1).is_err());
        assert!(Rate::new(f64::NAN, 1).is_err());
        assert!(Rate::new(5.0, 0).is_err());
        assert!(Rate::new(0.5, 1).is_ok());
    }
}
