//! Verification of a delegation over DNS, straight from the authoritative
//! servers, in three parts:
//!
//! - `checks` asks the questions (the only I/O): every address of every
//!   parent name server, without recursion, for a referral to the child's NS
//!   set; every child server for the zone's SOA and NS authoritatively;
//!   optionally recursive resolvers for the name; and whom the parent domain
//!   itself is delegated to. Each answer becomes a [`ServerCheck`].
//! - [`crate::diagnose`] turns the checks into findings and a verdict, a pure
//!   function unit-tested without a network.
//! - `report` renders the [`VerificationReport`]: one line, or a table.
//!
//! [`check_once`] is one attempt; [`verify`] repeats attempts with backoff
//! until the delegation is verified, the deadline passes or it is
//! cancelled; [`refresh_check`] is the quick one-attempt variant.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::time::Instant as TokioInstant;

use serde::Serialize;

use crate::check::ser_ms;
pub use crate::check::{CheckKind, ServerCheck, ServerResult, ServerRole, VerifyRequest};
use crate::diagnose::{self, Finding};
use crate::dns::{AddressResolver, DnsClient};
use crate::name::DomainName;
use crate::CancellationToken;

mod checks;
mod report;

use checks::Ask;
pub use checks::{negative_caching_ttl, probe_dangling};

/// Per-question timeout of the refresh check ([`refresh_check`]).
pub const REFRESH_QUERY_TIMEOUT: Duration = Duration::from_millis(1500);
/// Questions the refresh check repeats after a timeout: a server counts as
/// silent only after two missed questions in a row.
pub const REFRESH_RETRIES: u32 = 1;
/// Upper bound on one refresh check, however many servers it asks.
pub const REFRESH_BUDGET: Duration = Duration::from_secs(8);

/// Longest wait between two attempts.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Timeouts and retries of each DNS question.
    pub query: DnsClient,
    /// How long [`verify`] keeps trying.
    pub deadline: Duration,
    /// The first wait between attempts; doubled after each attempt up to
    /// [`MAX_POLL_INTERVAL`].
    pub poll_interval: Duration,
    /// Recursive resolvers that must also resolve the name, if any.
    pub recursive: Option<Vec<SocketAddr>>,
    /// Whether failures seen through the recursive resolvers (including the
    /// parent domain's own delegation) keep the report from passing.
    pub require_recursive: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            query: DnsClient::default(),
            deadline: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
            recursive: None,
            require_recursive: false,
        }
    }
}

/// The outcome of one verification attempt (the last one, from [`verify`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationReport {
    /// The delegated name.
    pub name: DomainName,
    /// The parent zone.
    pub parent_zone: DomainName,
    /// True when the delegation is verified.
    pub passed: bool,
    /// True when every authoritative check (parent referral, child SOA and NS)
    /// passed, whatever the recursive resolvers say.
    pub authoritative_ok: bool,
    /// Attempts made.
    pub attempts: u32,
    /// Time since verification started.
    #[serde(rename = "elapsed_ms", serialize_with = "ser_ms")]
    pub elapsed: Duration,
    /// Every question asked in the last attempt.
    pub checks: Vec<ServerCheck>,
    /// What is wrong, in words.
    pub findings: Vec<Finding>,
}

/// Why verification stopped without a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Cancelled; carries the last complete report, if any.
    #[error("verification cancelled{}", last_report.as_ref().map(|r| format!(" ({})", r.summary())).unwrap_or_default())]
    Cancelled {
        /// The last complete attempt.
        last_report: Option<Box<VerificationReport>>,
    },
    /// Verification could not start (bad request, no resolvers).
    #[error("verification could not start: {0}")]
    Setup(String),
}

/// Verifies until the delegation passes, the deadline passes (then the last,
/// failing report is returned) or `cancel` fires.
pub async fn verify(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
    cancel: &CancellationToken,
) -> Result<VerificationReport, VerifyError> {
    validate(req)?;
    let start = Instant::now();
    let deadline = start + opts.deadline;
    // The deadline is a deadline: no question outlives it by more than one
    // per-query timeout, however many retries the client would make.
    let hard_stop = TokioInstant::from_std(deadline + opts.query.timeout);
    let mut interval = opts.poll_interval.max(Duration::from_millis(10));
    let mut last: Option<VerificationReport> = None;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let mut report = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(VerifyError::Cancelled { last_report: last.map(Box::new) });
            }
            r = check_until(req, resolver, opts, Some(hard_stop)) => r,
        };
        report.attempts = attempts;
        report.elapsed = start.elapsed();
        tracing::info!(name = %req.name, attempt = attempts, passed = report.passed, "{}", report.summary());
        if report.passed {
            return Ok(report);
        }
        let now = Instant::now();
        if now >= deadline {
            // An attempt cut short by the deadline says less than the last
            // complete one.
            if TokioInstant::now() >= hard_stop {
                if let Some(mut prev) = last {
                    prev.attempts = attempts;
                    prev.elapsed = report.elapsed;
                    return Ok(prev);
                }
            }
            return Ok(report);
        }
        last = Some(report);
        let wait = interval.min(deadline - now);
        tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(VerifyError::Cancelled { last_report: last.map(Box::new) });
            }
            () = tokio::time::sleep(wait) => {}
        }
        interval = (interval * 2).min(MAX_POLL_INTERVAL.max(opts.poll_interval));
    }
}

/// The quick check run when a front end refreshes its state: one attempt,
/// every server asked at once, each question with `query`'s timeout and
/// retries, the whole check ended after `budget` (questions still open then
/// count as unanswered). No recursive resolver is asked: a cache is not the
/// delegation.
///
/// Anti-flap rule: with [`REFRESH_RETRIES`], a server counts as silent only
/// when it missed two questions in a row; an answer that is wrong (REFUSED,
/// not authoritative, another NS set) counts at once, as it is no accident
/// of the network. When no parent or child server answered at all the
/// report is [`inconclusive`](VerificationReport::inconclusive).
pub async fn refresh_check(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    query: DnsClient,
    budget: Duration,
) -> Result<VerificationReport, VerifyError> {
    validate(req)?;
    let opts = VerifyOptions {
        query,
        deadline: budget,
        poll_interval: budget,
        recursive: None,
        require_recursive: false,
    };
    let start = Instant::now();
    let mut report = check_until(req, resolver, &opts, Some(TokioInstant::now() + budget)).await;
    report.elapsed = start.elapsed();
    Ok(report)
}

/// One verification attempt.
pub async fn check_once(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
) -> VerificationReport {
    check_until(req, resolver, opts, None).await
}

/// One attempt in which no question outlives `until`.
async fn check_until(
    req: &VerifyRequest,
    resolver: &AddressResolver,
    opts: &VerifyOptions,
    until: Option<TokioInstant>,
) -> VerificationReport {
    let start = Instant::now();
    let ask = &Ask {
        client: &opts.query,
        until,
    };
    let checks = checks::observe(req, resolver, opts, ask).await;
    let diagnose::Verdict {
        passed,
        authoritative_ok,
        mut findings,
        points_elsewhere,
    } = diagnose::verdict(req, &checks, opts.require_recursive);
    // The parent record points at other servers: do they serve the name at
    // all? If none does, the record is a dangling delegation (unless the
    // diagnosis has already said so).
    let said = findings
        .iter()
        .any(|f| matches!(f, Finding::DanglingDelegation { .. }));
    if let Some(parent_ns) = points_elsewhere.filter(|_| !said) {
        let probe = probe_dangling(&req.name, &parent_ns, resolver, &opts.query);
        if let Some(Some(f)) = ask.bounded(probe).await {
            findings.push(f);
        }
    }
    VerificationReport {
        name: req.name.clone(),
        parent_zone: req.parent_zone.clone(),
        passed,
        authoritative_ok,
        attempts: 1,
        elapsed: start.elapsed(),
        checks,
        findings,
    }
}

fn validate(req: &VerifyRequest) -> Result<(), VerifyError> {
    if !req.name.is_strict_subdomain_of(&req.parent_zone) {
        return Err(VerifyError::Setup(format!(
            "{} is not a subdomain of the parent zone {}",
            req.name, req.parent_zone
        )));
    }
    if req.parent_name_servers.is_empty() {
        return Err(VerifyError::Setup(format!(
            "the parent zone {} has no name servers",
            req.parent_zone
        )));
    }
    if req.child_name_servers.is_empty() {
        return Err(VerifyError::Setup(format!(
            "the child zone {} has no name servers",
            req.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
