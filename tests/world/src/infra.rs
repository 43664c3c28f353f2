//! The external servers: three knotd instances (root, TLDs, example.net)
//! and unbound; their configuration, zone files and processes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use crate::model::Pool;
use crate::WorldError;

/// TSIG key name accepted by the example.net server.
pub const TSIG_KEY_NAME: &str = "update-key";
/// TSIG secret (hmac-sha256, base64) accepted by the example.net server.
pub const TSIG_SECRET: &str = "cjUzd29ybGQtdXBkYXRlLWtleS1zZWNyZXQtMDAwMDA=";

/// TLD zones served by the TLD knotd (`co.uk` names live inside `uk`).
pub const TLD_ZONES: [&str; 4] = ["com", "net", "org", "uk"];

#[derive(Debug)]
pub struct Infra {
    pub net: u8,
    pub dir: PathBuf,
    pub pool: Pool,
    /// domain -> NS names, per TLD zone.
    registrations: Mutex<BTreeMap<String, Vec<String>>>,
    serial: Mutex<u32>,
}

pub fn ip(net: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, net, c, d)
}

/// Which TLD zone holds the delegation of `domain` (normalized).
pub fn tld_of(domain: &str) -> Option<&'static str> {
    let d = domain.trim_end_matches('.');
    TLD_ZONES
        .iter()
        .find(|t| d.ends_with(&format!(".{t}")))
        .copied()
}

impl Infra {
    pub fn new(net: u8, dir: PathBuf, pool: Pool) -> Infra {
        Infra {
            net,
            dir,
            pool,
            registrations: Mutex::new(BTreeMap::new()),
            serial: Mutex::new(1),
        }
    }

    fn next_serial(&self) -> u32 {
        let mut s = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        *s += 1;
        *s
    }

    pub fn root_hints_path(&self) -> PathBuf {
        self.dir.join("root.hints")
    }
    pub fn knot_conf(&self, inst: &str) -> PathBuf {
        self.dir.join(inst).join("knot.conf")
    }
    pub fn unbound_conf(&self) -> PathBuf {
        self.dir.join("unbound").join("unbound.conf")
    }
    pub fn resolver(&self) -> SocketAddr {
        SocketAddr::from((ip(self.net, 10, 53), 53))
    }

    fn root_zone(&self) -> String {
        let n = self.net;
        let mut z = format!(
            "$TTL 86400\n. 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. {} 1800 900 604800 86400\n\
             . 518400 IN NS a.root-servers.net.\n\
             a.root-servers.net. 518400 IN A {}\n\
             a.gtld-servers.net. 172800 IN A {}\n",
            self.next_serial(),
            ip(n, 0, 1),
            ip(n, 0, 2)
        );
        for t in TLD_ZONES {
            let _ = writeln!(z, "{t}. 172800 IN NS a.gtld-servers.net.");
        }
        z
    }

    fn tld_zone(&self, tld: &str, regs: &BTreeMap<String, Vec<String>>) -> String {
        let n = self.net;
        let mut z = format!(
            "$TTL 3600\n{tld}. 900 IN SOA a.gtld-servers.net. nstld.verisign-grs.com. {} 1800 900 604800 900\n\
             {tld}. 172800 IN NS a.gtld-servers.net.\n",
            self.next_serial()
        );
        if tld == "net" {
            let _ = writeln!(z, "a.gtld-servers.net. 172800 IN A {}", ip(n, 0, 2));
            let _ = writeln!(z, "a.root-servers.net. 172800 IN A {}", ip(n, 0, 1));
            // Until example.net is registered elsewhere (its owner moved
            // it, say to Route 53): a registration replaces the delegation.
            if !regs.contains_key("example.net.") {
                let _ = writeln!(z, "example.net. 172800 IN NS ns1.example.net.");
            }
            let _ = writeln!(z, "ns1.example.net. 172800 IN A {}", ip(n, 0, 3));
        }
        for (name, addr) in self.pool.all() {
            if tld_of(name) == Some(tld) {
                let _ = writeln!(z, "{name} 172800 IN A {addr}");
            }
        }
        for (domain, ns) in regs {
            if tld_of(domain) == Some(tld) {
                for s in ns {
                    let _ = writeln!(z, "{domain} 172800 IN NS {s}");
                }
            }
        }
        z
    }

    /// The pristine example.net zone (knot rewrites its copy on updates).
    pub fn example_net_zone(&self) -> String {
        format!(
            "$TTL 300\nexample.net. 300 IN SOA ns1.example.net. hostmaster.example.net. {} 3600 600 86400 300\n\
             example.net. 300 IN NS ns1.example.net.\n\
             ns1.example.net. 300 IN A {}\n\
             www.example.net. 300 IN A {}\n",
            self.next_serial() + 1_000_000,
            ip(self.net, 0, 3),
            ip(self.net, 0, 3)
        )
    }

    fn knot_conf_text(
        &self,
        inst: &str,
        addr: Ipv4Addr,
        zones: &[(&str, &str)],
        tsig: bool,
    ) -> String {
        let d = self.dir.join(inst);
        let d = d.display();
        let mut c = format!(
            "server:\n    rundir: \"{d}\"\n    pidfile: \"{d}/knot.pid\"\n    listen: {addr}@53\n\
             log:\n  - target: stderr\n    any: warning\n\
             database:\n    storage: \"{d}/db\"\n\
             control:\n    listen: \"{d}/knot.sock\"\n"
        );
        if tsig {
            let _ = write!(
                c,
                "key:\n  - id: {TSIG_KEY_NAME}\n    algorithm: hmac-sha256\n    secret: {TSIG_SECRET}\n\
                 acl:\n  - id: tool-update\n    key: {TSIG_KEY_NAME}\n    action: update\n"
            );
        }
        let _ = write!(
            c,
            "template:\n  - id: default\n    storage: \"{d}\"\n    journal-content: none\n    zonefile-sync: 0\n    semantic-checks: off\nzone:\n"
        );
        for (domain, file) in zones {
            let _ = writeln!(c, "  - domain: \"{domain}\"\n    file: \"{file}\"");
            if tsig {
                let _ = writeln!(c, "    acl: tool-update");
            }
        }
        c
    }

    /// Write every config and zone file.
    pub fn write_all(&self) -> Result<(), WorldError> {
        let n = self.net;
        for inst in ["root", "tld", "auth", "unbound"] {
            std::fs::create_dir_all(self.dir.join(inst).join("db")).map_err(io("create dir"))?;
        }
        write(&self.dir.join("root/root.zone"), &self.root_zone())?;
        write(
            &self.knot_conf("root"),
            &self.knot_conf_text("root", ip(n, 0, 1), &[(".", "root.zone")], false),
        )?;
        let regs = self.lock_regs().clone();
        let mut zones = Vec::new();
        for t in TLD_ZONES {
            write(
                &self.dir.join(format!("tld/{t}.zone")),
                &self.tld_zone(t, &regs),
            )?;
            zones.push((t, format!("{t}.zone")));
        }
        let zr: Vec<(&str, &str)> = zones.iter().map(|(a, b)| (*a, b.as_str())).collect();
        write(
            &self.knot_conf("tld"),
            &self.knot_conf_text("tld", ip(n, 0, 2), &zr, false),
        )?;
        let ex = self.example_net_zone();
        write(&self.dir.join("auth/example.net.zone.pristine"), &ex)?;
        write(&self.dir.join("auth/example.net.zone"), &ex)?;
        write(
            &self.knot_conf("auth"),
            &self.knot_conf_text(
                "auth",
                ip(n, 0, 3),
                &[("example.net", "example.net.zone")],
                true,
            ),
        )?;
        write(
            &self.root_hints_path(),
            &format!(
                ".  3600000 IN NS a.root-servers.net.\na.root-servers.net. 3600000 IN A {}\n",
                ip(n, 0, 1)
            ),
        )?;
        write(
            &self.dir.join("tsig.key"),
            &format!(
                "key \"{TSIG_KEY_NAME}\" {{\n    algorithm hmac-sha256;\n    secret \"{TSIG_SECRET}\";\n}};\n"
            ),
        )?;
        let u = self.dir.join("unbound");
        write(
            &self.unbound_conf(),
            &format!(
                "server:\n    interface: {r}\n    port: 53\n    outgoing-interface: {r}\n    do-ip6: no\n    do-ip4: yes\n\
                 \x20   do-not-query-localhost: no\n    module-config: \"iterator\"\n    root-hints: \"{h}\"\n\
                 \x20   username: \"\"\n    chroot: \"\"\n    directory: \"{u}\"\n    pidfile: \"{u}/unbound.pid\"\n\
                 \x20   use-syslog: no\n    logfile: \"\"\n    verbosity: 0\n    access-control: 127.0.0.0/8 allow\n\
                 \x20   num-threads: 1\n    so-reuseport: no\n    trust-anchor-signaling: no\n    root-key-sentinel: no\n\
                 remote-control:\n    control-enable: yes\n    control-interface: \"{u}/unbound.ctl\"\n    control-use-cert: no\n",
                r = ip(n, 10, 53),
                h = self.root_hints_path().display(),
                u = u.display()
            ),
        )?;
        Ok(())
    }

    fn lock_regs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<String>>> {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Spawn the three knotd instances and unbound.
    pub fn spawn_all(&self) -> Result<Vec<(String, Child)>, WorldError> {
        let mut out = Vec::new();
        for inst in ["root", "tld", "auth"] {
            let log = self.dir.join(inst).join("knotd.log");
            out.push((
                format!("knotd-{inst}"),
                spawn(
                    Command::new("knotd").arg("-c").arg(self.knot_conf(inst)),
                    &log,
                    "knotd",
                )?,
            ));
        }
        let log = self.dir.join("unbound").join("unbound.log");
        out.push((
            "unbound".into(),
            spawn(
                Command::new("unbound")
                    .arg("-d")
                    .arg("-c")
                    .arg(self.unbound_conf()),
                &log,
                "unbound",
            )?,
        ));
        Ok(out)
    }

    async fn knotc(&self, inst: &str, args: &[&str]) -> Result<(), WorldError> {
        self.knotc_output(inst, args).await.map(drop)
    }

    /// Runs `knotc -c CONF -b ARGS` for instance `inst`; its stdout.
    async fn knotc_output(&self, inst: &str, args: &[&str]) -> Result<String, WorldError> {
        let out = tokio::process::Command::new("knotc")
            .arg("-c")
            .arg(self.knot_conf(inst))
            .arg("-b")
            .args(args)
            .output()
            .await
            .map_err(|e| WorldError::Tool {
                tool: "knotc".into(),
                detail: e.to_string(),
            })?;
        if !out.status.success() {
            return Err(WorldError::Tool {
                tool: "knotc".into(),
                detail: format!(
                    "{args:?}: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Delegate `domain` at its TLD to `ns` (empty: remove the delegation).
    pub async fn register(&self, domain: &str, ns: &[String]) -> Result<(), WorldError> {
        let domain = crate::model::normalize_name(domain);
        let tld = tld_of(&domain).ok_or_else(|| {
            WorldError::Invalid(format!(
                "{domain} is not under one of the world's TLDs {TLD_ZONES:?}"
            ))
        })?;
        let text = {
            let mut regs = self.lock_regs();
            if ns.is_empty() {
                regs.remove(&domain);
            } else {
                regs.insert(
                    domain.clone(),
                    ns.iter().map(|s| crate::model::normalize_name(s)).collect(),
                );
            }
            self.tld_zone(tld, &regs)
        };
        write(&self.dir.join(format!("tld/{tld}.zone")), &text)?;
        self.knotc("tld", &["zone-reload", tld]).await
    }

    /// Domains delegated at their TLDs (trailing dots), and their servers.
    pub fn registrations(&self) -> BTreeMap<String, Vec<String>> {
        self.lock_regs().clone()
    }

    /// Every record set of example.net as Knot holds it now (updates
    /// included), from `knotc zone-read`.
    pub async fn example_net_records(&self) -> Result<Vec<crate::RRSet>, WorldError> {
        let text = self
            .knotc_output("auth", &["zone-read", "example.net"])
            .await?;
        let mut sets: BTreeMap<(String, crate::RrType), crate::RRSet> = BTreeMap::new();
        for line in text.lines() {
            // `[example.net.] OWNER TTL TYPE RDATA...`
            let line = line.split_once("] ").map_or(line, |(_, rest)| rest);
            let mut f = line.split_whitespace();
            let (Some(owner), Some(ttl), Some(rtype)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let Ok(ttl) = ttl.parse::<u32>() else {
                continue;
            };
            let rtype = rtype
                .parse::<crate::RrType>()
                .map_err(|e| WorldError::Tool {
                    tool: "knotc".into(),
                    detail: format!("zone-read example.net: {e} in {line:?}"),
                })?;
            let value = f.collect::<Vec<_>>().join(" ");
            let owner = crate::model::normalize_name(owner);
            sets.entry((owner.clone(), rtype))
                .or_insert_with(|| crate::RRSet {
                    name: owner,
                    rtype,
                    ttl,
                    values: Vec::new(),
                })
                .values
                .push(value);
        }
        if sets.is_empty() {
            return Err(WorldError::Tool {
                tool: "knotc".into(),
                detail: format!("zone-read example.net printed no records: {text:?}"),
            });
        }
        Ok(sets.into_values().collect())
    }

    /// Restores example.net to its pristine contents plus `extra`.
    pub async fn set_example_net_records(&self, extra: &[crate::RRSet]) -> Result<(), WorldError> {
        let mut text = self.example_net_zone();
        for r in extra {
            for v in &r.values {
                let _ = writeln!(text, "{} {} IN {} {v}", r.name, r.ttl, r.rtype);
            }
        }
        write(&self.dir.join("auth/example.net.zone"), &text)?;
        self.knotc("auth", &["zone-reload", "example.net"]).await
    }

    /// Remove every registration and restore example.net.
    pub async fn reset(&self) -> Result<(), WorldError> {
        let regs = {
            let mut r = self.lock_regs();
            std::mem::take(&mut *r)
        };
        let tlds: std::collections::BTreeSet<&str> =
            regs.keys().filter_map(|d| tld_of(d)).collect();
        for t in tlds {
            write(
                &self.dir.join(format!("tld/{t}.zone")),
                &self.tld_zone(t, &BTreeMap::new()),
            )?;
            self.knotc("tld", &["zone-reload", t]).await?;
        }
        write(
            &self.dir.join("auth/example.net.zone"),
            &self.example_net_zone(),
        )?;
        self.knotc("auth", &["zone-reload", "example.net"]).await
    }

    /// `unbound-control flush_zone NAME` plus `flush_negative`, `flush_infra all`.
    pub async fn flush(&self, name: &str) -> Result<(), WorldError> {
        for args in [
            vec!["flush_zone", name],
            vec!["flush_negative"],
            vec!["flush_infra", "all"],
            vec!["flush_requestlist"],
        ] {
            let out = tokio::process::Command::new("unbound-control")
                .arg("-c")
                .arg(self.unbound_conf())
                .args(&args)
                .output()
                .await
                .map_err(|e| WorldError::Tool {
                    tool: "unbound-control".into(),
                    detail: e.to_string(),
                })?;
            if !out.status.success() {
                return Err(WorldError::Tool {
                    tool: "unbound-control".into(),
                    detail: format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)),
                });
            }
        }
        Ok(())
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> WorldError {
    move |e| WorldError::Io {
        what: what.to_string(),
        source: e,
    }
}

fn write(path: &Path, text: &str) -> Result<(), WorldError> {
    std::fs::write(path, text).map_err(|e| WorldError::Io {
        what: format!("write {}", path.display()),
        source: e,
    })
}

fn spawn(cmd: &mut Command, log: &Path, tool: &str) -> Result<Child, WorldError> {
    let f = std::fs::File::create(log).map_err(io("create log"))?;
    let f2 = f.try_clone().map_err(io("clone log"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(f))
        .stderr(Stdio::from(f2))
        .spawn()
        .map_err(|e| WorldError::Tool {
            tool: tool.into(),
            detail: format!("cannot start {tool} (is it installed and on PATH?): {e}"),
        })
}
