//! What each operation returns: applied, imported, read, preflight (plan-time checks) and their notices.

use super::*;

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

impl ApplyFailure {
    /// A failure without a verification report.
    pub(crate) fn boxed(error: Error, partial: Option<LinkState>) -> Box<ApplyFailure> {
        Box::new(ApplyFailure {
            error,
            partial,
            report: None,
        })
    }
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
