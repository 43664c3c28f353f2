//! The `tfplugin6.Provider` gRPC service on top of a [`ProviderImpl`]
//! (go-plugin's own services are in [`super::plugin_services`], the
//! protobuf conversions in [`super::convert`]).
//!
//! Every Provider RPC converts protobuf ⇄ protocol-neutral types, never
//! panics on malformed input (it answers with an error diagnostic instead),
//! catches panics of the implementation, and never logs values (they may hold
//! credentials): only RPC names, resource type names and diagnostic counts.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::convert::{
    decode_dynamic, diag_to_proto, diags_to_proto, encode_dynamic, path_to_proto, schema_to_proto,
};
use super::diag::{Diagnostic, Severity};
use super::proto::tfplugin6 as pb;
use super::provider::{
    ApplyRequest, Checkpoint, DataSourceRequest, PlanRequest, ProviderImpl, ReadRequest,
};
use super::schema::Schema;
use super::value::Value;

/// Runs an implementation future, turning a panic into an error diagnostic
/// (without the panic message's backtrace or payload details).
async fn guarded<T>(rpc: &'static str, fut: impl Future<Output = T>) -> Result<T, Diagnostic> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => Ok(v),
        Err(_) => {
            tracing::error!(rpc, "provider implementation panicked");
            Err(Diagnostic::error(
                "Internal provider error",
                format!(
                    "The provider crashed while handling {rpc}. This is a bug in the provider; \
                     please report it with the Terraform logs (TF_LOG=debug)."
                ),
            ))
        }
    }
}

fn unknown_type_diag(kind: &str, type_name: &str) -> Diagnostic {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider does not support {kind} type {type_name:?}."),
    )
}

// ---------------------------------------------------------------------------
// tfplugin6.Provider
// ---------------------------------------------------------------------------

/// The `tfplugin6.Provider` service backed by a [`ProviderImpl`].
#[derive(Clone)]
pub struct ProviderService {
    inner: Arc<dyn ProviderImpl>,
    provider_schema: Arc<Schema>,
    resource_schemas: Arc<BTreeMap<String, Schema>>,
    data_source_schemas: Arc<BTreeMap<String, Schema>>,
    stop: CancellationToken,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService")
            .field(
                "resources",
                &self.resource_schemas.keys().collect::<Vec<_>>(),
            )
            .field("stopped", &self.stop.is_cancelled())
            .finish()
    }
}

impl ProviderService {
    /// Wraps an implementation; schemas are computed once here. `stop` is the
    /// process-wide token cancelled by `StopProvider` and handed to
    /// in-flight read/apply calls.
    pub fn new(inner: Arc<dyn ProviderImpl>, stop: CancellationToken) -> Self {
        let provider_schema = Arc::new(inner.provider_schema());
        let resource_schemas = Arc::new(inner.resource_schemas());
        let data_source_schemas = Arc::new(inner.data_source_schemas());
        ProviderService {
            inner,
            provider_schema,
            resource_schemas,
            data_source_schemas,
            stop,
        }
    }

    fn resource_schema(&self, type_name: &str) -> Result<&Schema, Diagnostic> {
        self.resource_schemas
            .get(type_name)
            .ok_or_else(|| unknown_type_diag("resource", type_name))
    }

    fn data_source_schema(&self, type_name: &str) -> Result<&Schema, Diagnostic> {
        self.data_source_schemas
            .get(type_name)
            .ok_or_else(|| unknown_type_diag("data source", type_name))
    }

    fn server_capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: false,
        }
    }
}

fn finish(rpc: &'static str, type_name: &str, diags: &[Diagnostic]) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    tracing::debug!(
        rpc,
        type_name,
        diagnostics = diags.len(),
        errors,
        "rpc done"
    );
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::debug!(rpc = "GetMetadata", "rpc start");
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_source_schemas
                .keys()
                .map(|t| pb::get_metadata::DataSourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            resources: self
                .resource_schemas
                .keys()
                .map(|t| pb::get_metadata::ResourceMetadata {
                    type_name: t.clone(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: Vec::new(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::debug!(rpc = "GetProviderSchema", "rpc start");
        let mut diagnostics = Vec::new();
        let all = std::iter::once(("provider", &*self.provider_schema))
            .chain(self.resource_schemas.iter().map(|(k, s)| (k.as_str(), s)))
            .chain(
                self.data_source_schemas
                    .iter()
                    .map(|(k, s)| (k.as_str(), s)),
            );
        for (name, schema) in all {
            if let Err(problems) = schema.validate() {
                tracing::error!(schema = name, problems = ?problems, "invalid schema");
                diagnostics.push(diag_to_proto(&Diagnostic::error(
                    "Invalid provider schema",
                    format!(
                        "The schema of {name} is invalid: {}. This is a bug in the provider.",
                        problems.join("; ")
                    ),
                )));
            }
        }
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&self.provider_schema)),
            resource_schemas: self
                .resource_schemas
                .iter()
                .map(|(k, s)| (k.clone(), schema_to_proto(s)))
                .collect(),
            data_source_schemas: self
                .data_source_schemas
                .iter()
                .map(|(k, s)| (k.clone(), schema_to_proto(s)))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: Default::default(),
            diagnostics,
            provider_meta: None,
            server_capabilities: Some(Self::server_capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ValidateProviderConfig", "rpc start");
        let ty = self.provider_schema.block.implied_type();
        let diags = match decode_dynamic(req.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => guarded(
                "ValidateProviderConfig",
                self.inner.validate_provider_config(&config),
            )
            .await
            .unwrap_or_else(|d| vec![d]),
            Err(d) => vec![d],
        };
        finish("ValidateProviderConfig", "", &diags);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ValidateResourceConfig", type_name = %req.type_name, "rpc start");
        let diags = async {
            let schema = self.resource_schema(&req.type_name)?;
            let config = decode_dynamic(
                req.config.as_ref(),
                &schema.block.implied_type(),
                "resource configuration",
            )?;
            guarded(
                "ValidateResourceConfig",
                self.inner.validate_resource_config(&req.type_name, &config),
            )
            .await
        }
        .await
        .unwrap_or_else(|d| vec![d]);
        finish("ValidateResourceConfig", &req.type_name, &diags);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ValidateDataResourceConfig", type_name = %req.type_name, "rpc start");
        let diags = async {
            let schema = self.data_source_schema(&req.type_name)?;
            let config = decode_dynamic(
                req.config.as_ref(),
                &schema.block.implied_type(),
                "data source configuration",
            )?;
            guarded(
                "ValidateDataResourceConfig",
                self.inner
                    .validate_data_source_config(&req.type_name, &config),
            )
            .await
        }
        .await
        .unwrap_or_else(|d| vec![d]);
        finish("ValidateDataResourceConfig", &req.type_name, &diags);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "UpgradeResourceState", type_name = %req.type_name, version = req.version, "rpc start");
        let result: Result<pb::DynamicValue, Vec<Diagnostic>> = async {
            let schema = self.resource_schema(&req.type_name).map_err(|d| vec![d])?;
            let raw = req.raw_state.unwrap_or_default();
            if raw.json.is_empty() {
                if !raw.flatmap.is_empty() {
                    return Err(vec![Diagnostic::error(
                        "Unsupported legacy state",
                        "The stored state uses the legacy flatmap format, which this provider never wrote.",
                    )]);
                }
                return encode_dynamic(&Value::Null, &schema.block.implied_type(), "upgraded state")
                    .map_err(|d| vec![d]);
            }
            let json: serde_json::Value = serde_json::from_slice(&raw.json).map_err(|e| {
                vec![Diagnostic::error(
                    "Invalid stored state",
                    format!("The stored state is not valid JSON: {e}."),
                )]
            })?;
            let value = guarded(
                "UpgradeResourceState",
                self.inner.upgrade_resource_state(&req.type_name, req.version, json),
            )
            .await
            .map_err(|d| vec![d])??;
            let value = schema.block.null_write_only(&value);
            encode_dynamic(&value, &schema.block.implied_type(), "upgraded state").map_err(|d| vec![d])
        }
        .await;
        let (state, diags) = match result {
            Ok(dv) => (Some(dv), Vec::new()),
            Err(d) => (None, d),
        };
        finish("UpgradeResourceState", &req.type_name, &diags);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: state,
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ConfigureProvider", terraform_version = %req.terraform_version, "rpc start");
        let ty = self.provider_schema.block.implied_type();
        let diags = match decode_dynamic(req.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => guarded(
                "ConfigureProvider",
                self.inner
                    .configure_provider(&config, &req.terraform_version),
            )
            .await
            .unwrap_or_else(|d| vec![d]),
            Err(d) => vec![d],
        };
        finish("ConfigureProvider", "", &diags);
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ReadResource", type_name = %req.type_name, "rpc start");
        let result = async {
            let schema = self.resource_schema(&req.type_name).map_err(|d| vec![d])?;
            let ty = schema.block.implied_type();
            let current_state = decode_dynamic(req.current_state.as_ref(), &ty, "current state")
                .map_err(|d| vec![d])?;
            let resp = guarded(
                "ReadResource",
                self.inner.read_resource(ReadRequest {
                    type_name: req.type_name.clone(),
                    current_state,
                    private: req.private.clone(),
                    cancel: self.stop.clone(),
                }),
            )
            .await
            .map_err(|d| vec![d])?;
            let new_state = schema.block.null_write_only(&resp.new_state);
            let mut diags = resp.diagnostics;
            match encode_dynamic(&new_state, &ty, "new state") {
                Ok(dv) => Ok((Some(dv), resp.private, diags)),
                Err(d) => {
                    diags.push(d);
                    Err(diags)
                }
            }
        }
        .await;
        let (new_state, private, diags) = match result {
            Ok(r) => r,
            Err(d) => (req.current_state.clone(), req.private.clone(), d),
        };
        finish("ReadResource", &req.type_name, &diags);
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diags_to_proto(&diags),
            private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "PlanResourceChange", type_name = %req.type_name, "rpc start");
        let result = async {
            let schema = self.resource_schema(&req.type_name).map_err(|d| vec![d])?;
            let ty = schema.block.implied_type();
            let dec = |dv: Option<&pb::DynamicValue>, what| {
                decode_dynamic(dv, &ty, what).map_err(|d| vec![d])
            };
            let prior_state = dec(req.prior_state.as_ref(), "prior state")?;
            let proposed_new_state = dec(req.proposed_new_state.as_ref(), "proposed new state")?;
            let config = dec(req.config.as_ref(), "configuration")?;
            let resp = guarded(
                "PlanResourceChange",
                self.inner.plan_resource_change(PlanRequest {
                    type_name: req.type_name.clone(),
                    prior_state,
                    proposed_new_state,
                    config,
                    prior_private: req.prior_private.clone(),
                    cancel: self.stop.clone(),
                }),
            )
            .await
            .map_err(|d| vec![d])?;
            let planned = schema.block.null_write_only(&resp.planned_state);
            let mut diags = resp.diagnostics;
            match encode_dynamic(&planned, &ty, "planned state") {
                Ok(dv) => Ok(pb::plan_resource_change::Response {
                    planned_state: Some(dv),
                    requires_replace: resp.requires_replace.iter().map(path_to_proto).collect(),
                    planned_private: resp.planned_private,
                    diagnostics: diags_to_proto(&diags),
                    legacy_type_system: false,
                    deferred: None,
                }),
                Err(d) => {
                    diags.push(d);
                    Err(diags)
                }
            }
        }
        .await;
        let resp = result.unwrap_or_else(|diags| pb::plan_resource_change::Response {
            diagnostics: diags_to_proto(&diags),
            ..Default::default()
        });
        tracing::debug!(rpc = "PlanResourceChange", type_name = %req.type_name, diagnostics = resp.diagnostics.len(), "rpc done");
        Ok(Response::new(resp))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %req.type_name, "rpc start");
        let checkpoint = Checkpoint::default();
        let result = async {
            let schema = self.resource_schema(&req.type_name).map_err(|d| vec![d])?;
            let ty = schema.block.implied_type();
            let dec = |dv: Option<&pb::DynamicValue>, what| {
                decode_dynamic(dv, &ty, what).map_err(|d| vec![d])
            };
            let prior_state = dec(req.prior_state.as_ref(), "prior state")?;
            let planned_state = dec(req.planned_state.as_ref(), "planned state")?;
            let config = dec(req.config.as_ref(), "configuration")?;
            let resp = guarded(
                "ApplyResourceChange",
                self.inner.apply_resource_change(ApplyRequest {
                    type_name: req.type_name.clone(),
                    prior_state,
                    planned_state,
                    config,
                    planned_private: req.planned_private.clone(),
                    cancel: self.stop.clone(),
                    checkpoint: checkpoint.clone(),
                }),
            )
            .await
            .map_err(|d| vec![d])?;
            let new_state = schema.block.null_write_only(&resp.new_state);
            let mut diags = resp.diagnostics;
            match encode_dynamic(&new_state, &ty, "new state") {
                Ok(dv) => Ok(pb::apply_resource_change::Response {
                    new_state: Some(dv),
                    private: resp.private,
                    diagnostics: diags_to_proto(&diags),
                    legacy_type_system: false,
                }),
                Err(d) => {
                    diags.push(d);
                    Err(diags)
                }
            }
        }
        .await;
        let resp = result.unwrap_or_else(|diags| {
            // No new state from the implementation: answer with the last state
            // it recorded as reached (an object it created must not be
            // forgotten), else the prior state, so Terraform never loses
            // track of an object.
            let reached = self
                .resource_schema(&req.type_name)
                .ok()
                .and_then(|schema| {
                    let (state, private) = checkpoint.latest()?;
                    let state = schema.block.null_write_only(&state);
                    let dv = encode_dynamic(&state, &schema.block.implied_type(), "state reached")
                        .ok()?;
                    Some((dv, private))
                });
            let (new_state, private) = match reached {
                Some((dv, private)) => (Some(dv), private),
                None => (req.prior_state.clone(), req.planned_private.clone()),
            };
            pb::apply_resource_change::Response {
                new_state,
                private,
                diagnostics: diags_to_proto(&diags),
                legacy_type_system: false,
            }
        });
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %req.type_name, diagnostics = resp.diagnostics.len(), "rpc done");
        Ok(Response::new(resp))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ImportResourceState", type_name = %req.type_name, "rpc start");
        let result = async {
            self.resource_schema(&req.type_name).map_err(|d| vec![d])?;
            let resp = guarded(
                "ImportResourceState",
                self.inner
                    .import_resource_state(&req.type_name, &req.id, self.stop.clone()),
            )
            .await
            .map_err(|d| vec![d])?;
            let mut diags = resp.diagnostics;
            let mut imported = Vec::new();
            for r in resp.imported {
                let schema = match self.resource_schema(&r.type_name) {
                    Ok(s) => s,
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                };
                let state = schema.block.null_write_only(&r.state);
                match encode_dynamic(&state, &schema.block.implied_type(), "imported state") {
                    Ok(dv) => imported.push(pb::import_resource_state::ImportedResource {
                        type_name: r.type_name,
                        state: Some(dv),
                        private: r.private,
                    }),
                    Err(d) => diags.push(d),
                }
            }
            Ok::<_, Vec<Diagnostic>>((imported, diags))
        }
        .await;
        let (imported, diags) = result.unwrap_or_else(|d| (Vec::new(), d));
        finish("ImportResourceState", &req.type_name, &diags);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        let d = Diagnostic::error(
            "Move not supported",
            format!(
                "This provider does not support moving resources of type {:?} into {:?}.",
                req.source_type_name, req.target_type_name
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: vec![diag_to_proto(&d)],
            target_private: Vec::new(),
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "ReadDataSource", type_name = %req.type_name, "rpc start");
        let result = async {
            let schema = self
                .data_source_schema(&req.type_name)
                .map_err(|d| vec![d])?;
            let ty = schema.block.implied_type();
            let config = decode_dynamic(req.config.as_ref(), &ty, "data source configuration")
                .map_err(|d| vec![d])?;
            let resp = guarded(
                "ReadDataSource",
                self.inner.read_data_source(DataSourceRequest {
                    type_name: req.type_name.clone(),
                    config,
                    cancel: self.stop.clone(),
                }),
            )
            .await
            .map_err(|d| vec![d])?;
            let mut diags = resp.diagnostics;
            if resp.state.is_null() {
                // Terraform wants no state with an error, and a state without.
                return if diags.iter().any(|d| d.severity == Severity::Error) {
                    Ok((None, diags))
                } else {
                    diags.push(Diagnostic::error(
                        "Provider produced no data",
                        "The data source returned no value. This is a bug in the provider.",
                    ));
                    Err(diags)
                };
            }
            let state = schema.block.null_write_only(&resp.state);
            match encode_dynamic(&state, &ty, "data source state") {
                Ok(dv) => Ok((Some(dv), diags)),
                Err(d) => {
                    diags.push(d);
                    Err(diags)
                }
            }
        }
        .await;
        let (state, diags) = match result {
            Ok(r) => r,
            Err(d) => (None, d),
        };
        finish("ReadDataSource", &req.type_name, &diags);
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: vec![diag_to_proto(&unknown_type_diag(
                    "ephemeral resource",
                    &req.type_name,
                ))],
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: vec![diag_to_proto(&unknown_type_diag(
                "ephemeral resource",
                &req.type_name,
            ))],
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: vec![diag_to_proto(&unknown_type_diag(
                "ephemeral resource",
                &req.type_name,
            ))],
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: vec![diag_to_proto(&unknown_type_diag(
                "ephemeral resource",
                &req.type_name,
            ))],
        }))
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = req.into_inner();
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!(
                    "This provider does not define a function named {:?}.",
                    req.name
                ),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!(
            rpc = "StopProvider",
            "stop requested; cancelling in-flight operations"
        );
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
