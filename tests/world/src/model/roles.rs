//! IAM roles that can be assumed through STS, what they may do in Route 53,
//! and the roles every world starts with.

use super::accounts::{CHILD_ACCOUNTS, OPERATOR_ACCOUNT, PARENT_ACCOUNT};

/// What a role (or session) may do in Route 53.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Permission {
    /// Everything in the role's account.
    Full,
    /// Reads (Get*/List*) plus ChangeResourceRecordSets whose changes are all
    /// of type NS with a name strictly under the given domain.
    NsChangesUnder(String),
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
            permission: Permission::NsChangesUnder("example.com".into()),
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
            permission: Permission::Full,
        });
    }
    roles.push(RoleSpec {
        account: CHILD_ACCOUNTS[0].into(),
        name: "delegation-child-ext".into(),
        trusted_accounts: vec![OPERATOR_ACCOUNT.into()],
        external_id: Some("ext-secret-123".into()),
        permission: Permission::Full,
    });
    roles
}

/// Is `op` a read-only Route 53 operation?
pub fn is_read_op(op: &str) -> bool {
    op.starts_with("Get") || op.starts_with("List")
}
