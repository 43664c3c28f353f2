//! The world's accounts and who signs a request: the fixed account IDs,
//! each account's deterministic base credentials, the per-account hosted
//! zones, and the principals behind access keys (base credentials or an
//! assumed role's session).

use std::collections::{BTreeMap, HashSet};

use super::ids::random_id;
use super::roles::{Permission, RoleSpec};
use super::zone::Zone;

/// The operator account: the base credentials Terraform runs with.
pub const OPERATOR_ACCOUNT: &str = "999999999999";
/// The parent account (owns `example.com` in the default scenarios).
pub const PARENT_ACCOUNT: &str = "111111111111";
/// Child accounts.
pub const CHILD_ACCOUNTS: [&str; 3] = ["222222222222", "333333333333", "444444444444"];

/// Deterministic base access key of an account: `AKIA` + account id + `WRLD`.
pub fn base_access_key(account: &str) -> String {
    format!("AKIA{account}WRLD")
}

/// Deterministic base secret key of an account.
pub fn base_secret_key(account: &str) -> String {
    format!("r53world-secret-key-for-account-{account}")
}

pub fn all_accounts() -> Vec<&'static str> {
    let mut v = vec![OPERATOR_ACCOUNT, PARENT_ACCOUNT];
    v.extend(CHILD_ACCOUNTS);
    v
}

#[derive(Debug, Default)]
pub struct Account {
    pub zones: BTreeMap<String, Zone>,
    pub caller_refs: HashSet<String>,
}

/// Who signed a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: String,
    pub secret: String,
    /// `None` for base account credentials.
    pub role: Option<SessionRole>,
}

#[derive(Debug, Clone)]
pub struct SessionRole {
    pub role_name: String,
    pub session_name: String,
    pub permission: Permission,
    pub token: String,
}

impl Principal {
    pub fn arn(&self) -> String {
        match &self.role {
            None if self.account == OPERATOR_ACCOUNT => {
                format!("arn:aws:iam::{}:user/operator", self.account)
            }
            None => format!("arn:aws:iam::{}:user/admin", self.account),
            Some(r) => format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                self.account, r.role_name, r.session_name
            ),
        }
    }
    pub fn permission(&self) -> Permission {
        self.role
            .as_ref()
            .map_or(Permission::Full, |r| r.permission.clone())
    }
}

/// Fresh temporary credentials for an assumed role.
pub fn new_session(role: &RoleSpec, session_name: &str) -> (String, Principal) {
    let key = random_id('A', 19).replacen('A', "ASIA", 1)[..20].to_string();
    let secret = random_id('s', 39);
    let token = format!("r53world-session-{}", random_id('T', 40));
    (
        key,
        Principal {
            account: role.account.clone(),
            secret,
            role: Some(SessionRole {
                role_name: role.name.clone(),
                session_name: session_name.to_string(),
                permission: role.permission.clone(),
                token,
            }),
        },
    )
}
