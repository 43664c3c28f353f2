//! Retiring what a move left behind: the old zone or parent record, only once the new delegation verifies, and only what this link made or wrote.

use super::*;

impl Engine {
    /// Removes what moves left behind: a previous parent record only if it
    /// still holds exactly what this link wrote, a previous zone (which this
    /// link created) with `force_destroy` deciding about its records. Returns
    /// what is still left, warnings, and the first error.
    pub(super) async fn retire(
        &self,
        items: &[Retired],
        spec: &LinkSpec,
        bound: &Bound<'_>,
        wait: Duration,
        cancel: &CancellationToken,
    ) -> (Vec<Retired>, Vec<String>, Option<Error>) {
        let mut warnings = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let step = async {
                let client = self.clients.route53(&item.account).await?;
                match &item.what {
                    RetiredObject::Record {
                        parent_zone_id,
                        record,
                    } => match record::read_ns(&client, parent_zone_id, &spec.name).await {
                        Ok(Some(cur)) if cur.values == record.values => {
                            if let Some(change) =
                                record::delete_exact(&client, parent_zone_id, &spec.name, &cur)
                                    .await?
                            {
                                self.changes
                                    .wait(
                                        &client,
                                        &change,
                                        wait,
                                        self.polling,
                                        std::future::pending(),
                                        cancel,
                                    )
                                    .await?;
                            }
                            Ok(None)
                        }
                        Ok(Some(cur)) => Ok(Some(format!(
                            "the NS record for {} in the previous parent zone {parent_zone_id} holds {}, which this link did not write; it was left in place",
                            spec.name, cur.values
                        ))),
                        Ok(None) => Ok(None),
                        // The previous parent zone itself is gone.
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e),
                    },
                    RetiredObject::Zone { zone_id } => {
                        if let Some(z) = visible_zone(&client, zone_id).await? {
                            zone::delete_zone(&client, &z, spec.child.force_destroy).await?;
                        }
                        Ok(None)
                    }
                }
            };
            match bound.run(&format!("removing {item}"), step).await {
                Ok(Some(w)) => warnings.push(w),
                Ok(None) => {}
                Err(e) => return (items[i..].to_vec(), warnings, Some(e)),
            }
        }
        (Vec::new(), warnings, None)
    }
}

/// A zone the delegation moves away from.
pub(super) struct OldZone {
    pub(super) client: Client,
    pub(super) settings: AccountSettings,
    pub(super) zone: HostedZone,
    pub(super) owned: bool,
}
