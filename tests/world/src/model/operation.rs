//! The operations the world serves, by name: every Route 53 and STS call is
//! counted, faulted and throttled under one of these, so a test that names
//! an operation the world does not serve does not compile.

use std::fmt;
use std::str::FromStr;

/// One AWS API operation the world answers (or the two catch-alls for a
/// request it does not recognise, counted like any other call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    // Route 53 (REST-XML, 2013-04-01).
    CreateHostedZone,
    ListHostedZones,
    ListHostedZonesByName,
    GetHostedZoneCount,
    GetHostedZone,
    UpdateHostedZoneComment,
    DeleteHostedZone,
    ChangeResourceRecordSets,
    ListResourceRecordSets,
    GetChange,
    ListTagsForResource,
    ChangeTagsForResource,
    /// A Route 53 method and path the world does not serve (answered
    /// `InvalidAction`); its wire name is `Unknown`.
    UnknownRoute53,
    // STS (query API, 2011-06-15).
    AssumeRole,
    GetCallerIdentity,
    /// An STS `Action` the world does not serve (answered `InvalidAction`).
    UnknownSts,
}

/// The service an [`Operation`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Route53,
    Sts,
}

impl Operation {
    /// Every operation, Route 53's first.
    pub const ALL: [Operation; 16] = [
        Operation::CreateHostedZone,
        Operation::ListHostedZones,
        Operation::ListHostedZonesByName,
        Operation::GetHostedZoneCount,
        Operation::GetHostedZone,
        Operation::UpdateHostedZoneComment,
        Operation::DeleteHostedZone,
        Operation::ChangeResourceRecordSets,
        Operation::ListResourceRecordSets,
        Operation::GetChange,
        Operation::ListTagsForResource,
        Operation::ChangeTagsForResource,
        Operation::UnknownRoute53,
        Operation::AssumeRole,
        Operation::GetCallerIdentity,
        Operation::UnknownSts,
    ];

    /// The operation's name on the wire and in IAM (`route53:NAME`,
    /// `sts:NAME`), as call counts and the admin API show it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::CreateHostedZone => "CreateHostedZone",
            Operation::ListHostedZones => "ListHostedZones",
            Operation::ListHostedZonesByName => "ListHostedZonesByName",
            Operation::GetHostedZoneCount => "GetHostedZoneCount",
            Operation::GetHostedZone => "GetHostedZone",
            Operation::UpdateHostedZoneComment => "UpdateHostedZoneComment",
            Operation::DeleteHostedZone => "DeleteHostedZone",
            Operation::ChangeResourceRecordSets => "ChangeResourceRecordSets",
            Operation::ListResourceRecordSets => "ListResourceRecordSets",
            Operation::GetChange => "GetChange",
            Operation::ListTagsForResource => "ListTagsForResource",
            Operation::ChangeTagsForResource => "ChangeTagsForResource",
            Operation::UnknownRoute53 => "Unknown",
            Operation::AssumeRole => "AssumeRole",
            Operation::GetCallerIdentity => "GetCallerIdentity",
            Operation::UnknownSts => "UnknownSts",
        }
    }

    /// Which API the operation is part of.
    pub const fn service(self) -> Service {
        match self {
            Operation::AssumeRole | Operation::GetCallerIdentity | Operation::UnknownSts => {
                Service::Sts
            }
            _ => Service::Route53,
        }
    }

    /// The STS operation an `Action` parameter names.
    pub fn sts_action(action: &str) -> Operation {
        match action {
            "AssumeRole" => Operation::AssumeRole,
            "GetCallerIdentity" => Operation::GetCallerIdentity,
            _ => Operation::UnknownSts,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the world's operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no operation named {0:?} in the world")]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Parses the wire name ([`Operation::as_str`]), exactly.
    fn from_str(s: &str) -> Result<Operation, UnknownOperation> {
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOperation(s.to_string()))
    }
}
