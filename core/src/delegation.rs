//! The delegation engine: create or adopt the child zone, write the parent NS
//! record safely, wait for INSYNC, verify over DNS; read back for drift;
//! destroy without ever leaving a dangling delegation.
//!
//! Front ends describe a delegation with a [`LinkSpec`] and keep a
//! [`LinkState`] between runs. Every apply ends by reading back, so the state
//! returned is what AWS holds, not what was asked for.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_sdk_route53::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::account::{AccountSettings, Clients};
use crate::change::{wait_insync, Backoff};
use crate::diagnose::Finding;
use crate::dns::{AddressResolver, DnsClient};
use crate::error::{Error, Result};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::plan::{self, Action, ChildZoneMode, Desired, Observed, ObservedZone, PlanError};
use crate::record::{self, NsRecord, WriteOutcome};
use crate::verify::{self, ServerResult, VerificationReport, VerifyOptions, VerifyRequest};
use crate::zone::{self, HostedZone};

/// Default TTL of the parent NS record: one hour. Short enough that a repair
/// (say, after the child zone was re-created) reaches resolvers within the
/// hour; long enough that the referral is cached. Route 53's own apex NS TTL
/// is 172800 (two days), which would make a wrong referral stick for two days.
pub const DEFAULT_TTL: i64 = 3600;
/// Smallest TTL accepted for the parent NS record.
pub const MIN_TTL: i64 = 60;
/// Largest TTL accepted for the parent NS record (two days, Route 53's apex NS TTL).
pub const MAX_TTL: i64 = 172_800;
/// Default deadline for DNS verification.
pub const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_secs(300);

/// How the parent zone is named.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZoneRef {
    /// By hosted zone ID.
    Id(String),
    /// By name (public zones only; several with the name is an error).
    Name(DomainName),
}

/// The parent side of a delegation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentSpec {
    /// The parent hosted zone.
    pub zone: ZoneRef,
    /// Account holding it.
    pub account: AccountSettings,
    /// Replace an NS record for the name that this delegation did not write.
    pub allow_overwrite: bool,
}

/// The child side of a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChildSpec {
    /// Account that holds (or will hold) the child zone.
    pub account: AccountSettings,
    /// Adopt this existing zone instead of creating one.
    pub zone_id: Option<String>,
    /// Comment for a created zone.
    pub comment: Option<String>,
    /// On destroy, delete the created zone's records first.
    pub force_destroy: bool,
}

/// DNS verification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySpec {
    /// Verify at all.
    pub enabled: bool,
    /// Overall deadline.
    pub timeout: Duration,
    /// Resolvers for name-server addresses (empty: the engine's).
    pub resolvers: Vec<SocketAddr>,
    /// Also resolve through a recursive resolver (the first of `resolvers`).
    pub recursive: bool,
    /// Check the delegation again on every refresh (Read), quickly: see
    /// [`verify::refresh_check`].
    pub on_refresh: bool,
}

impl Default for VerifySpec {
    fn default() -> Self {
        VerifySpec {
            enabled: true,
            timeout: DEFAULT_VERIFY_TIMEOUT,
            resolvers: Vec::new(),
            recursive: false,
            on_refresh: true,
        }
    }
}

/// A delegation as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSpec {
    /// The subdomain.
    pub name: DomainName,
    /// TTL of the parent NS record.
    pub ttl: i64,
    /// Parent side.
    pub parent: ParentSpec,
    /// Child side.
    pub child: ChildSpec,
    /// Verification.
    pub verify: VerifySpec,
}

/// Outcome of a verification, as kept in state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyStatus {
    /// Every check passed.
    Verified,
    /// Checks failed at the deadline.
    Failed,
    /// Verification is switched off.
    Skipped,
    /// Interrupted.
    Cancelled,
}

impl VerifyStatus {
    /// Lower-case name, as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyStatus::Verified => "verified",
            VerifyStatus::Failed => "failed",
            VerifyStatus::Skipped => "skipped",
            VerifyStatus::Cancelled => "cancelled",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "verified" => VerifyStatus::Verified,
            "failed" => VerifyStatus::Failed,
            "skipped" => VerifyStatus::Skipped,
            "cancelled" => VerifyStatus::Cancelled,
            _ => return None,
        })
    }
}

/// The last verification, as kept in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationSummary {
    /// Outcome.
    pub status: VerifyStatus,
    /// When it finished.
    pub checked_at: SystemTime,
    /// Number of server checks made in the last round.
    pub servers_checked: u32,
    /// One line: what was checked and found, failing servers first.
    pub summary: String,
    /// One entry per server checked (parent and child name servers, and
    /// resolvers for a recursive check), failing servers first.
    pub servers: Vec<ServerResult>,
}

/// What a front end keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// The parent zone's ID.
    pub parent_zone_id: String,
    /// The parent zone's name.
    pub parent_zone_name: DomainName,
    /// The child zone's ID (empty while unknown).
    pub child_zone_id: String,
    /// The child zone's name servers.
    pub name_servers: NsSet,
    /// The parent's NS record as last read.
    pub delegated: Option<NsRecord>,
    /// What this delegation last wrote to the parent.
    pub written: Option<NsRecord>,
    /// The last verification.
    pub verification: Option<VerificationSummary>,
    /// The child zone's comment, as read.
    pub child_comment: Option<String>,
}

/// An apply that failed, with the state reached, so nothing leaks.
#[derive(Debug)]
pub struct ApplyFailure {
    /// What went wrong.
    pub error: Error,
    /// The state reached, when anything was created or changed.
    pub partial: Option<LinkState>,
    /// The verification report, when verification ran.
    pub report: Option<VerificationReport>,
}

/// A successful apply.
#[derive(Debug)]
pub struct Applied {
    /// The state, read back.
    pub state: LinkState,
    /// The verification report, when verification ran.
    pub report: Option<VerificationReport>,
    /// Findings worth a warning (for example records occluded by the delegation).
    pub findings: Vec<Finding>,
}

/// What Read found.
#[derive(Debug)]
pub struct ReadOutcome {
    /// The state now; `None` when the delegation is gone.
    pub state: Option<LinkState>,
    /// Warnings for the user.
    pub warnings: Vec<String>,
    /// The refresh check's warning: the delegation does not verify (naming
    /// each failing server), or the check could not tell.
    pub verification_warning: Option<String>,
}

/// What a plan-time check found.
#[derive(Debug)]
pub struct Preflight {
    /// The parent zone.
    pub parent_zone: HostedZone,
    /// Warnings for the user.
    pub warnings: Vec<String>,
}

/// Engine settings.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Defaults for every account (the provider's own settings).
    pub defaults: AccountSettings,
    /// Resolvers for name-server addresses and recursive checks; empty: the
    /// system's (`/etc/resolv.conf`).
    pub resolvers: Vec<SocketAddr>,
    /// Back-off for INSYNC polling.
    pub insync_backoff: Option<Backoff>,
    /// First back-off between AssumeRole attempts.
    pub assume_role_backoff: Option<Duration>,
}

/// The delegation engine. Cheap to clone; clients are shared.
#[derive(Debug, Clone)]
pub struct Engine {
    clients: Clients,
    resolvers: Vec<SocketAddr>,
    backoff: Backoff,
    parent_zones: std::sync::Arc<std::sync::Mutex<ParentZoneCache>>,
}

/// Parent zones looked up, by account and reference, so that many links under
/// one parent zone (a `for_each`) look it up once per Terraform command.
type ParentZoneCache = std::collections::HashMap<(AccountSettings, ZoneRef), (Instant, HostedZone)>;

/// How long a parent zone lookup is reused.
pub const PARENT_ZONE_CACHE_TTL: Duration = Duration::from_secs(300);

struct Ctx {
    parent: Client,
    child: Client,
    parent_zone: HostedZone,
}

impl Engine {
    /// An engine with these settings.
    pub fn new(cfg: EngineConfig) -> Self {
        let mut clients = Clients::new(cfg.defaults);
        if let Some(b) = cfg.assume_role_backoff {
            clients = clients.with_assume_role_backoff(b);
        }
        Engine {
            clients,
            resolvers: cfg.resolvers,
            backoff: cfg.insync_backoff.unwrap_or_default(),
            parent_zones: Default::default(),
        }
    }

    /// The client cache.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    fn resolver_for(
        &self,
        spec: &VerifySpec,
    ) -> std::result::Result<AddressResolver, crate::dns::DnsError> {
        self.resolver_with(spec, DnsClient::default())
    }

    fn resolver_with(
        &self,
        spec: &VerifySpec,
        client: DnsClient,
    ) -> std::result::Result<AddressResolver, crate::dns::DnsError> {
        let list = if spec.resolvers.is_empty() {
            self.resolvers.clone()
        } else {
            spec.resolvers.clone()
        };
        if list.is_empty() {
            AddressResolver::from_system()
                .map(|r| AddressResolver::with_client(r.resolvers().to_vec(), client))
        } else {
            Ok(AddressResolver::with_client(list, client))
        }
    }

    /// The quick DNS check of a refresh ([`verify::refresh_check`]) and what
    /// it means for state ([`crate::refresh::refresh_outcome`]). Runs when
    /// verification and `verify.on_refresh` are on.
    pub async fn refresh_verification(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        parent_zone: &HostedZone,
    ) -> crate::refresh::RefreshOutcome {
        let keep = crate::refresh::RefreshOutcome {
            verification: state.verification.clone(),
            warning: None,
        };
        if !spec.verify.enabled || !spec.verify.on_refresh || state.name_servers.is_empty() {
            return keep;
        }
        let client = DnsClient::new(verify::REFRESH_QUERY_TIMEOUT, verify::REFRESH_RETRIES);
        let resolver = match self.resolver_with(&spec.verify, client.clone()) {
            Ok(r) => r,
            Err(e) => {
                return crate::refresh::RefreshOutcome {
                    warning: Some(format!(
                    "the refresh check of {} could not start: {e}; the last verification is kept",
                    spec.name
                )),
                    ..keep
                }
            }
        };
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: parent_zone.name.clone(),
            parent_name_servers: parent_zone.name_servers.clone(),
            child_name_servers: state.name_servers.clone(),
        };
        match verify::refresh_check(&req, &resolver, client, verify::REFRESH_BUDGET).await {
            Ok(report) => {
                tracing::info!(name = %spec.name, passed = report.passed, "refresh check: {}", report.summary());
                crate::refresh::refresh_outcome(
                    &spec.name,
                    state.verification.as_ref(),
                    &report,
                    SystemTime::now(),
                )
            }
            Err(e) => crate::refresh::RefreshOutcome {
                warning: Some(format!(
                    "the refresh check of {} could not start: {e}",
                    spec.name
                )),
                ..keep
            },
        }
    }

    async fn lookup_parent_zone(&self, parent: &Client, spec: &LinkSpec) -> Result<HostedZone> {
        Ok(match &spec.parent.zone {
            ZoneRef::Id(id) => zone::get_zone(parent, id)
                .await?
                .ok_or_else(|| Error::ZoneNotFound { what: id.clone() })?,
            ZoneRef::Name(n) => {
                zone::find_public_zone(parent, n)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound {
                        what: n.to_string(),
                    })?
            }
        })
    }

    async fn parent_zone(&self, parent: &Client, spec: &LinkSpec) -> Result<HostedZone> {
        let key = (
            self.clients.effective(&spec.parent.account),
            spec.parent.zone.clone(),
        );
        let cached = self
            .parent_zones
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
            .filter(|(at, _)| at.elapsed() < PARENT_ZONE_CACHE_TTL)
            .map(|(_, z)| z);
        let zone = match cached {
            Some(z) => z,
            None => {
                let z = self.lookup_parent_zone(parent, spec).await?;
                if let Ok(mut c) = self.parent_zones.lock() {
                    c.insert(key, (Instant::now(), z.clone()));
                }
                z
            }
        };
        if zone.private {
            return Err(Error::InvalidSetting {
                attribute: "parent.zone_id".into(),
                message: format!(
                    "hosted zone {} ({}) is private; a delegation needs the public parent zone",
                    zone.name, zone.id
                ),
            });
        }
        if !spec.name.is_strict_subdomain_of(&zone.name) {
            return Err(Error::NotUnderParent {
                name: spec.name.clone(),
                parent: zone.name.clone(),
            });
        }
        Ok(zone)
    }

    async fn ctx(&self, spec: &LinkSpec) -> Result<Ctx> {
        let parent = self.clients.route53(&spec.parent.account).await?;
        let child = self.clients.route53(&spec.child.account).await?;
        let parent_zone = self.parent_zone(&parent, spec).await?;
        Ok(Ctx {
            parent,
            child,
            parent_zone,
        })
    }

    /// Plan-time checks: the parent zone exists and the name lies under it,
    /// and a new delegation would not overwrite someone else's NS record.
    pub async fn preflight(&self, spec: &LinkSpec, prior: Option<&LinkState>) -> Result<Preflight> {
        let parent = self.clients.route53(&spec.parent.account).await?;
        let parent_zone = self.parent_zone(&parent, spec).await?;
        let mut warnings = Vec::new();
        if prior.is_none() {
            let current = record::read_ns(&parent, &parent_zone.id, &spec.name).await?;
            if let Some(cur) = current {
                let child = self.clients.route53(&spec.child.account).await?;
                let adopt_ns = match &spec.child.zone_id {
                    Some(id) => zone::get_zone(&child, id).await?.map(|z| z.name_servers),
                    None => {
                        // A zone an interrupted or tainted earlier attempt
                        // created: the record pointing at it is ours.
                        let prefix = zone::caller_reference_prefix(&spec.name, &parent_zone.id);
                        zone::find_own_zone(&child, &spec.name, &prefix)
                            .await?
                            .map(|z| z.name_servers)
                    }
                };
                if adopt_ns.as_ref() != Some(&cur.values) && !spec.parent.allow_overwrite {
                    return Err(Error::ForeignRecord {
                        name: spec.name.clone(),
                        zone_id: parent_zone.id.clone(),
                        existing: cur.values,
                        wanted: adopt_ns.unwrap_or_default(),
                    });
                }
            }
            let occluded = record::occluded_records(&parent, &parent_zone.id, &spec.name).await?;
            if !occluded.is_empty() {
                warnings.push(occluded_finding(&spec.name, &occluded).message());
            }
        }
        Ok(Preflight {
            parent_zone,
            warnings,
        })
    }

    /// Creates or updates a delegation and verifies it. On failure after
    /// anything was created, the failure carries the state reached.
    pub async fn apply(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        let fail = |error: Error, partial: Option<LinkState>| {
            Box::new(ApplyFailure {
                error,
                partial,
                report: None,
            })
        };
        let start = Instant::now();
        let remaining = || timeout.saturating_sub(start.elapsed());
        let prior_partial = prior.cloned();
        let ctx = self
            .ctx(spec)
            .await
            .map_err(|e| fail(e, prior_partial.clone()))?;
        let observed = self
            .observe(&ctx, spec, prior)
            .await
            .map_err(|e| fail(e, prior_partial.clone()))?;
        let desired = Desired {
            ttl: spec.ttl,
            child: match &spec.child.zone_id {
                Some(id) => ChildZoneMode::Adopt {
                    zone_id: id.clone(),
                },
                None => ChildZoneMode::Create,
            },
            allow_overwrite: spec.parent.allow_overwrite,
        };
        let actions = plan::plan_apply(&desired, &observed).map_err(|e| {
            fail(
                plan_error(e, spec, &ctx, observed.child_zone.as_ref()),
                prior_partial.clone(),
            )
        })?;
        tracing::info!(name = %spec.name, ?actions, "applying delegation");

        let mut state = prior.cloned().unwrap_or_else(|| LinkState {
            parent_zone_id: ctx.parent_zone.id.clone(),
            parent_zone_name: ctx.parent_zone.name.clone(),
            child_zone_id: String::new(),
            name_servers: NsSet::new(),
            delegated: None,
            written: None,
            verification: None,
            child_comment: None,
        });
        state.parent_zone_id = ctx.parent_zone.id.clone();
        state.parent_zone_name = ctx.parent_zone.name.clone();
        let mut child_zone = observed.child_zone.clone();
        if let Some(z) = &child_zone {
            state.child_zone_id = z.id.clone();
            state.name_servers = z.name_servers.clone();
        }
        let mut any_change = false;
        for action in &actions {
            match action {
                Action::CreateZone => {
                    let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
                    let created = zone::create_zone(
                        &ctx.child,
                        &spec.name,
                        &prefix,
                        spec.child.comment.as_deref(),
                    )
                    .await
                    .map_err(|e| fail(e, prior_partial.clone()))?;
                    state.child_zone_id = created.zone.id.clone();
                    state.name_servers = created.zone.name_servers.clone();
                    child_zone = Some(ObservedZone {
                        id: created.zone.id.clone(),
                        name_servers: created.zone.name_servers.clone(),
                    });
                    any_change = true;
                    if let Some(change) = &created.change_id {
                        wait_insync(&ctx.child, change, remaining(), self.backoff, cancel)
                            .await
                            .map_err(|e| fail(e, Some(state.clone())))?;
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = zone::get_zone(&ctx.child, zone_id)
                        .await
                        .map_err(|e| fail(e, prior_partial.clone()))?
                        .ok_or_else(|| {
                            fail(
                                Error::ZoneNotFound {
                                    what: zone_id.clone(),
                                },
                                prior_partial.clone(),
                            )
                        })?;
                    state.child_zone_id = z.id.clone();
                    state.name_servers = z.name_servers.clone();
                    child_zone = Some(ObservedZone {
                        id: z.id,
                        name_servers: z.name_servers,
                    });
                }
                Action::WriteNs { ttl } | Action::ReplaceNs { ttl, .. } => {
                    let wanted = NsRecord {
                        ttl: *ttl,
                        values: child_zone
                            .as_ref()
                            .map(|z| z.name_servers.clone())
                            .unwrap_or_default(),
                    };
                    let current = match action {
                        Action::ReplaceNs { previous, .. } => Some(previous),
                        _ => None,
                    };
                    let outcome = record::write_ns(
                        &ctx.parent,
                        &ctx.parent_zone.id,
                        &spec.name,
                        &wanted,
                        current,
                    )
                    .await
                    .map_err(|e| fail(e, Some(state.clone())))?;
                    if outcome != WriteOutcome::Unchanged {
                        any_change = true;
                        state.written = Some(wanted.clone());
                        state.delegated = Some(wanted.clone());
                    }
                    if let Some(change) = outcome.change_id() {
                        wait_insync(&ctx.parent, change, remaining(), self.backoff, cancel)
                            .await
                            .map_err(|e| fail(e, Some(state.clone())))?;
                    }
                }
                Action::RemoveNs { .. } | Action::DeleteZone { .. } => {}
            }
        }
        // State comes from Read.
        let mut state = self
            .read_back(&ctx, spec, &state)
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        // A zone this delegation manages carries the configured comment.
        if spec.child.zone_id.is_none()
            && !state.child_zone_id.is_empty()
            && state.child_comment != spec.child.comment
        {
            zone::update_comment(
                &ctx.child,
                &state.child_zone_id,
                spec.child.comment.as_deref(),
            )
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
            state.child_comment = spec.child.comment.clone();
        }
        if state.written.is_none() {
            // Adopted delegation already in place: it is ours from now on.
            state.written = state.delegated.clone();
        }
        let mut findings = Vec::new();
        if prior.is_none() {
            if let Ok(occ) =
                record::occluded_records(&ctx.parent, &ctx.parent_zone.id, &spec.name).await
            {
                if !occ.is_empty() {
                    findings.push(occluded_finding(&spec.name, &occ));
                }
            }
        }
        let needs_verify = any_change
            || state
                .verification
                .as_ref()
                .map(|v| v.status != VerifyStatus::Verified)
                .unwrap_or(true);
        if !spec.verify.enabled {
            state.verification = Some(VerificationSummary {
                status: VerifyStatus::Skipped,
                checked_at: SystemTime::now(),
                servers_checked: 0,
                summary: "verification is switched off (verify.enabled = false)".into(),
                servers: Vec::new(),
            });
            return Ok(Applied {
                state,
                report: None,
                findings,
            });
        }
        if !needs_verify {
            return Ok(Applied {
                state,
                report: None,
                findings,
            });
        }
        let verify_timeout = spec.verify.timeout.min(remaining());
        match self
            .verify(spec, &ctx, &state, verify_timeout, cancel)
            .await
        {
            Ok(report) => {
                state.verification = Some(summary_of(&report, None));
                // Warnings of a verified delegation (a resolver's cached
                // negative answer, say) reach the user.
                findings.extend(
                    report
                        .findings
                        .iter()
                        .filter(|f| f.severity() == crate::diagnose::Severity::Warning)
                        .cloned(),
                );
                if report.passed {
                    if prior.is_none()
                        && !report
                            .findings
                            .iter()
                            .any(|f| f.code() == "cached_negative")
                    {
                        if let Some(f) = self.negative_caching(spec, &ctx).await {
                            findings.push(f);
                        }
                    }
                    Ok(Applied {
                        state,
                        report: Some(report),
                        findings,
                    })
                } else {
                    let summary = failure_text(&report);
                    Err(Box::new(ApplyFailure {
                        error: Error::VerificationFailed {
                            name: spec.name.clone(),
                            summary,
                        },
                        partial: Some(state),
                        report: Some(report),
                    }))
                }
            }
            Err(verify::VerifyError::Cancelled { last_report }) => {
                state.verification = Some(VerificationSummary {
                    status: VerifyStatus::Cancelled,
                    checked_at: SystemTime::now(),
                    servers_checked: last_report
                        .as_ref()
                        .map(|r| r.servers_checked() as u32)
                        .unwrap_or(0),
                    summary: format!("verification of {} was interrupted", spec.name),
                    servers: last_report
                        .as_ref()
                        .map(|r| r.servers())
                        .unwrap_or_default(),
                });
                Err(Box::new(ApplyFailure {
                    error: Error::Cancelled {
                        during: format!("verifying delegation of {}", spec.name),
                    },
                    partial: Some(state),
                    report: last_report.map(|r| *r),
                }))
            }
            Err(e) => Err(Box::new(ApplyFailure {
                error: Error::Dns {
                    name: spec.name.clone(),
                    message: e.to_string(),
                },
                partial: Some(state),
                report: None,
            })),
        }
    }

    /// Verifies an existing delegation once (polling until the spec's
    /// timeout), for example right after import.
    pub async fn verify_state(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        cancel: &CancellationToken,
    ) -> VerificationSummary {
        let parent = match self.clients.route53(&spec.parent.account).await {
            Ok(p) => p,
            Err(e) => return failed_summary(e.to_string()),
        };
        let parent_zone = match zone::get_zone(&parent, &state.parent_zone_id).await {
            Ok(Some(z)) => z,
            Ok(None) => {
                return failed_summary(format!(
                    "the parent hosted zone {} no longer exists",
                    state.parent_zone_id
                ))
            }
            Err(e) => return failed_summary(e.to_string()),
        };
        let child = match self.clients.route53(&spec.child.account).await {
            Ok(c) => c,
            Err(e) => return failed_summary(e.to_string()),
        };
        let ctx = Ctx {
            parent,
            child,
            parent_zone,
        };
        match self
            .verify(spec, &ctx, state, spec.verify.timeout, cancel)
            .await
        {
            Ok(r) => summary_of(&r, None),
            Err(e) => failed_summary(e.to_string()),
        }
    }

    async fn verify(
        &self,
        spec: &LinkSpec,
        ctx: &Ctx,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<VerificationReport, verify::VerifyError> {
        let resolver = self
            .resolver_for(&spec.verify)
            .map_err(|e| verify::VerifyError::Setup(e.to_string()))?;
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: ctx.parent_zone.name.clone(),
            parent_name_servers: ctx.parent_zone.name_servers.clone(),
            child_name_servers: state.name_servers.clone(),
        };
        let recursive = if spec.verify.recursive {
            Some(resolver.resolvers().to_vec())
        } else {
            None
        };
        let opts = VerifyOptions {
            query: DnsClient::default(),
            deadline: timeout,
            poll_interval: Duration::from_millis(500),
            recursive,
            require_recursive: spec.verify.recursive,
        };
        verify::verify(&req, &resolver, &opts, cancel).await
    }

    /// For a new delegation: how long resolvers may keep an NXDOMAIN they
    /// got before it existed (the parent SOA's negative TTL).
    async fn negative_caching(&self, spec: &LinkSpec, ctx: &Ctx) -> Option<Finding> {
        let resolver = self.resolver_for(&spec.verify).ok()?;
        let seconds = verify::negative_caching_ttl(
            &ctx.parent_zone.name,
            &ctx.parent_zone.name_servers,
            &resolver,
            &DnsClient::new(Duration::from_secs(1), 1),
        )
        .await?;
        Some(Finding::NegativeCaching {
            name: spec.name.clone(),
            parent_zone: ctx.parent_zone.name.clone(),
            seconds,
        })
    }

    async fn observe(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
    ) -> Result<Observed> {
        let zone_id = spec.child.zone_id.clone().or_else(|| {
            prior
                .map(|p| p.child_zone_id.clone())
                .filter(|s| !s.is_empty())
        });
        let child_zone = match zone_id {
            Some(id) => zone::get_zone(&ctx.child, &id).await?,
            // No state: a zone an interrupted or tainted earlier attempt
            // created is this delegation's own.
            None => {
                let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
                zone::find_own_zone(&ctx.child, &spec.name, &prefix).await?
            }
        };
        if let Some(z) = &child_zone {
            if z.name != spec.name {
                return Err(Error::InvalidSetting {
                    attribute: "child.zone_id".into(),
                    message: format!(
                        "hosted zone {} is named {}, not {}",
                        z.id, z.name, spec.name
                    ),
                });
            }
        }
        let parent_record = record::read_ns(&ctx.parent, &ctx.parent_zone.id, &spec.name).await?;
        Ok(Observed {
            child_zone: child_zone.map(|z| ObservedZone {
                id: z.id,
                name_servers: z.name_servers,
            }),
            parent_record,
            last_written: prior.and_then(|p| p.written.clone()),
        })
    }

    async fn read_back(&self, ctx: &Ctx, spec: &LinkSpec, state: &LinkState) -> Result<LinkState> {
        let mut s = state.clone();
        if !s.child_zone_id.is_empty() {
            if let Some(z) = zone::get_zone(&ctx.child, &s.child_zone_id).await? {
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
        }
        s.delegated = record::read_ns(&ctx.parent, &ctx.parent_zone.id, &spec.name).await?;
        Ok(s)
    }

    /// Reads a delegation for drift. The child zone gone (and no zone of the
    /// name to take its place) drops the delegation from state, with a warning
    /// about the parent record left dangling.
    pub async fn read(&self, spec: &LinkSpec, prior: &LinkState) -> Result<ReadOutcome> {
        let parent = self.clients.route53(&spec.parent.account).await?;
        let child = self.clients.route53(&spec.child.account).await?;
        let mut warnings = Vec::new();
        let mut s = prior.clone();
        let Some(parent_zone) = zone::get_zone(&parent, &prior.parent_zone_id).await? else {
            warnings.push(format!(
                "the parent hosted zone {} ({}) no longer exists; the delegation of {} is gone",
                prior.parent_zone_name, prior.parent_zone_id, spec.name
            ));
            if spec.child.zone_id.is_none() && !prior.child_zone_id.is_empty() {
                warnings.push(format!(
                    "the child hosted zone {} created for {} may still exist and cost money; delete it or import the delegation again",
                    prior.child_zone_id, spec.name
                ));
            }
            return Ok(ReadOutcome {
                state: None,
                warnings,
                verification_warning: None,
            });
        };
        s.parent_zone_name = parent_zone.name.clone();
        s.delegated = record::read_ns(&parent, &parent_zone.id, &spec.name).await?;
        let current = if prior.child_zone_id.is_empty() {
            None
        } else {
            zone::get_zone(&child, &prior.child_zone_id).await?
        };
        match current {
            Some(z) => {
                if z.name_servers != prior.name_servers && !prior.name_servers.is_empty() {
                    warnings.push(format!(
                        "the name servers of child hosted zone {} changed from {} to {}",
                        z.id, prior.name_servers, z.name_servers
                    ));
                }
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
            None => {
                let replacement = if spec.child.zone_id.is_none() {
                    zone::find_public_zone(&child, &spec.name).await?
                } else {
                    None
                };
                match replacement {
                    Some(z) => {
                        warnings.push(format!(
                            "the child hosted zone {} for {} was deleted; hosted zone {} with the same name now exists (re-created?) and has other name servers ({}); the parent still refers to {}; apply re-points the parent to the new zone",
                            prior.child_zone_id,
                            spec.name,
                            z.id,
                            z.name_servers,
                            s.delegated.as_ref().map(|d| d.values.to_string()).unwrap_or_else(|| "nothing".into())
                        ));
                        s.child_zone_id = z.id;
                        s.name_servers = z.name_servers;
                        s.child_comment = z.comment;
                    }
                    None => {
                        let mut w = format!(
                            "the child hosted zone {} for {} no longer exists; the delegation is removed from state",
                            prior.child_zone_id, spec.name
                        );
                        if let Some(d) = &s.delegated {
                            let f = Finding::DanglingDelegation {
                                name: spec.name.clone(),
                                parent_ns: d.values.clone(),
                            };
                            w.push_str("; ");
                            w.push_str(&f.message());
                        }
                        warnings.push(w);
                        return Ok(ReadOutcome {
                            state: None,
                            warnings,
                            verification_warning: None,
                        });
                    }
                }
            }
        }
        if let Some(d) = &s.delegated {
            let ours = prior.written.as_ref().map(|w| &w.values) == Some(&d.values)
                || d.values == s.name_servers;
            if !ours {
                warnings.push(format!(
                    "the NS record for {} in parent zone {} was changed outside this delegation to {}; apply refuses to overwrite it unless parent.allow_overwrite = true",
                    spec.name, parent_zone.id, d.values
                ));
            }
        } else {
            warnings.push(format!(
                "the parent zone {} has no NS record for {}: the name does not resolve; apply writes it again",
                parent_zone.name, spec.name
            ));
        }
        let refreshed = self.refresh_verification(spec, &s, &parent_zone).await;
        s.verification = refreshed.verification;
        Ok(ReadOutcome {
            state: Some(s),
            warnings,
            verification_warning: refreshed.warning,
        })
    }

    /// Imports an existing delegation: the parent zone, the child zone (by
    /// `spec.child.zone_id`, else the one public zone of the name in the child
    /// account) and the parent's NS record.
    pub async fn import(&self, spec: &LinkSpec) -> Result<LinkState> {
        let ctx = self.ctx(spec).await?;
        let zone = match &spec.child.zone_id {
            Some(id) => zone::get_zone(&ctx.child, id)
                .await?
                .ok_or_else(|| Error::ZoneNotFound { what: id.clone() })?,
            None => zone::find_public_zone(&ctx.child, &spec.name)
                .await?
                .ok_or_else(|| Error::ZoneNotFound {
                    what: spec.name.to_string(),
                })?,
        };
        let delegated = record::read_ns(&ctx.parent, &ctx.parent_zone.id, &spec.name).await?;
        let written = delegated.clone().filter(|d| d.values == zone.name_servers);
        Ok(LinkState {
            parent_zone_id: ctx.parent_zone.id.clone(),
            parent_zone_name: ctx.parent_zone.name.clone(),
            child_zone_id: zone.id,
            name_servers: zone.name_servers,
            delegated,
            written,
            verification: None,
            child_comment: zone.comment,
        })
    }

    /// Destroys a delegation: removes the parent NS record (exactly what this
    /// delegation wrote) and waits for INSYNC, then deletes the child zone if
    /// this delegation created it. What is already gone is success.
    pub async fn destroy(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let start = Instant::now();
        let parent = self.clients.route53(&spec.parent.account).await?;
        let child = self.clients.route53(&spec.child.account).await?;
        let parent_zone = zone::get_zone(&parent, &state.parent_zone_id).await?;
        let child_zone = if state.child_zone_id.is_empty() {
            None
        } else {
            zone::get_zone(&child, &state.child_zone_id).await?
        };
        let parent_record = match &parent_zone {
            Some(pz) => record::read_ns(&parent, &pz.id, &spec.name).await?,
            None => None,
        };
        let observed = Observed {
            child_zone: child_zone.as_ref().map(|z| ObservedZone {
                id: z.id.clone(),
                name_servers: z.name_servers.clone(),
            }),
            parent_record,
            last_written: state.written.clone(),
        };
        let created = spec.child.zone_id.is_none();
        let actions = plan::plan_destroy(&observed, created, spec.child.force_destroy).map_err(
            |e| match e {
                PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
                    action: "deleting NS record".into(),
                    name: spec.name.clone(),
                    zone_id: state.parent_zone_id.clone(),
                    expected,
                    found,
                },
                other => Error::InvalidSetting {
                    attribute: "name".into(),
                    message: other.to_string(),
                },
            },
        )?;
        tracing::info!(name = %spec.name, ?actions, "destroying delegation");
        for action in actions {
            match action {
                Action::RemoveNs { record } => {
                    if let Some(change) =
                        record::delete_exact(&parent, &state.parent_zone_id, &spec.name, &record)
                            .await?
                    {
                        wait_insync(
                            &parent,
                            &change,
                            timeout.saturating_sub(start.elapsed()),
                            self.backoff,
                            cancel,
                        )
                        .await?;
                    }
                }
                Action::DeleteZone { force, .. } => {
                    if let Some(z) = &child_zone {
                        zone::delete_zone(&child, z, force).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn occluded_finding(name: &DomainName, records: &[zone::RecordSet]) -> Finding {
    Finding::OccludedRecords {
        name: name.clone(),
        records: records
            .iter()
            .map(|r| (r.name.clone(), r.rtype.clone()))
            .collect(),
    }
}

fn plan_error(e: PlanError, spec: &LinkSpec, ctx: &Ctx, zone: Option<&ObservedZone>) -> Error {
    match e {
        PlanError::AdoptMissing { zone_id } => Error::InvalidSetting {
            attribute: "child.zone_id".into(),
            message: format!("hosted zone {zone_id} does not exist in the child account"),
        },
        PlanError::ForeignRecord { existing } => Error::ForeignRecord {
            name: spec.name.clone(),
            zone_id: ctx.parent_zone.id.clone(),
            existing,
            wanted: zone.map(|z| z.name_servers.clone()).unwrap_or_default(),
        },
        PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
            action: "writing NS record".into(),
            name: spec.name.clone(),
            zone_id: ctx.parent_zone.id.clone(),
            expected,
            found,
        },
    }
}

fn summary_of(report: &VerificationReport, status: Option<VerifyStatus>) -> VerificationSummary {
    VerificationSummary {
        status: status.unwrap_or(if report.passed {
            VerifyStatus::Verified
        } else {
            VerifyStatus::Failed
        }),
        checked_at: SystemTime::now(),
        servers_checked: report.servers_checked() as u32,
        summary: report.summary(),
        servers: report.servers(),
    }
}

fn failed_summary(why: String) -> VerificationSummary {
    VerificationSummary {
        status: VerifyStatus::Failed,
        checked_at: SystemTime::now(),
        servers_checked: 0,
        summary: why,
        servers: Vec::new(),
    }
}

fn failure_text(report: &VerificationReport) -> String {
    let mut s = report.summary();
    for f in &report.findings {
        s.push_str("; ");
        s.push_str(&f.message());
    }
    s
}
