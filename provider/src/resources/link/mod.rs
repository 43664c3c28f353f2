//! Resource `route53delegation_link`, one module per concern: [`schema`],
//! configuration parsing ([`config`]), state mapping ([`state`]), plan rules
//! ([`plan_rules`]), the import-ID grammar ([`import_id`]), diagnostics
//! ([`diag`]) and the lifecycle calls ([`lifecycle`]).
//!
//!
//! The resource is glue: it turns configuration and state into the core's
//! [`LinkSpec`] and [`LinkState`], calls the [`Engine`], and turns the results
//! back into state and diagnostics. All delegation logic lives in the core.

mod config;
mod defaults;
mod diag;
pub mod import_id;
mod lifecycle;
pub mod parent;
pub mod plan_rules;
mod schema;
pub(crate) mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use config::{parse_config, parse_resolvers, LinkConfig, Timeouts};
pub use defaults::VerifyDefaults;
pub(crate) use diag::core_error_diag;
pub use lifecycle::Link;
pub use plan_rules::{created_plan, PLAN_LOOKUP_TIMEOUT};
pub use schema::schema;
pub use state::link_state;

/// The resource type name.
pub const TYPE_NAME: &str = "route53delegation_link";

/// Default create, update and delete timeouts.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
