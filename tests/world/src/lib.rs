//! `r53world`: a local Route 53 + STS emulator with authoritative DNS inside
//! a small DNS internet (knotd root/TLD/example.net servers, unbound, and
//! in-process Route 53 pool name servers). See README.md for addresses,
//! accounts, credentials and the admin API.
//!
//! The crate root holds the library's error type and the state every server
//! shares; `config` allocates a world's network and directory, `world` is
//! the running [`World`] handle (start-up and shutdown, addresses, control,
//! zones), `model` the Route 53 + STS state, `http` the APIs, `dns` the
//! pool name servers, `infra` knot and unbound.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

mod config;
pub mod dns;
mod http;
mod infra;
mod model;
mod sigv4;
pub mod throttle;
mod world;

pub use config::{lock_dir, pids_file, NetLock, WorldConfig};
pub use hickory_proto::rr::RecordType;
pub use infra::{TSIG_KEY_NAME, TSIG_SECRET};
pub use model::{
    base_access_key, base_secret_key, ChangeFacts, DnsFault, Fault, Operation, Permission, Policy,
    RRSet, RoleSpec, RrType, Service, UnknownOperation, UnknownRrType, CHILD_ACCOUNTS,
    OPERATOR_ACCOUNT, PARENT_ACCOUNT,
};
pub use throttle::ThrottleMode;
pub use world::{HeldCall, Snapshot, SnapshotZone, World, ZoneInfo};

/// Errors of the world's library API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("{tool}: {detail}")]
    Tool { tool: String, detail: String },
    #[error("{0} did not become ready in time; see logs under {1}")]
    NotReady(String, PathBuf),
    #[error("no free world network number in {lo}..={hi} (locks in {})", config::lock_dir().display())]
    NoFreeNet { lo: u8, hi: u8 },
    #[error("world network {0} is in use by another process")]
    NetInUse(u8),
    #[error("no hosted zone with id {0}")]
    NoSuchZone(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// State shared by the HTTP API, the DNS servers and the `World` handle.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<model::State>,
    pub(crate) infra: infra::Infra,
    net: u8,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, model::State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A host or zone name in lower case with one trailing dot.
pub(crate) fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}
