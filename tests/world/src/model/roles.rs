//! IAM roles that can be assumed through STS, what they may do in Route 53,
//! and the roles every world starts with: the delegation roles carry the
//! permission policies the project documents (`examples/iam/`), so every
//! test and the demo run with exactly that least privilege.

use super::accounts::{CHILD_ACCOUNTS, OPERATOR_ACCOUNT, PARENT_ACCOUNT};
use super::operation::Operation;
use super::policy::{ChangeFacts, Policy};

/// The documented parent role's policy. `ZPARENT` (the parent zone's ID,
/// which users fill in) is `*` here: a world's zone IDs are random.
pub const PARENT_POLICY: &str = include_str!("../../../../examples/iam/parent-policy.json");
/// The documented child role's policy.
pub const CHILD_POLICY: &str = include_str!("../../../../examples/iam/child-policy.json");

/// What a role (or session) may do in Route 53.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    /// Everything in the role's account.
    Full,
    /// What an IAM permission policy allows ([`Policy`]).
    Policy(Policy),
}

impl Permission {
    /// The documented parent role's policy, for parent zones of any ID.
    pub fn documented_parent() -> Permission {
        Permission::Policy(
            Policy::parse(PARENT_POLICY, &[("ZPARENT", "*")])
                .expect("examples/iam/parent-policy.json is a policy the world enforces"),
        )
    }

    /// The documented child role's policy.
    pub fn documented_child() -> Permission {
        Permission::Policy(
            Policy::parse(CHILD_POLICY, &[])
                .expect("examples/iam/child-policy.json is a policy the world enforces"),
        )
    }

    /// A zone that is both a child and a parent (nested delegation): the
    /// documented child and parent policies attached to one role.
    pub fn documented_nested() -> Permission {
        match (
            Permission::documented_child(),
            Permission::documented_parent(),
        ) {
            (Permission::Policy(c), Permission::Policy(p)) => Permission::Policy(c.and(p)),
            _ => unreachable!("the documented permissions are policies"),
        }
    }

    /// May Route 53's `action` (`GetHostedZone`) be made on `resource`?
    pub fn allows(&self, action: Operation, resource: &str, facts: Option<&ChangeFacts>) -> bool {
        match self {
            Permission::Full => true,
            Permission::Policy(p) => p.allows(&format!("route53:{action}"), resource, facts),
        }
    }
}

/// An IAM role that can be assumed through STS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoleSpec {
    /// Account owning the role.
    pub account: String,
    /// Role name (the ARN is `arn:aws:iam::ACCOUNT:role/NAME`).
    pub name: String,
    /// Accounts allowed to assume the role.
    pub trusted_accounts: Vec<String>,
    /// External id the caller must pass, if any.
    pub external_id: Option<String>,
    /// What the assumed-role credentials may do.
    pub permission: Permission,
}

impl RoleSpec {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account, self.name)
    }
}

pub fn default_roles() -> Vec<RoleSpec> {
    let mut roles = vec![
        RoleSpec {
            account: PARENT_ACCOUNT.into(),
            name: "delegation-parent".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::documented_parent(),
        },
        RoleSpec {
            account: PARENT_ACCOUNT.into(),
            name: "parent-admin".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::Full,
        },
    ];
    for acct in CHILD_ACCOUNTS {
        roles.push(RoleSpec {
            account: acct.into(),
            name: "delegation-child".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::documented_child(),
        });
        // A zone of this account delegates further (nested delegation).
        roles.push(RoleSpec {
            account: acct.into(),
            name: "delegation-nested".into(),
            trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
            external_id: None,
            permission: Permission::documented_nested(),
        });
    }
    roles.push(RoleSpec {
        account: CHILD_ACCOUNTS[0].into(),
        name: "delegation-child-ext".into(),
        trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
        external_id: Some("ext-secret-123".into()),
        permission: Permission::documented_child(),
    });
    roles
}
