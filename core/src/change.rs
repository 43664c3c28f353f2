//! Waiting for Route 53 changes to reach every Route 53 server.
//!
//! A change is PENDING until all of Route 53's servers have it, then INSYNC
//! (usually within 60 s). [`wait_insync`] polls `GetChange` with exponential
//! back-off until INSYNC, the deadline, or cancellation.

use std::time::Duration;

use aws_sdk_route53::types::ChangeStatus;
use aws_sdk_route53::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// Back-off between `GetChange` polls: first and largest interval.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First interval.
    pub initial: Duration,
    /// Largest interval.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(5),
        }
    }
}

/// Polls `GetChange` until the change is INSYNC. Returns the number of polls.
pub async fn wait_insync(
    r53: &Client,
    change_id: &str,
    timeout: Duration,
    backoff: Backoff,
    cancel: &CancellationToken,
) -> Result<u32> {
    let id = change_id.trim_start_matches("/change/").to_string();
    let start = Instant::now();
    let mut interval = backoff.initial;
    let mut polls = 0;
    loop {
        polls += 1;
        let out = r53
            .get_change()
            .id(&id)
            .send()
            .await
            .map_err(|e| Error::aws(format!("waiting for Route 53 change {id}"), e))?;
        let status = out.change_info().map(|c| c.status().clone());
        if status == Some(ChangeStatus::Insync) {
            tracing::debug!(change_id = %id, polls, "change INSYNC");
            return Ok(polls);
        }
        let waited = start.elapsed();
        if waited >= timeout {
            return Err(Error::InsyncTimeout {
                change_id: id,
                waited,
            });
        }
        let sleep = interval.min(timeout - waited);
        tokio::select! {
            _ = cancel.cancelled() => {
                return Err(Error::Cancelled { during: format!("waiting for Route 53 change {id} to be INSYNC") });
            }
            _ = tokio::time::sleep(sleep) => {}
        }
        interval = (interval * 2).min(backoff.max);
    }
}
