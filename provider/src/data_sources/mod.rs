//! The provider's data sources, one folder each.

pub mod check;
