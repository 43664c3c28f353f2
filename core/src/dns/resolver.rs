//! Name-server addresses through recursive resolvers, with hickory-resolver.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use hickory_net::runtime::TokioRuntimeProvider;
use hickory_net::{DnsError as HickoryDnsError, NetError, NoRecords};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::Name;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts, ServerOrderingStrategy,
};
use hickory_resolver::TokioResolver;

use super::{DnsClient, DnsError, Rcode, RecordType, DNS_PORT, EDNS_PAYLOAD};
use crate::name::DomainName;

/// Resolves host names to addresses through recursive resolvers, with a cache
/// that lasts as long as the resolver (each entry for its TTL).
///
/// The resolvers are asked in the order given, one at a time; an `NXDOMAIN` or
/// an answer without addresses ends the lookup, an error code or no reply
/// moves on to the next. A host's IPv4 addresses are used when it has any,
/// its IPv6 addresses otherwise (so a dual-stack name server costs no extra
/// question and an IPv4-only network sees no IPv6 server). `/etc/hosts` is not
/// read.
pub struct AddressResolver {
    resolvers: Vec<SocketAddr>,
    client: DnsClient,
    hints: Mutex<HashMap<DomainName, Vec<IpAddr>>>,
    /// Built on first use, inside the runtime.
    resolver: OnceLock<TokioResolver>,
}

impl fmt::Debug for AddressResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressResolver")
            .field("resolvers", &self.resolvers)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl AddressResolver {
    /// A resolver asking the given recursive resolvers, in order.
    pub fn new(resolvers: Vec<SocketAddr>) -> Self {
        Self::with_client(resolvers, DnsClient::default())
    }

    /// Like [`new`](Self::new) with a specific client (timeouts, retries).
    pub fn with_client(resolvers: Vec<SocketAddr>, client: DnsClient) -> Self {
        AddressResolver {
            resolvers,
            client,
            hints: Mutex::new(HashMap::new()),
            resolver: OnceLock::new(),
        }
    }

    /// The system's resolvers, from `/etc/resolv.conf`, on port 53.
    pub fn from_system() -> Result<Self, DnsError> {
        Self::from_resolv_conf(Path::new("/etc/resolv.conf"))
    }

    /// The resolvers named in a resolv.conf file, on port 53.
    pub fn from_resolv_conf(path: &Path) -> Result<Self, DnsError> {
        let config_error = |reason: String| DnsError::ResolverConfig {
            path: path.display().to_string(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| config_error(e.to_string()))?;
        let conf = resolv_conf::Config::parse(&bytes).map_err(|e| config_error(e.to_string()))?;
        let resolvers: Vec<SocketAddr> = conf
            .nameservers
            .iter()
            .map(|ip| SocketAddr::new(IpAddr::from(ip), DNS_PORT))
            .collect();
        if resolvers.is_empty() {
            return Err(DnsError::NoResolvers);
        }
        Ok(Self::new(resolvers))
    }

    /// The recursive resolvers asked, in order.
    pub fn resolvers(&self) -> &[SocketAddr] {
        &self.resolvers
    }

    /// The client whose timeout and retries lookups use.
    pub fn client(&self) -> &DnsClient {
        &self.client
    }

    /// Records addresses for `host` as if looked up (static hints, kept for
    /// the resolver's life).
    pub fn insert(&self, host: DomainName, addrs: Vec<IpAddr>) {
        self.lock_hints().insert(host, addrs);
    }

    /// The addresses of `host`: IPv4, or IPv6 when it has no IPv4 address,
    /// following CNAMEs. Answers are cached for their TTL.
    pub async fn lookup(&self, host: &DomainName) -> Result<Vec<IpAddr>, DnsError> {
        if let Some(hit) = self.lock_hints().get(host) {
            return Ok(hit.clone());
        }
        if self.resolvers.is_empty() {
            return Err(DnsError::NoResolvers);
        }
        let name = Name::from_ascii(host.fqdn()).map_err(|e| DnsError::NoAddress {
            host: host.clone(),
            reason: e.to_string(),
        })?;
        match self.resolver().lookup_ip(name).await {
            Ok(found) => {
                let addrs: Vec<IpAddr> = found.iter().collect();
                if addrs.is_empty() {
                    return Err(self.no_address(host, ResponseCode::NoError));
                }
                Ok(addrs)
            }
            Err(e) => Err(self.lookup_error(host, e)),
        }
    }

    fn resolver(&self) -> &TokioResolver {
        self.resolver.get_or_init(|| {
            let servers = self
                .resolvers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            let mut opts = ResolverOpts::default();
            opts.timeout = self.client.timeout;
            opts.attempts = usize::try_from(self.client.retries).unwrap_or(usize::MAX);
            opts.ip_strategy = LookupIpStrategy::Ipv4thenIpv6;
            opts.use_hosts_file = ResolveHosts::Never;
            opts.num_concurrent_reqs = 1;
            opts.server_ordering_strategy = ServerOrderingStrategy::UserProvidedOrder;
            opts.edns_payload_len = EDNS_PAYLOAD;
            opts.try_tcp_on_error = true;
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
            .with_options(opts)
            .build()
            .expect("a resolver configuration without TLS or DNSSEC always builds")
        })
    }

    /// Which resolvers answered, for messages: `resolver 127.0.10.53:53`.
    fn who(&self) -> String {
        match self.resolvers.as_slice() {
            [one] => format!("resolver {one}"),
            many => format!(
                "resolvers {}",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn no_address(&self, host: &DomainName, code: ResponseCode) -> DnsError {
        let reason = if code == ResponseCode::NoError {
            format!("{} found no A or AAAA record", self.who())
        } else {
            format!("{} answered {}", self.who(), Rcode(code))
        };
        DnsError::NoAddress {
            host: host.clone(),
            reason,
        }
    }

    /// `NoAddress` for answers that say the host has no address (or errors
    /// from every resolver); a timeout or transport error otherwise.
    fn lookup_error(&self, host: &DomainName, e: NetError) -> DnsError {
        match e {
            NetError::Dns(HickoryDnsError::NoRecordsFound(NoRecords { response_code, .. })) => {
                self.no_address(host, response_code)
            }
            NetError::Dns(HickoryDnsError::ResponseCode(code)) => self.no_address(host, code),
            NetError::Timeout => DnsError::Timeout {
                server: *self.resolvers.last().expect("checked non-empty"),
                name: host.to_string(),
                rtype: RecordType::A,
                after: self.client.timeout,
            },
            source => DnsError::Lookup {
                host: host.clone(),
                source,
            },
        }
    }

    fn lock_hints(&self) -> std::sync::MutexGuard<'_, HashMap<DomainName, Vec<IpAddr>>> {
        self.hints
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
