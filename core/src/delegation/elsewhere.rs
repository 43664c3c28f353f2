//! Destroy's check that no other parent still delegates to the zone it is about to delete: a walk from the root to the zone that actually delegates the name, as every resolver would make it.

use super::*;

/// How long the walk may take before destroy goes on without it.
const WALK_BUDGET: Duration = Duration::from_secs(15);

/// The parent a link writes to, as its servers: the zone the walk must end
/// in for the delegation it finds to be this link's own.
pub(crate) struct ConfiguredParent<'a> {
    /// The parent zone's name.
    pub(crate) zone: &'a DomainName,
    /// Its name servers (empty: not known, for example a parent zone that
    /// no longer exists).
    pub(crate) servers: &'a NsSet,
}

impl Engine {
    /// Walks from the root servers to the zone that delegates `spec.name`
    /// and asks each of its servers. When that zone is not the link's own
    /// parent (another zone, or the same name served by other servers: the
    /// parent moved to another DNS service) and any of its servers still
    /// refers the name to `zone`'s servers, deleting `zone` would leave a
    /// dangling delegation there: the refusal says where it lives and how
    /// to remove it. A walk that cannot finish (DNS not reachable from
    /// here) finds nothing, and destroy goes on as it did before the check
    /// existed: the link's own record is removed either way.
    pub(crate) async fn refuse_if_delegated_elsewhere(
        &self,
        spec: &LinkSpec,
        zone: &HostedZone,
        configured: ConfiguredParent<'_>,
    ) -> Result<()> {
        let found = match tokio::time::timeout(WALK_BUDGET, self.walk_to_parent(spec)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::warn!(name = %spec.name, "cannot tell whether another zone still delegates to hosted zone {}: {e}", zone.id);
                return Ok(());
            }
            Err(_) => {
                tracing::warn!(name = %spec.name, "cannot tell whether another zone still delegates to hosted zone {}: the walk from the root took over {}s", zone.id, WALK_BUDGET.as_secs());
                return Ok(());
            }
        };
        let own = found.parent_zone == *configured.zone
            && !found.parent_name_servers.is_disjoint(configured.servers);
        if own {
            return Ok(());
        }
        let Some(delegated_to) = self.still_delegating(spec, &found, zone).await else {
            return Ok(());
        };
        Err(Error::Partial {
            context: format!("destroying the delegation of {}", spec.name),
            source: Box::new(Error::DelegatedElsewhere(Box::new(
                crate::error::DelegatedElsewhere {
                name: spec.name.clone(),
                zone_id: zone.id.clone(),
                parent_zone: found.parent_zone.clone(),
                parent_servers: found.parent_name_servers.clone(),
                delegated_to,
                configured_zone: configured.zone.clone(),
                configured_servers: configured.servers.clone(),
            },
            ))),
            consequence: format!(
                "nothing was changed: the zone and this link's own record are kept; remove the NS record for {} from zone {} where it is served now (or point the link's parent block at that zone, so that destroy removes it), then destroy again",
                spec.name, found.parent_zone
            ),
        })
    }

    async fn walk_to_parent(&self, spec: &LinkSpec) -> Result<crate::walk::ParentFound> {
        let resolver = self.resolver_for(&spec.verify).map_err(|e| Error::Dns {
            name: spec.name.clone(),
            source: Box::new(e),
        })?;
        let roots = if self.roots.is_empty() {
            crate::inspect::default_roots()
        } else {
            self.roots.clone()
        };
        crate::walk::find_parent(&spec.name, &roots, &walk_client(), &resolver)
            .await
            .map_err(|e| Error::Dns {
                name: spec.name.clone(),
                source: Box::new(e),
            })
    }

    /// What the servers of the zone the walk found refer the name to, if
    /// any of them still refers it to `zone`'s servers.
    async fn still_delegating(
        &self,
        spec: &LinkSpec,
        found: &crate::walk::ParentFound,
        zone: &HostedZone,
    ) -> Option<NsSet> {
        if let Some(d) = found
            .delegated_to
            .as_ref()
            .filter(|d| !d.is_disjoint(&zone.name_servers))
        {
            return Some(d.clone());
        }
        let resolver = self.resolver_for(&spec.verify).ok()?;
        crate::walk::delegations_from_each(
            &spec.name,
            &found.parent_name_servers,
            &walk_client(),
            &resolver,
        )
        .await
        .into_iter()
        .map(|(_, ns)| ns)
        .find(|ns| !ns.is_disjoint(&zone.name_servers))
    }
}

/// Quick questions: the walk is a check on the way out, not verification.
fn walk_client() -> DnsClient {
    DnsClient::new(Duration::from_secs(2), 1)
}
