//! Coalesced parent writes: links writing NS records in one zone share a
//! `ChangeResourceRecordSets` batch (within Route 53's value and character
//! limits) and its `GetChange`; a batch Route 53 rejects is sent again
//! without the records it names, so only the changed record's link fails.

use super::*;

impl ParentSide {
    /// Queues a write for the zone's next batch and waits for its outcome.
    pub(super) async fn submit(
        &self,
        r53: &Client,
        write: Write,
        intent: Intent,
    ) -> Result<String> {
        let key = intent.key.clone();
        let action = write.action.clone();
        let (done, outcome) = oneshot::channel();
        let start = {
            let mut queues = lock(&self.queues);
            let q = queues.entry(key.clone()).or_default();
            q.items.push(Queued { write, done });
            !std::mem::replace(&mut q.busy, true)
        };
        // Queued: the batch need not wait for this link any more.
        drop(intent);
        if start {
            // A task of its own, so a link cancelled while waiting never
            // strands the others' writes.
            let this = self.clone();
            let client = r53.clone();
            tokio::spawn(async move { this.flush(client, key).await });
        }
        outcome.await.unwrap_or_else(|_| {
            Err(Error::aws_other(
                action,
                "Internal",
                "the batch of parent zone writes stopped",
            ))
        })
    }

    /// Sends the zone's queued writes, batch after batch, until none is left.
    pub(super) async fn flush(self, r53: Client, key: Key) {
        loop {
            tokio::time::sleep(self.cfg.window).await;
            let until = Instant::now() + self.cfg.max_gather;
            loop {
                let changed = {
                    let queues = lock(&self.queues);
                    match queues.get(&key) {
                        Some(q) if q.intents > 0 => q.changed.clone(),
                        _ => break,
                    }
                };
                let notified = changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if lock(&self.queues).get(&key).is_none_or(|q| q.intents == 0) {
                    break;
                }
                if tokio::time::timeout_at(until, notified).await.is_err() {
                    break;
                }
            }
            let items = {
                let mut queues = lock(&self.queues);
                let Some(q) = queues.get_mut(&key) else {
                    return;
                };
                if q.items.is_empty() {
                    q.busy = false;
                    return;
                }
                std::mem::take(&mut q.items)
            };
            for chunk in chunks(items) {
                self.send(&r53, &key, chunk).await;
            }
        }
    }

    /// Sends one batch; on a rejection naming some of its records, those
    /// get the rejection and the rest go again.
    pub(super) async fn send(&self, r53: &Client, key: &Key, items: Vec<Queued>) {
        let mut todo = vec![items];
        while let Some(items) = todo.pop() {
            if items.is_empty() {
                continue;
            }
            let sent = self.change(r53, &key.1, &items).await;
            match sent {
                Ok(id) => {
                    self.record_written(key, &items).await;
                    tracing::debug!(zone_id = %key.1, changes = items.len(), change_id = %id, "parent zone batch written");
                    for q in items {
                        let _ = q.done.send(Ok(id.clone()));
                    }
                }
                Err(err)
                    if err.aws_fault() == Some(AwsFault::InvalidChangeBatch) && items.len() > 1 =>
                {
                    self.invalidate(key);
                    let (named, rest): (Vec<_>, Vec<_>) = items.into_iter().partition(|q| {
                        named_in(err.aws_message().unwrap_or_default(), &q.write.name)
                    });
                    if named.is_empty() {
                        let mut rest = rest;
                        let half = rest.split_off(rest.len() / 2);
                        todo.push(half);
                        todo.push(rest);
                    } else {
                        tracing::info!(zone_id = %key.1, refused = named.len(), "parent zone batch refused; writing the others again");
                        for q in named {
                            let _ = q.done.send(Err(err.copy_for(q.write.action.clone())));
                        }
                        todo.push(rest);
                    }
                }
                Err(err) => {
                    self.invalidate(key);
                    for q in items {
                        let _ = q.done.send(Err(err.copy_for(q.write.action.clone())));
                    }
                }
            }
        }
    }

    /// Our own successful batch, applied to the zone's snapshot: Route 53
    /// applied it atomically, so the snapshot now holds what the zone holds
    /// (applying it twice, to a listing that already saw it, is harmless).
    pub(super) async fn record_written(&self, key: &Key, items: &[Queued]) {
        let Some(cell) = lock(&self.snapshots).get(key).cloned() else {
            return;
        };
        let mut slot = cell.lock().await;
        let Some(snap) = slot.as_ref() else {
            return;
        };
        let mut records = snap.records.clone();
        for q in items {
            let w = &q.write;
            records.retain(|r| !(r.name == w.name.as_str() && r.rtype == RrType::Ns));
            if let Some(c) = &w.create {
                let values = c.values.to_fqdns();
                let Ok(raw) = record_set(&w.name, RrType::Ns, c.ttl, &values, &w.action) else {
                    *slot = None;
                    return;
                };
                records.push(RecordSet {
                    name: w.name.as_str().to_string(),
                    rtype: RrType::Ns,
                    ttl: Some(c.ttl),
                    values,
                    special: false,
                    raw,
                });
            }
        }
        *slot = Some(Arc::new(Snapshot {
            at: snap.at,
            generation: snap.generation,
            records,
        }));
    }

    /// One `ChangeResourceRecordSets` call: the change ID, or the error.
    pub(super) async fn change(
        &self,
        r53: &Client,
        zone_id: &str,
        items: &[Queued],
    ) -> Result<String> {
        let batch = build_batch(items)?;
        match r53
            .change_resource_record_sets()
            .hosted_zone_id(zone_id)
            .change_batch(batch)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .change_info()
                .map(|c| c.id().to_string())
                .unwrap_or_default()),
            Err(e) => Err(Error::aws(String::new(), e)),
        }
    }
}

pub(super) fn build_batch(items: &[Queued]) -> Result<ChangeBatch> {
    let comment = match items {
        [one] => match &one.write.create {
            Some(_) => format!("route53delegation: delegate {}", one.write.name),
            None => format!("route53delegation: remove delegation of {}", one.write.name),
        },
        _ => format!("route53delegation: {} delegations", items.len()),
    };
    let mut batch = ChangeBatch::builder().comment(comment);
    for q in items {
        let w = &q.write;
        let mut push = |act: ChangeAction, r: &NsRecord| -> Result<()> {
            let set = record_set(&w.name, RrType::Ns, r.ttl, &r.values.to_fqdns(), &w.action)?;
            let change = Change::builder()
                .action(act)
                .resource_record_set(set)
                .build()
                .map_err(|e| build_error(w.action.clone(), e))?;
            batch = std::mem::take(&mut batch).changes(change);
            Ok(())
        };
        if let Some(d) = &w.delete {
            push(ChangeAction::Delete, d)?;
        }
        if let Some(c) = &w.create {
            push(ChangeAction::Create, c)?;
        }
    }
    batch
        .build()
        .map_err(|e| build_error("building a parent zone change batch".into(), e))
}

/// Splits writes into batches within Route 53's limits.
pub(super) fn chunks(items: Vec<Queued>) -> Vec<Vec<Queued>> {
    let mut out: Vec<Vec<Queued>> = Vec::new();
    let (mut values, mut chars) = (0, 0);
    for q in items {
        let (v, c) = q.write.values();
        if out.is_empty() || values + v > BATCH_VALUES || chars + c > BATCH_CHARS {
            out.push(Vec::new());
            (values, chars) = (0, 0);
        }
        values += v;
        chars += c;
        if let Some(last) = out.last_mut() {
            last.push(q);
        }
    }
    out
}

/// Whether Route 53's rejection names this record
/// (`[name='api.example.com.', type='NS']`). Text, because Route 53 says
/// which records of a refused batch it refused only in the message of its
/// `InvalidChangeBatch`: nothing typed carries it.
pub(super) fn named_in(message: &str, name: &DomainName) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains(&format!("name='{}'", name.fqdn())) || m.contains(&format!("name='{}'", name))
}
