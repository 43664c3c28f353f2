//! `route53delegation check` against the world: a Route 53 parent and a Knot
//! parent (RFC 2136), healthy and broken delegations, a wrong expectation,
//! an unreachable root and bad usage, each with its exit code and the
//! documented JSON shape.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use r53world::{World, WorldConfig, PARENT_ACCOUNT};

const BIN: &str = env!("CARGO_BIN_EXE_route53delegation");
const CHILD: &str = "222222222222";

fn console(world: &World, account: &str) -> aws_sdk_route53::Client {
    let (k, s) = world.credentials(account);
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(world.endpoint())
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            k, s, None, None, "test",
        ))
        .build();
    aws_sdk_route53::Client::from_conf(conf)
}

fn name_servers(world: &World, account: &str, zone_id: &str) -> Vec<String> {
    let mut ns = world
        .zones(account)
        .into_iter()
        .find(|z| z.id == zone_id)
        .expect("zone")
        .name_servers
        .into_iter()
        .map(|s| s.trim_end_matches('.').to_string())
        .collect::<Vec<_>>();
    ns.sort();
    ns
}

/// A world with example.com (parent account, registered at com) and a child
/// zone for api.example.com delegated to from it.
async fn world_with_delegation() -> (World, Vec<String>) {
    let world = World::start(WorldConfig::for_test()).await.expect("world");
    let parent = world
        .create_zone(PARENT_ACCOUNT, "example.com")
        .await
        .unwrap();
    world.register_domain("example.com", &parent).await.unwrap();
    let child = world.create_zone(CHILD, "api.example.com").await.unwrap();
    let ns = name_servers(&world, CHILD, &child);
    let records: Vec<ResourceRecord> = ns
        .iter()
        .map(|s| ResourceRecord::builder().value(s).build().unwrap())
        .collect();
    let out = console(&world, PARENT_ACCOUNT)
        .change_resource_record_sets()
        .hosted_zone_id(&parent)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name("api.example.com")
                                .r#type(RrType::Ns)
                                .ttl(300)
                                .set_resource_records(Some(records))
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Served over DNS once INSYNC.
    let id = out.change_info().unwrap().id().to_string();
    let c = console(&world, PARENT_ACCOUNT);
    loop {
        let st = c.get_change().id(&id).send().await.unwrap();
        if st.change_info().unwrap().status().as_str() == "INSYNC" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (world, ns)
}

fn check(world: &World, args: &[&str]) -> (i32, Output) {
    let root = world.root_server().to_string();
    let resolver = world.resolver().to_string();
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--root", &root, "--resolver", &resolver, "--timeout", "1"])
        .output()
        .expect("run route53delegation");
    (out.status.code().unwrap_or(-1), out)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    let mut l: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    l.sort();
    l
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_parent_healthy_wrong_expectation_and_missing() {
    let (world, ns) = world_with_delegation().await;

    // Healthy: exit 0, the documented shape.
    let (code, out) = check(&world, &["api.example.com", "--json"]);
    let v = json(&out);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["version"], 1);
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["parent_zone"], "example.com");
    assert_eq!(strings(&v["delegated_name_servers"]), ns);
    assert_eq!(strings(&v["chain"]), vec![".", "com", "example.com"]);
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v:#}");
    let servers = v["servers"].as_array().unwrap();
    assert!(servers.iter().all(|s| s["ok"] == true));
    assert!(servers.iter().any(|s| s["role"] == "parent"));
    assert_eq!(
        servers.iter().filter(|s| s["check"] == "child_soa").count(),
        4,
        "one SOA question per child server: {v:#}"
    );
    // Where each child server is listed: the delegation and the apex both.
    for s in servers {
        let want = if s["role"] == "child" { "both" } else { "null" };
        assert_eq!(s["listed"].to_string().trim_matches('"'), want, "{s:#}");
    }
    assert!(v["error"].is_null());

    // Expecting other servers (a re-created zone, say): exit 1, and the
    // finding says the parent points elsewhere.
    let (code, out) = check(
        &world,
        &[
            "api.example.com",
            "--expect",
            "ns-1.other.com,ns-2.other.net",
            "--json",
        ],
    );
    let v = json(&out);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["status"], "broken");
    assert!(
        codes(&v).contains(&"parent_points_elsewhere".to_string()),
        "{v:#}"
    );

    // Not delegated at all: exit 1, no_parent_record; plain text output.
    let (code, out) = check(&world, &["www.example.com"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("www.example.com: broken"), "{text}");
    assert!(text.contains("(no_parent_record)"), "{text}");
}

/// Guards: the child zone deleted with the parent's NS record left (every
/// server now refuses the name) reported as four lame servers and never as
/// the dangling delegation it is; a silent server's entries with an empty
/// detail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dangling_delegation_is_called_dangling_and_a_silent_server_says_so() {
    let (world, ns) = world_with_delegation().await;

    // One server silent: its entries say what happened.
    world.set_dns_fault(&ns[0], None, Some(r53world::DnsFault::Drop), None);
    let (code, out) = check(&world, &["api.example.com", "--json"]);
    let v = json(&out);
    assert_eq!(code, 1, "{v:#}");
    let silent: Vec<&serde_json::Value> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["server"].as_str() == Some(ns[0].as_str()))
        .collect();
    assert!(!silent.is_empty(), "{v:#}");
    for s in silent {
        assert_eq!(s["ok"], false, "{s:#}");
        let detail = s["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with("no answer: "), "{s:#}");
    }
    assert!(
        !codes(&v).contains(&"dangling_delegation".to_string()),
        "{v:#}"
    );
    world.set_dns_fault(&ns[0], None, None, None);

    // The child zone deleted, the parent's record left.
    let child = world
        .zones(CHILD)
        .into_iter()
        .find(|z| z.name == "api.example.com.")
        .expect("the child zone")
        .id;
    console(&world, CHILD)
        .delete_hosted_zone()
        .id(&child)
        .send()
        .await
        .expect("delete the child zone");
    let (code, out) = check(&world, &["api.example.com", "--json"]);
    let v = json(&out);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["status"], "broken", "{v:#}");
    let c = codes(&v);
    assert_eq!(
        c.first().map(String::as_str),
        Some("dangling_delegation"),
        "{v:#}"
    );
    let message = v["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("subdomain takeover"), "{message}");
    assert!(message.contains("delete the NS record"), "{message}");
}

/// A Route 53 child delegated from a parent on Knot (written with an RFC
/// 2136 update signed with TSIG, as a registrar or in-house DNS would):
/// the check is the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knot_parent_with_a_route53_child() {
    let world = World::start(WorldConfig::for_test()).await.expect("world");
    let child = world.create_zone(CHILD, "team.example.net").await.unwrap();
    let ns = name_servers(&world, CHILD, &child);
    let mut script = format!(
        "server {}\nzone example.net\n",
        world.example_net_server().ip()
    );
    for s in &ns {
        script.push_str(&format!("update add team.example.net. 300 NS {s}\n"));
    }
    script.push_str("send\n");
    let mut nsupdate = Command::new("nsupdate")
        .arg("-k")
        .arg(world.tsig_key_file())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate (bind9-dnsutils, installed by scripts/setup.sh) is needed");
    nsupdate
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let done = nsupdate.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    let (code, out) = check(&world, &["team.example.net", "--json"]);
    let v = json(&out);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["parent_zone"], "example.net");
    assert_eq!(strings(&v["delegated_name_servers"]), ns);
    assert_eq!(strings(&v["chain"]), vec![".", "example.net", "net"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_root_and_bad_usage_have_their_own_exit_codes() {
    let world = World::start(WorldConfig::for_test()).await.expect("world");
    // Nothing listens on this loopback port.
    let out = Command::new(BIN)
        .args(["check", "api.example.com", "--json", "--timeout", "300ms"])
        .args([
            "--root",
            "127.0.0.1:1",
            "--resolver",
            &world.resolver().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json(&out);
    assert_eq!(v["status"], "unknown");
    assert!(
        v["error"].as_str().unwrap().contains("no name server of ."),
        "{v:#}"
    );

    for args in [
        &["check", "*.example.com"][..],
        &["check", "api.example.com", "--root", "not-an-address"][..],
        &["check", "api.example.com", "--timeout", "-1"][..],
        // Guards: --resolver foo exited 2 (could not check), not 64.
        &["check", "api.example.com", "--resolver", "foo"][..],
        &["check", "api.example.com", "--timeout", "0"][..],
        &["check", "api.example.com", "--timeout", "2 minutes"][..],
        &["check", "api.example.com", "--timeout", "61s"][..],
        &["check"][..],
        &["nonsense"][..],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}: no message");
    }
    // The message says what is expected, and never that 0 would do.
    let out = Command::new(BIN)
        .args(["check", "api.example.com", "--timeout", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expected a duration from 1ms to 60s"), "{err}");
    // A hint is given once.
    let out = Command::new(BIN).args(["check", "com"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert_eq!(err.matches("such as").count(), 1, "{err}");
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Exit codes: 0 healthy, 1 broken, 2 could not check"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_no_root_server_is_named_with_what_it_answered() {
    // The parent zone's own server given as the root: it answers for names
    // under example.com itself. The names are valid: the command says which
    // server answered what, never "expected a name such as ...".
    let (world, _) = world_with_delegation().await;
    let parent = world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.name.trim_end_matches('.') == "example.com")
        .expect("example.com");
    let server = world
        .name_server_addr(&parent.name_servers[0])
        .expect("a pool server")
        .to_string();
    for (name, what) in [
        ("api.example.com", "referred api.example.com itself to ["),
        (
            "nothing.example.com",
            "answered NXDOMAIN for nothing.example.com NS authoritatively",
        ),
    ] {
        let out = Command::new(BIN)
            .args(["check", name, "--json", "--root", &server])
            .args([
                "--resolver",
                &world.resolver().to_string(),
                "--timeout",
                "1",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let v = json(&out);
        assert_eq!(v["status"], "unknown");
        let error = v["error"].as_str().unwrap();
        assert!(
            error.starts_with(&format!("{server}, asked as a root server, {what}")),
            "{error}"
        );
        assert!(!error.contains("expected a name such as"), "{error}");
        // Without --json the summary says the same.
        let out = Command::new(BIN)
            .args(["check", name, "--root", &server])
            .args([
                "--resolver",
                &world.resolver().to_string(),
                "--timeout",
                "1",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(what), "{text}");
    }
}
