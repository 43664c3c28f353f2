//! The engine's flows for parents outside Route 53: plan-time checks,
//! apply, read, import and destroy for a parent taking RFC 2136 updates
//! ([`super::dns_update`]) and for a registrar ([`super::manual`]).
//!
//! The child side is the same as for a Route 53 parent (a zone created with
//! a CallerReference identifying the delegation, or adopted; deleted only if
//! this link created it), and so is verification (the parent zone's servers,
//! from its NS set, must refer the name to exactly the child's servers, and
//! each of those must answer authoritatively). What differs is how the
//! parent's NS record is read and written:
//!
//! - dns_update: read from the update server; written by a signed UPDATE
//!   whose prerequisites make it a compare-and-swap; after a write the
//!   engine waits until the zone's SOA serial moved past the one read
//!   before, so the read back reflects the write;
//! - manual: never written; the NS set to enter at the registrar is given
//!   as a warning, and apply waits (up to `verify.timeout`) until the
//!   parent's servers, found by walking from the root, refer to it. A
//!   create that times out is not an error (Terraform would taint the
//!   resource and delete the zone the user is entering at the registrar):
//!   it ends with a warning and `verification.status = pending`, so the next
//!   plan shows a change and the next apply waits again; an update that
//!   times out fails (updates are never tainted). Destroy refuses to delete
//!   the zone while the registrar still delegates to it, unless
//!   `destroy_while_delegated`.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::dns_update::{self, UpdateError};
use super::manual;
use super::{DnsUpdateParent, ManualParent, ParentKind};
use crate::change::wait_insync;
use crate::delegation::{
    destroy_refused, failure_text, not_yet, summary_of, Applied, ApplyFailure, Bound, Engine,
    Imported, LinkSpec, LinkState, Notice, Preflight, ReadOutcome, VerificationSummary,
    VerifyStatus,
};
use crate::dns::{AddressResolver, DnsClient};
use crate::error::{Error, Result};
use crate::nsset::NsSet;
use crate::plan::{self, Action, ChildZoneMode, Desired, Observed, ObservedZone, PlanError};
use crate::record::NsRecord;
use crate::verify::{self, VerificationReport, VerifyOptions, VerifyRequest};
use crate::zone::{self, HostedZone};

/// How long to wait for the parent zone's SOA serial to move after an update.
pub const SERIAL_WAIT: Duration = Duration::from_secs(30);

/// The parent as seen now: its zone (with a pseudo ID), the NS record for
/// the name, and for dns_update the SOA serial it was read at.
struct ParentView {
    zone: HostedZone,
    record: Option<NsRecord>,
    serial: Option<u32>,
}

enum Kind<'a> {
    Update(&'a DnsUpdateParent),
    Manual(&'a ManualParent),
}

fn kind(spec: &LinkSpec) -> Kind<'_> {
    match &spec.parent.kind {
        ParentKind::DnsUpdate(p) => Kind::Update(p),
        ParentKind::Manual(p) => Kind::Manual(p),
        ParentKind::Route53 => unreachable!("the engine dispatches Route 53 parents elsewhere"),
    }
}

fn pseudo_id(spec: &LinkSpec) -> String {
    spec.parent.kind.pseudo_zone_id().unwrap_or_default()
}

fn via(spec: &LinkSpec) -> String {
    match kind(spec) {
        Kind::Update(p) => format!("by DNS UPDATE to {} (zone {})", p.server, p.zone),
        Kind::Manual(p) => format!("at the registrar (zone {})", p.zone),
    }
}

fn ext_error(spec: &LinkSpec, action: &'static str, cause: impl std::fmt::Display) -> Error {
    Error::ExternalParent {
        action,
        name: spec.name.clone(),
        via: via(spec),
        cause: cause.to_string(),
    }
}

/// Where the record lives, for the errors shared with Route 53 parents.
fn zone_label(p: &DnsUpdateParent) -> String {
    format!("{} on {}", p.zone, p.server)
}

fn synthetic_zone(spec: &LinkSpec, name_servers: NsSet) -> HostedZone {
    HostedZone {
        id: pseudo_id(spec),
        name: spec
            .parent
            .kind
            .zone()
            .cloned()
            .unwrap_or_else(|| spec.name.clone()),
        caller_reference: String::new(),
        comment: None,
        private: false,
        name_servers,
    }
}

impl Engine {
    fn dns_setup(&self, spec: &LinkSpec) -> Result<(DnsClient, AddressResolver)> {
        let resolver = self.resolver_for(&spec.verify).map_err(|e| Error::Dns {
            name: spec.name.clone(),
            message: e.to_string(),
        })?;
        Ok((DnsClient::default(), resolver))
    }

    async fn parent_view(
        &self,
        spec: &LinkSpec,
        dns: &DnsClient,
        resolver: &AddressResolver,
    ) -> Result<ParentView> {
        match kind(spec) {
            Kind::Update(p) => {
                let view = dns_update::read_ns(p, &spec.name, dns)
                    .await
                    .map_err(|e| ext_error(spec, "reading NS record", e))?;
                let apex = dns
                    .query(p.server, &p.zone, hickory_proto::rr::RecordType::NS, false)
                    .await
                    .map_err(|e| ext_error(spec, "reading NS record", e))?;
                Ok(ParentView {
                    zone: synthetic_zone(spec, apex.answer_ns(&p.zone)),
                    record: view.record,
                    serial: Some(view.serial),
                })
            }
            Kind::Manual(p) => {
                let v = manual::observe(p, &spec.name, dns, resolver)
                    .await
                    .map_err(|e| ext_error(spec, "reading the delegation of", e))?;
                Ok(ParentView {
                    zone: synthetic_zone(spec, v.parent_name_servers),
                    record: v.delegated_to.map(|values| NsRecord {
                        ttl: spec.ttl,
                        values,
                    }),
                    serial: None,
                })
            }
        }
    }

    /// [`Engine::preflight`] for a parent outside Route 53.
    pub(crate) async fn preflight_external(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
    ) -> Result<Preflight> {
        let p = match kind(spec) {
            Kind::Manual(p) => {
                let mut notices = Vec::new();
                if prior.is_none() {
                    notices.push(Notice {
                        summary: "Delegation to be entered at the registrar",
                        attribute: Some("parent.manual.zone"),
                        detail: format!(
                            "apply creates the child zone of {}, then shows the name servers to enter at the registrar for zone {} (a warning and the registrar_instructions attribute), and waits up to verify.timeout until DNS shows them",
                            spec.name, p.zone
                        ),
                    });
                }
                return Ok(Preflight::new(
                    Some(synthetic_zone(spec, NsSet::new())),
                    notices,
                ));
            }
            Kind::Update(p) => p,
        };
        let (dns, resolver) = self.dns_setup(spec)?;
        let view = self.parent_view(spec, &dns, &resolver).await?;
        // The key and the server's policy, with an update that changes nothing.
        dns_update::probe(p)
            .await
            .map_err(|e| ext_error(spec, "checking the update key for", e))?;
        let mut notices = Vec::new();
        if let (None, Some(cur)) = (prior, &view.record) {
            let own = match self.clients().route53(&spec.child.account).await {
                Ok(child) => match &spec.child.zone_id {
                    Some(id) => zone::get_zone(&child, id).await?.map(|z| z.name_servers),
                    None => {
                        let prefix = zone::caller_reference_prefix(&spec.name, &pseudo_id(spec));
                        zone::find_own_zone(&child, &spec.name, &prefix)
                            .await?
                            .map(|z| z.name_servers)
                    }
                },
                Err(e @ Error::AssumeRole { .. }) => {
                    notices.push(not_yet(&e, "child.assume_role.role_arn"));
                    None
                }
                Err(e) => return Err(e),
            };
            if own.as_ref() != Some(&cur.values) {
                if !spec.parent.allow_overwrite {
                    return Err(Error::ForeignRecord {
                        name: spec.name.clone(),
                        zone_id: zone_label(p),
                        existing: cur.values.clone(),
                        wanted: own.unwrap_or_default(),
                    });
                }
                notices.push(Notice {
                    summary: "NS record of someone else will be replaced",
                    attribute: Some("parent.allow_overwrite"),
                    detail: format!(
                        "parent.allow_overwrite = true: apply replaces the NS record for {} in zone {}, which this link did not write; it now delegates to {}",
                        spec.name,
                        zone_label(p),
                        cur.values
                    ),
                });
            }
        }
        Ok(Preflight::new(Some(view.zone), notices))
    }

    /// [`Engine::apply_with_progress`] for a parent outside Route 53.
    pub(crate) async fn apply_external(
        &self,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
        timeout: Duration,
        cancel: &CancellationToken,
        progress: &(dyn Fn(&LinkState) + Send + Sync),
    ) -> std::result::Result<Applied, Box<ApplyFailure>> {
        let fail = |error: Error, partial: Option<LinkState>| {
            Box::new(ApplyFailure {
                error,
                partial,
                report: None,
            })
        };
        let start = Instant::now();
        let bound = Bound {
            deadline: start + timeout,
            timeout,
            cancel,
        };
        let remaining = || timeout.saturating_sub(start.elapsed());
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
        let desired = Desired {
            ttl: spec.ttl,
            child: match &spec.child.zone_id {
                Some(id) => ChildZoneMode::Adopt {
                    zone_id: id.clone(),
                },
                None => ChildZoneMode::Create,
            },
            allow_overwrite: spec.parent.allow_overwrite,
        };
        let actions = plan::plan_apply(&desired, &observed).map_err(|e| {
            let wanted = found
                .as_ref()
                .map(|z| z.name_servers.clone())
                .unwrap_or_default();
            fail(plan_error(e, spec, wanted), None)
        })?;
        tracing::info!(name = %spec.name, ?actions, parent = %via(spec), "applying delegation");

        let mut state = prior.cloned().unwrap_or_else(|| LinkState {
            parent_zone_id: pseudo.clone(),
            parent_zone_name: view.zone.name.clone(),
            child_zone_id: String::new(),
            name_servers: NsSet::new(),
            delegated: None,
            written: None,
            verification: None,
            child_comment: None,
            zone_owned: false,
            parent_account: None,
            child_account: None,
            retired: Vec::new(),
        });
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
                    let created = bound
                        .run(
                            "creating the child zone",
                            zone::create_zone(
                                &child,
                                &spec.name,
                                &prefix,
                                spec.child.comment.as_deref(),
                            ),
                        )
                        .await
                        .map_err(|e| fail(e, None))?;
                    state.child_zone_id = created.zone.id.clone();
                    state.name_servers = created.zone.name_servers.clone();
                    state.child_comment = created.zone.comment.clone();
                    state.zone_owned = true;
                    progress(&state);
                    zone_ns = Some(created.zone.name_servers.clone());
                    any_change = true;
                    if let Some(change) = &created.change_id {
                        wait_insync(&child, change, remaining(), self.backoff, cancel)
                            .await
                            .map_err(|e| fail(e, Some(state.clone())))?;
                    }
                }
                Action::AdoptZone { zone_id } => {
                    let z = bound
                        .run("reading the zone to adopt", zone::get_zone(&child, zone_id))
                        .await
                        .map_err(|e| fail(e, None))?
                        .ok_or_else(|| {
                            fail(
                                Error::ZoneNotFound {
                                    what: zone_id.clone(),
                                },
                                None,
                            )
                        })?;
                    state.child_zone_id = z.id.clone();
                    state.name_servers = z.name_servers.clone();
                    state.zone_owned = false;
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
                                let now = dns_update::read_ns(p, &spec.name, &dns)
                                    .await
                                    .ok()
                                    .and_then(|v| v.record)
                                    .map(|r| r.values)
                                    .unwrap_or_default();
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
        if state.zone_owned
            && spec.child.zone_id.is_none()
            && !state.child_zone_id.is_empty()
            && state.child_comment != spec.child.comment
        {
            bound
                .run(
                    "updating the child zone's comment",
                    zone::update_comment(
                        &child,
                        &state.child_zone_id,
                        spec.child.comment.as_deref(),
                    ),
                )
                .await
                .map_err(|e| fail(e, Some(state.clone())))?;
            state.child_comment = spec.child.comment.clone();
        }
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
            state.verification = Some(VerificationSummary {
                status: VerifyStatus::Skipped,
                checked_at: SystemTime::now(),
                servers_checked: 0,
                summary: "verification is switched off (verify.enabled = false)".into(),
                servers: Vec::new(),
            });
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
                state.verification = Some(VerificationSummary {
                    status: VerifyStatus::Cancelled,
                    checked_at: SystemTime::now(),
                    servers_checked: 0,
                    summary: format!("verification of {} was interrupted", spec.name),
                    servers: last_report
                        .as_ref()
                        .map(|r| r.servers())
                        .unwrap_or_default(),
                });
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
                        message: e.to_string(),
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

    async fn verify_external(
        &self,
        spec: &LinkSpec,
        pz: &HostedZone,
        child_ns: &NsSet,
        resolver: &AddressResolver,
        deadline: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<VerificationReport, verify::VerifyError> {
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: pz.name.clone(),
            parent_name_servers: pz.name_servers.clone(),
            child_name_servers: child_ns.clone(),
        };
        let recursive = spec.verify.recursive.then(|| resolver.resolvers().to_vec());
        let opts = VerifyOptions {
            query: DnsClient::default(),
            deadline,
            poll_interval: Duration::from_millis(500),
            recursive,
            require_recursive: spec.verify.recursive,
        };
        verify::verify(&req, resolver, &opts, cancel).await
    }

    /// [`Engine::verify_state`] for a parent outside Route 53.
    pub(crate) async fn verify_state_external(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        cancel: &CancellationToken,
    ) -> VerificationSummary {
        let failed = |why: String| VerificationSummary {
            status: VerifyStatus::Failed,
            checked_at: SystemTime::now(),
            servers_checked: 0,
            summary: why,
            servers: Vec::new(),
        };
        let (dns, resolver) = match self.dns_setup(spec) {
            Ok(x) => x,
            Err(e) => return failed(e.to_string()),
        };
        let view = match self.parent_view(spec, &dns, &resolver).await {
            Ok(v) => v,
            Err(e) => return failed(e.to_string()),
        };
        match self
            .verify_external(
                spec,
                &view.zone,
                &state.name_servers,
                &resolver,
                spec.verify.timeout,
                cancel,
            )
            .await
        {
            Ok(r) => summary_of(&r, None),
            Err(e) => failed(e.to_string()),
        }
    }

    /// [`Engine::read`] for a parent outside Route 53.
    pub(crate) async fn read_external(
        &self,
        spec: &LinkSpec,
        prior: &LinkState,
    ) -> Result<ReadOutcome> {
        let child = self.clients().route53(&spec.child.account).await?;
        let (dns, resolver) = self.dns_setup(spec)?;
        let mut warnings = Vec::new();
        let mut s = prior.clone();
        let view = match self.parent_view(spec, &dns, &resolver).await {
            Ok(v) => v,
            Err(e) => {
                // DNS not reachable from here: keep what is known.
                warnings.push(format!("{e}; the last known state is kept"));
                return Ok(ReadOutcome {
                    state: Some(s),
                    warnings,
                    verification_warning: None,
                });
            }
        };
        s.parent_zone_name = view.zone.name.clone();
        s.delegated = view.record.clone();
        let current = if prior.child_zone_id.is_empty() {
            None
        } else {
            zone::get_zone(&child, &prior.child_zone_id).await?
        };
        match current {
            Some(z) => {
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
            None => {
                let ours = s.delegated.as_ref().is_some_and(|d| {
                    prior.written.as_ref().map(|w| &w.values) == Some(&d.values)
                        || d.values == prior.name_servers
                });
                if spec.child.zone_id.is_none() && prior.zone_owned && ours {
                    warnings.push(format!(
                        "the child hosted zone {} for {} no longer exists, and the parent ({}) still refers to its servers; apply creates a new zone and delegates to it",
                        prior.child_zone_id,
                        spec.name,
                        via(spec)
                    ));
                    s.child_zone_id = String::new();
                    s.name_servers = NsSet::new();
                    s.child_comment = None;
                    s.verification = Some(VerificationSummary {
                        status: VerifyStatus::Failed,
                        checked_at: SystemTime::now(),
                        servers_checked: 0,
                        summary: format!(
                            "the child hosted zone of {} no longer exists; the parent's delegation is dangling",
                            spec.name
                        ),
                        servers: Vec::new(),
                    });
                    return Ok(ReadOutcome {
                        state: Some(s),
                        warnings,
                        verification_warning: None,
                    });
                }
                warnings.push(format!(
                    "the child hosted zone {} for {} no longer exists; the delegation is removed from state",
                    prior.child_zone_id, spec.name
                ));
                return Ok(ReadOutcome {
                    state: None,
                    warnings,
                    verification_warning: None,
                });
            }
        }
        match (kind(spec), &s.delegated) {
            (Kind::Update(p), Some(d)) => {
                let ours = prior.written.as_ref().map(|w| &w.values) == Some(&d.values)
                    || d.values == s.name_servers;
                if !ours {
                    warnings.push(format!(
                        "the NS record for {} in zone {} was changed outside this delegation to {}; apply refuses to overwrite it unless parent.allow_overwrite = true",
                        spec.name,
                        zone_label(p),
                        d.values
                    ));
                }
            }
            (Kind::Update(p), None) => warnings.push(format!(
                "zone {} has no NS record for {}: the name does not resolve; apply writes it again",
                zone_label(p),
                spec.name
            )),
            (Kind::Manual(p), d) => {
                if d.as_ref().map(|d| &d.values) != Some(&s.name_servers) {
                    warnings.push(format!(
                        "the registrar's delegation of {} refers to {}, not to the child zone's servers {}; apply shows what to enter at the registrar for zone {} and waits for it again",
                        spec.name,
                        d.as_ref().map(|d| d.values.to_string())
                            .unwrap_or_else(|| "nothing".into()),
                        s.name_servers,
                        p.zone
                    ));
                }
            }
        }
        let refreshed = self.refresh_verification(spec, &s, &view.zone).await;
        s.verification = refreshed.verification;
        Ok(ReadOutcome {
            state: Some(s),
            warnings,
            verification_warning: refreshed.warning,
        })
    }

    /// [`Engine::import`] for a parent outside Route 53.
    pub(crate) async fn import_external(
        &self,
        spec: &LinkSpec,
        cancel: &CancellationToken,
    ) -> Result<Imported> {
        let work = async {
            let child = self.clients().route53(&spec.child.account).await?;
            let (dns, resolver) = self.dns_setup(spec)?;
            let view = self.parent_view(spec, &dns, &resolver).await?;
            let zone = match &spec.child.zone_id {
                Some(id) => zone::get_zone(&child, id)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound { what: id.clone() })?,
                None => zone::find_public_zone(&child, &spec.name)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound {
                        what: spec.name.to_string(),
                    })?,
            };
            let written = match kind(spec) {
                Kind::Update(_) => view
                    .record
                    .clone()
                    .filter(|d| d.values == zone.name_servers),
                Kind::Manual(_) => None,
            };
            let prefix = zone::caller_reference_prefix(&spec.name, &pseudo_id(spec));
            Ok(Imported {
                state: LinkState {
                    parent_zone_id: pseudo_id(spec),
                    parent_zone_name: view.zone.name.clone(),
                    zone_owned: spec.child.zone_id.is_none()
                        && zone.caller_reference.starts_with(&prefix),
                    child_zone_id: zone.id,
                    name_servers: zone.name_servers,
                    delegated: view.record,
                    written,
                    verification: None,
                    child_comment: zone.comment,
                    parent_account: None,
                    child_account: None,
                    retired: Vec::new(),
                },
            })
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Error::Cancelled { during: format!("importing the delegation of {}", spec.name) }),
            r = work => r,
        }
    }

    /// [`Engine::destroy`] for a parent outside Route 53.
    pub(crate) async fn destroy_external(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let bound = Bound {
            deadline: Instant::now() + timeout,
            timeout,
            cancel,
        };
        let child = bound
            .run(
                "reaching the child account",
                self.clients().route53(&spec.child.account),
            )
            .await?;
        let (dns, resolver) = self.dns_setup(spec)?;
        let child_zone = if state.child_zone_id.is_empty() {
            None
        } else {
            bound
                .run(
                    "reading the child zone",
                    zone::get_zone(&child, &state.child_zone_id),
                )
                .await?
        };
        let owned = spec.child.zone_id.is_none() && state.zone_owned;
        let mut actions = Vec::new();
        match kind(spec) {
            Kind::Update(p) => {
                let view = bound
                    .run("reading the parent NS record", async {
                        dns_update::read_ns(p, &spec.name, &dns)
                            .await
                            .map_err(|e| ext_error(spec, "reading NS record", e))
                    })
                    .await?;
                let observed = Observed {
                    child_zone: child_zone.as_ref().map(|z| ObservedZone {
                        id: z.id.clone(),
                        name_servers: z.name_servers.clone(),
                    }),
                    parent_record: view.record,
                    last_written: state.written.clone(),
                };
                actions = plan::plan_destroy(&observed, owned, spec.child.force_destroy).map_err(
                    |e| match e {
                        PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
                            action: "deleting NS record",
                            name: spec.name.clone(),
                            zone_id: zone_label(p),
                            expected,
                            found,
                        },
                        other => ext_error(spec, "deleting NS record", other),
                    },
                )?;
            }
            Kind::Manual(p) => {
                if let (true, Some(z)) = (owned, &child_zone) {
                    if !p.destroy_while_delegated {
                        let seen = manual::observe(p, &spec.name, &dns, &resolver).await;
                        let refuse = match &seen {
                            Ok(v) => v
                                .delegated_to
                                .as_ref()
                                .filter(|d| !d.is_disjoint(&z.name_servers))
                                .map(|d| format!(
                                    "the registrar still delegates {} to {d}, the servers of hosted zone {}; remove the NS records for {} at the registrar (zone {}) first, then destroy again",
                                    spec.name, z.id, spec.name, p.zone
                                )),
                            Err(e) => Some(format!(
                                "cannot confirm that the registrar no longer delegates {} to hosted zone {} ({e}); check DNS is reachable, then destroy again",
                                spec.name, z.id
                            )),
                        };
                        if let Some(why) = refuse {
                            return Err(ext_error(
                                spec,
                                "destroying the delegation of",
                                format!("{why}; nothing was changed (set parent.manual.destroy_while_delegated = true to delete the zone anyway and leave a dangling delegation)"),
                            ));
                        }
                    }
                    actions.push(Action::DeleteZone {
                        zone_id: z.id.clone(),
                        force: spec.child.force_destroy,
                    });
                }
            }
        }
        // Everything that can refuse, before the first change.
        for action in &actions {
            if let (Action::DeleteZone { force: false, .. }, Some(z)) = (action, &child_zone) {
                let records = bound
                    .run(
                        "listing the child zone's records",
                        zone::own_records(&child, z),
                    )
                    .await?;
                if !records.is_empty() {
                    return Err(destroy_refused(
                        spec,
                        z,
                        &records,
                        "nothing was changed: the parent's NS record and the zone are kept, and the subdomain still resolves",
                    ));
                }
            }
        }
        tracing::info!(name = %spec.name, ?actions, parent = %via(spec), "destroying delegation");
        for action in actions {
            match action {
                Action::RemoveNs { record } => {
                    let Kind::Update(p) = kind(spec) else {
                        continue;
                    };
                    let step = async {
                        let before = dns_update::read_serial(p, &dns)
                            .await
                            .map_err(|e| ext_error(spec, "deleting NS record", e))?;
                        match dns_update::delete_exact(p, &spec.name, &record).await {
                            Ok(()) => {}
                            Err(UpdateError::Prerequisite { .. }) => {
                                let now = dns_update::read_ns(p, &spec.name, &dns)
                                    .await
                                    .ok()
                                    .and_then(|v| v.record)
                                    .map(|r| r.values)
                                    .unwrap_or_default();
                                return Err(Error::RecordChanged {
                                    action: "deleting NS record",
                                    name: spec.name.clone(),
                                    zone_id: zone_label(p),
                                    expected: record.values.clone(),
                                    found: now,
                                });
                            }
                            Err(e) => return Err(ext_error(spec, "deleting NS record", e)),
                        }
                        dns_update::wait_serial_past(p, before, &dns, SERIAL_WAIT)
                            .await
                            .map_err(|e| ext_error(spec, "deleting NS record", e))?;
                        Ok(())
                    };
                    bound.run("removing the parent NS record", step).await?;
                }
                Action::DeleteZone { force, .. } => {
                    if let Some(z) = &child_zone {
                        bound
                            .run("deleting the child zone", async {
                                zone::delete_zone(&child, z, force).await.map(|_| ())
                            })
                            .await
                            .map_err(|e| Error::Partial {
                                context: format!("destroying the delegation of {}", spec.name),
                                source: Box::new(e),
                                consequence: format!(
                                    "the zone {} still exists and stays in state; destroy again",
                                    z.id
                                ),
                            })?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
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
