//! zonemaster-cli as an independent judge of delegations built in the world.

mod common;

use std::process::Command;

use aws_sdk_route53::types::{ChangeAction, RrType};
use common::*;
use r53world::{World, PARENT_ACCOUNT};

const CHILD: &str = "222222222222";

#[derive(Debug)]
struct Msg {
    level: String,
    tag: String,
    testcase: String,
}

fn zonemaster(w: &World, name: &str) -> Vec<Msg> {
    require_tool("zonemaster-cli");
    let out = Command::new("zonemaster-cli")
        .args(["--no-ipv6", "--hints"])
        .arg(w.root_hints_path())
        .args([
            "--raw",
            "--show-testcase",
            "--level",
            "NOTICE",
            "--json",
            name,
        ])
        .output()
        .expect("run zonemaster-cli");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "zonemaster-cli output is not JSON ({e}): {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let results = v
        .get("results")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_else(|| v.as_array().cloned().unwrap_or_default());
    assert!(
        !results.is_empty(),
        "zonemaster produced no results: {text}"
    );
    results
        .iter()
        .map(|m| Msg {
            level: m["level"].as_str().unwrap_or("").to_string(),
            tag: m["tag"].as_str().unwrap_or("").to_string(),
            testcase: m["testcase"].as_str().unwrap_or("").to_string(),
        })
        .collect()
}

fn tags(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .map(|m| format!("{}:{}:{}", m.level, m.testcase, m.tag))
        .collect()
}

/// Loopback addresses are private and have no reverse DNS: expected.
const LOOPBACK_NOTICES: [&str; 2] = [
    "NAMESERVER_IP_PRIVATE_NETWORK",
    "NAMESERVER_IP_WITHOUT_REVERSE",
];

/// example.com (parent, registered) and api.example.com (child) with the
/// parent delegating to `pick(child_ns)`.
async fn build(w: &World, pick: impl Fn(&[String]) -> Vec<String>) -> Vec<String> {
    let p = r53(w, PARENT_ACCOUNT);
    let c = r53(w, CHILD);
    let (pid, _) = create_zone(&p, "example.com", "zm-parent").await;
    let (cid, child_ns) = create_zone(&c, "api.example.com", "zm-child").await;
    w.register_domain("example.com", &pid).await.unwrap();
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&cid)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("www.api.example.com", RrType::A, 300, &["192.0.2.1"]),
        )]))
        .send()
        .await
        .unwrap();
    wait_insync(&c, out.change_info().unwrap().id()).await;
    let deleg = pick(&child_ns);
    let vals: Vec<&str> = deleg.iter().map(String::as_str).collect();
    let out = p
        .change_resource_record_sets()
        .hosted_zone_id(&pid)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("api.example.com", RrType::Ns, 300, &vals),
        )]))
        .send()
        .await
        .unwrap();
    wait_insync(&p, out.change_info().unwrap().id()).await;
    child_ns
}

#[tokio::test]
async fn good_delegation_has_no_warnings_or_errors() {
    let w = world().await;
    build(&w, |ns| ns.to_vec()).await;
    let msgs = zonemaster(&w, "api.example.com");
    let bad: Vec<&Msg> = msgs
        .iter()
        .filter(|m| matches!(m.level.as_str(), "WARNING" | "ERROR" | "CRITICAL"))
        .filter(|m| !LOOPBACK_NOTICES.contains(&m.tag.as_str()))
        .collect();
    assert!(
        bad.is_empty(),
        "unexpected problems: {bad:?}\nall: {:?}",
        tags(&msgs)
    );
}

#[tokio::test]
async fn lame_delegation_is_reported() {
    let w = world().await;
    // One of the four parent NS records points at a pool server that does
    // not host the child zone (like a zone re-created after delegation).
    build(&w, |ns| {
        let mut v = ns[..3].to_vec();
        let lame = if ns[3] == "ns-1553.awsdns-01.co.uk" {
            "ns-1570.awsdns-02.co.uk"
        } else {
            "ns-1553.awsdns-01.co.uk"
        };
        v.push(lame.to_string());
        v
    })
    .await;
    let t = tags(&zonemaster(&w, "api.example.com"));
    assert!(
        t.iter()
            .any(|x| x.ends_with(":IS_NOT_AUTHORITATIVE") || x.ends_with(":NS_FAILED")),
        "no lameness reported: {t:?}"
    );
}

#[tokio::test]
async fn mismatched_ns_sets_are_reported() {
    let w = world().await;
    // Parent lists only two of the child's four servers.
    build(&w, |ns| ns[..2].to_vec()).await;
    let t = tags(&zonemaster(&w, "api.example.com"));
    assert!(
        t.iter().any(|x| x.ends_with(":EXTRA_NAME_CHILD")),
        "no EXTRA_NAME_CHILD: {t:?}"
    );
}
