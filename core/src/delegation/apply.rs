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

    /// [`Engine::apply_with_progress`] for a Route 53 parent: the phases
    /// of `phases.rs`, in order.
    async fn apply_route53(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        let bound = Bound::new(timeout, cancel);
        let obs = self.observe_for_apply(spec, prior, &bound).await?;
        let actions = plan::plan_apply(&spec.desired(), &obs.observed).map_err(|e| {
            let zone = obs.observed.child_zone.as_ref();
            ApplyFailure::boxed(plan_error(e, spec, &obs.ctx, zone), None)
        })?;
        tracing::info!(name = %spec.name, ?actions, moving_child = obs.old_zone.is_some(), moving_parent = obs.old_parent.is_some(), "applying delegation");
        let mut state = starting_state(spec, prior, &obs);
        let acted = self
            .act(spec, &obs, &actions, &bound, &mut state, progress)
            .await?;
        self.wait_for_changes(spec, &obs.ctx, &acted.waits, &state, &bound, cancel)
            .await?;
        let state = self
            .settle(spec, &obs.ctx, &bound, state, acted.created_zone)
            .await?;
        let must_verify = acted.any_change || obs.moves();
        let (mut state, report, verify_findings) = self
            .verify_applied(spec, prior, &obs.ctx, &bound, cancel, state, must_verify)
            .await?;
        let warnings = self
            .retire_moved(spec, &obs, &bound, cancel, &mut state)
            .await?;
        // The occluded records first, then what verification noted.
        let mut findings = self.new_link_findings(spec, prior, &obs.ctx, &bound).await;
        findings.extend(verify_findings);
        Ok(Applied {
            state,
            report,
            findings,
            warnings,
        })
    }

    /// Verify: after a change, a move, or a verification not yet passed;
    /// a failure returns the state reached with the report.
    #[allow(clippy::too_many_arguments)]
    async fn verify_applied(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        ctx: &Ctx,
        bound: &Bound<'_>,
        cancel: &CancellationToken,
        mut state: LinkState,
        must: bool,
    ) -> std::result::Result<(LinkState, Option<VerificationReport>, Vec<Finding>), Box<ApplyFailure>>
    {
        let needs = must
            || !state.retired.is_empty()
            || state
                .verification
                .as_ref()
                .is_none_or(|v| v.status != VerifyStatus::Verified);
        if !spec.verify.enabled {
            state.verification = Some(skipped_summary());
            return Ok((state, None, Vec::new()));
        }
        if !needs {
            return Ok((state, None, Vec::new()));
        }
        let timeout = spec.verify.timeout.min(bound.remaining());
        let leftovers = leftovers_text(&state.retired);
        let failure = |error: Error, state: LinkState, report: Option<VerificationReport>| {
            Box::new(ApplyFailure {
                error: with_leftovers(error, &leftovers),
                partial: Some(state),
                report,
            })
        };
        let r = match self.verify(spec, ctx, &state, timeout, cancel).await {
            Ok(r) => r,
            Err(verify::VerifyError::Cancelled { last_report }) => {
                state.verification = Some(cancelled_summary(&spec.name, last_report.as_deref()));
                let error = Error::Cancelled {
                    during: format!("verifying delegation of {}", spec.name),
                };
                return Err(failure(error, state, last_report.map(|r| *r)));
            }
            Err(e) => {
                let error = Error::Dns {
                    name: spec.name.clone(),
                    source: Box::new(e),
                };
                return Err(failure(error, state, None));
            }
        };
        state.verification = Some(summary_of(&r, None));
        if !r.passed {
            let error = Error::VerificationFailed {
                name: spec.name.clone(),
                summary: failure_text(&r),
            };
            return Err(failure(error, state, Some(r)));
        }
        // Warnings of a verified delegation (a resolver's cached negative
        // answer, say) reach the user.
        let mut findings: Vec<Finding> = r
            .findings
            .iter()
            .filter(|f| f.severity() == crate::diagnose::Severity::Warning)
            .cloned()
            .collect();
        if prior.is_none() && !r.findings.iter().any(|f| f.code() == "cached_negative") {
            findings.extend(self.negative_caching(spec, ctx).await);
        }
        Ok((state, Some(r), findings))
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
