//! The provider: its configuration (defaults shared by every link) and the
//! dispatch from the plugin protocol to the resources.

use std::collections::BTreeMap;
use std::sync::RwLock;

use route53delegation::account::Endpoints;
use route53delegation::{AccountSettings, Engine, EngineConfig};
use tokio_util::sync::CancellationToken;

use crate::data_sources::check;
use crate::protocol::{
    async_trait, ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, DataSourceRequest,
    DataSourceResponse, Diagnostic, ImportResponse, NestedBlock, NestingMode, PlanRequest,
    PlanResponse, ProviderImpl, ReadRequest, ReadResponse, Schema, Type, Value,
};
use crate::resources::link::{self, Link, VerifyDefaults};

/// Environment variable with default DNS resolvers (comma-separated).
pub const RESOLVERS_ENV: &str = "ROUTE53DELEGATION_RESOLVERS";
/// Environment variable with the root servers destroy walks from
/// (comma-separated addresses).
pub const ROOT_SERVERS_ENV: &str = "ROUTE53DELEGATION_ROOT_SERVERS";

/// Environment variable with the default of every link's `verify.enabled`
/// (`true` or `false`), where the provider block sets none.
pub const VERIFY_ENV: &str = "ROUTE53DELEGATION_VERIFY";

/// The provider schema.
pub fn provider_schema() -> Schema {
    let endpoints = Block::new()
        .description("Endpoint overrides, for the local world, FIPS endpoints or other partitions. A URL set here wins over the environment for its service. A service left unset uses, in order: `AWS_ENDPOINT_URL_ROUTE_53` or `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, then the shared config file (the profile's `services` section, then its `endpoint_url`), then the standard AWS endpoint.")
        .attribute(Attribute::new("route53", Type::String).optional().description("Route 53 endpoint URL. Beats `AWS_ENDPOINT_URL_ROUTE_53` and `AWS_ENDPOINT_URL`."))
        .attribute(Attribute::new("sts", Type::String).optional().description("STS endpoint URL, for AssumeRole. Beats `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL`."));
    Schema::new(
        0,
        Block::new()
            .description("Defaults shared by every `route53delegation_link`. Credentials always come from the standard AWS chain (environment, shared config and credentials files, SSO, web identity, instance metadata); no secret is ever part of the configuration. Each link names its parent and child accounts itself, so one provider instance serves any number of accounts.")
            .attribute(Attribute::new("region", Type::String).optional().description("Default region (`AWS_REGION`, `AWS_DEFAULT_REGION`, or the profile's, when unset). Route 53 is global; the region picks the partition."))
            .attribute(Attribute::new("profile", Type::String).optional().description("Default named profile for base credentials (`AWS_PROFILE` when unset)."))
            .attribute(Attribute::new("dns_resolvers", Type::list(Type::String)).optional().deprecated().description("Deprecated: the same as `verify.resolvers`, its name before the provider and the resource used one vocabulary. Setting both is an error."))
            .attribute(Attribute::new("verify_timeout", Type::String).optional().deprecated().description("Deprecated: the same as `verify.timeout`, its name before the provider and the resource used one vocabulary. Setting both is an error."))
            .nested_block(NestedBlock::new("endpoints", NestingMode::Single, endpoints))
            .nested_block(NestedBlock::new("verify", NestingMode::Single, Block::new()
                .description("Defaults for every link's `verify` block, under the same names.")
                .attribute(Attribute::new("resolvers", Type::list(Type::String)).optional().description(format!("Resolvers (`ADDRESS` or `ADDRESS:PORT`) used to look up name-server addresses during verification, for recursive checks, and by the check data source. Default: `{RESOLVERS_ENV}` (comma-separated), then the system's (`/etc/resolv.conf`). A link's `verify.resolvers` wins.")))
                .attribute(Attribute::new("timeout", Type::String).optional().description("Verification timeout for links without `verify.timeout`, e.g. `5m`."))
                .attribute(Attribute::new("root_servers", Type::list(Type::String)).optional().description(format!("Root servers (`ADDRESS` or `ADDRESS:PORT`) that destroy walks from, before it deletes a child zone, to the zone that actually delegates the name: if that is not the link's parent (the parent zone moved to another DNS service, say) and it still delegates to the zone, destroy refuses instead of leaving a dangling delegation there. Default: `{ROOT_SERVERS_ENV}` (comma-separated), then the 13 root servers of the Internet. A private DNS tree (a lab, an air-gapped network) names its own.")))
                .attribute(Attribute::new("enabled", Type::Bool).optional().description(format!("Whether links without `verify.enabled` verify over DNS (and check again on refresh). `false` is for pipelines where DNS cannot be reached: links then report `verification.status = \"skipped\"` and plan and apply make no DNS query for verification. Default: `{VERIFY_ENV}` (`true` or `false`), then `true`."))))),
    )
}

/// The provider's settings after ConfigureProvider.
#[derive(Debug, Clone)]
struct Configured {
    link: Link,
    /// The provider's `dns_resolvers`, for the data sources.
    resolvers: Vec<std::net::SocketAddr>,
}

/// The route53delegation provider.
#[derive(Debug, Default)]
pub struct Route53DelegationProvider {
    configured: RwLock<Option<Configured>>,
}

fn parse_provider_config(
    config: &Value,
) -> (Option<(EngineConfig, VerifyDefaults)>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let s = |k: &str| config.get_str(k).map(str::to_string);
    let mut defaults = AccountSettings {
        region: s("region"),
        profile: s("profile"),
        ..Default::default()
    };
    if let Some(e @ Value::Object(_)) = config.get("endpoints") {
        defaults.endpoints = Endpoints {
            route53: e.get_str("route53").map(str::to_string),
            sts: e.get_str("sts").map(str::to_string),
        };
        for (k, v) in [
            ("route53", &defaults.endpoints.route53),
            ("sts", &defaults.endpoints.sts),
        ] {
            if let Some(u) = v {
                if !(u.starts_with("https://") || u.starts_with("http://")) {
                    diags.push(
                        Diagnostic::error(
                            "Invalid endpoint",
                            format!("{u:?} is not a URL; expected https://HOST[:PORT]"),
                        )
                        .with_attribute(AttributePath::attr("endpoints").then_attr(k)),
                    );
                }
            }
        }
    }
    let verify_block = config
        .get("verify")
        .filter(|v| matches!(v, Value::Object(_)));
    let (resolvers_value, resolvers_path) = renamed(
        config,
        verify_block,
        ("dns_resolvers", "resolvers"),
        &mut diags,
    );
    let mut resolvers_raw: Vec<String> = match resolvers_value {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if resolvers_raw.is_empty() {
        if let Ok(env) = std::env::var(RESOLVERS_ENV) {
            resolvers_raw = env
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
    }
    let resolvers = match link::parse_resolvers(&resolvers_raw) {
        Ok(r) => r,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Invalid resolver",
                    format!("{e}; expected an address such as 127.0.0.53 or 127.0.0.53:5353"),
                )
                .with_attribute(resolvers_path),
            );
            Vec::new()
        }
    };
    let roots = root_servers(verify_block, &mut diags);
    let (timeout_value, timeout_path) = renamed(
        config,
        verify_block,
        ("verify_timeout", "timeout"),
        &mut diags,
    );
    let verify_timeout = match timeout_value.and_then(Value::as_str) {
        Some(t) => match crate::duration::parse(t) {
            Ok(d) => Some(d),
            Err(e) => {
                diags.push(Diagnostic::error("Invalid duration", e).with_attribute(timeout_path));
                None
            }
        },
        None => None,
    };
    let enabled = match verify_block.and_then(|v| v.get("enabled")) {
        Some(Value::Bool(b)) => Some(*b),
        _ => match std::env::var(VERIFY_ENV) {
            Ok(v) => match v.trim() {
                "true" => Some(true),
                "false" => Some(false),
                other => {
                    diags.push(Diagnostic::error(
                        "Invalid environment variable",
                        format!("{VERIFY_ENV}={other:?}: expected true or false"),
                    ));
                    None
                }
            },
            Err(_) => None,
        },
    };
    let tuning = match crate::tuning::from_env() {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error("Invalid tuning variable", e));
            crate::tuning::Tuning::default()
        }
    };
    if diags.iter().any(Diagnostic::is_error) {
        return (None, diags);
    }
    (
        Some((
            EngineConfig {
                defaults,
                resolvers,
                roots,
                pacing: tuning.pacing,
                insync_polling: tuning.polling,
                parent: tuning.parent,
                ..Default::default()
            },
            VerifyDefaults {
                timeout: verify_timeout,
                enabled,
            },
        )),
        diags,
    )
}

/// The provider's `verify.root_servers`, else `ROOT_SERVERS_ENV`; empty:
/// the Internet's root servers (the engine's default).
fn root_servers(verify: Option<&Value>, diags: &mut Vec<Diagnostic>) -> Vec<std::net::SocketAddr> {
    let path = AttributePath::attr("verify").then_attr("root_servers");
    let raw: Vec<String> = match verify.and_then(|v| v.get("root_servers")) {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => std::env::var(ROOT_SERVERS_ENV)
            .map(|env| {
                env.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
    };
    match link::parse_resolvers(&raw) {
        Ok(r) => r,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Invalid root server",
                    format!("{e}; expected an address such as 198.41.0.4 or 127.0.0.1:53 (in verify.root_servers or {ROOT_SERVERS_ENV})"),
                )
                .with_attribute(path),
            );
            Vec::new()
        }
    }
}

/// A setting of the provider's `verify` block, or its deprecated name at the
/// top level (`old`): its value (when set) and its path. Both set is an
/// error naming the one to keep.
fn renamed<'a>(
    config: &'a Value,
    verify: Option<&'a Value>,
    (old, new): (&str, &str),
    diags: &mut Vec<Diagnostic>,
) -> (Option<&'a Value>, AttributePath) {
    let set = |v: Option<&'a Value>| v.filter(|v| !matches!(v, Value::Null));
    let new_path = AttributePath::attr("verify").then_attr(new);
    match (set(config.get(old)), set(verify.and_then(|v| v.get(new)))) {
        (Some(_), Some(v)) => {
            diags.push(
                Diagnostic::error(
                    "Conflicting settings",
                    format!("{old} is the deprecated name of verify.{new}; set verify.{new} only"),
                )
                .with_attribute(AttributePath::attr(old)),
            );
            (Some(v), new_path)
        }
        (Some(v), None) => (Some(v), AttributePath::attr(old)),
        (None, v) => (v, new_path),
    }
}

impl Route53DelegationProvider {
    /// A provider not yet configured.
    pub fn new() -> Self {
        Self::default()
    }

    fn configured(&self) -> Result<Configured, Vec<Diagnostic>> {
        self.configured
            .read()
            .ok()
            .and_then(|c| c.clone())
            .ok_or_else(|| {
                vec![Diagnostic::error(
                    "Provider not configured",
                    "Terraform called the resource before configuring the provider",
                )]
            })
    }
}

fn unknown_type(type_name: &str) -> Vec<Diagnostic> {
    vec![Diagnostic::error(
        "Unknown resource type",
        format!(
            "this provider has no resource type {type_name:?}; it has {}",
            link::TYPE_NAME
        ),
    )]
}

#[async_trait]
impl ProviderImpl for Route53DelegationProvider {
    fn provider_schema(&self) -> Schema {
        provider_schema()
    }

    fn resource_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::from([(link::TYPE_NAME.to_string(), link::schema())])
    }

    fn data_source_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::from([(check::TYPE_NAME.to_string(), check::schema())])
    }

    async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: &Value,
    ) -> Vec<Diagnostic> {
        if type_name != check::TYPE_NAME {
            return unknown_type(type_name);
        }
        check::validate(config)
    }

    async fn read_data_source(&self, req: DataSourceRequest) -> DataSourceResponse {
        if req.type_name != check::TYPE_NAME {
            return DataSourceResponse {
                state: Value::Null,
                diagnostics: unknown_type(&req.type_name),
            };
        }
        match self.configured() {
            Ok(c) => check::read(req, &c.resolvers).await,
            Err(d) => DataSourceResponse {
                state: Value::Null,
                diagnostics: d,
            },
        }
    }

    async fn validate_provider_config(&self, config: &Value) -> Vec<Diagnostic> {
        parse_provider_config(config).1
    }

    async fn configure_provider(&self, config: &Value, terraform_version: &str) -> Vec<Diagnostic> {
        let (cfg, diags) = parse_provider_config(config);
        if let Some((engine_cfg, verify)) = cfg {
            tracing::info!(terraform_version, "provider configured");
            let resolvers = engine_cfg.resolvers.clone();
            let link = Link::with_defaults(Engine::new(engine_cfg), verify);
            if let Ok(mut slot) = self.configured.write() {
                *slot = Some(Configured { link, resolvers });
            }
        }
        diags
    }

    async fn validate_resource_config(&self, type_name: &str, config: &Value) -> Vec<Diagnostic> {
        if type_name != link::TYPE_NAME {
            return unknown_type(type_name);
        }
        Link::validate(config)
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        if req.type_name != link::TYPE_NAME {
            return ReadResponse {
                diagnostics: unknown_type(&req.type_name),
                ..Default::default()
            };
        }
        match self.configured() {
            Ok(c) => c.link.read(req).await,
            Err(d) => ReadResponse {
                new_state: req.current_state,
                private: req.private,
                diagnostics: d,
            },
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        if req.type_name != link::TYPE_NAME {
            return PlanResponse {
                diagnostics: unknown_type(&req.type_name),
                ..Default::default()
            };
        }
        match self.configured() {
            Ok(c) => {
                let cancel = req.cancel.clone();
                c.link.plan_with(req, &cancel).await
            }
            Err(d) => PlanResponse {
                planned_state: req.proposed_new_state,
                diagnostics: d,
                ..Default::default()
            },
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        if req.type_name != link::TYPE_NAME {
            return ApplyResponse {
                diagnostics: unknown_type(&req.type_name),
                ..Default::default()
            };
        }
        match self.configured() {
            Ok(c) => c.link.apply(req).await,
            Err(d) => ApplyResponse {
                new_state: req.prior_state,
                private: req.planned_private,
                diagnostics: d,
            },
        }
    }

    async fn import_resource_state(
        &self,
        type_name: &str,
        id: &str,
        cancel: CancellationToken,
    ) -> ImportResponse {
        if type_name != link::TYPE_NAME {
            return ImportResponse {
                imported: Vec::new(),
                diagnostics: unknown_type(type_name),
            };
        }
        match self.configured() {
            Ok(c) => c.link.import_with(id, &cancel).await,
            Err(d) => ImportResponse {
                imported: Vec::new(),
                diagnostics: d,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(top: &[(&str, Value)], verify: Option<Value>) -> Value {
        let mut v = Value::object([
            ("region", Value::Null),
            ("profile", Value::Null),
            ("dns_resolvers", Value::Null),
            ("verify_timeout", Value::Null),
            ("endpoints", Value::Null),
            ("verify", verify.unwrap_or(Value::Null)),
        ]);
        for (k, x) in top {
            v.set(*k, x.clone());
        }
        v
    }

    fn verify(resolvers: Value, timeout: Value) -> Value {
        Value::object([
            ("resolvers", resolvers),
            ("timeout", timeout),
            ("enabled", Value::Null),
            ("root_servers", Value::Null),
        ])
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::string(*s)).collect())
    }

    /// Guards: the provider naming its verification defaults differently
    /// from the resource (`dns_resolvers`/`verify_timeout` against
    /// `verify.resolvers`/`verify.timeout`), and configurations written with
    /// the old names breaking when the names were aligned.
    #[test]
    fn verify_defaults_have_the_resource_names_and_the_old_names_still_work() {
        let new = config(
            &[],
            Some(verify(list(&["127.0.0.53"]), Value::string("90s"))),
        );
        let (cfg, diags) = parse_provider_config(&new);
        assert!(diags.is_empty(), "{diags:?}");
        let (engine, defaults) = cfg.expect("configured");
        assert_eq!(engine.resolvers, vec!["127.0.0.53:53".parse().unwrap()]);
        assert_eq!(defaults.timeout, Some(Duration::from_secs(90)));

        let old = config(
            &[
                ("dns_resolvers", list(&["127.0.0.53"])),
                ("verify_timeout", Value::string("90s")),
            ],
            None,
        );
        let (cfg, diags) = parse_provider_config(&old);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            cfg.expect("configured").1.timeout,
            Some(Duration::from_secs(90))
        );

        let both = config(
            &[("verify_timeout", Value::string("90s"))],
            Some(verify(Value::Null, Value::string("2m"))),
        );
        let (_, diags) = parse_provider_config(&both);
        assert!(
            diags
                .iter()
                .any(|d| d.detail.contains("deprecated name of verify.timeout")),
            "{diags:?}"
        );

        let bad = config(&[], Some(verify(Value::Null, Value::string("soon"))));
        let (_, diags) = parse_provider_config(&bad);
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, vec!["verify.timeout".to_string()], "{diags:?}");
    }

    /// Guards: destroy's walk from the root going to the Internet's root
    /// servers from a private DNS tree (a lab, the local world) because the
    /// setting was dropped, and a bad address passing unnoticed.
    #[test]
    fn root_servers_are_read_from_the_verify_block() {
        let mut v = verify(Value::Null, Value::Null);
        v.set("root_servers", list(&["127.0.0.1", "127.0.0.2:5353"]));
        let (cfg, diags) = parse_provider_config(&config(&[], Some(v)));
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            cfg.expect("configured").0.roots,
            vec![
                "127.0.0.1:53".parse().unwrap(),
                "127.0.0.2:5353".parse().unwrap()
            ]
        );

        let mut bad = verify(Value::Null, Value::Null);
        bad.set("root_servers", list(&["root.example"]));
        let (cfg, diags) = parse_provider_config(&config(&[], Some(bad)));
        assert!(cfg.is_none());
        let paths: Vec<String> = diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(paths, vec!["verify.root_servers".to_string()], "{diags:?}");
    }
}
