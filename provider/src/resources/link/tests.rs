//! Unit tests of the link resource's schema, parsing, import IDs and state
//! mapping.

use std::time::{Duration, SystemTime};

use route53delegation::delegation::{
    Retired, RetiredObject, VerificationSummary, VerifyStatus, ZoneRef, DEFAULT_TTL,
};
use route53delegation::record::NsRecord;
use route53delegation::verify::{ServerResult, ServerRole};
use route53delegation::{AccountSettings, AssumeRole, DomainName, LinkState, NsSet};

use crate::protocol::{Diagnostic, Value};

use super::config::*;
use super::import_id;
use super::schema::*;
use super::state::*;

fn cfg(name: &str, parent: Value, child: Value) -> Value {
    Value::object([
        ("name", Value::string(name)),
        ("ttl", Value::Null),
        ("parent", parent),
        ("child", child),
        ("verify", Value::Null),
        ("timeouts", Value::Null),
    ])
}

fn parent_by_name(z: &str) -> Value {
    Value::object([
        ("zone_name", Value::string(z)),
        ("zone_id", Value::Null),
        ("assume_role", Value::Null),
    ])
}

fn child() -> Value {
    Value::object([("zone_id", Value::Null), ("assume_role", Value::Null)])
}

fn paths(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| {
            d.attribute
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn schema_is_valid() {
    schema().validate().unwrap();
    assert!(schema().block.has_secrets(), "external_id is sensitive");
}

#[test]
fn good_config_parses() {
    let (c, d) = parse_config(&cfg(
        "API.example.com.",
        parent_by_name("example.com"),
        child(),
    ));
    assert!(d.is_empty(), "{d:?}");
    let c = c.unwrap();
    assert_eq!(c.spec.name.as_str(), "api.example.com");
    assert_eq!(c.spec.ttl, DEFAULT_TTL);
}

#[test]
fn bad_inputs_name_the_attribute() {
    let (_, d) = parse_config(&cfg(
        "api.example.org",
        parent_by_name("example.com"),
        child(),
    ));
    assert_eq!(paths(&d), vec!["name"]);
    assert!(d[0]
        .detail
        .contains("not a subdomain of parent.zone_name example.com"));

    let (_, d) = parse_config(&cfg(
        "*.example.com",
        parent_by_name("example.com"),
        child(),
    ));
    assert!(d[0].detail.contains("wildcard"), "{d:?}");

    let both = Value::object([
        ("zone_name", Value::string("example.com")),
        ("zone_id", Value::string("Z123")),
    ]);
    let (_, d) = parse_config(&cfg("api.example.com", both, child()));
    assert_eq!(paths(&d), vec!["parent.zone_id"]);

    let neither = Value::object([("zone_name", Value::Null), ("zone_id", Value::Null)]);
    let (_, d) = parse_config(&cfg("api.example.com", neither, child()));
    assert_eq!(paths(&d), vec!["parent"]);

    let mut v = cfg("api.example.com", parent_by_name("example.com"), child());
    v.set("ttl", Value::int(-5));
    let (_, d) = parse_config(&v);
    assert_eq!(paths(&d), vec!["ttl"]);
    assert!(d[0].detail.contains("from 0 to 2147483647"));

    let bad_role = Value::object([
        ("zone_name", Value::string("example.com")),
        (
            "assume_role",
            Value::object([("role_arn", Value::string("arn:aws:iam::1:role/x"))]),
        ),
    ]);
    let (_, d) = parse_config(&cfg("api.example.com", bad_role, child()));
    assert_eq!(paths(&d), vec!["parent.assume_role.role_arn"]);

    let bad_zone = Value::object([("zone_id", Value::string("not a zone"))]);
    let (_, d) = parse_config(&cfg(
        "api.example.com",
        parent_by_name("example.com"),
        bad_zone,
    ));
    assert_eq!(paths(&d), vec!["child.zone_id"]);
}

#[test]
fn unknowns_are_not_errors() {
    let p = Value::object([("zone_id", Value::Unknown), ("zone_name", Value::Null)]);
    let (c, d) = parse_config(&cfg("api.example.com", p, child()));
    assert!(c.is_none());
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn import_ids() {
    let v = import_id::parse("api.example.com@Z123").unwrap();
    let (c, d) = parse_config(&v);
    assert!(d.is_empty(), "{d:?}");
    assert!(matches!(c.unwrap().spec.parent.zone, ZoneRef::Id(ref z) if z == "Z123"));

    let v = import_id::parse(
        "name=api.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/delegation-child;child_external_id=x",
    )
    .unwrap();
    let c = parse_config(&v).0.unwrap();
    let role = c.spec.child.account.assume_role.unwrap();
    assert_eq!(role.external_id.as_deref(), Some("x"));

    // The external ID can come from the environment instead of the ID.
    std::env::set_var("R53D_TEST_EXTERNAL_ID", "from-env");
    let v = import_id::parse(
        "name=api.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/delegation-child;child_external_id_env=R53D_TEST_EXTERNAL_ID",
    )
    .unwrap();
    let c = parse_config(&v).0.unwrap();
    let role = c.spec.child.account.assume_role.unwrap();
    assert_eq!(role.external_id.as_deref(), Some("from-env"));
    assert!(import_id::parse(
        "name=a.example.com;parent_zone_name=example.com;child_role_arn=arn:aws:iam::222222222222:role/x;child_external_id_env=R53D_NO_SUCH_VARIABLE"
    )
    .unwrap_err()
    .contains("not set"));

    assert!(import_id::parse("api.example.com")
        .unwrap_err()
        .contains("NAME@PARENT_ZONE_ID"));
    assert!(import_id::parse("name=a.example.com;colour=blue")
        .unwrap_err()
        .contains("unknown key"));
    assert!(import_id::parse("parent_zone_id=Z1")
        .unwrap_err()
        .contains("name key is missing"));
}

#[test]
fn state_round_trips_through_terraform_values() {
    let st = LinkState {
        parent_zone_id: "ZP".into(),
        parent_zone_name: DomainName::parse("example.com").unwrap(),
        child_zone_id: "ZC".into(),
        name_servers: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
        delegated: Some(NsRecord {
            ttl: 300,
            values: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
        }),
        written: Some(NsRecord {
            ttl: 300,
            values: NsSet::parse(["a.example.net", "b.example.org"]).unwrap(),
        }),
        verification: Some(VerificationSummary {
            status: VerifyStatus::Verified,
            checked_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            servers_checked: 12,
            summary: "delegation of api.example.com verified".into(),
            servers: vec![
                ServerResult {
                    name: "a.example.net".into(),
                    address: Some("127.0.21.1".parse().unwrap()),
                    role: ServerRole::Child,
                    ok: false,
                    result: "timed out".into(),
                    rtt: None,
                },
                ServerResult {
                    name: "ns1.example.net".into(),
                    address: Some("127.0.0.3".parse().unwrap()),
                    role: ServerRole::Parent,
                    ok: true,
                    result: "ok".into(),
                    rtt: Some(Duration::from_millis(3)),
                },
            ],
        }),
        child_comment: None,
        child_tags: None,
        zone_owned: true,
        parent_account: None,
        child_account: None,
        retired: vec![Retired {
            account: AccountSettings {
                assume_role: Some(AssumeRole {
                    role_arn: "arn:aws:iam::222222222222:role/delegation-child".into(),
                    external_id: Some("ext".into()),
                    duration: Some(Duration::from_secs(3600)),
                    ..Default::default()
                }),
                ..Default::default()
            },
            what: RetiredObject::Zone {
                zone_id: "ZOLD".into(),
            },
        }],
    };
    let base = cfg("api.example.com", parent_by_name("example.com"), child());
    let v = with_state(&base, &DomainName::parse("api.example.com").unwrap(), &st);
    assert_eq!(v.get_str("id"), Some("api.example.com@ZP"));
    let back = link_state(&v, &encode_private(&st));
    assert_eq!(back, st);
}

/// Guards: a private state written by 0.1.0 (no version) misread after the
/// format gained one, or a newer provider's private state guessed at.
#[test]
fn private_state_of_every_version_is_read_or_set_aside() {
    // As 0.1.0 wrote it: no `v`.
    let v010 =
        br#"{"written":{"ttl":300,"values":["a.example.net","b.example.org"]},"owned":false}"#;
    let (p, read) = decode_private(v010);
    assert_eq!(read, PrivateRead::Current { from_version: 0 });
    let again = serde_json::to_value(&p).unwrap();
    assert_eq!(again["v"], PRIVATE_VERSION);
    assert_eq!(again["owned"], false);
    assert_eq!(again["written"]["ttl"], 300);

    let state = Value::object([
        (
            "name_servers",
            Value::List(vec![
                Value::string("a.example.net"),
                Value::string("b.example.org"),
            ]),
        ),
        (
            "delegated_name_servers",
            Value::List(vec![
                Value::string("a.example.net"),
                Value::string("b.example.org"),
            ]),
        ),
        ("ttl", Value::int(300)),
    ]);
    let st = link_state(&state, v010);
    assert!(!st.zone_owned, "0.1.0's owned=false is kept");
    assert_eq!(st.written.as_ref().map(|w| w.ttl), Some(300));

    // This build's own format round-trips, with its version.
    let written: serde_json::Value = serde_json::from_slice(&encode_private(&st)).unwrap();
    assert_eq!(written["v"], PRIVATE_VERSION);
    assert_eq!(
        decode_private(&encode_private(&st)).1,
        PrivateRead::Current {
            from_version: PRIVATE_VERSION
        }
    );

    // A newer provider's format: set aside, never guessed at; the link is
    // read as an import reads it.
    let newer = format!(
        r#"{{"v":{},"written":{{"ttl":60,"values":["x.example.net"]}},"owned":false}}"#,
        PRIVATE_VERSION + 1
    );
    let (p, read) = decode_private(newer.as_bytes());
    assert!(
        matches!(read, PrivateRead::Unknown(ref why) if why.contains("newer provider")),
        "{read:?}"
    );
    assert!(serde_json::to_value(&p).unwrap().get("written").is_none());
    let st = link_state(&state, newer.as_bytes());
    assert_eq!(
        st.written.as_ref().map(|w| w.ttl),
        Some(300),
        "the record holding the child's servers is taken as the link's, as on import"
    );
    assert!(
        st.zone_owned,
        "as on import: a zone not adopted by child.zone_id is the link's"
    );

    // Bytes that are not ours.
    assert!(matches!(
        decode_private(b"\x00garbage").1,
        PrivateRead::Unknown(_)
    ));
    assert_eq!(decode_private(b"").1, PrivateRead::Empty);
}

/// Guards: the import key for `assume_role.duration` named differently
/// from the attribute (`role_duration`), and IDs written with that name
/// refused after the rename.
#[test]
fn import_keys_name_the_attribute_and_the_old_name_still_reads() {
    let role = "arn:aws:iam::222222222222:role/delegation-child";
    for key in ["child_duration", "child_role_duration"] {
        let v = import_id::parse(&format!(
            "name=api.example.com;parent_zone_id=ZP;child_role_arn={role};{key}=2h"
        ))
        .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(
            v.get("child")
                .and_then(|c| c.get("assume_role"))
                .and_then(|r| r.get_str("duration")),
            Some("2h"),
            "{key}: {v:?}"
        );
    }
    let both = import_id::parse(&format!(
        "name=api.example.com;parent_zone_id=ZP;child_role_arn={role};child_duration=1h;child_role_duration=2h"
    ))
    .unwrap_err();
    assert!(both.contains("deprecated name of child_duration"), "{both}");
    assert!(import_id::in_key_terms("child.assume_role.duration").contains("child_duration"));
}
