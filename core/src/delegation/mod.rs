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
use crate::own_zones::OwnZones;
use crate::pace::Pacing;
use crate::parent::route53::{ParentConfig, ParentSide};
use crate::parent::ParentKind;
use crate::plan::{self, Action, ChildZoneMode, Desired, Observed, ObservedZone, PlanError};
use crate::record::{self, NsRecord, WriteOutcome};
use crate::tags;
use crate::verify::{self, ServerResult, VerificationReport, VerifyOptions, VerifyRequest};
use crate::zone::{self, HostedZone};

mod apply;
mod bound;
mod destroy;
mod elsewhere;
mod external;
mod outcome;
mod preflight;
mod read;
pub mod refresh;
mod retire;
mod signal;
mod spec;
mod state;
mod verification;

use apply::*;
pub(crate) use apply::{create_child_zone, read_tags, settle_comment, settle_tags, zone_to_adopt};
pub(crate) use bound::*;
pub(crate) use destroy::*;
pub(crate) use elsewhere::ConfiguredParent;
pub use outcome::*;
pub(crate) use preflight::*;
use read::*;
use retire::*;
use signal::*;
pub use spec::*;
pub use state::*;
pub(crate) use verification::*;

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
    /// Root servers for walks from the root (destroy's check that no other
    /// zone still delegates to a zone it deletes); empty: the real root
    /// servers ([`crate::inspect::default_roots`]).
    pub roots: Vec<SocketAddr>,
}

/// The delegation engine. Cheap to clone; clients are shared.
#[derive(Debug, Clone)]
pub struct Engine {
    clients: Clients,
    resolvers: Vec<SocketAddr>,
    roots: Vec<SocketAddr>,
    pub(crate) polling: Polling,
    /// Parent zone lookups, reads and writes, shared by every link.
    route53_parent: ParentSide,
    /// INSYNC waits, shared per change.
    pub(crate) changes: Changes,
    /// Lookups for zones of interrupted attempts, shared per account.
    own_zones: OwnZones,
}

struct Ctx {
    parent: Client,
    child: Client,
    parent_zone: HostedZone,
}

impl Engine {
    /// An engine with these settings.
    pub fn new(cfg: EngineConfig) -> Self {
        let parent = cfg.parent.unwrap_or_default();
        let mut clients = Clients::new(cfg.defaults);
        if let Some(b) = cfg.assume_role_backoff {
            clients = clients.with_assume_role_backoff(b);
        }
        clients = clients.with_rate(cfg.pacing.rate());
        Engine {
            clients,
            resolvers: cfg.resolvers,
            roots: cfg.roots,
            polling: cfg
                .insync_polling
                .or(cfg.insync_backoff.map(Polling::from))
                .unwrap_or_default(),
            route53_parent: ParentSide::new(parent),
            own_zones: OwnZones::new(parent.window),
            changes: Changes::default(),
        }
    }

    /// The client cache.
    pub fn clients(&self) -> &Clients {
        &self.clients
    }

    /// The parent account's effective settings: the key its zones are
    /// shared under.
    /// The zone an interrupted earlier attempt of this link created, if
    /// any; asked together with the other links of the child account.
    async fn own_zone(
        &self,
        child: &Client,
        spec: &LinkSpec,
        parent_zone_id: &str,
    ) -> Result<Option<HostedZone>> {
        let prefix = zone::caller_reference_prefix(&spec.name, parent_zone_id);
        let account = self.clients.effective(&spec.child.account);
        self.own_zones
            .find(child, &account, &spec.name, &prefix)
            .await
    }

    fn parent_account(&self, spec: &LinkSpec) -> AccountSettings {
        self.clients.effective(&spec.parent.account)
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

    /// The NS record at the delegated name in the parent zone, through the
    /// parent side (one listing of the zone serves every link in it).
    async fn parent_ns(
        &self,
        parent: &Client,
        spec: &LinkSpec,
        parent_zone_id: &str,
    ) -> Result<Option<NsRecord>> {
        self.route53_parent
            .read_ns(
                parent,
                &self.parent_account(spec),
                parent_zone_id,
                &spec.name,
            )
            .await
    }

    async fn parent_zone(&self, parent: &Client, spec: &LinkSpec) -> Result<HostedZone> {
        let account = self.clients.effective(&spec.parent.account);
        let zone = self
            .route53_parent
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
}
