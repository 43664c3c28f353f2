//! The core's error type.
//!
//! Every error names what was being done and to which resource, then the
//! cause, with the AWS error code where AWS gave one:
//! `writing NS record api.example.com in parent zone Z1ABC: InvalidChangeBatch: ...`.

use std::fmt;
use std::time::Duration;

use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError;
use aws_sdk_route53::operation::change_tags_for_resource::ChangeTagsForResourceError;
use aws_sdk_route53::operation::create_hosted_zone::CreateHostedZoneError;
use aws_sdk_route53::operation::delete_hosted_zone::DeleteHostedZoneError;
use aws_sdk_route53::operation::get_change::GetChangeError;
use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneError;
use aws_sdk_route53::operation::get_hosted_zone_count::GetHostedZoneCountError;
use aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesError;
use aws_sdk_route53::operation::list_hosted_zones_by_name::ListHostedZonesByNameError;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsError;
use aws_sdk_route53::operation::list_tags_for_resource::ListTagsForResourceError;
use aws_sdk_route53::operation::update_hosted_zone_comment::UpdateHostedZoneCommentError;
use aws_sdk_route53::types::RrType;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::name::{DomainName, NameError};
use crate::nsset::NsSet;

/// Errors from the delegation engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An AWS API call failed.
    #[error("{action}: {code}: {message}")]
    Aws {
        /// What was being done, e.g. `creating Route 53 hosted zone (api.example.com)`.
        action: String,
        /// The AWS error code (`InvalidChangeBatch`, `AccessDenied`, ...) or the
        /// SDK's failure kind when no response came back.
        code: String,
        /// The error message.
        message: String,
        /// What the failure means, classified from the SDK's typed error
        /// when the error was made (see [`AwsFault`]); copies of a shared
        /// batch's error keep it.
        fault: AwsFault,
        /// The SDK's error (`SdkError<OperationError, HttpResponse>`), when
        /// the failure came from an SDK call: its service error is typed,
        /// and callers that need more than the code can downcast to it.
        #[source]
        source: Option<BoxError>,
    },
    /// STS refused or failed to give credentials for a role.
    #[error("assuming role {role_arn}: {message}")]
    AssumeRole {
        /// The role.
        role_arn: String,
        /// Why it failed.
        message: String,
    },
    /// A setting is invalid.
    #[error("{attribute}: {message}")]
    InvalidSetting {
        /// The setting, in the front end's own terms where known (`parent.zone_id`).
        attribute: String,
        /// What was expected.
        message: String,
    },
    /// A name is not acceptable.
    #[error("{attribute}: {source}")]
    InvalidName {
        /// Which setting held the name.
        attribute: String,
        /// Why it was rejected.
        #[source]
        source: NameError,
    },
    /// The delegated name does not lie under the parent zone.
    #[error("name {name} is not a subdomain of the parent zone {parent}")]
    NotUnderParent {
        /// The name to delegate.
        name: DomainName,
        /// The parent zone's name.
        parent: DomainName,
    },
    /// No hosted zone matched.
    #[error("finding hosted zone {what}: no public hosted zone found")]
    ZoneNotFound {
        /// A zone ID or name.
        what: String,
    },
    /// Several public hosted zones have the same name.
    #[error(
        "finding hosted zone {name}: {} public hosted zones have this name ({}); set zone_id to choose one",
        .zone_ids.len(),
        .zone_ids.join(", ")
    )]
    AmbiguousZone {
        /// The name looked up.
        name: DomainName,
        /// The matching zones.
        zone_ids: Vec<String>,
    },
    /// A zone to be deleted still holds records of its own.
    #[error(
        "deleting Route 53 hosted zone {name} ({zone_id}): it still holds records other than the apex SOA and NS: {}; delete them or set force_destroy = true",
        .records.iter().map(|(n, t)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
    )]
    ZoneNotEmpty {
        /// The zone.
        zone_id: String,
        /// Its name.
        name: DomainName,
        /// The records found, as (name, type).
        records: Vec<(String, RrType)>,
    },
    /// The parent already has an NS record for the name with other values that
    /// this delegation did not write.
    #[error(
        "writing NS record {name} in parent zone {zone_id}: an NS record with other values exists ({existing}) that this delegation did not write; {}; set parent.allow_overwrite = true to replace it",
        wanted_text(.wanted)
    )]
    ForeignRecord {
        /// The delegated name.
        name: DomainName,
        /// The parent zone.
        zone_id: String,
        /// The values found.
        existing: NsSet,
        /// The values this delegation wants (empty: the child zone does not
        /// exist yet).
        wanted: NsSet,
    },
    /// The NS record changed since it was read: someone else changed it.
    #[error(
        "{action} {name} in parent zone {zone_id}: the record was changed by someone else: expected {expected}, found {found}; {}",
        changed_advice(.action)
    )]
    RecordChanged {
        /// What was being done (`deleting NS record`).
        action: &'static str,
        /// The delegated name.
        name: DomainName,
        /// The parent zone.
        zone_id: String,
        /// What this delegation wrote (or read just before writing).
        expected: NsSet,
        /// What is there now.
        found: NsSet,
    },
    /// A zone other than the link's parent still delegates the name to the
    /// zone destroy is about to delete: deleting it would leave that
    /// delegation dangling (a subdomain-takeover risk).
    #[error("{0}")]
    DelegatedElsewhere(Box<DelegatedElsewhere>),
    /// A parent outside Route 53 (a DNS server taking RFC 2136 updates, or
    /// a registrar) refused or failed: `via` says which and how.
    #[error("{action} {name} {via}: {cause}")]
    ExternalParent {
        /// What was being done (`writing NS record`).
        action: &'static str,
        /// The delegated name.
        name: DomainName,
        /// `by DNS UPDATE to 127.0.0.53:53 (zone example.net)`, `at the
        /// registrar (zone example.org)`.
        via: String,
        /// What went wrong and what to check: the typed error (a
        /// [`crate::parent::dns_update::UpdateError`], a
        /// [`crate::dns::DnsError`], ...) or, where nothing failed but a
        /// rule refused, the refusal's text.
        #[source]
        cause: BoxError,
    },
    /// A multi-step operation failed after some steps were done: says what
    /// was done, what failed and what the state now holds.
    #[error("{context}: {source}; {consequence}")]
    Partial {
        /// The operation and what was already done.
        context: String,
        /// What failed.
        source: Box<Error>,
        /// What exists now and what to do.
        consequence: String,
    },
    /// Route 53 did not report a change INSYNC in time.
    #[error("waiting for Route 53 change {change_id} to be INSYNC: still PENDING after {}s", .waited.as_secs())]
    InsyncTimeout {
        /// The change.
        change_id: String,
        /// How long we waited.
        waited: Duration,
    },
    /// The operation's timeout (`timeouts.create` and the like) ran out.
    #[error("{during}: timed out after {}s (the configured timeout)", .timeout.as_secs())]
    TimedOut {
        /// What was being done.
        during: String,
        /// The timeout of the whole operation.
        timeout: Duration,
    },
    /// The operation was cancelled (Terraform was interrupted).
    #[error("{during}: cancelled")]
    Cancelled {
        /// What was interrupted.
        during: String,
    },
    /// The delegation did not verify before the deadline.
    #[error("verifying delegation of {name}: {summary}")]
    VerificationFailed {
        /// The delegated name.
        name: DomainName,
        /// What the checks found.
        summary: String,
    },
    /// DNS verification itself failed to run.
    #[error("verifying delegation of {name}: {source}")]
    Dns {
        /// The delegated name.
        name: DomainName,
        /// The DNS error: a [`crate::dns::DnsError`], a
        /// [`crate::walk::WalkError`] or a [`crate::verify::VerifyError`].
        #[source]
        source: BoxError,
    },
}

/// A boxed error that can cross threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// Builds an [`Error::Aws`] from an SDK error, keeping the AWS error code
    /// and the SDK error itself as the source.
    pub fn aws<E, R>(action: impl Into<String>, err: SdkError<E, R>) -> Self
    where
        E: OperationError,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let action = action.into();
        let fault = match &err {
            SdkError::ServiceError(se) => se.err().fault(),
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => AwsFault::Transient,
            _ => AwsFault::Other,
        };
        let (code, message) = match &err {
            SdkError::ServiceError(se) => {
                let e = se.err();
                (
                    e.code().unwrap_or("Unknown").to_string(),
                    e.message()
                        .map(str::to_string)
                        .unwrap_or_else(|| DisplayErrorContext(e).to_string()),
                )
            }
            SdkError::TimeoutError(_) => ("Timeout".into(), DisplayErrorContext(&err).to_string()),
            SdkError::DispatchFailure(_) => (
                "DispatchFailure".into(),
                DisplayErrorContext(&err).to_string(),
            ),
            SdkError::ResponseError(_) => (
                "ResponseError".into(),
                DisplayErrorContext(&err).to_string(),
            ),
            _ => (
                err.code().unwrap_or("Unknown").to_string(),
                DisplayErrorContext(&err).to_string(),
            ),
        };
        Error::Aws {
            action,
            code,
            message: message.trim_end_matches('.').to_string(),
            fault,
            source: Some(Box::new(err)),
        }
    }

    /// An [`Error::Aws`] that no SDK error stands behind: a response that
    /// lacked something, or a request the SDK's builders refused.
    pub fn aws_other(
        action: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Aws {
            action: action.into(),
            code: code.into(),
            message: message.into(),
            fault: AwsFault::Other,
            source: None,
        }
    }

    /// The AWS error code, when the error came from AWS: for messages;
    /// decisions use [`Error::aws_fault`] or [`Error::service_error`].
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            Error::Aws { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The AWS error message, when the error came from AWS.
    pub fn aws_message(&self) -> Option<&str> {
        match self {
            Error::Aws { message, .. } => Some(message),
            _ => None,
        }
    }

    /// What an AWS failure means, as the SDK's typed error said.
    pub fn aws_fault(&self) -> Option<AwsFault> {
        match self {
            Error::Aws { fault, .. } => Some(*fault),
            _ => None,
        }
    }

    /// The typed service error of operation `E`
    /// (`GetHostedZoneError`, `ChangeResourceRecordSetsError`, ...) behind
    /// an [`Error::Aws`], when an SDK call of that operation failed with a
    /// response from the service.
    pub fn service_error<E>(&self) -> Option<&E>
    where
        E: std::error::Error + 'static,
    {
        match self {
            Error::Aws {
                source: Some(s), ..
            } => s
                .downcast_ref::<SdkError<E, HttpResponse>>()?
                .as_service_error(),
            _ => None,
        }
    }

    /// The same AWS failure for another link of a shared batch (with that
    /// link's action): the code, message and fault are kept; the SDK error
    /// itself, which cannot be copied, stays with the batch. Any other
    /// error is given as an AWS `BuildError`, as the batch's own are.
    pub(crate) fn copy_for(&self, action: String) -> Error {
        match self {
            Error::Aws {
                code,
                message,
                fault,
                ..
            } => Error::Aws {
                action,
                code: code.clone(),
                message: message.clone(),
                fault: *fault,
                source: None,
            },
            other => Error::aws_other(action, "BuildError", other.to_string()),
        }
    }

    /// An [`Error::Dns`]: DNS failed to run for the delegation of `name`.
    pub fn dns(name: &DomainName, source: impl Into<BoxError>) -> Error {
        Error::Dns {
            name: name.clone(),
            source: source.into(),
        }
    }

    /// The same error with another action (what was being done), when it
    /// came from AWS; any other error is returned as it is.
    pub fn with_action(self, action: String) -> Error {
        match self {
            Error::Aws {
                code,
                message,
                fault,
                source,
                ..
            } => Error::Aws {
                action,
                code,
                message,
                fault,
                source,
            },
            other => other,
        }
    }

    /// The innermost error (through [`Error::Partial`]).
    pub fn root(&self) -> &Error {
        match self {
            Error::Partial { source, .. } => source.root(),
            other => other,
        }
    }

    /// True for an AWS `NoSuchHostedZone` or `NoSuchChange` error (the
    /// operation's typed error said so).
    pub fn is_not_found(&self) -> bool {
        self.aws_fault() == Some(AwsFault::NotFound)
    }
}

/// What an AWS failure means to the engine. [`Error::aws`] reads it from
/// the operation's typed error ([`OperationError::fault`]) and the SDK's
/// failure kind, never from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AwsFault {
    /// The hosted zone or change does not exist (`NoSuchHostedZone`,
    /// `NoSuchChange`).
    NotFound,
    /// Route 53 refused a change batch (`InvalidChangeBatch`): a DELETE
    /// that does not match the record, a CREATE of one that exists.
    InvalidChangeBatch,
    /// A hosted zone with this CallerReference exists
    /// (`HostedZoneAlreadyExists`).
    ZoneAlreadyExists,
    /// The caller may not do this (`AccessDenied`).
    AccessDenied,
    /// Asking again later may get past it: throttling, a change still
    /// being applied, a server error, no answer.
    Transient,
    /// Anything else, and errors no SDK error stands behind.
    Other,
}

/// An SDK operation's error type that says what its failure means. Every
/// operation the core calls implements it, so [`Error::aws`] classifies by
/// the operation's modelled error variants.
pub trait OperationError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// The fault this error's modelled variant means; unmodelled errors
    /// (`Unhandled`) go by [`unmodelled_fault`].
    fn fault(&self) -> AwsFault;
}

/// The fault of an error that Route 53's models have no type for: access
/// denied, throttling and server errors arrive as unhandled errors that
/// carry only their code (`ProvideErrorMetadata::code`), so the code is
/// all there is to go by (as the SDK's own retry classifier does).
pub fn unmodelled_fault(e: &impl ProvideErrorMetadata) -> AwsFault {
    match e.code() {
        Some("AccessDenied" | "AccessDeniedException") => AwsFault::AccessDenied,
        Some(
            "Throttling"
            | "ThrottlingException"
            | "PriorRequestNotComplete"
            | "ServiceUnavailable"
            | "InternalError"
            | "InternalFailure"
            | "RequestTimeout",
        ) => AwsFault::Transient,
        _ => AwsFault::Other,
    }
}

/// Operations whose modelled errors mean nothing the engine acts on.
macro_rules! unmodelled_only {
    ($($op:ty),*) => {$(
        impl OperationError for $op {
            fn fault(&self) -> AwsFault {
                unmodelled_fault(self)
            }
        }
    )*};
}

unmodelled_only!(
    ListHostedZonesByNameError,
    ListHostedZonesError,
    GetHostedZoneCountError
);

impl OperationError for GetHostedZoneError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for GetChangeError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchChange(_) => AwsFault::NotFound,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for DeleteHostedZoneError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            Self::PriorRequestNotComplete(_) => AwsFault::Transient,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for ChangeResourceRecordSetsError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::InvalidChangeBatch(_) => AwsFault::InvalidChangeBatch,
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            Self::PriorRequestNotComplete(_) => AwsFault::Transient,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for ListResourceRecordSetsError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for CreateHostedZoneError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::HostedZoneAlreadyExists(_) => AwsFault::ZoneAlreadyExists,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for UpdateHostedZoneCommentError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            Self::PriorRequestNotComplete(_) => AwsFault::Transient,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for ListTagsForResourceError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            Self::PriorRequestNotComplete(_) | Self::ThrottlingException(_) => AwsFault::Transient,
            other => unmodelled_fault(other),
        }
    }
}

impl OperationError for ChangeTagsForResourceError {
    fn fault(&self) -> AwsFault {
        match self {
            Self::NoSuchHostedZone(_) => AwsFault::NotFound,
            Self::PriorRequestNotComplete(_) | Self::ThrottlingException(_) => AwsFault::Transient,
            other => unmodelled_fault(other),
        }
    }
}

fn changed_advice(action: &str) -> &'static str {
    if action.starts_with("deleting") {
        "the record is kept; find out who owns it now, then destroy again (or remove the link from state with terraform state rm)"
    } else {
        "nothing was written; run terraform plan to see the new values, then apply again (parent.allow_overwrite = true replaces a record someone else wrote)"
    }
}

fn wanted_text(wanted: &NsSet) -> String {
    if wanted.is_empty() {
        "the child zone does not exist yet, so its name servers are not known".to_string()
    } else {
        format!("the child zone's name servers are {wanted}")
    }
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::operation::get_hosted_zone::GetHostedZoneError;
    use aws_sdk_route53::types::error::NoSuchHostedZone;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// Callers can reach the SDK's typed error behind an [`Error::Aws`],
    /// and the code, not the message, classifies it.
    #[test]
    fn aws_errors_keep_the_sdk_error_as_their_source() {
        let raw = Response::new(StatusCode::try_from(404).expect("status"), SdkBody::empty());
        let typed = NoSuchHostedZone::builder()
            .message("No hosted zone found with ID: Z1")
            .meta(
                ErrorMetadata::builder()
                    .code("NoSuchHostedZone")
                    .message("No hosted zone found with ID: Z1")
                    .build(),
            )
            .build();
        let sdk = SdkError::service_error(GetHostedZoneError::NoSuchHostedZone(typed), raw);
        let e = Error::aws("reading Route 53 hosted zone (Z1)", sdk);
        assert_eq!(
            e.to_string(),
            "reading Route 53 hosted zone (Z1): NoSuchHostedZone: No hosted zone found with ID: Z1"
        );
        assert!(e.is_not_found());
        let source = std::error::Error::source(&e).expect("a source");
        let sdk = source
            .downcast_ref::<SdkError<GetHostedZoneError, Response>>()
            .expect("the SDK error");
        assert!(matches!(
            sdk.as_service_error(),
            Some(GetHostedZoneError::NoSuchHostedZone(_))
        ));
        let other = Error::aws_other("reading", "MalformedResponse", "no HostedZone");
        assert!(std::error::Error::source(&other).is_none());
        assert!(!other.is_not_found());
    }

    fn raw(status: u16) -> Response {
        Response::new(
            StatusCode::try_from(status).expect("status"),
            SdkBody::empty(),
        )
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    /// The fault comes from the operation's modelled error variant: the
    /// typed error decides, not its code or message.
    #[test]
    fn aws_faults_are_read_from_the_typed_sdk_errors() {
        use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError;
        use aws_sdk_route53::operation::create_hosted_zone::CreateHostedZoneError;
        use aws_sdk_route53::operation::get_change::GetChangeError;
        use aws_sdk_route53::types::error::{
            HostedZoneAlreadyExists, InvalidChangeBatch, NoSuchChange,
        };

        let message = "[Tried to delete resource record set [name='api.example.com.', type='NS'] but the values provided do not match the current values]";
        let rejected = ChangeResourceRecordSetsError::InvalidChangeBatch(
            InvalidChangeBatch::builder()
                .message(message)
                .meta(meta("InvalidChangeBatch", message))
                .build(),
        );
        let e = Error::aws(
            "writing NS record api.example.com in parent zone Z1",
            SdkError::service_error(rejected, raw(400)),
        );
        assert_eq!(e.aws_fault(), Some(AwsFault::InvalidChangeBatch));
        assert!(matches!(
            e.service_error::<ChangeResourceRecordSetsError>(),
            Some(ChangeResourceRecordSetsError::InvalidChangeBatch(_))
        ));
        assert!(e.service_error::<GetHostedZoneError>().is_none());
        assert_eq!(
            e.to_string(),
            format!("writing NS record api.example.com in parent zone Z1: InvalidChangeBatch: {message}")
        );
        // Another link of the same batch gets the same fault and text.
        let copy = e.copy_for("writing NS record www.example.com in parent zone Z1".into());
        assert_eq!(copy.aws_fault(), Some(AwsFault::InvalidChangeBatch));
        assert_eq!(copy.aws_message(), e.aws_message());

        // The same code on an error the model did not type is not a
        // rejected batch: only the typed variant is.
        let untyped = ChangeResourceRecordSetsError::generic(meta("InvalidChangeBatch", message));
        let e = Error::aws("writing", SdkError::service_error(untyped, raw(400)));
        assert_eq!(e.aws_code(), Some("InvalidChangeBatch"));
        assert_eq!(e.aws_fault(), Some(AwsFault::Other));

        let exists = CreateHostedZoneError::HostedZoneAlreadyExists(
            HostedZoneAlreadyExists::builder()
                .message(
                    "A hosted zone has already been created with the specified caller reference",
                )
                .meta(meta(
                    "HostedZoneAlreadyExists",
                    "A hosted zone has already been created",
                ))
                .build(),
        );
        let e = Error::aws("creating", SdkError::service_error(exists, raw(409)));
        assert_eq!(e.aws_fault(), Some(AwsFault::ZoneAlreadyExists));
        assert!(!e.is_not_found());

        let gone = GetChangeError::NoSuchChange(
            NoSuchChange::builder()
                .message("A change with the specified change ID does not exist")
                .meta(meta(
                    "NoSuchChange",
                    "A change with the specified change ID does not exist",
                ))
                .build(),
        );
        let e = Error::aws("waiting", SdkError::service_error(gone, raw(404)));
        assert!(e.is_not_found());
        assert!(!crate::change::is_transient(&e));
    }

    /// Access denied and throttling have no modelled type in Route 53's
    /// operations: they arrive unhandled with only their code, which is
    /// what classifies them; no answer at all is transient by the SDK's
    /// failure kind.
    #[test]
    fn unmodelled_errors_are_classified_by_their_code() {
        let denied = GetHostedZoneError::generic(meta(
            "AccessDenied",
            "User: arn:aws:sts::111111111111:assumed-role/x is not authorized to perform: route53:GetHostedZone",
        ));
        let e = Error::aws("reading", SdkError::service_error(denied, raw(403)));
        assert_eq!(e.aws_fault(), Some(AwsFault::AccessDenied));
        assert!(!e.is_not_found());

        let throttled = GetHostedZoneError::generic(meta("Throttling", "Rate exceeded"));
        let e = Error::aws("reading", SdkError::service_error(throttled, raw(400)));
        assert_eq!(e.aws_fault(), Some(AwsFault::Transient));
        assert!(crate::change::is_transient(&e));

        let silent: SdkError<GetHostedZoneError, Response> =
            SdkError::timeout_error("no answer in 3s");
        let e = Error::aws("reading", silent);
        assert_eq!(e.aws_code(), Some("Timeout"));
        assert!(crate::change::is_transient(&e));

        // A message that reads like not-found is not enough.
        let odd = GetHostedZoneError::generic(meta("Unknown", "NoSuchHostedZone"));
        let e = Error::aws("reading", SdkError::service_error(odd, raw(500)));
        assert!(!e.is_not_found());
    }

    /// [`Error::Dns`] and [`Error::ExternalParent`] keep the typed error:
    /// the source chain reaches the DNS error, and the text is as before.
    #[test]
    fn dns_errors_are_kept_as_sources() {
        use crate::dns::DnsError;
        use crate::parent::dns_update::UpdateError;
        use std::error::Error as _;

        let name = DomainName::parse("api.example.com").expect("name");
        let timeout = || DnsError::Deadline {
            server: "127.0.0.53:53".parse().expect("addr"),
            name: "api.example.com.".into(),
            rtype: crate::dns::RecordType::SOA,
        };
        let text = timeout().to_string();
        let e = Error::dns(&name, timeout());
        assert_eq!(
            e.to_string(),
            format!("verifying delegation of api.example.com: {text}")
        );
        let source = e.source().expect("a source");
        assert!(matches!(
            source.downcast_ref::<DnsError>(),
            Some(DnsError::Deadline { .. })
        ));

        let update = UpdateError::Transport {
            message: text.clone(),
            source: Some(Box::new(timeout())),
        };
        let e = Error::ExternalParent {
            action: "writing NS record",
            name: name.clone(),
            via: "by DNS UPDATE to 127.0.0.53:53 (zone example.com)".into(),
            cause: Box::new(update),
        };
        assert_eq!(
            e.to_string(),
            format!("writing NS record api.example.com by DNS UPDATE to 127.0.0.53:53 (zone example.com): {text}")
        );
        let update = e.source().expect("the update error");
        assert!(update.downcast_ref::<UpdateError>().is_some());
        let dns = update.source().expect("the DNS error");
        assert!(dns.downcast_ref::<DnsError>().is_some());
        // A registrar parent's walk: the walk's error stays reachable.
        let walk = crate::walk::WalkFailed {
            name: name.clone(),
            source: crate::walk::WalkError::Unreachable {
                zone: "example.com".into(),
                name: "api.example.com".into(),
                reasons: "127.0.0.53:53 timed out".into(),
            },
        };
        let e = Error::ExternalParent {
            action: "reading the delegation of",
            name: name.clone(),
            via: "at the registrar (zone example.com)".into(),
            cause: Box::new(walk),
        };
        assert_eq!(
            e.to_string(),
            "reading the delegation of api.example.com at the registrar (zone example.com): walking from the root servers to the parent of api.example.com: no name server of example.com answered for api.example.com: 127.0.0.53:53 timed out"
        );
        let walk = e.source().and_then(|w| w.source()).expect("the walk error");
        assert!(matches!(
            walk.downcast_ref::<crate::walk::WalkError>(),
            Some(crate::walk::WalkError::Unreachable { .. })
        ));
        assert!(
            std::mem::size_of::<Error>() <= 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}

/// What [`Error::DelegatedElsewhere`] found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "deleting hosted zone {zone_id}: zone {parent_zone} (served by {parent_servers}) still delegates {name} to its servers {delegated_to}, and that is not the parent this link writes to (zone {configured_zone} served by {configured_servers}); deleting the zone would leave a dangling delegation there"
)]
pub struct DelegatedElsewhere {
    /// The delegated name.
    pub name: DomainName,
    /// The zone destroy would delete.
    pub zone_id: String,
    /// The zone the walk from the root found delegating the name.
    pub parent_zone: DomainName,
    /// That zone's servers, as the zone above refers to them.
    pub parent_servers: NsSet,
    /// What they refer the name to.
    pub delegated_to: NsSet,
    /// The parent zone the link is configured with.
    pub configured_zone: DomainName,
    /// Its servers (empty: not known).
    pub configured_servers: NsSet,
}
