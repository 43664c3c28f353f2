//! Plan-time checks (`Engine::preflight`): what an apply would do and what would refuse it, before anything is changed. Not to be confused with `plan` (the pure planning of actions) or the provider's plan rules.

use super::*;

impl Engine {
    /// Plan-time checks: the parent zone exists and the name lies under it,
    /// a new delegation would not overwrite someone else's NS record, and the
    /// parent zone has no records the delegation would hide.
    ///
    /// Things that may be created in the same run (a parent zone made by
    /// another link, a role made by another resource) are not errors here:
    /// a parent zone not found or a role that cannot be assumed yet comes
    /// back as a [`Notice`] and `parent_zone: None`; apply checks again and
    /// fails clearly if they are still missing.
    pub async fn preflight(&self, spec: &LinkSpec, prior: Option<&LinkState>) -> Result<Preflight> {
        if spec.parent.kind != ParentKind::Route53 {
            return self.preflight_external(spec, prior).await;
        }
        let mut notices = Vec::new();
        let parent = match self.clients.route53(&spec.parent.account).await {
            Ok(p) => p,
            Err(e @ Error::AssumeRole { .. }) => {
                notices.push(not_yet(&e, "parent.assume_role.role_arn"));
                return Ok(Preflight::new(None, notices));
            }
            Err(e) => return Err(e),
        };
        let parent_zone = match self.parent_zone(&parent, spec).await {
            Ok(z) => z,
            Err(e @ Error::ZoneNotFound { .. }) => {
                let attribute = match spec.parent.zone {
                    ZoneRef::Id(_) => "parent.zone_id",
                    ZoneRef::Name(_) => "parent.zone_name",
                };
                notices.push(not_yet(&e, attribute));
                return Ok(Preflight::new(None, notices));
            }
            Err(e) => return Err(e),
        };
        if prior.is_none() {
            let current = self.parent_ns(&parent, spec, &parent_zone.id).await?;
            if let Some(cur) = current {
                let child = match self.clients.route53(&spec.child.account).await {
                    Ok(c) => Some(c),
                    Err(e @ Error::AssumeRole { .. }) => {
                        notices.push(not_yet(&e, "child.assume_role.role_arn"));
                        None
                    }
                    Err(e) => return Err(e),
                };
                let adopt_ns = match (&child, &spec.child.zone_id) {
                    (None, _) => None,
                    (Some(child), Some(id)) => {
                        zone::get_zone(child, id).await?.map(|z| z.name_servers)
                    }
                    (Some(child), None) => {
                        // A zone an interrupted or tainted earlier attempt
                        // created: the record pointing at it is ours.
                        self.own_zone(child, spec, &parent_zone.id)
                            .await?
                            .map(|z| z.name_servers)
                    }
                };
                if adopt_ns.as_ref() != Some(&cur.values) {
                    if !spec.parent.allow_overwrite {
                        return Err(Error::ForeignRecord {
                            name: spec.name.clone(),
                            zone_id: parent_zone.id.clone(),
                            existing: cur.values,
                            wanted: adopt_ns.unwrap_or_default(),
                        });
                    }
                    notices.push(overwrite_notice(&spec.name, &parent_zone, &cur));
                }
            }
            let occluded = self
                .route53_parent
                .occluded_records(
                    &parent,
                    &self.parent_account(spec),
                    &parent_zone.id,
                    &spec.name,
                )
                .await?;
            if !occluded.is_empty() {
                notices.push(Notice {
                    summary: "Records hidden by the delegation",
                    attribute: None,
                    detail: occluded_finding(&spec.name, &occluded).message(),
                });
            }
        }
        Ok(Preflight::new(Some(parent_zone), notices))
    }

    /// Plan-time check of a move (another child account, or another zone
    /// named by `child.zone_id`): the refusal apply would return, found the
    /// way apply finds it, when the zone left behind is one this link
    /// created and it holds records of its own (unless
    /// `child.force_destroy`). `Ok(None)`: no move, or one apply carries
    /// out. `Err`: the accounts could not be read; apply checks again.
    /// Only reads: nothing in AWS is changed.
    pub async fn check_move(&self, spec: &LinkSpec, prior: &LinkState) -> Result<Option<Error>> {
        if spec.parent.kind != ParentKind::Route53 || spec.child.force_destroy || !prior.zone_owned
        {
            return Ok(None);
        }
        let child = self.clients.route53(&spec.child.account).await?;
        let Some(old) = self
            .zone_to_leave(&child, spec, Some(prior))
            .await?
            .filter(|o| o.owned)
        else {
            return Ok(None);
        };
        let records = zone::own_records(&old.client, &old.zone).await?;
        Ok((!records.is_empty()).then(|| move_refusal(spec, &old, &records)))
    }

    /// Where the prior child zone is, and whether this apply moves the
    /// delegation away from it (another account, or another zone named by
    /// `child.zone_id`). `None`: no move.
    pub(super) async fn prior_zone_to_leave(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
    ) -> Result<Option<OldZone>> {
        self.zone_to_leave(&ctx.child, spec, prior).await
    }

    /// [`Engine::prior_zone_to_leave`] with the new child account's client
    /// alone, so plan can ask before the parent zone is looked up.
    async fn zone_to_leave(
        &self,
        child: &Client,
        spec: &LinkSpec,
        prior: Option<&LinkState>,
    ) -> Result<Option<OldZone>> {
        let Some(p) = prior.filter(|p| !p.child_zone_id.is_empty()) else {
            return Ok(None);
        };
        if spec.child.zone_id.as_deref() == Some(p.child_zone_id.as_str()) {
            return Ok(None);
        }
        let in_new_account = visible_zone(child, &p.child_zone_id).await?;
        if let Some(z) = in_new_account.filter(|z| z.name == spec.name) {
            if spec.child.zone_id.is_none() {
                // Same zone, same account (or an account that sees it).
                return Ok(None);
            }
            return Ok(Some(OldZone {
                client: child.clone(),
                settings: spec.child.account.clone(),
                zone: z,
                owned: p.zone_owned,
            }));
        }
        let old_settings = p.child_account.as_ref().unwrap_or(&spec.child.account);
        if self.clients.effective(old_settings) == self.clients.effective(&spec.child.account) {
            // Not a move: the zone is gone (apply creates a new one).
            return Ok(None);
        }
        let old_client = self.clients.route53(old_settings).await?;
        Ok(visible_zone(&old_client, &p.child_zone_id)
            .await?
            .filter(|z| z.name == spec.name)
            .map(|zone| OldZone {
                client: old_client,
                settings: old_settings.clone(),
                zone,
                owned: p.zone_owned,
            }))
    }
}

/// The refusal of a move that would strand the records of the zone it
/// leaves: the same words at plan and at apply, since neither changed
/// anything.
pub(super) fn move_refusal(spec: &LinkSpec, old: &OldZone, records: &[zone::RecordSet]) -> Error {
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
    }
}

/// A plan-time lookup of something that may be created by the same apply.
pub(crate) fn not_yet(e: &Error, attribute: &'static str) -> Notice {
    Notice {
        summary: "Not found yet",
        attribute: Some(attribute),
        detail: format!(
            "{e}; if it is created in the same apply (another resource, depends_on) this is expected; apply checks again and fails if it is still missing"
        ),
    }
}

pub(super) fn overwrite_notice(
    name: &DomainName,
    parent_zone: &HostedZone,
    cur: &NsRecord,
) -> Notice {
    Notice {
        summary: "NS record of someone else will be replaced",
        attribute: Some("parent.allow_overwrite"),
        detail: format!(
            "parent.allow_overwrite = true: apply replaces the NS record for {name} in parent zone {} ({}), which this link did not write; it now delegates to {}",
            parent_zone.name, parent_zone.id, cur.values
        ),
    }
}
