//! The RFC 2136 parent against the world's Knot server for `example.net`:
//! the compare-and-swap made of update prerequisites, exact deletes, the
//! SOA serial, and each TSIG failure named.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

use r53world::{World, WorldConfig, TSIG_KEY_NAME, TSIG_SECRET};
use route53delegation::dns::DnsClient;
use route53delegation::parent::dns_update::{self, UpdateError};
use route53delegation::parent::{DnsUpdateParent, TsigKey};
use route53delegation::record::NsRecord;
use route53delegation::{DomainName, NsSet};

fn parent(world: &World, key: &str, secret: &str) -> DnsUpdateParent {
    DnsUpdateParent {
        server: world.example_net_server(),
        zone: DomainName::parse("example.net").unwrap(),
        key: TsigKey::parse(key, "hmac-sha256", secret).unwrap(),
    }
}

fn rec(ttl: i64, ns: &[&str]) -> NsRecord {
    NsRecord {
        ttl,
        values: NsSet::parse(ns).unwrap(),
    }
}

/// Failure modes: a create that overwrites a record another writer made in
/// between, a swap or delete that acts on a record changed since it was
/// read, a read that does not reflect the update just made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_are_compare_and_swap_and_reads_follow_the_serial() {
    let world = World::start(WorldConfig::for_test()).await.expect("world");
    let p = parent(&world, TSIG_KEY_NAME, TSIG_SECRET);
    let dns = DnsClient::default();
    let name = DomainName::parse("team.example.net").unwrap();
    let ours = rec(300, &["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"]);
    let theirs = rec(300, &["ns1.other-dns.example"]);

    let before = dns_update::read_ns(&p, &name, &dns).await.unwrap();
    assert_eq!(before.record, None);
    dns_update::write_ns(&p, &name, &ours, None).await.unwrap();
    let serial =
        dns_update::wait_serial_past(&p, before.serial, &dns, std::time::Duration::from_secs(10))
            .await
            .unwrap();
    let now = dns_update::read_ns(&p, &name, &dns).await.unwrap();
    assert_eq!(now.record.as_ref(), Some(&ours));
    assert_eq!(now.serial, serial);

    // A second create finds the RRset: YXRRSET, nothing changed.
    let e = dns_update::write_ns(&p, &name, &theirs, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, UpdateError::Prerequisite { exists: true }),
        "{e:?}"
    );
    // A swap against a stale read: NXRRSET, nothing changed.
    let e = dns_update::write_ns(&p, &name, &ours, Some(&theirs))
        .await
        .unwrap_err();
    assert!(
        matches!(e, UpdateError::Prerequisite { exists: false }),
        "{e:?}"
    );
    let e = dns_update::delete_exact(&p, &name, &theirs)
        .await
        .unwrap_err();
    assert!(
        matches!(e, UpdateError::Prerequisite { exists: false }),
        "{e:?}"
    );
    assert_eq!(
        dns_update::read_ns(&p, &name, &dns).await.unwrap().record,
        Some(ours.clone())
    );

    // A swap against exactly what is there, with a new TTL too.
    let moved = rec(600, &["ns-3.awsdns-03.org"]);
    dns_update::write_ns(&p, &name, &moved, Some(&ours))
        .await
        .unwrap();
    dns_update::wait_serial_past(&p, serial, &dns, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        dns_update::read_ns(&p, &name, &dns).await.unwrap().record,
        Some(moved.clone())
    );
    let serial = dns_update::read_serial(&p, &dns).await.unwrap();
    dns_update::delete_exact(&p, &name, &moved).await.unwrap();
    dns_update::wait_serial_past(&p, serial, &dns, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let gone = dns_update::read_ns(&p, &name, &dns).await.unwrap().record;
    assert_eq!(gone, None, "deleted exactly what was written");
}

/// Failure mode: a wrong key gives an unreadable error, or is noticed only
/// when the first real update is sent. The probe changes nothing and names
/// what to check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_keys_are_named_by_the_probe() {
    let world = World::start(WorldConfig::for_test()).await.expect("world");
    dns_update::probe(&parent(&world, TSIG_KEY_NAME, TSIG_SECRET))
        .await
        .expect("the right key passes the probe");
    let e = dns_update::probe(&parent(&world, "no-such-key", TSIG_SECRET))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("BADKEY:") && e.contains("check key_name"),
        "{e}"
    );
    let e = dns_update::probe(&parent(&world, TSIG_KEY_NAME, "d3Jvbmctc2VjcmV0"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("BADSIG:") && e.contains("check key_secret"),
        "{e}"
    );
    let wrong_zone = DnsUpdateParent {
        zone: DomainName::parse("example.org").unwrap(),
        ..parent(&world, TSIG_KEY_NAME, TSIG_SECRET)
    };
    let e = dns_update::probe(&wrong_zone)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("NOTAUTH:") || e.starts_with("REFUSED:") || e.starts_with("NOTZONE:"),
        "{e}"
    );
}
