//! Real Terraform drives an in-process test provider (attached with
//! TF_REATTACH_PROVIDERS, as provider acceptance tests do) through
//! apply / no-op plan / replacement plan / destroy. This checks our msgpack
//! encoding of nested blocks, numbers, maps and unknowns, and write-only
//! handling against Terraform itself. Skipped if `terraform` is not on PATH.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use route53delegation_provider::protocol::server::reattach_json;
use route53delegation_provider::protocol::{
    async_trait, serve_plain_on, ApplyRequest, ApplyResponse, Attribute, AttributePath, Block,
    Diagnostic, NestedBlock, NestingMode, PlanRequest, PlanResponse, ProviderImpl, ReadRequest,
    ReadResponse, Schema, Type, Value,
};
use tokio_util::sync::CancellationToken;

const ADDR: &str = "registry.terraform.io/route53delegation/echo";

#[derive(Debug, Default)]
struct Echo {
    /// Write-only values seen in apply configs.
    seen_write_only: Mutex<Vec<String>>,
    configured_token: Mutex<Option<String>>,
}

#[async_trait]
impl ProviderImpl for Echo {
    fn provider_schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().attribute(Attribute::new("token", Type::String).optional().sensitive()),
        )
    }

    fn resource_schemas(&self) -> BTreeMap<String, Schema> {
        let block = Block::new()
            .attribute(Attribute::new("id", Type::String).computed())
            .attribute(Attribute::new("name", Type::String).required())
            .attribute(Attribute::new("size", Type::Number).optional())
            .attribute(Attribute::new("ratio", Type::Number).optional())
            .attribute(Attribute::new("tags", Type::map(Type::String)).optional())
            .attribute(
                Attribute::new("secret_wo", Type::String)
                    .optional()
                    .sensitive()
                    .write_only(),
            )
            .attribute(Attribute::new("status", Type::String).computed())
            .nested_block(NestedBlock::new(
                "settings",
                NestingMode::Single,
                Block::new().attribute(Attribute::new("mode", Type::String).optional()),
            ))
            .nested_block(NestedBlock::new(
                "rule",
                NestingMode::List,
                Block::new().attribute(Attribute::new("port", Type::Number).required()),
            ));
        BTreeMap::from([("echo_thing".to_owned(), Schema::new(0, block))])
    }

    async fn configure_provider(&self, config: &Value, _tf: &str) -> Vec<Diagnostic> {
        *self.configured_token.lock().unwrap() = config.get_str("token").map(str::to_owned);
        Vec::new()
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            diagnostics: Vec::new(),
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        let mut planned = req.proposed_new_state.clone();
        let mut requires_replace = Vec::new();
        if planned.is_null() {
            return PlanResponse::default();
        }
        if req.prior_state.is_null() {
            planned.set("id", Value::Unknown);
            planned.set("status", Value::Unknown);
        } else {
            for k in ["id", "status"] {
                planned.set(k, req.prior_state.get(k).cloned().unwrap_or_default());
            }
            if req.prior_state.get("name") != planned.get("name") {
                requires_replace.push(AttributePath::attr("name"));
                planned.set("id", Value::Unknown);
                planned.set("status", Value::Unknown);
            }
        }
        PlanResponse {
            planned_state: planned,
            requires_replace,
            planned_private: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        if req.planned_state.is_null() {
            return ApplyResponse::default();
        }
        if let Some(wo) = req.config.get_str("secret_wo") {
            self.seen_write_only.lock().unwrap().push(wo.to_owned());
        }
        let mut state = req.planned_state.clone();
        let name = state.get_str("name").unwrap_or_default().to_owned();
        if !state.get("id").is_some_and(Value::is_known) {
            state.set("id", Value::string(format!("echo-{name}")));
        }
        if !state.get("status").is_some_and(Value::is_known) {
            let rules = state
                .get("rule")
                .and_then(Value::as_list)
                .map_or(0, <[Value]>::len);
            state.set("status", Value::string(format!("rules={rules}")));
        }
        ApplyResponse {
            new_state: state,
            private: b"echo-private".to_vec(),
            diagnostics: Vec::new(),
        }
    }
}

async fn terraform(provider: &Arc<Echo>, dir: &Path, args: &[&str]) -> Output {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve_plain_on(provider.clone(), listener, shutdown.clone()));
    let reattach = reattach_json(addr, std::process::id()).replace(
        "registry.terraform.io/route53delegation/route53delegation",
        ADDR,
    );
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("terraform")
            .args(&args)
            .current_dir(&dir)
            .env("TF_REATTACH_PROVIDERS", reattach)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("HOME", &dir)
            .env("TF_CLI_CONFIG_FILE", dir.join("none.tfrc"))
            .env_remove("TF_LOG")
            .output()
            .expect("run terraform")
    })
    .await
    .unwrap();
    shutdown.cancel();
    let _ = server.await;
    out
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn config(name: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    echo = {{ source = "route53delegation/echo" }}
  }}
}}

provider "echo" {{
  token = "PROVIDER-TOKEN"
}}

resource "echo_thing" "a" {{
  name      = "{name}"
  size      = 3
  ratio     = 0.25
  tags      = {{ team = "dns" }}
  secret_wo = "WO-SECRET"

  settings {{
    mode = "fast"
  }}
  rule {{
    port = 53
  }}
  rule {{
    port = 853
  }}
}}

output "id" {{
  value = echo_thing.a.id
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terraform_lifecycle_against_in_process_provider() {
    if !Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        panic!("this test needs the Terraform CLI (1.11 or newer) on PATH; scripts/setup.sh checks for it");
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("none.tfrc"), "").unwrap();
    std::fs::write(dir.join("main.tf"), config("alpha")).unwrap();
    let provider = Arc::new(Echo::default());

    let out = terraform(
        &provider,
        dir,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    )
    .await;
    assert!(out.status.success(), "apply: {}", text(&out));
    assert_eq!(
        provider.configured_token.lock().unwrap().as_deref(),
        Some("PROVIDER-TOKEN")
    );
    assert_eq!(
        *provider.seen_write_only.lock().unwrap(),
        vec!["WO-SECRET".to_owned()]
    );

    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("terraform.tfstate")).unwrap()).unwrap();
    let attrs = &state["resources"][0]["instances"][0]["attributes"];
    assert_eq!(attrs["id"], "echo-alpha");
    assert_eq!(attrs["status"], "rules=2");
    assert_eq!(attrs["size"], 3);
    assert_eq!(attrs["ratio"], 0.25);
    assert_eq!(attrs["tags"]["team"], "dns");
    assert_eq!(
        attrs["settings"]["mode"], "fast",
        "SINGLE block is an object: {attrs}"
    );
    assert_eq!(attrs["rule"][1]["port"], 853);
    assert!(
        attrs["secret_wo"].is_null(),
        "write-only value must not be stored: {attrs}"
    );
    assert!(
        !String::from_utf8_lossy(&std::fs::read(dir.join("terraform.tfstate")).unwrap())
            .contains("WO-SECRET")
    );

    // Refresh + plan with no changes.
    let out = terraform(
        &provider,
        dir,
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "no-op plan: {}", text(&out));

    // Renaming forces replacement.
    std::fs::write(dir.join("main.tf"), config("beta")).unwrap();
    let out = terraform(
        &provider,
        dir,
        &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(2),
        "replacement plan: {}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("replacement plan output:\n{stdout}");
    assert!(stdout.contains("must be replaced"), "{stdout}");
    assert!(stdout.contains("forces replacement"), "{stdout}");

    let out = terraform(
        &provider,
        dir,
        &["destroy", "-auto-approve", "-no-color", "-input=false"],
    )
    .await;
    assert!(out.status.success(), "destroy: {}", text(&out));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("terraform.tfstate")).unwrap()).unwrap();
    assert_eq!(
        state["resources"].as_array().map(Vec::len),
        Some(0),
        "{state}"
    );
}
