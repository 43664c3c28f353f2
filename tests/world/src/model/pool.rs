//! The Route 53-style name-server pool, and how a new zone gets its four
//! name servers from it.

use std::net::Ipv4Addr;

use rand::Rng;

use super::State;

/// Route 53-style name-server pool: 4 TLDs (com, net, org, co.uk) × n.
#[derive(Debug, Clone)]
pub struct Pool {
    /// `servers[tld][i] = (name with trailing dot, address)`.
    pub servers: Vec<Vec<(String, Ipv4Addr)>>,
}

pub const POOL_TLDS: [&str; 4] = ["com", "net", "org", "co.uk"];

impl Pool {
    pub fn new(net: u8, per_tld: u16) -> Pool {
        let servers = POOL_TLDS
            .iter()
            .enumerate()
            .map(|(t, tld)| {
                (1..=per_tld)
                    .map(|i| {
                        let num = (u32::from(i) * 17) % 512 + (t as u32) * 512;
                        let name = format!("ns-{num}.awsdns-{i:02}.{tld}.");
                        let addr = Ipv4Addr::new(127, net, 20 + t as u8, (i % 256) as u8);
                        (name, addr)
                    })
                    .collect()
            })
            .collect();
        Pool { servers }
    }
    pub fn all(&self) -> impl Iterator<Item = &(String, Ipv4Addr)> {
        self.servers.iter().flatten()
    }
}

impl State {
    pub(super) fn pick_ns(&mut self, pool: &Pool, name: &str) -> [usize; 4] {
        // Like Route 53, never give a zone a name server that also serves a
        // public zone above or below it: that server could not refer
        // resolvers from the parent to the child.
        let related = |other: &str| {
            other != name
                && (other.ends_with(&format!(".{name}")) || name.ends_with(&format!(".{other}")))
        };
        let busy: std::collections::HashSet<String> = self
            .accounts
            .values()
            .flat_map(|a| a.zones.values())
            .filter(|z| !z.private && related(&z.name))
            .flat_map(|z| z.ns.iter().cloned())
            .collect();
        let used = self.used_sets.entry(name.to_string()).or_default();
        let mut rng = rand::rng();
        let per = pool.servers[0].len();
        let mut pick = [0usize; 4];
        for _attempt in 0..200 {
            for (t, slot) in pick.iter_mut().enumerate() {
                // Prefer servers no other zone of this name ever used.
                let allowed: Vec<usize> = (0..per)
                    .filter(|i| !busy.contains(&pool.servers[t][*i].0))
                    .collect();
                let free: Vec<usize> = allowed
                    .iter()
                    .copied()
                    .filter(|i| !used.iter().any(|s| s[t] == *i))
                    .collect();
                *slot = if !free.is_empty() && _attempt <= 100 {
                    free[rng.random_range(0..free.len())]
                } else if !allowed.is_empty() {
                    allowed[rng.random_range(0..allowed.len())]
                } else {
                    rng.random_range(0..per)
                };
            }
            if !used.contains(&pick) {
                break;
            }
        }
        used.push(pick);
        pick
    }
}
