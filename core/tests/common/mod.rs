//! A small DNS internet of real servers for the verification tests: knot for
//! the root, `com`, the parent zone `example.com`, the child zone
//! `api.example.com` and a few servers that host other zones (lame, old);
//! unbound as the recursive resolver.
//!
//! Each [`Net`] takes a 127.N.0.0/16 range (N in 200..=249) from the world
//! crate's allocator (`r53world::NetLock`, a flock in `$TMPDIR/r53world-locks`
//! that every world takes its range from too), so tests in parallel never
//! collide. Everything listens on port 53 and must run inside
//! a network namespace with only loopback (see the tests' module docs).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use route53delegation::dns::{AddressResolver, DnsClient, RecordType};
use route53delegation::verify::{VerifyOptions, VerifyRequest};
use route53delegation::{DomainName, NsSet};

/// Host names of the servers, and their last address octets.
pub const ROOT: u8 = 1;
pub const COM: u8 = 2;
pub const PARENT1: u8 = 11;
pub const PARENT2: u8 = 12;
pub const CHILD1: u8 = 21;
pub const CHILD2: u8 = 22;
pub const LAME: u8 = 23;
pub const OLD1: u8 = 31;
pub const OLD2: u8 = 32;
pub const OTHER_PARENT: u8 = 41;
pub const SILENT: u8 = 99;
pub const RESOLVER: u8 = 53;

pub const NAME: &str = "api.example.com";
pub const PARENT_ZONE: &str = "example.com";
pub const PARENT_NS: [&str; 2] = ["ns1.parent-dns.com", "ns2.parent-dns.com"];
pub const CHILD_NS: [&str; 2] = ["ns-1.awsdns-01.com", "ns-2.awsdns-02.com"];
pub const LAME_NS: &str = "ns-3.awsdns-03.com";
pub const OLD_NS: [&str; 2] = ["ns-7.awsdns-07.com", "ns-8.awsdns-08.com"];
pub const OTHER_PARENT_NS: &str = "ns.other-parent.com";
pub const SILENT_NS: &str = "ns-5.awsdns-05.com";

/// Negative-caching TTL of the parent zone (SOA TTL and minimum).
pub const PARENT_NEG_TTL: u32 = 300;

/// What the parent and child zones hold.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// NS targets for `api` in the zone on parent server 1; empty: no record.
    pub parent1_api_ns: Vec<String>,
    /// Same for parent server 2.
    pub parent2_api_ns: Vec<String>,
    /// The child zone's apex NS set.
    pub child_apex_ns: Vec<String>,
}

impl Scenario {
    /// A correct delegation to ns-1 and ns-2.
    pub fn good() -> Self {
        let ns: Vec<String> = CHILD_NS.iter().map(|s| s.to_string()).collect();
        Scenario {
            parent1_api_ns: ns.clone(),
            parent2_api_ns: ns.clone(),
            child_apex_ns: ns,
        }
    }

    /// The parent refers `api` to `ns` on both parent servers.
    pub fn parent_refers_to(mut self, ns: &[&str]) -> Self {
        self.parent1_api_ns = ns.iter().map(|s| s.to_string()).collect();
        self.parent2_api_ns = self.parent1_api_ns.clone();
        self
    }
}

/// A running server process, killed on drop.
struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A knot instance: its config file and the zones it holds.
struct Knot {
    conf: PathBuf,
    dir: PathBuf,
}

/// A running DNS internet.
pub struct Net {
    pub n: u8,
    pub dir: PathBuf,
    procs: Vec<Proc>,
    knots: Vec<(String, Knot)>,
    serial: u32,
    // Declared last: released after the servers are gone.
    _lock: r53world::NetLock,
}

/// Fails with a clear message unless only loopback is up: the DNS tests bind
/// port 53 on 127.N addresses and must not reach anything else.
pub fn require_loopback_only_namespace() {
    // /proc/self/net is per network namespace (/sys/class/net is not
    // remounted by unshare).
    let dev = std::fs::read_to_string("/proc/self/net/dev").expect("reading /proc/self/net/dev");
    let ifaces: Vec<String> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(|i| i.trim().to_string())
        .collect();
    let others: Vec<&String> = ifaces.iter().filter(|i| i.as_str() != "lo").collect();
    assert!(
        others.is_empty(),
        "the DNS tests must run in a network namespace with only loopback (found interfaces {others:?}); run: \
         cargo test -p route53delegation --no-run && unshare --net --mount --propagation private sh -c \
         'ip link set lo up; c=$(mktemp); echo \"nameserver 127.0.10.53\" > $c; mount --bind $c /etc/resolv.conf; \
         cargo test -p route53delegation --offline --test verify_dns'"
    );
}

fn require_tool(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is required for the DNS tests; install the Debian package {package}"
    );
}

impl Net {
    /// Starts root, com, two parent servers, two child servers, a lame
    /// server, two old servers, another parent and unbound.
    pub async fn start(s: &Scenario) -> Net {
        require_loopback_only_namespace();
        require_tool("/usr/sbin/knotd", "knot");
        require_tool("/usr/sbin/knotc", "knot");
        require_tool("/usr/sbin/unbound", "unbound");
        // The world crate's allocator: the same locks as every world, in a
        // range of their own.
        let lock = r53world::NetLock::acquire(200..=249, Duration::from_secs(60))
            .expect("a free 127.N.0.0/16 range for the DNS tests");
        let n = lock.net();
        let dir = std::env::temp_dir().join(format!("r53d-verify-{n}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the test directory");
        let mut net = Net {
            n,
            dir,
            procs: Vec::new(),
            knots: Vec::new(),
            serial: 1,
            _lock: lock,
        };
        net.write_all_zones(s);
        net.start_knot("root", &[ROOT], &[(".", "root.zone")]);
        net.start_knot("com", &[COM], &[("com", "com.zone")]);
        net.start_knot("parent1", &[PARENT1], &[(PARENT_ZONE, "example.com.zone")]);
        net.start_knot("parent2", &[PARENT2], &[(PARENT_ZONE, "example.com.zone")]);
        net.start_knot(
            "child",
            &[CHILD1, CHILD2],
            &[(NAME, "api.example.com.zone")],
        );
        net.start_knot("lame", &[LAME], &[("lame.test", "lame.test.zone")]);
        net.start_knot("old", &[OLD1, OLD2], &[("old.test", "old.test.zone")]);
        net.start_knot(
            "other",
            &[OTHER_PARENT],
            &[(PARENT_ZONE, "example.com.zone")],
        );
        net.start_unbound();
        net.wait_ready().await;
        net
    }

    /// 127.N.0.`last`.
    pub fn ip(&self, last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(127, self.n, 0, last))
    }

    /// 127.N.0.`last`:53.
    pub fn addr(&self, last: u8) -> SocketAddr {
        SocketAddr::new(self.ip(last), 53)
    }

    /// The recursive resolver.
    pub fn resolver_addr(&self) -> SocketAddr {
        self.addr(RESOLVER)
    }

    /// An address resolver asking this net's unbound.
    pub fn address_resolver(&self) -> AddressResolver {
        AddressResolver::with_client(vec![self.resolver_addr()], fast_client())
    }

    fn knot_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write_all_zones(&mut self, s: &Scenario) {
        let n = self.n;
        let a = |last: u8| format!("127.{n}.0.{last}");
        let root = format!(
            "$TTL 3600\n\
             . SOA a.root-servers.net. hostmaster. 1 3600 600 86400 3600\n\
             . NS a.root-servers.net.\n\
             a.root-servers.net. A {}\n\
             com. NS a.gtld.com.\n\
             a.gtld.com. A {}\n",
            a(ROOT),
            a(COM)
        );
        let com = format!(
            "$TTL 3600\n\
             @ SOA a.gtld.com. hostmaster.com. 1 3600 600 86400 60\n\
             @ NS a.gtld.com.\n\
             a.gtld.com. A {com}\n\
             example.com. NS ns1.parent-dns.com.\n\
             example.com. NS ns2.parent-dns.com.\n\
             ns1.parent-dns.com. A {p1}\n\
             ns2.parent-dns.com. A {p2}\n\
             ns-1.awsdns-01.com. A {c1}\n\
             ns-2.awsdns-02.com. A {c2}\n\
             ns-3.awsdns-03.com. A {lame}\n\
             ns-5.awsdns-05.com. A {silent}\n\
             ns-7.awsdns-07.com. A {o1}\n\
             ns-8.awsdns-08.com. A {o2}\n\
             ns.other-parent.com. A {other}\n",
            com = a(COM),
            p1 = a(PARENT1),
            p2 = a(PARENT2),
            c1 = a(CHILD1),
            c2 = a(CHILD2),
            lame = a(LAME),
            silent = a(SILENT),
            o1 = a(OLD1),
            o2 = a(OLD2),
            other = a(OTHER_PARENT),
        );
        for (knot, file, text) in [
            ("root", "root.zone", root),
            ("com", "com.zone", com),
            (
                "child",
                "api.example.com.zone",
                child_zone(&s.child_apex_ns),
            ),
            ("lame", "lame.test.zone", simple_zone("lame.test", LAME_NS)),
            ("old", "old.test.zone", simple_zone("old.test", OLD_NS[0])),
            (
                "other",
                "example.com.zone",
                parent_zone(1, &[OTHER_PARENT_NS], &s.parent1_api_ns),
            ),
        ] {
            self.write_zone(knot, file, &text);
        }
        self.write_parent_zones(s);
    }

    fn write_parent_zones(&mut self, s: &Scenario) {
        let serial = self.serial;
        self.write_zone(
            "parent1",
            "example.com.zone",
            &parent_zone(serial, &PARENT_NS, &s.parent1_api_ns),
        );
        self.write_zone(
            "parent2",
            "example.com.zone",
            &parent_zone(serial, &PARENT_NS, &s.parent2_api_ns),
        );
    }

    fn write_zone(&self, knot: &str, file: &str, text: &str) {
        let d = self.knot_dir(knot);
        std::fs::create_dir_all(d.join("db")).expect("creating knot directory");
        std::fs::write(d.join(file), text).expect("writing zone file");
    }

    fn start_knot(&mut self, name: &str, lasts: &[u8], zones: &[(&str, &str)]) {
        let d = self.knot_dir(name);
        let listen: Vec<String> = lasts
            .iter()
            .map(|l| format!("\"{}@53\"", self.ip(*l)))
            .collect();
        let zone_lines: String = zones
            .iter()
            .map(|(z, f)| format!("  - domain: \"{z}\"\n    file: \"{f}\"\n"))
            .collect();
        let conf = format!(
            "server:\n  rundir: \"{d}\"\n  pidfile: \"{d}/knot.pid\"\n  listen: [ {listen} ]\n  \
             udp-workers: 1\n  tcp-workers: 1\n  background-workers: 1\n\
             log:\n  - target: stderr\n    any: warning\n\
             database:\n  storage: \"{d}/db\"\n\
             control:\n  listen: \"{d}/knot.sock\"\n\
             template:\n  - id: default\n    storage: \"{d}\"\n    zonefile-sync: -1\n    \
             zonefile-load: whole\n    journal-content: none\n    semantic-checks: off\n\
             zone:\n{zone_lines}",
            d = d.display(),
            listen = listen.join(", "),
        );
        let conf_path = d.join("knot.conf");
        std::fs::write(&conf_path, conf).expect("writing knot.conf");
        let log = std::fs::File::create(d.join("knot.log")).expect("knot log");
        let child = Command::new("/usr/sbin/knotd")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting knotd");
        self.procs.push(Proc {
            name: format!("knot {name}"),
            child,
        });
        self.knots.push((
            name.to_string(),
            Knot {
                conf: conf_path,
                dir: d,
            },
        ));
    }

    fn start_unbound(&mut self) {
        let d = self.dir.join("unbound");
        std::fs::create_dir_all(&d).expect("unbound dir");
        let hints = format!(
            ". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A {}\n",
            self.ip(ROOT)
        );
        std::fs::write(d.join("root.hints"), hints).expect("root hints");
        let conf = format!(
            "server:\n  interface: {ip}\n  port: 53\n  do-ip6: no\n  do-not-query-localhost: no\n  \
             module-config: \"iterator\"\n  root-hints: \"{d}/root.hints\"\n  username: \"\"\n  \
             chroot: \"\"\n  directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n  use-syslog: no\n  \
             logfile: \"\"\n  verbosity: 0\n  num-threads: 1\n  so-reuseport: no\n  \
             access-control: 127.0.0.0/8 allow\n  qname-minimisation: yes\n  \
             harden-referral-path: no\n  target-fetch-policy: \"0 0 0 0 0\"\n  \
             infra-host-ttl: 5\n\
             remote-control:\n  control-enable: no\n",
            ip = self.ip(RESOLVER),
            d = d.display(),
        );
        let conf_path = d.join("unbound.conf");
        std::fs::write(&conf_path, conf).expect("unbound.conf");
        let log = std::fs::File::create(d.join("unbound.log")).expect("unbound log");
        let child = Command::new("/usr/sbin/unbound")
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("starting unbound");
        self.procs.push(Proc {
            name: "unbound".into(),
            child,
        });
    }

    async fn wait_ready(&mut self) {
        let client = DnsClient::new(Duration::from_millis(100), 0);
        let probes: Vec<(u8, &str, bool)> = vec![
            (ROOT, "a.root-servers.net", false),
            (COM, "a.gtld.com", false),
            (PARENT1, PARENT_ZONE, false),
            (PARENT2, PARENT_ZONE, false),
            (CHILD1, NAME, false),
            (CHILD2, NAME, false),
            (LAME, "lame.test", false),
            (OLD1, "old.test", false),
            (OTHER_PARENT, PARENT_ZONE, false),
            (RESOLVER, "a.gtld.com", true),
        ];
        let deadline = Instant::now() + Duration::from_secs(10);
        for (last, name, rd) in probes {
            let name = DomainName::parse(name).expect("probe name");
            loop {
                for p in &mut self.procs {
                    if let Ok(Some(status)) = p.child.try_wait() {
                        panic!(
                            "{} exited early ({status}); see the logs under {}",
                            p.name,
                            self.dir.display()
                        );
                    }
                }
                if let Ok(r) = client
                    .query(self.addr(last), &name, RecordType::SOA, rd)
                    .await
                {
                    if !rd || r.rcode != "SERVFAIL" {
                        break;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "server 127.{}.0.{last} did not answer within 10s; see the logs under {}",
                    self.n,
                    self.dir.display()
                );
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }
    }

    /// Rewrites the parent zones for `s` (new serial) and reloads both
    /// parent servers.
    pub fn reload_parent(&mut self, s: &Scenario) {
        self.serial += 1;
        self.write_parent_zones(s);
        for name in ["parent1", "parent2"] {
            let (_, knot) = self
                .knots
                .iter()
                .find(|(n, _)| n == name)
                .expect("parent knot");
            let out = Command::new("/usr/sbin/knotc")
                .arg("-c")
                .arg(&knot.conf)
                .args(["zone-reload", PARENT_ZONE])
                .output()
                .expect("running knotc");
            assert!(
                out.status.success(),
                "knotc zone-reload in {} failed: {}",
                knot.dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.procs.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn parent_zone(serial: u32, own_ns: &[&str], api_ns: &[String]) -> String {
    let mut z = format!(
        "$TTL {ttl}\n@ SOA {mname}. hostmaster.example.com. {serial} 3600 600 86400 {ttl}\n",
        ttl = PARENT_NEG_TTL,
        mname = own_ns[0]
    );
    for ns in own_ns {
        z.push_str(&format!("@ NS {ns}.\n"));
    }
    z.push_str("www A 192.0.2.1\n");
    for ns in api_ns {
        z.push_str(&format!("api NS {ns}.\n"));
    }
    z
}

fn child_zone(apex_ns: &[String]) -> String {
    let mut z = format!(
        "$TTL 60\n@ SOA {}. hostmaster.api.example.com. 1 3600 600 86400 60\n",
        apex_ns
            .first()
            .map(String::as_str)
            .unwrap_or("ns-1.awsdns-01.com")
    );
    for ns in apex_ns {
        z.push_str(&format!("@ NS {ns}.\n"));
    }
    z.push_str("www A 192.0.2.2\n");
    // More than the 1232-octet EDNS payload: answered over TCP only.
    for i in 0..12 {
        z.push_str(&format!("big TXT \"{i:02}{}\"\n", "x".repeat(200)));
    }
    z
}

fn simple_zone(zone: &str, ns: &str) -> String {
    format!("$TTL 60\n@ SOA {ns}. hostmaster.{zone}. 1 3600 600 86400 60\n@ NS {ns}.\nwww A 192.0.2.3\n")
}

/// A client with short timeouts for tests.
pub fn fast_client() -> DnsClient {
    DnsClient::new(Duration::from_millis(400), 1)
}

/// Options with short deadlines for tests.
pub fn fast_options(recursive: Option<Vec<SocketAddr>>, require_recursive: bool) -> VerifyOptions {
    VerifyOptions {
        query: fast_client(),
        deadline: Duration::from_secs(3),
        poll_interval: Duration::from_millis(100),
        recursive,
        require_recursive,
    }
}

pub fn ns(values: &[&str]) -> NsSet {
    NsSet::parse(values).expect("NS set")
}

pub fn name(s: &str) -> DomainName {
    DomainName::parse(s).expect("name")
}

/// The request for `api.example.com` under `example.com` with the usual parent
/// name servers and `child` as the wanted delegation.
pub fn request(child: &[&str]) -> VerifyRequest {
    VerifyRequest {
        name: name(NAME),
        parent_zone: name(PARENT_ZONE),
        parent_name_servers: ns(&PARENT_NS),
        child_name_servers: ns(child),
    }
}
