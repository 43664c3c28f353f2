//! Domain names as Route 53 and DNS see them.
//!
//! [`DomainName`] is the one name type every other module uses. Parsing accepts
//! a trailing dot or not, any letter case and internationalised names (converted
//! to punycode with the `idna` crate); the stored form is canonical: lower case
//! ASCII, no trailing dot. [`DomainName::fqdn`] adds the dot where Route 53 and
//! DNS want one.

use std::fmt;
use std::str::FromStr;

/// Longest name in presentation form, without the trailing dot (RFC 1035: 255
/// octets on the wire).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// A canonical DNS name: lower case, ASCII (punycode for IDNs), no trailing dot.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(String);

/// Why a string is not an acceptable domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Nothing but dots or white space.
    #[error("name is empty")]
    Empty,
    /// `a..b` or a leading dot.
    #[error("name {0:?} has an empty label")]
    EmptyLabel(String),
    /// A label longer than 63 octets.
    #[error("label {label:?} is {len} octets long; the maximum is 63")]
    LabelTooLong {
        /// The offending label.
        label: String,
        /// Its length in octets.
        len: usize,
    },
    /// A name longer than 253 octets.
    #[error("name is {0} octets long; the maximum is 253")]
    TooLong(usize),
    /// A character Route 53 does not accept in a hosted zone or delegation name.
    #[error("name {name:?} contains {ch:?}; only letters, digits, hyphens and dots are allowed")]
    InvalidCharacter {
        /// The name as given.
        name: String,
        /// The first character that is not allowed.
        ch: char,
    },
    /// A label that starts or ends with a hyphen.
    #[error("label {0:?} starts or ends with a hyphen")]
    Hyphen(String),
    /// A `*` label: wildcards cannot be delegated.
    #[error("name {0:?} is a wildcard; a wildcard cannot be delegated")]
    Wildcard(String),
    /// IDNA conversion failed.
    #[error("name {0:?} is not a valid internationalised domain name")]
    Idna(String),
    /// A single label such as `com`: a delegation needs at least two labels.
    #[error("name {0:?} has a single label")]
    SingleLabel(String),
}

impl DomainName {
    /// Parses a name in presentation form (`api.example.com` or
    /// `API.Example.COM.`), converting internationalised labels to punycode.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let trimmed = input.trim();
        let without_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        if without_dot.is_empty() {
            return Err(NameError::Empty);
        }
        if without_dot.split('.').any(|l| l == "*") {
            return Err(NameError::Wildcard(input.to_string()));
        }
        if without_dot.split('.').any(str::is_empty) {
            return Err(NameError::EmptyLabel(input.to_string()));
        }
        let ascii = if without_dot.is_ascii() {
            without_dot.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(without_dot).map_err(|_| NameError::Idna(input.to_string()))?
        };
        Self::check_ascii(input, &ascii)?;
        Ok(DomainName(ascii))
    }

    /// Parses a name that is to be delegated or hosted: like [`parse`](Self::parse)
    /// but also requires at least two labels.
    pub fn parse_subdomain(input: &str) -> Result<Self, NameError> {
        let name = Self::parse(input)?;
        if name.label_count() < 2 {
            return Err(NameError::SingleLabel(input.trim().to_string()));
        }
        Ok(name)
    }

    fn check_ascii(input: &str, ascii: &str) -> Result<(), NameError> {
        if ascii.len() > MAX_NAME_LEN {
            return Err(NameError::TooLong(ascii.len()));
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel(input.to_string()));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong {
                    label: label.to_string(),
                    len: label.len(),
                });
            }
            if let Some(ch) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(NameError::InvalidCharacter {
                    name: input.to_string(),
                    ch,
                });
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(NameError::Hyphen(label.to_string()));
            }
        }
        Ok(())
    }

    /// The canonical name without the trailing dot: `api.example.com`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fully qualified form with the trailing dot, as Route 53 returns
    /// names and as DNS presents them: `api.example.com.`.
    pub fn fqdn(&self) -> String {
        format!("{}.", self.0)
    }

    /// The labels from left to right.
    pub fn labels(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('.')
    }

    /// Number of labels.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The parent name (one label removed), if there is one.
    pub fn parent(&self) -> Option<DomainName> {
        self.0
            .split_once('.')
            .map(|(_, rest)| DomainName(rest.to_string()))
    }

    /// True when `self` lies strictly below `other` at a label boundary:
    /// `api.example.com` is under `example.com`, `badexample.com` is not, and
    /// no name is under itself.
    pub fn is_strict_subdomain_of(&self, other: &DomainName) -> bool {
        self.0.len() > other.0.len()
            && self.0.ends_with(&other.0)
            && self.0.as_bytes()[self.0.len() - other.0.len() - 1] == b'.'
    }

    /// True when `self` equals `other` or lies below it.
    pub fn is_at_or_under(&self, other: &DomainName) -> bool {
        self == other || self.is_strict_subdomain_of(other)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({})", self.0)
    }
}

impl FromStr for DomainName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DomainName::parse(s)
    }
}

impl serde::Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::{prop_assert, prop_assert_eq};

    fn n(s: &str) -> DomainName {
        DomainName::parse(s).unwrap()
    }

    #[test]
    fn trailing_dot_and_case_are_canonicalised() {
        assert_eq!(n("API.Example.COM."), n("api.example.com"));
        assert_eq!(n("api.example.com.").as_str(), "api.example.com");
        assert_eq!(n("api.example.com").fqdn(), "api.example.com.");
    }

    #[test]
    fn internationalised_names_become_punycode() {
        assert_eq!(
            n("bücher.example.com").as_str(),
            "xn--bcher-kva.example.com"
        );
        assert_eq!(n("BÜCHER.example.com"), n("xn--bcher-kva.example.com"));
    }

    #[test]
    fn subdomain_is_checked_at_label_boundaries() {
        let parent = n("example.com");
        assert!(n("api.example.com").is_strict_subdomain_of(&parent));
        assert!(n("a.b.example.com").is_strict_subdomain_of(&parent));
        assert!(!n("badexample.com").is_strict_subdomain_of(&parent));
        assert!(!n("example.com").is_strict_subdomain_of(&parent));
        assert!(n("example.com").is_at_or_under(&parent));
        assert!(!n("example.org").is_at_or_under(&parent));
    }

    #[test]
    fn bad_names_are_rejected_with_reasons() {
        assert_eq!(DomainName::parse(""), Err(NameError::Empty));
        assert_eq!(DomainName::parse("."), Err(NameError::Empty));
        assert!(matches!(
            DomainName::parse("a..example.com"),
            Err(NameError::EmptyLabel(_))
        ));
        assert!(matches!(
            DomainName::parse(".example.com"),
            Err(NameError::EmptyLabel(_))
        ));
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(matches!(
            DomainName::parse(&long_label),
            Err(NameError::LabelTooLong { len: 64, .. })
        ));
        let ok_label = format!("{}.example.com", "a".repeat(63));
        assert!(DomainName::parse(&ok_label).is_ok());
        let long_name = vec!["abcdefghi"; 26].join(".");
        assert!(matches!(
            DomainName::parse(&long_name),
            Err(NameError::TooLong(259))
        ));
        assert!(matches!(
            DomainName::parse("api example.com"),
            Err(NameError::InvalidCharacter { ch: ' ', .. })
        ));
        assert!(matches!(
            DomainName::parse("api!.example.com"),
            Err(NameError::InvalidCharacter { ch: '!', .. })
        ));
        assert!(matches!(
            DomainName::parse("*.example.com"),
            Err(NameError::Wildcard(_))
        ));
        assert!(matches!(
            DomainName::parse("-api.example.com"),
            Err(NameError::Hyphen(_))
        ));
        assert!(matches!(
            DomainName::parse_subdomain("com"),
            Err(NameError::SingleLabel(_))
        ));
    }

    #[test]
    fn parent_strips_one_label() {
        assert_eq!(n("a.b.example.com").parent(), Some(n("b.example.com")));
        assert_eq!(n("com").parent(), None);
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,300}") {
            let _ = DomainName::parse(&s);
        }

        #[test]
        fn parsed_names_are_canonical_and_reparse(s in "[a-zA-Z0-9.-]{1,80}") {
            if let Ok(name) = DomainName::parse(&s) {
                prop_assert_eq!(name.as_str(), name.as_str().to_ascii_lowercase());
                prop_assert!(!name.as_str().ends_with('.'));
                prop_assert_eq!(DomainName::parse(&name.fqdn()).unwrap(), name);
            }
        }
    }
}
