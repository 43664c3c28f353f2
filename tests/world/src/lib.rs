//! `r53world`: a local Route 53 + STS emulator with authoritative DNS inside
//! a small DNS internet (knotd root/TLD/example.net servers, unbound, and
//! in-process Route 53 pool name servers). See README.md for addresses,
//! accounts, credentials and the admin API.

use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub mod dns;
mod http;
mod infra;
mod model;
mod sigv4;
pub mod throttle;

pub use hickory_proto::rr::RecordType;
pub use infra::{TSIG_KEY_NAME, TSIG_SECRET};
pub use model::{
    base_access_key, base_secret_key, DnsFault, Fault, Permission, RRSet, RoleSpec, CHILD_ACCOUNTS,
    OPERATOR_ACCOUNT, PARENT_ACCOUNT,
};
pub use throttle::ThrottleMode;

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
    #[error("no free world network number in 1..=250 (locks in /tmp/r53world-locks)")]
    NoFreeNet,
    #[error("world network {0} is in use by another process")]
    NetInUse(u8),
    #[error("no hosted zone with id {0}")]
    NoSuchZone(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
}

/// Configuration of a world.
#[derive(Debug)]
pub struct WorldConfig {
    /// World number N: all addresses are 127.N.x.y.
    pub net: u8,
    /// Directory for configs, zone files and logs.
    pub dir: PathBuf,
    /// Delay between a change being accepted (PENDING) and INSYNC.
    pub insync_delay: Duration,
    /// Pool name servers per TLD (com, net, org, co.uk).
    pub pool_per_tld: u16,
    /// HTTP port on 127.N.0.10.
    pub http_port: u16,
    /// Remove `dir` when the world is dropped (set by `for_test`;
    /// `R53WORLD_KEEP=1` keeps it).
    pub remove_dir_on_drop: bool,
    lock: Option<File>,
}

const LOCK_DIR: &str = "/tmp/r53world-locks";

fn try_lock(net: u8) -> Option<File> {
    std::fs::create_dir_all(LOCK_DIR).ok()?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{LOCK_DIR}/{net}.lock"))
        .ok()?;
    f.try_lock().ok()?;
    Some(f)
}

impl WorldConfig {
    /// A config with explicit net and dir (not locked until `World::start`).
    pub fn new(net: u8, dir: impl Into<PathBuf>) -> WorldConfig {
        WorldConfig {
            net,
            dir: dir.into(),
            insync_delay: Duration::from_millis(200),
            pool_per_tld: 16,
            http_port: 8080,
            remove_dir_on_drop: false,
            lock: None,
        }
    }

    /// Allocate a free net (flock on /tmp/r53world-locks/NET.lock, held for
    /// the world's life), a fresh temporary dir, insync delay 200 ms.
    ///
    /// # Panics
    /// When no net is free or the temp dir cannot be created.
    pub fn for_test() -> WorldConfig {
        Self::try_for_test().expect("r53world: cannot allocate a test world")
    }

    /// Fallible form of [`WorldConfig::for_test`].
    pub fn try_for_test() -> Result<WorldConfig, WorldError> {
        let start = (std::process::id() as usize + rand::random::<u8>() as usize) % 250;
        for k in 0..250 {
            let net = ((start + k) % 250 + 1) as u8;
            if let Some(lock) = try_lock(net) {
                let dir = std::env::temp_dir().join(format!(
                    "r53world-{net}-{}-{:08x}",
                    std::process::id(),
                    rand::random::<u32>()
                ));
                std::fs::create_dir_all(&dir).map_err(|e| WorldError::Io {
                    what: format!("create {}", dir.display()),
                    source: e,
                })?;
                let mut c = WorldConfig::new(net, dir);
                c.remove_dir_on_drop = std::env::var("R53WORLD_KEEP").is_err();
                c.lock = Some(lock);
                return Ok(c);
            }
        }
        Err(WorldError::NoFreeNet)
    }
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

/// A zone as seen by introspection helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneInfo {
    pub id: String,
    pub name: String,
    pub private: bool,
    pub name_servers: Vec<String>,
    pub records: Vec<RRSet>,
}

/// A running world. Dropping it kills knotd/unbound and stops the servers.
#[derive(Debug)]
pub struct World {
    shared: Arc<Shared>,
    children: Mutex<Vec<(String, Child)>>,
    rt: Option<tokio::runtime::Runtime>,
    dir: PathBuf,
    remove_dir: bool,
    http_port: u16,
    _lock: File,
}

fn pids_file(net: u8) -> PathBuf {
    PathBuf::from(format!("{LOCK_DIR}/{net}.pids"))
}

/// Kill leftover children of a previous world on the same net (crashed test).
fn kill_stale(net: u8) {
    let Ok(text) = std::fs::read_to_string(pids_file(net)) else {
        return;
    };
    for line in text.lines() {
        let mut it = line.splitn(2, '\t');
        let (Some(pid), Some(marker)) = (it.next(), it.next()) else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            let _ = std::process::Command::new("kill")
                .args(["-9", pid])
                .status();
        }
    }
    let _ = std::fs::remove_file(pids_file(net));
}

impl World {
    /// Start every server and wait until all of them answer.
    pub async fn start(mut cfg: WorldConfig) -> Result<World, WorldError> {
        let lock = match cfg.lock.take() {
            Some(l) => l,
            None => try_lock(cfg.net).ok_or(WorldError::NetInUse(cfg.net))?,
        };
        kill_stale(cfg.net);
        std::fs::create_dir_all(&cfg.dir).map_err(|e| WorldError::Io {
            what: format!("create {}", cfg.dir.display()),
            source: e,
        })?;
        let dir = std::fs::canonicalize(&cfg.dir).unwrap_or(cfg.dir.clone());
        let pool = model::Pool::new(cfg.net, cfg.pool_per_tld);
        let shared = Arc::new(Shared {
            state: Mutex::new(model::State::new(cfg.insync_delay)),
            infra: infra::Infra::new(cfg.net, dir.clone(), pool),
            net: cfg.net,
        });
        shared.infra.write_all()?;

        // Bind everything in-process first (clear errors), then spawn.
        let sockets = dns::bind_all(&shared)?;
        let http_addr = SocketAddr::from((infra::ip(cfg.net, 0, 10), cfg.http_port));
        let http_listener =
            std::net::TcpListener::bind(http_addr).map_err(|e| WorldError::Bind {
                addr: http_addr,
                source: e,
            })?;
        http_listener
            .set_nonblocking(true)
            .map_err(|e| WorldError::Bind {
                addr: http_addr,
                source: e,
            })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("r53world")
            .enable_all()
            .build()
            .map_err(|e| WorldError::Io {
                what: "tokio runtime".into(),
                source: e,
            })?;
        for (name, u, t) in sockets {
            rt.spawn(dns::serve(shared.clone(), name, u, t));
        }
        rt.spawn(http::serve(shared.clone(), http_listener));

        let children = shared.infra.spawn_all()?;
        let mut pids = String::new();
        for (name, c) in &children {
            let marker = if name == "unbound" {
                shared.infra.unbound_conf()
            } else {
                shared.infra.knot_conf(name.trim_start_matches("knotd-"))
            };
            pids.push_str(&format!("{}\t{}\n", c.id(), marker.display()));
        }
        let _ = std::fs::write(pids_file(cfg.net), pids);
        let world = World {
            shared,
            children: Mutex::new(children),
            rt: Some(rt),
            dir,
            remove_dir: cfg.remove_dir_on_drop,
            http_port: cfg.http_port,
            _lock: lock,
        };
        world.wait_ready().await?;
        Ok(world)
    }

    async fn wait_ready(&self) -> Result<(), WorldError> {
        let n = self.shared.net;
        let checks: Vec<(&str, SocketAddr, &str, bool)> = vec![
            (
                "knotd root",
                SocketAddr::from((infra::ip(n, 0, 1), 53)),
                ".",
                false,
            ),
            (
                "knotd tld",
                SocketAddr::from((infra::ip(n, 0, 2), 53)),
                "com.",
                false,
            ),
            (
                "knotd example.net",
                SocketAddr::from((infra::ip(n, 0, 3), 53)),
                "example.net.",
                false,
            ),
            ("unbound", self.resolver(), "com.", true),
        ];
        let deadline = Instant::now() + Duration::from_secs(10);
        for (what, addr, name, rec) in checks {
            loop {
                self.check_children()?;
                let q = dns::query(addr, name, RecordType::SOA, rec);
                if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_millis(100), q).await {
                    if !m.answers.is_empty() {
                        break;
                    }
                }
                if Instant::now() > deadline {
                    return Err(WorldError::NotReady(what.into(), self.dir.clone()));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    fn check_children(&self) -> Result<(), WorldError> {
        let mut ch = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for (name, c) in ch.iter_mut() {
            if let Ok(Some(st)) = c.try_wait() {
                return Err(WorldError::Tool {
                    tool: name.clone(),
                    detail: format!("exited early ({st}); see logs under {}", self.dir.display()),
                });
            }
        }
        Ok(())
    }

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

    /// Restore accounts/roles, wipe zones/changes/counters/faults/limits,
    /// remove every TLD registration and restore the pristine example.net
    /// zone. Blocks the calling thread for a few tens of milliseconds (the
    /// work runs on the world's own runtime, so calling it from async code
    /// is fine).
    pub fn reset(&self) {
        self.shared.lock().reset();
        let Some(rt) = &self.rt else { return };
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = self.shared.clone();
        rt.spawn(async move {
            let r = shared.infra.reset().await;
            let _ = tx.send(r);
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("r53world reset: {e}"),
            Err(e) => tracing::error!("r53world reset timed out: {e}"),
        }
    }

    /// Async form of [`World::reset`] that reports DNS-side errors.
    pub async fn reset_async(&self) -> Result<(), WorldError> {
        self.shared.lock().reset();
        self.shared.infra.reset().await
    }

    /// Delegate `domain` at its TLD to the hosted zone's current name servers.
    pub async fn register_domain(
        &self,
        domain: &str,
        hosted_zone_id: &str,
    ) -> Result<Vec<String>, WorldError> {
        let id = hosted_zone_id.trim_start_matches("/hostedzone/");
        let ns = self
            .shared
            .lock()
            .zone_any(id)
            .map(|z| z.ns.clone())
            .ok_or_else(|| WorldError::NoSuchZone(id.to_string()))?;
        self.shared.infra.register(domain, &ns).await?;
        Ok(ns)
    }

    /// Delegate `domain` at its TLD to explicit name servers (empty: remove).
    pub async fn register_domain_ns(&self, domain: &str, ns: &[String]) -> Result<(), WorldError> {
        self.shared.infra.register(domain, ns).await
    }

    /// Flush `name` (and everything below it), negative and infra caches of
    /// the resolver.
    pub async fn flush(&self, name: &str) -> Result<(), WorldError> {
        self.shared.infra.flush(name).await
    }

    /// Add (or replace) a role.
    pub fn add_role(&self, role: RoleSpec) {
        self.shared.lock().roles.insert(role.arn(), role);
    }

    /// Per (account, operation) call counts, including faulted calls.
    pub fn call_counts(&self) -> BTreeMap<(String, String), u64> {
        self.shared.lock().calls.clone()
    }

    /// Make the next `count` calls of `operation` (e.g.
    /// "ChangeResourceRecordSets", "AssumeRole") fail with `fault`.
    pub fn inject_fault(&self, operation: &str, fault: Fault, count: u32) {
        let mut st = self.shared.lock();
        let q = st.faults.entry(operation.to_string()).or_default();
        for _ in 0..count {
            q.push_back(fault);
        }
    }

    /// Per-account requests/second limit for Route 53 calls (None: off):
    /// [`ThrottleMode::Legacy`].
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.set_throttle(match per_second {
            Some(per_second) => ThrottleMode::Legacy { per_second },
            None => ThrottleMode::Off,
        });
    }

    /// How Route 53 calls are throttled per account: off, the legacy
    /// requests/second rule, or Route 53's current token buckets.
    pub fn set_throttle(&self, mode: ThrottleMode) {
        self.shared.lock().throttle.set_mode(mode);
    }

    /// `Throttling` answers sent by the throttle, per (account, operation)
    /// (injected faults are not counted here).
    pub fn throttled_counts(&self) -> BTreeMap<(String, String), u64> {
        self.shared.lock().throttle.throttled().clone()
    }

    /// Delay between PENDING and INSYNC for new changes.
    pub fn set_insync_delay(&self, d: Duration) {
        self.shared.lock().insync_delay = d;
    }

    /// Random extra delay, uniform up to `d`, added to each new change's
    /// INSYNC time (Route 53 takes "generally" 60 s, not exactly).
    pub fn set_insync_jitter(&self, d: Duration) {
        self.shared.lock().insync_jitter = d;
    }

    /// Switches a DNS fault on at pool server `server` (host name, with or
    /// without the trailing dot) for `zone` (`None`: every zone it serves),
    /// for the next `count` queries (`None`: until cleared). `fault = None`
    /// switches it off.
    pub fn set_dns_fault(
        &self,
        server: &str,
        zone: Option<&str>,
        fault: Option<DnsFault>,
        count: Option<u32>,
    ) {
        let key = (fqdn(server), zone.map(fqdn));
        let mut st = self.shared.lock();
        match fault {
            Some(fault) => {
                st.dns_faults.insert(
                    key,
                    model::DnsFaultEntry {
                        fault,
                        remaining: count,
                    },
                );
            }
            None => {
                st.dns_faults.remove(&key);
            }
        }
    }

    /// How long after submission a change becomes visible on pool server
    /// `server` (`None`: at INSYNC, the default). A lag shorter than the
    /// insync delay makes that server serve changes before INSYNC, while the
    /// others still serve the old data; a longer one delays INSYNC for the
    /// zones the server hosts.
    pub fn set_publish_lag(&self, server: &str, lag: Option<Duration>) {
        let mut st = self.shared.lock();
        match lag {
            Some(l) => {
                st.publish_lag.insert(fqdn(server), l);
            }
            None => {
                st.publish_lag.remove(&fqdn(server));
            }
        }
    }

    /// Make the next `n` AssumeRole calls for `role_arn` fail with AccessDenied.
    pub fn fail_assume_role(&self, role_arn: &str, n: u32) {
        self.shared
            .lock()
            .fail_assume
            .insert(role_arn.to_string(), n);
    }

    /// Creates a public hosted zone in `account`, as its owner would in the
    /// console, and waits until it is INSYNC (served over DNS). Returns the
    /// zone ID without the `/hostedzone/` prefix.
    pub async fn create_zone(&self, account: &str, name: &str) -> Result<String, WorldError> {
        let reference = format!("console-{name}-{:016x}", rand::random::<u64>());
        let (id, change) = self
            .shared
            .lock()
            .create_zone(
                &self.shared.infra.pool,
                account,
                name,
                &reference,
                None,
                false,
                Vec::new(),
            )
            .map_err(|e| {
                WorldError::Invalid(format!("creating hosted zone {name}: {}", e.message))
            })?;
        let id = id.trim_start_matches("/hostedzone/").to_string();
        let change = change.trim_start_matches("/change/").to_string();
        loop {
            let done = {
                let mut st = self.shared.lock();
                st.advance();
                st.change_status(&change).is_none_or(|(_, insync)| insync)
            };
            if done {
                return Ok(id);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Hosted zones of an account, with their current (API) records.
    pub fn zones(&self, account: &str) -> Vec<ZoneInfo> {
        let st = self.shared.lock();
        let Some(a) = st.accounts.get(account) else {
            return Vec::new();
        };
        let mut v: Vec<&model::Zone> = a.zones.values().collect();
        v.sort_by_key(|z| z.seq);
        v.into_iter()
            .map(|z| ZoneInfo {
                id: z.id.clone(),
                name: z.name.clone(),
                private: z.private,
                name_servers: z.ns.clone(),
                records: z.records.values().cloned().collect(),
            })
            .collect()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let mut ch = self.children.lock().unwrap_or_else(|e| e.into_inner());
        for (_, c) in ch.iter_mut() {
            let _ = c.kill();
        }
        for (_, c) in ch.iter_mut() {
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(pids_file(self.shared.net));
        if let Some(rt) = self.rt.take() {
            // Wait (briefly) until the servers' sockets are closed so the
            // net can be reused at once; a runtime cannot be shut down with
            // a timeout from inside an async context, so do it on a thread.
            let t = std::thread::spawn(move || rt.shutdown_timeout(Duration::from_secs(2)));
            let _ = t.join();
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
