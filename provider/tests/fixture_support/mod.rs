//! State fixtures: Terraform states written by a released provider with the
//! real Terraform CLI against a world, kept with a snapshot of that world,
//! so that every later build can be tried on them (`state_fixtures.rs`).
//!
//! A fixture is a folder `tests/fixtures/state/VERSION/NAME/` holding
//! `main.tf` (the resources, without the provider block, which each run
//! writes for its own world), `terraform.tfstate` (with private state) and
//! `world.json` (an [`r53world::Snapshot`]). Addresses of the world that
//! wrote them are kept as `127.@NET@.x.y`, so they restore into a world on
//! any net. [`write_all`] writes them again, for the release being built
//! (`scripts/write-state-fixtures.sh`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use r53world::{Snapshot, PARENT_ACCOUNT};

use super::terraform_support::{child_role, create_zone, nsupdate, Env, Tf, CHILD, PARENT_ROLE};

/// Where the fixtures are kept, one folder per release.
pub fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state")
}

/// The fixtures every release writes.
pub const NAMES: [&str; 6] = [
    "route53_created",
    "route53_adopted",
    "dns_update",
    "registrar_pending",
    "registrar_verified",
    "unfinished_move",
];

/// The one resource of every fixture, and the name it delegates.
pub const ADDRESS: &str = "route53delegation_link.api";

/// The name a fixture's link delegates.
pub fn delegated_name(fixture: &str) -> &'static str {
    match fixture {
        "dns_update" | "registrar_pending" | "registrar_verified" => "api.example.net",
        "route53_adopted" => "adopted.example.com",
        _ => "api.example.com",
    }
}

const NET_TOKEN: &str = "127.@NET@.";

/// A world's addresses in `text` made net-independent.
pub fn generalize(text: &str, net: u8) -> String {
    text.replace(&format!("127.{net}."), NET_TOKEN)
}

/// A fixture's text with the addresses of the world on `net`.
pub fn localize(text: &str, net: u8) -> String {
    text.replace(NET_TOKEN, &format!("127.{net}."))
}

/// One fixture as read from its folder, addresses made local to `net`.
pub struct Loaded {
    pub body: String,
    pub state: String,
    pub world: Snapshot,
}

/// Reads fixture `name` of release `version` for a world on `net`.
pub fn load(version: &str, name: &str, net: u8) -> Loaded {
    let dir = fixtures_root().join(version).join(name);
    let read = |file: &str| {
        let p = dir.join(file);
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("reading the state fixture {}: {e}", p.display()));
        localize(&text, net)
    };
    let world = serde_json::from_str(&read("world.json"))
        .unwrap_or_else(|e| panic!("{}/world.json is not a world snapshot: {e}", dir.display()));
    Loaded {
        body: read("main.tf"),
        state: read("terraform.tfstate"),
        world,
    }
}

/// The releases that have fixtures (folder names), oldest first.
pub fn versions() -> Vec<String> {
    let root = fixtures_root();
    let mut v: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("reading {}: {e}", root.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort_by_key(|s| {
        s.split('.')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .collect::<Vec<_>>()
    });
    v
}

/// A link to `name` from the Route 53 zone `example.com`, given by name or
/// (with `parent_zone_id`) by ID, into a zone in the child account.
pub fn route53_link(
    name: &str,
    parent_zone_id: Option<&str>,
    child_extra: &str,
    extra: &str,
) -> String {
    let parent_zone = match parent_zone_id {
        Some(id) => format!("zone_id = \"{id}\""),
        None => "zone_name = \"example.com\"".to_string(),
    };
    format!(
        r#"
resource "route53delegation_link" "api" {{
  name = "{name}"
  parent {{
    {parent_zone}
    assume_role {{
      role_arn = "{PARENT_ROLE}"
    }}
  }}
  child {{
{child_extra}    assume_role {{
      role_arn = "{}"
    }}
  }}
{extra}}}
"#,
        child_role(CHILD)
    )
}

/// A link to `api.example.net` from the world's Knot server by RFC 2136.
pub fn dns_update_link(env: &Env) -> String {
    format!(
        r#"
resource "route53delegation_link" "api" {{
  name = "api.example.net"
  ttl  = 300
  parent {{
    dns_update {{
      server     = "{}"
      zone       = "example.net"
      key_name   = "{}"
      key_secret = "{}"
    }}
  }}
  child {{
    assume_role {{
      role_arn = "{}"
    }}
  }}
}}
"#,
        env.world.example_net_server(),
        r53world::TSIG_KEY_NAME,
        r53world::TSIG_SECRET,
        child_role(CHILD)
    )
}

/// A link to `api.example.net` whose parent a person changes at a registrar.
pub fn registrar_link(env: &Env, verify_timeout: &str) -> String {
    format!(
        r#"
resource "route53delegation_link" "api" {{
  name = "api.example.net"
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
  verify {{
    timeout = "{verify_timeout}"
  }}
}}
"#,
        env.world.root_server(),
        child_role(CHILD)
    )
}

/// The check data source on the link's name, as a user watching it would.
const CHECK: &str = r#"
data "route53delegation_check" "api" {
  name                  = route53delegation_link.api.name
  expected_name_servers = route53delegation_link.api.name_servers
}
"#;

/// What the registrar's person enters: the link's name servers, by nsupdate.
pub fn enter_at_registrar(env: &Env, name: &str, servers: &[String]) {
    let lines: Vec<String> = servers
        .iter()
        .map(|s| format!("update add {name}. 300 NS {}.", s.trim_end_matches('.')))
        .collect();
    nsupdate(&env.world, &lines);
}

/// Writes every fixture for this build into `out` (`out/NAME/...`), each
/// from a world of its own.
pub async fn write_all(out: &Path) {
    for name in NAMES {
        let env = super::terraform_support::env().await;
        let dir = out.join(name);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let body = write_one(&env, name).await;
        save(&env, name, &body, &dir).await;
        eprintln!("wrote {}", dir.display());
    }
}

/// Plays fixture `name`'s story with the real CLI; returns the configuration
/// the state belongs with.
async fn write_one(env: &Env, name: &str) -> String {
    let tf = |body: &str| Tf::new(env, name, body);
    match name {
        "route53_created" => {
            let body = format!("{}{CHECK}", route53_link("api.example.com", None, "", ""));
            tf(&body).apply();
            body
        }
        "route53_adopted" => {
            let zone = create_zone(&env.world, CHILD, "adopted.example.com").await;
            let body = route53_link(
                "adopted.example.com",
                None,
                &format!("    zone_id = \"{zone}\"\n"),
                "",
            );
            tf(&body).apply();
            body
        }
        "dns_update" => {
            let body = dns_update_link(env);
            tf(&body).apply();
            body
        }
        "registrar_pending" => {
            let body = registrar_link(env, "3s");
            let out = tf(&body).apply();
            assert!(
                out.contains("pending"),
                "the registrar's link waits:\n{out}"
            );
            body
        }
        "registrar_verified" => {
            let body = registrar_link(env, "3s");
            let t = tf(&body);
            t.apply();
            let st = t.resource(ADDRESS);
            let ns = super::terraform_support::ns_list(&st["name_servers"]);
            enter_at_registrar(env, "api.example.net", &ns);
            let body = registrar_link(env, "30s");
            t.write(env, &body);
            t.apply();
            let st = t.resource(ADDRESS);
            assert_eq!(st["verification"]["status"], "verified", "{st:#}");
            body
        }
        "unfinished_move" => {
            // A move to another zone of the parent account that the domain is
            // not delegated to: verification fails after the new record is
            // written, and the old record stays in state to remove later.
            let t = tf(&route53_link(
                "api.example.com",
                Some(&env.parent_zone_id),
                "",
                "",
            ));
            t.apply();
            let new_parent = create_zone(&env.world, PARENT_ACCOUNT, "example.com").await;
            let moving = route53_link(
                "api.example.com",
                Some(&new_parent),
                "",
                "  verify {\n    timeout = \"2s\"\n  }\n",
            );
            t.write(env, &moving);
            let out = t.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
            assert!(out.contains("kept in state"), "{out}");
            route53_link(
                "api.example.com",
                Some(&new_parent),
                "",
                "  verify {\n    timeout = \"30s\"\n  }\n",
            )
        }
        other => panic!("no story for fixture {other}"),
    }
}

/// Saves the configuration, the state and the world, addresses generalized.
async fn save(env: &Env, name: &str, body: &str, dir: &Path) {
    let net = env.world.net();
    let tf_dir = env.tmp.path().join(name);
    let state = std::fs::read_to_string(tf_dir.join("terraform.tfstate"))
        .unwrap_or_else(|e| panic!("{name}: no terraform.tfstate: {e}"));
    // The world settles (INSYNC) before it is recorded.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let snap = env.world.snapshot().await.expect("snapshot of the world");
    let world = serde_json::to_string_pretty(&snap).expect("snapshot as JSON");
    for (file, text) in [
        ("main.tf", body.trim_start().to_string()),
        ("terraform.tfstate", state),
        ("world.json", format!("{world}\n")),
    ] {
        std::fs::write(dir.join(file), generalize(&text, net))
            .unwrap_or_else(|e| panic!("writing {}/{file}: {e}", dir.display()));
    }
}
