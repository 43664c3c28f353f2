//! Core errors and stored-state problems as Terraform diagnostics, on the
//! attribute a user can fix where there is one.

use crate::protocol::{AttributePath, Diagnostic};

/// What is wrong with a stored state, for messages: `` (attr: detail; ...)``.
pub(crate) fn state_problems(diags: &[Diagnostic]) -> String {
    let problems: Vec<String> = diags
        .iter()
        .filter(|d| d.severity == crate::protocol::Severity::Error)
        .map(|d| match &d.attribute {
            Some(path) => format!("{path}: {}", d.detail),
            None => d.detail.clone(),
        })
        .collect();
    if problems.is_empty() {
        String::new()
    } else {
        format!(" ({})", problems.join("; "))
    }
}

pub(crate) fn error_diag(summary: &str, e: &impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

pub(crate) fn core_error_diag(e: &route53delegation::Error) -> Diagnostic {
    use route53delegation::Error as E;
    let (summary, path) = match e.root() {
        E::NotUnderParent { .. } => (
            "Name not under the parent zone",
            Some(AttributePath::attr("name")),
        ),
        E::AmbiguousZone { .. } => (
            "Ambiguous hosted zone name",
            Some(AttributePath::attr("parent").then_attr("zone_name")),
        ),
        E::ZoneNotFound { .. } => ("Hosted zone not found", None),
        E::ForeignRecord { .. } => (
            "NS record written by someone else",
            Some(AttributePath::attr("parent").then_attr("allow_overwrite")),
        ),
        E::RecordChanged { .. } => ("NS record changed by someone else", None),
        E::ZoneNotEmpty { .. } => (
            "Child hosted zone not empty",
            Some(AttributePath::attr("child").then_attr("force_destroy")),
        ),
        E::AssumeRole { .. } => ("Cannot assume role", None),
        E::VerificationFailed { .. } => ("Delegation not verified", None),
        E::Cancelled { .. } => ("Interrupted", None),
        E::TimedOut { .. } => ("Timed out", Some(AttributePath::attr("timeouts"))),
        E::InvalidSetting { attribute, .. } => ("Invalid setting", Some(path_of(attribute))),
        E::ExternalParent { .. } => ("Parent zone outside Route 53", None),
        _ => ("Route 53 delegation failed", None),
    };
    let d = Diagnostic::error(summary, e.to_string());
    match path {
        Some(p) => d.with_attribute(p),
        None => d,
    }
}

pub(crate) fn path_of(attribute: &str) -> AttributePath {
    let mut p = AttributePath::root();
    for part in attribute.split('.') {
        p = p.then_attr(part);
    }
    p
}
