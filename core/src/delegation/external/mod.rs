//! The engine's flows for parents outside Route 53: plan-time checks, read,
//! import and verification here, apply in `apply.rs` and destroy in
//! `destroy.rs`, for a parent taking RFC 2136 updates
//! ([`crate::parent::dns_update`]) and for a registrar ([`crate::parent::registrar`]).
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

mod apply;
mod destroy;

use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::delegation::{
    not_yet, read_tags, summary_of, unless_cancelled, Engine, Imported, LinkSpec, LinkState,
    Notice, Preflight, ReadOutcome, VerificationSummary, VerifyStatus,
};
use crate::dns::{AddressResolver, DnsClient};
use crate::error::{Error, Result};
use crate::nsset::NsSet;
use crate::parent::registrar as manual;
use crate::parent::{dns_update, DnsUpdateParent, ManualParent, ParentKind};
use crate::record::NsRecord;
use crate::verify::{self, VerificationReport, VerifyOptions, VerifyRequest};
use crate::zone::{self, HostedZone};

/// How long to wait for the parent zone's SOA serial to move after an update.
pub const SERIAL_WAIT: Duration = Duration::from_secs(30);

/// The parent as seen now: its zone (with a pseudo ID), the NS record for
/// the name, and for dns_update the SOA serial it was read at.
pub(super) struct ParentView {
    pub(super) zone: HostedZone,
    pub(super) record: Option<NsRecord>,
    pub(super) serial: Option<u32>,
}

pub(super) enum Kind<'a> {
    Update(&'a DnsUpdateParent),
    Manual(&'a ManualParent),
}

pub(super) fn kind(spec: &LinkSpec) -> Kind<'_> {
    match &spec.parent.kind {
        ParentKind::DnsUpdate(p) => Kind::Update(p),
        ParentKind::Manual(p) => Kind::Manual(p),
        ParentKind::Route53 => unreachable!("the engine dispatches Route 53 parents elsewhere"),
    }
}

pub(super) fn pseudo_id(spec: &LinkSpec) -> String {
    spec.parent.kind.pseudo_zone_id().unwrap_or_default()
}

pub(super) fn via(spec: &LinkSpec) -> String {
    match kind(spec) {
        Kind::Update(p) => format!("by DNS UPDATE to {} (zone {})", p.server, p.zone),
        Kind::Manual(p) => format!("at the registrar (zone {})", p.zone),
    }
}

pub(super) fn ext_error(
    spec: &LinkSpec,
    action: &'static str,
    cause: impl Into<crate::error::BoxError>,
) -> Error {
    Error::ExternalParent {
        action,
        name: spec.name.clone(),
        via: via(spec),
        cause: cause.into(),
    }
}

/// Where the record lives, for the errors shared with Route 53 parents.
pub(super) fn zone_label(p: &DnsUpdateParent) -> String {
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
    pub(super) fn dns_setup(&self, spec: &LinkSpec) -> Result<(DnsClient, AddressResolver)> {
        let resolver = self.resolver_for(&spec.verify).map_err(|e| Error::Dns {
            name: spec.name.clone(),
            source: Box::new(e),
        })?;
        Ok((DnsClient::default(), resolver))
    }

    pub(super) async fn parent_view(
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

    /// Checks a `dns_update` parent's key with an update that changes
    /// nothing, as [`Engine::preflight`] does for a new link: a plan that
    /// changes the key (or its name or algorithm) of an existing link
    /// checks the new one, instead of storing a key that fails at the next
    /// repair. Other parents have no key: nothing to check.
    pub async fn check_update_key(&self, spec: &LinkSpec) -> Result<()> {
        match kind(spec) {
            Kind::Update(p) => dns_update::probe(p)
                .await
                .map_err(|e| ext_error(spec, "checking the update key for", e)),
            Kind::Manual(_) => Ok(()),
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

    pub(super) async fn verify_external(
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
                s.child_tags = read_tags(&child, spec, &z.id).await?;
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
            None => {
                let ours = s.delegated.as_ref().is_some_and(|d| {
                    crate::plan::written_by_link(
                        &d.values,
                        prior.written.as_ref(),
                        Some(&prior.name_servers),
                    )
                });
                if spec.child.zone_id.is_none() && prior.zone_owned && ours {
                    warnings.push(format!(
                        "the child hosted zone {} for {} no longer exists, and the parent ({}) still refers to its servers; apply creates a new zone and delegates to it",
                        prior.child_zone_id,
                        spec.name,
                        via(spec)
                    ));
                    // What state says must match DNS: the delegation no longer
                    // works (and is dangling).
                    s.zone_gone(format!(
                            "the child hosted zone of {} no longer exists; the parent's delegation is dangling",
                            spec.name
                        ));
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
                let ours = crate::plan::written_by_link(
                    &d.values,
                    prior.written.as_ref(),
                    Some(&s.name_servers),
                );
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
            let zone_owned =
                spec.child.zone_id.is_none() && zone.caller_reference.starts_with(&prefix);
            Ok(Imported {
                state: LinkState::found(
                    pseudo_id(spec),
                    view.zone.name.clone(),
                    zone,
                    view.record,
                    written,
                    zone_owned,
                ),
            })
        };
        unless_cancelled(
            cancel,
            || format!("importing the delegation of {}", spec.name),
            work,
        )
        .await
    }
}
