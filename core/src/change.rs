//! Waiting for Route 53 changes to reach every Route 53 server.
//!
//! A change is PENDING until all of Route 53's servers have it, then INSYNC
//! (usually within 60 s). Polling from the first second wastes calls (and
//! the account's rate), so a wait asks `GetChange` first when the change
//! could plausibly be done: when an early signal says so (the engine's: the
//! authoritative servers answering with the change, see
//! `delegation::signal`), or after [`Polling::first`] without a signal
//! ([`Polling::with_signal`]'s later fallback with one), then every
//! [`Polling::interval`].
//!
//! [`Changes`] shares the polls of one change between every waiter: links
//! whose parent records went out in one batch wait for one change, with one
//! `GetChange` per interval between them. A `Throttling` answer (or another
//! transient failure) to `GetChange` is not the end of a wait: the change was
//! made, so the wait goes on until the deadline.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_route53::types::ChangeStatus;
use aws_sdk_route53::Client;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// When to ask `GetChange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The first `GetChange` this long after the wait starts, unless the
    /// early signal comes first.
    pub first: Duration,
    /// Then one `GetChange` every `interval`.
    pub interval: Duration,
}

impl Polling {
    /// At Route 53's pace: INSYNC usually comes within 60 s; the DNS early
    /// signal usually asks sooner.
    pub const DEFAULT: Polling = Polling {
        first: Duration::from_secs(45),
        interval: Duration::from_secs(10),
    };
}

impl Polling {
    /// The schedule of a wait that has an early signal: the signal says when
    /// to ask, so the first blind `GetChange` comes three intervals later
    /// than without one (75 s by default), in case the signal never comes.
    pub fn with_signal(self) -> Polling {
        Polling {
            first: self.first + self.interval * 3,
            interval: self.interval,
        }
    }
}

impl Default for Polling {
    fn default() -> Self {
        Polling::DEFAULT
    }
}

/// Back-off between `GetChange` polls: first and largest interval. Kept for
/// configurations written against it: it maps to [`Polling`] with `initial`
/// as the first poll and `max` as the interval.
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

impl From<Backoff> for Polling {
    fn from(b: Backoff) -> Polling {
        Polling {
            first: b.initial,
            interval: b.max,
        }
    }
}

/// Polls `GetChange` until the change is INSYNC. Returns the number of
/// `GetChange` calls made.
pub async fn wait_insync(
    r53: &Client,
    change_id: &str,
    timeout: Duration,
    backoff: Backoff,
    cancel: &CancellationToken,
) -> Result<u32> {
    Changes::default()
        .wait(
            r53,
            change_id,
            timeout,
            backoff.into(),
            std::future::pending(),
            cancel,
        )
        .await
}

/// When one change was last polled (and found PENDING).
type PollSlot = Arc<tokio::sync::Mutex<Option<Instant>>>;

/// The waits of one engine: polls of one change are shared.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Per change: when it was last polled (and found PENDING). Locked (the
    /// async lock) around each poll, so waiters of one change take turns.
    polls: Arc<Mutex<HashMap<String, PollSlot>>>,
    /// Changes seen INSYNC.
    insync: Arc<Mutex<HashSet<String>>>,
}

impl Changes {
    fn slot(&self, id: &str) -> PollSlot {
        self.polls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.to_string())
            .or_default()
            .clone()
    }

    fn is_insync(&self, id: &str) -> bool {
        self.insync
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    /// Waits until the change is INSYNC: the first `GetChange` after
    /// `polling.first` or when `early` completes, whichever is sooner, then
    /// every `polling.interval`, sharing polls with other waiters of the same
    /// change. Transient failures of `GetChange` (`Throttling` beyond the
    /// SDK's retries, 5xx, no answer) keep the wait going until `timeout`.
    /// Returns the number of `GetChange` calls this waiter made.
    pub async fn wait(
        &self,
        r53: &Client,
        change_id: &str,
        timeout: Duration,
        polling: Polling,
        early: impl Future<Output = ()>,
        cancel: &CancellationToken,
    ) -> Result<u32> {
        let id = change_id.trim_start_matches("/change/").to_string();
        let start = Instant::now();
        let deadline = start + timeout;
        let cancelled = || Error::Cancelled {
            during: format!("waiting for Route 53 change {id} to be INSYNC"),
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Err(cancelled()),
            () = tokio::time::sleep_until((start + polling.first).min(deadline)) => {}
            () = early => {}
        }
        let mut polls = 0;
        let mut last_transient: Option<Error> = None;
        loop {
            if self.is_insync(&id) {
                return Ok(polls);
            }
            {
                let slot = self.slot(&id);
                let mut last = tokio::select! {
                    biased;
                    () = cancel.cancelled() => return Err(cancelled()),
                    guard = slot.lock() => guard,
                };
                if self.is_insync(&id) {
                    return Ok(polls);
                }
                let fresh = last.is_some_and(|t| t.elapsed() < polling.interval / 2);
                if !fresh {
                    polls += 1;
                    let asked = tokio::select! {
                        biased;
                        () = cancel.cancelled() => return Err(cancelled()),
                        r = r53.get_change().id(&id).send() => r,
                    };
                    match asked {
                        Ok(out) => {
                            let status = out.change_info().map(|c| c.status().clone());
                            if status == Some(ChangeStatus::Insync) {
                                tracing::debug!(change_id = %id, polls, "change INSYNC");
                                self.insync
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .insert(id.clone());
                                return Ok(polls);
                            }
                        }
                        Err(e) => {
                            let err = Error::aws(format!("waiting for Route 53 change {id}"), e);
                            if !is_transient(&err) {
                                return Err(err);
                            }
                            // The change was made; a throttled or failed
                            // poll only delays knowing it is INSYNC.
                            tracing::warn!(change_id = %id, error = %err, "GetChange failed; still waiting");
                            last_transient = Some(err);
                        }
                    }
                    *last = Some(Instant::now());
                }
            }
            let now = Instant::now();
            if now >= deadline {
                if let Some(e) = &last_transient {
                    tracing::warn!(change_id = %id, error = %e, "last GetChange failed");
                }
                return Err(Error::InsyncTimeout {
                    change_id: id,
                    waited: now - start,
                });
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(cancelled()),
                () = tokio::time::sleep(polling.interval.min(deadline - now)) => {}
            }
        }
    }
}

/// A failure that asking again later may get past: throttling, a change
/// still being applied, a server error, no answer.
pub fn is_transient(e: &Error) -> bool {
    e.aws_fault() == Some(crate::error::AwsFault::Transient)
}
