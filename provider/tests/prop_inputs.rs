//! Property tests for every parser of user input: names, durations, import
//! IDs, role ARNs, zone IDs, resolver addresses and whole configurations.
//! Whatever a user types, the provider answers with a value or a clear
//! diagnostic on the attribute, never a panic (a panic in the plugin is an
//! "Internal provider error" at best, a lost partial apply at worst), and
//! values that are printed back parse to themselves.

use std::time::Duration;

use proptest::prelude::*;
use route53delegation::account::validate_role_arn;
use route53delegation::zone::bare_zone_id;
use route53delegation::DomainName;
use route53delegation_provider::duration;
use route53delegation_provider::protocol::{Severity, Value};
use route53delegation_provider::resources::link::{import_id, parse_config, parse_resolvers};

/// Arbitrary text, including control characters, non-ASCII and separators
/// the parsers split on.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,120}",
        "[a-zA-Z0-9.:;=@/_ -]{0,120}",
        any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?"
}

fn subdomain() -> impl Strategy<Value = String> {
    (label(), label(), "(com|net|org|io)").prop_map(|(a, b, tld)| format!("{a}.{b}.{tld}"))
}

fn zone_id() -> impl Strategy<Value = String> {
    "Z[0-9A-Z]{5,20}"
}

fn role_arn() -> impl Strategy<Value = String> {
    (
        "(aws|aws-cn|aws-us-gov)",
        "[0-9]{12}",
        "[A-Za-z0-9+=,.@_-]{1,40}",
    )
        .prop_map(|(p, acct, name)| format!("arn:{p}:iam::{acct}:role/{name}"))
}

/// A configuration-shaped object with every attribute null, as an import ID
/// with only a name produces it.
fn blank_config(name: &str) -> Value {
    import_id::parse(&format!("name={name}")).expect("a name-only import ID parses")
}

fn child_mut(v: &mut Value) -> &mut Value {
    match v {
        Value::Object(m) => m.get_mut("child").expect("child block"),
        _ => unreachable!("configurations are objects"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn durations_never_panic(s in text()) {
        let _ = duration::parse(&s);
    }

    #[test]
    fn huge_numbers_are_a_clear_error(n in "[1-9][0-9]{15,60}", unit in "(h|m|s|ms)") {
        let input = format!("{n}{unit}");
        let e = duration::parse(&input).expect_err("far beyond a year");
        prop_assert!(e.contains("expected a duration such as"), "{}", e);
    }

    #[test]
    fn durations_round_trip_to_the_millisecond(ms in 0u64..=duration::MAX.as_millis() as u64) {
        let d = Duration::from_millis(ms);
        prop_assert_eq!(duration::parse(&duration::format(d)).unwrap(), d);
    }

    #[test]
    fn import_ids_never_panic(s in text()) {
        let _ = import_id::parse(&s);
    }

    #[test]
    fn import_ids_round_trip_their_keys(
        name in subdomain(),
        zone in zone_id(),
        parent_role in role_arn(),
        child_role in role_arn(),
        child_zone in proptest::option::of(zone_id()),
    ) {
        let mut id = format!(
            "name={name}; parent_zone_id={zone};parent_role_arn={parent_role};child_role_arn={child_role}"
        );
        if let Some(z) = &child_zone {
            id.push_str(&format!(";child_zone_id=/hostedzone/{z}"));
        }
        let v = import_id::parse(&id).unwrap();
        prop_assert_eq!(v.get_str("name"), Some(name.as_str()));
        let parent = v.get("parent").unwrap();
        prop_assert_eq!(parent.get_str("zone_id"), Some(zone.as_str()));
        prop_assert_eq!(
            parent.get("assume_role").and_then(|r| r.get_str("role_arn")),
            Some(parent_role.as_str())
        );
        let child = v.get("child").unwrap();
        prop_assert_eq!(
            child.get("assume_role").and_then(|r| r.get_str("role_arn")),
            Some(child_role.as_str())
        );
        let expected_child_zone = child_zone.map(|z| format!("/hostedzone/{z}"));
        prop_assert_eq!(child.get_str("zone_id"), expected_child_zone.as_deref());

        // The short form NAME@ZONE_ID carries the same two values.
        let v = import_id::parse(&format!("{name}@{zone}")).unwrap();
        prop_assert_eq!(v.get_str("name"), Some(name.as_str()));
        prop_assert_eq!(v.get("parent").unwrap().get_str("zone_id"), Some(zone.as_str()));
    }

    #[test]
    fn role_arns_never_panic(s in text()) {
        let _ = validate_role_arn(&s);
    }

    #[test]
    fn well_formed_role_arns_are_accepted(arn in role_arn()) {
        prop_assert!(validate_role_arn(&arn).is_ok(), "{}", arn);
    }

    #[test]
    fn names_never_panic_and_reparse(s in text()) {
        if let Ok(n) = DomainName::parse(&s) {
            prop_assert_eq!(DomainName::parse(&n.fqdn()).unwrap(), n);
        }
        let _ = DomainName::parse_subdomain(&s);
    }

    #[test]
    fn zone_ids_normalise_the_hostedzone_prefix(z in zone_id()) {
        prop_assert_eq!(bare_zone_id(&format!("/hostedzone/{z}")), z.clone());
        prop_assert_eq!(bare_zone_id(&z), z);
    }

    #[test]
    fn resolvers_never_panic(items in proptest::collection::vec(text(), 0..4)) {
        let _ = parse_resolvers(&items);
    }

    /// Whole configurations with arbitrary text in every parsed attribute:
    /// no panic, and every error names its attribute.
    #[test]
    fn configurations_never_panic_and_errors_name_the_attribute(
        name in text(),
        zone in text(),
        child_zone in text(),
        arn in text(),
        role_duration in text(),
    ) {
        let mut v = blank_config("api.example.com");
        v.set("name", Value::string(&name));
        if let Value::Object(m) = &mut v {
            let parent = m.get_mut("parent").unwrap();
            parent.set("zone_id", Value::string(&zone));
            parent.set(
                "assume_role",
                Value::object([
                    ("role_arn", Value::string(&arn)),
                    ("session_name", Value::Null),
                    ("external_id", Value::Null),
                    ("duration", Value::string(&role_duration)),
                ]),
            );
        }
        child_mut(&mut v).set("zone_id", Value::string(&child_zone));
        let (_, diags) = parse_config(&v);
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            prop_assert!(d.attribute.is_some(), "error without an attribute: {:?}", d);
            prop_assert!(!d.detail.ends_with('.'), "trailing period: {:?}", d.detail);
        }
    }
}
