//! What every Provider RPC shares: a panic of the implementation becomes an
//! error diagnostic ([`guarded`]), an unknown type name an error diagnostic
//! ([`unknown_type_diag`]), and the end of an RPC is logged with counts only,
//! never values ([`finish`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use super::super::diag::Diagnostic;

/// Runs an implementation future, turning a panic into an error diagnostic
/// (without the panic message's backtrace or payload details).
pub(super) async fn guarded<T>(
    rpc: &'static str,
    fut: impl Future<Output = T>,
) -> Result<T, Diagnostic> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => Ok(v),
        Err(_) => {
            tracing::error!(rpc, "provider implementation panicked");
            Err(Diagnostic::error(
                "Internal provider error",
                format!(
                    "The provider crashed while handling {rpc}. This is a bug in the provider; \
                     please report it with the Terraform logs (TF_LOG=debug)."
                ),
            ))
        }
    }
}

pub(super) fn unknown_type_diag(kind: &str, type_name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider does not support {kind} type {type_name:?}."),
    )
}

/// Logs the end of an RPC: its name, the type and diagnostic counts.
pub(super) fn finish(rpc: &'static str, type_name: &str, diags: &[Diagnostic]) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    tracing::debug!(
        rpc,
        type_name,
        diagnostics = diags.len(),
        errors,
        "rpc done"
    );
}
