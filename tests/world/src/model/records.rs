//! Record sets as the API carries them, and the checks Route 53 makes on
//! their values (normalized for comparison, validated per type).

use std::collections::BTreeMap;
use std::fmt;

use hickory_proto::rr::{RData, RecordType};

use super::names::normalize_name;

/// One resource record set (values as the API carries them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RRSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: RrType,
    pub ttl: u32,
    pub values: Vec<String>,
}

pub type Records = BTreeMap<(String, RrType), RRSet>;

/// A record type the world's Route 53 carries (Route 53's `RRType`
/// enumeration). Shown, serialized and ordered as its name (`NS`), as the
/// API carries it and as Route 53 sorts a name's record sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RrType {
    A,
    Aaaa,
    Caa,
    Cname,
    Ds,
    Mx,
    Naptr,
    Ns,
    Ptr,
    Soa,
    Spf,
    Srv,
    Txt,
}

impl RrType {
    /// Every type, in the API's order.
    pub const ALL: [RrType; 13] = [
        RrType::A,
        RrType::Aaaa,
        RrType::Caa,
        RrType::Cname,
        RrType::Ds,
        RrType::Mx,
        RrType::Naptr,
        RrType::Ns,
        RrType::Ptr,
        RrType::Soa,
        RrType::Spf,
        RrType::Srv,
        RrType::Txt,
    ];

    /// The name the API and DNS give it.
    pub fn as_str(self) -> &'static str {
        match self {
            RrType::A => "A",
            RrType::Aaaa => "AAAA",
            RrType::Caa => "CAA",
            RrType::Cname => "CNAME",
            RrType::Ds => "DS",
            RrType::Mx => "MX",
            RrType::Naptr => "NAPTR",
            RrType::Ns => "NS",
            RrType::Ptr => "PTR",
            RrType::Soa => "SOA",
            RrType::Spf => "SPF",
            RrType::Srv => "SRV",
            RrType::Txt => "TXT",
        }
    }

    /// The DNS type its records are served as (SPF as TXT, as Route 53
    /// does).
    pub fn dns_type(self) -> RecordType {
        match self {
            RrType::A => RecordType::A,
            RrType::Aaaa => RecordType::AAAA,
            RrType::Caa => RecordType::CAA,
            RrType::Cname => RecordType::CNAME,
            RrType::Ds => RecordType::DS,
            RrType::Mx => RecordType::MX,
            RrType::Naptr => RecordType::NAPTR,
            RrType::Ns => RecordType::NS,
            RrType::Ptr => RecordType::PTR,
            RrType::Soa => RecordType::SOA,
            RrType::Spf | RrType::Txt => RecordType::TXT,
            RrType::Srv => RecordType::SRV,
        }
    }

    /// The record sets of this type answer a DNS question of `qtype`
    /// (SPF sets answer no question: Route 53 serves them as TXT only to
    /// SPF questions, which hickory does not name).
    pub fn from_dns(qtype: RecordType) -> Option<RrType> {
        RrType::ALL
            .into_iter()
            .find(|t| *t != RrType::Spf && t.dns_type() == qtype)
    }
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Ord for RrType {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for RrType {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A type Route 53 does not carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown type {0}")]
pub struct UnknownRrType(pub String);

impl std::str::FromStr for RrType {
    type Err = UnknownRrType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RrType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownRrType(s.to_string()))
    }
}

impl TryFrom<String> for RrType {
    type Error = UnknownRrType;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<RrType> for String {
    fn from(t: RrType) -> String {
        t.as_str().to_string()
    }
}

fn norm_value(rtype: RrType, v: &str) -> String {
    match rtype {
        RrType::Ns | RrType::Cname | RrType::Ptr => normalize_name(v),
        _ => v.trim().to_string(),
    }
}

pub(super) fn sorted_norm(rtype: RrType, vals: &[String]) -> Vec<String> {
    let mut v: Vec<String> = vals.iter().map(|x| norm_value(rtype, x)).collect();
    v.sort();
    v
}

pub(super) fn validate_value(rtype: RrType, value: &str) -> Result<(), String> {
    let ty = rtype.dns_type();
    if matches!(
        rtype,
        RrType::Ns | RrType::Cname | RrType::Ptr | RrType::Mx | RrType::Srv
    ) {
        let host = value.split_whitespace().last().unwrap_or("");
        let ok = !host.is_empty()
            && host.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*')
            });
        if !ok {
            return Err(format!(
                "Invalid Resource Record: 'FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '{value}''"
            ));
        }
    }
    match RData::try_from_str(ty, value) {
        Ok(_) => Ok(()),
        Err(_) => Err(match rtype {
            RrType::A => format!(
                "Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{value}''"
            ),
            RrType::Aaaa => format!(
                "Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{value}''"
            ),
            _ => format!(
                "Invalid Resource Record: 'FATAL problem: InvalidRDATA (Value is not valid for type {rtype}) encountered with '{value}''"
            ),
        }),
    }
}
