//! Someone else's NS record write, through the Route 53 API as the console
//! makes it: shared by the core's tests and the provider's Terraform tests
//! (`provider/tests/terraform_support` includes this file by `#[path]`).

/// Someone else's write of the NS record `name` in `zone_id`, as the console
/// (or another tool) would make it through the API: CREATE when `current` is
/// `None`, else one batch that DELETEs exactly `current` and CREATEs
/// `wanted`. Returns the change ID.
pub async fn put_ns(
    r53: &aws_sdk_route53::Client,
    zone_id: &str,
    name: &route53delegation::DomainName,
    wanted: &route53delegation::record::NsRecord,
    current: Option<&route53delegation::record::NsRecord>,
) -> Result<String, String> {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let change = |action: ChangeAction, r: &route53delegation::record::NsRecord| {
        let records = r
            .values
            .to_fqdns()
            .iter()
            .map(|v| ResourceRecord::builder().value(v).build().unwrap())
            .collect();
        let set = ResourceRecordSet::builder()
            .name(name.as_str())
            .r#type(RrType::Ns)
            .ttl(r.ttl)
            .set_resource_records(Some(records))
            .build()
            .unwrap();
        Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .unwrap()
    };
    let mut batch = ChangeBatch::builder();
    if let Some(cur) = current {
        batch = batch.changes(change(ChangeAction::Delete, cur));
    }
    batch = batch.changes(change(ChangeAction::Create, wanted));
    let out = r53
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(batch.build().unwrap())
        .send()
        .await
        .map_err(|e| format!("{}", aws_sdk_route53::error::DisplayErrorContext(e)))?;
    Ok(out
        .change_info()
        .map(|c| c.id().to_string())
        .unwrap_or_default())
}
