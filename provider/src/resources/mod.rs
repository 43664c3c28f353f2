//! The provider's resources, one file each: schema, state type and lifecycle.

pub mod link;
pub mod link_parent;
pub mod plan_rules;
