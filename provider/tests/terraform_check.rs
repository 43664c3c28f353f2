//! `route53delegation_check` with the real Terraform CLI against the world:
//! continuous validation of a delegation the team does not own, in a
//! `check {}` block, run with no AWS credentials at all.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use aws_sdk_route53::types::ChangeAction;
use terraform_support::*;

/// The checking configuration: a standalone data source, and the same in a
/// `check {}` block asserting the delegation is healthy.
fn checker(env: &Env) -> String {
    let root = env.world.root_server();
    format!(
        r#"
data "route53delegation_check" "api" {{
  name         = "api.example.com"
  root_servers = ["{root}"]
}}

check "api_delegation" {{
  data "route53delegation_check" "scoped" {{
    name         = "api.example.com"
    root_servers = ["{root}"]
  }}

  assert {{
    condition     = data.route53delegation_check.scoped.healthy
    error_message = "api.example.com is not delegated correctly: ${{data.route53delegation_check.scoped.summary}}"
  }}
}}

output "status" {{
  value = data.route53delegation_check.api.status
}}

output "findings" {{
  value = [for f in data.route53delegation_check.api.findings : f.code]
}}
"#
    )
}

/// Runs terraform with every AWS variable removed: the check needs none.
fn run_without_aws(tf: &Tf, args: &[&str]) -> (i32, String) {
    let mut c = tf.cmd(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(&k);
        }
    }
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_ROUTE_53",
        "AWS_ENDPOINT_URL_STS",
        "AWS_PROFILE",
    ] {
        c.env_remove(k);
    }
    let out = c.output().expect("run terraform");
    (out.status.code().unwrap_or(-1), text(&out))
}

/// Failure mode: a delegation someone else manages breaks (its NS record is
/// deleted from the parent) and nobody notices until users get NXDOMAIN.
/// The check block turns it into a warning on every plan, without AWS
/// credentials, and says what is wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_block_validates_a_delegation_the_team_does_not_own() {
    let env = env().await;
    // Another team's delegation.
    let owner = Tf::new(&env, "owner", &link("api", "api.example.com", CHILD, ""));
    owner.apply();
    let made = owner.resource("route53delegation_link.api");

    let watcher = Tf::new(&env, "watcher", &checker(&env));
    let (code, out) = run_without_aws(
        &watcher,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("status = \"healthy\""), "{out}");
    assert!(!out.contains("Check block assertion failed"), "{out}");
    let state = watcher.state();
    let data = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "data.route53delegation_check.api")
        .expect("the data source in state")["values"]
        .clone();
    assert_eq!(data["parent_zone"], "example.com");
    assert_eq!(
        ns_list(&data["delegated_name_servers"]),
        ns_list(&made["name_servers"])
    );
    assert!(data["servers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["ok"] == true));

    // Someone deletes the parent's NS record.
    let (ttl, values) = parent_record(&env, "api.example.com").expect("the NS record");
    change_parent_ns(
        &env,
        ChangeAction::Delete,
        "api.example.com",
        i64::from(ttl),
        &values,
    )
    .await;
    // Served over DNS once INSYNC (the world's test delay is 200 ms).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (code, out) = run_without_aws(&watcher, &["plan", "-input=false", "-no-color"]);
        assert_eq!(code, 0, "a failed check is a warning, not an error:\n{out}");
        if out.contains("Check block assertion failed") {
            assert!(
                out.contains("api.example.com is not delegated correctly"),
                "{out}"
            );
            assert!(out.contains("no NS record"), "{out}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the check never noticed the deleted NS record:\n{out}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    // Bad input is a diagnostic on the attribute, before anything is asked.
    let bad = Tf::new(
        &env,
        "bad",
        "data \"route53delegation_check\" \"x\" {\n  name = \"*.example.com\"\n}\n",
    );
    let (code, out) = run_without_aws(&bad, &["plan", "-input=false", "-no-color"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Invalid name"), "{out}");
    assert!(out.contains("wildcard"), "{out}");
}
