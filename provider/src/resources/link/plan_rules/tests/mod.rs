//! The planning rules, table-tested.

use super::*;
use crate::resources::link::parse_config;
use crate::resources::link::state::{encode_private, with_state};
use route53delegation::delegation::{VerificationSummary, VerifyStatus};
use route53delegation::record::NsRecord;
use route53delegation::{LinkState, NsSet};

mod moves;

const OURS: [&str; 2] = ["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"];
const THEIRS: [&str; 1] = ["ns1.other-dns.net"];
const CHILD_ROLE: &str = "arn:aws:iam::222222222222:role/delegation-child";
const OTHER_CHILD_ROLE: &str = "arn:aws:iam::333333333333:role/delegation-child";

fn role(arn: &str) -> Value {
    Value::object([
        ("role_arn", Value::string(arn)),
        ("session_name", Value::Null),
        ("external_id", Value::Null),
        ("duration", Value::Null),
    ])
}

fn side(zone: &[(&str, Value)], arn: &str) -> Value {
    let mut v = Value::object([
        ("region", Value::Null),
        ("profile", Value::Null),
        ("assume_role", role(arn)),
    ]);
    for (k, x) in zone {
        v.set(*k, x.clone());
    }
    v
}

/// The configuration every case starts from: api.example.com under
/// example.com (by name), a zone the link creates in account 2222.
fn config() -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", Value::string("api.example.com")),
        ("ttl", Value::Null),
        (
            "parent",
            side(
                &[
                    ("zone_name", Value::string("example.com")),
                    ("zone_id", Value::Null),
                    ("allow_overwrite", Value::Null),
                ],
                "arn:aws:iam::111111111111:role/delegation-parent",
            ),
        ),
        (
            "child",
            side(
                &[
                    ("zone_id", Value::Null),
                    ("comment", Value::Null),
                    ("force_destroy", Value::Null),
                ],
                CHILD_ROLE,
            ),
        ),
        ("verify", Value::Null),
        ("timeouts", Value::Null),
        ("child_zone_id", Value::Null),
        ("parent_zone_id", Value::Null),
        ("parent_zone_name", Value::Null),
        ("name_servers", Value::Null),
        ("delegated_name_servers", Value::Null),
        ("verification", Value::Null),
    ])
}

fn ns(v: &[&str]) -> NsSet {
    NsSet::parse(v).unwrap()
}

/// The configuration with a `parent.manual` block instead of the Route
/// 53 parent zone.
fn manual_config() -> Value {
    let mut c = config();
    c.set("name", Value::string("api.example.org"));
    at(&mut c, &["parent", "zone_name"], Value::Null);
    at(&mut c, &["parent", "assume_role"], Value::Null);
    at(
        &mut c,
        &["parent", "manual"],
        Value::object([
            ("zone", Value::string("example.org")),
            (
                "root_servers",
                Value::List(vec![Value::string("127.0.0.1")]),
            ),
            ("destroy_while_delegated", Value::Null),
        ]),
    );
    c
}

fn plan_for(prior_cfg: &Value, st: &LinkState, config: &Value) -> PlanResponse {
    let prior = with_state(
        prior_cfg,
        &DomainName::parse(prior_cfg.get_str("name").unwrap()).unwrap(),
        st,
    );
    plan_update(
        &prior,
        &encode_private(st),
        config,
        config,
        parse_config(config).0.as_ref(),
    )
}

/// Failure mode: a link moved from a Route 53 parent to a registrar (or
/// another zone there) is planned as an in-place move nothing can carry
/// out: it is a new link.
#[test]
fn another_kind_of_parent_replaces_the_link() {
    let mut cfg = config();
    at(&mut cfg, &["parent", "zone_name"], Value::Null);
    at(&mut cfg, &["parent", "assume_role"], Value::Null);
    at(
        &mut cfg,
        &["parent", "manual"],
        Value::object([
            ("zone", Value::string("example.com")),
            ("root_servers", Value::Null),
            ("destroy_while_delegated", Value::Null),
        ]),
    );
    let r = plan_for(&config(), &healthy(), &cfg);
    let replace: Vec<String> = r.requires_replace.iter().map(|p| p.to_string()).collect();
    assert_eq!(replace, vec!["parent"]);
    assert_eq!(r.planned_state.get("child_zone_id"), Some(&Value::Unknown));
}

/// Failure modes: a registrar's delegation still to be entered is
/// refused as "someone else's record", or a pending wait is never
/// resumed.
#[test]
fn a_pending_registrar_delegation_is_resumed_in_place() {
    let st = LinkState {
        parent_zone_id: "manual:example.org".into(),
        parent_zone_name: DomainName::parse("example.org").unwrap(),
        delegated: Some(NsRecord {
            ttl: 3600,
            values: ns(&THEIRS),
        }),
        written: None,
        verification: Some(VerificationSummary {
            status: VerifyStatus::Pending,
            ..healthy().verification.unwrap()
        }),
        ..healthy()
    };
    let r = plan_for(&manual_config(), &st, &manual_config());
    assert!(r.requires_replace.is_empty(), "{:?}", r.requires_replace);
    assert_eq!(r.planned_state.get("verification"), Some(&Value::Unknown));
    assert!(
        r.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        r.diagnostics
    );
    let want = r.planned_state.get_str("registrar_instructions").unwrap();
    assert!(
        want.contains("ns-1.awsdns-01.com, ns-2.awsdns-02.net"),
        "{want}"
    );
}

/// A verified link: zone ZC with OURS, the parent record OURS (written
/// by this link).
fn healthy() -> LinkState {
    LinkState {
        parent_zone_id: "ZP".into(),
        parent_zone_name: DomainName::parse("example.com").unwrap(),
        child_zone_id: "ZC".into(),
        name_servers: ns(&OURS),
        delegated: Some(NsRecord {
            ttl: 3600,
            values: ns(&OURS),
        }),
        written: Some(NsRecord {
            ttl: 3600,
            values: ns(&OURS),
        }),
        verification: Some(VerificationSummary {
            status: VerifyStatus::Verified,
            checked_at: std::time::SystemTime::UNIX_EPOCH,
            servers_checked: 8,
            summary: "ok".into(),
            servers: Vec::new(),
        }),
        child_comment: None,
        child_tags: None,
        zone_owned: true,
        parent_account: None,
        child_account: None,
        retired: Vec::new(),
    }
}

fn at(v: &mut Value, path: &[&str], x: Value) {
    if path.len() == 1 {
        v.set(path[0], x);
    } else {
        let mut inner = v.get(path[0]).cloned().unwrap_or(Value::Null);
        at(&mut inner, &path[1..], x);
        v.set(path[0], inner);
    }
}

struct Case {
    /// The failure mode the rule guards.
    guards: &'static str,
    prior: fn() -> LinkState,
    change: &'static [(&'static [&'static str], Change)],
    replace: &'static [&'static str],
    unknown: &'static [&'static str],
    known: &'static [(&'static str, &'static str)],
    error: Option<&'static str>,
    warning: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Change {
    Str(&'static str),
    Unknown,
    Bool(bool),
    Int(i64),
    Null,
}

fn value(c: Change) -> Value {
    match c {
        Change::Str(s) => Value::string(s),
        Change::Unknown => Value::Unknown,
        Change::Bool(b) => Value::Bool(b),
        Change::Int(i) => Value::int(i),
        Change::Null => Value::Null,
    }
}

fn deleted_zone() -> LinkState {
    LinkState {
        child_zone_id: String::new(),
        name_servers: NsSet::new(),
        ..healthy()
    }
}

fn unfinished_move() -> LinkState {
    LinkState {
        retired: vec![route53delegation::delegation::Retired {
            account: Default::default(),
            what: route53delegation::delegation::RetiredObject::Zone {
                zone_id: "ZOLD".into(),
            },
        }],
        ..healthy()
    }
}

fn foreign_record() -> LinkState {
    LinkState {
        delegated: Some(NsRecord {
            ttl: 300,
            values: ns(&THEIRS),
        }),
        ..healthy()
    }
}

const ALL_COMPUTED: &[&str] = &[
    "id",
    "child_zone_id",
    "parent_zone_id",
    "parent_zone_name",
    "name_servers",
    "delegated_name_servers",
    "verification",
];

fn cases() -> Vec<Case> {
    vec![
        Case {
            guards: "a plan with nothing to do shows changes",
            prior: healthy,
            change: &[],
            replace: &[],
            unknown: &[],
            known: &[("child_zone_id", "ZC"), ("parent_zone_id", "ZP"), ("id", "api.example.com@ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: another child account planned as a no-op, then an inconsistent result and the old zone leaked",
            prior: healthy,
            change: &[(&["child", "assume_role", "role_arn"], Change::Str(OTHER_CHILD_ROLE))],
            replace: &[],
            unknown: &["child_zone_id", "name_servers", "delegated_name_servers", "verification"],
            known: &[("parent_zone_id", "ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: a child role not known until apply planned as a no-op",
            prior: healthy,
            change: &[(&["child", "assume_role", "role_arn"], Change::Unknown)],
            replace: &[],
            unknown: &["child_zone_id", "name_servers", "delegated_name_servers"],
            known: &[("parent_zone_id", "ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: a profile pointing at another account planned as a no-op",
            prior: healthy,
            change: &[(&["child", "profile"], Change::Str("team-b"))],
            replace: &[],
            unknown: &["child_zone_id", "name_servers"],
            known: &[],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: child.zone_id naming the zone the link already manages (with the /hostedzone/ prefix) replaces the link",
            prior: healthy,
            change: &[(&["child", "zone_id"], Change::Str("/hostedzone/ZC"))],
            replace: &[],
            unknown: &[],
            known: &[("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: adopting another zone destroys the delegation first (an outage)",
            prior: healthy,
            change: &[(&["child", "zone_id"], Change::Str("Z2OTHER"))],
            replace: &[],
            unknown: &["name_servers", "delegated_name_servers", "verification"],
            known: &[("child_zone_id", "Z2OTHER")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: child.zone_id unknown at plan planned as known",
            prior: healthy,
            change: &[(&["child", "zone_id"], Change::Unknown)],
            replace: &[],
            unknown: &["child_zone_id", "name_servers"],
            known: &[],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: a parent zone ID unknown at plan (made by another resource) planned as unchanged",
            prior: healthy,
            change: &[
                (&["parent", "zone_name"], Change::Null),
                (&["parent", "zone_id"], Change::Unknown),
            ],
            replace: &[],
            unknown: &["parent_zone_id", "parent_zone_name", "id", "delegated_name_servers", "verification"],
            known: &[("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: another parent zone by name planned as unchanged",
            prior: healthy,
            change: &[(&["parent", "zone_name"], Change::Str("com"))],
            replace: &[],
            unknown: &["parent_zone_id", "id", "delegated_name_servers", "verification"],
            known: &[("parent_zone_name", "com"), ("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: another parent zone by ID replaces the link (destroy, then create: an outage)",
            prior: healthy,
            change: &[
                (&["parent", "zone_name"], Change::Null),
                (&["parent", "zone_id"], Change::Str("ZNEWPARENT")),
            ],
            replace: &[],
            unknown: &["parent_zone_name", "delegated_name_servers", "verification"],
            known: &[("parent_zone_id", "ZNEWPARENT"), ("id", "api.example.com@ZNEWPARENT"), ("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: the same parent zone, now by ID with the /hostedzone/ prefix or by name in other letter case, planned as a move",
            prior: healthy,
            change: &[
                (&["parent", "zone_name"], Change::Null),
                (&["parent", "zone_id"], Change::Str("/hostedzone/ZP")),
            ],
            replace: &[],
            unknown: &[],
            known: &[("parent_zone_id", "ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: the same parent zone name in other letter case planned as a move",
            prior: healthy,
            change: &[(&["parent", "zone_name"], Change::Str("Example.COM."))],
            replace: &[],
            unknown: &[],
            known: &[("parent_zone_id", "ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 2: a parent zone name looked up in another account planned as unchanged",
            prior: healthy,
            change: &[(&["parent", "assume_role", "role_arn"], Change::Str("arn:aws:iam::555555555555:role/delegation-parent"))],
            replace: &[],
            unknown: &["parent_zone_id", "id", "delegated_name_servers"],
            known: &[("parent_zone_name", "example.com"), ("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "issue 10 item 3: a deleted child zone makes plan refuse the link's own record",
            prior: deleted_zone,
            change: &[],
            replace: &[],
            unknown: &["child_zone_id", "name_servers", "delegated_name_servers", "verification"],
            known: &[("parent_zone_id", "ZP")],
            error: None,
            warning: None,
        },
        Case {
            guards: "a move that stopped before removing the old zone is never finished (the old zone leaks)",
            prior: unfinished_move,
            change: &[],
            replace: &[],
            unknown: &["verification"],
            known: &[("child_zone_id", "ZC")],
            error: None,
            warning: Some("the previous child zone ZOLD"),
        },
        Case {
            guards: "an NS record someone else wrote is overwritten",
            prior: foreign_record,
            change: &[],
            replace: &[],
            unknown: &["verification"],
            known: &[],
            error: Some("NS record written by someone else"),
            warning: None,
        },
        Case {
            guards: "issue 10 item 6: allow_overwrite takes over another team's delegation without naming its servers",
            prior: foreign_record,
            change: &[(&["parent", "allow_overwrite"], Change::Bool(true))],
            replace: &[],
            unknown: &["verification"],
            known: &[],
            error: None,
            warning: Some("ns1.other-dns.net"),
        },
        Case {
            guards: "a TTL change replaces the link",
            prior: healthy,
            change: &[(&["ttl"], Change::Int(300))],
            replace: &[],
            unknown: &["verification"],
            known: &[("child_zone_id", "ZC")],
            error: None,
            warning: None,
        },
        Case {
            guards: "a new name updated in place (a different delegation)",
            prior: healthy,
            change: &[(&["name"], Change::Str("web.example.com"))],
            replace: &["name"],
            unknown: ALL_COMPUTED,
            known: &[],
            error: None,
            warning: None,
        },
    ]
}

#[test]
fn planning_rules_table() {
    for (i, case) in cases().into_iter().enumerate() {
        let st = (case.prior)();
        let name = DomainName::parse("api.example.com").unwrap();
        let mut prior = with_state(&config(), &name, &st);
        prior.set("ttl", Value::int(3600));
        let private = encode_private(&st);
        let mut cfg_v = config();
        for (path, c) in case.change {
            at(&mut cfg_v, path, value(*c));
        }
        // Terraform's proposal: the configuration over the prior state.
        let mut proposed = prior.clone();
        for k in ["name", "ttl", "parent", "child", "verify", "timeouts"] {
            proposed.set(k, cfg_v.get(k).cloned().unwrap_or(Value::Null));
        }
        let (parsed, _) = parse_config(&cfg_v);
        let r = plan_update(&prior, &private, &cfg_v, &proposed, parsed.as_ref());
        let ctx = format!("case {i} (guards: {})", case.guards);
        let replace: Vec<String> = r.requires_replace.iter().map(|p| p.to_string()).collect();
        assert_eq!(replace, case.replace, "{ctx}");
        for k in case.unknown {
            assert_eq!(
                r.planned_state.get(k),
                Some(&Value::Unknown),
                "{ctx}: {k} must be unknown"
            );
        }
        for (k, v) in case.known {
            assert_eq!(
                r.planned_state.get_str(k),
                Some(*v),
                "{ctx}: {k} planned as {:?}",
                r.planned_state.get(k)
            );
        }
        if case.unknown.is_empty() {
            for k in ALL_COMPUTED {
                assert!(
                    r.planned_state.get(k) != Some(&Value::Unknown),
                    "{ctx}: {k} must stay known"
                );
            }
        }
        let errors: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| d.is_error()).collect();
        let warnings: Vec<&Diagnostic> = r.diagnostics.iter().filter(|d| !d.is_error()).collect();
        match case.error {
            Some(e) => assert!(
                errors.iter().any(|d| d.summary.contains(e)),
                "{ctx}: {:?}",
                r.diagnostics
            ),
            None => assert!(errors.is_empty(), "{ctx}: {:?}", r.diagnostics),
        }
        match case.warning {
            Some(w) => assert!(
                warnings.iter().any(|d| d.detail.contains(w)),
                "{ctx}: {:?}",
                r.diagnostics
            ),
            None => assert!(warnings.is_empty(), "{ctx}: {:?}", r.diagnostics),
        }
    }
}

#[test]
fn the_empty_child_server_list_is_never_printed() {
    // Guards: issue 10 item 6, "the child zone's name servers are []".
    let e = route53delegation::Error::ForeignRecord {
        name: DomainName::parse("api.example.com").unwrap(),
        zone_id: "ZP".into(),
        existing: ns(&THEIRS),
        wanted: NsSet::new(),
    };
    let m = e.to_string();
    assert!(!m.contains("[]"), "{m}");
    assert!(m.contains("does not exist yet"), "{m}");
}
