//! Sets of name servers, compared the way DNS compares them.
//!
//! An [`NsSet`] holds canonical [`DomainName`]s in a sorted set, so letter case,
//! trailing dots and order never make two sets differ.

use std::collections::BTreeSet;
use std::fmt;

use crate::name::{DomainName, NameError};

/// A set of name-server host names.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsSet(BTreeSet<DomainName>);

/// How one NS set differs from another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsDiff {
    /// In `self` but not in the other set.
    pub only_here: NsSet,
    /// In the other set but not in `self`.
    pub only_there: NsSet,
}

impl NsSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses host names as Route 53 or DNS gives them.
    pub fn parse<I, S>(values: I) -> Result<Self, NameError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        values
            .into_iter()
            .map(|v| DomainName::parse(v.as_ref()))
            .collect::<Result<BTreeSet<_>, _>>()
            .map(NsSet)
    }

    /// Adds a name server.
    pub fn insert(&mut self, ns: DomainName) {
        self.0.insert(ns);
    }

    /// Number of servers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the set holds no server.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `ns` is in the set.
    pub fn contains(&self, ns: &DomainName) -> bool {
        self.0.contains(ns)
    }

    /// The servers in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = &DomainName> {
        self.0.iter()
    }

    /// The host names without trailing dots, in canonical order.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|n| n.as_str().to_string()).collect()
    }

    /// The host names with trailing dots, as Route 53 record values.
    pub fn to_fqdns(&self) -> Vec<String> {
        self.0.iter().map(DomainName::fqdn).collect()
    }

    /// What differs between `self` and `other`; `None` when they are equal.
    pub fn diff(&self, other: &NsSet) -> Option<NsDiff> {
        if self == other {
            return None;
        }
        Some(NsDiff {
            only_here: NsSet(self.0.difference(&other.0).cloned().collect()),
            only_there: NsSet(other.0.difference(&self.0).cloned().collect()),
        })
    }

    /// True when the two sets share no server at all.
    pub fn is_disjoint(&self, other: &NsSet) -> bool {
        self.0.is_disjoint(&other.0)
    }
}

impl FromIterator<DomainName> for NsSet {
    fn from_iter<T: IntoIterator<Item = DomainName>>(iter: T) -> Self {
        NsSet(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a NsSet {
    type Item = &'a DomainName;
    type IntoIter = std::collections::btree_set::Iter<'a, DomainName>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for NsSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, ns) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{ns}")?;
        }
        f.write_str("]")
    }
}

impl fmt::Debug for NsSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NsSet{self}")
    }
}

impl serde::Serialize for NsSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_dots_and_order_do_not_matter() {
        let a = NsSet::parse(["ns-1.awsdns-01.com.", "NS-2.awsdns-02.NET"]).unwrap();
        let b = NsSet::parse(["ns-2.awsdns-02.net", "ns-1.awsdns-01.com"]).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.diff(&b), None);
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn diff_names_both_sides() {
        let a = NsSet::parse(["a.example.net", "b.example.net"]).unwrap();
        let b = NsSet::parse(["b.example.net", "c.example.net"]).unwrap();
        let d = a.diff(&b).unwrap();
        assert_eq!(d.only_here.to_strings(), vec!["a.example.net"]);
        assert_eq!(d.only_there.to_strings(), vec!["c.example.net"]);
        assert!(!a.is_disjoint(&b));
        assert_eq!(a.to_string(), "[a.example.net, b.example.net]");
        assert_eq!(a.to_fqdns(), vec!["a.example.net.", "b.example.net."]);
    }
}
