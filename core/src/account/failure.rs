//! AssumeRole failures: which are remembered (denied, definitive) and which
//! are not (transient), classified by the STS error code, never by text.

use super::*;

/// How an AssumeRole failure is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FailureKind {
    /// AccessDenied: retried with back-off (IAM propagation), then definitive.
    Denied,
    /// No answer, a timeout, throttling or a server error, after the SDK's
    /// own retries: not remembered.
    Transient,
    /// Anything else STS answered (bad session name or duration, invalid
    /// token, region disabled, ...): asking again gives the same answer.
    Definitive,
}

/// Classifies a failed AssumeRole and words its cause.
///
/// It uses the STS error itself: aws-config's `AssumeRoleProvider` puts the
/// `SdkError<AssumeRoleError>` in the `CredentialsError`'s source chain, so
/// the AWS error code comes from `ProvideErrorMetadata::code()` and the kind
/// of failure from the `SdkError` variant. Only when no STS error can be
/// reached in the chain (an aws-config that wraps it differently) the
/// failure counts as transient, so that nothing is remembered for good by
/// mistake; the text is never searched for a code.
pub(super) fn classify(e: &CredentialsError) -> (FailureKind, String) {
    if let CredentialsError::ProviderTimedOut(_) = e {
        return (FailureKind::Transient, DisplayChain(e).to_string());
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(sdk) = err.downcast_ref::<StsError>() {
            return classify_sts(sdk);
        }
        cur = err.source();
    }
    (FailureKind::Transient, DisplayChain(e).to_string())
}

pub(super) type StsError = aws_sdk_sts::error::SdkError<AssumeRoleError>;

pub(super) fn classify_sts(e: &StsError) -> (FailureKind, String) {
    match e {
        aws_sdk_sts::error::SdkError::ServiceError(ctx) => {
            let err = ctx.err();
            let code = err.code().unwrap_or("Unknown");
            let message = err
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayChain(err).to_string());
            // AssumeRole models none of these (its typed errors are
            // ExpiredToken, MalformedPolicyDocument, PackedPolicyTooLarge
            // and RegionDisabled): denial and throttling arrive unhandled
            // with only their code, so the code is what classifies them.
            let transient = ctx.raw().status().is_server_error()
                || matches!(
                    code,
                    "Throttling"
                        | "ThrottlingException"
                        | "RequestLimitExceeded"
                        | "TooManyRequestsException"
                        | "RequestTimeout"
                        | "RequestTimeoutException"
                        | "InternalFailure"
                        | "ServiceUnavailable"
                        | "IDPCommunicationError"
                );
            let kind = if code == "AccessDenied" {
                FailureKind::Denied
            } else if transient {
                FailureKind::Transient
            } else {
                FailureKind::Definitive
            };
            (kind, format!("{code}: {message}"))
        }
        // No usable answer: connection refused, DNS, timeouts, a garbled
        // response; also base credentials that could not be loaded (resolved
        // while dispatching).
        aws_sdk_sts::error::SdkError::DispatchFailure(_)
        | aws_sdk_sts::error::SdkError::TimeoutError(_)
        | aws_sdk_sts::error::SdkError::ResponseError(_) => {
            (FailureKind::Transient, DisplayChain(e).to_string())
        }
        // The request could not be built: the same next time.
        _ => (FailureKind::Definitive, DisplayChain(e).to_string()),
    }
}

/// Displays an error with its sources, once each, without a backtrace.
pub(super) struct DisplayChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(self.0);
        while let Some(e) = cur {
            let s = e.to_string();
            if !parts.iter().any(|p| p.contains(&s)) {
                parts.push(s);
            }
            cur = e.source();
        }
        f.write_str(&parts.join(": "))
    }
}
