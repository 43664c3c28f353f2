//! The `route53delegation` Terraform provider.

pub mod protocol;
