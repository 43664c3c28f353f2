//! Read and import: state from AWS (and DNS), drift, and adoption of existing delegations.

use super::*;

impl Engine {
    /// Reads back what apply did. A zone created by this apply is not read
    /// again: CreateHostedZone answered with it (its name servers and comment).
    pub(super) async fn read_back(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        state: &LinkState,
        created: bool,
    ) -> Result<LinkState> {
        let mut s = state.clone();
        if !s.child_zone_id.is_empty() && !created {
            if let Some(z) = zone::get_zone(&ctx.child, &s.child_zone_id).await? {
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
        }
        s.delegated = self
            .parent_ns(&ctx.parent, spec, &ctx.parent_zone.id)
            .await?;
        Ok(s)
    }

    /// Reads a delegation for drift. The child zone gone (and no zone of the
    /// name to take its place) drops the delegation from state, with a warning
    /// about the parent record left dangling.
    pub async fn read(&self, spec: &LinkSpec, prior: &LinkState) -> Result<ReadOutcome> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.read_external(spec, prior).await;
        }
        let parent = self.clients.route53(&spec.parent.account).await?;
        let child = self.clients.route53(&spec.child.account).await?;
        let mut warnings = Vec::new();
        let mut s = prior.clone();
        let Some(parent_zone) = self
            .route53_parent
            .zone(
                &parent,
                &self.parent_account(spec),
                &ZoneRef::Id(prior.parent_zone_id.clone()),
            )
            .await?
        else {
            warnings.push(format!(
                "the parent hosted zone {} ({}) no longer exists; the delegation of {} is gone",
                prior.parent_zone_name, prior.parent_zone_id, spec.name
            ));
            if spec.child.zone_id.is_none() && !prior.child_zone_id.is_empty() {
                warnings.push(format!(
                    "the child hosted zone {} created for {} may still exist and cost money; delete it or import the delegation again",
                    prior.child_zone_id, spec.name
                ));
            }
            return Ok(ReadOutcome {
                state: None,
                warnings,
                verification_warning: None,
            });
        };
        s.parent_zone_name = parent_zone.name.clone();
        s.delegated = self.parent_ns(&parent, spec, &parent_zone.id).await?;
        let current = if prior.child_zone_id.is_empty() {
            None
        } else {
            zone::get_zone(&child, &prior.child_zone_id).await?
        };
        match current {
            Some(z) => {
                if z.name_servers != prior.name_servers && !prior.name_servers.is_empty() {
                    warnings.push(format!(
                        "the name servers of child hosted zone {} changed from {} to {}",
                        z.id, prior.name_servers, z.name_servers
                    ));
                }
                s.child_tags = read_tags(&child, spec, &z.id).await?;
                s.name_servers = z.name_servers;
                s.child_comment = z.comment;
            }
            None => {
                let replacement = if spec.child.zone_id.is_none() {
                    zone::find_public_zone(&child, &spec.name).await?
                } else {
                    None
                };
                match replacement {
                    Some(z) => {
                        // Made by hand (or by another tool): adopted, never
                        // deleted by destroy. One this provider made for this
                        // delegation (its CallerReference says so) is owned.
                        let prefix = zone::caller_reference_prefix(&spec.name, &parent_zone.id);
                        s.zone_owned = z.caller_reference.starts_with(&prefix);
                        let how = if s.zone_owned {
                            "apply re-points the parent to it"
                        } else {
                            "apply re-points the parent to it and treats it as adopted: this link did not create it, so destroy will not delete it and its comment is left alone"
                        };
                        warnings.push(format!(
                            "the child hosted zone {} for {} was deleted; hosted zone {} with the same name now exists (re-created?) and has other name servers ({}); the parent still refers to {}; {how}",
                            if prior.child_zone_id.is_empty() { "created by this link" } else { &prior.child_zone_id },
                            spec.name,
                            z.id,
                            z.name_servers,
                            s.delegated.as_ref().map(|d| d.values.to_string()).unwrap_or_else(|| "nothing".into())
                        ));
                        s.child_tags = read_tags(&child, spec, &z.id).await?;
                        s.child_zone_id = z.id;
                        s.name_servers = z.name_servers;
                        s.child_comment = z.comment;
                    }
                    None => {
                        // A zone this link created is gone, and the parent
                        // record is the one this link wrote: keep the state
                        // so plan shows the repair (a new zone, the record
                        // re-pointed) instead of refusing the record as
                        // someone else's.
                        let ours = s.delegated.as_ref().is_some_and(|d| {
                            plan::written_by_link(&d.values, prior.written.as_ref(), None)
                        });
                        if spec.child.zone_id.is_none() && ours {
                            let d = s
                                .delegated
                                .as_ref()
                                .map(|d| d.values.clone())
                                .unwrap_or_default();
                            warnings.push(format!(
                                "the child hosted zone {} for {} no longer exists, and the parent's NS record still points at its servers {d} ({}); apply creates a new zone and re-points the parent to it",
                                if prior.child_zone_id.is_empty() { "created by this link" } else { &prior.child_zone_id },
                                spec.name,
                                Finding::DanglingDelegation {
                                    name: spec.name.clone(),
                                    parent_ns: d.clone(),
                                }
                                .message()
                            ));
                            // What state says must match DNS: the delegation no longer
                            // works (and is dangling).
                            s.zone_gone(format!(
                                    "the child hosted zone of {} no longer exists; the parent's NS record is dangling",
                                    spec.name
                                ));
                            s.zone_owned = true;
                            return Ok(ReadOutcome {
                                state: Some(s),
                                warnings,
                                verification_warning: None,
                            });
                        }
                        let mut w = format!(
                            "the child hosted zone {} for {} no longer exists; the delegation is removed from state",
                            prior.child_zone_id, spec.name
                        );
                        if let Some(d) = &s.delegated {
                            let f = Finding::DanglingDelegation {
                                name: spec.name.clone(),
                                parent_ns: d.values.clone(),
                            };
                            w.push_str("; ");
                            w.push_str(&f.message());
                        }
                        warnings.push(w);
                        return Ok(ReadOutcome {
                            state: None,
                            warnings,
                            verification_warning: None,
                        });
                    }
                }
            }
        }
        if let Some(d) = &s.delegated {
            let ours =
                plan::written_by_link(&d.values, prior.written.as_ref(), Some(&s.name_servers));
            if !ours {
                warnings.push(format!(
                    "the NS record for {} in parent zone {} was changed outside this delegation to {}; apply refuses to overwrite it unless parent.allow_overwrite = true",
                    spec.name, parent_zone.id, d.values
                ));
            }
        } else {
            warnings.push(format!(
                "the parent zone {} has no NS record for {}: the name does not resolve; apply writes it again",
                parent_zone.name, spec.name
            ));
        }
        let refreshed = self.refresh_verification(spec, &s, &parent_zone).await;
        s.verification = refreshed.verification;
        Ok(ReadOutcome {
            state: Some(s),
            warnings,
            verification_warning: refreshed.warning,
        })
    }

    /// Imports an existing delegation: the parent zone, the child zone (by
    /// `spec.child.zone_id`, else the one public zone of the name in the child
    /// account) and the parent's NS record.
    ///
    /// The zone is owned (deleted on destroy) only when this provider created
    /// it for this delegation (its CallerReference says so) and no
    /// `child.zone_id` is given; any other zone is adopted and never deleted.
    /// The `Imported` says which, for the front end to tell the user.
    pub async fn import(&self, spec: &LinkSpec, cancel: &CancellationToken) -> Result<Imported> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.import_external(spec, cancel).await;
        }
        let work = async {
            let ctx = self.ctx(spec).await.map_err(|e| import_hint(e, spec))?;
            let zone = match &spec.child.zone_id {
                Some(id) => zone::get_zone(&ctx.child, id)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound { what: id.clone() })?,
                None => zone::find_public_zone(&ctx.child, &spec.name)
                    .await?
                    .ok_or_else(|| Error::ZoneNotFound {
                        what: spec.name.to_string(),
                    })
                    .map_err(|e| import_hint(e, spec))?,
            };
            let delegated = record::read_ns(&ctx.parent, &ctx.parent_zone.id, &spec.name).await?;
            let written = delegated.clone().filter(|d| d.values == zone.name_servers);
            let prefix = zone::caller_reference_prefix(&spec.name, &ctx.parent_zone.id);
            let zone_owned =
                spec.child.zone_id.is_none() && zone.caller_reference.starts_with(&prefix);
            Ok(Imported {
                state: LinkState::found(
                    ctx.parent_zone.id.clone(),
                    ctx.parent_zone.name.clone(),
                    zone,
                    delegated,
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

/// Reads a zone by ID in an account that may not hold it: not found and
/// access denied both mean "not here".
pub(super) async fn visible_zone(r53: &Client, id: &str) -> Result<Option<HostedZone>> {
    match zone::get_zone(r53, id).await {
        Ok(z) => Ok(z),
        Err(e) if e.aws_fault() == Some(crate::error::AwsFault::AccessDenied) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Import errors that need the long import ID say so.
pub(super) fn import_hint(e: Error, spec: &LinkSpec) -> Error {
    match e {
        Error::ZoneNotFound { what }
            if spec.parent.account.assume_role.is_none()
                || spec.child.account.assume_role.is_none() =>
        {
            Error::ZoneNotFound {
                what: format!(
                    "{what} (with the provider's own credentials; if the zone is in another account, use the long import ID with parent_role_arn and child_role_arn, e.g. name={};parent_zone_id=...;parent_role_arn=arn:aws:iam::111111111111:role/...;child_role_arn=arn:aws:iam::222222222222:role/...)",
                    spec.name
                ),
            }
        }
        other => other,
    }
}
