//! Parents outside Route 53, with the real Terraform CLI against the world:
//! `example.net` on the world's Knot server, which accepts RFC 2136 updates
//! signed with TSIG (`parent.dns_update`), and the same zone played as a
//! registrar that only a person changes (`parent.manual`, the test playing
//! the person with nsupdate).
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use std::process::Stdio;

use route53delegation::dns::DnsClient;
use route53delegation::DomainName;
use terraform_support::*;

const NAME: &str = "api.example.net";

/// The NS set for `api.example.net` in the Knot zone, as its server says.
async fn knot_ns(env: &Env) -> Vec<String> {
    let name = DomainName::parse(NAME).unwrap();
    let r = DnsClient::default()
        .query(
            env.world.example_net_server(),
            &name,
            r53world::RecordType::NS,
            false,
        )
        .await
        .expect("ask the example.net server");
    let mut set = r.authority_ns(&name);
    for n in r.answer_ns(&name).iter() {
        set.insert(n.clone());
    }
    set.to_strings()
}

fn dns_update_link(env: &Env, key_name: &str, secret: &str, extra: &str) -> String {
    format!(
        r#"
resource "route53delegation_link" "api" {{
  name = "{NAME}"
  ttl  = 300
  parent {{
    dns_update {{
      server     = "{}"
      zone       = "example.net"
      key_name   = "{key_name}"
      key_secret = "{secret}"
    }}
  }}
  child {{
    assume_role {{
      role_arn = "{}"
    }}
  }}
{extra}
}}
"#,
        env.world.example_net_server(),
        child_role(CHILD)
    )
}

fn manual_link(env: &Env, extra: &str) -> String {
    format!(
        r#"
resource "route53delegation_link" "api" {{
  name = "{NAME}"
  parent {{
    manual {{
      zone         = "example.net"
      root_servers = ["{}"]
    }}
  }}
  child {{
    assume_role {{
      role_arn = "{}"
    }}
  }}
{extra}
}}
"#,
        env.world.root_server(),
        child_role(CHILD)
    )
}

/// Terraform wraps diagnostics at 78 columns: compare with the words joined.
fn flat(out: &str) -> String {
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    ns_list(v)
}

/// Failure modes: a parent on BIND/Knot cannot be delegated from at all; a
/// record another tool wrote is overwritten; drift goes unseen; destroy
/// leaves the record (or removes someone else's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_update_parent_create_drift_refusal_and_exact_destroy() {
    let env = env().await;
    let tf = Tf::new(
        &env,
        "upd",
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, ""),
    );
    tf.apply();
    let st = tf.resource("route53delegation_link.api");
    let ns = strings(&st["name_servers"]);
    assert_eq!(ns.len(), 4, "{st:#}");
    assert_eq!(knot_ns(&env).await, ns, "the NS set is in the Knot zone");
    assert_eq!(st["parent_zone_id"], "dns-update:example.net");
    assert_eq!(st["id"], "api.example.net@dns-update:example.net");
    assert_eq!(st["verification"]["status"], "verified", "{st:#}");
    assert_eq!(strings(&st["delegated_name_servers"]), ns);
    let sensitive = tf.ok(&["show", "-no-color"]);
    assert!(
        !sensitive.contains(r53world::TSIG_SECRET),
        "the secret is never shown:\n{sensitive}"
    );
    tf.assert_no_changes();

    // Import: the ID names the server and zone; the secret comes from the
    // environment, never from the ID (Terraform prints it).
    tf.ok(&["state", "rm", "route53delegation_link.api"]);
    let id = format!(
        "{NAME}@dns-update:{}/example.net?key_name={}&key_secret_env=R53D_TEST_TSIG_SECRET&child_role_arn={}",
        env.world.example_net_server(),
        r53world::TSIG_KEY_NAME,
        child_role(CHILD)
    );
    let out = tf
        .cmd(&[
            "import",
            "-input=false",
            "-no-color",
            "route53delegation_link.api",
            &id,
        ])
        .env("R53D_TEST_TSIG_SECRET", r53world::TSIG_SECRET)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains(r53world::TSIG_SECRET),
        "{}",
        text(&out)
    );
    let imported = tf.resource("route53delegation_link.api");
    assert_eq!(imported["child_zone_id"], st["child_zone_id"]);
    assert_eq!(
        imported["verification"]["status"], "verified",
        "{imported:#}"
    );
    tf.assert_no_changes();

    // Another tool re-points the name: plan says so and refuses to undo it.
    nsupdate(
        &env.world,
        &[
            format!("update delete {NAME}. NS"),
            format!("update add {NAME}. 300 NS ns1.other-dns.example."),
        ],
    );
    let out = flat(&tf.fails(&["plan", "-input=false", "-no-color"]));
    assert!(out.contains("changed outside this delegation"), "{out}");
    assert!(out.contains("NS record written by someone else"), "{out}");
    assert!(out.contains("ns1.other-dns.example"), "{out}");
    let out = flat(&tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]));
    assert!(out.contains("allow_overwrite"), "{out}");
    assert_eq!(
        knot_ns(&env).await,
        vec!["ns1.other-dns.example".to_string()],
        "another writer's NS set is never overwritten"
    );

    // With allow_overwrite the link takes the name back, by a
    // compare-and-swap against exactly the record it read.
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, "").replace(
            "  dns_update {",
            "  allow_overwrite = true\n    dns_update {",
        ),
    );
    let out = flat(&tf.ok(&["plan", "-input=false", "-no-color"]));
    assert!(
        out.contains("NS record of someone else will be replaced"),
        "{out}"
    );
    tf.apply();
    assert_eq!(knot_ns(&env).await, ns, "the link's NS set is back");
    tf.assert_no_changes();

    // Destroy removes exactly what it wrote, and the zone it created.
    tf.destroy();
    assert!(knot_ns(&env).await.is_empty(), "the NS record is gone");
    assert!(
        zones_named(&env, CHILD, NAME).is_empty(),
        "the zone is gone"
    );
}

/// Failure mode: a wrong key or secret is found out half-way through an
/// apply, after the child zone was created, or gives an unreadable error.
/// Bad keys are refused at plan time (an update that changes nothing), bad
/// input at validate time, naming what to check; nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_update_bad_keys_are_refused_at_plan_with_nothing_written() {
    let env = env().await;
    // The right name, a wrong secret (still base64).
    let tf = Tf::new(
        &env,
        "badsig",
        &dns_update_link(
            &env,
            r53world::TSIG_KEY_NAME,
            "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0wMDAwMDA=",
            "",
        ),
    );
    let out = flat(&tf.fails(&["plan", "-input=false", "-no-color"]));
    assert!(out.contains("BADSIG"), "{out}");
    assert!(out.contains("check key_secret"), "{out}");
    // A key the server does not know.
    tf.write(
        &env,
        &dns_update_link(&env, "no-such-key", r53world::TSIG_SECRET, ""),
    );
    let out = flat(&tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]));
    assert!(out.contains("BADKEY"), "{out}");
    assert!(out.contains("'no-such-key'"), "{out}");
    assert!(
        out.contains("by DNS UPDATE to") && out.contains("(zone example.net)"),
        "{out}"
    );
    // Bad input: on the attribute, before anything is asked.
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, "not base64!", ""),
    );
    let out = flat(&tf.fails(&["validate", "-no-color"]));
    assert!(out.contains("Invalid TSIG key"), "{out}");
    assert!(out.contains("key_secret"), "{out}");
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, "").replace(
            "zone       = \"example.net\"",
            "zone       = \"example.net\"\n      key_algorithm = \"hmac-md5\"",
        ),
    );
    let out = flat(&tf.fails(&["validate", "-no-color"]));
    assert!(
        out.contains("hmac-sha256, hmac-sha384, hmac-sha512"),
        "{out}"
    );
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, "").replace(
            "  parent {\n",
            &format!(
                "  parent {{\n    assume_role {{\n      role_arn = \"{PARENT_ROLE}\"\n    }}\n"
            ),
        ),
    );
    let out = flat(&tf.fails(&["validate", "-no-color"]));
    assert!(out.contains("Setting does not apply"), "{out}");

    assert!(knot_ns(&env).await.is_empty(), "no update was made");
    assert!(
        zones_named(&env, CHILD, NAME).is_empty(),
        "no child zone was created"
    );
}

/// Failure modes: a registrar parent cannot be delegated to at all; the
/// first apply times out and Terraform taints and deletes the zone whose
/// servers the user is entering at the registrar; the registrar's record
/// drifts unseen; destroy deletes a zone the registrar still points at.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_parent_pending_resume_drift_and_guarded_destroy() {
    let env = env().await;
    let tf = Tf::new(
        &env,
        "manual",
        &manual_link(&env, "  verify {\n    timeout = \"3s\"\n  }\n"),
    );
    // First apply: the zone, the NS set to enter, and no registrar yet.
    let out = flat(&tf.apply());
    let st = tf.resource("route53delegation_link.api");
    let ns = strings(&st["name_servers"]);
    assert_eq!(ns.len(), 4, "{st:#}");
    assert!(out.contains("Warning"), "{out}");
    for s in &ns {
        assert!(out.contains(s.as_str()), "the warning names {s}:\n{out}");
    }
    assert_eq!(st["verification"]["status"], "pending", "{st:#}");
    let instructions = st["registrar_instructions"].as_str().unwrap_or_default();
    assert!(instructions.contains(&ns.join(", ")), "{st:#}");
    let raw = tf.ok(&["state", "list"]);
    assert!(raw.contains("route53delegation_link.api"), "{raw}");
    let show = tf.ok(&["show", "-no-color"]);
    assert!(!show.contains("tainted"), "never tainted:\n{show}");

    // The next plan resumes, in place (no replacement).
    let (code, out) = tf.plan();
    let out = flat(&out);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("1 to change, 0 to destroy"), "{out}");

    // Still nothing at the registrar: the resumed wait fails, not tainted.
    let out = flat(&tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]));
    assert!(out.contains("at the registrar (zone example.net)"), "{out}");
    let show = tf.ok(&["show", "-no-color"]);
    assert!(!show.contains("tainted"), "never tainted:\n{show}");
    assert_eq!(zones_named(&env, CHILD, NAME).len(), 1, "the zone is kept");

    // The registrar is told while apply waits.
    tf.write(
        &env,
        &manual_link(&env, "  verify {\n    timeout = \"60s\"\n  }\n"),
    );
    let waiting = tf
        .cmd(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("terraform apply");
    let lines: Vec<String> = ns
        .iter()
        .map(|s| format!("update add {NAME}. 300 NS {s}."))
        .collect();
    nsupdate(&env.world, &lines);
    let out = waiting.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let st = tf.resource("route53delegation_link.api");
    assert_eq!(st["verification"]["status"], "verified", "{st:#}");
    assert_eq!(strings(&st["delegated_name_servers"]), ns);
    tf.assert_no_changes();

    // Import: the ID names the registrar's zone (and where the walk starts);
    // settings of the configuration alone (verify) are not in the ID.
    tf.write(&env, &manual_link(&env, ""));
    tf.ok(&["state", "rm", "route53delegation_link.api"]);
    let id = format!(
        "{NAME}@manual:example.net?root_servers={}&child_role_arn={}",
        env.world.root_server(),
        child_role(CHILD)
    );
    tf.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "route53delegation_link.api",
        &id,
    ]);
    let imported = tf.resource("route53delegation_link.api");
    assert_eq!(imported["child_zone_id"], st["child_zone_id"]);
    assert_eq!(
        imported["verification"]["status"], "verified",
        "{imported:#}"
    );
    tf.assert_no_changes();

    // The registrar's record changes: plan shows it.
    nsupdate(
        &env.world,
        &[
            format!("update delete {NAME}. NS {}.", ns[0]),
            format!("update add {NAME}. 300 NS ns1.other-dns.example."),
        ],
    );
    let (code, out) = tf.plan();
    let out = flat(&out);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("registrar's delegation"), "{out}");

    // Destroy refuses while the registrar points at the zone.
    let out = flat(&tf.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]));
    assert!(
        out.contains("remove the NS records for api.example.net"),
        "{out}"
    );
    assert_eq!(zones_named(&env, CHILD, NAME).len(), 1, "nothing deleted");
    nsupdate(&env.world, &[format!("update delete {NAME}. NS")]);
    tf.destroy();
    assert!(
        zones_named(&env, CHILD, NAME).is_empty(),
        "the zone is gone"
    );
}

/// Failure mode (issue 19 item 4): a wrong secret given to an existing link
/// planned as an in-place update, applied "successfully" with status
/// verified, kept the wrong key in state, and failed only at the next
/// repair (BADSIG). A changed key is checked at plan, as a new link's is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_update_key_is_checked_at_plan() {
    let env = env().await;
    let tf = Tf::new(
        &env,
        "rekey",
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, ""),
    );
    tf.apply();
    tf.assert_no_changes();
    let wrong = "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC0wMDAwMDA=";
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, wrong, ""),
    );
    let out = flat(&tf.fails(&["plan", "-input=false", "-no-color"]));
    assert!(out.contains("BADSIG"), "{out}");
    assert!(out.contains("check key_secret"), "{out}");
    assert!(!out.contains(wrong), "the secret is never shown: {out}");
    let out = flat(&tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]));
    assert!(out.contains("BADSIG"), "{out}");
    // Nothing changed: the state keeps the working key.
    tf.write(
        &env,
        &dns_update_link(&env, r53world::TSIG_KEY_NAME, r53world::TSIG_SECRET, ""),
    );
    tf.assert_no_changes();
    tf.destroy();
}
