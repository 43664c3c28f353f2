//! The same scenarios through the SDK against r53world and against moto
//! server. Where moto follows the AWS documentation both must agree; where it
//! does not, the test asserts the documented behaviour for r53world and
//! asserts moto's known deviation (named in a comment and in the message),
//! so a moto upgrade that changes behaviour shows up as a failure here.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_route53::types::{ChangeAction, RrType};
use aws_sdk_route53::Client;
use common::*;
use r53world::{World, OPERATOR_ACCOUNT};

const ACCOUNT: &str = "222222222222";

struct Moto {
    endpoint: String,
    _child: Child,
}

/// One moto_server per test process (moto state is global, so scenarios
/// take `SERIAL`). It dies with the test process: its stdin is a pipe from
/// us and a shell watchdog kills it when the pipe closes.
fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let bin = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_string());
        require_tool(&bin);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{bin} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid"
            ))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto_server ({bin}): {e}"));
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let (st, _, _) = http(&endpoint, "POST", "/moto-api/reset", &[], "");
                if st == 200 {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            endpoint,
            _child: child,
        }
    })
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Backend {
    name: &'static str,
    moto: bool,
    r53: Client,
    sts: aws_sdk_sts::Client,
}

/// r53world (account 222222222222) and a freshly reset moto.
async fn backends(w: &World) -> [Backend; 2] {
    let m = moto();
    let (st, _, _) = http(&m.endpoint, "POST", "/moto-api/reset", &[], "");
    assert_eq!(st, 200, "moto reset failed");
    let (k, s) = w.credentials(ACCOUNT);
    [
        Backend {
            name: "r53world",
            moto: false,
            r53: r53(w, ACCOUNT),
            sts: sts_with(&w.endpoint(), &k, &s),
        },
        Backend {
            name: "moto",
            moto: true,
            r53: r53_with(&m.endpoint, "AKIAIOSFODNN7EXAMPLE", "testing", None),
            sts: sts_with(&m.endpoint, "AKIAIOSFODNN7EXAMPLE", "testing"),
        },
    ]
}

async fn apply(
    c: &Client,
    id: &str,
    changes: Vec<aws_sdk_route53::types::Change>,
) -> Result<String, String> {
    c.change_resource_record_sets()
        .hosted_zone_id(id)
        .change_batch(batch(changes))
        .send()
        .await
        .map(|o| {
            o.change_info()
                .map(|i| i.id().to_string())
                .unwrap_or_default()
        })
        .map_err(|e| code(&e))
}

async fn rrsets(c: &Client, id: &str) -> Vec<(String, String, i64, Vec<String>)> {
    let out = c
        .list_resource_record_sets()
        .hosted_zone_id(id)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                r.r#type().as_str().to_string(),
                r.ttl().unwrap_or(-1),
                r.resource_records()
                    .iter()
                    .map(|v| v.value().to_string())
                    .collect(),
            )
        })
        .collect()
}

fn a(name: &str, ttl: i64, v: &[&str]) -> aws_sdk_route53::types::ResourceRecordSet {
    rrset(name, RrType::A, ttl, v)
}

#[tokio::test]
async fn zone_creation_and_name_servers() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        let (id1, ns1) = create_zone(&b.r53, "example.com", "c1").await;
        let (_id2, ns2) = create_zone(&b.r53, "example.com", "c2").await;
        assert_eq!(ns1.len(), 4, "{}: four name servers", b.name);
        let sets = rrsets(&b.r53, &id1).await;
        assert!(
            sets.iter().any(|r| r.1 == "NS" && r.0 == "example.com."),
            "{}: apex NS",
            b.name
        );
        assert!(
            sets.iter().any(|r| r.1 == "SOA" && r.0 == "example.com."),
            "{}: apex SOA",
            b.name
        );
        let z = b.r53.get_hosted_zone().id(&id1).send().await.unwrap();
        assert_eq!(
            z.hosted_zone().unwrap().name(),
            "example.com.",
            "{}",
            b.name
        );
        if b.moto {
            // moto deviation: every hosted zone gets the same four name servers.
            assert_eq!(
                ns1, ns2,
                "moto deviation (same NS for every zone) no longer holds"
            );
        } else {
            assert_ne!(
                ns1, ns2,
                "Route 53 never gives two zones of the same name the same set"
            );
            let soa = sets.iter().find(|r| r.1 == "SOA").unwrap();
            assert_eq!(soa.2, 900);
            assert!(soa.3[0].ends_with(" awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"));
        }
    }
}

#[tokio::test]
async fn get_change_status_and_unknown_ids() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        let (id, _) = create_zone(&b.r53, "example.com", "gc").await;
        let cid = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("w.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await
        .unwrap();
        let st = b
            .r53
            .get_change()
            .id(&cid)
            .send()
            .await
            .unwrap()
            .change_info()
            .unwrap()
            .status()
            .as_str()
            .to_string();
        let unknown = b.r53.get_change().id("CDOESNOTEXIST00000000").send().await;
        if b.moto {
            // moto deviation: GetChange is always INSYNC, for any id.
            assert_eq!(
                st, "INSYNC",
                "moto deviation (GetChange always INSYNC) no longer holds"
            );
            assert!(
                unknown.is_ok(),
                "moto deviation (GetChange accepts any id) no longer holds"
            );
        } else {
            assert_eq!(st, "PENDING");
            assert_eq!(code(&unknown.unwrap_err()), "NoSuchChange");
            wait_insync(&b.r53, &cid).await;
        }
        // Both: unknown hosted zone.
        let e = b
            .r53
            .get_hosted_zone()
            .id("ZDOESNOTEXIST0000000")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "NoSuchHostedZone", "{}", b.name);
    }
}

#[tokio::test]
async fn caller_reference_idempotency() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        create_zone(&b.r53, "example.com", "same-ref").await;
        let r = b
            .r53
            .create_hosted_zone()
            .name("other.example.com")
            .caller_reference("same-ref")
            .send()
            .await;
        if b.moto {
            // moto deviation: no CallerReference idempotency.
            assert!(
                r.is_ok(),
                "moto deviation (no CallerReference check) no longer holds: {:?}",
                r.err().map(|e| code(&e))
            );
        } else {
            assert_eq!(code(&r.unwrap_err()), "HostedZoneAlreadyExists");
        }
    }
}

#[tokio::test]
async fn duplicate_create_and_upsert() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        let (id, _) = create_zone(&b.r53, "example.com", "dup").await;
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("w.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await
        .unwrap();
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("w.example.com", 60, &["192.0.2.2"]),
            )],
        )
        .await;
        let count = |sets: &[(String, String, i64, Vec<String>)]| {
            sets.iter()
                .filter(|s| s.0 == "w.example.com." && s.1 == "A")
                .count()
        };
        if b.moto {
            // moto deviation: CREATE of an existing name/type adds a second rrset.
            assert!(
                r.is_ok(),
                "moto deviation (duplicate CREATE accepted) no longer holds: {r:?}"
            );
            assert_eq!(
                count(&rrsets(&b.r53, &id).await),
                2,
                "moto deviation (duplicate rrset) no longer holds"
            );
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
            assert_eq!(count(&rrsets(&b.r53, &id).await), 1);
        }
        // Both: UPSERT replaces the values of a (fresh) record.
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("u.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await
        .unwrap();
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Upsert,
                a("u.example.com", 120, &["192.0.2.9"]),
            )],
        )
        .await
        .unwrap();
        let sets = rrsets(&b.r53, &id).await;
        let u: Vec<_> = sets.iter().filter(|s| s.0 == "u.example.com.").collect();
        assert_eq!(u.len(), 1, "{}", b.name);
        assert_eq!(
            (u[0].2, u[0].3.clone()),
            (120, vec!["192.0.2.9".to_string()]),
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn batches_atomicity_and_delete_matching() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        let (id, _) = create_zone(&b.r53, "example.com", "atomic").await;
        // A good CREATE followed by a change outside the zone.
        let r = apply(
            &b.r53,
            &id,
            vec![
                change(
                    ChangeAction::Create,
                    a("first.example.com", 60, &["192.0.2.1"]),
                ),
                change(
                    ChangeAction::Create,
                    a("www.example.net", 60, &["192.0.2.1"]),
                ),
            ],
        )
        .await;
        let has_first = rrsets(&b.r53, &id)
            .await
            .iter()
            .any(|s| s.0 == "first.example.com.");
        assert_eq!(r.unwrap_err(), "InvalidChangeBatch", "{}", b.name);
        if b.moto {
            // moto deviation: batches are not atomic (the first CREATE stays).
            assert!(
                has_first,
                "moto deviation (non-atomic batch) no longer holds"
            );
        } else {
            assert!(!has_first, "batch must be all or nothing");
        }
        // DELETE of a record that does not exist.
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Delete,
                a("missing.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await;
        if b.moto {
            // moto deviation: answers InvalidInput ("Expected exactly one of
            // [AliasTarget, ...]") where Route 53 answers InvalidChangeBatch
            // "... but it was not found".
            assert_eq!(
                r.unwrap_err(),
                "InvalidInput",
                "moto deviation (InvalidInput for missing DELETE) no longer holds"
            );
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
        }
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("d.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await
        .unwrap();
        // Both reject a DELETE whose TTL/values differ (codes differ).
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Delete,
                a("d.example.com", 300, &["192.0.2.99"]),
            )],
        )
        .await;
        if b.moto {
            // moto deviation: InvalidInput instead of InvalidChangeBatch.
            assert_eq!(
                r.unwrap_err(),
                "InvalidInput",
                "moto deviation (InvalidInput for mismatched DELETE) no longer holds"
            );
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
        }
        // After an UPSERT, a DELETE with the *original* values.
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Upsert,
                a("d.example.com", 60, &["192.0.2.2"]),
            )],
        )
        .await
        .unwrap();
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Delete,
                a("d.example.com", 60, &["192.0.2.1"]),
            )],
        )
        .await;
        if b.moto {
            // moto deviation: DELETE is matched against any earlier CREATE/UPSERT
            // in moto's change journal, not against the current values.
            assert!(r.is_ok(), "moto deviation (DELETE matches journal, not current values) no longer holds: {r:?}");
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
        }
    }
}

#[tokio::test]
async fn delete_zone_with_records_and_in_zone_checks() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        let (id, _) = create_zone(&b.r53, "example.com", "dz").await;
        apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                rrset("api.example.com", RrType::Ns, 300, &["ns1.x.net."]),
            )],
        )
        .await
        .unwrap();
        let r = b.r53.delete_hosted_zone().id(&id).send().await;
        if b.moto {
            // moto deviation: DeleteHostedZone succeeds while delegation NS records remain.
            assert!(
                r.is_ok(),
                "moto deviation (delete non-empty zone) no longer holds"
            );
        } else {
            assert_eq!(code(&r.unwrap_err()), "HostedZoneNotEmpty");
        }
        let (id, _) = create_zone(&b.r53, "example.org", "dz2").await;
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("www.badexample.org", 60, &["192.0.2.1"]),
            )],
        )
        .await;
        if b.moto {
            // moto deviation: the in-zone check is a plain suffix match.
            assert!(
                r.is_ok(),
                "moto deviation (suffix in-zone check) no longer holds: {r:?}"
            );
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
        }
        // Both reject a name in a different zone altogether.
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("www.example.net", 60, &["192.0.2.1"]),
            )],
        )
        .await;
        assert_eq!(r.unwrap_err(), "InvalidChangeBatch", "{}", b.name);
        let r = apply(
            &b.r53,
            &id,
            vec![change(
                ChangeAction::Create,
                a("www.example.org", 60, &["not-an-ip"]),
            )],
        )
        .await;
        if b.moto {
            // moto deviation: record values are not validated.
            assert!(
                r.is_ok(),
                "moto deviation (no value validation) no longer holds: {r:?}"
            );
        } else {
            assert_eq!(r.unwrap_err(), "InvalidChangeBatch");
        }
    }
}

#[tokio::test]
async fn listing_order_and_paging() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        for (i, n) in ["b.com", "a.net", "a.com"].iter().enumerate() {
            create_zone(&b.r53, n, &format!("l{i}")).await;
        }
        let out = b.r53.list_hosted_zones_by_name().send().await.unwrap();
        let names: Vec<&str> = out.hosted_zones().iter().map(|z| z.name()).collect();
        assert_eq!(
            names,
            ["a.com.", "b.com.", "a.net."],
            "{}: reversed-label order",
            b.name
        );
        let p1 = b.r53.list_hosted_zones().max_items(2).send().await.unwrap();
        assert_eq!(p1.hosted_zones().len(), 2, "{}", b.name);
        assert!(p1.is_truncated(), "{}", b.name);
        let p2 = b
            .r53
            .list_hosted_zones()
            .max_items(2)
            .set_marker(p1.next_marker().map(str::to_string))
            .send()
            .await
            .unwrap();
        assert_eq!(p2.hosted_zones().len(), 1, "{}", b.name);
    }
}

#[tokio::test]
async fn sts_assume_role_trust() {
    let _g = SERIAL.lock().await;
    let w = world().await;
    for b in backends(&w).await {
        // Caller account 222222222222 (moto: 123456789012) is not trusted.
        let r = b
            .sts
            .assume_role()
            .role_arn("arn:aws:iam::111111111111:role/delegation-parent")
            .role_session_name("s")
            .send()
            .await;
        let id = b.sts.get_caller_identity().send().await.unwrap();
        if b.moto {
            // moto deviation: AssumeRole always succeeds unless IAM auth is on.
            assert!(
                r.is_ok(),
                "moto deviation (AssumeRole always succeeds) no longer holds"
            );
            assert_eq!(
                id.account(),
                Some("123456789012"),
                "moto maps dummy keys to 123456789012"
            );
        } else {
            assert_eq!(code(&r.unwrap_err()), "AccessDenied");
            assert_eq!(id.account(), Some(ACCOUNT));
        }
    }
    // The operator is trusted in r53world.
    let (k, s) = w.credentials(OPERATOR_ACCOUNT);
    sts_with(&w.endpoint(), &k, &s)
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/delegation-parent")
        .role_session_name("s")
        .send()
        .await
        .unwrap();
}
