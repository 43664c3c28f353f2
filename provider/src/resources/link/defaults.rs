//! The provider's defaults for every link's `verify` block (`verify {
//! timeout, enabled }` in the provider block, or `ROUTE53DELEGATION_VERIFY`):
//! filled into a link's settings where the link sets none, for plan, apply
//! and Read alike, and never into the state Terraform keeps.

use std::time::Duration;

use crate::protocol::Value;

/// Defaults for a link's `verify` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyDefaults {
    /// `verify.timeout` where a link sets none.
    pub timeout: Option<Duration>,
    /// `verify.enabled` where a link sets none (`false`: verify nothing, for
    /// a pipeline where DNS cannot be reached).
    pub enabled: Option<bool>,
}

impl VerifyDefaults {
    /// `config` (a link's configuration or stored state) with the defaults
    /// filled in where it sets nothing.
    pub fn fill(&self, config: &Value) -> Value {
        if *self == VerifyDefaults::default() || config.is_null() {
            return config.clone();
        }
        let mut v = config.clone();
        let mut verify = match v.get("verify") {
            Some(o @ Value::Object(_)) => o.clone(),
            _ => Value::object([
                ("enabled", Value::Null),
                ("timeout", Value::Null),
                ("resolvers", Value::Null),
                ("recursive", Value::Null),
                ("on_refresh", Value::Null),
            ]),
        };
        let unset = |k: &str, verify: &Value| matches!(verify.get(k), None | Some(Value::Null));
        if let Some(t) = self.timeout.filter(|_| unset("timeout", &verify)) {
            verify.set("timeout", Value::String(crate::duration::format(t)));
        }
        if let Some(e) = self.enabled.filter(|_| unset("enabled", &verify)) {
            verify.set("enabled", Value::Bool(e));
        }
        v.set("verify", verify);
        v
    }
}
