//! The phases of an apply with a Route 53 parent, in order: observe (the accounts, the parent zone, what a move leaves, the child zone and the parent record), plan (`core::plan`), act (create or adopt the zone, write the record), wait (one INSYNC wait for everything written), settle (read back, comment, tags), verify, retire (what a move left), and the findings of a new link. Each is a method of its own; [`Engine::apply_with_progress`] runs them.

use super::*;
use crate::parent::route53::Intent;

/// A failed phase: the error and the state reached.
type Fail = Box<ApplyFailure>;

/// What an apply found before its first write.
pub(super) struct Observation {
    /// The clients and the parent zone.
    pub(super) ctx: Ctx,
    /// The previous parent zone's account and ID, when the parent zone
    /// changes.
    pub(super) old_parent: Option<(AccountSettings, String)>,
    /// The zone the delegation moves away from, when it moves.
    pub(super) old_zone: Option<OldZone>,
    /// The child zone and the parent record, for `plan::plan_apply`.
    pub(super) observed: Observed,
}

impl Observation {
    /// Whether the delegation moves (another parent zone, child account or
    /// child zone).
    pub(super) fn moves(&self) -> bool {
        self.old_parent.is_some() || self.old_zone.is_some()
    }
}

/// What the act phase did.
#[derive(Default)]
pub(super) struct Acted {
    /// Anything created or written.
    pub(super) any_change: bool,
    /// The child zone was created by this apply (not read back).
    pub(super) created_zone: bool,
    /// The changes to wait for, with the client of their account.
    pub(super) waits: Vec<(Client, String)>,
}

impl Engine {
    /// Observe: everything the plan needs, and the refusal of a move that
    /// would strand the old zone's records, before any write.
    pub(super) async fn observe_for_apply(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        bound: &Bound<'_>,
    ) -> std::result::Result<Observation, Fail> {
        let fail = |e| ApplyFailure::boxed(e, None);
        let ctx = bound
            .run("reading the parent zone and the accounts", self.ctx(spec))
            .await
            .map_err(fail)?;
        let old_parent = old_parent(spec, prior, &ctx);
        let old_zone = bound
            .run(
                "finding the previous child zone",
                self.prior_zone_to_leave(&ctx, spec, prior),
            )
            .await
            .map_err(fail)?;
        refuse_stranding_move(spec, old_zone.as_ref(), bound).await?;
        let lookup = spec.child.zone_id.clone().or_else(|| {
            prior
                .filter(|_| old_zone.is_none())
                .map(|p| p.child_zone_id.clone())
                .filter(|s| !s.is_empty())
        });
        let last_written = match old_parent {
            Some(_) => None,
            None => prior.and_then(|p| p.written.clone()),
        };
        let observed = bound
            .run(
                "reading the child zone and the parent record",
                self.observe(&ctx, spec, lookup, last_written),
            )
            .await
            .map_err(fail)?;
        Ok(Observation {
            ctx,
            old_parent,
            old_zone,
            observed,
        })
    }

    /// Act: create or adopt the child zone and write the parent record, in
    /// the plan's order, reporting each object made through `progress`.
    pub(super) async fn act(
        &self,
        spec: &LinkSpec,
        obs: &Observation,
        actions: &[Action],
        bound: &Bound<'_>,
        state: &mut LinkState,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Acted, Fail> {
        let ctx = &obs.ctx;
        let mut acted = Acted::default();
        let mut child_zone = obs.observed.child_zone.clone();
        // Links applied together share one parent batch: say this one's
        // write is coming while its zone is created.
        let mut intent = writes_parent(actions).then(|| self.intent(spec, ctx));
        for action in actions {
            match action {
                Action::CreateZone => {
                    let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
                    let created = create_child_zone(bound, &ctx.child, spec, &prefix)
                        .await
                        .map_err(|e| ApplyFailure::boxed(e, None))?;
                    state.created(&created.zone);
                    progress(state);
                    child_zone = Some(observed_zone(&created.zone));
                    acted.any_change = true;
                    acted.created_zone = true;
                    // Waited for together with the parent record's change.
                    if let Some(change) = &created.change_id {
                        acted.waits.push((ctx.child.clone(), change.clone()));
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = zone_to_adopt(bound, &ctx.child, zone_id)
                        .await
                        .map_err(|e| ApplyFailure::boxed(e, None))?;
                    state.adopt(&z);
                    progress(state);
                    child_zone = Some(observed_zone(&z));
                }
                Action::WriteNs { .. } | Action::ReplaceNs { .. } => {
                    let intent = intent.take().unwrap_or_else(|| self.intent(spec, ctx));
                    let servers = child_zone.as_ref().map(|z| &z.name_servers);
                    self.write_parent(spec, ctx, action, servers, intent, bound, state, &mut acted)
                        .await?;
                    progress(state);
                }
                Action::RemoveNs { .. } | Action::DeleteZone { .. } => {}
            }
        }
        Ok(acted)
    }

    fn intent(&self, spec: &LinkSpec, ctx: &Ctx) -> Intent {
        self.route53_parent
            .intend(&self.parent_account(spec), &ctx.parent_zone.id)
    }

    /// The parent record, written through the shared batch: CREATE, or
    /// DELETE exactly what was read + CREATE.
    #[allow(clippy::too_many_arguments)]
    async fn write_parent(
        &self,
        spec: &LinkSpec,
        ctx: &Ctx,
        action: &Action,
        servers: Option<&NsSet>,
        intent: Intent,
        bound: &Bound<'_>,
        state: &mut LinkState,
        acted: &mut Acted,
    ) -> std::result::Result<(), Fail> {
        let (ttl, current) = match action {
            Action::ReplaceNs { ttl, previous } => (*ttl, Some(previous)),
            Action::WriteNs { ttl } => (*ttl, None),
            _ => return Ok(()),
        };
        let wanted = NsRecord {
            ttl,
            values: servers.cloned().unwrap_or_default(),
        };
        let outcome = bound
            .run(
                "writing the parent NS record",
                self.route53_parent
                    .write_ns(&ctx.parent, intent, &spec.name, &wanted, current),
            )
            .await
            .map_err(|e| ApplyFailure::boxed(e, Some(state.clone())))?;
        if outcome != WriteOutcome::Unchanged {
            acted.any_change = true;
            state.written = Some(wanted.clone());
            state.delegated = Some(wanted);
        }
        if let Some(change) = outcome.change_id() {
            acted.waits.push((ctx.parent.clone(), change.to_string()));
        }
        Ok(())
    }

    /// Wait: one wait for everything written, the new zone and the parent
    /// record together, ended early by the DNS signal.
    pub(super) async fn wait_for_changes(
        &self,
        spec: &LinkSpec,
        ctx: &Ctx,
        waits: &[(Client, String)],
        state: &LinkState,
        bound: &Bound<'_>,
        cancel: &CancellationToken,
    ) -> std::result::Result<(), Fail> {
        if waits.is_empty() {
            return Ok(());
        }
        let (polling, early) = self.appearance_signal(spec, &ctx.parent_zone, &state.name_servers);
        let all = waits.iter().map(|(client, change)| {
            self.changes.wait(
                client,
                change,
                bound.remaining(),
                polling,
                early.clone(),
                cancel,
            )
        });
        futures::future::try_join_all(all)
            .await
            .map(|_| ())
            .map_err(|e| ApplyFailure::boxed(e, Some(state.clone())))
    }

    /// Settle: state comes from Read; then the comment and the tags.
    pub(super) async fn settle(
        &self,
        spec: &LinkSpec,
        ctx: &Ctx,
        bound: &Bound<'_>,
        state: LinkState,
        created_zone: bool,
    ) -> std::result::Result<LinkState, Fail> {
        let fail = |e, s: &LinkState| ApplyFailure::boxed(e, Some(s.clone()));
        let mut state = bound
            .run(
                "reading back",
                self.read_back(ctx, spec, &state, created_zone),
            )
            .await
            .map_err(|e| fail(e, &state))?;
        if let Err(e) = settle_comment(bound, &ctx.child, spec, &mut state).await {
            return Err(fail(e, &state));
        }
        if let Err(e) = settle_tags(bound, &ctx.child, spec, &mut state).await {
            return Err(fail(e, &state));
        }
        if state.written.is_none() {
            // Adopted delegation already in place: it is ours from now on.
            state.written = state.delegated.clone();
        }
        Ok(state)
    }

    /// Retire: the new delegation is in place (and verified): remove what
    /// a move left. Returns the warnings.
    pub(super) async fn retire_moved(
        &self,
        spec: &LinkSpec,
        obs: &Observation,
        bound: &Bound<'_>,
        cancel: &CancellationToken,
        state: &mut LinkState,
    ) -> std::result::Result<Vec<String>, Fail> {
        let items = std::mem::take(&mut state.retired);
        let (left, mut warnings, err) = self
            .retire(&items, spec, bound, bound.remaining(), cancel)
            .await;
        state.retired = left;
        if let Some(e) = err {
            let consequence = leftovers_text(&state.retired);
            let error = Error::Partial {
                context: format!(
                    "moving the delegation of {}: the new delegation is in place and verified",
                    spec.name
                ),
                source: Box::new(e),
                consequence,
            };
            return Err(ApplyFailure::boxed(error, Some(state.clone())));
        }
        if let Some(old) = obs.old_zone.as_ref().filter(|o| !o.owned) {
            warnings.push(format!(
                "the delegation of {} moved from hosted zone {} to {}; {} was not created by this link and was kept",
                spec.name, old.zone.id, state.child_zone_id, old.zone.id
            ));
        }
        Ok(warnings)
    }

    /// A new link's findings: records in the parent zone the delegation
    /// hides (plan said so too).
    pub(super) async fn new_link_findings(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        ctx: &Ctx,
        bound: &Bound<'_>,
    ) -> Vec<Finding> {
        if prior.is_some() {
            return Vec::new();
        }
        let occluded = bound
            .run(
                "listing records hidden by the delegation",
                self.route53_parent.occluded_records(
                    &ctx.parent,
                    &self.parent_account(spec),
                    &ctx.parent_zone.id,
                    &spec.name,
                ),
            )
            .await;
        match occluded {
            Ok(occ) if !occ.is_empty() => vec![occluded_finding(&spec.name, &occ)],
            _ => Vec::new(),
        }
    }
}

/// The state an apply starts from: the prior state, with what a move
/// leaves kept in `retired` until it is removed, and the child zone found.
pub(super) fn starting_state(
    spec: &LinkSpec,
    prior: Option<&LinkState>,
    obs: &Observation,
) -> LinkState {
    let ctx = &obs.ctx;
    let mut state = prior.cloned().unwrap_or_else(|| {
        LinkState::new(ctx.parent_zone.id.clone(), ctx.parent_zone.name.clone())
    });
    state.parent_account = None;
    state.child_account = None;
    // Kept in state from here on, so that a failure before they are
    // removed leaves nothing nobody manages.
    state.retired = retiring(prior, obs);
    if let Some((_, old_id)) = &obs.old_parent {
        // The old parent's record is not this state's any more.
        tracing::info!(name = %spec.name, from = %old_id, to = %ctx.parent_zone.id, "moving to another parent zone");
        state.delegated = None;
        state.written = None;
    }
    state.parent_zone_id = ctx.parent_zone.id.clone();
    state.parent_zone_name = ctx.parent_zone.name.clone();
    match &obs.observed.child_zone {
        Some(z) => {
            let was = state.child_zone_id.clone();
            state.child_zone_id = z.id.clone();
            state.name_servers = z.name_servers.clone();
            state.zone_owned = if spec.child.zone_id.is_some() {
                false
            } else if was == z.id {
                state.zone_owned
            } else {
                // Found by its CallerReference: an earlier attempt's.
                true
            };
        }
        None => {
            state.child_zone_id = String::new();
            state.name_servers = NsSet::new();
        }
    }
    state
}

/// What this apply leaves behind, added to what earlier moves left: the old
/// parent record when the parent zone changes, the old zone (one this link
/// created) when the child moves.
fn retiring(prior: Option<&LinkState>, obs: &Observation) -> Vec<Retired> {
    let mut retiring = prior.map(|p| p.retired.clone()).unwrap_or_default();
    if let (Some((settings, old_id)), Some(w)) =
        (&obs.old_parent, prior.and_then(|p| p.written.as_ref()))
    {
        retiring.push(Retired {
            account: settings.clone(),
            what: RetiredObject::Record {
                parent_zone_id: old_id.clone(),
                record: w.clone(),
            },
        });
    }
    if let Some(old) = obs.old_zone.as_ref().filter(|o| o.owned) {
        retiring.push(Retired {
            account: old.settings.clone(),
            what: RetiredObject::Zone {
                zone_id: old.zone.id.clone(),
            },
        });
    }
    retiring
}

/// The previous parent zone's account and ID, when the parent zone changes.
fn old_parent(
    spec: &LinkSpec,
    prior: Option<&LinkState>,
    ctx: &Ctx,
) -> Option<(AccountSettings, String)> {
    let old_id = prior
        .map(|p| p.parent_zone_id.as_str())
        .filter(|id| !id.is_empty() && *id != ctx.parent_zone.id)?;
    let settings = prior
        .and_then(|p| p.parent_account.clone())
        .unwrap_or_else(|| spec.parent.account.clone());
    Some((settings, old_id.to_string()))
}

/// Before the first write: a move must not strand the old zone's records.
async fn refuse_stranding_move(
    spec: &LinkSpec,
    old: Option<&OldZone>,
    bound: &Bound<'_>,
) -> std::result::Result<(), Fail> {
    let Some(old) = old.filter(|o| o.owned && !spec.child.force_destroy) else {
        return Ok(());
    };
    let records = bound
        .run(
            "listing the previous child zone's records",
            zone::own_records(&old.client, &old.zone),
        )
        .await
        .map_err(|e| ApplyFailure::boxed(e, None))?;
    if records.is_empty() {
        return Ok(());
    }
    Err(ApplyFailure::boxed(move_refusal(spec, old, &records), None))
}

fn writes_parent(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::WriteNs { .. } | Action::ReplaceNs { .. }))
}

fn observed_zone(z: &HostedZone) -> ObservedZone {
    ObservedZone {
        id: z.id.clone(),
        name_servers: z.name_servers.clone(),
    }
}
