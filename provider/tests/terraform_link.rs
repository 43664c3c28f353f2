//! `route53delegation_link` with the real Terraform CLI, against the local
//! world: the user's story from create to destroy, and each way it goes wrong.

mod terraform_support;

use std::time::Duration;

use r53world::{Operation, PARENT_ACCOUNT};
use terraform_support::*;

#[tokio::test]
async fn create_plan_clean_update_ttl_destroy() {
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "api.example.com", CHILD, ""));
    let out = tf.apply();
    assert!(out.contains("1 added"), "{out}");
    let r = tf.resource("route53delegation_link.api");
    assert_eq!(r["verification"]["status"], "verified", "{r}");
    assert!(
        r["verification"]["servers_checked"].as_i64().unwrap() >= 8,
        "{r}"
    );
    assert_eq!(r["ttl"], 3600, "default TTL");
    let ns = ns_list(&r["name_servers"]);
    assert_eq!(ns.len(), 4);
    assert_eq!(ns_list(&r["delegated_name_servers"]), ns);
    assert_eq!(parent_ns(&env, "api.example.com"), Some(ns.clone()));
    assert_eq!(r["parent_zone_id"], env.parent_zone_id.as_str());
    assert_eq!(r["id"], format!("api.example.com@{}", env.parent_zone_id));

    // Plan shows no changes.
    tf.assert_no_changes();

    // TTL and the zone's comment change in place: same zone.
    tf.write(
        &env,
        &link("api", "api.example.com", CHILD, "  ttl = 300")
            .replace("  child {\n", "  child {\n    comment = \"team api\"\n"),
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("1 to change, 0 to destroy"), "{plan}");
    tf.apply();
    let r2 = tf.resource("route53delegation_link.api");
    assert_eq!(r2["ttl"], 300);
    assert_eq!(r2["child_zone_id"], r["child_zone_id"]);
    let zone = console(&env.world, CHILD)
        .get_hosted_zone()
        .id(r2["child_zone_id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        zone.hosted_zone().unwrap().config().unwrap().comment(),
        Some("team api")
    );
    tf.assert_no_changes();

    // Destroy leaves no parent record and no zone it created.
    tf.destroy();
    assert_eq!(parent_ns(&env, "api.example.com"), None);
    assert!(zones_named(&env, CHILD, "api.example.com").is_empty());
}

#[tokio::test]
async fn recreated_child_zone_plan_shows_repair_and_apply_fixes_it() {
    // Guards: the child zone deleted and re-created out of band, so the
    // parent points at old name servers and resolution breaks silently.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "re.example.com", CHILD, ""));
    tf.apply();
    let before = tf.resource("route53delegation_link.api");
    let old_id = before["child_zone_id"].as_str().unwrap().to_string();
    console(&env.world, CHILD)
        .delete_hosted_zone()
        .id(&old_id)
        .send()
        .await
        .unwrap();
    let new_id = create_zone(&env.world, CHILD, "re.example.com").await;

    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("delegated_name_servers"),
        "plan shows the repair:\n{plan}"
    );
    assert!(plan.contains("was deleted"), "plan warns:\n{plan}");
    assert!(plan.contains("1 to change, 0 to destroy"), "{plan}");
    tf.apply();
    let after = tf.resource("route53delegation_link.api");
    assert_eq!(after["child_zone_id"], new_id.as_str());
    assert_eq!(
        ns_list(&after["delegated_name_servers"]),
        ns_list(&after["name_servers"])
    );
    assert_eq!(
        parent_ns(&env, "re.example.com"),
        Some(ns_list(&after["name_servers"]))
    );
    assert_eq!(after["verification"]["status"], "verified");
    tf.assert_no_changes();
}

#[tokio::test]
async fn deleted_or_edited_parent_record_is_drift() {
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "drift.example.com", CHILD, ""));
    tf.apply();
    let r = tf.resource("route53delegation_link.api");
    // Someone deletes the parent NS record.
    let parent = console(&env.world, PARENT_ACCOUNT);
    let name = route53delegation::DomainName::parse("drift.example.com").unwrap();
    let cur = route53delegation::record::read_ns(&parent, &env.parent_zone_id, &name)
        .await
        .unwrap()
        .unwrap();
    route53delegation::record::delete_ns(&parent, &env.parent_zone_id, &name, &cur)
        .await
        .unwrap();
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(plan.contains("has no NS record"), "{plan}");
    tf.apply();
    assert_eq!(
        parent_ns(&env, "drift.example.com"),
        Some(ns_list(&r["name_servers"]))
    );
    tf.assert_no_changes();

    // Someone points it elsewhere: plan refuses to overwrite their record.
    let cur = route53delegation::record::read_ns(&parent, &env.parent_zone_id, &name)
        .await
        .unwrap()
        .unwrap();
    let theirs = route53delegation::record::NsRecord {
        ttl: 300,
        values: route53delegation::NsSet::parse(["ns1.other-dns.net"]).unwrap(),
    };
    put_ns(&parent, &env.parent_zone_id, &name, &theirs, Some(&cur))
        .await
        .unwrap();
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("NS record written by someone else"), "{out}");
    assert!(out.contains("allow_overwrite"), "{out}");
    assert_eq!(
        parent_ns(&env, "drift.example.com"),
        Some(vec!["ns1.other-dns.net".to_string()])
    );
}

#[tokio::test]
async fn import_with_cli_and_import_block_then_plan_is_clean() {
    let env = env().await;
    let body = link("api", "imp.example.com", CHILD, "");
    // An existing delegation, made elsewhere.
    let maker = Tf::new(&env, "maker", &body);
    maker.apply();
    let made = maker.resource("route53delegation_link.api");
    let id = format!(
        "name=imp.example.com;parent_zone_name=example.com;parent_role_arn={PARENT_ROLE};child_role_arn={}",
        child_role(CHILD)
    );

    // terraform import
    let cli = Tf::new(&env, "cli", &body);
    let out = cli.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        &id,
    ]);
    assert!(out.contains("Import successful"), "{out}");
    cli.assert_no_changes();
    let r = cli.resource("route53delegation_link.api");
    assert_eq!(r["child_zone_id"], made["child_zone_id"]);

    // import {} block
    let block = Tf::new(
        &env,
        "block",
        &format!("{body}\nimport {{\n  to = route53delegation_link.api\n  id = \"{id}\"\n}}\n"),
    );
    let (code, plan) = block.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    block.apply();
    block.write(&env, &body);
    block.assert_no_changes();

    // A malformed ID explains the format.
    let bad = Tf::new(&env, "bad", &body);
    let out = bad.fails(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        "imp.example.com",
    ]);
    assert!(
        out.contains("NAME@PARENT_ZONE_ID") && out.contains("parent_zone_name"),
        "{out}"
    );
}

#[tokio::test]
async fn for_each_over_three_child_accounts() {
    let env = env().await;
    let body = format!(
        r#"
locals {{
  envs = {{ dev = "222222222222", test = "333333333333", prod = "444444444444" }}
}}

resource "route53delegation_link" "env" {{
  for_each = local.envs
  name     = "${{each.key}}.example.com"
  parent {{
    zone_name = "example.com"
    assume_role {{ role_arn = "{PARENT_ROLE}" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::${{each.value}}:role/delegation-child" }}
  }}
}}
"#
    );
    let tf = Tf::new(&env, "main", &body);
    let out = tf.apply();
    assert!(out.contains("3 added"), "{out}");
    for (env_name, account) in [
        ("dev", "222222222222"),
        ("test", "333333333333"),
        ("prod", "444444444444"),
    ] {
        let name = format!("{env_name}.example.com");
        assert_eq!(
            zones_named(&env, account, &name).len(),
            1,
            "{name} in {account}"
        );
        assert!(parent_ns(&env, &name).is_some());
    }
    tf.assert_no_changes();
    tf.destroy();
    for account in ["222222222222", "333333333333", "444444444444"] {
        assert!(
            env.world.zones(account).is_empty(),
            "{account} left with zones"
        );
    }
}

#[tokio::test]
async fn nested_delegation_from_a_child_zone() {
    // dev.testing.example.com delegated from the testing.example.com child
    // zone, through the role that carries both documented policies
    // (examples/iam/: a zone that is a child and a parent needs both).
    let env = env().await;
    let body = format!(
        r#"
resource "route53delegation_link" "testing" {{
  name = "testing.example.com"
  parent {{
    zone_name = "example.com"
    assume_role {{ role_arn = "{PARENT_ROLE}" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::222222222222:role/delegation-child" }}
  }}
}}

resource "route53delegation_link" "dev" {{
  name = "dev.testing.example.com"
  parent {{
    zone_id = route53delegation_link.testing.child_zone_id
    assume_role {{ role_arn = "arn:aws:iam::222222222222:role/delegation-nested" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::333333333333:role/delegation-child" }}
  }}
}}
"#
    );
    let tf = Tf::new(&env, "main", &body);
    tf.apply();
    let dev = tf.resource("route53delegation_link.dev");
    assert_eq!(dev["verification"]["status"], "verified", "{dev}");
    assert_eq!(dev["parent_zone_name"], "testing.example.com");
    tf.assert_no_changes();
    tf.destroy();
    assert!(env.world.zones("222222222222").is_empty());
    assert!(env.world.zones("333333333333").is_empty());
}

#[tokio::test]
async fn bad_inputs_give_diagnostics_and_touch_nothing() {
    let env = env().await;
    let cases = [
        (link("x", "*.example.com", CHILD, ""), "wildcard"),
        (
            link("x", "api.example.org", CHILD, ""),
            "is not a subdomain of parent.zone_name example.com",
        ),
        (
            link("x", "api.example.com", CHILD, "  ttl = -5"),
            "ttl must be a whole number of seconds from 0 to 2147483647",
        ),
        (
            link("x", "api.example.com", CHILD, "").replace(
                "zone_name = \"example.com\"",
                "zone_name = \"example.com\"\n    zone_id = \"Z123\"",
            ),
            "set only one of parent.zone_id and parent.zone_name",
        ),
        (
            link("x", "api.example.com", CHILD, "")
                .replace(&child_role(CHILD), "arn:aws:iam::2222:role/x"),
            "not 12 digits",
        ),
        (
            link(
                "x",
                "api.example.com",
                CHILD,
                "  timeouts {\n    create = \"soon\"\n  }",
            ),
            "is not a duration",
        ),
    ];
    for (i, (body, expect)) in cases.iter().enumerate() {
        let tf = Tf::new(&env, &format!("bad{i}"), body);
        let out = tf.fails(&["plan", "-input=false", "-no-color"]);
        assert!(
            out.contains(expect),
            "case {i}: expected {expect:?} in:\n{out}"
        );
        let out = tf.fails(&["validate", "-no-color"]);
        assert!(out.contains(expect), "validate, case {i}: {out}");
    }
    let writes: u64 = env
        .world
        .call_counts()
        .iter()
        .filter(|((_, op), _)| {
            *op == Operation::ChangeResourceRecordSets || *op == Operation::CreateHostedZone
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(writes, 0, "bad input never reaches Route 53 with a write");
}

#[tokio::test]
async fn a_role_that_may_not_be_assumed_is_a_clear_error() {
    let env = env().await;
    let body = link("api", "denied.example.com", CHILD, "").replace(
        &child_role(CHILD),
        "arn:aws:iam::222222222222:role/not-a-role",
    );
    let tf = Tf::new(&env, "main", &body);
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(out.contains("Cannot assume role"), "{out}");
    assert!(
        out.contains("assuming role arn:aws:iam::222222222222:role/not-a-role: "),
        "{out}"
    );
    assert!(out.contains("AccessDenied"), "{out}");
    assert!(zones_named(&env, CHILD, "denied.example.com").is_empty());
    assert_eq!(parent_ns(&env, "denied.example.com"), None);
}

#[tokio::test]
async fn ctrl_c_during_verification_leaves_consistent_state() {
    // Guards: an interrupted apply losing track of the zone it created. The
    // resolver holds a cached NXDOMAIN (queried before the delegation
    // existed), so the recursive check keeps failing and apply keeps waiting.
    let env = env().await;
    let client = route53delegation::dns::DnsClient::default();
    let name = route53delegation::DomainName::parse("wait.example.com").unwrap();
    let r = client
        .query(
            env.world.resolver(),
            &name,
            route53delegation::dns::RecordType::SOA,
            true,
        )
        .await
        .unwrap();
    assert_eq!(r.rcode, "NXDOMAIN");
    // A cached negative answer no longer holds verification up (it is a
    // warning): make every pool server silent for the new zone instead, so
    // verification keeps waiting until Ctrl-C.
    for (t, tld) in ["com", "net", "org", "co.uk"].iter().enumerate() {
        for i in 1..=16u32 {
            let server = format!("ns-{}.awsdns-{i:02}.{tld}", (i * 17) % 512 + t as u32 * 512);
            env.world.set_dns_fault(
                &server,
                Some("wait.example.com"),
                Some(r53world::DnsFault::Drop),
                None,
            );
        }
    }
    let tf = Tf::new(
        &env,
        "main",
        &link(
            "api",
            "wait.example.com",
            CHILD,
            "  verify {\n    recursive = true\n    timeout = \"10m\"\n  }",
        ),
    );
    // The provider logs each verification attempt (at info): that line is
    // the sign verification is under way.
    let log = env.tmp.path().join("ctrl-c.log");
    let child = tf
        .cmd(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .env("TF_LOG_PROVIDER", "INFO")
        .env("TF_LOG_PATH", &log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let verifying = || {
        std::fs::read_to_string(&log).is_ok_and(|logs| {
            logs.lines().any(|l| {
                l.contains("provider.terraform-provider-route53delegation")
                    && l.contains("attempt")
                    && l.contains("wait.example.com")
            })
        })
    };
    // DNS shows nothing of the new zone, so no early signal: the INSYNC
    // waits end on the blind schedule, and verification starts once both
    // changes were polled; wait until its first attempt is over.
    let start = std::time::Instant::now();
    while !verifying() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "apply never reached verification:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        parent_ns(&env, "wait.example.com").is_some(),
        "the record is written before verification"
    );
    let polled = |account: &str| env.world.calls(account, Operation::GetChange);
    assert!(
        polled(PARENT_ACCOUNT) > 0 && polled(CHILD) > 0,
        "both changes polled before verification"
    );
    // Ctrl-C: SIGINT to Terraform, which asks the provider to stop.
    let pid = child.id() as i32;
    let rc = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(rc.success());
    let out = child.wait_with_output().unwrap();
    let text = text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("was interrupted after it created hosted zone"),
        "{text}"
    );
    assert!(
        !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
        "{text}"
    );
    // The state knows the zone, so destroy cleans up everything.
    let r = tf.resource("route53delegation_link.api");
    let zone_id = r["child_zone_id"]
        .as_str()
        .expect("zone in state")
        .to_string();
    assert_eq!(zones_named(&env, CHILD, "wait.example.com")[0].id, zone_id);
    // Interrupted create: kept, untainted, for the next apply to finish
    // (the state JSON marks a tainted resource).
    assert_eq!(r["verification"]["status"], "pending");
    assert!(
        !tf.state().to_string().contains("\"tainted\":true"),
        "the interrupted link was tainted"
    );
    tf.destroy();
    assert!(zones_named(&env, CHILD, "wait.example.com").is_empty());
    assert_eq!(parent_ns(&env, "wait.example.com"), None);
}

#[tokio::test]
async fn trace_logs_contain_no_credentials() {
    let env = env().await;
    let ext = "ext-secret-123";
    let body = link("api", "log.example.com", CHILD, "").replace(
        &format!("role_arn = \"{}\"", child_role(CHILD)),
        &format!("role_arn = \"arn:aws:iam::222222222222:role/delegation-child-ext\"\n      external_id = \"{ext}\""),
    );
    let tf = Tf::new(&env, "main", &body);
    let log = env.tmp.path().join("trace.log");
    let out = tf
        .cmd(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .env("TF_LOG", "trace")
        .env("TF_LOG_PATH", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let plan = tf.ok(&["plan", "-no-color"]);
    let logs = std::fs::read_to_string(&log).unwrap();
    let provider_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-route53delegation"))
        .collect();
    assert!(
        !provider_lines.is_empty(),
        "the provider logged through Terraform"
    );
    let secret = operator_secret();
    assert!(!logs.contains(&secret), "base secret key in TF_LOG output");
    assert!(!text(&out).contains(&secret));
    for l in &provider_lines {
        assert!(!l.contains(ext), "provider logged the external id: {l}");
        assert!(
            !l.contains("ASIA"),
            "provider logged temporary credentials: {l}"
        );
        assert!(!l.to_ascii_lowercase().contains("secret_access_key"), "{l}");
    }
    assert!(!plan.contains(ext), "external_id is sensitive: {plan}");
}

// ---- issue 10: plans you can trust -------------------------------------

const ACCOUNTS: [&str; 3] = ["222222222222", "333333333333", "444444444444"];

fn norm(v: &[String]) -> Vec<String> {
    let mut l: Vec<String> = v
        .iter()
        .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
        .collect();
    l.sort();
    l
}

/// The world's invariants after each step: every NS record under
/// example.com points at a zone that exists with exactly those servers (no
/// delegation to a deleted zone), and every child zone is delegated (no
/// undelegated live zone) unless it is listed in `kept` (zones a test keeps
/// on purpose).
fn assert_sound(env: &Env, kept: &[&str]) {
    let parent = env
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == env.parent_zone_id)
        .unwrap();
    let children: Vec<r53world::ZoneInfo> =
        ACCOUNTS.iter().flat_map(|a| env.world.zones(a)).collect();
    for r in parent
        .records
        .iter()
        .filter(|r| r.rtype == r53world::RrType::Ns && r.name != "example.com.")
    {
        let values = norm(&r.values);
        assert!(
            children
                .iter()
                .any(|z| z.name == r.name && norm(&z.name_servers) == values),
            "the parent delegates {} to {values:?}, which no existing zone serves",
            r.name
        );
    }
    for z in &children {
        if kept.contains(&z.id.as_str()) {
            continue;
        }
        let delegated = parent
            .records
            .iter()
            .chain(children.iter().flat_map(|c| c.records.iter()))
            .any(|r| {
                r.rtype == r53world::RrType::Ns
                    && r.name == z.name
                    && norm(&r.values) == norm(&z.name_servers)
            });
        assert!(delegated, "zone {} ({}) lives on undelegated", z.id, z.name);
    }
}

/// Terraform wraps long messages: compare with whitespace collapsed.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn consistent(out: &str) {
    assert!(
        !flat(out).contains("inconsistent result")
            && !flat(out).contains("inconsistent final plan"),
        "Terraform reported an inconsistent result:\n{out}"
    );
}

#[tokio::test]
async fn destroy_refuses_a_zone_with_records_before_touching_the_parent() {
    // Guards (issue 10 item 1): destroy removing the parent NS record, then
    // refusing to delete the zone: a live zone left undelegated.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "full.example.com", CHILD, ""));
    consistent(&tf.apply());
    let r = tf.resource("route53delegation_link.api");
    let zone_id = r["child_zone_id"].as_str().unwrap().to_string();
    let www = route53delegation::record::NsRecord {
        ttl: 300,
        values: route53delegation::NsSet::parse(["ns1.x.net"]).unwrap(),
    };
    put_ns(
        &console(&env.world, CHILD),
        &zone_id,
        &route53delegation::DomainName::parse("www.full.example.com").unwrap(),
        &www,
        None,
    )
    .await
    .unwrap();
    let out = tf.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(flat(&out).contains("Child hosted zone not empty"), "{out}");
    assert!(flat(&out).contains("www.full.example.com NS"), "{out}");
    assert!(flat(&out).contains("nothing was changed"), "{out}");
    assert_eq!(
        parent_ns(&env, "full.example.com"),
        Some(ns_list(&r["name_servers"])),
        "the delegation still works"
    );
    assert_sound(&env, &[]);
    tf.assert_no_changes();

    tf.write(
        &env,
        &link("api", "full.example.com", CHILD, "")
            .replace("  child {\n", "  child {\n    force_destroy = true\n"),
    );
    consistent(&tf.apply());
    consistent(&tf.destroy());
    assert_eq!(parent_ns(&env, "full.example.com"), None);
    assert!(zones_named(&env, CHILD, "full.example.com").is_empty());
    assert_sound(&env, &[]);
}

#[tokio::test]
async fn deleted_child_zone_plan_shows_the_repair_and_apply_makes_a_new_zone() {
    // Guards (issue 10 item 3): a deleted child zone making plan fail with
    // "NS record written by someone else ... name servers are []", leaving
    // the parent delegating to a zone that no longer exists.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "gone.example.com", CHILD, ""));
    consistent(&tf.apply());
    let before = tf.resource("route53delegation_link.api");
    let old_id = before["child_zone_id"].as_str().unwrap().to_string();
    console(&env.world, CHILD)
        .delete_hosted_zone()
        .id(&old_id)
        .send()
        .await
        .unwrap();
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(flat(&plan).contains("apply creates a new zone"), "{plan}");
    assert!(!flat(&plan).contains("written by someone else"), "{plan}");
    assert!(flat(&plan).contains("1 to change, 0 to destroy"), "{plan}");
    assert!(flat(&plan).contains("child_zone_id"), "{plan}");
    consistent(&tf.apply());
    let after = tf.resource("route53delegation_link.api");
    let zones = zones_named(&env, CHILD, "gone.example.com");
    assert_eq!(zones.len(), 1);
    assert_eq!(after["child_zone_id"], zones[0].id.as_str());
    assert_ne!(after["child_zone_id"], old_id.as_str());
    assert_eq!(
        parent_ns(&env, "gone.example.com"),
        Some(ns_list(&after["name_servers"]))
    );
    assert_eq!(after["verification"]["status"], "verified");
    assert_sound(&env, &[]);
    tf.assert_no_changes();
    consistent(&tf.destroy());
    assert!(zones_named(&env, CHILD, "gone.example.com").is_empty());
    assert_eq!(parent_ns(&env, "gone.example.com"), None);
}

#[tokio::test]
async fn moving_a_delegation_to_another_child_account() {
    // Guards (issue 10 item 2): a change of child account planned as a
    // no-op, an "inconsistent result" after apply, and the old zone left
    // behind unmanaged (the next plan saying "No changes").
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "team.example.com", CHILD, ""));
    consistent(&tf.apply());
    let before = tf.resource("route53delegation_link.api");
    tf.write(&env, &link("api", "team.example.com", "333333333333", ""));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(flat(&plan).contains("1 to change, 0 to destroy"), "{plan}");
    assert!(flat(&plan).contains("(known after apply)"), "{plan}");
    let out = tf.apply();
    consistent(&out);
    let after = tf.resource("route53delegation_link.api");
    let new_zones = zones_named(&env, "333333333333", "team.example.com");
    assert_eq!(new_zones.len(), 1, "the zone now lives in the new account");
    assert_eq!(after["child_zone_id"], new_zones[0].id.as_str());
    assert!(
        zones_named(&env, CHILD, "team.example.com").is_empty(),
        "the old zone ({}) is deleted, not leaked",
        before["child_zone_id"]
    );
    assert_eq!(
        parent_ns(&env, "team.example.com"),
        Some(ns_list(&after["name_servers"]))
    );
    assert_eq!(after["verification"]["status"], "verified");
    assert_sound(&env, &[]);
    tf.assert_no_changes();

    // Naming the zone it manages, with the /hostedzone/ prefix, is no
    // replacement; the zone becomes adopted and survives destroy.
    let id = after["child_zone_id"].as_str().unwrap().to_string();
    tf.write(
        &env,
        &link("api", "team.example.com", "333333333333", "").replace(
            "  child {\n",
            &format!("  child {{\n    zone_id = \"/hostedzone/{id}\"\n"),
        ),
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(!flat(&plan).contains("must be replaced"), "{plan}");
    assert!(
        flat(&plan).contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    consistent(&tf.apply());
    assert_eq!(
        tf.resource("route53delegation_link.api")["child_zone_id"],
        id.as_str()
    );
    tf.assert_no_changes();
    consistent(&tf.destroy());
    assert_eq!(parent_ns(&env, "team.example.com"), None);
    assert_eq!(
        zones_named(&env, "333333333333", "team.example.com").len(),
        1
    );
    assert_sound(&env, &[id.as_str()]);
}

#[tokio::test]
async fn zone_recreated_by_hand_is_adopted_not_deleted_on_destroy() {
    // Guards (issue 10 item 4): a zone someone re-created by hand silently
    // taken over: deleted on destroy along with whatever they put in it.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "hand.example.com", CHILD, ""));
    consistent(&tf.apply());
    let old = tf.resource("route53delegation_link.api");
    console(&env.world, CHILD)
        .delete_hosted_zone()
        .id(old["child_zone_id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let hand = create_zone(&env.world, CHILD, "hand.example.com").await;
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(flat(&plan).contains("treats it as adopted"), "{plan}");
    assert!(flat(&plan).contains("destroy will not delete it"), "{plan}");
    consistent(&tf.apply());
    assert_sound(&env, &[]);
    tf.assert_no_changes();
    consistent(&tf.destroy());
    let left = zones_named(&env, CHILD, "hand.example.com");
    assert_eq!(left.len(), 1, "the hand-made zone is kept");
    assert_eq!(left[0].id, hand);
    assert_eq!(parent_ns(&env, "hand.example.com"), None);
    assert_sound(&env, &[hand.as_str()]);
}

#[tokio::test]
async fn a_parent_zone_created_in_the_same_apply_is_a_plan_warning() {
    // Guards (issue 10 item 5): plan failing with "no public hosted zone
    // found" for a parent zone another link creates in the same apply, so
    // the configuration never converges without -target.
    let env = env().await;
    let body = format!(
        r#"
resource "route53delegation_link" "testing" {{
  name = "testing.example.com"
  parent {{
    zone_name = "example.com"
    assume_role {{ role_arn = "{PARENT_ROLE}" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::222222222222:role/delegation-child" }}
  }}
}}

resource "route53delegation_link" "dev" {{
  name = "dev.testing.example.com"
  parent {{
    zone_name = "testing.example.com"
    assume_role {{ role_arn = "arn:aws:iam::222222222222:role/delegation-nested" }}
  }}
  child {{
    assume_role {{ role_arn = "arn:aws:iam::333333333333:role/delegation-child" }}
  }}
  depends_on = [route53delegation_link.testing]
}}
"#
    );
    let tf = Tf::new(&env, "main", &body);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(flat(&plan).contains("Not found yet"), "{plan}");
    assert!(flat(&plan).contains("2 to add"), "{plan}");
    let out = tf.apply();
    consistent(&out);
    let dev = tf.resource("route53delegation_link.dev");
    assert_eq!(dev["verification"]["status"], "verified", "{dev}");
    assert_eq!(dev["parent_zone_name"], "testing.example.com");
    assert_sound(&env, &[]);
    tf.assert_no_changes();
    consistent(&tf.destroy());
    for a in ACCOUNTS {
        assert!(env.world.zones(a).is_empty(), "{a} left with zones");
    }
}

#[tokio::test]
async fn import_messages_name_what_the_user_typed() {
    // Guards (issue 10 item 6): the import shorthand failing with a bare "no
    // public hosted zone found" when the zones are in other accounts; the
    // conflict message naming configuration paths instead of import keys;
    // an import silently making a zone managed.
    let env = env().await;
    let body = link("api", "imsg.example.com", CHILD, "");
    let maker = Tf::new(&env, "maker", &body);
    consistent(&maker.apply());
    let cli = Tf::new(&env, "cli", &body);
    let out = cli.fails(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        &format!("imsg.example.com@{}", env.parent_zone_id),
    ]);
    assert!(flat(&out).contains("long import ID"), "{out}");
    assert!(flat(&out).contains("child_role_arn"), "{out}");
    let out = cli.fails(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        &format!(
            "name=imsg.example.com;parent_zone_id={};parent_zone_name=example.com",
            env.parent_zone_id
        ),
    ]);
    assert!(
        flat(&out).contains("set only one of parent_zone_id and parent_zone_name"),
        "{out}"
    );
    assert!(!flat(&out).contains("parent.zone_id"), "{out}");
    let id = format!(
        "name=imsg.example.com;parent_zone_name=example.com;parent_role_arn={PARENT_ROLE};child_role_arn={}",
        child_role(CHILD)
    );
    let out = cli.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        &id,
    ]);
    assert!(flat(&out).contains("Imported zone is managed"), "{out}");
    assert!(flat(&out).contains("destroy deletes it"), "{out}");
    cli.assert_no_changes();
    assert_sound(&env, &[]);
}

#[tokio::test]
async fn allow_overwrite_plan_names_the_servers_it_replaces_and_occlusion_is_told_once() {
    // Guards (issue 10 item 6): allow_overwrite taking over another team's
    // delegation without the plan naming the servers replaced, and the
    // occlusion warning shown twice at apply under two titles.
    let env = env().await;
    let parent = console(&env.world, PARENT_ACCOUNT);
    let name = route53delegation::DomainName::parse("ovr.example.com").unwrap();
    let theirs = route53delegation::record::NsRecord {
        ttl: 300,
        values: route53delegation::NsSet::parse(["ns1.other-dns.net"]).unwrap(),
    };
    put_ns(&parent, &env.parent_zone_id, &name, &theirs, None)
        .await
        .unwrap();
    let host = route53delegation::record::NsRecord {
        ttl: 300,
        values: route53delegation::NsSet::parse(["ns1.hidden.net"]).unwrap(),
    };
    put_ns(
        &parent,
        &env.parent_zone_id,
        &route53delegation::DomainName::parse("deep.ovr.example.com").unwrap(),
        &host,
        None,
    )
    .await
    .unwrap();
    let tf = Tf::new(
        &env,
        "main",
        &link("api", "ovr.example.com", CHILD, "").replace(
            "    zone_name = \"example.com\"\n",
            "    zone_name = \"example.com\"\n    allow_overwrite = true\n",
        ),
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        flat(&plan).contains("NS record of someone else will be replaced"),
        "{plan}"
    );
    assert!(flat(&plan).contains("ns1.other-dns.net"), "{plan}");
    let out = tf.apply();
    consistent(&out);
    assert_eq!(
        out.matches("deep.ovr.example.com").count(),
        1,
        "the occlusion warning once:\n{out}"
    );
}

#[tokio::test]
async fn moving_a_delegation_to_another_parent_zone() {
    // Guards (issue 10 item 2): a parent zone change carried out as a
    // replacement (the delegation removed, the child zone deleted and made
    // anew) or leaving the old parent's record behind.
    let env = env().await;
    let body = |zone_id: &str| {
        link("api", "pmove.example.com", CHILD, "").replace(
            "zone_name = \"example.com\"",
            &format!("zone_id = \"{zone_id}\""),
        )
    };
    let tf = Tf::new(&env, "main", &body(&env.parent_zone_id));
    consistent(&tf.apply());
    let before = tf.resource("route53delegation_link.api");
    // example.com moves to a new hosted zone.
    let new_parent = create_zone(&env.world, PARENT_ACCOUNT, "example.com").await;
    env.world
        .register_domain("example.com", &new_parent)
        .await
        .unwrap();
    env.world.flush("example.com").await.unwrap();
    tf.write(&env, &body(&format!("/hostedzone/{new_parent}")));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        flat(&plan).contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    assert!(!flat(&plan).contains("must be replaced"), "{plan}");
    consistent(&tf.apply());
    let after = tf.resource("route53delegation_link.api");
    assert_eq!(after["parent_zone_id"], new_parent.as_str());
    assert_eq!(after["child_zone_id"], before["child_zone_id"], "same zone");
    assert_eq!(after["verification"]["status"], "verified");
    assert_eq!(
        parent_ns(&env, "pmove.example.com"),
        None,
        "the old parent's record is removed"
    );
    let in_new = env
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == new_parent)
        .unwrap()
        .records
        .into_iter()
        .find(|r| r.name == "pmove.example.com." && r.rtype == r53world::RrType::Ns)
        .map(|r| norm(&r.values));
    assert_eq!(in_new, Some(ns_list(&after["name_servers"])));
    tf.assert_no_changes();
    consistent(&tf.destroy());
    assert!(zones_named(&env, CHILD, "pmove.example.com").is_empty());
}

#[tokio::test]
async fn a_refused_move_changes_nothing_not_even_the_state() {
    // Guards (issue 10 items 1 and 2): a move that would delete an old zone
    // holding records half-done, or state recording the new account while
    // the zone still lives in the old one (the old zone then forgotten).
    // Since issue 19 item 8 the refusal comes from apply's own plan; apply's
    // check before its first write is `core/tests/engine.rs::
    // a_move_that_would_strand_records_is_refused_before_any_write`.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "stay.example.com", CHILD, ""));
    consistent(&tf.apply());
    let before = tf.resource("route53delegation_link.api");
    let zone_id = before["child_zone_id"].as_str().unwrap().to_string();
    put_ns(
        &console(&env.world, CHILD),
        &zone_id,
        &route53delegation::DomainName::parse("www.stay.example.com").unwrap(),
        &route53delegation::record::NsRecord {
            ttl: 300,
            values: route53delegation::NsSet::parse(["ns1.x.net"]).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    tf.write(&env, &link("api", "stay.example.com", "333333333333", ""));
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    consistent(&out);
    assert!(flat(&out).contains("nothing was changed"), "{out}");
    assert!(flat(&out).contains("www.stay.example.com NS"), "{out}");
    assert!(
        flat(&out).contains("Move would strand the old zone's records"),
        "refused at plan: {out}"
    );
    let after = tf.resource("route53delegation_link.api");
    assert_eq!(
        after["child"]["assume_role"]["role_arn"],
        child_role(CHILD).as_str(),
        "the state still names the account the zone lives in"
    );
    assert_eq!(after["child_zone_id"], zone_id.as_str());
    assert!(zones_named(&env, "333333333333", "stay.example.com").is_empty());
    assert_eq!(
        parent_ns(&env, "stay.example.com"),
        Some(ns_list(&before["name_servers"]))
    );
    assert_sound(&env, &[]);
    tf.write(&env, &link("api", "stay.example.com", CHILD, ""));
    tf.assert_no_changes();
}

/// The world's write calls so far (every Route 53 call but reads), by
/// account and operation.
fn writes(env: &Env) -> Vec<((String, r53world::Operation), u64)> {
    env.world
        .call_counts()
        .into_iter()
        .filter(|((_, op), _)| {
            let name = op.as_str();
            !(name.starts_with("Get")
                || name.starts_with("List")
                || *op == r53world::Operation::AssumeRole)
        })
        .collect()
}

#[tokio::test]
async fn a_move_that_would_strand_records_is_refused_at_plan() {
    // Guards (issue 19 item 8): a move whose old zone (created by the link)
    // holds records planned as "1 to change" and refused only at apply,
    // after a pipeline approved the plan.
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "kept.example.com", CHILD, ""));
    consistent(&tf.apply());
    let before = tf.resource("route53delegation_link.api");
    let zone_id = before["child_zone_id"].as_str().unwrap().to_string();
    put_ns(
        &console(&env.world, CHILD),
        &zone_id,
        &route53delegation::DomainName::parse("www.kept.example.com").unwrap(),
        &route53delegation::record::NsRecord {
            ttl: 300,
            values: route53delegation::NsSet::parse(["ns1.x.net"]).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    let refused = |out: &str, line: &str| {
        let out = flat(out);
        assert!(
            out.contains("Move would strand the old zone's records"),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "moving the delegation of kept.example.com away from hosted zone {zone_id}:"
            )),
            "{out}"
        );
        assert!(out.contains("www.kept.example.com NS"), "{out}");
        assert!(
            out.contains("copy those records to the new zone and delete them from the old one"),
            "{out}"
        );
        assert!(out.contains("set child.force_destroy = true"), "{out}");
        assert!(out.contains(line), "the diagnostic points at {line}: {out}");
        assert!(!out.contains("to change"), "no plan is shown: {out}");
    };

    // Another child account: refused at plan, on the role that moves it.
    let writes_before = writes(&env);
    tf.write(&env, &link("api", "kept.example.com", "333333333333", ""));
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    refused(
        &out,
        &format!("role_arn = \"{}\"", child_role("333333333333")),
    );
    assert_eq!(writes(&env), writes_before, "plan writes nothing");
    assert!(zones_named(&env, "333333333333", "kept.example.com").is_empty());

    // Another zone by child.zone_id: refused at plan, on zone_id.
    let other = create_zone(&env.world, CHILD, "kept.example.com").await;
    let writes_before = writes(&env);
    let to_other = link("api", "kept.example.com", CHILD, "").replace(
        "  child {\n",
        &format!("  child {{\n    zone_id = \"{other}\"\n"),
    );
    tf.write(&env, &to_other);
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    refused(&out, &format!("zone_id = \"{other}\""));
    assert_eq!(writes(&env), writes_before, "plan writes nothing");
    assert_eq!(
        parent_ns(&env, "kept.example.com"),
        Some(ns_list(&before["name_servers"])),
        "the delegation is untouched"
    );
    assert_sound(&env, &[other.as_str()]);

    // With force_destroy the move plans, and apply carries it out.
    tf.write(
        &env,
        &link("api", "kept.example.com", "333333333333", "")
            .replace("  child {\n", "  child {\n    force_destroy = true\n"),
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        flat(&plan).contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    consistent(&tf.apply());
    let after = tf.resource("route53delegation_link.api");
    let moved = zones_named(&env, "333333333333", "kept.example.com");
    assert_eq!(moved.len(), 1);
    assert_eq!(after["child_zone_id"], moved[0].id.as_str());
    let left: Vec<String> = zones_named(&env, CHILD, "kept.example.com")
        .into_iter()
        .map(|z| z.id)
        .collect();
    assert_eq!(
        left,
        vec![other.clone()],
        "the old zone went with its records"
    );
    assert_sound(&env, &[other.as_str()]);
    tf.assert_no_changes();
}

#[tokio::test]
async fn a_move_away_from_an_adopted_zone_with_records_plans_a_change() {
    // Guards (issue 19 item 8): the plan-time refusal reaching a zone the
    // link never created, which a move keeps (records and all).
    let env = env().await;
    let adopted = create_zone(&env.world, CHILD, "own.example.com").await;
    let adopt = link("api", "own.example.com", CHILD, "").replace(
        "  child {\n",
        &format!("  child {{\n    zone_id = \"{adopted}\"\n"),
    );
    let tf = Tf::new(&env, "main", &adopt);
    consistent(&tf.apply());
    put_ns(
        &console(&env.world, CHILD),
        &adopted,
        &route53delegation::DomainName::parse("www.own.example.com").unwrap(),
        &route53delegation::record::NsRecord {
            ttl: 300,
            values: route53delegation::NsSet::parse(["ns1.x.net"]).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    tf.write(&env, &link("api", "own.example.com", "333333333333", ""));
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        flat(&plan).contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    assert!(!flat(&plan).contains("strand"), "{plan}");
}
