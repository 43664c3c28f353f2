//! A world's configuration: its network number (127.N.0.0/16, allocated
//! with a lock file held for the world's life), directory and timings; and
//! the one allocator of those numbers, [`NetLock`], that every world and
//! every test that serves DNS on 127.N.x.y takes its range from.

use std::fs::File;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
    pub(crate) lock: Option<NetLock>,
}

/// The machine-wide folder of net locks: `r53world-locks` in the temporary
/// directory (`$TMPDIR`, else `/tmp`). Worlds and tests that share a
/// machine must share `TMPDIR` to see each other's locks.
pub fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("r53world-locks")
}

/// A 127.N.0.0/16 range held by this process until dropped (an exclusive
/// `flock` on `lock_dir()/N.lock`, which the kernel releases when the
/// process dies, however it dies).
#[derive(Debug)]
pub struct NetLock {
    net: u8,
    _file: File,
}

impl NetLock {
    /// Takes `net` if no world or test holds it.
    pub fn try_acquire(net: u8) -> Option<NetLock> {
        let dir = lock_dir();
        std::fs::create_dir_all(&dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{net}.lock")))
            .ok()?;
        file.try_lock().ok()?;
        Some(NetLock { net, _file: file })
    }

    /// Takes the first free net of `range`, starting at a place of its own
    /// (so parallel test processes rarely try the same one first), trying
    /// again until `wait` has passed.
    pub fn acquire(range: RangeInclusive<u8>, wait: Duration) -> Result<NetLock, WorldError> {
        let (lo, hi) = (usize::from(*range.start()), usize::from(*range.end()));
        if lo > hi {
            return Err(WorldError::NoFreeNet {
                lo: *range.start(),
                hi: *range.end(),
            });
        }
        let len = hi - lo + 1;
        let deadline = Instant::now() + wait;
        loop {
            let start = (std::process::id() as usize + usize::from(rand::random::<u8>())) % len;
            for k in 0..len {
                let net = (lo + (start + k) % len) as u8;
                if let Some(lock) = NetLock::try_acquire(net) {
                    return Ok(lock);
                }
            }
            if Instant::now() >= deadline {
                return Err(WorldError::NoFreeNet {
                    lo: *range.start(),
                    hi: *range.end(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The net number N held.
    pub fn net(&self) -> u8 {
        self.net
    }
}

/// Where a world on `net` records its children (pid and command-line
/// marker), so the next world on that net can kill them after a crash.
pub fn pids_file(net: u8) -> PathBuf {
    lock_dir().join(format!("{net}.pids"))
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

    /// Allocate a free net in 1..=250 ([`NetLock`], held for the world's
    /// life), a fresh temporary dir, insync delay 200 ms.
    ///
    /// # Panics
    /// When no net is free or the temp dir cannot be created.
    pub fn for_test() -> WorldConfig {
        Self::try_for_test().expect("r53world: cannot allocate a test world")
    }

    /// Fallible form of [`WorldConfig::for_test`].
    pub fn try_for_test() -> Result<WorldConfig, WorldError> {
        let lock = NetLock::acquire(1..=250, Duration::ZERO)?;
        let net = lock.net();
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
        Ok(c)
    }
}
