//! What a front end keeps: `LinkState`, the verification summary and what a move still has to retire.

use super::*;

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
    /// The child zone's tags, as read when the link manages them (`None`:
    /// not managed, or not read).
    pub child_tags: Option<crate::tags::Tags>,
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

impl LinkState {
    /// A link about to be made under this parent zone: nothing created yet.
    pub(crate) fn new(parent_zone_id: String, parent_zone_name: DomainName) -> LinkState {
        LinkState {
            parent_zone_id,
            parent_zone_name,
            child_zone_id: String::new(),
            name_servers: NsSet::new(),
            delegated: None,
            written: None,
            verification: None,
            child_comment: None,
            child_tags: None,
            zone_owned: false,
            parent_account: None,
            child_account: None,
            retired: Vec::new(),
        }
    }

    /// The link now delegates to `zone`, which it created: it deletes it on
    /// destroy.
    pub(crate) fn created(&mut self, zone: &HostedZone) {
        self.child_zone_id = zone.id.clone();
        self.name_servers = zone.name_servers.clone();
        self.child_comment = zone.comment.clone();
        self.zone_owned = true;
    }

    /// The link now delegates to `zone`, adopted: never deleted by it.
    pub(crate) fn adopt(&mut self, zone: &HostedZone) {
        self.child_zone_id = zone.id.clone();
        self.name_servers = zone.name_servers.clone();
        self.zone_owned = false;
    }

    /// The child zone is gone: state forgets it, and its verification fails
    /// with `summary`, so state says what DNS does.
    pub(crate) fn zone_gone(&mut self, summary: String) {
        self.child_zone_id = String::new();
        self.name_servers = NsSet::new();
        self.child_comment = None;
        self.child_tags = None;
        self.verification = Some(VerificationSummary {
            status: VerifyStatus::Failed,
            checked_at: SystemTime::now(),
            servers_checked: 0,
            summary,
            servers: Vec::new(),
        });
    }

    /// A delegation found in AWS (import): the child zone as read and the
    /// parent's record; nothing verified, no account overrides, nothing
    /// retired.
    pub(crate) fn found(
        parent_zone_id: String,
        parent_zone_name: DomainName,
        zone: HostedZone,
        delegated: Option<NsRecord>,
        written: Option<NsRecord>,
        zone_owned: bool,
    ) -> LinkState {
        LinkState {
            parent_zone_id,
            parent_zone_name,
            child_zone_id: zone.id,
            name_servers: zone.name_servers,
            delegated,
            written,
            verification: None,
            child_comment: zone.comment,
            child_tags: None,
            zone_owned,
            parent_account: None,
            child_account: None,
            retired: Vec::new(),
        }
    }
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
