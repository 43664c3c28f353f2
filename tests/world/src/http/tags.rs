//! Route 53's tags of a hosted zone: `ListTagsForResource` and
//! `ChangeTagsForResource`, with Route 53's limits (at most 10 tags added
//! and 10 keys removed per call, 50 tags per zone, keys of 1 to 128
//! characters, values of at most 256).

use std::collections::BTreeMap;

use super::xml::{self, child, child_text, Xml};
use crate::model::{ApiError, Principal};
use crate::Shared;

const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const MAX_PER_CALL: usize = 10;
const MAX_PER_ZONE: usize = 50;

/// The tags of a hosted zone (the zone must exist, as in Route 53).
pub fn list(shared: &Shared, p: &Principal, id: &str) -> Result<String, ApiError> {
    let st = shared.lock();
    let z = st.zone(&p.account, id)?;
    Ok(Xml::doc("ListTagsForResourceResponse", NS, |x| {
        x.el("ResourceTagSet", |x| {
            x.text("ResourceType", "hostedzone")
                .text("ResourceId", &z.id)
                .el("Tags", |x| {
                    for (k, v) in &z.tags {
                        x.el("Tag", |x| {
                            x.text("Key", k).text("Value", v);
                        });
                    }
                });
        });
    }))
}

/// Adds (or overwrites) and removes tags of a hosted zone, all or nothing.
pub fn change(shared: &Shared, p: &Principal, id: &str, body: &[u8]) -> Result<String, ApiError> {
    let doc = xml::parse(body)?;
    let root = doc.root_element();
    let mut add: BTreeMap<String, String> = BTreeMap::new();
    if let Some(tags) = child(root, "AddTags") {
        for tag in tags.children().filter(|n| n.has_tag_name("Tag")) {
            let key = child_text(tag, "Key").unwrap_or_default();
            let value = child_text(tag, "Value").unwrap_or_default();
            if key.is_empty() || key.chars().count() > 128 {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("Tag key '{key}' must be 1 to 128 characters long"),
                ));
            }
            if value.chars().count() > 256 {
                return Err(ApiError::bad(
                    "InvalidInput",
                    format!("Value of tag '{key}' must be at most 256 characters long"),
                ));
            }
            add.insert(key.to_string(), value.to_string());
        }
    }
    let remove: Vec<String> = child(root, "RemoveTagKeys")
        .map(|keys| {
            keys.children()
                .filter(|n| n.has_tag_name("Key"))
                .filter_map(|n| n.text())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if add.len() > MAX_PER_CALL || remove.len() > MAX_PER_CALL {
        return Err(ApiError::bad(
            "InvalidInput",
            format!("At most {MAX_PER_CALL} tags can be added and {MAX_PER_CALL} removed in one request"),
        ));
    }
    if add.is_empty() && remove.is_empty() {
        return Err(ApiError::bad(
            "InvalidInput",
            "AddTags or RemoveTagKeys must be given",
        ));
    }
    let mut st = shared.lock();
    let z = st.zone_mut(&p.account, id)?;
    let mut tags = z.tags.clone();
    for k in &remove {
        tags.remove(k);
    }
    tags.extend(add);
    if tags.len() > MAX_PER_ZONE {
        return Err(ApiError::bad(
            "InvalidInput",
            format!("A hosted zone can have at most {MAX_PER_ZONE} tags"),
        ));
    }
    z.tags = tags;
    Ok(Xml::doc("ChangeTagsForResourceResponse", NS, |_| {}))
}
