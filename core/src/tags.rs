//! A hosted zone's tags: read, and changed to exactly the configured set.
//! Route 53 takes at most 10 tags added and 10 keys removed per
//! `ChangeTagsForResource`, so a larger change is made in several calls.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{Tag, TagResourceType};
use aws_sdk_route53::Client;

use crate::error::{Error, Result};

/// Tags by key.
pub type Tags = BTreeMap<String, String>;

/// At most this many tags added, and keys removed, per call.
const PER_CALL: usize = 10;

/// The tags of hosted zone `zone_id`.
pub async fn read(r53: &Client, zone_id: &str) -> Result<Tags> {
    let out = r53
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id)
        .send()
        .await
        .map_err(|e| {
            Error::aws(
                format!("reading tags of Route 53 hosted zone ({zone_id})"),
                e,
            )
        })?;
    Ok(out
        .resource_tag_set()
        .map(|set| {
            set.tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default())
}

/// What turns `current` into `want`: tags to add or overwrite, keys to
/// remove.
pub fn diff(current: &Tags, want: &Tags) -> (Tags, Vec<String>) {
    let add = want
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = current
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (add, remove)
}

/// Changes the tags of hosted zone `zone_id` from `current` to exactly
/// `want`; nothing is called when they are equal.
pub async fn set(r53: &Client, zone_id: &str, current: &Tags, want: &Tags) -> Result<()> {
    let (add, remove) = diff(current, want);
    let add: Vec<(String, String)> = add.into_iter().collect();
    let calls = add
        .len()
        .div_ceil(PER_CALL)
        .max(remove.len().div_ceil(PER_CALL));
    for i in 0..calls {
        let tags: Vec<Tag> = add
            .iter()
            .skip(i * PER_CALL)
            .take(PER_CALL)
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        let keys: Vec<String> = remove
            .iter()
            .skip(i * PER_CALL)
            .take(PER_CALL)
            .cloned()
            .collect();
        r53.change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(zone_id)
            .set_add_tags((!tags.is_empty()).then_some(tags))
            .set_remove_tag_keys((!keys.is_empty()).then_some(keys))
            .send()
            .await
            .map_err(|e| Error::aws(format!("tagging Route 53 hosted zone ({zone_id})"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(kv: &[(&str, &str)]) -> Tags {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn diff_adds_what_differs_and_removes_what_is_not_wanted() {
        let current = tags(&[("team", "api"), ("env", "prod"), ("old", "x")]);
        let want = tags(&[("team", "api"), ("env", "staging"), ("owner", "ops")]);
        let (add, remove) = diff(&current, &want);
        assert_eq!(add, tags(&[("env", "staging"), ("owner", "ops")]));
        assert_eq!(remove, vec!["old".to_string()]);
        assert_eq!(diff(&want, &want), (Tags::new(), Vec::new()));
    }
}
