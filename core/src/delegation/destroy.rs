//! Destroy: the checks that can refuse, first; then the parent record, INSYNC, and the zone this link created.

use super::*;

impl Engine {
    /// Destroys a delegation: removes the parent NS record (exactly what this
    /// delegation wrote) and waits for INSYNC, then deletes the child zone if
    /// this delegation created it. What is already gone is success.
    ///
    /// Everything that can refuse is checked before the first write: the
    /// parent record still being this link's, and the zone holding no records
    /// of its own (unless `force_destroy`), so a refused destroy leaves the
    /// delegation working. If a later step still fails, the error says what
    /// was done and what is left.
    pub async fn destroy(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<()> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.destroy_external(spec, state, timeout, cancel).await;
        }
        let bound = Bound::new(timeout, cancel);
        let remaining = || bound.remaining();
        let parent = bound
            .run(
                "reaching the parent account",
                self.clients.route53(&spec.parent.account),
            )
            .await?;
        let child = bound
            .run(
                "reaching the child account",
                self.clients.route53(&spec.child.account),
            )
            .await?;
        let parent_zone = bound
            .run(
                "reading the parent zone",
                self.route53_parent.zone(
                    &parent,
                    &self.parent_account(spec),
                    &ZoneRef::Id(state.parent_zone_id.clone()),
                ),
            )
            .await?;
        let child_zone = child_zone_in_state(&bound, &child, state).await?;
        let parent_record = match &parent_zone {
            Some(pz) => {
                bound
                    .run(
                        "reading the parent NS record",
                        self.parent_ns(&parent, spec, &pz.id),
                    )
                    .await?
            }
            None => None,
        };
        let observed = Observed {
            child_zone: child_zone.as_ref().map(|z| ObservedZone {
                id: z.id.clone(),
                name_servers: z.name_servers.clone(),
            }),
            parent_record,
            last_written: state.written.clone(),
        };
        let created = spec.child.zone_id.is_none() && state.zone_owned;
        let actions = plan::plan_destroy(&observed, created, spec.child.force_destroy).map_err(
            |e| match e {
                PlanError::ChangedElsewhere { expected, found } => Error::RecordChanged {
                    action: "deleting NS record",
                    name: spec.name.clone(),
                    zone_id: state.parent_zone_id.clone(),
                    expected,
                    found,
                },
                other => Error::InvalidSetting {
                    attribute: "name".into(),
                    message: other.to_string(),
                },
            },
        )?;
        // Links destroyed together share one parent batch: say this one's
        // removal is coming while its zone is checked.
        let mut intent = actions
            .iter()
            .any(|a| matches!(a, Action::RemoveNs { .. }))
            .then(|| {
                self.route53_parent
                    .intend(&self.parent_account(spec), &state.parent_zone_id)
            });
        // Preflight: a zone that cannot be deleted is found out before the
        // parent record is touched, so the subdomain keeps resolving.
        refuse_undeletable_zone(&bound, &child, spec, &actions, child_zone.as_ref()).await?;
        if !spec.child.force_destroy {
            for item in &state.retired {
                if let RetiredObject::Zone { zone_id } = &item.what {
                    let step = async {
                        let client = self.clients.route53(&item.account).await?;
                        match visible_zone(&client, zone_id).await? {
                            Some(z) => Ok(Some((zone::own_records(&client, &z).await?, z))),
                            None => Ok(None),
                        }
                    };
                    if let Some((records, z)) =
                        bound.run("listing a previous zone's records", step).await?
                    {
                        if !records.is_empty() {
                            return Err(destroy_refused(spec, &z, &records, "nothing was changed"));
                        }
                    }
                }
            }
        }
        if let (true, Some(z)) = (deletes_zone(&actions), &child_zone) {
            let none = NsSet::new();
            let configured = ConfiguredParent {
                zone: &state.parent_zone_name,
                servers: parent_zone.as_ref().map_or(&none, |pz| &pz.name_servers),
            };
            self.refuse_if_delegated_elsewhere(spec, z, configured)
                .await?;
        }
        tracing::info!(name = %spec.name, ?actions, "destroying delegation");
        let mut removed_record = false;
        for action in actions {
            match action {
                Action::RemoveNs { record } => {
                    let step = async {
                        if let Some(change) = self
                            .route53_parent
                            .delete_exact(
                                &parent,
                                intent.take().unwrap_or_else(|| {
                                    self.route53_parent
                                        .intend(&self.parent_account(spec), &state.parent_zone_id)
                                }),
                                &spec.name,
                                &record,
                            )
                            .await?
                        {
                            // The record must be gone everywhere before the
                            // zone it points at is deleted.
                            let (polling, gone) = match &parent_zone {
                                Some(pz) => self.removal_signal(spec, pz),
                                None => (self.polling, no_signal()),
                            };
                            self.changes
                                .wait(&parent, &change, remaining(), polling, gone, cancel)
                                .await?;
                        }
                        Ok(())
                    };
                    bound
                        .run("removing the parent NS record", step)
                        .await
                        .map_err(|e| {
                            // The DELETE may have gone through before the wait failed.
                            Error::Partial {
                                context: format!(
                                    "destroying the delegation of {}: removing the NS record from parent zone {}",
                                    spec.name, state.parent_zone_id
                                ),
                                source: Box::new(e),
                                consequence: "the child zone was not touched and stays in state; destroy again".into(),
                            }
                        })?;
                    removed_record = true;
                }
                Action::DeleteZone { force, .. } => {
                    if let Some(z) = &child_zone {
                        let step = async {
                            if let Some(change) = delete_checked_zone(&child, z, force).await? {
                                tracing::debug!(zone_id = %z.id, change, "zone deleted");
                            }
                            Ok(())
                        };
                        bound
                            .run("deleting the child zone", step)
                            .await
                            .map_err(|e| Error::Partial {
                                context: format!(
                                    "destroying the delegation of {}: {}deleting hosted zone {}",
                                    spec.name,
                                    if removed_record {
                                        "the parent NS record was removed, then "
                                    } else {
                                        ""
                                    },
                                    z.id
                                ),
                                source: Box::new(e),
                                consequence: format!(
                                    "the zone {} still exists and stays in state{}; destroy again",
                                    z.id,
                                    if removed_record {
                                        " (undelegated: the subdomain does not resolve until it is deleted or apply delegates it again)"
                                    } else {
                                        ""
                                    }
                                ),
                            })?;
                    }
                }
                _ => {}
            }
        }
        let (left, _, err) = self
            .retire(&state.retired, spec, &bound, remaining(), cancel)
            .await;
        if let Some(e) = err {
            return Err(Error::Partial {
                context: format!(
                    "destroying the delegation of {}: the delegation itself is removed",
                    spec.name
                ),
                source: Box::new(e),
                consequence: format!("{}; destroy again", leftovers_text(&left)),
            });
        }
        Ok(())
    }
}

/// Whether destroy's actions delete the child zone.
pub(crate) fn deletes_zone(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::DeleteZone { .. }))
}

/// The child zone state names, as it is now (`None`: none in state, or gone).
pub(crate) async fn child_zone_in_state(
    bound: &Bound<'_>,
    child: &Client,
    state: &LinkState,
) -> Result<Option<HostedZone>> {
    if state.child_zone_id.is_empty() {
        return Ok(None);
    }
    bound
        .run(
            "reading the child zone",
            zone::get_zone(child, &state.child_zone_id),
        )
        .await
}

/// Destroy's check before its first write: a zone it is to delete without
/// `force_destroy` holds no records of its own. Refuses, naming them, so a
/// refused destroy changes nothing and the subdomain keeps resolving.
pub(crate) async fn refuse_undeletable_zone(
    bound: &Bound<'_>,
    child: &Client,
    spec: &LinkSpec,
    actions: &[Action],
    child_zone: Option<&HostedZone>,
) -> Result<()> {
    for action in actions {
        if let (Action::DeleteZone { force: false, .. }, Some(z)) = (action, child_zone) {
            let records = bound
                .run(
                    "listing the child zone's records",
                    zone::own_records(child, z),
                )
                .await?;
            if !records.is_empty() {
                return Err(destroy_refused(
                    spec,
                    z,
                    &records,
                    "nothing was changed: the parent NS record and the zone are kept, and the subdomain still resolves",
                ));
            }
        }
    }
    Ok(())
}

/// Deletes the child zone once [`refuse_undeletable_zone`] passed: without
/// `force`, its records were listed and found empty, so it is not listed
/// again (Route 53 itself refuses a zone that gained records since).
pub(crate) async fn delete_checked_zone(
    child: &Client,
    z: &HostedZone,
    force: bool,
) -> Result<Option<String>> {
    if force {
        zone::delete_zone(child, z, true).await
    } else {
        zone::delete_empty_zone(child, z).await
    }
}

/// What a move left, in words: kept in state and removed later.
pub(super) fn leftovers_text(retired: &[Retired]) -> String {
    if retired.is_empty() {
        return String::new();
    }
    format!(
        "{} {} kept in state: the next apply removes {} once the new delegation verifies, and destroy removes {} too",
        retired
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(" and "),
        if retired.len() == 1 { "is" } else { "are" },
        if retired.len() == 1 { "it" } else { "them" },
        if retired.len() == 1 { "it" } else { "them" },
    )
}

pub(super) fn with_leftovers(error: Error, leftovers: &str) -> Error {
    if leftovers.is_empty() {
        return error;
    }
    let context = match &error {
        Error::VerificationFailed { name, .. } | Error::Dns { name, .. } => {
            format!("moving the delegation of {name}: the new delegation is written")
        }
        _ => "moving the delegation: the new delegation is written".into(),
    };
    Error::Partial {
        context,
        source: Box::new(error),
        consequence: leftovers.to_string(),
    }
}

/// Destroy refused before its first write: a zone to delete holds records
/// of its own.
pub(crate) fn destroy_refused(
    spec: &LinkSpec,
    z: &zone::HostedZone,
    records: &[zone::RecordSet],
    consequence: &str,
) -> Error {
    Error::Partial {
        context: format!("destroying the delegation of {}", spec.name),
        source: Box::new(Error::ZoneNotEmpty {
            zone_id: z.id.clone(),
            name: z.name.clone(),
            records: records
                .iter()
                .map(|r| (r.name.clone(), r.rtype.clone()))
                .collect(),
        }),
        consequence: consequence.into(),
    }
}
