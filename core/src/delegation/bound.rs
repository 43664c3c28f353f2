//! The operation's timeout and cancellation around every step.

use super::*;

/// The deadline and cancellation every step of an operation runs under.
pub(crate) struct Bound<'a> {
    pub(crate) deadline: Instant,
    pub(crate) timeout: Duration,
    pub(crate) cancel: &'a CancellationToken,
}

impl<'a> Bound<'a> {
    /// An operation that starts now and may take `timeout`.
    pub(crate) fn new(timeout: Duration, cancel: &'a CancellationToken) -> Self {
        Bound {
            deadline: Instant::now() + timeout,
            timeout,
            cancel,
        }
    }

    /// What is left of the operation's time.
    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

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

/// Runs `work` until it ends or `cancel` fires (then `Cancelled`, during
/// what `during` says).
pub(crate) async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    during: impl FnOnce() -> String,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    tokio::select! {
        biased;
        () = cancel.cancelled() => Err(Error::Cancelled { during: during() }),
        r = work => r,
    }
}
