//! Starting a world (bind every server in-process, spawn knot and unbound,
//! wait until all of them answer) and stopping it (kill the children, close
//! the sockets, remove the directory); a crashed world's leftover children
//! are killed by the next world on the same net.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::World;
use crate::config::{pids_file, NetLock};
use crate::{dns, http, infra, model, RecordType, Shared, WorldConfig, WorldError};

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
            None => NetLock::try_acquire(cfg.net).ok_or(WorldError::NetInUse(cfg.net))?,
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
