//! Every failure mode the core diagnoses, produced in the local world
//! (r53world: Route 53 + STS emulator, its pool name servers, knot root/TLD
//! servers and unbound) rather than in hand-made DNS servers, and the
//! diagnosis checked: the finding's code, and that its message names the
//! right servers and names and says what to do.
//!
//! The world binds port 53 on 127.N addresses; run in a network namespace
//! with only loopback, as CI does:
//!
//! ```text
//! cargo test -p route53delegation --test diagnose_world --no-run && \
//!   scripts/netns.sh cargo test -p route53delegation --offline --test diagnose_world
//! ```

mod support;

use std::time::Duration;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use r53world::{CHILD_ACCOUNTS, PARENT_ACCOUNT};
use route53delegation::check::Listing;
use route53delegation::diagnose::{Finding, Severity};
use route53delegation::dns::{AddressResolver, DnsClient, Rcode};
use route53delegation::verify::probe_dangling;
use route53delegation::verify::{
    check_once, verify, CheckKind, VerificationReport, VerifyOptions, VerifyRequest,
};
use route53delegation::{CancellationToken, DomainName, LinkState, NsSet};
use support::*;

fn n(s: &str) -> DomainName {
    DomainName::parse(s).unwrap()
}

fn codes(r: &VerificationReport) -> Vec<&'static str> {
    r.findings.iter().map(Finding::code).collect()
}

fn client() -> DnsClient {
    DnsClient::new(Duration::from_millis(800), 1)
}

fn resolver(f: &Fixture) -> AddressResolver {
    AddressResolver::with_client(vec![f.world.resolver()], client())
}

fn options(recursive: Option<Vec<std::net::SocketAddr>>) -> VerifyOptions {
    VerifyOptions {
        query: client(),
        deadline: Duration::from_secs(5),
        poll_interval: Duration::from_millis(100),
        require_recursive: recursive.is_some(),
        recursive,
    }
}

fn parent_ns(f: &Fixture) -> NsSet {
    let z = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == f.parent_zone_id)
        .expect("parent zone");
    NsSet::parse(z.name_servers).unwrap()
}

fn zone_ns(f: &Fixture, account: &str, id: &str) -> NsSet {
    let z = f
        .world
        .zones(account)
        .into_iter()
        .find(|z| z.id == id)
        .expect("zone");
    NsSet::parse(z.name_servers).unwrap()
}

fn request(f: &Fixture, name: &str, child: NsSet) -> VerifyRequest {
    VerifyRequest {
        name: n(name),
        parent_zone: n("example.com"),
        parent_name_servers: parent_ns(f),
        child_name_servers: child,
    }
}

async fn check(f: &Fixture, req: &VerifyRequest, recursive: bool) -> VerificationReport {
    let rec = recursive.then(|| vec![f.world.resolver()]);
    check_once(req, &resolver(f), &options(rec)).await
}

/// Submits one change (without waiting) and returns its id.
async fn submit(
    f: &Fixture,
    account: &str,
    zone_id: &str,
    action: ChangeAction,
    name: &str,
    rtype: RrType,
    values: &[String],
) -> Result<String, String> {
    let mut rrs = ResourceRecordSet::builder()
        .name(format!("{name}."))
        .r#type(rtype)
        .ttl(300);
    for v in values {
        rrs = rrs.resource_records(ResourceRecord::builder().value(v).build().unwrap());
    }
    let change = Change::builder()
        .action(action)
        .resource_record_set(rrs.build().unwrap())
        .build()
        .unwrap();
    console(&f.world, account)
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .map(|out| out.change_info().unwrap().id().to_string())
        .map_err(|e| format!("{:?}", aws_sdk_route53::error::DisplayErrorContext(e)))
}

async fn insync(f: &Fixture, account: &str, change: &str) {
    route53delegation::change::wait_insync(
        &console(&f.world, account),
        change,
        T,
        Default::default(),
        &CancellationToken::new(),
    )
    .await
    .expect("change INSYNC");
}

/// UPSERTs a record and waits until DNS serves it.
async fn upsert(
    f: &Fixture,
    account: &str,
    zone_id: &str,
    name: &str,
    rtype: RrType,
    v: &[String],
) {
    let change = submit(f, account, zone_id, ChangeAction::Upsert, name, rtype, v)
        .await
        .expect("UPSERT");
    insync(f, account, &change).await;
}

/// Applies `name` with the engine (verified) and returns the state.
async fn delegate(f: &Fixture, name: &str) -> LinkState {
    f.engine
        .apply(&spec(name), None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {}", e.error))
        .state
}

async fn delete_zone(f: &Fixture, account: &str, id: &str) {
    console(&f.world, account)
        .delete_hosted_zone()
        .id(id)
        .send()
        .await
        .expect("delete zone");
}

/// A pool name server of the world that serves no hosted zone at all.
fn idle_pool_server(f: &Fixture) -> String {
    let busy: Vec<String> = std::iter::once(PARENT_ACCOUNT)
        .chain(CHILD_ACCOUNTS.iter().copied())
        .flat_map(|a| f.world.zones(a))
        .flat_map(|z| z.name_servers)
        .map(|s| s.trim_end_matches('.').to_string())
        .collect();
    (1..=16u32)
        .map(|i| format!("ns-{}.awsdns-{i:02}.com", (i * 17) % 512))
        .find(|s| f.world.name_server_addr(s).is_some() && !busy.contains(s))
        .expect("an idle pool server")
}

#[tokio::test]
async fn no_parent_record() {
    // The child zone exists, but nobody wrote the NS record into the parent.
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "nop.example.com").await;
    let req = request(&f, "nop.example.com", zone_ns(&f, CHILD, &id));
    let report = check(&f, &req, false).await;
    assert!(!report.passed);
    assert!(!report.authoritative_ok);
    assert_eq!(
        codes(&report),
        vec!["no_parent_record"],
        "{}",
        report.render()
    );
    let referrals: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ParentReferral)
        .collect();
    assert_eq!(referrals.len(), 4, "every parent server asked");
    assert!(referrals
        .iter()
        .all(|c| c.rcode == Some(Rcode::NXDOMAIN) && !c.ok));
    let f0 = &report.findings[0];
    assert_eq!(
        *f0,
        Finding::NoParentRecord {
            name: n("nop.example.com"),
            parent_zone: n("example.com")
        }
    );
    assert_eq!(f0.severity(), Severity::Error);
    assert!(
        f0.message()
            .starts_with("the parent zone example.com has no NS record for nop.example.com")
            && f0.message().ends_with("apply again to write the NS record"),
        "{f0}"
    );
}

#[tokio::test]
async fn parent_points_elsewhere() {
    // The child zone was deleted and re-created: the parent still refers to
    // the old zone's servers, which now refuse the name.
    let f = fixture().await;
    let st = delegate(&f, "re.example.com").await;
    delete_zone(&f, CHILD, &st.child_zone_id).await;
    let new_id = create_zone_as(&f.world, CHILD, "re.example.com").await;
    let new_ns = zone_ns(&f, CHILD, &new_id);
    assert!(
        new_ns.is_disjoint(&st.name_servers),
        "Route 53 picks new servers"
    );

    let report = check(&f, &request(&f, "re.example.com", new_ns.clone()), false).await;
    assert!(!report.passed);
    assert_eq!(
        codes(&report),
        vec!["parent_points_elsewhere", "dangling_delegation"],
        "{}",
        report.render()
    );
    assert_eq!(
        report.findings[0],
        Finding::ParentPointsElsewhere {
            name: n("re.example.com"),
            parent_ns: st.name_servers.clone(),
            child_ns: new_ns.clone(),
            disjoint: true,
        }
    );
    assert!(
        !report.passed,
        "a parent domain delegated elsewhere is never verified: {}",
        report.render()
    );
    let m = report.findings[0].message();
    assert!(m.contains(&st.name_servers.to_string()), "{m}");
    assert!(
        m.contains(&format!("apply again to point it at {new_ns}")),
        "{m}"
    );
    assert!(m.contains("deleted and re-created"), "{m}");
    assert_eq!(
        report.findings[1],
        Finding::DanglingDelegation {
            name: n("re.example.com"),
            parent_ns: st.name_servers.clone(),
        }
    );
    assert!(report.findings[1].message().contains("subdomain takeover"));
}

#[tokio::test]
async fn parent_zone_not_delegated() {
    // The NS record is right in the parent hosted zone, but example.com
    // itself is registered at com with another hosted zone's servers.
    let f = fixture().await;
    let st = delegate(&f, "nd.example.com").await;
    let other = CHILD_ACCOUNTS[1];
    let other_id = create_zone_as(&f.world, other, "example.com").await;
    let other_ns = zone_ns(&f, other, &other_id);
    f.world
        .register_domain("example.com", &other_id)
        .await
        .unwrap();
    f.world.flush("example.com").await.unwrap();

    let req = request(&f, "nd.example.com", st.name_servers.clone());
    let report = check(&f, &req, false).await;
    assert!(
        report.authoritative_ok,
        "asked directly, the parent hosted zone's servers refer correctly: {}",
        report.render()
    );
    assert_eq!(
        codes(&report),
        vec!["parent_zone_not_delegated"],
        "{}",
        report.render()
    );
    assert_eq!(
        report.findings[0],
        Finding::ParentZoneNotDelegated {
            parent_zone: n("example.com"),
            delegated_to: other_ns.clone(),
            parent_zone_ns: parent_ns(&f),
        }
    );
    let m = report.findings[0].message();
    assert!(
        m.starts_with(&format!("example.com is delegated to {other_ns}"))
            && m.contains(&parent_ns(&f).to_string())
            && m.contains("a zone nobody asks"),
        "{m}"
    );
    // Requiring what resolvers see makes it fail; they get NXDOMAIN.
    let strict = check(&f, &req, true).await;
    assert!(!strict.passed, "{}", strict.render());
    assert_eq!(
        codes(&strict),
        vec!["parent_zone_not_delegated"],
        "the resolver's NXDOMAIN is not blamed on its cache: {}",
        strict.render()
    );
}

#[tokio::test]
async fn lame_child_server() {
    // The parent refers to the child zone's servers plus one pool server
    // that serves no such zone (and REFUSES it, as Route 53 does).
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "lame.example.com").await;
    let child_ns = zone_ns(&f, CHILD, &id);
    let stray = idle_pool_server(&f);
    let mut listed = child_ns.to_fqdns();
    listed.push(format!("{stray}."));
    upsert(
        &f,
        PARENT_ACCOUNT,
        &f.parent_zone_id,
        "lame.example.com",
        RrType::Ns,
        &listed,
    )
    .await;
    let delegation = NsSet::parse(&listed).unwrap();

    let report = check(
        &f,
        &request(&f, "lame.example.com", delegation.clone()),
        false,
    )
    .await;
    assert!(!report.passed);
    assert!(!report.authoritative_ok);
    let lame: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|x| x.code() == "lame_child_server")
        .collect();
    let stray_addr = f.world.name_server_addr(&stray).unwrap();
    assert_eq!(
        lame,
        vec![&Finding::LameChildServer {
            server: n(&stray),
            address: stray_addr,
            rcode: Rcode::REFUSED,
            authoritative: false,
            listed: Some(Listing::DelegationOnly),
        }],
        "only the stray server is lame: {}",
        report.render()
    );
    let m = lame[0].message();
    assert!(
        m.starts_with(&format!(
            "child name server {stray} ({stray_addr}) is lame: it answered REFUSED"
        )),
        "{m}"
    );
    assert!(
        m.contains("only the child hosted zone's own name servers"),
        "{m}"
    );
    // Reported once, by name: the real child servers' apex NS differs from
    // the delegation only by the lame server, which is not a second finding
    // repeated per server.
    assert_eq!(
        codes(&report),
        vec!["lame_child_server"],
        "{}",
        report.render()
    );
    let _ = child_ns;
}

#[tokio::test]
async fn child_ns_mismatch() {
    let f = fixture().await;
    let st = delegate(&f, "apex.example.com").await;
    let all = st.name_servers.to_fqdns();
    // Route 53 refuses to delete the apex NS record ...
    let err = submit(
        &f,
        CHILD,
        &st.child_zone_id,
        ChangeAction::Delete,
        "apex.example.com",
        RrType::Ns,
        &all,
    )
    .await
    .unwrap_err();
    assert!(err.contains("InvalidChangeBatch"), "{err}");
    // ... but an UPSERT can drop a server from it.
    let apex = NsSet::parse(&all[..3]).unwrap();
    upsert(
        &f,
        CHILD,
        &st.child_zone_id,
        "apex.example.com",
        RrType::Ns,
        &all[..3],
    )
    .await;

    let report = check(
        &f,
        &request(&f, "apex.example.com", st.name_servers.clone()),
        false,
    )
    .await;
    assert!(!report.passed);
    // One finding for the one apex set, naming every server that serves it,
    // not one per server.
    let dropped = NsSet::parse(&all[3..]).unwrap();
    assert_eq!(
        report.findings,
        vec![Finding::ChildNsMismatch {
            servers: st.name_servers.iter().cloned().collect(),
            apex_ns: apex.clone(),
            delegation: st.name_servers.clone(),
        }],
        "{}",
        report.render()
    );
    let m = report.findings[0].message();
    assert!(
        m.contains(&format!(
            "list {apex} at the zone apex, but the delegation is {} (only in the delegation: {dropped})",
            st.name_servers
        )) && m.ends_with("make the child zone's apex NS record match its delegation set"),
        "{m}"
    );
    // Every server serves that apex set: the difference is the zone's, said
    // once above, not held against each server. The one server the apex
    // leaves out is the one entry that fails.
    for r in report
        .servers()
        .iter()
        .filter(|r| r.role.as_str() == "child")
    {
        if dropped.contains(&n(&r.name)) {
            assert_eq!(
                r.result, "serves the zone but is missing from the child zone's apex NS set",
                "{r:?}"
            );
        } else {
            assert_eq!(r.result, "ok", "{r:?}");
        }
    }
}

#[tokio::test]
async fn propagating() {
    // Route 53 accepted the NS record (PENDING) but its servers do not serve
    // it yet. The world publishes a change on all of a zone's servers at once
    // at INSYNC, so every parent server is behind together: diagnose cannot
    // tell that from a missing record (it has no change status) and reports
    // no_parent_record; `propagating` needs some servers ahead.
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "slow.example.com").await;
    let child_ns = zone_ns(&f, CHILD, &id);
    f.world.set_insync_delay(Duration::from_secs(2));
    let change = submit(
        &f,
        PARENT_ACCOUNT,
        &f.parent_zone_id,
        ChangeAction::Upsert,
        "slow.example.com",
        RrType::Ns,
        &child_ns.to_fqdns(),
    )
    .await
    .unwrap();
    let req = request(&f, "slow.example.com", child_ns.clone());
    let early = check(&f, &req, false).await;
    assert!(!early.passed);
    assert!(
        early.summary().contains("not verified"),
        "{}",
        early.summary()
    );
    let referrals: Vec<_> = early
        .checks
        .iter()
        .filter(|c| c.kind == CheckKind::ParentReferral)
        .collect();
    assert!(!referrals.is_empty());
    assert!(
        referrals.iter().all(|c| !c.ok && c.ns_seen.is_none()),
        "not yet visible on any parent server: {}",
        early.render()
    );
    assert!(
        matches!(codes(&early)[..], ["no_parent_record"] | ["propagating"]),
        "{}",
        early.render()
    );
    // The child side is already right.
    assert!(early
        .checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs))
        .all(|c| c.ok));

    insync(&f, PARENT_ACCOUNT, &change).await;
    let late = check(&f, &req, false).await;
    assert!(late.passed, "{}", late.render());
    assert!(late.findings.is_empty(), "{}", late.render());
}

#[tokio::test]
async fn cached_negative() {
    let f = fixture().await;
    let name = "neg.example.com";
    // A resolver asked before the delegation exists caches the NXDOMAIN.
    let before = client()
        .query(
            f.world.resolver(),
            &n(name),
            route53delegation::dns::RecordType::SOA,
            true,
        )
        .await
        .unwrap();
    assert_eq!(before.rcode, "NXDOMAIN");
    let st = delegate(&f, name).await;

    let req = request(&f, name, st.name_servers.clone());
    let report = check(&f, &req, true).await;
    assert!(report.authoritative_ok, "{}", report.render());
    assert!(
        report.passed,
        "a cached negative answer does not fail a correct delegation, even with the resolver required: {}",
        report.render()
    );
    assert_eq!(
        codes(&report),
        vec!["cached_negative"],
        "{}",
        report.render()
    );
    let Finding::CachedNegative {
        resolver,
        name: cached,
        nxdomain,
        remaining_ttl,
    } = &report.findings[0]
    else {
        unreachable!()
    };
    assert_eq!(*resolver, f.world.resolver());
    assert_eq!(*cached, n(name));
    assert!(*nxdomain);
    assert!(
        *remaining_ttl > 0 && *remaining_ttl <= 900,
        "bounded by the parent SOA's negative TTL: {remaining_ttl}"
    );
    let m = report.findings[0].message();
    assert!(
        m.starts_with(&format!(
            "resolver {} holds a cached NXDOMAIN for {name} for up to {remaining_ttl} more seconds",
            f.world.resolver().ip()
        )) && m.contains("flush the resolver cache or wait"),
        "{m}"
    );
    assert_eq!(report.findings[0].severity(), Severity::Warning);

    // Flushing the resolver's cache for the name fixes it.
    f.world.flush(name).await.unwrap();
    let after = check(&f, &req, true).await;
    assert!(after.passed, "{}", after.render());
    assert!(after.findings.is_empty(), "{}", after.render());
}

#[tokio::test]
async fn occluded_records() {
    // Records in the parent zone under the name become unreachable once the
    // name is delegated. A sibling whose name sorts between the name and its
    // subtree (`-` sorts before `.`) must not hide them.
    let f = fixture().await;
    let ip = ["192.0.2.10".to_string()];
    for owner in ["www.occ.example.com", "occ-x.example.com"] {
        upsert(&f, PARENT_ACCOUNT, &f.parent_zone_id, owner, RrType::A, &ip).await;
    }
    upsert(
        &f,
        PARENT_ACCOUNT,
        &f.parent_zone_id,
        "occ.example.com",
        RrType::Txt,
        &["\"hello\"".to_string()],
    )
    .await;
    let spec = spec("occ.example.com");

    let pre = f.engine.preflight(&spec, None).await.expect("preflight");
    assert_eq!(pre.warnings.len(), 1, "{:?}", pre.warnings);
    let w = &pre.warnings[0];
    assert!(
        w.starts_with("2 records in the parent zone at or under occ.example.com (")
            && w.contains("www.occ.example.com A")
            && w.contains("occ.example.com TXT")
            && !w.contains("occ-x")
            && w.contains("move them into the child hosted zone"),
        "{w}"
    );

    let applied = f
        .engine
        .apply(&spec, None, T, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("apply: {}", e.error));
    // The occluded records, and (a new delegation) the negative-caching note.
    let [Finding::OccludedRecords { name, records }, Finding::NegativeCaching { .. }] =
        &applied.findings[..]
    else {
        panic!("{:?}", applied.findings)
    };
    assert_eq!(*name, n("occ.example.com"));
    let mut got: Vec<(String, String)> = records.clone();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("occ.example.com".to_string(), "TXT".to_string()),
            ("www.occ.example.com".to_string(), "A".to_string()),
        ]
    );
    assert_eq!(applied.findings[0].severity(), Severity::Warning);
    // And indeed: the parent now refers www.occ.example.com away.
    let report = check(
        &f,
        &request(&f, "occ.example.com", applied.state.name_servers),
        false,
    )
    .await;
    assert!(report.passed, "{}", report.render());
}

#[tokio::test]
async fn dangling_delegation() {
    // The parent's NS record points at a child zone that no longer exists.
    let f = fixture().await;
    let spec = spec("gone.example.com");
    let st = delegate(&f, "gone.example.com").await;
    let name = n("gone.example.com");
    // Alive, it is not dangling.
    assert_eq!(
        probe_dangling(&name, &st.name_servers, &resolver(&f), &client()).await,
        None
    );
    delete_zone(&f, CHILD, &st.child_zone_id).await;

    let found = probe_dangling(&name, &st.name_servers, &resolver(&f), &client()).await;
    assert_eq!(
        found,
        Some(Finding::DanglingDelegation {
            name: name.clone(),
            parent_ns: st.name_servers.clone(),
        })
    );
    let m = found.unwrap().message();
    assert!(
        m.starts_with(&format!(
            "the parent's NS record for gone.example.com points at {}",
            st.name_servers
        )) && m.contains("subdomain takeover")
            && m.ends_with("delete the NS record or point it at a zone you own"),
        "{m}"
    );
    // Verification blames every (former) child server as lame.
    let report = check(
        &f,
        &request(&f, "gone.example.com", st.name_servers.clone()),
        false,
    )
    .await;
    assert!(!report.passed);
    let lame = report
        .findings
        .iter()
        .filter(|x| matches!(x, Finding::LameChildServer { rcode, .. } if rcode == "REFUSED"))
        .count();
    assert_eq!(lame, st.name_servers.len(), "{}", report.render());
    // Read warns of the takeover risk and keeps the state, with no zone, so
    // that plan shows the repair (issue 10 item 3: the record is the link's own).
    let read = f.engine.read(&spec, &st).await.unwrap();
    assert_eq!(read.state.expect("kept").child_zone_id, "");
    assert!(
        read.warnings
            .iter()
            .any(|w| w.contains("takeover") && w.contains(&st.name_servers.to_string())),
        "{:?}",
        read.warnings
    );
}

#[tokio::test]
async fn good_delegation_has_no_findings() {
    let f = fixture().await;
    let st = delegate(&f, "ok.example.com").await;
    let req = request(&f, "ok.example.com", st.name_servers.clone());
    let report = verify(
        &req,
        &resolver(&f),
        &options(Some(vec![f.world.resolver()])),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(report.passed, "{}", report.render());
    assert!(report.authoritative_ok);
    assert!(report.findings.is_empty(), "{}", report.render());
    for kind in [
        CheckKind::ParentReferral,
        CheckKind::ChildSoa,
        CheckKind::ChildNs,
        CheckKind::Recursive,
        CheckKind::ParentZone,
        CheckKind::ParentZoneChain,
    ] {
        assert!(
            report.checks.iter().any(|c| c.kind == kind && c.ok),
            "{kind:?} checked: {}",
            report.render()
        );
    }
    // 4 parent + 4 child servers + the resolver + the com server asked for
    // example.com's delegation (the authoritative chain).
    assert_eq!(report.servers_checked(), 10, "{}", report.render());
    assert_eq!(
        probe_dangling(&req.name, &st.name_servers, &resolver(&f), &client()).await,
        None
    );
}
