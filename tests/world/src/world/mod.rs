//! The running world's handle: [`World`] and its addresses, credentials and
//! environment; `start` starts and stops it, `control` switches its
//! behaviour (reset, faults, throttling, timings, roles), `zones` registers
//! domains and creates and lists hosted zones, `snapshot` records a world's
//! contents and restores them into another.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex};

use crate::infra;
use crate::model::{self, base_access_key, base_secret_key, OPERATOR_ACCOUNT};
use crate::{Shared, TSIG_KEY_NAME, TSIG_SECRET};

mod control;
mod snapshot;
mod start;
mod zones;

pub use control::HeldCall;
pub use snapshot::{Snapshot, SnapshotZone};
pub use zones::ZoneInfo;

/// A running world. Dropping it kills knotd/unbound and stops the servers.
#[derive(Debug)]
pub struct World {
    shared: Arc<Shared>,
    children: Mutex<Vec<(String, Child)>>,
    rt: Option<tokio::runtime::Runtime>,
    dir: PathBuf,
    remove_dir: bool,
    http_port: u16,
    _lock: crate::config::NetLock,
}

impl World {
    /// `http://127.N.0.10:8080`: Route 53, STS and `/admin`.
    pub fn endpoint(&self) -> String {
        format!(
            "http://{}:{}",
            infra::ip(self.shared.net, 0, 10),
            self.http_port
        )
    }

    /// The recursive resolver (unbound), 127.N.10.53:53.
    pub fn resolver(&self) -> SocketAddr {
        self.shared.infra.resolver()
    }

    /// Root hints file (for unbound, zonemaster `--hints`, dig +trace).
    pub fn root_hints_path(&self) -> PathBuf {
        self.shared.infra.root_hints_path()
    }

    /// The world's directory.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone()
    }

    /// World number N.
    pub fn net(&self) -> u8 {
        self.shared.net
    }

    /// Root server address 127.N.0.1:53.
    pub fn root_server(&self) -> SocketAddr {
        SocketAddr::from((infra::ip(self.net(), 0, 1), 53))
    }

    /// TLD server address 127.N.0.2:53 (com, net, org, uk/co.uk).
    pub fn tld_server(&self) -> SocketAddr {
        SocketAddr::from((infra::ip(self.net(), 0, 2), 53))
    }

    /// Non-Route 53 server for example.net (RFC 2136 + TSIG), 127.N.0.3:53.
    pub fn example_net_server(&self) -> SocketAddr {
        SocketAddr::from((infra::ip(self.net(), 0, 3), 53))
    }

    /// Path of a BIND-style key file for `nsupdate -k` / `knsupdate -k`.
    pub fn tsig_key_file(&self) -> PathBuf {
        self.dir.join("tsig.key")
    }

    /// Address of a pool name server by name (with or without trailing dot).
    pub fn name_server_addr(&self, name: &str) -> Option<SocketAddr> {
        let n = model::normalize_name(name);
        self.shared
            .infra
            .pool
            .all()
            .find(|(s, _)| *s == n)
            .map(|(_, a)| SocketAddr::from((*a, 53)))
    }

    /// Every pool name server: (name with trailing dot, address).
    pub fn pool_servers(&self) -> Vec<(String, SocketAddr)> {
        self.shared
            .infra
            .pool
            .all()
            .map(|(s, a)| (s.clone(), SocketAddr::from((*a, 53))))
            .collect()
    }

    /// Base credentials of an account: (access key id, secret access key).
    pub fn credentials(&self, account: &str) -> (String, String) {
        (base_access_key(account), base_secret_key(account))
    }

    /// Environment for tools (operator credentials, endpoints, resolver).
    pub fn env(&self) -> Vec<(String, String)> {
        let (k, s) = self.credentials(OPERATOR_ACCOUNT);
        let e = self.endpoint();
        [
            ("AWS_ACCESS_KEY_ID", k),
            ("AWS_SECRET_ACCESS_KEY", s),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL_ROUTE_53", e.clone()),
            ("AWS_ENDPOINT_URL_STS", e.clone()),
            ("AWS_ENDPOINT_URL", e),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("R53WORLD_RESOLVER", self.resolver().to_string()),
            // The provider's and the CLI's walks from the root start here.
            (
                "ROUTE53DELEGATION_ROOT_SERVERS",
                self.root_server().to_string(),
            ),
            (
                "R53WORLD_ROOT_HINTS",
                self.root_hints_path().display().to_string(),
            ),
            (
                "R53WORLD_TSIG_KEY",
                format!("hmac-sha256:{TSIG_KEY_NAME}:{TSIG_SECRET}"),
            ),
            (
                "R53WORLD_TSIG_KEYFILE",
                self.tsig_key_file().display().to_string(),
            ),
            (
                "R53WORLD_EXAMPLE_NET_SERVER",
                self.example_net_server().ip().to_string(),
            ),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b))
        .collect()
    }
}
