//! Apply: create or adopt the child zone, write the parent record, wait once for both changes, verify; a move then hands over to `retire`.

use super::*;

impl Engine {
    /// Creates or updates a delegation and verifies it. On failure after
    /// anything was created, the failure carries the state reached.
    ///
    /// A change of the child account, of `child.zone_id` or of the parent
    /// zone moves the delegation without an outage: the new zone is created
    /// (or adopted), the parent record is written or swapped atomically, the
    /// change is waited for and verified, and only then is the old parent
    /// record removed and the old zone deleted (only if this link created
    /// it).
    ///
    /// `timeout` bounds every step, each AWS call included; `cancel` stops
    /// any of them.
    pub async fn apply(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        self.apply_with_progress(spec, prior, timeout, cancel, &|_| {})
            .await
    }

    /// [`Engine::apply`], calling `progress` with the state reached each time
    /// something was created or written in AWS (a zone created or adopted, the
    /// parent record written), so a front end can keep it even if the apply
    /// never returns normally (a panic, a process killed): nothing created is
    /// forgotten.
    pub async fn apply_with_progress(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        let result = if spec.parent.kind != ParentKind::Route53 {
            self.apply_external(spec, prior, timeout, cancel, progress)
                .await
        } else {
            self.apply_route53(spec, prior, timeout, cancel, progress)
                .await
        };
        match result {
            Err(failure) if prior.is_none() && cancel.is_cancelled() => {
                interrupted_create(spec, failure)
            }
            other => other,
        }
    }

    /// [`Engine::apply_with_progress`] for a Route 53 parent.
    async fn apply_route53(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        let fail = ApplyFailure::boxed;
        let bound = Bound::new(timeout, cancel);
        let remaining = || bound.remaining();
        let ctx = bound
            .run("reading the parent zone and the accounts", self.ctx(spec))
            .await
            .map_err(|e| fail(e, None))?;

        // What this apply leaves behind: the old parent record when the
        // parent zone changes, the old zone when the child moves.
        let old_parent = match prior
            .map(|p| p.parent_zone_id.as_str())
            .filter(|id| !id.is_empty() && *id != ctx.parent_zone.id)
        {
            Some(old_id) => {
                let settings = prior
                    .and_then(|p| p.parent_account.clone())
                    .unwrap_or_else(|| spec.parent.account.clone());
                Some((settings, old_id.to_string()))
            }
            None => None,
        };
        let old_zone = bound
            .run(
                "finding the previous child zone",
                self.prior_zone_to_leave(&ctx, spec, prior),
            )
            .await
            .map_err(|e| fail(e, None))?;
        if let Some(old) = old_zone
            .as_ref()
            .filter(|o| o.owned && !spec.child.force_destroy)
        {
            // Check before the first write: a move must not strand records.
            let records = bound
                .run(
                    "listing the previous child zone's records",
                    zone::own_records(&old.client, &old.zone),
                )
                .await
                .map_err(|e| fail(e, None))?;
            if !records.is_empty() {
                return Err(fail(
                    Error::Partial {
                        context: format!(
                            "moving the delegation of {} away from hosted zone {}",
                            spec.name, old.zone.id
                        ),
                        source: Box::new(Error::ZoneNotEmpty {
                            zone_id: old.zone.id.clone(),
                            name: old.zone.name.clone(),
                            records: records
                                .iter()
                                .map(|r| (r.name.clone(), r.rtype.clone()))
                                .collect(),
                        }),
                        consequence: "nothing was changed; copy those records to the new zone and delete them from the old one, or set child.force_destroy = true to delete them with the old zone".into(),
                    },
                    None,
                ));
            }
        }
        let moving_child = old_zone.is_some();
        let lookup = spec.child.zone_id.clone().or_else(|| {
            prior
                .filter(|_| !moving_child)
                .map(|p| p.child_zone_id.clone())
                .filter(|s| !s.is_empty())
        });
        let last_written = if old_parent.is_some() {
            None
        } else {
            prior.and_then(|p| p.written.clone())
        };
        let observed = bound
            .run(
                "reading the child zone and the parent record",
                self.observe(&ctx, spec, lookup, last_written),
            )
            .await
            .map_err(|e| fail(e, None))?;
        let desired = spec.desired();
        let actions = plan::plan_apply(&desired, &observed).map_err(|e| {
            fail(
                plan_error(e, spec, &ctx, observed.child_zone.as_ref()),
                None,
            )
        })?;
        tracing::info!(name = %spec.name, ?actions, moving_child, moving_parent = old_parent.is_some(), "applying delegation");

        let mut state = prior.cloned().unwrap_or_else(|| {
            LinkState::new(ctx.parent_zone.id.clone(), ctx.parent_zone.name.clone())
        });
        state.parent_account = None;
        state.child_account = None;
        // Kept in state from here on, so that a failure before they are
        // removed leaves nothing nobody manages.
        let mut retiring = prior.map(|p| p.retired.clone()).unwrap_or_default();
        if let (Some((settings, old_id)), Some(w)) =
            (&old_parent, prior.and_then(|p| p.written.as_ref()))
        {
            retiring.push(Retired {
                account: settings.clone(),
                what: RetiredObject::Record {
                    parent_zone_id: old_id.clone(),
                    record: w.clone(),
                },
            });
        }
        if let Some(old) = old_zone.as_ref().filter(|o| o.owned) {
            retiring.push(Retired {
                account: old.settings.clone(),
                what: RetiredObject::Zone {
                    zone_id: old.zone.id.clone(),
                },
            });
        }
        state.retired = retiring;
        if let Some((_, old_id)) = &old_parent {
            // The old parent's record is not this state's any more.
            tracing::info!(name = %spec.name, from = %old_id, to = %ctx.parent_zone.id, "moving to another parent zone");
            state.delegated = None;
            state.written = None;
        }
        state.parent_zone_id = ctx.parent_zone.id.clone();
        state.parent_zone_name = ctx.parent_zone.name.clone();
        let mut child_zone = observed.child_zone.clone();
        match &child_zone {
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
        let mut any_change = false;
        let mut waits: Vec<(Client, String)> = Vec::new();
        let mut created_zone = false;
        // Links applied together share one parent batch: say this one's
        // write is coming while its zone is created.
        let mut intent = actions
            .iter()
            .any(|a| matches!(a, Action::WriteNs { .. } | Action::ReplaceNs { .. }))
            .then(|| {
                self.route53_parent
                    .intend(&self.parent_account(spec), &ctx.parent_zone.id)
            });
        for action in &actions {
            match action {
                Action::CreateZone => {
                    let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
                    let created = create_child_zone(&bound, &ctx.child, spec, &prefix)
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.created(&created.zone);
                    created_zone = true;
                    progress(&state);
                    child_zone = Some(ObservedZone {
                        id: created.zone.id.clone(),
                        name_servers: created.zone.name_servers.clone(),
                    });
                    any_change = true;
                    // Waited for together with the parent record's change.
                    if let Some(change) = &created.change_id {
                        waits.push((ctx.child.clone(), change.clone()));
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = zone_to_adopt(&bound, &ctx.child, zone_id)
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.adopt(&z);
                    progress(&state);
                    child_zone = Some(ObservedZone {
                        id: z.id,
                        name_servers: z.name_servers,
                    });
                }
                Action::WriteNs { ttl } | Action::ReplaceNs { ttl, .. } => {
                    let wanted = NsRecord {
                        ttl: *ttl,
                        values: child_zone
                            .as_ref()
                            .map(|z| z.name_servers.clone())
                            .unwrap_or_default(),
                    };
                    let current = match action {
                        Action::ReplaceNs { previous, .. } => Some(previous),
                        _ => None,
                    };
                    let outcome = bound
                        .run(
                            "writing the parent NS record",
                            self.route53_parent.write_ns(
                                &ctx.parent,
                                intent.take().unwrap_or_else(|| {
                                    self.route53_parent
                                        .intend(&self.parent_account(spec), &ctx.parent_zone.id)
                                }),
                                &spec.name,
                                &wanted,
                                current,
                            ),
                        )
                        .await
                        .map_err(|e| fail(e, Some(state.clone())))?;
                    if outcome != WriteOutcome::Unchanged {
                        any_change = true;
                        state.written = Some(wanted.clone());
                        state.delegated = Some(wanted.clone());
                        progress(&state);
                    }
                    if let Some(change) = outcome.change_id() {
                        waits.push((ctx.parent.clone(), change.to_string()));
                    }
                }
                Action::RemoveNs { .. } | Action::DeleteZone { .. } => {}
            }
        }
        // One wait for everything written: the new zone and the parent
        // record, together.
        if !waits.is_empty() {
            let (polling, early) =
                self.appearance_signal(spec, &ctx.parent_zone, &state.name_servers);
            let all = waits.iter().map(|(client, change)| {
                self.changes
                    .wait(client, change, remaining(), polling, early.clone(), cancel)
            });
            futures::future::try_join_all(all)
                .await
                .map_err(|e| fail(e, Some(state.clone())))?;
        }
        // State comes from Read.
        let mut state = bound
            .run(
                "reading back",
                self.read_back(&ctx, spec, &state, created_zone),
            )
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        settle_comment(&bound, &ctx.child, spec, &mut state)
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        settle_tags(&bound, &ctx.child, spec, &mut state)
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        if state.written.is_none() {
            // Adopted delegation already in place: it is ours from now on.
            state.written = state.delegated.clone();
        }
        let needs_verify = any_change
            || old_parent.is_some()
            || old_zone.is_some()
            || !state.retired.is_empty()
            || state
                .verification
                .as_ref()
                .map(|v| v.status != VerifyStatus::Verified)
                .unwrap_or(true);
        let mut report = None;
        let mut verify_findings = Vec::new();
        if !spec.verify.enabled {
            state.verification = Some(skipped_summary());
        } else if needs_verify {
            let verify_timeout = spec.verify.timeout.min(remaining());
            let leftovers = leftovers_text(&state.retired);
            match self
                .verify(spec, &ctx, &state, verify_timeout, cancel)
                .await
            {
                Ok(r) => {
                    state.verification = Some(summary_of(&r, None));
                    if !r.passed {
                        let summary = failure_text(&r);
                        let error = Error::VerificationFailed {
                            name: spec.name.clone(),
                            summary,
                        };
                        return Err(Box::new(ApplyFailure {
                            error: with_leftovers(error, &leftovers),
                            partial: Some(state),
                            report: Some(r),
                        }));
                    }
                    // Warnings of a verified delegation (a resolver's cached
                    // negative answer, say) reach the user.
                    verify_findings.extend(
                        r.findings
                            .iter()
                            .filter(|f| f.severity() == crate::diagnose::Severity::Warning)
                            .cloned(),
                    );
                    if prior.is_none() && !r.findings.iter().any(|f| f.code() == "cached_negative")
                    {
                        if let Some(f) = self.negative_caching(spec, &ctx).await {
                            verify_findings.push(f);
                        }
                    }
                    report = Some(r);
                }
                Err(verify::VerifyError::Cancelled { last_report }) => {
                    state.verification =
                        Some(cancelled_summary(&spec.name, last_report.as_deref()));
                    let error = Error::Cancelled {
                        during: format!("verifying delegation of {}", spec.name),
                    };
                    return Err(Box::new(ApplyFailure {
                        error: with_leftovers(error, &leftovers),
                        partial: Some(state),
                        report: last_report.map(|r| *r),
                    }));
                }
                Err(e) => {
                    let error = Error::Dns {
                        name: spec.name.clone(),
                        source: Box::new(e),
                    };
                    return Err(Box::new(ApplyFailure {
                        error: with_leftovers(error, &leftovers),
                        partial: Some(state),
                        report: None,
                    }));
                }
            }
        }
        // The new delegation is in place (and verified): retire the old one.
        let mut warnings = Vec::new();
        let items = std::mem::take(&mut state.retired);
        let (left, mut notes, err) = self.retire(&items, spec, &bound, remaining(), cancel).await;
        warnings.append(&mut notes);
        state.retired = left;
        if let Some(e) = err {
            let consequence = leftovers_text(&state.retired);
            return Err(fail(
                Error::Partial {
                    context: format!(
                        "moving the delegation of {}: the new delegation is in place and verified",
                        spec.name
                    ),
                    source: Box::new(e),
                    consequence,
                },
                Some(state),
            ));
        }
        if let Some(old) = old_zone.as_ref().filter(|o| !o.owned) {
            warnings.push(format!(
                "the delegation of {} moved from hosted zone {} to {}; {} was not created by this link and was kept",
                spec.name, old.zone.id, state.child_zone_id, old.zone.id
            ));
        }
        let mut findings = Vec::new();
        if prior.is_none() {
            if let Ok(occ) = bound
                .run(
                    "listing records hidden by the delegation",
                    self.route53_parent.occluded_records(
                        &ctx.parent,
                        &self.parent_account(spec),
                        &ctx.parent_zone.id,
                        &spec.name,
                    ),
                )
                .await
            {
                if !occ.is_empty() {
                    findings.push(occluded_finding(&spec.name, &occ));
                }
            }
        }
        // The occluded records first, then what verification noted.
        findings.extend(verify_findings);
        Ok(Applied {
            state,
            report,
            findings,
            warnings,
        })
    }
}

pub(super) fn occluded_finding(name: &DomainName, records: &[zone::RecordSet]) -> Finding {
    Finding::OccludedRecords {
        name: name.clone(),
        records: records
            .iter()
            .map(|r| (r.name.clone(), r.rtype.to_string()))
            .collect(),
    }
}

pub(super) fn plan_error(
    e: PlanError,
    spec: &LinkSpec,
    ctx: &Ctx,
    zone: Option<&ObservedZone>,
) -> Error {
    match e {
        PlanError::AdoptMissing { zone_id } => Error::InvalidSetting {
            attribute: "child.zone_id".into(),
            message: format!("hosted zone {zone_id} does not exist in the child account"),
        },
        PlanError::ForeignRecord { existing } => Error::ForeignRecord {
            name: spec.name.clone(),
            zone_id: ctx.parent_zone.id.clone(),
            existing,
            wanted: zone.map(|z| z.name_servers.clone()).unwrap_or_default(),
        },
        PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
            action: "writing NS record",
            name: spec.name.clone(),
            zone_id: ctx.parent_zone.id.clone(),
            expected,
            found,
        },
    }
}

/// Creates the link's child zone, or finds the one an interrupted attempt
/// created (by its caller reference, which starts with `prefix`).
pub(crate) async fn create_child_zone(
    bound: &Bound<'_>,
    child: &Client,
    spec: &LinkSpec,
    prefix: &str,
) -> Result<zone::Created> {
    bound
        .run(
            "creating the child zone",
            zone::create_zone(child, &spec.name, prefix, spec.child.comment.as_deref()),
        )
        .await
}

/// Reads the zone a link is to adopt; a zone that is not there is an error.
pub(crate) async fn zone_to_adopt(
    bound: &Bound<'_>,
    child: &Client,
    zone_id: &str,
) -> Result<HostedZone> {
    bound
        .run("reading the zone to adopt", zone::get_zone(child, zone_id))
        .await?
        .ok_or_else(|| Error::ZoneNotFound {
            what: zone_id.to_string(),
        })
}

/// With `child.tags` set, the child zone carries exactly those tags (read
/// first, so a tag added outside Terraform since the last refresh is removed
/// too); without it, its tags are left as they are.
pub(crate) async fn settle_tags(
    bound: &Bound<'_>,
    child: &Client,
    spec: &LinkSpec,
    state: &mut LinkState,
) -> Result<()> {
    let Some(want) = &spec.child.tags else {
        state.child_tags = None;
        return Ok(());
    };
    if state.child_zone_id.is_empty() {
        return Ok(());
    }
    let zone_id = state.child_zone_id.clone();
    let current = bound
        .run("reading the child zone's tags", tags::read(child, &zone_id))
        .await?;
    if &current != want {
        bound
            .run(
                "tagging the child zone",
                tags::set(child, &zone_id, &current, want),
            )
            .await?;
    }
    state.child_tags = Some(want.clone());
    Ok(())
}

/// The child zone's tags when the link manages them (`child.tags` set).
pub(crate) async fn read_tags(
    child: &Client,
    spec: &LinkSpec,
    zone_id: &str,
) -> Result<Option<tags::Tags>> {
    if spec.child.tags.is_none() || zone_id.is_empty() {
        return Ok(None);
    }
    tags::read(child, zone_id).await.map(Some)
}

/// A zone this delegation manages carries the configured comment; an
/// adopted one keeps its own.
pub(crate) async fn settle_comment(
    bound: &Bound<'_>,
    child: &Client,
    spec: &LinkSpec,
    state: &mut LinkState,
) -> Result<()> {
    if state.zone_owned
        && spec.child.zone_id.is_none()
        && !state.child_zone_id.is_empty()
        && state.child_comment != spec.child.comment
    {
        bound
            .run(
                "updating the child zone's comment",
                zone::update_comment(child, &state.child_zone_id, spec.child.comment.as_deref()),
            )
            .await?;
        state.child_comment = spec.child.comment.clone();
    }
    Ok(())
}
