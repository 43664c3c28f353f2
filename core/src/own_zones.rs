//! Finding the zone an earlier, interrupted attempt of a link created,
//! shared by the links of one engine that ask in one account at once.
//!
//! Before it creates its zone, a link with nothing in state looks for a zone
//! an interrupted attempt made (its `CallerReference` starts with the link's
//! prefix), so a retried apply adopts it instead of leaving an orphan. Alone,
//! that is one `ListHostedZonesByName` per link: 200 links applied at once
//! into one account make 200 calls before the first zone is created, 40 s at
//! the legacy 5 requests/s.
//!
//! [`OwnZones::find`] gathers the questions that arrive in one account within
//! [`OwnZones::window`] of the first. A lone question is asked as before.
//! Several share one listing of the account's zones (`GetHostedZoneCount`,
//! then `ListHostedZones` pages of 100) when that takes fewer calls than
//! asking each: 200 links into an account of 50 zones make 2 calls. A zone
//! found is then read (`GetHostedZone`, for its name servers), as before.
//! If the listing fails, or the gathering's leader is dropped before it
//! answers (its link cancelled or timed out), each link asks on its own:
//! sharing never turns into a failure or a wait without end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_route53::Client;
use tokio::sync::oneshot;

use crate::account::AccountSettings;
use crate::error::{Error, Result};
use crate::name::DomainName;
use crate::zone::{self, bare_zone_id, HostedZone};

/// Zones per `ListHostedZones` page.
const PAGE: i32 = 100;

/// The own-zone questions of one engine, gathered per account.
#[derive(Debug, Clone)]
pub struct OwnZones {
    window: Duration,
    gathering: Arc<Mutex<HashMap<AccountSettings, Vec<Ask>>>>,
}

/// One link's question, answered through `reply` by the leader of its
/// gathering: `Some(result)`, or `None` when it should ask on its own.
#[derive(Debug)]
struct Ask {
    name: DomainName,
    prefix: String,
    reply: oneshot::Sender<Option<Result<Option<HostedZone>>>>,
}

impl OwnZones {
    /// Questions arriving within `window` of the first in one account share
    /// one listing.
    pub fn new(window: Duration) -> Self {
        OwnZones {
            window,
            gathering: Arc::default(),
        }
    }

    /// How long a question waits for others in its account.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The zone named `name` in the account whose `CallerReference` starts
    /// with `prefix` (see [`zone::find_own_zone`]), if there is one.
    pub async fn find(
        &self,
        r53: &Client,
        account: &AccountSettings,
        name: &DomainName,
        prefix: &str,
    ) -> Result<Option<HostedZone>> {
        let (tx, rx) = oneshot::channel();
        let ask = Ask {
            name: name.clone(),
            prefix: prefix.to_string(),
            reply: tx,
        };
        let leader = {
            let mut g = self
                .gathering
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            match g.get_mut(account) {
                Some(asks) => {
                    asks.push(ask);
                    false
                }
                None => {
                    g.insert(account.clone(), vec![ask]);
                    true
                }
            }
        };
        if leader {
            // Dropped before it takes the gathering (its link cancelled or
            // timed out), the leader still hands every question back.
            let guard = Leader {
                gathering: &self.gathering,
                account,
            };
            tokio::time::sleep(self.window).await;
            let asks = guard.take();
            answer(r53, asks).await;
        }
        match rx.await {
            Ok(Some(answer)) => answer,
            // The leader was dropped, or the shared listing failed.
            Ok(None) | Err(_) => zone::find_own_zone(r53, name, prefix).await,
        }
    }
}

/// The first question of a gathering, which answers it after the window.
struct Leader<'a> {
    gathering: &'a Mutex<HashMap<AccountSettings, Vec<Ask>>>,
    account: &'a AccountSettings,
}

impl Leader<'_> {
    /// Ends the gathering: later questions start a new one.
    fn take(self) -> Vec<Ask> {
        let asks = self.remove();
        std::mem::forget(self);
        asks
    }

    fn remove(&self) -> Vec<Ask> {
        self.gathering
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(self.account)
            .unwrap_or_default()
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        // Each link asks on its own; none waits for a leader that is gone.
        release(self.remove());
    }
}

/// Answers every question of one gathering: each on its own when that is
/// as cheap, else from one listing of the account's zones.
async fn answer(r53: &Client, asks: Vec<Ask>) {
    if asks.len() < 3 {
        // One or two questions: asking each is never more than a listing.
        return release(asks);
    }
    let listed = async {
        let count = r53
            .get_hosted_zone_count()
            .send()
            .await
            .map_err(|e| Error::aws("counting Route 53 hosted zones", e))?
            .hosted_zone_count();
        let pages = (count.max(1) + i64::from(PAGE) - 1) / i64::from(PAGE);
        if pages + 1 >= asks.len() as i64 {
            return Ok(None);
        }
        list_zones(r53).await.map(Some)
    };
    let zones = match listed.await {
        Ok(Some(zones)) => zones,
        Ok(None) => return release(asks),
        Err(e) => {
            tracing::debug!(error = %e, "listing the account's zones failed; each link asks on its own");
            return release(asks);
        }
    };
    tracing::debug!(
        asks = asks.len(),
        zones = zones.len(),
        "own-zone lookups answered from one listing"
    );
    for ask in asks {
        let found = zones
            .iter()
            .find(|z| z.name == ask.name && z.caller_reference.starts_with(&ask.prefix));
        let result = match found {
            Some(z) => zone::get_zone(r53, &z.id).await,
            None => Ok(None),
        };
        let _ = ask.reply.send(Some(result));
    }
}

/// Lets every question be asked by its own link.
fn release(asks: Vec<Ask>) {
    for ask in asks {
        let _ = ask.reply.send(None);
    }
}

/// A zone as `ListHostedZones` shows it.
#[derive(Debug)]
struct Listed {
    id: String,
    name: DomainName,
    caller_reference: String,
}

/// Every public zone of the account (name and caller reference).
async fn list_zones(r53: &Client) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = r53
            .list_hosted_zones()
            .max_items(PAGE)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| Error::aws("listing Route 53 hosted zones", e))?;
        for hz in page.hosted_zones() {
            if hz.config().is_some_and(|c| c.private_zone()) {
                continue;
            }
            let Ok(name) = DomainName::parse(hz.name()) else {
                continue;
            };
            out.push(Listed {
                id: bare_zone_id(hz.id()),
                name,
                caller_reference: hz.caller_reference().to_string(),
            });
        }
        match page.next_marker() {
            Some(m) if page.is_truncated() => marker = Some(m.to_string()),
            _ => return Ok(out),
        }
    }
}
