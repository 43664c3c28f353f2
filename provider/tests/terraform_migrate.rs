//! A way in for existing setups: a delegation made the way the AWS
//! provider's two-alias pattern makes it (an `aws_route53_zone` in the child
//! account, an `aws_route53_record` of type NS in the parent account with the
//! zone's four servers) moves under one `route53delegation_link` with
//! `examples/migrate-from-aws-provider/` as it is: an `import {}` block
//! adopts it, and neither the plan nor the apply changes anything in DNS.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`).

mod terraform_support;

use std::path::Path;

use aws_sdk_route53::types::ChangeAction;
use r53world::Operation;
use terraform_support::*;

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/migrate-from-aws-provider"
);

/// What the two-alias pattern leaves behind: the child zone, and the parent
/// NS record holding its name servers with the pattern's TTL.
async fn two_alias_delegation(env: &Env, name: &str, ttl: i64) -> String {
    let zone_id = create_zone(&env.world, CHILD, name).await;
    let servers = env
        .world
        .zones(CHILD)
        .into_iter()
        .find(|z| z.id == zone_id)
        .expect("the child zone")
        .name_servers;
    change_parent_ns(env, ChangeAction::Create, name, ttl, &servers).await;
    zone_id
}

fn writes(env: &Env) -> u64 {
    env.world
        .call_counts()
        .iter()
        .filter(|((_, op), _)| {
            matches!(
                op,
                Operation::CreateHostedZone
                    | Operation::ChangeResourceRecordSets
                    | Operation::DeleteHostedZone
            )
        })
        .map(|(_, n)| n)
        .sum()
}

/// Failure mode: moving from the two-alias pattern re-writes the delegation
/// (an outage window, or a second zone) because the link does not recognise
/// what is already there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_alias_delegation_moves_under_a_link_with_no_change_in_dns() {
    let env = env().await;
    let name = "api.example.com";
    let zone_id = two_alias_delegation(&env, name, 30).await;
    let record_before = parent_record(&env, name).expect("the two-alias NS record");
    let zones_before = zones_named(&env, CHILD, name);
    let writes_before = writes(&env);

    // The example, as shipped, pointed at this world.
    let tf = Tf::new(&env, "migrate", "");
    for f in ["main.tf", "variables.tf"] {
        std::fs::copy(Path::new(EXAMPLE).join(f), tf.dir.join(f)).expect("copy the example");
    }
    let e = env.world.endpoint();
    let vars = [
        ("TF_VAR_parent_zone_id", env.parent_zone_id.clone()),
        ("TF_VAR_parent_role_arn", PARENT_ROLE.to_string()),
        ("TF_VAR_child_role_arn", child_role(CHILD)),
        ("TF_VAR_route53_endpoint", e.clone()),
        ("TF_VAR_sts_endpoint", e),
        (
            "TF_VAR_dns_resolvers",
            format!("[\"{}\"]", env.world.resolver()),
        ),
    ];
    let run = |args: &[&str]| {
        let mut c = tf.cmd(args);
        for (k, v) in &vars {
            c.env(k, v);
        }
        c.output().expect("run terraform")
    };

    let out = run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    let plan = text(&out);
    assert_eq!(out.status.code(), Some(2), "{plan}");
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "the import must change nothing:\n{plan}"
    );

    let out = run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let applied = text(&out);
    assert!(out.status.success(), "{applied}");
    assert!(
        applied.contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "{applied}"
    );
    assert!(
        applied.contains("verification_status = \"verified\""),
        "{applied}"
    );
    assert!(!applied.contains("inconsistent result"), "{applied}");

    // Nothing in DNS or Route 53 changed: the same record (TTL and values),
    // the same single child zone, and not one write call.
    assert_eq!(parent_record(&env, name), Some(record_before));
    let zones_after = zones_named(&env, CHILD, name);
    assert_eq!(zones_after.len(), 1, "one child zone, as before");
    assert_eq!(zones_after[0].id, zones_before[0].id);
    assert_eq!(zones_after[0].id, zone_id);
    assert_eq!(
        writes(&env),
        writes_before,
        "the migration wrote to Route 53"
    );

    // With the import done, the configuration is in step with reality.
    let out = run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}
