//! DNS behaviour seen by real clients (dig, unbound). Run inside a network
//! namespace with only loopback (see README).

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_route53::types::{ChangeAction, RrType};
use common::*;
use r53world::{World, PARENT_ACCOUNT};

const CHILD: &str = "222222222222";

struct Delegation {
    parent_id: String,
    parent_ns: Vec<String>,
    child_id: String,
    child_ns: Vec<String>,
}

/// example.com (parent account, registered at com) and api.example.com
/// (child account), delegated from the parent unless `delegate` is false.
async fn setup(w: &World, delegate: bool) -> Delegation {
    let p = r53(w, PARENT_ACCOUNT);
    let c = r53(w, CHILD);
    let (parent_id, parent_ns) = create_zone(&p, "example.com", "parent").await;
    let (child_id, child_ns) = create_zone(&c, "api.example.com", "child").await;
    w.register_domain("example.com", &parent_id).await.unwrap();
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&child_id)
        .change_batch(batch(vec![
            change(
                ChangeAction::Create,
                rrset("www.api.example.com", RrType::A, 60, &["192.0.2.80"]),
            ),
            change(
                ChangeAction::Create,
                rrset("a.b.api.example.com", RrType::A, 60, &["192.0.2.81"]),
            ),
        ]))
        .send()
        .await
        .unwrap();
    wait_insync(&c, out.change_info().unwrap().id()).await;
    if delegate {
        delegate_child(w, &parent_id, &child_ns).await;
    }
    Delegation {
        parent_id,
        parent_ns,
        child_id,
        child_ns,
    }
}

async fn delegate_child(w: &World, parent_id: &str, child_ns: &[String]) {
    let p = r53(w, PARENT_ACCOUNT);
    let vals: Vec<&str> = child_ns.iter().map(String::as_str).collect();
    let out = p
        .change_resource_record_sets()
        .hosted_zone_id(parent_id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("api.example.com", RrType::Ns, 300, &vals),
        )]))
        .send()
        .await
        .unwrap();
    wait_insync(&p, out.change_info().unwrap().id()).await;
}

fn addr(w: &World, ns: &str) -> SocketAddr {
    w.name_server_addr(ns)
        .unwrap_or_else(|| panic!("{ns} is not a pool server"))
}

#[tokio::test]
async fn referral_authoritative_answers_and_refused() {
    let w = world().await;
    let d = setup(&w, true).await;
    // Referral from the parent's servers: no aa, NS in AUTHORITY.
    for ns in &d.parent_ns {
        let r = dig(addr(&w, ns), "www.api.example.com", "A", false);
        assert_eq!(r.status, "NOERROR", "{}", r.raw);
        assert!(!r.flags.contains(&"aa".to_string()), "{}", r.raw);
        assert!(r.answer.is_empty(), "{}", r.raw);
        let auth_ns: Vec<&String> = r
            .authority
            .iter()
            .filter(|l| l.contains(" IN NS "))
            .collect();
        assert_eq!(auth_ns.len(), 4, "{}", r.raw);
        for n in &d.child_ns {
            assert!(
                r.authority.iter().any(|l| l.ends_with(&format!("{n}."))),
                "{n} missing: {}",
                r.raw
            );
        }
    }
    // Child answers authoritatively.
    let child = addr(&w, &d.child_ns[0]);
    let r = dig(child, "api.example.com", "SOA", false);
    assert_eq!(r.status, "NOERROR");
    assert!(r.flags.contains(&"aa".to_string()), "{}", r.raw);
    assert!(
        r.answer[0].contains("awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"),
        "{}",
        r.raw
    );
    let r = dig(child, "www.api.example.com", "A", false);
    assert!(r.flags.contains(&"aa".to_string()));
    assert_eq!(r.answer, ["www.api.example.com. 60 IN A 192.0.2.80"]);
    // NXDOMAIN and NODATA carry the SOA (TTL = min(900, 86400)).
    let r = dig(child, "nope.api.example.com", "A", false);
    assert_eq!(r.status, "NXDOMAIN");
    assert!(
        r.authority.iter().any(|l| l.contains(" 900 IN SOA ")),
        "{}",
        r.raw
    );
    let r = dig(child, "www.api.example.com", "AAAA", false);
    assert_eq!(r.status, "NOERROR");
    assert!(
        r.answer.is_empty() && r.authority.iter().any(|l| l.contains(" IN SOA ")),
        "{}",
        r.raw
    );
    // Empty non-terminal: NODATA, not NXDOMAIN.
    let r = dig(child, "b.api.example.com", "A", false);
    assert_eq!(r.status, "NOERROR", "{}", r.raw);
    // REFUSED for zones the server does not host.
    let r = dig(child, "example.org", "SOA", false);
    assert_eq!(r.status, "REFUSED");
    let unused = w.name_server_addr("ns-17.awsdns-01.com").filter(|a| {
        !d.child_ns
            .iter()
            .chain(&d.parent_ns)
            .any(|n| addr(&w, n) == *a)
    });
    if let Some(a) = unused {
        assert_eq!(dig(a, "api.example.com", "SOA", false).status, "REFUSED");
    }
    // The TLD delegates example.com to the parent zone's servers.
    let r = dig(w.tld_server(), "example.com", "NS", false);
    assert!(!r.flags.contains(&"aa".to_string()));
    for n in &d.parent_ns {
        assert!(
            r.authority.iter().any(|l| l.ends_with(&format!("{n}."))),
            "{}",
            r.raw
        );
    }
    let _ = d.child_id;
}

#[tokio::test]
async fn changes_are_invisible_over_dns_until_insync() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, ns) = create_zone(&c, "slow.example.org", "slow").await;
    let server = addr(&w, &ns[1]);
    // The new zone itself is not served until its creation is INSYNC.
    assert_eq!(
        dig(server, "slow.example.org", "SOA", false).status,
        "REFUSED"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        dig(server, "slow.example.org", "SOA", false).status,
        "NOERROR"
    );
    w.set_insync_delay(Duration::from_millis(700));
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("new.slow.example.org", RrType::A, 60, &["192.0.2.5"]),
        )]))
        .send()
        .await
        .unwrap();
    let r = dig(server, "new.slow.example.org", "A", false);
    assert_eq!(r.status, "NXDOMAIN", "visible before INSYNC: {}", r.raw);
    assert_eq!(
        c.get_change()
            .id(out.change_info().unwrap().id())
            .send()
            .await
            .unwrap()
            .change_info()
            .unwrap()
            .status()
            .as_str(),
        "PENDING"
    );
    wait_insync(&c, out.change_info().unwrap().id()).await;
    let r = dig(server, "new.slow.example.org", "A", false);
    assert_eq!(
        r.answer,
        ["new.slow.example.org. 60 IN A 192.0.2.5"],
        "{}",
        r.raw
    );
}

#[tokio::test]
async fn resolver_caches_nxdomain_until_flushed() {
    let w = world().await;
    let d = setup(&w, false).await;
    let res = w.resolver();
    let r = dig(res, "www.api.example.com", "A", true);
    assert_eq!(r.status, "NXDOMAIN", "before the delegation: {}", r.raw);
    delegate_child(&w, &d.parent_id, &d.child_ns).await;
    // Authoritative servers already have it...
    assert_eq!(
        dig(addr(&w, &d.parent_ns[0]), "www.api.example.com", "A", false)
            .authority
            .len(),
        4
    );
    // ...but the resolver still serves the cached negative answer.
    let r = dig(res, "www.api.example.com", "A", true);
    assert_eq!(r.status, "NXDOMAIN", "cached NXDOMAIN expected: {}", r.raw);
    w.flush("example.com").await.unwrap();
    let r = dig(res, "www.api.example.com", "A", true);
    assert_eq!(r.status, "NOERROR", "{}", r.raw);
    assert_eq!(r.answer, ["www.api.example.com. 60 IN A 192.0.2.80"]);
}

#[tokio::test]
async fn truncation_over_udp_and_full_answer_over_tcp() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, ns) = create_zone(&c, "big.example.net", "big").await;
    let long = format!("\"{}\"", "x".repeat(200));
    let vals: Vec<&str> = (0..6).map(|_| long.as_str()).collect::<Vec<_>>();
    // Distinct values (Route 53 rejects duplicates in one set).
    let vals: Vec<String> = vals
        .iter()
        .enumerate()
        .map(|(i, v)| v.replacen('x', &i.to_string(), 1))
        .collect();
    let vals: Vec<&str> = vals.iter().map(String::as_str).collect();
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("t.big.example.net", RrType::Txt, 60, &vals),
        )]))
        .send()
        .await
        .unwrap();
    wait_insync(&c, out.change_info().unwrap().id()).await;
    let server = addr(&w, &ns[2]);
    let r = dig_with(
        server,
        &["+norec", "+noedns", "+ignore"],
        "t.big.example.net",
        "TXT",
    );
    assert!(r.flags.contains(&"tc".to_string()), "{}", r.raw);
    let r = dig_with(server, &["+norec", "+tcp"], "t.big.example.net", "TXT");
    assert_eq!(r.answer.len(), 6, "{}", r.raw);
    assert!(r.flags.contains(&"aa".to_string()));
}

#[tokio::test]
async fn example_net_accepts_tsig_signed_updates_only() {
    let w = world().await;
    require_tool("nsupdate");
    let srv = w.example_net_server().ip().to_string();
    let script = format!(
        "server {srv}\nzone example.net\nupdate add tsig.example.net 60 A 192.0.2.44\nsend\n"
    );
    let run = |key: bool| {
        let mut cmd = Command::new("nsupdate");
        if key {
            cmd.arg("-k").arg(w.tsig_key_file());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nsupdate");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let unsigned = run(false);
    assert!(!unsigned.status.success(), "unsigned update accepted");
    assert!(dig(w.example_net_server(), "tsig.example.net", "A", false)
        .answer
        .is_empty());
    let signed = run(true);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    assert_eq!(
        dig(w.example_net_server(), "tsig.example.net", "A", false).answer,
        ["tsig.example.net. 60 IN A 192.0.2.44"]
    );
    // Resolvable from the root through the resolver.
    assert_eq!(
        dig(w.resolver(), "tsig.example.net", "A", true).status,
        "NOERROR"
    );
    // reset restores the pristine zone.
    w.reset();
    assert!(dig(w.example_net_server(), "tsig.example.net", "A", false)
        .answer
        .is_empty());
    assert_eq!(
        dig(w.example_net_server(), "www.example.net", "A", false).status,
        "NOERROR"
    );
}

fn admin(w: &World, path: &str, body: &str) -> (u16, String) {
    let (st, _, out) = http(
        &w.endpoint(),
        "POST",
        path,
        &[("content-type", "application/json")],
        body,
    );
    (st, out)
}

#[tokio::test]
async fn dns_fault_switches_make_a_pool_server_silent_or_refusing_for_one_zone() {
    let w = world().await;
    let d = setup(&w, true).await;
    let server = d.child_ns[0].trim_end_matches('.').to_string();
    let addr = w.name_server_addr(&server).unwrap();
    assert_eq!(dig(addr, "api.example.com", "SOA", false).status, "NOERROR");

    // REFUSED for the child zone only, over the admin API.
    let (st, body) = admin(
        &w,
        "/admin/dns-fault",
        &format!(r#"{{"server":"{server}","zone":"api.example.com","fault":"refuse"}}"#),
    );
    assert_eq!(st, 200, "{body}");
    let r = dig(addr, "api.example.com", "SOA", false);
    assert_eq!(r.status, "REFUSED", "{}", r.raw);
    assert!(!r.flags.contains(&"aa".to_string()));

    // Silent: no reply at all.
    admin(
        &w,
        "/admin/dns-fault",
        &format!(r#"{{"server":"{server}","zone":"api.example.com","fault":"drop"}}"#),
    );
    let r = dig(addr, "api.example.com", "SOA", false);
    assert!(
        r.status.is_empty() && r.raw.contains("timed out"),
        "{}",
        r.raw
    );

    // Off again.
    admin(
        &w,
        "/admin/dns-fault",
        &format!(r#"{{"server":"{server}","zone":"api.example.com","fault":"none"}}"#),
    );
    assert_eq!(dig(addr, "api.example.com", "SOA", false).status, "NOERROR");

    // For a number of queries only: the first is lost, the second answered.
    w.set_dns_fault(&server, None, Some(r53world::DnsFault::Drop), Some(1));
    assert!(dig(addr, "api.example.com", "SOA", false).status.is_empty());
    assert_eq!(dig(addr, "api.example.com", "SOA", false).status, "NOERROR");

    // A name that is not a pool server, or an unknown fault, is a 400.
    let (st, body) = admin(
        &w,
        "/admin/dns-fault",
        r#"{"server":"ns1.example.net","fault":"drop"}"#,
    );
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("not a pool name server"), "{body}");
    let (st, body) = admin(
        &w,
        "/admin/dns-fault",
        &format!(r#"{{"server":"{server}","fault":"explode"}}"#),
    );
    assert_eq!(st, 400);
    assert!(body.contains("expected drop, refuse or none"), "{body}");
}

#[tokio::test]
async fn a_publish_lag_shows_a_change_on_one_server_before_insync() {
    let w = world().await;
    let d = setup(&w, false).await;
    let fast = d.parent_ns[0].trim_end_matches('.').to_string();
    let slow = d.parent_ns[1].trim_end_matches('.').to_string();
    let (st, body) = admin(
        &w,
        "/admin/publish-lag",
        &format!(r#"{{"server":"{fast}","ms":0}}"#),
    );
    assert_eq!(st, 200, "{body}");
    w.set_insync_delay(Duration::from_secs(3));
    let p = r53(&w, PARENT_ACCOUNT);
    let vals: Vec<&str> = d.child_ns.iter().map(String::as_str).collect();
    let out = p
        .change_resource_record_sets()
        .hosted_zone_id(&d.parent_id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("api.example.com", RrType::Ns, 300, &vals),
        )]))
        .send()
        .await
        .unwrap();
    let id = out.change_info().unwrap().id().to_string();
    let status = |id: &str| {
        let p = p.clone();
        let id = id.to_string();
        async move {
            p.get_change()
                .id(id)
                .send()
                .await
                .unwrap()
                .change_info()
                .unwrap()
                .status()
                .as_str()
                .to_string()
        }
    };
    // Before INSYNC: the fast server refers, the slow one does not yet.
    let on_fast = dig(
        w.name_server_addr(&fast).unwrap(),
        "api.example.com",
        "NS",
        false,
    );
    let on_slow = dig(
        w.name_server_addr(&slow).unwrap(),
        "api.example.com",
        "NS",
        false,
    );
    assert_eq!(status(&id).await, "PENDING");
    assert_eq!(on_fast.authority.len(), 4, "{}", on_fast.raw);
    assert_eq!(on_slow.status, "NXDOMAIN", "{}", on_slow.raw);
    // At INSYNC every server has it.
    wait_insync(&p, &id).await;
    let on_slow = dig(
        w.name_server_addr(&slow).unwrap(),
        "api.example.com",
        "NS",
        false,
    );
    assert_eq!(on_slow.authority.len(), 4, "{}", on_slow.raw);
}
