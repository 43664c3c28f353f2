//! Parsing and checking the configuration of `route53delegation_check`.

use std::time::Duration;

use route53delegation::dns::{parse_resolver, DnsClient};
use route53delegation::inspect::{default_roots, InspectRequest};
use route53delegation::{DomainName, NsSet};

use crate::duration;
use crate::protocol::{AttributePath, Diagnostic, Value};

/// Default per-question timeout.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest per-question timeout accepted.
pub const MAX_QUERY_TIMEOUT: Duration = Duration::from_secs(60);

/// The request, when the configuration is complete and valid, and the
/// diagnostics (each on its attribute).
pub fn parse(v: &Value) -> (Option<InspectRequest>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut incomplete = false;
    let mut error = |attr: &str, summary: &str, detail: String| {
        diags.push(Diagnostic::error(summary, detail).with_attribute(AttributePath::attr(attr)));
    };

    let name = match v.get("name") {
        Some(Value::String(s)) => match DomainName::parse_subdomain(s) {
            Ok(n) => Some(n),
            Err(e) => {
                error(
                    "name",
                    "Invalid name",
                    format!("{e}; expected a name such as api.example.com"),
                );
                None
            }
        },
        Some(Value::Unknown) => {
            incomplete = true;
            None
        }
        _ => {
            error(
                "name",
                "Missing name",
                "name is required; expected a name such as api.example.com".into(),
            );
            None
        }
    };

    let expect = match v.get("expected_name_servers") {
        Some(Value::Set(items) | Value::List(items)) => {
            if items.iter().any(|i| !i.is_known()) {
                incomplete = true;
                None
            } else {
                let strs: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                match NsSet::parse(&strs) {
                    Ok(s) if !s.is_empty() => Some(s),
                    Ok(_) => {
                        error("expected_name_servers", "No name servers", "expected_name_servers is empty; leave it unset, or list host names such as ns-1.awsdns-01.com".into());
                        None
                    }
                    Err(e) => {
                        error(
                            "expected_name_servers",
                            "Invalid name server",
                            format!("{e}; expected host names such as ns-1.awsdns-01.com"),
                        );
                        None
                    }
                }
            }
        }
        Some(Value::Unknown) => {
            incomplete = true;
            None
        }
        _ => None,
    };

    let roots = match v.get("root_servers") {
        Some(Value::List(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => match parse_resolver(s) {
                        Ok(a) => out.push(a),
                        Err(_) => diags.push(
                            Diagnostic::error(
                                "Invalid root server",
                                format!("{s:?} is not ADDRESS or ADDRESS:PORT"),
                            )
                            .with_attribute(
                                AttributePath::attr("root_servers").then_index(i as i64),
                            ),
                        ),
                    },
                    _ => incomplete = true,
                }
            }
            out
        }
        Some(Value::Unknown) => {
            incomplete = true;
            Vec::new()
        }
        _ => default_roots(),
    };

    let mut error = |attr: &str, summary: &str, detail: String| {
        diags.push(Diagnostic::error(summary, detail).with_attribute(AttributePath::attr(attr)));
    };
    let timeout = match v.get("query_timeout") {
        Some(Value::String(s)) => match duration::parse(s) {
            Ok(d) if !d.is_zero() && d <= MAX_QUERY_TIMEOUT => Some(d),
            Ok(_) => {
                error(
                    "query_timeout",
                    "Invalid query timeout",
                    format!("{s:?} is outside 1ms to 60s; expected a duration such as \"2s\""),
                );
                None
            }
            Err(e) => {
                error("query_timeout", "Invalid query timeout", e);
                None
            }
        },
        Some(Value::Unknown) => {
            incomplete = true;
            None
        }
        _ => Some(DEFAULT_QUERY_TIMEOUT),
    };

    if incomplete || !diags.is_empty() {
        return (None, diags);
    }
    match (name, timeout) {
        (Some(name), Some(timeout)) => (
            Some(InspectRequest {
                name,
                expect,
                roots,
                query: DnsClient::new(timeout, 1),
            }),
            diags,
        ),
        _ => (None, diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::object([
            ("name", Value::Null),
            ("expected_name_servers", Value::Null),
            ("root_servers", Value::Null),
            ("query_timeout", Value::Null),
        ]);
        for (k, val) in pairs {
            v.set(*k, val.clone());
        }
        v
    }

    fn paths(d: &[Diagnostic]) -> Vec<String> {
        d.iter()
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn a_name_alone_checks_from_the_real_roots() {
        let (r, d) = parse(&cfg(&[("name", Value::string("API.Example.com."))]));
        assert!(d.is_empty(), "{d:?}");
        let r = r.unwrap();
        assert_eq!(r.name.as_str(), "api.example.com");
        assert_eq!(r.roots.len(), 13);
        assert_eq!(r.expect, None);
        assert_eq!(r.query.timeout, DEFAULT_QUERY_TIMEOUT);
    }

    #[test]
    fn bad_values_are_named_by_attribute() {
        let (r, d) = parse(&cfg(&[
            ("name", Value::string("*.example.com")),
            (
                "expected_name_servers",
                Value::Set(vec![Value::string("not a host")]),
            ),
            (
                "root_servers",
                Value::List(vec![Value::string("127.0.0.1"), Value::string("nope")]),
            ),
            ("query_timeout", Value::string("10m")),
        ]));
        assert!(r.is_none());
        assert_eq!(
            paths(&d),
            vec![
                "name",
                "expected_name_servers",
                "root_servers[1]",
                "query_timeout"
            ]
        );
        assert!(d.iter().all(|d| !d.detail.ends_with('.')));
    }

    #[test]
    fn unknown_values_wait_for_apply() {
        let (r, d) = parse(&cfg(&[("name", Value::Unknown)]));
        assert!(r.is_none() && d.is_empty());
    }
}
