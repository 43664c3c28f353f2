//! The `route53delegation` Terraform provider: the plugin-protocol layer
//! ([`protocol`]), the provider configuration ([`provider_impl`]) and the
//! resources ([`resources`]). All delegation logic lives in the core crate.

pub mod duration;
pub mod protocol;
pub mod provider_impl;
pub mod resources;
