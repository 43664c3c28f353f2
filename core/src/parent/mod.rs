//! The three kinds of parent zone and how each is read and written: a
//! hosted zone in Route 53 ([`route53`]: lookups, a shared listing and
//! coalesced compare-and-swap writes), a zone on any DNS server that
//! accepts RFC 2136 dynamic updates signed with TSIG ([`dns_update`]), and
//! a zone at a registrar that only a person can change ([`registrar`]).
//!
//! A [`ParentKind`] on the link's `ParentSpec` says which. Nothing here
//! knows the engine: the engine (`crate::delegation`) drives these, never
//! the other way round, so the modules form no cycle.

pub mod dns_update;
pub mod registrar;
pub mod route53;

use std::net::SocketAddr;

use crate::name::DomainName;

/// What kind of parent holds the delegation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ParentKind {
    /// A Route 53 hosted zone (`ParentSpec::zone` and `account`).
    #[default]
    Route53,
    /// A zone on a DNS server that accepts RFC 2136 updates signed with TSIG.
    DnsUpdate(DnsUpdateParent),
    /// A zone at a registrar: the user enters the NS set by hand.
    Manual(ManualParent),
}

impl ParentKind {
    /// The identity of the parent zone kept in `LinkState::parent_zone_id`
    /// for the kinds without a hosted zone ID: `dns-update:example.net`,
    /// `manual:example.org`. `None` for Route 53.
    pub fn pseudo_zone_id(&self) -> Option<String> {
        match self {
            ParentKind::Route53 => None,
            ParentKind::DnsUpdate(p) => Some(format!("{DNS_UPDATE_PREFIX}{}", p.zone)),
            ParentKind::Manual(p) => Some(format!("{MANUAL_PREFIX}{}", p.zone)),
        }
    }

    /// The parent zone's name, for the kinds that name it directly.
    pub fn zone(&self) -> Option<&DomainName> {
        match self {
            ParentKind::Route53 => None,
            ParentKind::DnsUpdate(p) => Some(&p.zone),
            ParentKind::Manual(p) => Some(&p.zone),
        }
    }
}

/// Prefix of a dns_update parent's pseudo zone ID.
pub const DNS_UPDATE_PREFIX: &str = "dns-update:";
/// Prefix of a manual parent's pseudo zone ID.
pub const MANUAL_PREFIX: &str = "manual:";

/// A parent zone updated by RFC 2136 dynamic update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsUpdateParent {
    /// The primary server that accepts updates for the zone.
    pub server: SocketAddr,
    /// The parent zone.
    pub zone: DomainName,
    /// The TSIG key that signs every update.
    pub key: TsigKey,
}

/// A parent zone at a registrar (or any DNS nobody can change by API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualParent {
    /// The parent zone.
    pub zone: DomainName,
    /// Where the walk to the parent's servers starts: the root servers.
    pub roots: Vec<SocketAddr>,
    /// Destroy deletes a zone this link created even while the registrar
    /// still delegates to it (a dangling delegation is then left behind).
    pub destroy_while_delegated: bool,
}

/// A TSIG key (RFC 8945). The secret never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    /// The key's name, as the server knows it (`update-key`).
    pub name: String,
    /// The MAC algorithm.
    pub algorithm: TsigAlgorithm,
    /// The shared secret (decoded).
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The TSIG algorithms hickory can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsigAlgorithm {
    /// `hmac-sha256` (the default, and what most servers are set up with).
    #[default]
    HmacSha256,
    /// `hmac-sha384`.
    HmacSha384,
    /// `hmac-sha512`.
    HmacSha512,
}

impl TsigAlgorithm {
    /// Every supported algorithm, by name.
    pub const ALL: [(&'static str, TsigAlgorithm); 3] = [
        ("hmac-sha256", TsigAlgorithm::HmacSha256),
        ("hmac-sha384", TsigAlgorithm::HmacSha384),
        ("hmac-sha512", TsigAlgorithm::HmacSha512),
    ];

    /// Its name, as in BIND and Knot key files.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// Parses a name (case-insensitive, trailing dot allowed).
    pub fn parse(s: &str) -> Result<Self, String> {
        let n = s.trim().trim_end_matches('.').to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(name, _)| *name == n)
            .map(|(_, a)| *a)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a TSIG algorithm this provider can sign with; expected one of {}",
                    Self::ALL.map(|(n, _)| n).join(", ")
                )
            })
    }
}

impl TsigKey {
    /// A key from its configuration: the name, the algorithm's name and the
    /// base64 secret. Errors name what is wrong with which part.
    pub fn parse(name: &str, algorithm: &str, secret_base64: &str) -> Result<Self, TsigKeyError> {
        use base64::Engine as _;
        let name = name.trim().trim_end_matches('.').to_string();
        if name.is_empty()
            || hickory_proto::rr::Name::from_ascii(&name).is_err()
            || name.len() > 253
        {
            return Err(TsigKeyError::Name(format!(
                "{name:?} is not a key name; expected a DNS name such as update-key or tsig.example.net"
            )));
        }
        let algorithm = TsigAlgorithm::parse(algorithm).map_err(TsigKeyError::Algorithm)?;
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret_base64.trim())
            .map_err(|e| {
                TsigKeyError::Secret(format!(
                    "the secret is not base64 ({e}); expected the secret as in the server's key file, e.g. from `tsig-keygen` or `keymgr -t`"
                ))
            })?;
        if secret.is_empty() {
            return Err(TsigKeyError::Secret(
                "the secret is empty; expected the base64 secret from the server's key file".into(),
            ));
        }
        Ok(TsigKey {
            name,
            algorithm,
            secret,
        })
    }
}

/// What is wrong with a TSIG key's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TsigKeyError {
    /// The key name.
    #[error("{0}")]
    Name(String),
    /// The algorithm.
    #[error("{0}")]
    Algorithm(String),
    /// The secret.
    #[error("{0}")]
    Secret(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parsing_names_the_bad_part_and_never_prints_the_secret() {
        let k = TsigKey::parse("update-key", "HMAC-SHA256.", "c2VjcmV0").unwrap();
        assert_eq!(k.algorithm, TsigAlgorithm::HmacSha256);
        assert_eq!(k.secret, b"secret");
        assert!(!format!("{k:?}").contains("c2VjcmV0") && !format!("{k:?}").contains("secret\""));
        assert!(matches!(
            TsigKey::parse("k", "hmac-md5", "c2VjcmV0"),
            Err(TsigKeyError::Algorithm(m)) if m.contains("hmac-sha256, hmac-sha384, hmac-sha512")
        ));
        assert!(matches!(
            TsigKey::parse("k", "hmac-sha256", "not base64!"),
            Err(TsigKeyError::Secret(_))
        ));
        assert!(matches!(
            TsigKey::parse("", "hmac-sha256", "c2VjcmV0"),
            Err(TsigKeyError::Name(_))
        ));
    }
}
