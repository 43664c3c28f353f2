//! Running where DNS cannot be reached: the provider's `verify { enabled =
//! false }` (or `ROUTE53DELEGATION_VERIFY=false`) turns verification off for
//! every link that does not set `verify.enabled` itself, with the real
//! Terraform CLI against the world.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use terraform_support::*;

/// The usual provider block with `enabled = false` in its `verify` block.
fn verify_off(tf: &Tf, env: &Env, body: &str) {
    tf.write(env, body);
    let main = tf.dir.join("main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    let text = text.replacen("  verify {\n", "  verify {\n    enabled = false\n", 1);
    assert!(text.contains("enabled = false"), "{text}");
    std::fs::write(&main, text).expect("write main.tf");
}

/// Failure mode: a pipeline where DNS is closed has to edit every link
/// (`verify { enabled = false }` on each) or fails each apply after the
/// verification timeout; and a default set by the provider leaks into state,
/// so the next plan shows a change to an attribute nobody set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_provider_turns_verification_off_for_links_that_do_not_set_it() {
    let env = env().await;
    let body = link("api", "api.example.com", CHILD, "");
    let tf = Tf::new(&env, "off", &body);
    verify_off(&tf, &env, &body);
    tf.apply();
    let st = tf.resource("route53delegation_link.api");
    assert_eq!(st["verification"]["status"], "skipped", "{st:#}");
    assert!(
        st["verify"].is_null(),
        "the default is not written to state: {st:#}"
    );
    tf.assert_no_changes();

    // A link's own setting wins over the provider's.
    let own = link(
        "api",
        "api.example.com",
        CHILD,
        "  verify {\n    enabled = true\n  }\n",
    );
    verify_off(&tf, &env, &own);
    let (code, out) = tf.plan();
    assert_eq!(code, 2, "the link verifies again:\n{out}");
    tf.apply();
    let st = tf.resource("route53delegation_link.api");
    assert_eq!(st["verification"]["status"], "verified", "{st:#}");
    tf.destroy();
}

/// The same switch from the environment, for a pipeline that cannot edit
/// the provider block; a value that is neither true nor false is refused,
/// naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_turns_verification_off() {
    let env = env().await;
    let tf = Tf::new(&env, "envoff", &link("api", "api.example.com", CHILD, ""));
    let run = |args: &[&str], value: &str| {
        tf.cmd(args)
            .env("ROUTE53DELEGATION_VERIFY", value)
            .output()
            .expect("terraform")
    };
    let out = run(&["plan", "-input=false", "-no-color"], "maybe");
    assert!(!out.status.success());
    let refused = text(&out);
    assert!(refused.contains("ROUTE53DELEGATION_VERIFY"), "{refused}");
    assert!(refused.contains("expected true or false"), "{refused}");

    let out = run(
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        "false",
    );
    assert!(out.status.success(), "{}", text(&out));
    let st = tf.resource("route53delegation_link.api");
    assert_eq!(st["verification"]["status"], "skipped", "{st:#}");
    let out = run(
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
        "false",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = run(
        &["destroy", "-auto-approve", "-input=false", "-no-color"],
        "false",
    );
    assert!(out.status.success(), "{}", text(&out));
}
