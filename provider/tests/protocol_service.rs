//! The tfplugin6.Provider service in-process: conversions, write-only
//! handling, robustness against bad input and panics, StopProvider
//! cancellation, and the redaction rule (no secret ever reaches the logs).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pb::provider_server::Provider as _;
use route53delegation_provider::protocol::codec::{decode_msgpack, encode_msgpack};
use route53delegation_provider::protocol::logging::HclogLayer;
use route53delegation_provider::protocol::proto::tfplugin6 as pb;
use route53delegation_provider::protocol::service::ProviderService;
use route53delegation_provider::protocol::{
    async_trait, ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, DataSourceRequest,
    DataSourceResponse, Diagnostic, ImportResponse, ImportedResource, PlanRequest, PlanResponse,
    ProviderImpl, ReadRequest, ReadResponse, Schema, Type, Value,
};
use tokio_util::sync::CancellationToken;
use tonic::Request;
use tracing_subscriber::prelude::*;

const SECRET: &str = "AKIA-very-secret-4f1c9e";
const PASSWORD: &str = "hunter2-write-only-7d3a";
const TYPE: &str = "test_thing";
const DATA: &str = "test_lookup";

fn data_block() -> Block {
    Block::new()
        .attribute(Attribute::new("input", Type::String).required())
        .attribute(Attribute::new("output", Type::String).computed())
}

#[derive(Debug, Default)]
struct TestProvider {
    panic_on_read: bool,
    /// Notified when a "wait-for-stop" plan or apply is waiting for the
    /// cancellation, so a test stops the provider only once it is.
    waiting_for_stop: Arc<tokio::sync::Notify>,
}

impl TestProvider {
    /// Waits until a "wait-for-stop" plan or apply waits for StopProvider.
    async fn wait_until_waiting_for_stop(&self) {
        tokio::time::timeout(Duration::from_secs(30), self.waiting_for_stop.notified())
            .await
            .expect("the implementation was reached and waits for StopProvider");
    }
}

fn resource_block() -> Block {
    Block::new()
        .attribute(Attribute::new("id", Type::String).computed())
        .attribute(Attribute::new("name", Type::String).required())
        .attribute(
            Attribute::new("api_token", Type::String)
                .optional()
                .sensitive(),
        )
        .attribute(
            Attribute::new("password", Type::String)
                .optional()
                .sensitive()
                .write_only(),
        )
}

#[async_trait]
impl ProviderImpl for TestProvider {
    fn provider_schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().attribute(
                Attribute::new("access_key", Type::String)
                    .optional()
                    .sensitive(),
            ),
        )
    }

    fn resource_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::from([(TYPE.to_owned(), Schema::new(1, resource_block()))])
    }

    fn data_source_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::from([(DATA.to_owned(), Schema::new(0, data_block()))])
    }

    async fn validate_data_source_config(
        &self,
        _type_name: &str,
        config: &Value,
    ) -> Vec<Diagnostic> {
        match config.get_str("input") {
            Some("") => vec![Diagnostic::error("Empty input", "input must not be empty")
                .with_attribute(AttributePath::attr("input"))],
            _ => Vec::new(),
        }
    }

    async fn read_data_source(&self, req: DataSourceRequest) -> DataSourceResponse {
        let input = req.config.get_str("input").unwrap_or_default().to_owned();
        if input == "fail" {
            return DataSourceResponse {
                state: Value::Null,
                diagnostics: vec![Diagnostic::error("Lookup failed", "nothing found for fail")],
            };
        }
        let mut state = req.config.clone();
        state.set("output", Value::string(format!("looked up {input}")));
        DataSourceResponse {
            state,
            diagnostics: Vec::new(),
        }
    }

    async fn configure_provider(&self, config: &Value, _tf: &str) -> Vec<Diagnostic> {
        assert_eq!(config.get_str("access_key"), Some(SECRET));
        Vec::new()
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        if self.panic_on_read {
            panic!("boom: {SECRET}");
        }
        ReadResponse {
            new_state: req.current_state,
            private: req.private,
            diagnostics: Vec::new(),
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        if req.config.get_str("name") == Some("wait-for-stop") {
            self.waiting_for_stop.notify_one();
            tokio::select! {
                () = req.cancel.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(30)) => {}
            }
            return PlanResponse {
                planned_state: req.proposed_new_state,
                diagnostics: vec![Diagnostic::error(
                    "Cancelled",
                    "Terraform asked the provider to stop.",
                )],
                ..Default::default()
            };
        }
        let mut planned = req.proposed_new_state.clone();
        if req.prior_state.is_null() {
            planned.set("id", Value::Unknown);
        }
        PlanResponse {
            planned_state: planned,
            requires_replace: vec![AttributePath::attr("name")],
            planned_private: b"p".to_vec(),
            diagnostics: Vec::new(),
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        if req.config.get_str("name") == Some("panic-after-create") {
            // The object exists remotely from here on: record it, then crash.
            let mut created = req.planned_state.clone();
            created.set("id", Value::string("created-1"));
            req.checkpoint.record(created, b"reached".to_vec());
            panic!("boom after create: {SECRET}");
        }
        if req.config.get_str("name") == Some("wait-for-stop") {
            self.waiting_for_stop.notify_one();
            tokio::select! {
                () = req.cancel.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(30)) => {}
            }
            return ApplyResponse {
                new_state: req.prior_state,
                private: Vec::new(),
                diagnostics: vec![Diagnostic::error(
                    "Cancelled",
                    "Terraform asked the provider to stop.",
                )],
            };
        }
        // The write-only password is available in config during apply.
        assert_eq!(req.config.get_str("password"), Some(PASSWORD));
        let mut state = req.planned_state;
        state.set("id", Value::string("id-1"));
        // Deliberately leave the write-only value in: the protocol layer
        // must null it.
        state.set("password", Value::string(PASSWORD));
        ApplyResponse {
            new_state: state,
            private: b"x".to_vec(),
            diagnostics: Vec::new(),
        }
    }

    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
        _cancel: CancellationToken,
    ) -> ImportResponse {
        ImportResponse {
            imported: vec![ImportedResource {
                type_name: type_name.to_owned(),
                state: Value::object([("id", Value::string(id)), ("name", Value::string("n"))]),
                private: Vec::new(),
            }],
            diagnostics: Vec::new(),
        }
    }
}

fn dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: encode_msgpack(v, ty).unwrap(),
        json: Vec::new(),
    })
}

fn config_value(name: &str) -> Value {
    Value::object([
        ("id", Value::Null),
        ("name", Value::string(name)),
        ("api_token", Value::string(SECRET)),
        ("password", Value::string(PASSWORD)),
    ])
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The tests of this file one at a time. The lifecycle test captures the
/// protocol layer's logs with a subscriber of its own thread; a callsite
/// another test registers at the same moment on another thread could be
/// cached as uninteresting before that subscriber is counted (a race in
/// tracing's callsite registration), and the log line was then missing
/// under load.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn errors(d: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    d.iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

#[tokio::test]
async fn full_lifecycle_never_logs_secrets_and_nulls_write_only() {
    let _one_at_a_time = one_at_a_time().await;
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(HclogLayer::new(move || sink.clone(), "provider"));
    let _guard = tracing::subscriber::set_default(subscriber);

    let svc = ProviderService::new(Arc::new(TestProvider::default()), CancellationToken::new());
    let rty = resource_block().implied_type();
    let pty = Type::object([("access_key", Type::String)]);
    let pcfg = Value::object([("access_key", Value::string(SECRET))]);

    let schema = svc
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    let rs = &schema.resource_schemas[TYPE];
    assert_eq!(rs.version, 1);
    let block = rs.block.as_ref().unwrap();
    let pw = block
        .attributes
        .iter()
        .find(|a| a.name == "password")
        .unwrap();
    assert!(pw.write_only && pw.sensitive && pw.optional);
    assert_eq!(pw.r#type, br#""string""#);
    assert!(
        schema
            .server_capabilities
            .unwrap()
            .get_provider_schema_optional
    );

    let r = svc
        .validate_provider_config(Request::new(pb::validate_provider_config::Request {
            config: dv(&pcfg, &pty),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty());
    let r = svc
        .configure_provider(Request::new(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: dv(&pcfg, &pty),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);

    let cfg = config_value("thing");
    let r = svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: TYPE.into(),
            config: dv(&cfg, &rty),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty());

    // Plan: the write-only value must not appear in the planned state.
    let mut proposed = cfg.clone();
    proposed.set("id", Value::Unknown);
    let plan = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: dv(&Value::Null, &rty),
            proposed_new_state: dv(&proposed, &rty),
            config: dv(&cfg, &rty),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(plan.diagnostics.is_empty());
    let planned = decode_msgpack(&plan.planned_state.as_ref().unwrap().msgpack, &rty).unwrap();
    assert!(planned.get("id").unwrap().is_unknown());
    assert!(planned.get("password").unwrap().is_null());
    assert_eq!(planned.get_str("api_token"), Some(SECRET));
    assert_eq!(plan.planned_private, b"p");
    assert_eq!(plan.requires_replace.len(), 1);

    let apply = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: dv(&Value::Null, &rty),
            planned_state: plan.planned_state.clone(),
            config: dv(&cfg, &rty),
            planned_private: plan.planned_private.clone(),
            provider_meta: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(apply.diagnostics.is_empty(), "{:?}", apply.diagnostics);
    let state = decode_msgpack(&apply.new_state.as_ref().unwrap().msgpack, &rty).unwrap();
    assert_eq!(state.get_str("id"), Some("id-1"));
    assert!(
        state.get("password").unwrap().is_null(),
        "write-only must not be stored"
    );

    let read = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: apply.new_state.clone(),
            private: apply.private.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(read.diagnostics.is_empty());
    assert_eq!(read.private, b"x");

    // UpgradeResourceState from JSON (default implementation).
    let up = svc
        .upgrade_resource_state(Request::new(pb::upgrade_resource_state::Request {
            type_name: TYPE.into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: serde_json::to_vec(
                    &serde_json::json!({"id": "id-1", "name": "thing", "api_token": SECRET}),
                )
                .unwrap(),
                flatmap: Default::default(),
            }),
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(up.diagnostics.is_empty(), "{:?}", up.diagnostics);
    let upgraded = decode_msgpack(&up.upgraded_state.unwrap().msgpack, &rty).unwrap();
    assert_eq!(upgraded.get_str("api_token"), Some(SECRET));
    assert!(upgraded.get("password").unwrap().is_null());

    let imp = svc
        .import_resource_state(Request::new(pb::import_resource_state::Request {
            type_name: TYPE.into(),
            id: "imp-1".into(),
            client_capabilities: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imp.imported_resources.len(), 1);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"rpc\":\"ApplyResourceChange\""),
        "protocol layer logs RPCs:\n{logs}"
    );
    for line in logs.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("hclog JSON line");
        assert!(
            v["@level"].is_string() && v["@message"].is_string() && v["@timestamp"].is_string()
        );
    }
    assert!(
        !logs.contains(SECRET),
        "a sensitive value was logged:\n{logs}"
    );
    assert!(
        !logs.contains(PASSWORD),
        "a write-only value was logged:\n{logs}"
    );
}

#[tokio::test]
async fn bad_input_unknown_types_and_panics_become_diagnostics() {
    let _one_at_a_time = one_at_a_time().await;
    let svc = ProviderService::new(
        Arc::new(TestProvider {
            panic_on_read: true,
            ..Default::default()
        }),
        CancellationToken::new(),
    );
    let rty = resource_block().implied_type();

    // Garbage msgpack.
    let r = svc
        .plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0xc1, 0xff],
                json: Vec::new(),
            }),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1);

    // Unknown resource type.
    let r = svc
        .validate_resource_config(Request::new(pb::validate_resource_config::Request {
            type_name: "nope".into(),
            config: None,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&r.diagnostics)[0]
        .summary
        .contains("Unknown resource type"));

    // A panicking implementation: a clean diagnostic, no panic payload or
    // backtrace, and the prior state is preserved.
    let state = dv(&config_value("x"), &rty);
    let r = svc
        .read_resource(Request::new(pb::read_resource::Request {
            type_name: TYPE.into(),
            current_state: state.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let e = errors(&r.diagnostics);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].summary, "Internal provider error");
    for text in [&e[0].summary, &e[0].detail] {
        assert!(!text.contains("boom") && !text.contains(SECRET) && !text.contains("backtrace"));
        assert!(!text.contains(".rs:"), "no source locations: {text}");
    }
    assert_eq!(r.new_state, state);

    // Unsupported features answer gracefully.
    let r = svc
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "x".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1);
    let r = svc
        .move_resource_state(Request::new(pb::move_resource_state::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1);
    let r = svc
        .get_functions(Request::new(pb::get_functions::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(r.functions.is_empty() && r.diagnostics.is_empty());
    let r = svc
        .call_function(Request::new(pb::call_function::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(r.error.is_some());
    let r = svc
        .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1);
    let md = svc
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(md.resources[0].type_name, TYPE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_apply() {
    let _one_at_a_time = one_at_a_time().await;
    let stop = CancellationToken::new();
    let provider = Arc::new(TestProvider::default());
    let svc = ProviderService::new(provider.clone(), stop.clone());
    let rty = resource_block().implied_type();
    let cfg = config_value("wait-for-stop");
    let svc2 = svc.clone();
    let planned = dv(&cfg, &rty);
    let apply = tokio::spawn(async move {
        svc2.apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: None,
            planned_state: planned.clone(),
            config: planned,
            planned_private: Vec::new(),
            provider_meta: None,
        }))
        .await
    });
    provider.wait_until_waiting_for_stop().await;
    assert!(!apply.is_finished());
    let started = std::time::Instant::now();
    svc.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    assert!(stop.is_cancelled());
    let r = tokio::time::timeout(Duration::from_secs(5), apply)
        .await
        .expect("apply returns promptly after StopProvider")
        .unwrap()
        .unwrap()
        .into_inner();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(errors(&r.diagnostics)[0].summary, "Cancelled");
}

/// Failure mode: the implementation panics after it created the object; a
/// guard that answered with the prior (null) state would make Terraform
/// forget the object, which then leaks. The state recorded as reached is
/// returned instead, with a clean diagnostic.
#[tokio::test]
async fn a_panic_during_apply_returns_the_state_reached_not_the_prior_state() {
    let _one_at_a_time = one_at_a_time().await;
    let svc = ProviderService::new(Arc::new(TestProvider::default()), CancellationToken::new());
    let rty = resource_block().implied_type();
    let planned = dv(&config_value("panic-after-create"), &rty);
    let r = svc
        .apply_resource_change(Request::new(pb::apply_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: None,
            planned_state: planned.clone(),
            config: planned,
            planned_private: Vec::new(),
            provider_meta: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let e = errors(&r.diagnostics);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].summary, "Internal provider error");
    assert!(!e[0].detail.contains(SECRET) && !e[0].detail.contains("boom"));
    let state = decode_msgpack(&r.new_state.expect("a new state").msgpack, &rty).unwrap();
    assert_eq!(state.get_str("id"), Some("created-1"));
    // The write-only value is still nulled on this path.
    assert!(state.get("password").is_none_or(Value::is_null));
    assert_eq!(r.private, b"reached");
}

/// Data sources: listed in the metadata and the schema, validated and read
/// through the implementation; errors come back as diagnostics with no
/// state, unknown types are refused by name.
#[tokio::test]
async fn data_sources_are_served_through_the_implementation() {
    let _one_at_a_time = one_at_a_time().await;
    let svc = ProviderService::new(Arc::new(TestProvider::default()), CancellationToken::new());
    let ty = data_block().implied_type();
    let md = svc
        .get_metadata(Request::new(pb::get_metadata::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(md.data_sources.len(), 1);
    assert_eq!(md.data_sources[0].type_name, DATA);
    let schema = svc
        .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
        .await
        .unwrap()
        .into_inner();
    assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
    let block = schema.data_source_schemas[DATA].block.as_ref().unwrap();
    assert!(block
        .attributes
        .iter()
        .any(|a| a.name == "output" && a.computed));

    let config = |input: &str| {
        dv(
            &Value::object([("input", Value::string(input)), ("output", Value::Unknown)]),
            &ty,
        )
    };
    let r = svc
        .validate_data_resource_config(Request::new(pb::validate_data_resource_config::Request {
            type_name: DATA.into(),
            config: config(""),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics)[0].summary, "Empty input");

    let r = svc
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: DATA.into(),
            config: config("api"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
    let state = decode_msgpack(&r.state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(state.get_str("output"), Some("looked up api"));

    let r = svc
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: DATA.into(),
            config: config("fail"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(r.state.is_none());
    assert_eq!(errors(&r.diagnostics)[0].summary, "Lookup failed");

    let r = svc
        .read_data_source(Request::new(pb::read_data_source::Request {
            type_name: "nope".into(),
            config: config("api"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(errors(&r.diagnostics)[0]
        .summary
        .contains("Unknown data source type"));
}

/// Failure mode: Ctrl-C during a plan whose lookups wait (a throttled or
/// slow account) did nothing until they gave up: StopProvider reaches plan
/// as it reaches apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_provider_cancels_in_flight_plan() {
    let _one_at_a_time = one_at_a_time().await;
    let stop = CancellationToken::new();
    let provider = Arc::new(TestProvider::default());
    let svc = ProviderService::new(provider.clone(), stop.clone());
    let rty = resource_block().implied_type();
    let cfg = dv(&config_value("wait-for-stop"), &rty);
    let svc2 = svc.clone();
    let plan = tokio::spawn(async move {
        svc2.plan_resource_change(Request::new(pb::plan_resource_change::Request {
            type_name: TYPE.into(),
            prior_state: None,
            proposed_new_state: cfg.clone(),
            config: cfg,
            ..Default::default()
        }))
        .await
    });
    provider.wait_until_waiting_for_stop().await;
    assert!(!plan.is_finished());
    svc.stop_provider(Request::new(pb::stop_provider::Request {}))
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(5), plan)
        .await
        .expect("plan returns promptly after StopProvider")
        .unwrap()
        .unwrap()
        .into_inner();
    assert_eq!(errors(&r.diagnostics)[0].summary, "Cancelled");
}
