//! Logging to stderr in the hclog JSON line format go-plugin understands.
//!
//! Terraform reads the plugin's stderr; lines that are JSON objects with
//! `@level`, `@message` and `@timestamp` are re-logged at that level with the
//! other keys as fields (visible with `TF_LOG=debug` / `TF_LOG_PROVIDER`).
//!
//! Redaction rule: the protocol layer never logs configuration, plan or
//! state values (they may carry credentials), only RPC names, resource type
//! names and counts. Resource code must follow the same rule.

use std::io::Write;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

/// A [`Layer`] writing one hclog-style JSON object per event.
#[derive(Debug)]
pub struct HclogLayer<W> {
    make_writer: W,
    module: &'static str,
}

impl<W> HclogLayer<W> {
    /// Writes to `make_writer` (e.g. `std::io::stderr`), tagging lines with
    /// `@module`.
    pub fn new(make_writer: W, module: &'static str) -> Self {
        HclogLayer {
            make_writer,
            module,
        }
    }
}

struct JsonVisitor {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields.insert(field.name().to_owned(), value.into());
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.insert(field.name().to_owned(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.fields
            .insert(field.name().to_owned(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.fields
                .insert(field.name().to_owned(), format!("{value:?}").into());
        }
    }
}

fn level_str(l: &Level) -> &'static str {
    match *l {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// hclog's timestamp format: `2006-01-02T15:04:05.000000Z07:00`.
pub fn hclog_timestamp(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6][offset_hour sign:mandatory]:[offset_minute]"
    );
    let s = t.format(&fmt).unwrap_or_default();
    s.replace("+00:00", "Z")
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut v = JsonVisitor {
            message: String::new(),
            fields: serde_json::Map::new(),
        };
        event.record(&mut v);
        let mut obj = serde_json::Map::new();
        obj.insert("@level".into(), level_str(meta.level()).into());
        obj.insert("@message".into(), v.message.into());
        obj.insert("@module".into(), self.module.into());
        obj.insert(
            "@timestamp".into(),
            hclog_timestamp(time::OffsetDateTime::now_utc()).into(),
        );
        obj.insert("@target".into(), meta.target().into());
        for (k, val) in v.fields {
            obj.entry(k).or_insert(val);
        }
        let mut line = serde_json::Value::Object(obj).to_string();
        line.push('\n');
        let mut w = self.make_writer.make_writer();
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}

/// The filter directive for the level Terraform asked for:
/// `TF_LOG_PROVIDER`, else `TF_LOG` (`trace`, `debug`, `info`, `warn`,
/// `error`, `off`, `json`); `warn` when neither is set. Chatty transport
/// crates are capped at `info` so wire frames are never logged, and so are
/// the AWS credential providers, which log access key ids at `debug`.
pub fn filter_directive(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> String {
    let raw = tf_log_provider
        .filter(|s| !s.is_empty())
        .or(tf_log.filter(|s| !s.is_empty()))
        .unwrap_or("warn");
    let level = match raw.to_ascii_lowercase().as_str() {
        "trace" | "json" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" => "warn",
        "error" => "error",
        "off" => "off",
        // Terraform treats unrecognised values as TRACE.
        _ => "trace",
    };
    let mut d = level.to_owned();
    if matches!(level, "trace" | "debug") {
        for noisy in [
            "h2",
            "hyper",
            "hyper_util",
            "tower",
            "tonic",
            "rustls",
            "tokio_rustls",
            "aws_smithy_runtime",
            "aws_smithy_http_client",
            "aws_sigv4",
            // Credential providers log key ids and expiry at debug.
            "aws_config",
            "aws_credential_types",
            "aws_runtime",
            "aws_sdk_sts",
            "aws_sdk_sso",
            "aws_sdk_ssooidc",
        ] {
            d.push_str(&format!(",{noisy}=info"));
        }
    }
    d
}

/// Installs the global subscriber: hclog JSON to stderr at the level from
/// `TF_LOG_PROVIDER` / `TF_LOG`. Safe to call more than once (later calls
/// are no-ops).
pub fn init() {
    let directive = filter_directive(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let filter = EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(HclogLayer::new(std::io::stderr, "provider"))
        .try_init();
}
