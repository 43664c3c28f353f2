//! `child.tags` with the real Terraform CLI against the world: the child
//! zone carries exactly the configured tags, a tag changed outside
//! Terraform shows as drift and is repaired, and a zone whose link sets no
//! tags keeps its own.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use std::collections::BTreeMap;

use aws_sdk_route53::types::{Tag, TagResourceType};
use terraform_support::*;

fn tags(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn zone_tags(env: &Env, name: &str) -> BTreeMap<String, String> {
    let zones = zones_named(env, CHILD, name);
    assert_eq!(zones.len(), 1, "{zones:?}");
    zones[0].tags.clone()
}

fn tags_block(kv: &[(&str, &str)]) -> String {
    let mut s = String::from("    tags = {\n");
    for (k, v) in kv {
        s.push_str(&format!("      {k} = \"{v}\"\n"));
    }
    s.push_str("    }\n");
    s
}

/// The usual link, with `child_extra` inside the child block.
fn link_with_child(name: &str, child_extra: &str) -> String {
    link("api", name, CHILD, "").replace("  child {\n", &format!("  child {{\n{child_extra}"))
}

/// Someone in the console changes the zone's tags.
async fn console_tags(env: &Env, zone_id: &str, add: &[(&str, &str)], remove: &[&str]) {
    let mut req = console(&env.world, CHILD)
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone_id);
    for (k, v) in add {
        req = req.add_tags(Tag::builder().key(*k).value(*v).build());
    }
    for k in remove {
        req = req.remove_tag_keys(*k);
    }
    req.send().await.expect("change the zone's tags");
}

/// Failure modes: label-based workflows (cost allocation, ownership) lose
/// their labels when moving from `aws_route53_zone`; a tag changed in the
/// console goes unseen; an adopted zone's tags are wiped by a link that
/// does not manage them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_set_drift_is_shown_and_repaired_and_unmanaged_tags_are_left_alone() {
    let env = env().await;
    let name = "api.example.com";
    let tf = Tf::new(
        &env,
        "tags",
        &link_with_child(name, &tags_block(&[("team", "api"), ("env", "prod")])),
    );
    tf.apply();
    assert_eq!(
        zone_tags(&env, name),
        tags(&[("team", "api"), ("env", "prod")])
    );
    let st = tf.resource("route53delegation_link.api");
    assert_eq!(st["child"]["tags"]["team"], "api", "{st:#}");
    tf.assert_no_changes();

    // Someone changes a tag and adds one: plan shows it, apply repairs it.
    let zone_id = st["child_zone_id"].as_str().unwrap().to_string();
    console_tags(&env, &zone_id, &[("env", "staging"), ("rogue", "1")], &[]).await;
    let (code, out) = tf.plan();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("tags"), "{out}");
    assert!(out.contains("1 to change"), "{out}");
    tf.apply();
    assert_eq!(
        zone_tags(&env, name),
        tags(&[("team", "api"), ("env", "prod")])
    );
    tf.assert_no_changes();

    // More than one call's worth of changes (Route 53 takes 10 per call).
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("k{i:02}"), format!("v{i}")))
        .collect();
    let many_ref: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    tf.write(&env, &link_with_child(name, &tags_block(&many_ref)));
    tf.apply();
    assert_eq!(zone_tags(&env, name), tags(&many_ref));
    tf.assert_no_changes();

    // Tags no longer managed: the zone keeps what it has.
    tf.write(&env, &link_with_child(name, ""));
    let (code, out) = tf.plan();
    assert!(code == 0 || code == 2, "{out}");
    tf.apply();
    assert_eq!(zone_tags(&env, name), tags(&many_ref));
    console_tags(&env, &zone_id, &[("owner", "ops")], &[]).await;
    tf.assert_no_changes();
    tf.destroy();
    assert!(zones_named(&env, CHILD, name).is_empty());
}

/// Failure mode: a bad tag refused by Route 53 half-way through an apply,
/// after the zone was created; it is refused at validate instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_route53_would_refuse_is_refused_at_plan_naming_it() {
    let env = env().await;
    let long = "x".repeat(257);
    let tf = Tf::new(
        &env,
        "badtags",
        &link_with_child("bad.example.com", &tags_block(&[("team", &long)])),
    );
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("Invalid tag value"), "{out}");
    assert!(out.contains("at most 256"), "{out}");
    assert!(out.contains("tags"), "names the attribute: {out}");
    assert!(zones_named(&env, CHILD, "bad.example.com").is_empty());
}
