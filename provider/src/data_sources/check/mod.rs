//! `route53delegation_check`: checks any delegation from the root, with no
//! AWS credentials: the same walk, checks and diagnosis as
//! `route53delegation check` (the core's `inspect`). Broken delegations are
//! reported in attributes, not as errors, so the data source fits Terraform
//! `check {}` blocks: an `assert` on `healthy` warns without failing the run.

mod config;
mod schema;
mod state;

pub use config::parse;
pub use schema::schema;

use std::net::SocketAddr;

use route53delegation::dns::AddressResolver;
use route53delegation::inspect::{inspect, Health};

use crate::protocol::{DataSourceRequest, DataSourceResponse, Diagnostic, Value};

/// The data source's type name.
pub const TYPE_NAME: &str = "route53delegation_check";

/// Validates a configuration (values may still be unknown).
pub fn validate(config: &Value) -> Vec<Diagnostic> {
    parse(config).1
}

/// ReadDataSource: walks from the root and checks, with `resolvers` (the
/// provider's `verify.resolvers`) for name-server addresses without glue.
pub async fn read(req: DataSourceRequest, resolvers: &[SocketAddr]) -> DataSourceResponse {
    let (parsed, diagnostics) = parse(&req.config);
    let Some(inspect_req) = parsed else {
        return DataSourceResponse {
            state: Value::Null,
            diagnostics,
        };
    };
    let resolver = if resolvers.is_empty() {
        match AddressResolver::from_system() {
            Ok(r) => AddressResolver::with_client(r.resolvers().to_vec(), inspect_req.query.clone()),
            Err(e) => {
                return DataSourceResponse {
                    state: Value::Null,
                    diagnostics: vec![Diagnostic::error(
                        "No DNS resolver",
                        format!("checking {}: the provider has no verify.resolvers and the system's cannot be read: {e}", inspect_req.name),
                    )],
                }
            }
        }
    } else {
        AddressResolver::with_client(resolvers.to_vec(), inspect_req.query.clone())
    };
    let result = tokio::select! {
        r = inspect(&inspect_req, &resolver) => r,
        () = req.cancel.cancelled() => {
            return DataSourceResponse {
                state: Value::Null,
                diagnostics: vec![Diagnostic::error(
                    "Interrupted",
                    format!("checking {}: cancelled", inspect_req.name),
                )],
            };
        }
    };
    let mut diagnostics = diagnostics;
    if result.status == Health::Unknown {
        diagnostics.push(Diagnostic::warning(
            "Delegation could not be checked",
            result.summary.clone(),
        ));
    }
    DataSourceResponse {
        state: state::to_value(&req.config, &result),
        diagnostics,
    }
}
