//! IAM permission policies as the world enforces them on assumed roles.
//!
//! The subset the project's documented policies (`examples/iam/`) use, with
//! IAM's meaning: `Allow` statements; `Action` and `Resource` as a string or
//! a list, with `*` and `?` wildcards (actions match case-insensitively);
//! conditions `ForAllValues:StringEquals` and `ForAllValues:StringLike` on
//! Route 53's `ChangeResourceRecordSets` keys (record types, actions and
//! normalized record names). Whatever else a policy holds is refused when it
//! is loaded, so a policy cannot quietly mean more here than in AWS. An
//! action no statement allows is denied, as IAM's implicit deny does.

use serde_json::Value;

/// A parsed permission policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Condition {
    /// `StringLike` (wildcards) or `StringEquals`, under `ForAllValues`.
    like: bool,
    key: ChangeKey,
    values: Vec<String>,
}

/// The condition keys of `ChangeResourceRecordSets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum ChangeKey {
    RecordTypes,
    Actions,
    NormalizedRecordNames,
}

/// What a `ChangeResourceRecordSets` request changes, as its condition keys
/// see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeFacts {
    /// `route53:ChangeResourceRecordSetsRecordTypes`.
    pub types: Vec<String>,
    /// `route53:ChangeResourceRecordSetsActions`.
    pub actions: Vec<String>,
    /// `route53:ChangeResourceRecordSetsNormalizedRecordNames`: lower case,
    /// no trailing dot.
    pub names: Vec<String>,
}

impl Policy {
    /// Parses a policy document, after replacing each placeholder
    /// `(from, to)` in its text (`ZPARENT` by the zones a test allows).
    pub fn parse(text: &str, placeholders: &[(&str, &str)]) -> Result<Policy, String> {
        let mut text = text.to_string();
        for (from, to) in placeholders {
            text = text.replace(from, to);
        }
        let doc: Value =
            serde_json::from_str(&text).map_err(|e| format!("not a JSON policy: {e}"))?;
        let list = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            s @ Value::Object(_) => vec![s.clone()],
            _ => return Err("no Statement".into()),
        };
        let statements = list
            .iter()
            .map(statement)
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Policy { statements })
    }

    /// Both policies attached to one role: what either allows.
    #[must_use]
    pub fn and(mut self, other: Policy) -> Policy {
        self.statements.extend(other.statements);
        self
    }

    /// Does the policy allow `action` (`route53:GetHostedZone`) on
    /// `resource` (an ARN, or `*` for actions without one), with `facts`
    /// for a `ChangeResourceRecordSets`?
    pub fn allows(&self, action: &str, resource: &str, facts: Option<&ChangeFacts>) -> bool {
        self.statements.iter().any(|s| {
            s.actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && s.resources.iter().any(|r| glob(r, resource))
                && s.conditions.iter().all(|c| c.holds(facts))
        })
    }
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{what} must hold strings"))
            })
            .collect(),
        _ => Err(format!("{what} must be a string or a list of strings")),
    }
}

fn statement(s: &Value) -> Result<Statement, String> {
    let obj = s.as_object().ok_or("a statement must be an object")?;
    for k in obj.keys() {
        if !matches!(
            k.as_str(),
            "Sid" | "Effect" | "Action" | "Resource" | "Condition"
        ) {
            return Err(format!("statement key {k} is not supported by the world"));
        }
    }
    if s["Effect"] != "Allow" {
        return Err(format!(
            "only Allow statements are supported, not {}",
            s["Effect"]
        ));
    }
    let mut conditions = Vec::new();
    if let Some(cond) = s.get("Condition") {
        let ops = cond.as_object().ok_or("Condition must be an object")?;
        for (op, keys) in ops {
            let like = match op.as_str() {
                "ForAllValues:StringLike" => true,
                "ForAllValues:StringEquals" => false,
                other => return Err(format!("condition operator {other} is not supported")),
            };
            for (key, values) in keys.as_object().ok_or("condition keys must be an object")? {
                let key = match key.as_str() {
                    "route53:ChangeResourceRecordSetsRecordTypes" => ChangeKey::RecordTypes,
                    "route53:ChangeResourceRecordSetsActions" => ChangeKey::Actions,
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames" => {
                        ChangeKey::NormalizedRecordNames
                    }
                    other => return Err(format!("condition key {other} is not supported")),
                };
                conditions.push(Condition {
                    like,
                    key,
                    values: strings(values, "condition values")?,
                });
            }
        }
    }
    Ok(Statement {
        actions: strings(&s["Action"], "Action")?,
        resources: strings(&s["Resource"], "Resource")?,
        conditions,
    })
}

impl Condition {
    /// `ForAllValues`: every value of the request's key matches one of the
    /// condition's (true for a request without the key, as in IAM).
    fn holds(&self, facts: Option<&ChangeFacts>) -> bool {
        let Some(f) = facts else {
            return true;
        };
        let seen = match self.key {
            ChangeKey::RecordTypes => &f.types,
            ChangeKey::Actions => &f.actions,
            ChangeKey::NormalizedRecordNames => &f.names,
        };
        seen.iter().all(|v| {
            self.values
                .iter()
                .any(|c| if self.like { glob(c, v) } else { c == v })
        })
    }
}

/// IAM's wildcard match: `*` any run of characters, `?` any one.
fn glob(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = include_str!("../../../../examples/iam/parent-policy.json");

    #[test]
    fn glob_matches_as_iam_does() {
        assert!(glob("*", "arn:aws:route53:::hostedzone/Z1"));
        assert!(glob(
            "arn:aws:route53:::hostedzone/*",
            "arn:aws:route53:::hostedzone/Z1"
        ));
        assert!(!glob(
            "arn:aws:route53:::hostedzone/*",
            "arn:aws:route53:::change/C1"
        ));
        assert!(glob("*.example.com", "api.example.com"));
        assert!(!glob("*.example.com", "example.com"));
        assert!(glob("route53:list*", "route53:listhostedzones"));
        assert!(glob("a?c", "abc"));
    }

    #[test]
    fn the_documented_parent_policy_allows_ns_changes_under_the_domain_only() {
        let p = Policy::parse(PARENT, &[("ZPARENT", "ZP1")]).unwrap();
        let zone = "arn:aws:route53:::hostedzone/ZP1";
        let ns = |action: &str, name: &str| ChangeFacts {
            types: vec!["NS".into()],
            actions: vec![action.into()],
            names: vec![name.into()],
        };
        assert!(p.allows("route53:GetHostedZone", zone, None));
        assert!(!p.allows(
            "route53:GetHostedZone",
            "arn:aws:route53:::hostedzone/ZOTHER",
            None
        ));
        assert!(!p.allows("route53:DeleteHostedZone", zone, None));
        assert!(p.allows(
            "route53:ChangeResourceRecordSets",
            zone,
            Some(&ns("CREATE", "api.example.com"))
        ));
        assert!(!p.allows(
            "route53:ChangeResourceRecordSets",
            zone,
            Some(&ns("UPSERT", "api.example.com"))
        ));
        assert!(!p.allows(
            "route53:ChangeResourceRecordSets",
            zone,
            Some(&ns("CREATE", "example.com"))
        ));
        let a = ChangeFacts {
            types: vec!["NS".into(), "A".into()],
            ..ns("CREATE", "api.example.com")
        };
        assert!(!p.allows("route53:ChangeResourceRecordSets", zone, Some(&a)));
        assert!(p.allows("route53:GetChange", "arn:aws:route53:::change/C1", None));
    }

    #[test]
    fn what_the_world_cannot_enforce_is_refused_at_load() {
        let deny = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;
        assert!(Policy::parse(deny, &[]).unwrap_err().contains("Allow"));
        let not_action = r#"{"Statement":[{"Effect":"Allow","NotAction":"x","Resource":"*"}]}"#;
        assert!(Policy::parse(not_action, &[])
            .unwrap_err()
            .contains("NotAction"));
        let cond = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"x"}}}]}"#;
        assert!(Policy::parse(cond, &[]).unwrap_err().contains("IpAddress"));
    }
}
