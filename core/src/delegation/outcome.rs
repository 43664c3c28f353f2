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

/// A create interrupted (Ctrl-C: Terraform's StopProvider) after its zone
/// was created ends as a registrar's wait that ran out: with the state
/// reached, verification `pending`, and a warning, so Terraform keeps the
/// link untainted (it reports the interruption itself) and the next apply
/// finishes the wait on the same zone instead of replacing it with another
/// one, with new name servers. An interrupt before anything was created is
/// still an error: there is nothing to keep.
pub(super) fn interrupted_create(
    spec: &LinkSpec,
    failure: Box<ApplyFailure>,
) -> std::result::Result<Applied, Box<ApplyFailure>> {
    let Some(mut state) = failure
        .partial
        .clone()
        .filter(|s| !s.child_zone_id.is_empty())
    else {
        return Err(failure);
    };
    let reached = if state.written.is_some() {
        format!(
            "created hosted zone {} and wrote the parent NS record",
            state.child_zone_id
        )
    } else {
        format!("created hosted zone {}", state.child_zone_id)
    };
    let report = failure.report;
    state.verification = Some(VerificationSummary {
        status: VerifyStatus::Pending,
        checked_at: SystemTime::now(),
        servers_checked: report.as_ref().map_or(0, |r| r.servers_checked() as u32),
        summary: format!(
            "the apply that created the delegation of {} was interrupted before it was verified; the next apply finishes it",
            spec.name
        ),
        servers: report.as_ref().map(|r| r.servers()).unwrap_or_default(),
    });
    let warning = format!(
        "the apply of {} was interrupted after it {reached}: both are kept in state with verification.status = \"pending\", and the next apply finishes the wait and verifies on the same zone (interrupted by: {})",
        spec.name, failure.error
    );
    Ok(Applied {
        state,
        report,
        findings: Vec::new(),
        warnings: vec![warning],
    })
}
