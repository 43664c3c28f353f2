//! route53delegation core: delegate a DNS subdomain to its own Route 53 hosted
//! zone, usually in another AWS account, and verify the delegation over DNS.
//!
//! This crate knows nothing of Terraform or gRPC; the provider and any other
//! front end call it. See ARCHITECTURE.md for the code map.

pub mod account;
pub mod change;
pub mod check;
pub mod delegation;
pub mod diagnose;
pub mod dns;
pub mod duration;
pub mod error;
pub mod inspect;
pub mod name;
pub mod nsset;
pub mod own_zones;
pub mod pace;
pub mod parent;
pub mod plan;
pub mod record;
pub mod tags;
pub mod verify;
pub mod walk;
pub mod zone;

pub use account::{AccountSettings, AssumeRole, Endpoints};
pub use delegation::{refresh, Engine, EngineConfig, LinkSpec, LinkState};
pub use error::{Error, Result};
pub use name::{DomainName, NameError};
pub use nsset::NsSet;
pub use tokio_util::sync::CancellationToken;
