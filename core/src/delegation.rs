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
use futures::FutureExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::account::{AccountSettings, Clients};
use crate::change::{Backoff, Changes, Polling};
use crate::diagnose::Finding;
use crate::dns::{AddressResolver, DnsClient};
use crate::error::{Error, Result};
use crate::name::DomainName;
use crate::nsset::NsSet;
use crate::pace::Pacing;
use crate::parent::ParentKind;
use crate::parent_side::{ParentConfig, ParentSide};
use crate::plan::{self, Action, ChildZoneMode, Desired, Observed, ObservedZone, PlanError};
use crate::record::{self, NsRecord, WriteOutcome};
use crate::verify::{self, ServerResult, VerificationReport, VerifyOptions, VerifyRequest};
use crate::zone::{self, HostedZone};

/// Default TTL of the parent NS record: one hour. Short enough that a repair
/// (say, after the child zone was re-created) reaches resolvers within the
/// hour; long enough that the referral is cached. Route 53's own apex NS TTL
/// is 172800 (two days), which would make a wrong referral stick for two days.
pub const DEFAULT_TTL: i64 = 3600;
/// Smallest TTL accepted for the parent NS record: Route 53's own limit, so
/// that any existing delegation (the AWS provider's documented example and
/// Cloud Posse write 30) can be imported and kept as it is.
pub const MIN_TTL: i64 = 0;
/// Largest TTL accepted for the parent NS record: Route 53's own limit.
pub const MAX_TTL: i64 = 2_147_483_647;
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
    /// Route 53 (`zone` and `account` above), RFC 2136 dynamic update, or a
    /// registrar (see [`crate::parent`]).
    pub kind: ParentKind,
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
    /// Waiting for a change only a person can make (the NS set entered at
    /// a registrar); the next apply waits again.
    Pending,
}

impl VerifyStatus {
    /// Lower-case name, as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyStatus::Verified => "verified",
            VerifyStatus::Failed => "failed",
            VerifyStatus::Skipped => "skipped",
            VerifyStatus::Cancelled => "cancelled",
            VerifyStatus::Pending => "pending",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "verified" => VerifyStatus::Verified,
            "failed" => VerifyStatus::Failed,
            "skipped" => VerifyStatus::Skipped,
            "cancelled" => VerifyStatus::Cancelled,
            "pending" => VerifyStatus::Pending,
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
    /// True when this delegation created the child zone and deletes it on
    /// destroy; false for a zone adopted (by `child.zone_id`, by import of a
    /// zone made elsewhere, or by repair onto a zone re-created by hand).
    pub zone_owned: bool,
    /// The account the parent zone of this state lives in, when it may
    /// differ from the spec's (a front end fills it from the configuration
    /// the state was made with); `None`: the spec's.
    pub parent_account: Option<AccountSettings>,
    /// The account the child zone of this state lives in, as for
    /// `parent_account`.
    pub child_account: Option<AccountSettings>,
    /// What a move left behind and this link still has to remove.
    pub retired: Vec<Retired>,
}

/// Something a move left behind, kept in state until it is removed: after
/// the new delegation verifies (the next apply), or by destroy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retired {
    /// The account it lives in.
    pub account: AccountSettings,
    /// What it is.
    pub what: RetiredObject,
}

/// What a [`Retired`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetiredObject {
    /// A hosted zone this link created.
    Zone {
        /// Its ID.
        zone_id: String,
    },
    /// The NS record this link wrote in a previous parent zone.
    Record {
        /// The previous parent zone.
        parent_zone_id: String,
        /// Exactly what this link wrote there.
        record: NsRecord,
    },
}

impl std::fmt::Display for Retired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.what {
            RetiredObject::Zone { zone_id } => write!(f, "the previous child zone {zone_id}"),
            RetiredObject::Record { parent_zone_id, .. } => {
                write!(
                    f,
                    "the NS record in the previous parent zone {parent_zone_id}"
                )
            }
        }
    }
}

/// An apply that failed, with the state reached, so nothing leaks.
#[derive(Debug)]
pub struct ApplyFailure {
    /// What went wrong.
    pub error: Error,
    /// The state reached, when anything was created or changed; `None` when
    /// nothing was, so the front end keeps its prior state exactly as it was
    /// (with the configuration it was made with).
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
    /// Findings worth a warning (for example records occluded by the
    /// delegation, which [`Engine::preflight`] already reported at plan time).
    pub findings: Vec<Finding>,
    /// Other warnings (for example an old zone kept after a move).
    pub warnings: Vec<String>,
}

/// What import found.
#[derive(Debug)]
pub struct Imported {
    /// The state.
    pub state: LinkState,
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
    /// The parent zone; `None` when it was not found (yet).
    pub parent_zone: Option<HostedZone>,
    /// Warnings for the user, with the setting each is about.
    pub notices: Vec<Notice>,
    /// The notices' messages alone.
    pub warnings: Vec<String>,
}

impl Preflight {
    /// A preflight outcome from its parent zone and notices.
    pub fn new(parent_zone: Option<HostedZone>, notices: Vec<Notice>) -> Self {
        Preflight {
            warnings: notices.iter().map(|n| n.detail.clone()).collect(),
            parent_zone,
            notices,
        }
    }
}

/// A plan-time warning, with the setting it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// A short title.
    pub summary: &'static str,
    /// The setting, in configuration terms (`parent.zone_name`), if any.
    pub attribute: Option<&'static str>,
    /// The whole message.
    pub detail: String,
}

/// Engine settings.
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// Defaults for every account (the provider's own settings).
    pub defaults: AccountSettings,
    /// Resolvers for name-server addresses and recursive checks; empty: the
    /// system's (`/etc/resolv.conf`).
    pub resolvers: Vec<SocketAddr>,
    /// Back-off for INSYNC polling (older form of `insync_polling`: first
    /// poll after `initial`, then every `max`).
    pub insync_backoff: Option<Backoff>,
    /// When to ask `GetChange` (wins over `insync_backoff`).
    pub insync_polling: Option<Polling>,
    /// Client-side pacing of each account's Route 53 requests.
    pub pacing: Pacing,
    /// How parent zone lookups, reads and writes are shared.
    pub parent: Option<ParentConfig>,
    /// First back-off between AssumeRole attempts.
    pub assume_role_backoff: Option<Duration>,
}

/// The delegation engine. Cheap to clone; clients are shared.
#[derive(Debug, Clone)]
pub struct Engine {
    clients: Clients,
    resolvers: Vec<SocketAddr>,
    pub(crate) polling: Polling,
    /// Parent zone lookups, reads and writes, shared by every link.
    parent_side: ParentSide,
    /// INSYNC waits, shared per change.
    pub(crate) changes: Changes,
}

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
        clients = clients.with_rate(cfg.pacing.rate());
        Engine {
            clients,
            resolvers: cfg.resolvers,
            polling: cfg
                .insync_polling
                .or(cfg.insync_backoff.map(Polling::from))
                .unwrap_or_default(),
            parent_side: ParentSide::new(cfg.parent.unwrap_or_default()),
            changes: Changes::default(),
        }
    }

    /// The client cache.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The parent account's effective settings: the key its zones are
    /// shared under.
    fn parent_account(&self, spec: &LinkSpec) -> AccountSettings {
        self.clients.effective(&spec.parent.account)
    }

    /// Completes when the authoritative servers answer for the new
    /// delegation (parent servers refer to `child_ns`, each child server
    /// answers SOA and NS): the early signal that the changes are probably
    /// INSYNC. Never completes when verification is off.
    async fn dns_signal(&self, spec: &LinkSpec, parent_zone: &HostedZone, child_ns: &NsSet) {
        let client = DnsClient::new(verify::REFRESH_QUERY_TIMEOUT, verify::REFRESH_RETRIES);
        let resolver = match self.resolver_with(&spec.verify, client.clone()) {
            Ok(r) if spec.verify.enabled && !child_ns.is_empty() => r,
            _ => return std::future::pending().await,
        };
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: parent_zone.name.clone(),
            parent_name_servers: parent_zone.name_servers.clone(),
            child_name_servers: child_ns.clone(),
        };
        let every = (self.polling.interval / 2).max(Duration::from_millis(50));
        loop {
            tokio::time::sleep(every).await;
            if let Ok(r) =
                verify::refresh_check(&req, &resolver, client.clone(), verify::REFRESH_BUDGET).await
            {
                if r.passed {
                    tracing::debug!(name = %spec.name, "DNS answers for the new delegation");
                    return;
                }
            }
        }
    }

    pub(crate) fn resolver_for(
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

    async fn parent_zone(&self, parent: &Client, spec: &LinkSpec) -> Result<HostedZone> {
        let account = self.clients.effective(&spec.parent.account);
        let zone = self
            .parent_side
            .zone(parent, &account, &spec.parent.zone)
            .await?
            .ok_or_else(|| Error::ZoneNotFound {
                what: match &spec.parent.zone {
                    ZoneRef::Id(id) => id.clone(),
                    ZoneRef::Name(n) => n.to_string(),
                },
            })?;
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
    /// a new delegation would not overwrite someone else's NS record, and the
    /// parent zone has no records the delegation would hide.
    ///
    /// Things that may be created in the same run (a parent zone made by
    /// another link, a role made by another resource) are not errors here:
    /// a parent zone not found or a role that cannot be assumed yet comes
    /// back as a [`Notice`] and `parent_zone: None`; apply checks again and
    /// fails clearly if they are still missing.
    pub async fn preflight(&self, spec: &LinkSpec, prior: Option<&LinkState>) -> Result<Preflight> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.preflight_external(spec, prior).await;
        }
        let mut notices = Vec::new();
        let parent = match self.clients.route53(&spec.parent.account).await {
            Ok(p) => p,
            Err(e @ Error::AssumeRole { .. }) => {
                notices.push(not_yet(&e, "parent.assume_role.role_arn"));
                return Ok(Preflight::new(None, notices));
            }
            Err(e) => return Err(e),
        };
        let parent_zone = match self.parent_zone(&parent, spec).await {
            Ok(z) => z,
            Err(e @ Error::ZoneNotFound { .. }) => {
                let attribute = match spec.parent.zone {
                    ZoneRef::Id(_) => "parent.zone_id",
                    ZoneRef::Name(_) => "parent.zone_name",
                };
                notices.push(not_yet(&e, attribute));
                return Ok(Preflight::new(None, notices));
            }
            Err(e) => return Err(e),
        };
        if prior.is_none() {
            let current = self
                .parent_side
                .read_ns(
                    &parent,
                    &self.parent_account(spec),
                    &parent_zone.id,
                    &spec.name,
                )
                .await?;
            if let Some(cur) = current {
                let child = match self.clients.route53(&spec.child.account).await {
                    Ok(c) => Some(c),
                    Err(e @ Error::AssumeRole { .. }) => {
                        notices.push(not_yet(&e, "child.assume_role.role_arn"));
                        None
                    }
                    Err(e) => return Err(e),
                };
                let adopt_ns = match (&child, &spec.child.zone_id) {
                    (None, _) => None,
                    (Some(child), Some(id)) => {
                        zone::get_zone(child, id).await?.map(|z| z.name_servers)
                    }
                    (Some(child), None) => {
                        // A zone an interrupted or tainted earlier attempt
                        // created: the record pointing at it is ours.
                        let prefix = zone::caller_reference_prefix(&spec.name, &parent_zone.id);
                        zone::find_own_zone(child, &spec.name, &prefix)
                            .await?
                            .map(|z| z.name_servers)
                    }
                };
                if adopt_ns.as_ref() != Some(&cur.values) {
                    if !spec.parent.allow_overwrite {
                        return Err(Error::ForeignRecord {
                            name: spec.name.clone(),
                            zone_id: parent_zone.id.clone(),
                            existing: cur.values,
                            wanted: adopt_ns.unwrap_or_default(),
                        });
                    }
                    notices.push(overwrite_notice(&spec.name, &parent_zone, &cur));
                }
            }
            let occluded = self
                .parent_side
                .occluded_records(
                    &parent,
                    &self.parent_account(spec),
                    &parent_zone.id,
                    &spec.name,
                )
                .await?;
            if !occluded.is_empty() {
                notices.push(Notice {
                    summary: "Records hidden by the delegation",
                    attribute: None,
                    detail: occluded_finding(&spec.name, &occluded).message(),
                });
            }
        }
        Ok(Preflight::new(Some(parent_zone), notices))
    }

    /// Where the prior child zone is, and whether this apply moves the
    /// delegation away from it (another account, or another zone named by
    /// `child.zone_id`). `None`: no move.
    async fn prior_zone_to_leave(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
    ) -> Result<Option<OldZone>> {
        let Some(p) = prior.filter(|p| !p.child_zone_id.is_empty()) else {
            return Ok(None);
        };
        if spec.child.zone_id.as_deref() == Some(p.child_zone_id.as_str()) {
            return Ok(None);
        }
        let in_new_account = visible_zone(&ctx.child, &p.child_zone_id).await?;
        if let Some(z) = in_new_account.filter(|z| z.name == spec.name) {
            if spec.child.zone_id.is_none() {
                // Same zone, same account (or an account that sees it).
                return Ok(None);
            }
            return Ok(Some(OldZone {
                client: ctx.child.clone(),
                settings: spec.child.account.clone(),
                zone: z,
                owned: p.zone_owned,
            }));
        }
        let old_settings = p.child_account.as_ref().unwrap_or(&spec.child.account);
        if self.clients.effective(old_settings) == self.clients.effective(&spec.child.account) {
            // Not a move: the zone is gone (apply creates a new one).
            return Ok(None);
        }
        let old_client = self.clients.route53(old_settings).await?;
        Ok(visible_zone(&old_client, &p.child_zone_id)
            .await?
            .filter(|z| z.name == spec.name)
            .map(|zone| OldZone {
                client: old_client,
                settings: old_settings.clone(),
                zone,
                owned: p.zone_owned,
            }))
    }

    /// Creates or updates a delegation and verifies it. On failure after
    /// anything was created, the failure carries the state reached.
    ///
    /// A change of the child account, of `child.zone_id` or of the parent
    /// zone moves the delegation without an outage: the new zone is created
    /// (or adopted), the parent record is written or swapped atomically, the
    /// change is waited for and verified, and only then is the old parent
    /// record removed and the old zone deleted (only if this link created
    /// it).
    ///
    /// `timeout` bounds every step, each AWS call included; `cancel` stops
    /// any of them.
    pub async fn apply(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        self.apply_with_progress(spec, prior, timeout, cancel, &|_| {})
            .await
    }

    /// [`Engine::apply`], calling `progress` with the state reached each time
    /// something was created or written in AWS (a zone created or adopted, the
    /// parent record written), so a front end can keep it even if the apply
    /// never returns normally (a panic, a process killed): nothing created is
    /// forgotten.
    pub async fn apply_with_progress(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        if spec.parent.kind != ParentKind::Route53 {
            return self
                .apply_external(spec, prior, timeout, cancel, progress)
                .await;
        }
        let fail = |error: Error, partial: Option<LinkState>| {
            Box::new(ApplyFailure {
                error,
                partial,
                report: None,
            })
        };
        let start = Instant::now();
        let bound = Bound {
            deadline: start + timeout,
            timeout,
            cancel,
        };
        let remaining = || timeout.saturating_sub(start.elapsed());
        let ctx = bound
            .run("reading the parent zone and the accounts", self.ctx(spec))
            .await
            .map_err(|e| fail(e, None))?;

        // What this apply leaves behind: the old parent record when the
        // parent zone changes, the old zone when the child moves.
        let old_parent = match prior
            .map(|p| p.parent_zone_id.as_str())
            .filter(|id| !id.is_empty() && *id != ctx.parent_zone.id)
        {
            Some(old_id) => {
                let settings = prior
                    .and_then(|p| p.parent_account.clone())
                    .unwrap_or_else(|| spec.parent.account.clone());
                Some((settings, old_id.to_string()))
            }
            None => None,
        };
        let old_zone = bound
            .run(
                "finding the previous child zone",
                self.prior_zone_to_leave(&ctx, spec, prior),
            )
            .await
            .map_err(|e| fail(e, None))?;
        if let Some(old) = old_zone
            .as_ref()
            .filter(|o| o.owned && !spec.child.force_destroy)
        {
            // Check before the first write: a move must not strand records.
            let records = bound
                .run(
                    "listing the previous child zone's records",
                    zone::own_records(&old.client, &old.zone),
                )
                .await
                .map_err(|e| fail(e, None))?;
            if !records.is_empty() {
                return Err(fail(
                    Error::Partial {
                        context: format!(
                            "moving the delegation of {} away from hosted zone {}",
                            spec.name, old.zone.id
                        ),
                        source: Box::new(Error::ZoneNotEmpty {
                            zone_id: old.zone.id.clone(),
                            name: old.zone.name.clone(),
                            records: records
                                .iter()
                                .map(|r| (r.name.clone(), r.rtype.clone()))
                                .collect(),
                        }),
                        consequence: "nothing was changed; copy those records to the new zone and delete them from the old one, or set child.force_destroy = true to delete them with the old zone".into(),
                    },
                    None,
                ));
            }
        }
        let moving_child = old_zone.is_some();
        let lookup = spec.child.zone_id.clone().or_else(|| {
            prior
                .filter(|_| !moving_child)
                .map(|p| p.child_zone_id.clone())
                .filter(|s| !s.is_empty())
        });
        let last_written = if old_parent.is_some() {
            None
        } else {
            prior.and_then(|p| p.written.clone())
        };
        let observed = bound
            .run(
                "reading the child zone and the parent record",
                self.observe(&ctx, spec, lookup, last_written),
            )
            .await
            .map_err(|e| fail(e, None))?;
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
                None,
            )
        })?;
        tracing::info!(name = %spec.name, ?actions, moving_child, moving_parent = old_parent.is_some(), "applying delegation");

        let mut state = prior.cloned().unwrap_or_else(|| LinkState {
            parent_zone_id: ctx.parent_zone.id.clone(),
            parent_zone_name: ctx.parent_zone.name.clone(),
            child_zone_id: String::new(),
            name_servers: NsSet::new(),
            delegated: None,
            written: None,
            verification: None,
            child_comment: None,
            zone_owned: false,
            parent_account: None,
            child_account: None,
            retired: Vec::new(),
        });
        state.parent_account = None;
        state.child_account = None;
        // Kept in state from here on, so that a failure before they are
        // removed leaves nothing nobody manages.
        let mut retiring = prior.map(|p| p.retired.clone()).unwrap_or_default();
        if let (Some((settings, old_id)), Some(w)) =
            (&old_parent, prior.and_then(|p| p.written.as_ref()))
        {
            retiring.push(Retired {
                account: settings.clone(),
                what: RetiredObject::Record {
                    parent_zone_id: old_id.clone(),
                    record: w.clone(),
                },
            });
        }
        if let Some(old) = old_zone.as_ref().filter(|o| o.owned) {
            retiring.push(Retired {
                account: old.settings.clone(),
                what: RetiredObject::Zone {
                    zone_id: old.zone.id.clone(),
                },
            });
        }
        state.retired = retiring;
        if let Some((_, old_id)) = &old_parent {
            // The old parent's record is not this state's any more.
            tracing::info!(name = %spec.name, from = %old_id, to = %ctx.parent_zone.id, "moving to another parent zone");
            state.delegated = None;
            state.written = None;
        }
        state.parent_zone_id = ctx.parent_zone.id.clone();
        state.parent_zone_name = ctx.parent_zone.name.clone();
        let mut child_zone = observed.child_zone.clone();
        match &child_zone {
            Some(z) => {
                let was = state.child_zone_id.clone();
                state.child_zone_id = z.id.clone();
                state.name_servers = z.name_servers.clone();
                state.zone_owned = if spec.child.zone_id.is_some() {
                    false
                } else if was == z.id {
                    state.zone_owned
                } else {
                    // Found by its CallerReference: an earlier attempt's.
                    true
                };
            }
            None => {
                state.child_zone_id = String::new();
                state.name_servers = NsSet::new();
            }
        }
        let mut any_change = false;
        let mut waits: Vec<(Client, String)> = Vec::new();
        let mut created_zone = false;
        // Links applied together share one parent batch: say this one's
        // write is coming while its zone is created.
        let mut intent = actions
            .iter()
            .any(|a| matches!(a, Action::WriteNs { .. } | Action::ReplaceNs { .. }))
            .then(|| {
                self.parent_side
                    .intend(&self.parent_account(spec), &ctx.parent_zone.id)
            });
        for action in &actions {
            match action {
                Action::CreateZone => {
                    let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
                    let created = bound
                        .run(
                            "creating the child zone",
                            zone::create_zone(
                                &ctx.child,
                                &spec.name,
                                &prefix,
                                spec.child.comment.as_deref(),
                            ),
                        )
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.child_zone_id = created.zone.id.clone();
                    state.name_servers = created.zone.name_servers.clone();
                    state.child_comment = created.zone.comment.clone();
                    state.zone_owned = true;
                    created_zone = true;
                    progress(&state);
                    child_zone = Some(ObservedZone {
                        id: created.zone.id.clone(),
                        name_servers: created.zone.name_servers.clone(),
                    });
                    any_change = true;
                    // Waited for together with the parent record's change.
                    if let Some(change) = &created.change_id {
                        waits.push((ctx.child.clone(), change.clone()));
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = bound
                        .run(
                            "reading the zone to adopt",
                            zone::get_zone(&ctx.child, zone_id),
                        )
                        .await
                        .map_err(|e| fail(e, None))?
                        .ok_or_else(|| {
                            fail(
                                Error::ZoneNotFound {
                                    what: zone_id.clone(),
                                },
                                None,
                            )
                        })?;
                    state.child_zone_id = z.id.clone();
                    state.name_servers = z.name_servers.clone();
                    state.zone_owned = false;
                    progress(&state);
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
                    let outcome = bound
                        .run(
                            "writing the parent NS record",
                            self.parent_side.write_ns(
                                &ctx.parent,
                                intent.take().unwrap_or_else(|| {
                                    self.parent_side
                                        .intend(&self.parent_account(spec), &ctx.parent_zone.id)
                                }),
                                &spec.name,
                                &wanted,
                                current,
                            ),
                        )
                        .await
                        .map_err(|e| fail(e, Some(state.clone())))?;
                    if outcome != WriteOutcome::Unchanged {
                        any_change = true;
                        state.written = Some(wanted.clone());
                        state.delegated = Some(wanted.clone());
                        progress(&state);
                    }
                    if let Some(change) = outcome.change_id() {
                        waits.push((ctx.parent.clone(), change.to_string()));
                    }
                }
                Action::RemoveNs { .. } | Action::DeleteZone { .. } => {}
            }
        }
        // One wait for everything written: the new zone and the parent
        // record, together.
        if !waits.is_empty() {
            let early = self
                .dns_signal(spec, &ctx.parent_zone, &state.name_servers)
                .shared();
            let all = waits.iter().map(|(client, change)| {
                self.changes.wait(
                    client,
                    change,
                    remaining(),
                    self.polling,
                    early.clone(),
                    cancel,
                )
            });
            futures::future::try_join_all(all)
                .await
                .map_err(|e| fail(e, Some(state.clone())))?;
        }
        // State comes from Read.
        let mut state = bound
            .run(
                "reading back",
                self.read_back(&ctx, spec, &state, created_zone),
            )
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        // A zone this delegation manages carries the configured comment; an
        // adopted one keeps its own.
        if state.zone_owned
            && spec.child.zone_id.is_none()
            && !state.child_zone_id.is_empty()
            && state.child_comment != spec.child.comment
        {
            bound
                .run(
                    "updating the child zone's comment",
                    zone::update_comment(
                        &ctx.child,
                        &state.child_zone_id,
                        spec.child.comment.as_deref(),
                    ),
                )
                .await
                .map_err(|e| fail(e, Some(state.clone())))?;
            state.child_comment = spec.child.comment.clone();
        }
        if state.written.is_none() {
            // Adopted delegation already in place: it is ours from now on.
            state.written = state.delegated.clone();
        }
        let needs_verify = any_change
            || old_parent.is_some()
            || old_zone.is_some()
            || !state.retired.is_empty()
            || state
                .verification
                .as_ref()
                .map(|v| v.status != VerifyStatus::Verified)
                .unwrap_or(true);
        let mut report = None;
        let mut verify_findings = Vec::new();
        if !spec.verify.enabled {
            state.verification = Some(VerificationSummary {
                status: VerifyStatus::Skipped,
                checked_at: SystemTime::now(),
                servers_checked: 0,
                summary: "verification is switched off (verify.enabled = false)".into(),
                servers: Vec::new(),
            });
        } else if needs_verify {
            let verify_timeout = spec.verify.timeout.min(remaining());
            let leftovers = leftovers_text(&state.retired);
            match self
                .verify(spec, &ctx, &state, verify_timeout, cancel)
                .await
            {
                Ok(r) => {
                    state.verification = Some(summary_of(&r, None));
                    if !r.passed {
                        let summary = failure_text(&r);
                        let error = Error::VerificationFailed {
                            name: spec.name.clone(),
                            summary,
                        };
                        return Err(Box::new(ApplyFailure {
                            error: with_leftovers(error, &leftovers),
                            partial: Some(state),
                            report: Some(r),
                        }));
                    }
                    // Warnings of a verified delegation (a resolver's cached
                    // negative answer, say) reach the user.
                    verify_findings.extend(
                        r.findings
                            .iter()
                            .filter(|f| f.severity() == crate::diagnose::Severity::Warning)
                            .cloned(),
                    );
                    if prior.is_none() && !r.findings.iter().any(|f| f.code() == "cached_negative")
                    {
                        if let Some(f) = self.negative_caching(spec, &ctx).await {
                            verify_findings.push(f);
                        }
                    }
                    report = Some(r);
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
                    let error = Error::Cancelled {
                        during: format!("verifying delegation of {}", spec.name),
                    };
                    return Err(Box::new(ApplyFailure {
                        error: with_leftovers(error, &leftovers),
                        partial: Some(state),
                        report: last_report.map(|r| *r),
                    }));
                }
                Err(e) => {
                    let error = Error::Dns {
                        name: spec.name.clone(),
                        message: e.to_string(),
                    };
                    return Err(Box::new(ApplyFailure {
                        error: with_leftovers(error, &leftovers),
                        partial: Some(state),
                        report: None,
                    }));
                }
            }
        }
        // The new delegation is in place (and verified): retire the old one.
        let mut warnings = Vec::new();
        let items = std::mem::take(&mut state.retired);
        let (left, mut notes, err) = self.retire(&items, spec, &bound, remaining(), cancel).await;
        warnings.append(&mut notes);
        state.retired = left;
        if let Some(e) = err {
            let consequence = leftovers_text(&state.retired);
            return Err(fail(
                Error::Partial {
                    context: format!(
                        "moving the delegation of {}: the new delegation is in place and verified",
                        spec.name
                    ),
                    source: Box::new(e),
                    consequence,
                },
                Some(state),
            ));
        }
        if let Some(old) = old_zone.as_ref().filter(|o| !o.owned) {
            warnings.push(format!(
                "the delegation of {} moved from hosted zone {} to {}; {} was not created by this link and was kept",
                spec.name, old.zone.id, state.child_zone_id, old.zone.id
            ));
        }
        let mut findings = Vec::new();
        if prior.is_none() {
            if let Ok(occ) = bound
                .run(
                    "listing records hidden by the delegation",
                    self.parent_side.occluded_records(
                        &ctx.parent,
                        &self.parent_account(spec),
                        &ctx.parent_zone.id,
                        &spec.name,
                    ),
                )
                .await
            {
                if !occ.is_empty() {
                    findings.push(occluded_finding(&spec.name, &occ));
                }
            }
        }
        // The occluded records first, then what verification noted.
        findings.extend(verify_findings);
        Ok(Applied {
            state,
            report,
            findings,
            warnings,
        })
    }

    /// Removes what moves left behind: a previous parent record only if it
    /// still holds exactly what this link wrote, a previous zone (which this
    /// link created) with `force_destroy` deciding about its records. Returns
    /// what is still left, warnings, and the first error.
    async fn retire(
        &self,
        items: &[Retired],
        spec: &LinkSpec,
        bound: &Bound<'_>,
        wait: Duration,
        cancel: &CancellationToken,
    ) -> (Vec<Retired>, Vec<String>, Option<Error>) {
        let mut warnings = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let step = async {
                let client = self.clients.route53(&item.account).await?;
                match &item.what {
                    RetiredObject::Record {
                        parent_zone_id,
                        record,
                    } => match record::read_ns(&client, parent_zone_id, &spec.name).await {
                        Ok(Some(cur)) if cur.values == record.values => {
                            if let Some(change) =
                                record::delete_exact(&client, parent_zone_id, &spec.name, &cur)
                                    .await?
                            {
                                self.changes
                                    .wait(
                                        &client,
                                        &change,
                                        wait,
                                        self.polling,
                                        std::future::pending(),
                                        cancel,
                                    )
                                    .await?;
                            }
                            Ok(None)
                        }
                        Ok(Some(cur)) => Ok(Some(format!(
                            "the NS record for {} in the previous parent zone {parent_zone_id} holds {}, which this link did not write; it was left in place",
                            spec.name, cur.values
                        ))),
                        Ok(None) => Ok(None),
                        // The previous parent zone itself is gone.
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    },
                    RetiredObject::Zone { zone_id } => {
                        if let Some(z) = visible_zone(&client, zone_id).await? {
                            zone::delete_zone(&client, &z, spec.child.force_destroy).await?;
                        }
                        Ok(None)
                    }
                }
            };
            match bound.run(&format!("removing {item}"), step).await {
                Ok(Some(w)) => warnings.push(w),
                Ok(None) => {}
                Err(e) => return (items[i..].to_vec(), warnings, Some(e)),
            }
        }
        (Vec::new(), warnings, None)
    }

    /// Verifies an existing delegation once (polling until the spec's
    /// timeout), for example right after import.
    pub async fn verify_state(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        cancel: &CancellationToken,
    ) -> VerificationSummary {
        if spec.parent.kind != ParentKind::Route53 {
            return self.verify_state_external(spec, state, cancel).await;
        }
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
        zone_id: Option<String>,
        last_written: Option<NsRecord>,
    ) -> Result<Observed> {
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
        let parent_record = self
            .parent_side
            .read_ns(
                &ctx.parent,
                &self.parent_account(spec),
                &ctx.parent_zone.id,
                &spec.name,
            )
            .await?;
        Ok(Observed {
            child_zone: child_zone.map(|z| ObservedZone {
                id: z.id,
                name_servers: z.name_servers,
            }),
            parent_record,
            last_written,
        })
    }

    /// Reads back what apply did. A zone created by this apply is not read
    /// again: CreateHostedZone answered with it (its name servers and comment).
    async fn read_back(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        state: &LinkState,
        created: bool,
    ) -> Result<LinkState> {
        let mut s = state.clone();
        if !s.child_zone_id.is_empty() && !created {
            if let Some(z) = zone::get_zone(&ctx.child, &s.child_zone_id).await? {
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
        }
        s.delegated = self
            .parent_side
            .read_ns(
                &ctx.parent,
                &self.parent_account(spec),
                &ctx.parent_zone.id,
                &spec.name,
            )
            .await?;
        Ok(s)
    }

    /// Reads a delegation for drift. The child zone gone (and no zone of the
    /// name to take its place) drops the delegation from state, with a warning
    /// about the parent record left dangling.
    pub async fn read(&self, spec: &LinkSpec, prior: &LinkState) -> Result<ReadOutcome> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.read_external(spec, prior).await;
        }
        let parent = self.clients.route53(&spec.parent.account).await?;
        let child = self.clients.route53(&spec.child.account).await?;
        let mut warnings = Vec::new();
        let mut s = prior.clone();
        let Some(parent_zone) = self
            .parent_side
            .zone(
                &parent,
                &self.parent_account(spec),
                &ZoneRef::Id(prior.parent_zone_id.clone()),
            )
            .await?
        else {
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
        s.delegated = self
            .parent_side
            .read_ns(
                &parent,
                &self.parent_account(spec),
                &parent_zone.id,
                &spec.name,
            )
            .await?;
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
                        // Made by hand (or by another tool): adopted, never
                        // deleted by destroy. One this provider made for this
                        // delegation (its CallerReference says so) is owned.
                        let prefix = zone::caller_reference_prefix(&spec.name, &parent_zone.id);
                        s.zone_owned = z.caller_reference.starts_with(&prefix);
                        let how = if s.zone_owned {
                            "apply re-points the parent to it"
                        } else {
                            "apply re-points the parent to it and treats it as adopted: this link did not create it, so destroy will not delete it and its comment is left alone"
                        };
                        warnings.push(format!(
                            "the child hosted zone {} for {} was deleted; hosted zone {} with the same name now exists (re-created?) and has other name servers ({}); the parent still refers to {}; {how}",
                            if prior.child_zone_id.is_empty() { "created by this link" } else { &prior.child_zone_id },
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
                        // A zone this link created is gone, and the parent
                        // record is the one this link wrote: keep the state
                        // so plan shows the repair (a new zone, the record
                        // re-pointed) instead of refusing the record as
                        // someone else's.
                        let ours = s.delegated.as_ref().is_some_and(|d| {
                            prior.written.as_ref().map(|w| &w.values) == Some(&d.values)
                        });
                        if spec.child.zone_id.is_none() && ours {
                            let d = s
                                .delegated
                                .as_ref()
                                .map(|d| d.values.clone())
                                .unwrap_or_default();
                            warnings.push(format!(
                                "the child hosted zone {} for {} no longer exists, and the parent's NS record still points at its servers {d} ({}); apply creates a new zone and re-points the parent to it",
                                if prior.child_zone_id.is_empty() { "created by this link" } else { &prior.child_zone_id },
                                spec.name,
                                Finding::DanglingDelegation {
                                    name: spec.name.clone(),
                                    parent_ns: d.clone(),
                                }
                                .message()
                            ));
                            s.child_zone_id = String::new();
                            s.name_servers = NsSet::new();
                            s.child_comment = None;
                            s.zone_owned = true;
                            // What state says must match DNS: the delegation
                            // no longer works (and is dangling).
                            s.verification = Some(VerificationSummary {
                                status: VerifyStatus::Failed,
                                checked_at: SystemTime::now(),
                                servers_checked: 0,
                                summary: format!(
                                    "the child hosted zone of {} no longer exists; the parent's NS record is dangling",
                                    spec.name
                                ),
                                servers: Vec::new(),
                            });
                            return Ok(ReadOutcome {
                                state: Some(s),
                                warnings,
                                verification_warning: None,
                            });
                        }
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
    ///
    /// The zone is owned (deleted on destroy) only when this provider created
    /// it for this delegation (its CallerReference says so) and no
    /// `child.zone_id` is given; any other zone is adopted and never deleted.
    /// The `Imported` says which, for the front end to tell the user.
    pub async fn import(&self, spec: &LinkSpec, cancel: &CancellationToken) -> Result<Imported> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.import_external(spec, cancel).await;
        }
        let work = async {
            let ctx = self.ctx(spec).await.map_err(|e| import_hint(e, spec))?;
            let zone = match &spec.child.zone_id {
                Some(id) => zone::get_zone(&ctx.child, id)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound { what: id.clone() })?,
                None => zone::find_public_zone(&ctx.child, &spec.name)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound {
                        what: spec.name.to_string(),
                    })
                    .map_err(|e| import_hint(e, spec))?,
            };
            let delegated = record::read_ns(&ctx.parent, &ctx.parent_zone.id, &spec.name).await?;
            let written = delegated.clone().filter(|d| d.values == zone.name_servers);
            let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
            let zone_owned =
                spec.child.zone_id.is_none() && zone.caller_reference.starts_with(&prefix);
            Ok(Imported {
                state: LinkState {
                    parent_zone_id: ctx.parent_zone.id.clone(),
                    parent_zone_name: ctx.parent_zone.name.clone(),
                    child_zone_id: zone.id,
                    name_servers: zone.name_servers,
                    delegated,
                    written,
                    verification: None,
                    child_comment: zone.comment,
                    zone_owned,
                    parent_account: None,
                    child_account: None,
                    retired: Vec::new(),
                },
            })
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled { during: format!("importing the delegation of {}", spec.name) }),
            r = work => r,
        }
    }

    /// Destroys a delegation: removes the parent NS record (exactly what this
    /// delegation wrote) and waits for INSYNC, then deletes the child zone if
    /// this delegation created it. What is already gone is success.
    ///
    /// Everything that can refuse is checked before the first write: the
    /// parent record still being this link's, and the zone holding no records
    /// of its own (unless `force_destroy`), so a refused destroy leaves the
    /// delegation working. If a later step still fails, the error says what
    /// was done and what is left.
    pub async fn destroy(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.destroy_external(spec, state, timeout, cancel).await;
        }
        let start = Instant::now();
        let bound = Bound {
            deadline: start + timeout,
            timeout,
            cancel,
        };
        let remaining = || timeout.saturating_sub(start.elapsed());
        let parent = bound
            .run(
                "reaching the parent account",
                self.clients.route53(&spec.parent.account),
            )
            .await?;
        let child = bound
            .run(
                "reaching the child account",
                self.clients.route53(&spec.child.account),
            )
            .await?;
        let parent_zone = bound
            .run(
                "reading the parent zone",
                self.parent_side.zone(
                    &parent,
                    &self.parent_account(spec),
                    &ZoneRef::Id(state.parent_zone_id.clone()),
                ),
            )
            .await?;
        let child_zone = if state.child_zone_id.is_empty() {
            None
        } else {
            bound
                .run(
                    "reading the child zone",
                    zone::get_zone(&child, &state.child_zone_id),
                )
                .await?
        };
        let parent_record = match &parent_zone {
            Some(pz) => {
                bound
                    .run(
                        "reading the parent NS record",
                        self.parent_side.read_ns(
                            &parent,
                            &self.parent_account(spec),
                            &pz.id,
                            &spec.name,
                        ),
                    )
                    .await?
            }
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
        let created = spec.child.zone_id.is_none() && state.zone_owned;
        let actions = plan::plan_destroy(&observed, created, spec.child.force_destroy).map_err(
            |e| match e {
                PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
                    action: "deleting NS record",
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
        // Links destroyed together share one parent batch: say this one's
        // removal is coming while its zone is checked.
        let mut intent = actions
            .iter()
            .any(|a| matches!(a, Action::RemoveNs { .. }))
            .then(|| {
                self.parent_side
                    .intend(&self.parent_account(spec), &state.parent_zone_id)
            });
        // Preflight: a zone that cannot be deleted is found out before the
        // parent record is touched, so the subdomain keeps resolving.
        for action in &actions {
            if let (Action::DeleteZone { force: false, .. }, Some(z)) = (action, &child_zone) {
                let records = bound
                    .run(
                        "listing the child zone's records",
                        zone::own_records(&child, z),
                    )
                    .await?;
                if !records.is_empty() {
                    return Err(destroy_refused(
                        spec,
                        z,
                        &records,
                        "nothing was changed: the parent NS record and the zone are kept, and the subdomain still resolves",
                    ));
                }
            }
        }
        if !spec.child.force_destroy {
            for item in &state.retired {
                if let RetiredObject::Zone { zone_id } = &item.what {
                    let step = async {
                        let client = self.clients.route53(&item.account).await?;
                        match visible_zone(&client, zone_id).await? {
                            Some(z) => Ok(Some((zone::own_records(&client, &z).await?, z))),
                            None => Ok(None),
                        }
                    };
                    if let Some((records, z)) =
                        bound.run("listing a previous zone's records", step).await?
                    {
                        if !records.is_empty() {
                            return Err(destroy_refused(spec, &z, &records, "nothing was changed"));
                        }
                    }
                }
            }
        }
        tracing::info!(name = %spec.name, ?actions, "destroying delegation");
        let mut removed_record = false;
        for action in actions {
            match action {
                Action::RemoveNs { record } => {
                    let step = async {
                        if let Some(change) = self
                            .parent_side
                            .delete_exact(
                                &parent,
                                intent.take().unwrap_or_else(|| {
                                    self.parent_side
                                        .intend(&self.parent_account(spec), &state.parent_zone_id)
                                }),
                                &spec.name,
                                &record,
                            )
                            .await?
                        {
                            // The record must be gone everywhere before the
                            // zone it points at is deleted.
                            self.changes
                                .wait(
                                    &parent,
                                    &change,
                                    remaining(),
                                    self.polling,
                                    std::future::pending(),
                                    cancel,
                                )
                                .await?;
                        }
                        Ok(())
                    };
                    bound
                        .run("removing the parent NS record", step)
                        .await
                        .map_err(|e| {
                            // The DELETE may have gone through before the wait failed.
                            Error::Partial {
                                context: format!(
                                    "destroying the delegation of {}: removing the NS record from parent zone {}",
                                    spec.name, state.parent_zone_id
                                ),
                                source: Box::new(e),
                                consequence: "the child zone was not touched and stays in state; destroy again".into(),
                            }
                        })?;
                    removed_record = true;
                }
                Action::DeleteZone { force, .. } => {
                    if let Some(z) = &child_zone {
                        let step = async {
                            if let Some(change) = zone::delete_zone(&child, z, force).await? {
                                tracing::debug!(zone_id = %z.id, change, "zone deleted");
                            }
                            Ok(())
                        };
                        bound
                            .run("deleting the child zone", step)
                            .await
                            .map_err(|e| Error::Partial {
                                context: format!(
                                    "destroying the delegation of {}: {}deleting hosted zone {}",
                                    spec.name,
                                    if removed_record {
                                        "the parent NS record was removed, then "
                                    } else {
                                        ""
                                    },
                                    z.id
                                ),
                                source: Box::new(e),
                                consequence: format!(
                                    "the zone {} still exists and stays in state{}; destroy again",
                                    z.id,
                                    if removed_record {
                                        " (undelegated: the subdomain does not resolve until it is deleted or apply delegates it again)"
                                    } else {
                                        ""
                                    }
                                ),
                            })?;
                    }
                }
                _ => {}
            }
        }
        let (left, _, err) = self
            .retire(&state.retired, spec, &bound, remaining(), cancel)
            .await;
        if let Some(e) = err {
            return Err(Error::Partial {
                context: format!(
                    "destroying the delegation of {}: the delegation itself is removed",
                    spec.name
                ),
                source: Box::new(e),
                consequence: format!("{}; destroy again", leftovers_text(&left)),
            });
        }
        Ok(())
    }
}

/// A zone the delegation moves away from.
struct OldZone {
    client: Client,
    settings: AccountSettings,
    zone: HostedZone,
    owned: bool,
}

/// Reads a zone by ID in an account that may not hold it: not found and
/// access denied both mean "not here".
async fn visible_zone(r53: &Client, id: &str) -> Result<Option<HostedZone>> {
    match zone::get_zone(r53, id).await {
        Ok(z) => Ok(z),
        Err(e) if matches!(e.aws_code(), Some("AccessDenied" | "AccessDeniedException")) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The deadline and cancellation every step of an operation runs under.
pub(crate) struct Bound<'a> {
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) cancel: &'a CancellationToken,
}

impl Bound<'_> {
    /// Runs one step (AWS calls included) until it ends, the operation's
    /// deadline passes or the operation is cancelled.
    pub(crate) async fn run<T>(
        &self,
        during: &str,
        step: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::select! {
            biased;
            () = self.cancel.cancelled() => Err(Error::Cancelled { during: during.to_string() }),
            () = tokio::time::sleep_until(self.deadline) => Err(Error::TimedOut {
                during: during.to_string(),
                timeout: self.timeout,
            }),
            r = step => r,
        }
    }
}

/// A plan-time lookup of something that may be created by the same apply.
pub(crate) fn not_yet(e: &Error, attribute: &'static str) -> Notice {
    Notice {
        summary: "Not found yet",
        attribute: Some(attribute),
        detail: format!(
            "{e}; if it is created in the same apply (another resource, depends_on) this is expected; apply checks again and fails if it is still missing"
        ),
    }
}

fn overwrite_notice(name: &DomainName, parent_zone: &HostedZone, cur: &NsRecord) -> Notice {
    Notice {
        summary: "NS record of someone else will be replaced",
        attribute: Some("parent.allow_overwrite"),
        detail: format!(
            "parent.allow_overwrite = true: apply replaces the NS record for {name} in parent zone {} ({}), which this link did not write; it now delegates to {}",
            parent_zone.name, parent_zone.id, cur.values
        ),
    }
}

/// What a move left, in words: kept in state and removed later.
fn leftovers_text(retired: &[Retired]) -> String {
    if retired.is_empty() {
        return String::new();
    }
    format!(
        "{} {} kept in state: the next apply removes {} once the new delegation verifies, and destroy removes {} too",
        retired
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        if retired.len() == 1 { "is" } else { "are" },
        if retired.len() == 1 { "it" } else { "them" },
        if retired.len() == 1 { "it" } else { "them" },
    )
}

fn with_leftovers(error: Error, leftovers: &str) -> Error {
    if leftovers.is_empty() {
        return error;
    }
    let context = match &error {
        Error::VerificationFailed { name, .. } | Error::Dns { name, .. } => {
            format!("moving the delegation of {name}: the new delegation is written")
        }
        _ => "moving the delegation: the new delegation is written".into(),
    };
    Error::Partial {
        context,
        source: Box::new(error),
        consequence: leftovers.to_string(),
    }
}

/// Import errors that need the long import ID say so.
fn import_hint(e: Error, spec: &LinkSpec) -> Error {
    match e {
        Error::ZoneNotFound { what }
            if spec.parent.account.assume_role.is_none()
                || spec.child.account.assume_role.is_none() =>
        {
            Error::ZoneNotFound {
                what: format!(
                    "{what} (with the provider's own credentials; if the zone is in another account, use the long import ID with parent_role_arn and child_role_arn, e.g. name={};parent_zone_id=...;parent_role_arn=arn:aws:iam::111111111111:role/...;child_role_arn=arn:aws:iam::222222222222:role/...)",
                    spec.name
                ),
            }
        }
        other => other,
    }
}

/// Destroy refused before its first write: a zone to delete holds records
/// of its own.
pub(crate) fn destroy_refused(
    spec: &LinkSpec,
    z: &zone::HostedZone,
    records: &[zone::RecordSet],
    consequence: &str,
) -> Error {
    Error::Partial {
        context: format!("destroying the delegation of {}", spec.name),
        source: Box::new(Error::ZoneNotEmpty {
            zone_id: z.id.clone(),
            name: z.name.clone(),
            records: records
                .iter()
                .map(|r| (r.name.clone(), r.rtype.clone()))
                .collect(),
        }),
        consequence: consequence.into(),
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
            action: "writing NS record",
            name: spec.name.clone(),
            zone_id: ctx.parent_zone.id.clone(),
            expected,
            found,
        },
    }
}

pub(crate) fn summary_of(
    report: &VerificationReport,
    status: Option<VerifyStatus>,
) -> VerificationSummary {
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

pub(crate) fn failure_text(report: &VerificationReport) -> String {
    let mut s = report.summary();
    for f in &report.findings {
        s.push_str("; ");
        s.push_str(&f.message());
    }
    s
}
