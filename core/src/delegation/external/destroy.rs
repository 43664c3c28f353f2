//! Destroy for the parents outside Route 53 (see [`super`]):
//! everything that can refuse is checked before the first change; the NS
//! record is deleted only if it is exactly what the link wrote; a zone a
//! registrar still delegates to is not deleted.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{ext_error, kind, via, zone_label, Kind, SERIAL_WAIT};
use crate::delegation::{
    child_zone_in_state, delete_checked_zone, deletes_zone, refuse_undeletable_zone, Bound,
    ConfiguredParent, Engine, LinkSpec, LinkState,
};
use crate::error::{Error, Result};
use crate::parent::dns_update::{self, UpdateError};
use crate::parent::registrar as manual;
use crate::plan::{self, Action, Observed, ObservedZone, PlanError};

impl Engine {
    /// [`Engine::destroy`] for a parent outside Route 53.
    pub(crate) async fn destroy_external(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        let bound = Bound::new(timeout, cancel);
        let child = bound
            .run(
                "reaching the child account",
                self.clients().route53(&spec.child.account),
            )
            .await?;
        let (dns, resolver) = self.dns_setup(spec)?;
        let child_zone = child_zone_in_state(&bound, &child, state).await?;
        let owned = spec.child.zone_id.is_none() && state.zone_owned;
        let mut actions = Vec::new();
        // The dns_update parent zone's own servers (its apex NS set).
        let mut apex = crate::nsset::NsSet::new();
        match kind(spec) {
            Kind::Update(p) => {
                let view = bound
                    .run(
                        "reading the parent NS record",
                        self.parent_view(spec, &dns, &resolver),
                    )
                    .await?;
                apex = view.zone.name_servers.clone();
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
        refuse_undeletable_zone(&bound, &child, spec, &actions, child_zone.as_ref()).await?;
        if let (Kind::Update(p), true, Some(z)) = (kind(spec), deletes_zone(&actions), &child_zone)
        {
            let configured = ConfiguredParent {
                zone: &p.zone,
                servers: &apex,
            };
            self.refuse_if_delegated_elsewhere(spec, z, configured)
                .await?;
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
                                let now = dns_update::values_now(p, &spec.name, &dns).await;
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
                                delete_checked_zone(&child, z, force).await.map(|_| ())
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
