//! Destroy never leaves a dangling delegation, whoever moved the parent: when
//! the zone that actually delegates the name (found by walking from the
//! root) is not the link's parent and still refers to the child zone's
//! servers, destroy refuses before its first write, naming where the
//! delegation lives; once it is removed there, destroy finishes.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod support;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use r53world::{PARENT_ACCOUNT, TSIG_KEY_NAME, TSIG_SECRET};
use route53delegation::delegation::ParentSpec;
use route53delegation::parent::{DnsUpdateParent, ParentKind, TsigKey};
use route53delegation::{CancellationToken, DomainName, Error, LinkState};
use support::*;

/// Copies the NS record of `name` (pointing at `state`'s child servers) into
/// `zone_id`, as an organisation moving its zone to Route 53 copies records.
async fn copy_delegation(f: &Fixture, zone_id: &str, name: &str, state: &LinkState, delete: bool) {
    let rrset = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Ns)
        .ttl(300)
        .set_resource_records(Some(
            state
                .name_servers
                .to_strings()
                .into_iter()
                .map(|v| ResourceRecord::builder().value(v).build().unwrap())
                .collect(),
        ))
        .build()
        .unwrap();
    let action = if delete {
        ChangeAction::Delete
    } else {
        ChangeAction::Create
    };
    let console = console(&f.world, PARENT_ACCOUNT);
    let change = console
        .change_resource_record_sets()
        .hosted_zone_id(zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(action)
                        .resource_record_set(rrset)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("change the moved parent zone");
    // Served once INSYNC, as the organisation's own change would be.
    let id = change.change_info().unwrap().id().to_string();
    for _ in 0..600 {
        let status = console.get_change().id(&id).send().await.unwrap();
        if status.change_info().unwrap().status() == &ChangeStatus::Insync {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("change {id} not INSYNC within 30 s");
}

fn child_zone_exists(f: &Fixture, zone_id: &str) -> bool {
    f.world.zones(CHILD).iter().any(|z| z.id == zone_id)
}

fn ns_in(f: &Fixture, zone_id: &str, name: &str) -> bool {
    let fq = format!("{name}.");
    f.world
        .zones(PARENT_ACCOUNT)
        .iter()
        .filter(|z| z.id == zone_id)
        .flat_map(|z| z.records.iter())
        .any(|r| r.name == fq && r.rtype == r53world::RrType::Ns)
}

fn assert_refused_naming(e: &Error, parent_zone: &str) {
    let text = e.to_string();
    assert!(
        matches!(e.root(), Error::DelegatedElsewhere(d) if d.parent_zone.as_str() == parent_zone),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(
        text.contains("remove the NS record for") && text.contains(parent_zone),
        "{text}"
    );
}

/// The failure mode: `example.com` moved to a new hosted zone (records
/// copied, the TLD re-pointed) while the link still names the old one;
/// destroy removed the record from the old zone, deleted the child zone, and
/// left the new parent delegating to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_refuses_while_a_moved_route53_parent_still_delegates() {
    let f = fixture().await;
    let c = CancellationToken::new();
    let mut spec = spec("moved.example.com");
    spec.parent.zone = route53delegation::delegation::ZoneRef::Id(f.parent_zone_id.clone());
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let zone_id = st.child_zone_id.clone();

    let new_parent = create_zone_as(&f.world, PARENT_ACCOUNT, "example.com").await;
    copy_delegation(&f, &new_parent, "moved.example.com", &st, false).await;
    f.world
        .register_domain("example.com", &new_parent)
        .await
        .unwrap();

    let e = f.engine.destroy(&spec, &st, T, &c).await.unwrap_err();
    assert_refused_naming(&e, "example.com");
    // Nothing was changed: the zone and the old parent's record are kept.
    assert!(
        child_zone_exists(&f, &zone_id),
        "the child zone was deleted"
    );
    assert!(
        ns_in(&f, &f.parent_zone_id, "moved.example.com"),
        "the old parent's record was removed although destroy refused"
    );

    // Removed where it lives now: destroy finishes.
    copy_delegation(&f, &new_parent, "moved.example.com", &st, true).await;
    f.engine.destroy(&spec, &st, T, &c).await.unwrap();
    assert!(!child_zone_exists(&f, &zone_id), "the child zone was kept");
}

/// The story: `example.net` moved from a Knot server taking RFC
/// 2136 updates to Route 53, its records copied and the TLD re-pointed; the
/// link still names its old `dns_update` parent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_refuses_while_a_parent_moved_off_dns_update_still_delegates() {
    let f = fixture().await;
    let c = CancellationToken::new();
    let mut spec = spec("team.example.net");
    spec.parent = ParentSpec {
        kind: ParentKind::DnsUpdate(DnsUpdateParent {
            server: f.world.example_net_server(),
            zone: DomainName::parse("example.net").unwrap(),
            key: TsigKey::parse(TSIG_KEY_NAME, "hmac-sha256", TSIG_SECRET).unwrap(),
        }),
        ..spec.parent
    };
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let zone_id = st.child_zone_id.clone();

    let route53 = create_zone_as(&f.world, PARENT_ACCOUNT, "example.net").await;
    copy_delegation(&f, &route53, "team.example.net", &st, false).await;
    f.world
        .register_domain("example.net", &route53)
        .await
        .unwrap();

    let e = f.engine.destroy(&spec, &st, T, &c).await.unwrap_err();
    assert_refused_naming(&e, "example.net");
    assert!(
        child_zone_exists(&f, &zone_id),
        "the child zone was deleted"
    );

    copy_delegation(&f, &route53, "team.example.net", &st, true).await;
    f.engine.destroy(&spec, &st, T, &c).await.unwrap();
    assert!(!child_zone_exists(&f, &zone_id), "the child zone was kept");
}

/// The ordinary destroy is untouched: the walk ends in the link's own
/// parent, whose record destroy removes itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_of_a_delegation_in_its_own_parent_is_not_refused() {
    let f = fixture().await;
    let c = CancellationToken::new();
    let spec = spec("plain.example.com");
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    f.engine.destroy(&spec, &st, T, &c).await.unwrap();
    assert!(!child_zone_exists(&f, &st.child_zone_id));
}

/// A walk that cannot finish (no root server answers: DNS not reachable
/// from where Terraform runs) finds nothing, and destroy goes on as it did
/// before the check existed: the failure mode guarded is a destroy that
/// could never finish without DNS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_goes_on_when_the_walk_cannot_finish() {
    let f = fixture().await;
    let c = CancellationToken::new();
    let spec = spec("offline.example.com");
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    // A root where nothing listens, on the world's own loopback net.
    let silent = format!("127.{}.0.250:53", f.world.net()).parse().unwrap();
    let engine = route53delegation::Engine::new(route53delegation::EngineConfig {
        roots: vec![silent],
        ..engine_config(&f.world)
    });
    engine.destroy(&spec, &st, T, &c).await.unwrap();
    assert!(
        !child_zone_exists(&f, &st.child_zone_id),
        "the zone was kept"
    );
    assert!(!ns_in(&f, &f.parent_zone_id, "offline.example.com"));
}
