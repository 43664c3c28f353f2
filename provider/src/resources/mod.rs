//! The provider's resources, one folder each: schema, configuration, state,
//! plan rules, import ID and lifecycle in modules of their own.

pub mod link;
