//! Record sets as the API carries them, and the checks Route 53 makes on
//! their values (normalized for comparison, validated per type).

use std::collections::BTreeMap;

use hickory_proto::rr::{RData, RecordType};

use super::names::normalize_name;

/// One resource record set (values as the API carries them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RRSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    pub ttl: u32,
    pub values: Vec<String>,
}

pub type Records = BTreeMap<(String, String), RRSet>;

pub(super) const KNOWN_TYPES: [&str; 12] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV",
];

fn norm_value(rtype: &str, v: &str) -> String {
    match rtype {
        "NS" | "CNAME" | "PTR" => normalize_name(v),
        _ => v.trim().to_string(),
    }
}

pub(super) fn sorted_norm(rtype: &str, vals: &[String]) -> Vec<String> {
    let mut v: Vec<String> = vals.iter().map(|x| norm_value(rtype, x)).collect();
    v.sort();
    v
}

pub(super) fn validate_value(rtype: &str, value: &str) -> Result<(), String> {
    let ty = match rtype {
        "SPF" => RecordType::TXT,
        "TXT" => RecordType::TXT,
        other => other
            .parse::<RecordType>()
            .map_err(|_| format!("unknown type {other}"))?,
    };
    if matches!(rtype, "NS" | "CNAME" | "PTR" | "MX" | "SRV") {
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
            "A" => format!(
                "Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{value}''"
            ),
            "AAAA" => format!(
                "Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '{value}''"
            ),
            _ => format!(
                "Invalid Resource Record: 'FATAL problem: InvalidRDATA (Value is not valid for type {rtype}) encountered with '{value}''"
            ),
        }),
    }
}
