//! A world's configuration: its network number (127.N.0.0/16, allocated
//! with a lock file held for the world's life), directory and timings.

use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use crate::WorldError;

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
    pub(crate) lock: Option<File>,
}

const LOCK_DIR: &str = "/tmp/r53world-locks";

pub(crate) fn try_lock(net: u8) -> Option<File> {
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

/// Where a world on `net` records its children (pid and command-line
/// marker), so the next world on that net can kill them after a crash.
pub(crate) fn pids_file(net: u8) -> PathBuf {
    PathBuf::from(format!("{LOCK_DIR}/{net}.pids"))
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
