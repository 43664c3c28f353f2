//! A world's contents, recorded and restored into another world on another
//! net: the state fixtures depend on it (a Terraform state written against
//! one world must stay true against the next).

mod common;

use aws_sdk_route53::types::{ChangeAction, ChangeBatch, RrType};
use common::*;
use r53world::{RRSet, Snapshot, CHILD_ACCOUNTS, PARENT_ACCOUNT};

/// Guards: a restored world that gives a zone another ID or other name
/// servers, drops a record, a registration or an `example.net` update, or
/// parses Knot's zone listing wrongly (then a fixture's state no longer
/// describes its world).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_restores_into_a_world_on_another_net() {
    let a = world().await;
    let parent = a.create_zone(PARENT_ACCOUNT, "example.com").await.unwrap();
    a.register_domain("example.com", &parent).await.unwrap();
    let child_account = CHILD_ACCOUNTS[0];
    let child = a
        .create_zone(child_account, "api.example.com")
        .await
        .unwrap();
    let child_ns = a
        .zones(child_account)
        .into_iter()
        .find(|z| z.id == child)
        .unwrap()
        .name_servers;
    let values: Vec<&str> = child_ns.iter().map(String::as_str).collect();
    r53(&a, PARENT_ACCOUNT)
        .change_resource_record_sets()
        .hosted_zone_id(&parent)
        .change_batch(
            ChangeBatch::builder()
                .changes(change(
                    ChangeAction::Create,
                    rrset("api.example.com", RrType::Ns, 300, &values),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // An update of example.net, as an RFC 2136 parent's link makes.
    let delegation = RRSet {
        name: "api.example.net.".into(),
        rtype: r53world::RrType::Ns,
        ttl: 300,
        values: vec!["ns-1.awsdns-01.com.".into(), "ns-2.awsdns-02.net.".into()],
    };
    a.restore(&Snapshot {
        zones: Vec::new(),
        registrations: Default::default(),
        example_net: vec![delegation.clone()],
    })
    .await
    .unwrap();

    let snap = a.snapshot().await.unwrap();
    let names: Vec<(&str, &str)> = snap
        .zones
        .iter()
        .map(|z| (z.account.as_str(), z.id.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            (PARENT_ACCOUNT, parent.as_str()),
            (child_account, child.as_str())
        ]
    );
    let parent_zone = &snap.zones[0];
    assert!(
        parent_zone
            .records
            .iter()
            .any(|r| r.name == "api.example.com."
                && r.rtype == r53world::RrType::Ns
                && r.values.len() == 4),
        "{parent_zone:?}"
    );
    assert_eq!(
        snap.registrations.get("example.com.").map(Vec::len),
        Some(4),
        "{:?}",
        snap.registrations
    );
    let mut knot: Vec<RRSet> = snap.example_net.clone();
    for r in &mut knot {
        r.values.sort();
    }
    assert_eq!(knot, vec![delegation], "Knot's example.net as read back");

    // Another world, on another net: the same contents, served.
    let b = world().await;
    assert_ne!(a.net(), b.net());
    b.restore(&snap).await.unwrap();
    assert_eq!(b.snapshot().await.unwrap(), snap);
    let served = b
        .zones(child_account)
        .into_iter()
        .find(|z| z.id == child)
        .expect("the child zone under its own ID");
    assert_eq!(served.name_servers, child_ns);
    // The restored zone is served at once: its name servers answer for it.
    let server = b
        .name_server_addr(&child_ns[0])
        .expect("the pool server's address in the new world");
    let answer = dig(server, "api.example.com.", "SOA", false);
    assert_eq!(answer.status, "NOERROR", "{}", answer.raw);
    assert!(answer.flags.iter().any(|f| f == "aa"), "{}", answer.raw);
}
