//! The `route53delegation` Terraform provider: the plugin-protocol layer
//! ([`protocol`]), the provider configuration ([`provider_impl`]) and the
//! resources ([`resources`]) and data sources ([`data_sources`]). All
//! delegation logic lives in the core crate.

pub mod data_sources;
/// Durations, one syntax on every surface (the core's).
pub use route53delegation::duration;
pub mod protocol;
pub mod provider_impl;
pub mod resources;
pub mod tuning;
