//! The data source's state from the core's `Inspection`.

use route53delegation::inspect::{Health, Inspection};

use crate::protocol::Value;

fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(Value::string).collect())
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, Value::string)
}

/// `config` with every computed attribute filled in from `r`.
pub fn to_value(config: &Value, r: &Inspection) -> Value {
    let mut v = config.clone();
    v.set("status", Value::string(r.status.as_str()));
    v.set("healthy", Value::Bool(r.status == Health::Healthy));
    v.set("parent_zone", opt(&r.parent_zone));
    v.set("parent_name_servers", strings(&r.parent_name_servers));
    v.set("delegated_name_servers", strings(&r.delegated_name_servers));
    v.set(
        "servers",
        Value::List(
            r.servers
                .iter()
                .map(|s| {
                    Value::object([
                        ("role", Value::string(&s.role)),
                        ("check", Value::string(&s.check)),
                        ("server", opt(&s.server)),
                        ("address", opt(&s.address)),
                        ("ok", Value::Bool(s.ok)),
                        ("detail", Value::string(&s.detail)),
                        (
                            "rtt_ms",
                            s.rtt_ms.map_or(Value::Null, |ms| Value::int(ms as i64)),
                        ),
                        (
                            "listed",
                            s.listed.map_or(Value::Null, |l| Value::string(l.as_str())),
                        ),
                    ])
                })
                .collect(),
        ),
    );
    v.set(
        "findings",
        Value::List(
            r.findings
                .iter()
                .map(|f| {
                    Value::object([
                        ("code", Value::string(&f.code)),
                        ("severity", Value::string(&f.severity)),
                        ("message", Value::string(&f.message)),
                    ])
                })
                .collect(),
        ),
    );
    v.set("summary", Value::string(&r.summary));
    v.set("error", opt(&r.error));
    v
}
