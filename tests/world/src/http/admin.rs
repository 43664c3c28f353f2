//! The JSON admin API under `/admin`: reset, roles, faults, throttling,
//! INSYNC delay, DNS faults, registrations, call counts.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::model::{DnsFault, Fault, Operation, RoleSpec};
use crate::throttle::ThrottleMode;
use crate::Shared;

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn bad(msg: impl std::fmt::Display) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        serde_json::json!({ "error": msg.to_string() }),
    )
}

#[derive(serde::Deserialize)]
struct RegisterReq {
    domain: String,
    hosted_zone_id: Option<String>,
    name_servers: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct FaultReq {
    operation: String,
    fault: String,
    #[serde(default)]
    delay_ms: u64,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

#[derive(serde::Deserialize)]
struct DnsFaultReq {
    server: String,
    #[serde(default)]
    zone: Option<String>,
    /// `drop`, `refuse` or `none` (switch off).
    fault: String,
    #[serde(default)]
    count: Option<u32>,
}

#[derive(serde::Deserialize)]
struct PublishLagReq {
    server: String,
    /// Milliseconds; `null` restores the default (visible at INSYNC).
    ms: Option<u64>,
}

#[derive(serde::Deserialize)]
struct FailAssume {
    role_arn: String,
    #[serde(default = "one")]
    count: u32,
}

/// Handles one admin request; `path` is what follows `/admin`.
pub async fn handle(shared: &Shared, method: &Method, path: &str, body: &[u8]) -> Response {
    let path = path.trim_end_matches('/');
    let body_json = || -> Result<serde_json::Value, Box<Response>> {
        if body.is_empty() {
            Ok(serde_json::Value::Null)
        } else {
            serde_json::from_slice(body).map_err(|e| Box::new(bad(e)))
        }
    };
    match (method.as_str(), path) {
        ("POST", "/reset") => {
            shared.lock().reset();
            match shared.infra.reset().await {
                Ok(()) => json(StatusCode::OK, serde_json::json!({"ok": true})),
                Err(e) => json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({"error": e.to_string()}),
                ),
            }
        }
        ("POST", "/register") => {
            let r: RegisterReq = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(e),
            };
            let ns = match (r.hosted_zone_id, r.name_servers) {
                (Some(id), None) => {
                    let id = id.trim_start_matches("/hostedzone/").to_string();
                    match shared.lock().zone_any(&id) {
                        Some(z) => z.ns.clone(),
                        None => return bad(format!("no hosted zone {id}")),
                    }
                }
                (None, Some(ns)) => ns,
                _ => return bad("give exactly one of hosted_zone_id, name_servers"),
            };
            match shared.infra.register(&r.domain, &ns).await {
                Ok(()) => json(
                    StatusCode::OK,
                    serde_json::json!({"domain": r.domain, "name_servers": ns}),
                ),
                Err(e) => bad(e),
            }
        }
        ("POST", "/roles") => match serde_json::from_slice::<RoleSpec>(body) {
            Ok(role) => {
                let arn = role.arn();
                shared.lock().roles.insert(arn.clone(), role);
                json(StatusCode::OK, serde_json::json!({"arn": arn}))
            }
            Err(e) => bad(e),
        },
        ("GET", "/roles") => {
            let roles: Vec<RoleSpec> = shared.lock().roles.values().cloned().collect();
            json(
                StatusCode::OK,
                serde_json::to_value(roles).unwrap_or_default(),
            )
        }
        ("GET", "/calls") => {
            let calls: Vec<serde_json::Value> = shared
                .lock()
                .calls
                .iter()
                .map(|((a, o), n)| {
                    serde_json::json!({"account": a, "operation": o.as_str(), "count": n})
                })
                .collect();
            json(StatusCode::OK, serde_json::Value::Array(calls))
        }
        ("POST", "/faults") => {
            let f: FaultReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let fault = match f.fault.as_str() {
                "Throttling" => Fault::Throttling,
                "InternalFailure" => Fault::InternalFailure,
                "PriorRequestNotComplete" => Fault::PriorRequestNotComplete,
                "Delay" => Fault::Delay(Duration::from_millis(f.delay_ms)),
                other => return bad(format!("unknown fault {other}")),
            };
            let operation: Operation = match f.operation.parse() {
                Ok(o) => o,
                Err(e) => return bad(e),
            };
            let mut st = shared.lock();
            let q = st.faults.entry(operation).or_default();
            for _ in 0..f.count {
                q.push_back(fault);
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/rate-limit") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let per = v
                .get("per_second")
                .and_then(serde_json::Value::as_u64)
                .map(|n| n as u32);
            shared.lock().throttle.set_mode(match per {
                Some(per_second) => ThrottleMode::Legacy { per_second },
                None => ThrottleMode::Off,
            });
            json(StatusCode::OK, serde_json::json!({"per_second": per}))
        }
        ("POST", "/throttle") => match serde_json::from_slice::<ThrottleMode>(body) {
            Ok(mode) => {
                shared.lock().throttle.set_mode(mode);
                json(StatusCode::OK, serde_json::json!(mode))
            }
            Err(e) => bad(format!(
                "{e}; expected {{\"mode\": \"off\"}}, {{\"mode\": \"legacy\", \"per_second\": 5}} or {{\"mode\": \"buckets\"}}"
            )),
        },
        ("GET", "/throttle") => {
            let st = shared.lock();
            let throttled: Vec<serde_json::Value> = st
                .throttle
                .throttled()
                .iter()
                .map(|((account, operation), n)| {
                    serde_json::json!({"account": account, "operation": operation.as_str(), "count": n})
                })
                .collect();
            json(
                StatusCode::OK,
                serde_json::json!({"mode": st.throttle.mode(), "throttled": throttled}),
            )
        }
        ("POST", "/insync-delay") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let Some(ms) = v.get("ms").and_then(serde_json::Value::as_u64) else {
                return bad("expected {\"ms\": N}");
            };
            let jitter_ms = v
                .get("jitter_ms")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            let mut st = shared.lock();
            st.insync_delay = Duration::from_millis(ms);
            st.insync_jitter = Duration::from_millis(jitter_ms);
            json(
                StatusCode::OK,
                serde_json::json!({"ms": ms, "jitter_ms": jitter_ms}),
            )
        }
        ("POST", "/dns-fault") => {
            let f: DnsFaultReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let fault = match f.fault.as_str() {
                "drop" => Some(DnsFault::Drop),
                "refuse" => Some(DnsFault::Refuse),
                "none" => None,
                other => {
                    return bad(format!(
                        "unknown DNS fault {other}; expected drop, refuse or none"
                    ))
                }
            };
            let server = crate::fqdn(&f.server);
            if !shared.infra.pool.all().any(|(n, _)| *n == server) {
                return bad(format!("{} is not a pool name server", f.server));
            }
            let key = (server, f.zone.as_deref().map(crate::fqdn));
            let mut st = shared.lock();
            match fault {
                Some(fault) => {
                    st.dns_faults.insert(
                        key,
                        crate::model::DnsFaultEntry {
                            fault,
                            remaining: f.count,
                        },
                    );
                }
                None => {
                    st.dns_faults.remove(&key);
                }
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/publish-lag") => {
            let f: PublishLagReq = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(e),
            };
            let server = crate::fqdn(&f.server);
            if !shared.infra.pool.all().any(|(n, _)| *n == server) {
                return bad(format!("{} is not a pool name server", f.server));
            }
            let mut st = shared.lock();
            match f.ms {
                Some(ms) => {
                    st.publish_lag.insert(server, Duration::from_millis(ms));
                }
                None => {
                    st.publish_lag.remove(&server);
                }
            }
            json(StatusCode::OK, serde_json::json!({"ok": true}))
        }
        ("POST", "/fail-assume-role") => match serde_json::from_slice::<FailAssume>(body) {
            Ok(f) => {
                shared.lock().fail_assume.insert(f.role_arn, f.count);
                json(StatusCode::OK, serde_json::json!({"ok": true}))
            }
            Err(e) => bad(e),
        },
        ("POST", "/flush") => {
            let v = match body_json() {
                Ok(v) => v,
                Err(r) => return *r,
            };
            let name = v
                .get("name")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(".");
            match shared.infra.flush(name).await {
                Ok(()) => json(StatusCode::OK, serde_json::json!({"ok": true})),
                Err(e) => bad(e),
            }
        }
        ("GET", "/zones") => {
            let st = shared.lock();
            let zones: Vec<serde_json::Value> = st
                .accounts
                .iter()
                .flat_map(|(a, acct)| {
                    acct.zones.values().map(move |z| {
                        serde_json::json!({
                            "account": a, "id": z.id, "name": z.name, "private": z.private,
                            "name_servers": z.ns, "records": z.records.values().collect::<Vec<_>>()
                        })
                    })
                })
                .collect();
            json(StatusCode::OK, serde_json::Value::Array(zones))
        }
        ("GET", "/health") => json(
            StatusCode::OK,
            serde_json::json!({"ok": true, "net": shared.net}),
        ),
        _ => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": format!("no admin route {method} {path}")}),
        ),
    }
}
