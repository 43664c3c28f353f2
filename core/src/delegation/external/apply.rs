//! Apply for the parents outside Route 53 (see [`super`]): create
//! or adopt the child zone, write the NS record by DNS UPDATE (or, for a
//! registrar, give the NS set to enter), read back, verify; a registrar's
//! delegation not seen in time is `pending` on create, an error on update.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{ext_error, kind, pseudo_id, via, zone_label, Kind, SERIAL_WAIT};
use crate::delegation::{
    cancelled_summary, create_child_zone, failure_text, settle_comment, settle_tags,
    skipped_summary, summary_of, zone_to_adopt, Applied, ApplyFailure, Bound, Engine, LinkSpec,
    LinkState, VerifyStatus,
};
use crate::error::Error;
use crate::nsset::NsSet;
use crate::parent::dns_update::{self, UpdateError};
use crate::parent::registrar as manual;
use crate::plan::{self, Action, Observed, ObservedZone, PlanError};
use crate::record::NsRecord;
use crate::verify;
use crate::zone;

impl Engine {
    /// [`Engine::apply_with_progress`] for a parent outside Route 53.
    pub(crate) async fn apply_external(
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
        // A move of the child zone to another account is not carried out
        // for these parents (it would leave the old zone behind): refused
        // before any change.
        if let Some(old) = prior
            .filter(|p| !p.child_zone_id.is_empty())
            .and_then(|p| p.child_account.as_ref())
        {
            if self.clients().effective(old) != self.clients().effective(&spec.child.account) {
                return Err(fail(
                    Error::InvalidSetting {
                        attribute: "child.assume_role.role_arn".into(),
                        message: format!(
                            "moving the child zone of {} to another account is not supported with parent.{}; nothing was changed: keep the child account, or replace the link (terraform apply -replace) to create the zone in the new account",
                            spec.name,
                            match kind(spec) {
                                Kind::Update(_) => "dns_update",
                                Kind::Manual(_) => "manual",
                            }
                        ),
                    },
                    None,
                ));
            }
        }
        if let (Some(p), Some(id)) = (prior, &spec.child.zone_id) {
            if p.zone_owned && !p.child_zone_id.is_empty() && *id != p.child_zone_id {
                return Err(fail(
                    Error::InvalidSetting {
                        attribute: "child.zone_id".into(),
                        message: format!(
                            "moving {} from hosted zone {} (created by this link) to {id} is not supported for a parent outside Route 53 (the old zone would be left behind); nothing was changed: replace the link, or delete the old zone yourself after moving",
                            spec.name, p.child_zone_id
                        ),
                    },
                    None,
                ));
            }
        }
        let child = bound
            .run(
                "reaching the child account",
                self.clients().route53(&spec.child.account),
            )
            .await
            .map_err(|e| fail(e, None))?;
        let (dns, resolver) = self.dns_setup(spec).map_err(|e| fail(e, None))?;
        let view = bound
            .run(
                "reading the parent's NS record",
                self.parent_view(spec, &dns, &resolver),
            )
            .await
            .map_err(|e| fail(e, None))?;
        let pseudo = pseudo_id(spec);
        let prefix = zone::caller_reference_prefix(&spec.name, &pseudo);
        let lookup = spec.child.zone_id.clone().or_else(|| {
            prior
                .map(|p| p.child_zone_id.clone())
                .filter(|s| !s.is_empty())
        });
        let found = bound
            .run("reading the child zone", async {
                match &lookup {
                    Some(id) => zone::get_zone(&child, id).await,
                    None => zone::find_own_zone(&child, &spec.name, &prefix).await,
                }
            })
            .await
            .map_err(|e| fail(e, None))?;
        // A zone of another name, or (for a zone from state) one gone: look
        // for the one this link would have made.
        let found = match found {
            Some(z) if z.name != spec.name => {
                return Err(fail(
                    Error::InvalidSetting {
                        attribute: "child.zone_id".into(),
                        message: format!(
                            "hosted zone {} is named {}, not {}",
                            z.id, z.name, spec.name
                        ),
                    },
                    None,
                ))
            }
            None if spec.child.zone_id.is_none() && lookup.is_some() => bound
                .run(
                    "finding the child zone",
                    zone::find_own_zone(&child, &spec.name, &prefix),
                )
                .await
                .map_err(|e| fail(e, None))?,
            other => other,
        };
        let is_update = matches!(kind(spec), Kind::Update(_));
        let observed = Observed {
            child_zone: found.as_ref().map(|z| ObservedZone {
                id: z.id.clone(),
                name_servers: z.name_servers.clone(),
            }),
            parent_record: if is_update { view.record.clone() } else { None },
            last_written: prior.and_then(|p| p.written.clone()),
        };
        let desired = spec.desired();
        let actions = plan::plan_apply(&desired, &observed).map_err(|e| {
            let wanted = found
                .as_ref()
                .map(|z| z.name_servers.clone())
                .unwrap_or_default();
            fail(plan_error(e, spec, wanted), None)
        })?;
        tracing::info!(name = %spec.name, ?actions, parent = %via(spec), "applying delegation");

        let mut state = prior
            .cloned()
            .unwrap_or_else(|| LinkState::new(pseudo.clone(), view.zone.name.clone()));
        state.parent_zone_id = pseudo.clone();
        state.parent_zone_name = view.zone.name.clone();
        state.parent_account = None;
        state.child_account = None;
        if let Some(z) = &found {
            let was = state.child_zone_id.clone();
            state.child_zone_id = z.id.clone();
            state.name_servers = z.name_servers.clone();
            state.zone_owned = spec.child.zone_id.is_none()
                && (was == z.id && state.zone_owned || z.caller_reference.starts_with(&prefix));
        }
        let mut zone_ns = found.as_ref().map(|z| z.name_servers.clone());
        let mut any_change = false;
        for action in &actions {
            match action {
                Action::CreateZone => {
                    let created = create_child_zone(&bound, &child, spec, &prefix)
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.created(&created.zone);
                    progress(&state);
                    zone_ns = Some(created.zone.name_servers.clone());
                    any_change = true;
                    if let Some(change) = &created.change_id {
                        self.changes
                            .wait(
                                &child,
                                change,
                                remaining(),
                                self.polling,
                                std::future::pending(),
                                cancel,
                            )
                            .await
                            .map_err(|e| fail(e, Some(state.clone())))?;
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = zone_to_adopt(&bound, &child, zone_id)
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.adopt(&z);
                    progress(&state);
                    zone_ns = Some(z.name_servers);
                }
                Action::WriteNs { ttl } | Action::ReplaceNs { ttl, .. } => {
                    let Kind::Update(p) = kind(spec) else {
                        continue;
                    };
                    let wanted = NsRecord {
                        ttl: *ttl,
                        values: zone_ns.clone().unwrap_or_default(),
                    };
                    let previous = match action {
                        Action::ReplaceNs { previous, .. } => Some(previous),
                        _ => None,
                    };
                    let write = async {
                        match dns_update::write_ns(p, &spec.name, &wanted, previous).await {
                            Ok(()) => Ok(()),
                            Err(UpdateError::Prerequisite { .. }) => {
                                // Someone else wrote (or changed) the record
                                // since it was read: say what is there now.
                                let now = dns_update::values_now(p, &spec.name, &dns).await;
                                Err(match previous {
                                    None => Error::ForeignRecord {
                                        name: spec.name.clone(),
                                        zone_id: zone_label(p),
                                        existing: now,
                                        wanted: wanted.values.clone(),
                                    },
                                    Some(prev) => Error::RecordChanged {
                                        action: "writing NS record",
                                        name: spec.name.clone(),
                                        zone_id: zone_label(p),
                                        expected: prev.values.clone(),
                                        found: now,
                                    },
                                })
                            }
                            Err(e) => Err(ext_error(spec, "writing NS record", e)),
                        }
                    };
                    bound
                        .run("writing the parent NS record", write)
                        .await
                        .map_err(|e| fail(e, Some(state.clone())))?;
                    any_change = true;
                    state.written = Some(wanted.clone());
                    state.delegated = Some(wanted.clone());
                    progress(&state);
                    if let Some(before) = view.serial {
                        bound
                            .run("waiting for the parent zone's SOA serial", async {
                                dns_update::wait_serial_past(p, before, &dns, SERIAL_WAIT)
                                    .await
                                    .map_err(|e| ext_error(spec, "writing NS record", e))
                            })
                            .await
                            .map_err(|e| fail(e, Some(state.clone())))?;
                    }
                }
                Action::RemoveNs { .. } | Action::DeleteZone { .. } => {}
            }
        }

        // State comes from reading back.
        let back = bound
            .run("reading back", async {
                let z = if state.child_zone_id.is_empty() {
                    None
                } else {
                    zone::get_zone(&child, &state.child_zone_id).await?
                };
                let v = self.parent_view(spec, &dns, &resolver).await?;
                Ok((z, v))
            })
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        if let Some(z) = back.0 {
            state.name_servers = z.name_servers;
            state.child_comment = z.comment;
        }
        let pz = back.1.zone;
        state.delegated = back.1.record;
        settle_comment(&bound, &child, spec, &mut state)
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        settle_tags(&bound, &child, spec, &mut state)
            .await
            .map_err(|e| fail(e, Some(state.clone())))?;
        if is_update && state.written.is_none() {
            state.written = state
                .delegated
                .clone()
                .filter(|d| d.values == state.name_servers);
        }

        let mut warnings = Vec::new();
        let manual_zone = match kind(spec) {
            Kind::Manual(p) => Some(p.zone.clone()),
            Kind::Update(_) => None,
        };
        let in_place = state.delegated.as_ref().map(|d| &d.values) == Some(&state.name_servers);
        if let (Some(z), false) = (&manual_zone, in_place) {
            warnings.push(manual::instructions(&spec.name, z, &state.name_servers));
        }
        let needs_verify = any_change
            || !in_place
            || state
                .verification
                .as_ref()
                .map(|v| v.status != VerifyStatus::Verified)
                .unwrap_or(true);
        if !spec.verify.enabled {
            state.verification = Some(skipped_summary());
            return Ok(Applied {
                state,
                report: None,
                findings: Vec::new(),
                warnings,
            });
        }
        if !needs_verify {
            return Ok(Applied {
                state,
                report: None,
                findings: Vec::new(),
                warnings,
            });
        }
        let deadline = spec.verify.timeout.min(remaining());
        let report = match self
            .verify_external(spec, &pz, &state.name_servers, &resolver, deadline, cancel)
            .await
        {
            Ok(r) => r,
            Err(verify::VerifyError::Cancelled { last_report }) => {
                state.verification = Some(cancelled_summary(&spec.name, last_report.as_deref()));
                return Err(Box::new(ApplyFailure {
                    error: Error::Cancelled {
                        during: format!("verifying delegation of {}", spec.name),
                    },
                    partial: Some(state),
                    report: last_report.map(|r| *r),
                }));
            }
            Err(e) => {
                return Err(fail(
                    Error::Dns {
                        name: spec.name.clone(),
                        source: Box::new(e),
                    },
                    Some(state),
                ))
            }
        };
        if report.passed {
            state.verification = Some(summary_of(&report, None));
            if let Some(d) = &state.delegated {
                // A registrar's record now holds exactly the child's servers.
                if manual_zone.is_some() && d.values == state.name_servers {
                    warnings.clear();
                }
            }
            let findings = report
                .findings
                .iter()
                .filter(|f| f.severity() == crate::diagnose::Severity::Warning)
                .cloned()
                .collect();
            return Ok(Applied {
                state,
                report: Some(report),
                findings,
                warnings,
            });
        }
        let Some(zone_name) = manual_zone else {
            state.verification = Some(summary_of(&report, None));
            return Err(Box::new(ApplyFailure {
                error: Error::VerificationFailed {
                    name: spec.name.clone(),
                    summary: failure_text(&report),
                },
                partial: Some(state),
                report: Some(report),
            }));
        };
        // The registrar has not been told yet (or DNS does not show it yet).
        let mut pending = summary_of(&report, Some(VerifyStatus::Pending));
        pending.summary = format!(
            "waiting for the registrar's delegation of {}: {}",
            spec.name, pending.summary
        );
        state.verification = Some(pending);
        let waited = format!(
            "the parent's servers did not refer {} to the child zone's servers within {}s (verify.timeout). {}",
            spec.name,
            deadline.as_secs(),
            manual::instructions(&spec.name, &zone_name, &state.name_servers)
        );
        if prior.is_none() {
            // Not an error: Terraform would taint the new link and replace
            // (delete) the zone whose servers the user is entering.
            warnings.clear();
            warnings.push(format!(
                "{waited}. The child zone is kept and verification.status is pending: the next plan shows a change and the next apply waits again"
            ));
            return Ok(Applied {
                state,
                report: Some(report),
                findings: Vec::new(),
                warnings,
            });
        }
        Err(Box::new(ApplyFailure {
            error: ext_error(spec, "waiting for the delegation of", waited),
            partial: Some(state),
            report: Some(report),
        }))
    }
}

fn plan_error(e: PlanError, spec: &LinkSpec, wanted: NsSet) -> Error {
    let label = match kind(spec) {
        Kind::Update(p) => zone_label(p),
        Kind::Manual(p) => p.zone.to_string(),
    };
    match e {
        PlanError::AdoptMissing { zone_id } => Error::InvalidSetting {
            attribute: "child.zone_id".into(),
            message: format!("hosted zone {zone_id} does not exist in the child account"),
        },
        PlanError::ForeignRecord { existing } => Error::ForeignRecord {
            name: spec.name.clone(),
            zone_id: label,
            existing,
            wanted,
        },
        PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
            action: "writing NS record",
            name: spec.name.clone(),
            zone_id: label,
            expected,
            found,
        },
    }
}
