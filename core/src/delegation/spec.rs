//! What a delegation asks for: `LinkSpec` and its parts, and the TTL and verification defaults.

use super::*;

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

pub use crate::parent::route53::ZoneRef;

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
    /// The zone's tags, exactly (`None`: not managed, left as they are).
    pub tags: Option<crate::tags::Tags>,
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

impl LinkSpec {
    /// What the plan of an apply aims at (see [`plan::plan_apply`]).
    pub(crate) fn desired(&self) -> Desired {
        Desired {
            ttl: self.ttl,
            child: match &self.child.zone_id {
                Some(id) => ChildZoneMode::Adopt {
                    zone_id: id.clone(),
                },
                None => ChildZoneMode::Create,
            },
            allow_overwrite: self.parent.allow_overwrite,
        }
    }
}
