//! Verification that stays true, with the real Terraform CLI against the
//! local world: after create, a child name server goes silent or starts
//! answering REFUSED; `terraform plan` must show a change with a warning
//! naming the server, `apply -refresh-only` must record it in state, and
//! once the server is fixed the plan is clean again.

mod terraform_support;

use r53world::DnsFault;
use terraform_support::*;

/// Terraform may wrap long diagnostics: compare with whitespace collapsed.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn refresh_only(tf: &Tf) -> String {
    tf.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ])
}

#[tokio::test]
async fn a_broken_child_server_shows_in_plan_and_state_until_it_is_fixed() {
    let env = env().await;
    let tf = Tf::new(&env, "main", &link("api", "live.example.com", CHILD, ""));
    tf.apply();
    let r = tf.resource("route53delegation_link.api");
    assert_eq!(r["verification"]["status"], "verified", "{r}");
    let servers = r["verification"]["servers"].as_array().cloned().unwrap();
    assert_eq!(servers.len(), 8, "4 parent + 4 child servers: {r}");
    for s in &servers {
        assert_eq!(s["result"], "ok", "{s}");
        assert!(
            s["address"].as_str().is_some() && s["rtt_ms"].as_i64().is_some(),
            "{s}"
        );
        assert!(
            matches!(s["role"].as_str(), Some("parent" | "child")),
            "{s}"
        );
    }
    tf.assert_no_changes();

    // A child server goes silent for the zone.
    let server = ns_list(&r["name_servers"])[0].clone();
    let addr = env.world.name_server_addr(&server).unwrap().ip();
    env.world.set_dns_fault(
        &server,
        Some("live.example.com"),
        Some(DnsFault::Drop),
        None,
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "a broken delegation is a planned change:\n{plan}");
    let p = flat(&plan);
    assert!(p.contains("Warning: Delegation not verified"), "{plan}");
    assert!(
        p.contains(&format!(
            "live.example.com does not verify; apply verifies it again: {server} ({addr}): timed out"
        )),
        "the warning names the server, its address and what it did:\n{plan}"
    );
    assert!(p.contains("verification"), "{plan}");
    assert!(p.contains("1 to change, 0 to destroy"), "{plan}");

    // `apply -refresh-only` records the failed verification in state.
    let out = refresh_only(&tf);
    assert!(
        flat(&out).contains(&format!("{server} ({addr}): timed out")),
        "{out}"
    );
    let r = tf.resource("route53delegation_link.api");
    assert_eq!(r["verification"]["status"], "failed", "{r}");
    let first = &r["verification"]["servers"][0];
    assert_eq!(first["name"], server.as_str(), "failing server first: {r}");
    assert_eq!(first["address"], addr.to_string().as_str());
    assert_eq!(first["role"], "child");
    assert_eq!(first["result"], "timed out");
    assert!(
        r["verification"]["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("not verified: {server} ({addr}) timed out")),
        "{r}"
    );

    // The same server now answers REFUSED: the plan says so.
    env.world.set_dns_fault(
        &server,
        Some("live.example.com"),
        Some(DnsFault::Refuse),
        None,
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        flat(&plan).contains(&format!(
            "{server} ({addr}): REFUSED (does not serve the zone)"
        )),
        "{plan}"
    );

    // Fixed: the plan goes back to no changes, and a refresh records it.
    env.world
        .set_dns_fault(&server, Some("live.example.com"), None, None);
    tf.assert_no_changes();
    refresh_only(&tf);
    let r = tf.resource("route53delegation_link.api");
    assert_eq!(r["verification"]["status"], "verified", "{r}");
    tf.assert_no_changes();
    tf.destroy();
}

#[tokio::test]
async fn apply_fails_naming_the_cause_while_the_delegation_stays_broken() {
    // After a refresh found the delegation broken, apply verifies again with
    // its own deadline and fails naming the cause while it stays broken.
    let env = env().await;
    let tf = Tf::new(
        &env,
        "main",
        &link(
            "api",
            "again.example.com",
            CHILD,
            "  verify {\n    timeout = \"3s\"\n  }",
        ),
    );
    tf.apply();
    let r = tf.resource("route53delegation_link.api");
    let server = ns_list(&r["name_servers"])[0].clone();
    env.world.set_dns_fault(
        &server,
        Some("again.example.com"),
        Some(DnsFault::Refuse),
        None,
    );
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let o = flat(&out);
    assert!(o.contains("Error: Delegation not verified"), "{out}");
    assert!(
        o.contains(&format!("child name server {server}")) && o.contains("is lame"),
        "{out}"
    );
    // Fixed: the refresh before the next apply verifies it, so there is
    // nothing left to do.
    env.world
        .set_dns_fault(&server, Some("again.example.com"), None, None);
    let out = tf.apply();
    assert!(out.contains("No changes"), "{out}");
    assert_eq!(
        tf.resource("route53delegation_link.api")["verification"]["status"],
        "verified"
    );
    tf.assert_no_changes();
    tf.destroy();
}

#[tokio::test]
async fn on_refresh_false_leaves_plans_quiet() {
    let env = env().await;
    let tf = Tf::new(
        &env,
        "main",
        &link(
            "api",
            "off.example.com",
            CHILD,
            "  verify {\n    on_refresh = false\n  }",
        ),
    );
    tf.apply();
    let r = tf.resource("route53delegation_link.api");
    let server = ns_list(&r["name_servers"])[0].clone();
    env.world
        .set_dns_fault(&server, Some("off.example.com"), Some(DnsFault::Drop), None);
    let (code, plan) = tf.plan();
    assert_eq!(code, 0, "no refresh check, no change:\n{plan}");
    assert!(!plan.contains("Delegation not verified"), "{plan}");
    env.world
        .set_dns_fault(&server, Some("off.example.com"), None, None);
    tf.destroy();
}
