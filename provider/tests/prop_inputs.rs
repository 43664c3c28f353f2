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

    /// The import IDs of the parents outside Route 53 carry every setting
    /// of the block (the secret through an environment variable) and parse
    /// into the same parent as the configuration would.
    #[test]
    fn dns_update_and_manual_import_ids_round_trip(
        zone in subdomain(),
        octets in (1u8..=254, 0u8..=255, 1u8..=254),
        port in 1u16..=65535,
        key in label(),
        alg in prop_oneof![Just("hmac-sha256"), Just("hmac-sha384"), Just("hmac-sha512")],
        secret in proptest::collection::vec(any::<u8>(), 1..48),
    ) {
        use base64::Engine as _;
        use route53delegation::parent::ParentKind;
        let name = format!("api.{zone}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&secret);
        std::env::set_var("R53D_PROP_TSIG_SECRET", &b64);
        let server = format!("127.{}.{}.{}:{port}", octets.0, octets.1, octets.2);
        let id = format!("{name}@dns-update:{server}/{zone}?key_name={key}&key_algorithm={alg}&key_secret_env=R53D_PROP_TSIG_SECRET&child_zone_id=Z123");
        let v = import_id::parse(&id).unwrap();
        let (cfg, d) = parse_config(&v);
        prop_assert!(d.is_empty(), "{:?}", d);
        let spec = cfg.unwrap().spec;
        prop_assert_eq!(spec.child.zone_id.as_deref(), Some("Z123"));
        match spec.parent.kind {
            ParentKind::DnsUpdate(p) => {
                prop_assert_eq!(p.server.to_string(), server.clone());
                prop_assert_eq!(p.zone.as_str(), zone.as_str());
                prop_assert_eq!(&p.key.name, &key);
                prop_assert_eq!(p.key.algorithm.as_str(), alg);
                prop_assert_eq!(p.key.secret, secret);
            }
            other => prop_assert!(false, "{:?}", other),
        }
        let v = import_id::parse(&format!("{name}@manual:{zone}?root_servers=127.0.0.1,127.0.0.2:5353")).unwrap();
        let spec = parse_config(&v).0.unwrap().spec;
        match spec.parent.kind {
            ParentKind::Manual(p) => {
                prop_assert_eq!(p.zone.as_str(), zone.as_str());
                prop_assert_eq!(p.roots.len(), 2);
                prop_assert!(!p.destroy_while_delegated);
            }
            other => prop_assert!(false, "{:?}", other),
        }
        // The secret itself is never accepted in an ID (Terraform prints it).
        let typed = format!("{name}@dns-update:{server}/{zone}?key_name={key}&key_secret={b64}");
        prop_assert!(import_id::parse(&typed).is_err());
    }

    /// The dns_update and manual blocks with arbitrary text in every
    /// attribute: no panic, and every error names its attribute.
    #[test]
    fn parent_blocks_never_panic_and_errors_name_the_attribute(
        name in text(),
        server in text(),
        zone in text(),
        key_name in text(),
        key_algorithm in text(),
        key_secret in text(),
        root in text(),
        manual in any::<bool>(),
    ) {
        let mut v = blank_config("api.example.com");
        v.set("name", Value::string(&name));
        if let Value::Object(m) = &mut v {
            let parent = m.get_mut("parent").unwrap();
            if manual {
                parent.set("manual", Value::object([
                    ("zone", Value::string(&zone)),
                    ("root_servers", Value::List(vec![Value::string(&root)])),
                    ("destroy_while_delegated", Value::Null),
                ]));
            } else {
                parent.set("dns_update", Value::object([
                    ("server", Value::string(&server)),
                    ("zone", Value::string(&zone)),
                    ("key_name", Value::string(&key_name)),
                    ("key_algorithm", Value::string(&key_algorithm)),
                    ("key_secret", Value::string(&key_secret)),
                ]));
            }
        }
        let (_, diags) = parse_config(&v);
        for d in diags.iter().filter(|d| d.severity == Severity::Error) {
            prop_assert!(d.attribute.is_some(), "error without an attribute: {:?}", d);
            prop_assert!(!d.detail.ends_with('.'), "trailing period: {:?}", d.detail);
            prop_assert!(
                !d.detail.contains(&key_secret) || key_secret.chars().filter(|c| c.is_alphanumeric()).count() < 12,
                "secret in a message: {:?}", d.detail
            );
        }
    }
}
