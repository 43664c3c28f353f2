//! Ctrl-C during a create, with the real Terraform CLI against the world:
//! the link keeps the zone it made, untainted, and the next apply finishes
//! the wait on that zone.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use std::time::Duration;

use terraform_support::*;

fn creates(env: &Env) -> u64 {
    env.world
        .call_counts()
        .iter()
        .filter(|((_, op), _)| *op == r53world::Operation::CreateHostedZone)
        .map(|(_, n)| n)
        .sum()
}

/// Guards (issue 19 item 7): Ctrl-C while a create waited for INSYNC
/// returned an error, so Terraform tainted the link, and the next apply
/// destroyed the zone it had just made and created another, with new name
/// servers and a second parent write.
#[tokio::test]
async fn ctrl_c_during_the_insync_wait_of_a_create_keeps_the_zone_for_the_next_apply() {
    let env = env().await;
    // Route 53's real pace: nothing is INSYNC while the apply waits.
    env.world.set_insync_delay(Duration::from_secs(600));
    let tf = Tf::new(&env, "main", &link("api", "insync.example.com", CHILD, ""));
    let child = tf
        .cmd(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The zone is created and the parent record written; then the apply
    // waits for both changes.
    let start = std::time::Instant::now();
    while parent_ns(&env, "insync.example.com").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "apply never wrote the record"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    let rc = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(rc.success());
    let out = child.wait_with_output().unwrap();
    let text = text(&out);
    // Terraform reports the interruption itself.
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("was interrupted after it created hosted zone"),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");

    let zones = zones_named(&env, CHILD, "insync.example.com");
    assert_eq!(zones.len(), 1, "{zones:?}");
    let state = tf.state();
    let res = &state["values"]["root_module"]["resources"][0];
    assert_ne!(res["tainted"], true, "the link was tainted:\n{state:#}");
    assert_eq!(res["values"]["child_zone_id"], zones[0].id.as_str());
    assert_eq!(res["values"]["verification"]["status"], "pending");

    // While Route 53 still works on the changes, the next plan shows the
    // change in place (a replacement would make a new zone)...
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    // ...and once they are done, the apply finishes it on the same zone,
    // creating nothing.
    env.world.set_insync_delay(Duration::ZERO);
    env.world.complete_pending_changes();
    let created = creates(&env);
    tf.apply();
    let r = tf.resource("route53delegation_link.api");
    assert_eq!(r["verification"]["status"], "verified");
    assert_eq!(r["child_zone_id"], zones[0].id.as_str());
    assert_eq!(creates(&env), created, "the next apply created a zone");
    tf.assert_no_changes();
    tf.destroy();
    assert!(zones_named(&env, CHILD, "insync.example.com").is_empty());
}
