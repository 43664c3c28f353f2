//! States written by released providers keep working: each fixture in
//! `tests/fixtures/state/VERSION/NAME/` (a `terraform.tfstate` with private
//! state, written with the real Terraform CLI against a world, and that
//! world's snapshot) is restored into a world of its own, and this build of
//! the provider, with the fixture's configuration, must
//!
//! 1. read it without an attribute silently lost: an attribute that left the
//!    schema needs a schema version bump and an upgrader;
//! 2. plan "No changes", or exactly the documented change (a registrar's
//!    pending wait resumes; an unfinished move is finished);
//! 3. write nothing while planning: only Get/List calls reach Route 53 and
//!    the world (zones, records, registrations, `example.net`) is unchanged;
//! 4. apply, plan clean, and destroy, leaving no delegation behind.
//!
//! Failure modes guarded: users upgrade the provider under existing states
//! without reading release notes; a schema or private-state change that
//! misreads an old state shows up as a plan that replaces or rewrites a
//! delegation, or as a destroy that forgets a zone.
//!
//! Run inside a loopback-only network namespace (`scripts/netns.sh`);
//! `scripts/write-state-fixtures.sh` writes a release's fixtures.

mod terraform_support;

mod fixture_support;

use std::collections::BTreeMap;

use fixture_support::{delegated_name, load, versions, ADDRESS};
use r53world::{Operation, Snapshot, CHILD_ACCOUNTS, PARENT_ACCOUNT};
use terraform_support::*;

/// What planning a fixture under this build must show.
enum Expect {
    NoChanges,
    /// An in-place update, with these words in the plan.
    Update(&'static [&'static str]),
}

/// Terraform wraps diagnostics at 78 columns: compare with the words joined.
fn flat(out: &str) -> String {
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Operations that change nothing.
fn is_read(op: Operation) -> bool {
    use Operation::*;
    matches!(
        op,
        ListHostedZones
            | ListHostedZonesByName
            | GetHostedZoneCount
            | GetHostedZone
            | ListResourceRecordSets
            | GetChange
            | ListTagsForResource
            | AssumeRole
            | GetCallerIdentity
    )
}

/// Calls that change something, made between two call counts.
fn writes(
    before: &BTreeMap<(String, Operation), u64>,
    after: &BTreeMap<(String, Operation), u64>,
) -> Vec<String> {
    after
        .iter()
        .filter(|((_, op), n)| !is_read(*op) && **n > 0)
        .filter(|(k, n)| before.get(*k).copied().unwrap_or(0) < **n)
        .map(|((account, op), n)| format!("{op} in {account} ({n})"))
        .collect()
}

/// The current schema of a resource or data source, from the CLI.
fn current_schema(tf: &Tf, mode: &str, ty: &str) -> serde_json::Value {
    let out = tf.ok(&["providers", "schema", "-json"]);
    let start = out.find('{').unwrap_or(0);
    let all: serde_json::Value =
        serde_json::from_str(&out[start..]).expect("providers schema -json");
    let key = if mode == "data" {
        "data_source_schemas"
    } else {
        "resource_schemas"
    };
    all["provider_schemas"]["registry.terraform.io/route53delegation/route53delegation"][key][ty]
        .clone()
}

/// Attributes and blocks of `value` (a stored object) that `block` (a schema
/// block as `providers schema -json` prints it) no longer has, as paths.
fn left_the_schema(
    value: &serde_json::Value,
    block: &serde_json::Value,
    path: &str,
) -> Vec<String> {
    let mut gone = Vec::new();
    let Some(obj) = value.as_object() else {
        return gone;
    };
    for (k, v) in obj {
        let here = format!("{path}{k}");
        if block["attributes"].get(k).is_some() {
            continue;
        }
        match block["block_types"].get(k) {
            Some(nested) => {
                let items: Vec<&serde_json::Value> = match v {
                    serde_json::Value::Array(a) => a.iter().collect(),
                    serde_json::Value::Null => Vec::new(),
                    other => vec![other],
                };
                for item in items {
                    gone.extend(left_the_schema(item, &nested["block"], &format!("{here}.")));
                }
            }
            None => gone.push(here),
        }
    }
    gone
}

/// Every instance of the fixture's state is readable by this schema, or
/// the schema version moved on (then the upgrader must do the reading).
fn assert_schema_keeps(tf: &Tf, state: &serde_json::Value, fixture: &str) {
    for res in state["resources"]
        .as_array()
        .expect("resources in the fixture's state")
    {
        let (mode, ty) = (
            res["mode"].as_str().unwrap_or(""),
            res["type"].as_str().unwrap_or(""),
        );
        let schema = current_schema(tf, mode, ty);
        assert!(
            schema.is_object(),
            "{fixture}: this build has no {mode} {ty}"
        );
        for inst in res["instances"].as_array().into_iter().flatten() {
            let stored_version = inst["schema_version"].as_i64().unwrap_or(0);
            let version = schema["version"].as_i64().unwrap_or(0);
            assert!(
                stored_version <= version,
                "{fixture}: {ty} stored at schema version {stored_version}, this build has {version}"
            );
            let gone = left_the_schema(&inst["attributes"], &schema["block"], "");
            assert!(
                gone.is_empty() || stored_version < version,
                "{fixture}: {ty}'s {gone:?} left the schema at the same schema version \
                 ({version}): a state written by the released provider would lose them \
                 silently. Bump the schema version and upgrade the old state in \
                 UpgradeResourceState"
            );
        }
    }
}

/// The world as the fixture test compares it before and after a plan.
async fn world_now(env: &Env) -> Snapshot {
    env.world.snapshot().await.expect("snapshot of the world")
}

/// Restores fixture `name` of `version` into a new world and checks it.
async fn check(version: &str, name: &str, expect: Expect) {
    let world = start_world().await;
    let net = world.net();
    let fx = load(version, name, net);
    world
        .restore(&fx.world)
        .await
        .expect("restore the fixture's world");
    let parent_zone_id = fx
        .world
        .zones
        .iter()
        .find(|z| z.account == PARENT_ACCOUNT && z.name == "example.com.")
        .map(|z| z.id.clone())
        .unwrap_or_default();
    let env = Env {
        world,
        parent_zone_id,
        tmp: tempfile::tempdir().expect("tempdir"),
    };
    let label = format!("{version}/{name}");
    let tf = Tf::new(&env, name, &fx.body);
    std::fs::write(tf.dir.join("terraform.tfstate"), &fx.state).expect("write the fixture's state");
    let state: serde_json::Value =
        serde_json::from_str(&fx.state).expect("the fixture's state is JSON");
    assert_schema_keeps(&tf, &state, &label);

    // Plan: no change but the documented one, and nothing written.
    let calls = env.world.call_counts();
    let before = world_now(&env).await;
    let (code, out) = tf.plan();
    let text = flat(&out);
    match expect {
        Expect::NoChanges => assert_eq!(code, 0, "{label}: expected no changes:\n{out}"),
        Expect::Update(words) => {
            assert_eq!(code, 2, "{label}: expected a change:\n{out}");
            assert!(
                text.contains("0 to add, 1 to change, 0 to destroy"),
                "{label}: expected one in-place update:\n{out}"
            );
            for w in words {
                assert!(
                    text.contains(w),
                    "{label}: the plan should say {w:?}:\n{out}"
                );
            }
        }
    }
    let written = writes(&calls, &env.world.call_counts());
    assert!(
        written.is_empty(),
        "{label}: plan wrote to Route 53: {written:?}"
    );
    assert_eq!(
        before,
        world_now(&env).await,
        "{label}: plan changed the world"
    );

    // Then the state lives on: what the story needs, apply, a clean plan,
    // destroy.
    match name {
        "registrar_pending" => {
            let st = tf.resource(ADDRESS);
            let ns = ns_list(&st["name_servers"]);
            assert_eq!(ns.len(), 4, "{label}: {st:#}");
            fixture_support::enter_at_registrar(&env, delegated_name(name), &ns);
            // Under a busy machine 3 s is short; only the wait changes.
            tf.write(
                &env,
                &fx.body.replace("timeout = \"3s\"", "timeout = \"30s\""),
            );
        }
        "unfinished_move" => {
            // The domain's owner re-points example.com at the new zone.
            let new_parent = state["resources"][0]["instances"][0]["attributes"]["parent_zone_id"]
                .as_str()
                .expect("parent_zone_id in state")
                .to_string();
            env.world
                .register_domain("example.com", &new_parent)
                .await
                .expect("register");
            env.world.flush("example.com").await.expect("flush");
        }
        _ => {}
    }
    let out = tf.apply();
    let st = tf.resource(ADDRESS);
    assert_eq!(
        st["verification"]["status"], "verified",
        "{label}: {out}\n{st:#}"
    );
    tf.assert_no_changes();
    if name == "unfinished_move" {
        // The old parent zone no longer holds the link's record.
        let old = fx.world.zones.iter().find(|z| {
            z.account == PARENT_ACCOUNT && z.name == "example.com." && z.id != st["parent_zone_id"]
        });
        let old = old.expect("the old parent zone in the fixture's world");
        let now = env.world.zones(PARENT_ACCOUNT);
        let old_now = now
            .iter()
            .find(|z| z.id == old.id)
            .expect("the old parent zone");
        assert!(
            !old_now
                .records
                .iter()
                .any(|r| r.rtype == r53world::RrType::Ns && r.name == "api.example.com."),
            "{label}: the move left its old record: {:?}",
            old_now.records
        );
    }
    if name.starts_with("registrar_") {
        // A registrar's delegation is removed by its person first: destroy
        // refuses to leave it dangling.
        nsupdate(
            &env.world,
            &[format!("update delete {}. NS", delegated_name(name))],
        );
    }
    tf.destroy();
    let fq = format!("{}.", delegated_name(name));
    let zones: Vec<_> = CHILD_ACCOUNTS
        .iter()
        .flat_map(|a| env.world.zones(a))
        .filter(|z| z.name == fq)
        .collect();
    if name == "route53_adopted" {
        // An adopted zone is the user's: destroy keeps it.
        assert_eq!(
            zones.len(),
            1,
            "{label}: the adopted zone must stay: {zones:?}"
        );
    } else {
        assert!(zones.is_empty(), "{label}: destroy left zones {zones:?}");
    }
    for z in env.world.zones(PARENT_ACCOUNT) {
        assert!(
            !z.records
                .iter()
                .any(|r| r.rtype == r53world::RrType::Ns && r.name == fq),
            "{label}: destroy left the NS record in {}",
            z.id
        );
    }
    let knot = world_now(&env).await.example_net;
    assert!(
        !knot.iter().any(|r| r.name == fq && name == "dns_update"),
        "{label}: destroy left the NS record in example.net: {knot:?}"
    );
}

/// Every release's fixture `name`, oldest first.
async fn check_all(name: &str, expect: fn() -> Expect) {
    let versions = versions();
    assert!(
        !versions.is_empty(),
        "no state fixtures under {}",
        fixture_support::fixtures_root().display()
    );
    for v in versions {
        check(&v, name, expect()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route53_link_created_by_a_release_plans_no_changes() {
    check_all("route53_created", || Expect::NoChanges).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route53_link_that_adopted_a_zone_plans_no_changes_and_destroy_keeps_the_zone() {
    check_all("route53_adopted", || Expect::NoChanges).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_update_link_plans_no_changes() {
    check_all("dns_update", || Expect::NoChanges).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registrar_link_still_waiting_resumes_its_wait() {
    check_all("registrar_pending", || Expect::Update(&["verification"])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_registrar_link_plans_no_changes() {
    check_all("registrar_verified", || Expect::NoChanges).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_move_is_finished_by_the_next_apply() {
    check_all("unfinished_move", || {
        Expect::Update(&["Unfinished move", "did not yet remove"])
    })
    .await;
}

#[test]
fn every_release_has_every_fixture() {
    let versions = versions();
    assert!(
        versions.iter().any(|v| v == "0.1.0"),
        "the fixtures of 0.1.0 are missing: {versions:?}"
    );
    for v in versions {
        for name in fixture_support::NAMES {
            let dir = fixture_support::fixtures_root().join(&v).join(name);
            for file in ["main.tf", "terraform.tfstate", "world.json"] {
                assert!(
                    dir.join(file).is_file(),
                    "{}/{file} is missing",
                    dir.display()
                );
            }
        }
    }
}
