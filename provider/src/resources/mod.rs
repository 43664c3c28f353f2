//! The provider's resources, one file each: schema, state type and lifecycle.

pub mod link;
pub mod plan_rules;
