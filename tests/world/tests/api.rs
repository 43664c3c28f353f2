//! Route 53 API behaviour through the AWS SDK for Rust.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_route53::types::{ChangeAction, HostedZoneConfig, RrType, Vpc, VpcRegion};
use common::*;
use r53world::{Fault, Operation, OPERATOR_ACCOUNT, PARENT_ACCOUNT};

const CHILD: &str = "222222222222";

#[tokio::test]
async fn create_zone_gets_route53_style_ns_soa_and_counts() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let out = c
        .create_hosted_zone()
        .name("API.Example.com")
        .caller_reference("r1")
        .send()
        .await
        .unwrap();
    let hz = out.hosted_zone().unwrap();
    assert!(hz.id().starts_with("/hostedzone/Z"), "{}", hz.id());
    assert_eq!(hz.id().len(), "/hostedzone/".len() + 21);
    assert_eq!(hz.name(), "api.example.com.");
    assert_eq!(hz.resource_record_set_count(), Some(2));
    assert_eq!(hz.config().map(|c| c.private_zone()), Some(false));
    let ci = out.change_info().unwrap();
    assert!(ci.id().starts_with("/change/C"));
    assert_eq!(ci.status().as_str(), "PENDING");
    let ns = out.delegation_set().unwrap().name_servers().to_vec();
    assert_eq!(ns.len(), 4);
    for (n, tld) in ns.iter().zip([".com", ".net", ".org", ".co.uk"]) {
        assert!(
            n.starts_with("ns-") && n.contains(".awsdns-") && n.ends_with(tld),
            "{n} / {tld}"
        );
    }
    let id = hz.id().trim_start_matches("/hostedzone/");
    let rr = c
        .list_resource_record_sets()
        .hosted_zone_id(id)
        .send()
        .await
        .unwrap();
    let sets = rr.resource_record_sets();
    assert_eq!(sets.len(), 2);
    let nsrr = sets.iter().find(|r| r.r#type() == &RrType::Ns).unwrap();
    assert_eq!(nsrr.ttl(), Some(172800));
    let soa = sets.iter().find(|r| r.r#type() == &RrType::Soa).unwrap();
    assert_eq!(soa.ttl(), Some(900));
    assert_eq!(
        soa.resource_records()[0].value(),
        format!(
            "{}. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
            ns[0]
        )
    );
    let count = c.get_hosted_zone_count().send().await.unwrap();
    assert_eq!(count.hosted_zone_count(), 1);
    // Location header of the 201.
    assert_eq!(
        out.location(),
        format!("https://route53.amazonaws.com/2013-04-01/hostedzone/{id}")
    );
    // A raw request with a bogus signature is rejected.
    let (k, _) = w.credentials(CHILD);
    let auth = format!("AWS4-HMAC-SHA256 Credential={k}/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=00");
    let (status, _, body) = http(
        &w.endpoint(),
        "GET",
        "/2013-04-01/hostedzone",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
}

#[tokio::test]
async fn same_name_zones_never_share_a_name_server_set() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let mut sets = HashSet::new();
    for i in 0..6 {
        let (id, ns) = create_zone(&c, "dup.example.com", &format!("dup{i}")).await;
        assert!(sets.insert(ns.clone()), "set reused: {ns:?}");
        if i % 2 == 0 {
            c.delete_hosted_zone().id(&id).send().await.unwrap();
        }
    }
    // Several public zones may share a name.
    let list = c
        .list_hosted_zones_by_name()
        .dns_name("dup.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        list.hosted_zones()
            .iter()
            .filter(|z| z.name() == "dup.example.com.")
            .count(),
        3
    );
}

#[tokio::test]
async fn caller_reference_reuse_is_hosted_zone_already_exists() {
    let w = world().await;
    let c = r53(&w, CHILD);
    create_zone(&c, "a.example.com", "same").await;
    let e = c
        .create_hosted_zone()
        .name("b.example.com")
        .caller_reference("same")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "HostedZoneAlreadyExists");
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(409));
    // Another account may use the same caller reference.
    create_zone(&r53(&w, "333333333333"), "a.example.com", "same").await;
}

#[tokio::test]
async fn private_zone_shares_name_with_public_zone() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (pub_id, _) = create_zone(&c, "shared.example.com", "p1").await;
    let out = c
        .create_hosted_zone()
        .name("shared.example.com")
        .caller_reference("p2")
        .hosted_zone_config(
            HostedZoneConfig::builder()
                .private_zone(true)
                .comment("vpc only")
                .build(),
        )
        .vpc(
            Vpc::builder()
                .vpc_id("vpc-123")
                .vpc_region(VpcRegion::UsEast1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let priv_id = out.hosted_zone().unwrap().id().to_string();
    // DelegationSet is a required member, so the SDK fills an empty one.
    assert!(out
        .delegation_set()
        .is_none_or(|d| d.name_servers().is_empty()));
    assert_eq!(out.vpc().and_then(|v| v.vpc_id()), Some("vpc-123"));
    let g = c.get_hosted_zone().id(&priv_id).send().await.unwrap();
    assert!(g.hosted_zone().unwrap().config().unwrap().private_zone());
    assert_eq!(g.vpcs().len(), 1);
    let l = c
        .list_hosted_zones_by_name()
        .dns_name("shared.example.com")
        .send()
        .await
        .unwrap();
    let flags: Vec<(bool, String)> = l
        .hosted_zones()
        .iter()
        .map(|z| {
            (
                z.config().unwrap().private_zone(),
                z.id().trim_start_matches("/hostedzone/").to_string(),
            )
        })
        .collect();
    assert!(flags.contains(&(false, pub_id)));
    assert!(flags.iter().any(|(p, _)| *p));
    assert_eq!(w.zones(CHILD).iter().filter(|z| z.private).count(), 1);
}

#[tokio::test]
async fn list_hosted_zones_pages_with_markers() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let mut ids = HashSet::new();
    for i in 0..5 {
        ids.insert(
            create_zone(&c, &format!("z{i}.example.org"), &format!("m{i}"))
                .await
                .0,
        );
    }
    let mut seen = HashSet::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_hosted_zones()
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.hosted_zones().len() <= 2);
        for z in out.hosted_zones() {
            seen.insert(z.id().trim_start_matches("/hostedzone/").to_string());
        }
        if !out.is_truncated() {
            break;
        }
        marker = out.next_marker().map(str::to_string);
        assert!(marker.is_some());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn list_hosted_zones_by_name_sorts_by_reversed_labels_and_pages() {
    let w = world().await;
    let c = r53(&w, CHILD);
    for (i, n) in ["b.com", "a.net", "z.a.com", "a.com"].iter().enumerate() {
        create_zone(&c, n, &format!("s{i}")).await;
    }
    let out = c.list_hosted_zones_by_name().send().await.unwrap();
    let names: Vec<&str> = out.hosted_zones().iter().map(|z| z.name()).collect();
    assert_eq!(names, ["a.com.", "z.a.com.", "b.com.", "a.net."]);
    // Paging with NextDNSName/NextHostedZoneId.
    let p1 = c
        .list_hosted_zones_by_name()
        .dns_name("b.com")
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(p1.hosted_zones()[0].name(), "b.com.");
    assert!(p1.is_truncated());
    assert_eq!(p1.next_dns_name(), Some("a.net."));
    let p2 = c
        .list_hosted_zones_by_name()
        .dns_name(p1.next_dns_name().unwrap())
        .hosted_zone_id(p1.next_hosted_zone_id().unwrap())
        .max_items(1)
        .send()
        .await
        .unwrap();
    assert_eq!(p2.hosted_zones()[0].name(), "a.net.");
    assert!(!p2.is_truncated());
}

#[tokio::test]
async fn change_batches_validate_and_are_atomic() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "example.com", "cb").await;
    let crr = |a, rr| change(a, rr);
    let ok = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Create,
            rrset(
                "API.Example.COM",
                RrType::Ns,
                300,
                &["ns1.x.net.", "ns2.x.net."],
            ),
        )]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.change_info().unwrap().status().as_str(), "PENDING");
    let cases: Vec<(Vec<aws_sdk_route53::types::Change>, &str, &str)> = vec![
        (
            vec![crr(ChangeAction::Create, rrset("api.example.com", RrType::Ns, 300, &["ns9.x.net."]))],
            "InvalidChangeBatch",
            "[Tried to create resource record set [name='api.example.com.', type='NS'] but it already exists]",
        ),
        (
            vec![crr(ChangeAction::Delete, rrset("api.example.com", RrType::Ns, 300, &["ns1.x.net."]))],
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='api.example.com.', type='NS'] but the values provided do not match the current values]",
        ),
        (
            vec![crr(ChangeAction::Delete, rrset("api.example.com", RrType::Ns, 60, &["ns1.x.net.", "ns2.x.net."]))],
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='api.example.com.', type='NS'] but the values provided do not match the current values]",
        ),
        (
            vec![crr(ChangeAction::Delete, rrset("nope.example.com", RrType::A, 300, &["192.0.2.1"]))],
            "InvalidChangeBatch",
            "[Tried to delete resource record set [name='nope.example.com.', type='A'] but it was not found]",
        ),
        (
            vec![crr(ChangeAction::Create, rrset("www.badexample.com", RrType::A, 300, &["192.0.2.1"]))],
            "InvalidChangeBatch",
            "[RRSet with DNS name www.badexample.com. is not permitted in zone example.com.]",
        ),
        (
            vec![crr(ChangeAction::Create, rrset("www.example.com", RrType::A, 300, &["not-an-ip"]))],
            "InvalidChangeBatch",
            "ARRDATAIllegalIPv4Address",
        ),
        (
            vec![crr(ChangeAction::Create, rrset("www.example.com", RrType::A, -1, &["192.0.2.1"]))],
            "InvalidInput",
            "between 0 and 2147483647",
        ),
        (
            vec![crr(ChangeAction::Create, rrset("www.example.com", RrType::Ns, 300, &["bad..host"]))],
            "InvalidChangeBatch",
            "Invalid Resource Record",
        ),
    ];
    for (changes, want_code, want_msg) in cases {
        let e = c
            .change_resource_record_sets()
            .hosted_zone_id(&id)
            .change_batch(batch(changes))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), want_code, "{e:?}");
        assert!(
            message(&e).contains(want_msg),
            "{} does not contain {want_msg}",
            message(&e)
        );
    }
    // Atomic: a good CREATE plus a bad DELETE applies nothing.
    let e = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![
            crr(
                ChangeAction::Create,
                rrset("good.example.com", RrType::A, 60, &["192.0.2.7"]),
            ),
            crr(
                ChangeAction::Delete,
                rrset("missing.example.com", RrType::A, 60, &["192.0.2.8"]),
            ),
        ]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidChangeBatch");
    let names: Vec<String> = w.zones(CHILD)[0]
        .records
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert!(
        !names.contains(&"good.example.com.".to_string()),
        "{names:?}"
    );
    // Apex SOA / NS cannot be deleted.
    let zone = &w.zones(CHILD)[0];
    let apex_ns = zone
        .records
        .iter()
        .find(|r| r.rtype == r53world::RrType::Ns && r.name == "example.com.")
        .unwrap()
        .clone();
    let vals: Vec<&str> = apex_ns.values.iter().map(String::as_str).collect();
    let e = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Delete,
            rrset("example.com", RrType::Ns, 172800, &vals),
        )]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidChangeBatch");
    assert!(
        message(&e).contains("must contain at least one NS record"),
        "{}",
        message(&e)
    );
    // CNAME conflicts both ways.
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Create,
            rrset("c.example.com", RrType::Cname, 60, &["target.example.net"]),
        )]))
        .send()
        .await
        .unwrap();
    let e = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Create,
            rrset("c.example.com", RrType::A, 60, &["192.0.2.1"]),
        )]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidChangeBatch");
    // UPSERT replaces; DELETE with exact values (any order) succeeds.
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Upsert,
            rrset(
                "api.example.com",
                RrType::Ns,
                120,
                &["ns3.x.net.", "ns4.x.net."],
            ),
        )]))
        .send()
        .await
        .unwrap();
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![crr(
            ChangeAction::Delete,
            rrset(
                "api.example.com",
                RrType::Ns,
                120,
                &["ns4.x.net.", "ns3.x.net."],
            ),
        )]))
        .send()
        .await
        .unwrap();
    // More than 1000 changes.
    let many: Vec<_> = (0..1001)
        .map(|i| {
            crr(
                ChangeAction::Create,
                rrset(&format!("h{i}.example.com"), RrType::A, 60, &["192.0.2.1"]),
            )
        })
        .collect();
    let e = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(many))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidChangeBatch");
}

#[tokio::test]
async fn list_resource_record_sets_pages_by_name_and_type() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "example.com", "lr").await;
    let changes = ["a", "b", "c"]
        .iter()
        .flat_map(|n| {
            [
                change(
                    ChangeAction::Create,
                    rrset(&format!("{n}.example.com"), RrType::A, 60, &["192.0.2.1"]),
                ),
                change(
                    ChangeAction::Create,
                    rrset(&format!("{n}.example.com"), RrType::Txt, 60, &["\"t\""]),
                ),
            ]
        })
        .collect();
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(changes))
        .send()
        .await
        .unwrap();
    let mut all = Vec::new();
    let (mut name, mut ty): (Option<String>, Option<RrType>) = (None, None);
    loop {
        let out = c
            .list_resource_record_sets()
            .hosted_zone_id(&id)
            .max_items(3)
            .set_start_record_name(name.clone())
            .set_start_record_type(ty.clone())
            .send()
            .await
            .unwrap();
        for r in out.resource_record_sets() {
            all.push(format!("{} {}", r.name(), r.r#type().as_str()));
        }
        if !out.is_truncated() {
            break;
        }
        name = out.next_record_name().map(str::to_string);
        ty = out.next_record_type().cloned();
    }
    assert_eq!(
        all,
        [
            "example.com. NS",
            "example.com. SOA",
            "a.example.com. A",
            "a.example.com. TXT",
            "b.example.com. A",
            "b.example.com. TXT",
            "c.example.com. A",
            "c.example.com. TXT"
        ]
    );
}

#[tokio::test]
async fn delete_zone_requires_empty_zone() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "example.com", "del").await;
    let rr = rrset("api.example.com", RrType::Ns, 300, &["ns1.x.net."]);
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(ChangeAction::Create, rr.clone())]))
        .send()
        .await
        .unwrap();
    let e = c.delete_hosted_zone().id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "HostedZoneNotEmpty");
    c.change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(ChangeAction::Delete, rr)]))
        .send()
        .await
        .unwrap();
    let out = c.delete_hosted_zone().id(&id).send().await.unwrap();
    assert!(out.change_info().is_some());
    let e = c.get_hosted_zone().id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchHostedZone");
    let e = c.delete_hosted_zone().id(&id).send().await.unwrap_err();
    assert_eq!(code(&e), "NoSuchHostedZone");
}

/// The AWS provider's zone read lists the zone's tags (the benchmark's model
/// replays it): the world keeps no tags, so the set is empty, and a zone
/// that does not exist is `NoSuchHostedZone` as in Route 53.
#[tokio::test]
async fn list_tags_for_a_zone_is_an_empty_set() {
    use aws_sdk_route53::types::TagResourceType;
    let w = world().await;
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "tags.example.com", "tags").await;
    let bare = id.trim_start_matches("/hostedzone/").to_string();
    let out = c
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(&bare)
        .send()
        .await
        .unwrap();
    let set = out.resource_tag_set().expect("a tag set");
    assert_eq!(set.resource_id(), Some(bare.as_str()));
    assert!(set.tags().is_empty());
    let e = c
        .list_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id("ZNOSUCHZONE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchHostedZone");
    assert_eq!(
        w.call_counts()
            .get(&(CHILD.to_string(), Operation::ListTagsForResource)),
        Some(&2)
    );
}

#[tokio::test]
async fn changes_go_pending_then_insync() {
    let w = world().await;
    w.set_insync_delay(Duration::from_millis(300));
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "example.com", "gc").await;
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("w.example.com", RrType::A, 60, &["192.0.2.1"]),
        )]))
        .send()
        .await
        .unwrap();
    let cid = out.change_info().unwrap().id().to_string();
    let now = c.get_change().id(&cid).send().await.unwrap();
    assert_eq!(now.change_info().unwrap().status().as_str(), "PENDING");
    wait_insync(&c, &cid).await;
    let e = c
        .get_change()
        .id("CNOSUCHCHANGE000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchChange");
    // A change id of another account is not visible.
    let e = r53(&w, "333333333333")
        .get_change()
        .id(&cid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchChange");
}

#[tokio::test]
async fn injected_faults_and_call_counts() {
    let w = world().await;
    let c = r53(&w, CHILD);
    for (fault, want, status) in [
        (Fault::Throttling, "Throttling", 400),
        (Fault::InternalFailure, "InternalFailure", 500),
        (
            Fault::PriorRequestNotComplete,
            "PriorRequestNotComplete",
            400,
        ),
    ] {
        w.inject_fault(Operation::ListHostedZones, fault, 1);
        let e = c.list_hosted_zones().send().await.unwrap_err();
        assert_eq!(code(&e), want);
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(status));
    }
    c.list_hosted_zones().send().await.unwrap();
    w.inject_fault(
        Operation::ListHostedZones,
        Fault::Delay(Duration::from_millis(300)),
        1,
    );
    let t0 = std::time::Instant::now();
    c.list_hosted_zones().send().await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    let counts = w.call_counts();
    assert_eq!(
        counts.get(&(CHILD.to_string(), Operation::ListHostedZones)),
        Some(&5)
    );
    // The SDK's standard retry gets through an injected Throttling.
    let (k, s) = w.credentials(CHILD);
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(w.endpoint())
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            k, s, None, None, "t",
        ))
        .retry_config(
            aws_sdk_route53::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build();
    let retrying = aws_sdk_route53::Client::from_conf(conf);
    w.inject_fault(Operation::GetHostedZoneCount, Fault::Throttling, 2);
    retrying.get_hosted_zone_count().send().await.unwrap();
    assert_eq!(
        w.call_counts()
            .get(&(CHILD.to_string(), Operation::GetHostedZoneCount)),
        Some(&3)
    );
    // Admin HTTP API: faults and calls.
    let (st, _, _) = http(
        &w.endpoint(),
        "POST",
        "/admin/faults",
        &[("content-type", "application/json")],
        r#"{"operation":"GetHostedZoneCount","fault":"Throttling","count":1}"#,
    );
    assert_eq!(st, 200);
    assert_eq!(
        code(&c.get_hosted_zone_count().send().await.unwrap_err()),
        "Throttling"
    );
    let (st, _, body) = http(&w.endpoint(), "GET", "/admin/calls", &[], "");
    assert_eq!(st, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["operation"] == "GetHostedZoneCount" && e["count"] == 4),
        "{body}"
    );
    // A fault for an operation the world does not serve is refused, not
    // queued where no call would ever take it.
    let (st, _, body) = http(
        &w.endpoint(),
        "POST",
        "/admin/faults",
        &[("content-type", "application/json")],
        r#"{"operation":"GetHostedZoneCounts","fault":"Throttling"}"#,
    );
    assert_eq!(st, 400, "{body}");
    assert!(body.contains("GetHostedZoneCounts"), "{body}");
}

/// A held call waits at the door, counted, until the test lets it through;
/// only the next call of that operation is held.
#[tokio::test]
async fn a_held_call_waits_until_released() {
    let w = world().await;
    let c = r53(&w, CHILD);
    let held = w.hold_next(Operation::ListHostedZones);
    assert!(!held.has_arrived());
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.list_hosted_zones().send().await.map(|_| ()) }
    });
    held.arrived().await;
    assert!(held.has_arrived());
    assert_eq!(w.calls(CHILD, Operation::ListHostedZones), 1);
    // The next call of the operation is not held: it is answered while the
    // first still waits.
    c.list_hosted_zones().send().await.unwrap();
    assert_eq!(w.calls(CHILD, Operation::ListHostedZones), 2);
    assert!(!first.is_finished(), "the held call is still held");
    held.release();
    first.await.unwrap().expect("served once released");
    // Dropping the handle releases too, so a failed test never strands a
    // client.
    let held = w.hold_next(Operation::GetHostedZoneCount);
    let second = tokio::spawn({
        let c = c.clone();
        async move { c.get_hosted_zone_count().send().await.map(|_| ()) }
    });
    held.arrived().await;
    drop(held);
    second
        .await
        .unwrap()
        .expect("served once the handle is dropped");
}

#[tokio::test]
async fn rate_limit_throttles_per_account() {
    let w = world().await;
    w.set_rate_limit(Some(5));
    let c = r53(&w, CHILD);
    let mut throttled = 0;
    for _ in 0..10 {
        if let Err(e) = c.list_hosted_zones().send().await {
            assert_eq!(code(&e), "Throttling");
            assert_eq!(message(&e), "Rate exceeded");
            throttled += 1;
        }
    }
    assert!(throttled >= 5, "only {throttled} of 10 calls throttled");
    // Another account has its own budget.
    r53(&w, "333333333333")
        .list_hosted_zones()
        .send()
        .await
        .unwrap();
    w.set_rate_limit(None);
    c.list_hosted_zones().send().await.unwrap();
    assert_eq!(
        w.call_counts()[&(CHILD.to_string(), Operation::ListHostedZones)],
        11
    );
}

/// Route 53's current token buckets: a burst of 50 per account, then 10
/// per second; `CreateHostedZone` has its own bucket of 40 at 2 per second.
/// Every refusal is counted, and the admin API sets the mode and reads the
/// counters.
#[tokio::test]
async fn token_buckets_throttle_bursts_and_count_refusals() {
    let w = world().await;
    let e = w.endpoint();
    let (status, _, body) = http(
        &e,
        "POST",
        "/admin/throttle",
        &[("content-type", "application/json")],
        r#"{"mode": "buckets"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let c = r53(&w, CHILD);
    let mut ok = 0;
    let mut throttled = 0;
    // Far faster than 10 per second: the burst of 50 plus at most a few
    // refilled while the loop runs.
    let started = std::time::Instant::now();
    for _ in 0..80 {
        match c.list_hosted_zones().send().await {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(code(&e), "Throttling");
                throttled += 1;
            }
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 10.0).ceil() as i32;
    assert!(
        (50..=50 + refilled).contains(&ok),
        "{ok} admitted, {throttled} throttled (refill allows {refilled})"
    );
    let counted = w.throttled_counts()[&(CHILD.to_string(), Operation::ListHostedZones)];
    assert_eq!(counted, throttled as u64);
    let (_, _, body) = http(&e, "GET", "/admin/throttle", &[], "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["mode"]["mode"], "buckets");
    assert_eq!(v["throttled"][0]["count"], counted);

    // Another account has its own buckets; CreateHostedZone its own, slower
    // one: 40 creates in a burst, then about 2 per second.
    let other = r53(&w, "333333333333");
    let mut created = 0;
    let started = std::time::Instant::now();
    for i in 0..45 {
        let r = other
            .create_hosted_zone()
            .name(format!("z{i}.example.org"))
            .caller_reference(format!("tb-{i}"))
            .send()
            .await;
        match r {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(code(&e), "Throttling"),
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 2.0).ceil() as i32;
    assert!(
        (40..=40 + refilled).contains(&created),
        "{created} zones created in a burst (refill allows {refilled})"
    );

    // Off again: nothing is refused.
    w.set_throttle(r53world::ThrottleMode::Off);
    for _ in 0..60 {
        c.list_hosted_zones().send().await.unwrap();
    }
}

/// The admin API sets the INSYNC delay and its jitter; no change is INSYNC
/// before the delay (how the jitter spreads INSYNC times is unit-tested in
/// the model, where no clock of the test's own interferes).
#[tokio::test]
async fn insync_delay_and_jitter_are_set_through_the_admin_api() {
    let w = world().await;
    let (status, _, body) = http(
        &w.endpoint(),
        "POST",
        "/admin/insync-delay",
        &[("content-type", "application/json")],
        r#"{"ms": 400, "jitter_ms": 300}"#,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (v["ms"].as_u64(), v["jitter_ms"].as_u64()),
        (Some(400), Some(300))
    );
    let c = r53(&w, CHILD);
    let (id, _) = create_zone(&c, "example.com", "jit").await;
    let made = std::time::Instant::now();
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("j.example.com", RrType::A, 60, &["192.0.2.1"]),
        )]))
        .send()
        .await
        .unwrap();
    let cid = out.change_info().unwrap().id().to_string();
    loop {
        let st = c.get_change().id(&cid).send().await.unwrap();
        if st.change_info().unwrap().status().as_str() == "INSYNC" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(made.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn zones_are_per_account_and_least_privilege_role_is_enforced() {
    let w = world().await;
    let parent = r53(&w, PARENT_ACCOUNT);
    let (pid, _) = create_zone(&parent, "example.com", "parent").await;
    let e = r53(&w, CHILD)
        .get_hosted_zone()
        .id(&pid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchHostedZone");
    let role = assume(
        &w,
        OPERATOR_ACCOUNT,
        "arn:aws:iam::111111111111:role/delegation-parent",
        None,
    )
    .await;
    role.get_hosted_zone().id(&pid).send().await.unwrap();
    role.list_hosted_zones_by_name()
        .dns_name("example.com")
        .send()
        .await
        .unwrap();
    role.change_resource_record_sets()
        .hosted_zone_id(&pid)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("api.example.com", RrType::Ns, 300, &["ns1.x.net."]),
        )]))
        .send()
        .await
        .unwrap();
    for rr in [
        rrset("www.example.com", RrType::A, 300, &["192.0.2.1"]),
        rrset("example.com", RrType::Ns, 300, &["ns1.x.net."]),
        rrset("api.example.org", RrType::Ns, 300, &["ns1.x.net."]),
    ] {
        let e = role
            .change_resource_record_sets()
            .hosted_zone_id(&pid)
            .change_batch(batch(vec![change(ChangeAction::Upsert, rr)]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "AccessDenied");
        assert!(
            message(&e).starts_with("User: arn:aws:sts::111111111111:assumed-role/delegation-parent/test-session is not authorized to perform: route53:ChangeResourceRecordSets"),
            "{}",
            message(&e)
        );
        assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    }
    let e = role
        .create_hosted_zone()
        .name("x.example.com")
        .caller_reference("no")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    let e = role.delete_hosted_zone().id(&pid).send().await.unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    // The admin role has full access in the parent account.
    let admin = assume(
        &w,
        OPERATOR_ACCOUNT,
        "arn:aws:iam::111111111111:role/parent-admin",
        None,
    )
    .await;
    admin
        .change_resource_record_sets()
        .hosted_zone_id(&pid)
        .change_batch(batch(vec![change(
            ChangeAction::Create,
            rrset("www.example.com", RrType::A, 300, &["192.0.2.1"]),
        )]))
        .send()
        .await
        .unwrap();
    // Right key, wrong secret: the SigV4 signature is verified.
    let (k, _) = w.credentials(CHILD);
    let e = r53_with(&w.endpoint(), &k, "wrong-secret", None)
        .list_hosted_zones()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    let e = sts_with(&w.endpoint(), &k, "wrong-secret")
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    // Unknown access key.
    let e = r53_with(&w.endpoint(), "AKIANOSUCHKEY0000000", "x", None)
        .list_hosted_zones()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidClientTokenId");
}

#[tokio::test]
async fn reset_restores_defaults() {
    let w = world().await;
    let c = r53(&w, CHILD);
    create_zone(&c, "example.com", "rs").await;
    w.set_rate_limit(Some(1));
    w.inject_fault(Operation::ListHostedZones, Fault::InternalFailure, 5);
    w.add_role(r53world::RoleSpec {
        account: CHILD.into(),
        name: "extra".into(),
        trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
        external_id: None,
        permission: r53world::Permission::Full,
    });
    assume(
        &w,
        OPERATOR_ACCOUNT,
        "arn:aws:iam::222222222222:role/extra",
        None,
    )
    .await;
    w.reset();
    assert!(w.zones(CHILD).is_empty());
    assert!(w.call_counts().is_empty());
    let out = c.list_hosted_zones().send().await.unwrap();
    assert!(out.hosted_zones().is_empty());
    c.list_hosted_zones().send().await.unwrap();
    let e = sts(&w, OPERATOR_ACCOUNT)
        .assume_role()
        .role_arn("arn:aws:iam::222222222222:role/extra")
        .role_session_name("s")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    // Caller references are forgotten with the zones.
    create_zone(&c, "example.com", "rs").await;
}
