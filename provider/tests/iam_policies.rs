//! The IAM policies users are given (`examples/iam/*.json`, included in the
//! IAM guide, `docs/guides/iam.md`, and pointed to by the README) allow every
//! Route 53 call the core makes, in the account that makes it, and nothing
//! more. The calls are found by scanning the core's source for the AWS SDK's
//! operation methods (`.create_hosted_zone()`, `.get_change()`, ...), so a
//! new call without its permission fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Every operation of the Route 53 API as `aws-sdk-route53` names its
/// client methods (one per `src/operation/` module of the SDK).
const ROUTE53_OPERATIONS: &[&str] = &[
    "activate_key_signing_key",
    "associate_vpc_with_hosted_zone",
    "change_cidr_collection",
    "change_resource_record_sets",
    "change_tags_for_resource",
    "create_cidr_collection",
    "create_health_check",
    "create_hosted_zone",
    "create_key_signing_key",
    "create_query_logging_config",
    "create_reusable_delegation_set",
    "create_traffic_policy",
    "create_traffic_policy_instance",
    "create_traffic_policy_version",
    "create_vpc_association_authorization",
    "deactivate_key_signing_key",
    "delete_cidr_collection",
    "delete_health_check",
    "delete_hosted_zone",
    "delete_key_signing_key",
    "delete_query_logging_config",
    "delete_reusable_delegation_set",
    "delete_traffic_policy",
    "delete_traffic_policy_instance",
    "delete_vpc_association_authorization",
    "disable_hosted_zone_dnssec",
    "disassociate_vpc_from_hosted_zone",
    "enable_hosted_zone_dnssec",
    "get_account_limit",
    "get_change",
    "get_checker_ip_ranges",
    "get_dnssec",
    "get_geo_location",
    "get_health_check",
    "get_health_check_count",
    "get_health_check_last_failure_reason",
    "get_health_check_status",
    "get_hosted_zone",
    "get_hosted_zone_count",
    "get_hosted_zone_limit",
    "get_query_logging_config",
    "get_reusable_delegation_set",
    "get_reusable_delegation_set_limit",
    "get_traffic_policy",
    "get_traffic_policy_instance",
    "get_traffic_policy_instance_count",
    "list_cidr_blocks",
    "list_cidr_collections",
    "list_cidr_locations",
    "list_geo_locations",
    "list_health_checks",
    "list_hosted_zones",
    "list_hosted_zones_by_name",
    "list_hosted_zones_by_vpc",
    "list_query_logging_configs",
    "list_resource_record_sets",
    "list_reusable_delegation_sets",
    "list_tags_for_resource",
    "list_tags_for_resources",
    "list_traffic_policies",
    "list_traffic_policy_instances",
    "list_traffic_policy_instances_by_hosted_zone",
    "list_traffic_policy_instances_by_policy",
    "list_traffic_policy_versions",
    "list_vpc_association_authorizations",
    "test_dns_answer",
    "update_health_check",
    "update_hosted_zone_comment",
    "update_hosted_zone_features",
    "update_traffic_policy_comment",
    "update_traffic_policy_instance",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Account {
    Parent,
    Child,
}
use Account::{Child, Parent};

/// Which account's client makes each call the core makes, read from its
/// call sites: the parent side (`parent/route53/`, `record.rs`, the parent
/// zone's lookup in `zone.rs`) and the child side (the zone's life in
/// `zone.rs`, `own_zones.rs`, `delegation/`). A call the scan finds that is
/// not here fails the test: say which account makes it, and add it to that
/// account's policy.
const CALLERS: &[(&str, &[Account])] = &[
    // The parent zone: found by name, read, its NS record written and read.
    // The child zone: found by name (adoption, import, an interrupted create).
    ("list_hosted_zones_by_name", &[Parent, Child]),
    ("get_hosted_zone", &[Parent, Child]),
    // Parent: the NS record and the records under the name it would occlude.
    // Child: the zone's own records, before destroy or a move deletes it.
    ("list_resource_record_sets", &[Parent, Child]),
    // Parent: the NS record (CREATE, DELETE). Child: force_destroy (DELETE).
    ("change_resource_record_sets", &[Parent, Child]),
    // INSYNC of the parent's record and of the child's new zone.
    ("get_change", &[Parent, Child]),
    ("create_hosted_zone", &[Child]),
    ("update_hosted_zone_comment", &[Child]),
    ("delete_hosted_zone", &[Child]),
    // Own-zone lookups shared per child account (own_zones.rs).
    ("get_hosted_zone_count", &[Child]),
    ("list_hosted_zones", &[Child]),
    // child.tags: read, then changed to exactly the configured set.
    ("list_tags_for_resource", &[Child]),
    ("change_tags_for_resource", &[Child]),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the provider crate has a parent directory")
        .to_path_buf()
}

/// The core's non-test source: every `.rs` under `core/src` except
/// `tests.rs` files and `tests/` folders, each cut at its inline
/// `#[cfg(test)] mod tests`.
fn core_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                if name != "tests" {
                    walk(&p, out);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                let text = std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("core/src"), &mut out);
    assert!(out.len() > 10, "core/src holds too few files: {out:?}");
    out
}

/// The Route 53 operations called in the core, each with the files that
/// call it.
fn called_operations() -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut called: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in core_sources() {
        for op in ROUTE53_OPERATIONS {
            if text.contains(&format!(".{op}()")) {
                called.entry(op).or_default().insert(
                    path.strip_prefix(root())
                        .unwrap_or(&path)
                        .display()
                        .to_string(),
                );
            }
        }
    }
    called
}

/// `get_hosted_zone_count` -> `route53:GetHostedZoneCount`, with IAM's
/// capitals for DNS, DNSSEC and VPC.
fn iam_action(op: &str) -> String {
    let pascal: String = op
        .split('_')
        .map(|w| match w {
            "dns" => "DNS".to_string(),
            "dnssec" => "DNSSEC".to_string(),
            "vpc" => "VPC".to_string(),
            _ => {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
        })
        .collect();
    format!("route53:{pascal}")
}

/// What a policy document is: a role's permissions or its trust policy.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Permissions,
    Trust,
}

/// A policy file, parsed.
fn policy(file: &str) -> Value {
    let p = root().join("examples/iam").join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

/// The actions a policy's `Allow` statements grant (no `NotAction`, no
/// wildcards: a least-privilege policy names each action). A permissions
/// policy names a `Resource` in each statement, a trust policy a `Principal`.
fn allowed_actions(file: &str, kind: Kind, policy: &Value) -> BTreeSet<String> {
    assert_eq!(
        policy["Version"], "2012-10-17",
        "{file}: Version must be 2012-10-17"
    );
    let statements = policy["Statement"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: Statement must be a list"));
    let mut out = BTreeSet::new();
    for s in statements {
        assert!(s.get("NotAction").is_none(), "{file}: NotAction in {s}");
        if s["Effect"] != "Allow" {
            continue;
        }
        let actions = match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .unwrap_or_else(|| panic!("{file}: an action is not a string: {v}"))
                        .to_string()
                })
                .collect(),
            other => panic!("{file}: Action must be a string or a list, not {other}"),
        };
        for a in actions {
            assert!(!a.contains('*'), "{file}: wildcard action {a}");
            let (needs, not) = match kind {
                Kind::Permissions => ("Resource", "Principal"),
                Kind::Trust => ("Principal", "Resource"),
            };
            assert!(
                s.get(needs).is_some() && s.get(not).is_none(),
                "{file}: the statement for {a} must have a {needs} and no {not}"
            );
            out.insert(a);
        }
    }
    out
}

#[test]
fn the_operation_list_converts_to_iam_action_names() {
    assert_eq!(
        iam_action("get_hosted_zone_count"),
        "route53:GetHostedZoneCount"
    );
    assert_eq!(iam_action("get_dnssec"), "route53:GetDNSSEC");
    assert_eq!(
        iam_action("list_hosted_zones_by_vpc"),
        "route53:ListHostedZonesByVPC"
    );
    assert_eq!(iam_action("test_dns_answer"), "route53:TestDNSAnswer");
}

#[test]
fn every_route53_call_of_the_core_is_allowed_in_the_account_that_makes_it() {
    let called = called_operations();
    assert!(
        called.contains_key("create_hosted_zone") && called.contains_key("get_change"),
        "the scan of core/src found too little: {called:?}"
    );
    let callers: BTreeMap<&str, &[Account]> = CALLERS.iter().copied().collect();
    let mut problems = Vec::new();
    for (op, files) in &called {
        if !callers.contains_key(op) {
            problems.push(format!(
                "{} ({op}) is called in {files:?} but CALLERS does not say which account makes it",
                iam_action(op)
            ));
        }
    }
    for op in callers.keys() {
        if !called.contains_key(op) {
            problems.push(format!(
                "{} ({op}) is in CALLERS but the core no longer calls it: remove it from CALLERS and from the policies",
                iam_action(op)
            ));
        }
    }
    for (account, file) in [(Parent, "parent-policy.json"), (Child, "child-policy.json")] {
        let allowed = allowed_actions(file, Kind::Permissions, &policy(file));
        let needed: BTreeSet<String> = CALLERS
            .iter()
            .filter(|(_, who)| who.contains(&account))
            .map(|(op, _)| iam_action(op))
            .collect();
        for a in needed.difference(&allowed) {
            problems.push(format!(
                "examples/iam/{file} lacks {a}, which the core calls in the {account:?} account"
            ));
        }
        for a in allowed.difference(&needed) {
            problems.push(format!(
                "examples/iam/{file} allows {a}, which the core never calls in the {account:?} account (least privilege)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn both_roles_trust_the_terraform_account_with_an_external_id() {
    let trust = policy("trust-policy.json");
    let allowed = allowed_actions("trust-policy.json", Kind::Trust, &trust);
    assert_eq!(
        allowed,
        BTreeSet::from(["sts:AssumeRole".to_string()]),
        "trust-policy.json"
    );
    let s = &trust["Statement"][0];
    assert!(
        s["Condition"]["StringEquals"]["sts:ExternalId"].is_string(),
        "trust-policy.json: no sts:ExternalId condition in {s}"
    );
}

#[test]
fn the_policies_have_one_source() {
    // The README points to the files instead of copying them.
    let readme = std::fs::read_to_string(root().join("README.md")).expect("read README.md");
    assert!(
        !readme.contains("\"route53:"),
        "README.md holds a copy of a policy: point to examples/iam/ instead"
    );
    for file in [
        "parent-policy.json",
        "child-policy.json",
        "trust-policy.json",
    ] {
        assert!(
            readme.contains(&format!("examples/iam/{file}")),
            "README.md does not point to examples/iam/{file}"
        );
    }
    // The guide includes each file, so the generated page holds it exactly.
    let guide = std::fs::read_to_string(root().join("docs/guides/iam.md"))
        .expect("read docs/guides/iam.md");
    for file in [
        "parent-policy.json",
        "child-policy.json",
        "trust-policy.json",
    ] {
        let text = std::fs::read_to_string(root().join("examples/iam").join(file)).unwrap();
        assert!(
            guide.contains(text.trim_end()),
            "docs/guides/iam.md does not hold examples/iam/{file} as it is: run scripts/docs.sh"
        );
    }
}
