//! Runs the real Terraform CLI against the provider built in this workspace
//! and a local world: each test gets its own world and working directory.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use r53world::{World, WorldConfig, OPERATOR_ACCOUNT, PARENT_ACCOUNT};

/// The provider binary. Tests and benches get it from Cargo; a program
/// that is neither (the state-fixture writer, an example target) gets it
/// from `ROUTE53DELEGATION_PROVIDER_BIN` through [`provider_bin`].
pub const BIN: &str = match option_env!("CARGO_BIN_EXE_terraform-provider-route53delegation") {
    Some(bin) => bin,
    None => "",
};

/// [`BIN`], or `ROUTE53DELEGATION_PROVIDER_BIN` where Cargo gives no path.
pub fn provider_bin() -> PathBuf {
    if !BIN.is_empty() {
        return PathBuf::from(BIN);
    }
    std::env::var_os("ROUTE53DELEGATION_PROVIDER_BIN")
        .map(PathBuf::from)
        .expect("ROUTE53DELEGATION_PROVIDER_BIN must name the provider binary (Cargo sets it only for tests and benches)")
}
pub const PARENT_ROLE: &str = "arn:aws:iam::111111111111:role/delegation-parent";
pub const CHILD: &str = "222222222222";

pub fn child_role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/delegation-child")
}

/// A world with `example.com` in the parent account, registered at `com`.
pub struct Env {
    pub world: World,
    pub parent_zone_id: String,
    pub tmp: tempfile::TempDir,
}

pub async fn env() -> Env {
    let world = start_world().await;
    let parent_zone_id = create_zone(&world, PARENT_ACCOUNT, "example.com").await;
    world
        .register_domain("example.com", &parent_zone_id)
        .await
        .expect("register");
    Env {
        world,
        parent_zone_id,
        tmp: tempfile::tempdir().expect("tempdir"),
    }
}

/// A world of its own with nothing in it: no hosted zone, no registration
/// (for a test that restores a [`r53world::Snapshot`]).
pub async fn start_world() -> World {
    World::start(WorldConfig::for_test())
        .await
        .expect("start world")
}

/// Changes the world's `example.net` (on Knot) out of band, as another
/// tool, or a registrar's web form, would: `lines` are nsupdate `update ...`
/// commands, sent signed with the world's TSIG key.
pub fn nsupdate(world: &World, lines: &[String]) {
    use std::io::Write;
    let mut script = format!(
        "server {}\nzone example.net\n",
        world.example_net_server().ip()
    );
    for l in lines {
        script.push_str(l);
        script.push('\n');
    }
    script.push_str("send\n");
    let mut child = Command::new("nsupdate")
        .arg("-k")
        .arg(world.tsig_key_file())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate (bind9-dnsutils, installed by scripts/setup.sh) is needed");
    child
        .stdin
        .take()
        .expect("nsupdate's stdin")
        .write_all(script.as_bytes())
        .expect("writing to nsupdate");
    let out = child.wait_with_output().expect("nsupdate runs");
    assert!(
        out.status.success(),
        "nsupdate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Route 53 client with an account's base credentials, for out-of-band
/// changes ("someone in the console").
pub fn console(world: &World, account: &str) -> aws_sdk_route53::Client {
    let (k, s) = world.credentials(account);
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(world.endpoint())
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            k, s, None, None, "test",
        ))
        .build();
    aws_sdk_route53::Client::from_conf(conf)
}

pub async fn create_zone(world: &World, account: &str, name: &str) -> String {
    world.create_zone(account, name).await.expect("create zone")
}

/// Values of the NS record for `name` in the parent zone, as the world holds it.
pub fn parent_ns(env: &Env, name: &str) -> Option<Vec<String>> {
    let fq = format!("{name}.");
    let zone = env
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == env.parent_zone_id)?;
    zone.records
        .into_iter()
        .find(|r| r.name == fq && r.rtype == r53world::RrType::Ns)
        .map(|r| {
            let mut v: Vec<String> = r
                .values
                .iter()
                .map(|s| s.trim_end_matches('.').to_string())
                .collect();
            v.sort();
            v
        })
}

/// The parent's NS record for `name` as the world holds it: (TTL, sorted
/// values with their trailing dots).
pub fn parent_record(env: &Env, name: &str) -> Option<(u32, Vec<String>)> {
    let fq = format!("{name}.");
    let zone = env
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == env.parent_zone_id)?;
    zone.records
        .into_iter()
        .find(|r| r.name == fq && r.rtype == r53world::RrType::Ns)
        .map(|r| {
            let mut v = r.values.clone();
            v.sort();
            (r.ttl, v)
        })
}

/// Creates or deletes the parent's NS record for `name` out of band, as
/// someone in the console (or another tool) would.
pub async fn change_parent_ns(
    env: &Env,
    action: aws_sdk_route53::types::ChangeAction,
    name: &str,
    ttl: i64,
    values: &[String],
) {
    use aws_sdk_route53::types::{Change, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
    let records: Vec<ResourceRecord> = values
        .iter()
        .map(|s| ResourceRecord::builder().value(s).build().unwrap())
        .collect();
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Ns)
        .ttl(ttl)
        .set_resource_records(Some(records))
        .build()
        .unwrap();
    let change = Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .unwrap();
    console(&env.world, PARENT_ACCOUNT)
        .change_resource_record_sets()
        .hosted_zone_id(&env.parent_zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .expect("change the parent NS record");
}

pub fn zones_named(env: &Env, account: &str, name: &str) -> Vec<r53world::ZoneInfo> {
    let fq = format!("{name}.");
    env.world
        .zones(account)
        .into_iter()
        .filter(|z| z.name == fq)
        .collect()
}

/// A Terraform working directory.
pub struct Tf {
    pub dir: PathBuf,
    envs: Vec<(String, String)>,
}

impl Tf {
    /// A working directory `sub` with `main.tf` = provider block + `body`.
    pub fn new(env: &Env, sub: &str, body: &str) -> Tf {
        let dir = env.tmp.path().join(sub);
        std::fs::create_dir_all(&dir).unwrap();
        let bin = provider_bin();
        let bin_dir = bin.parent().expect("the provider binary's folder");
        let rc = env.tmp.path().join("cli.tfrc");
        std::fs::write(
            &rc,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"registry.terraform.io/route53delegation/route53delegation\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                bin_dir.display()
            ),
        )
        .unwrap();
        let mut envs: Vec<(String, String)> = env
            .world
            .env()
            .into_iter()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .collect();
        envs.push(("TF_CLI_CONFIG_FILE".into(), rc.display().to_string()));
        envs.push(("TF_IN_AUTOMATION".into(), "1".into()));
        // The world reports INSYNC after 200 ms, not Route 53's minute.
        envs.push(("ROUTE53DELEGATION_INSYNC_POLL".into(), "250ms,1s".into()));
        envs.push(("CHECKPOINT_DISABLE".into(), "1".into()));
        envs.extend(isolated_home(env));
        let tf = Tf { dir, envs };
        tf.write(env, body);
        tf
    }

    /// Rewrites `main.tf`.
    pub fn write(&self, env: &Env, body: &str) {
        let provider = provider_block(env, "30s");
        std::fs::write(self.dir.join("main.tf"), format!("{provider}\n{body}")).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("terraform");
        c.args(args).current_dir(&self.dir);
        c.env_remove("TF_LOG").env_remove("TF_LOG_PATH");
        for (k, v) in &self.envs {
            c.env(k, v);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap_or_else(|e| {
            panic!("cannot run terraform (the Terraform CLI 1.11 or newer must be on PATH): {e}")
        })
    }

    /// Runs and requires success; returns stdout+stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = text(&out);
        assert!(out.status.success(), "terraform {args:?} failed:\n{text}");
        text
    }

    /// Runs and requires failure; returns stdout+stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = text(&out);
        assert!(
            !out.status.success(),
            "terraform {args:?} should have failed:\n{text}"
        );
        text
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `plan -detailed-exitcode`: (0 = no changes, 2 = changes, output).
    pub fn plan(&self) -> (i32, String) {
        let out = self.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        let code = out.status.code().unwrap_or(-1);
        let t = text(&out);
        assert!(code == 0 || code == 2, "plan failed:\n{t}");
        (code, t)
    }

    pub fn assert_no_changes(&self) {
        let (code, t) = self.plan();
        assert_eq!(code, 0, "expected no changes:\n{t}");
    }

    /// The state as JSON (`terraform show -json`).
    pub fn state(&self) -> serde_json::Value {
        let out = self.ok(&["show", "-json", "-no-color"]);
        let start = out.find('{').unwrap_or(0);
        serde_json::from_str(&out[start..]).expect("show -json")
    }

    /// Attribute values of the resource at `address`.
    pub fn resource(&self, address: &str) -> serde_json::Value {
        let s = self.state();
        let res = s["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        res.into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or(serde_json::Value::Null)
    }
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The usual link: `NAME` from example.com (by name) through the
/// least-privilege parent role, into a new zone in `account`.
pub fn link(resource: &str, name: &str, account: &str, extra: &str) -> String {
    format!(
        r#"
resource "route53delegation_link" "{resource}" {{
  name = "{name}"
  parent {{
    zone_name = "example.com"
    assume_role {{
      role_arn = "{PARENT_ROLE}"
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
        child_role(account)
    )
}

pub fn ns_list(v: &serde_json::Value) -> Vec<String> {
    let mut l: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    l.sort();
    l
}

pub fn operator_secret() -> String {
    r53world::base_secret_key(OPERATOR_ACCOUNT)
}

/// The provider block for the world: its endpoints and resolver, and
/// `verify_timeout`.
pub fn provider_block(env: &Env, verify_timeout: &str) -> String {
    let e = env.world.endpoint();
    format!(
        r#"terraform {{
  required_providers {{
    route53delegation = {{ source = "route53delegation/route53delegation" }}
  }}
}}

provider "route53delegation" {{
  region = "us-east-1"
  endpoints {{
    route53 = "{e}"
    sts     = "{e}"
  }}
  verify {{
    resolvers = ["{}"]
    timeout   = "{verify_timeout}"
  }}
}}
"#,
        env.world.resolver()
    )
}

/// A home of the test's own and no shared AWS config or credentials files,
/// so nothing on the machine reaches the provider.
pub fn isolated_home(env: &Env) -> Vec<(String, String)> {
    vec![
        ("HOME".into(), env.tmp.path().display().to_string()),
        ("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE".into(),
            "/nonexistent/credentials".into(),
        ),
    ]
}

/// The provider in `-debug` mode with the world's credentials, its log in
/// `log`; returns the process and its `TF_REATTACH_PROVIDERS` value (for
/// reading its memory use across commands).
pub fn start_debug_provider(env: &Env, log: &Path) -> (Child, String) {
    let mut cmd = Command::new(provider_bin());
    cmd.arg("-debug")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("PLUGIN_CLIENT_CERT")
        .envs(isolated_home(env))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).expect("provider log file"));
    for (k, v) in env.world.env() {
        if k.starts_with("AWS_") {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().expect("spawn provider -debug");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read reattach line");
    let value = line
        .trim_end()
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or_else(|| panic!("unexpected debug-mode line {line:?}"))
        .to_string();
    (child, value)
}

#[path = "../../../core/tests/support/put_ns.rs"]
mod put_ns;
#[allow(unused_imports)] // not every test binary writes records as someone else
pub use put_ns::put_ns;
