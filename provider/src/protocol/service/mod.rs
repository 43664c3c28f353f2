//! The `tfplugin6.Provider` gRPC service on top of a [`ProviderImpl`]
//! (go-plugin's own services are in [`super::plugin_services`], the
//! protobuf conversions in [`super::convert`]).
//!
//! Every Provider RPC converts protobuf ⇄ protocol-neutral types, never
//! panics on malformed input (it answers with an error diagnostic instead),
//! catches panics of the implementation, and never logs values (they may hold
//! credentials): only RPC names, resource type names and diagnostic counts.
//!
//! One module per group of RPCs, each an `impl ProviderService` block of its
//! own that the trait implementation below dispatches to: `schemas`
//! (GetMetadata, GetProviderSchema), `config` (the Validate*Config RPCs and
//! ConfigureProvider), `resource_state` (UpgradeResourceState,
//! ReadResource, ImportResourceState, MoveResourceState), `resource_change`
//! (PlanResourceChange, ApplyResourceChange), `data_source`
//! (ReadDataSource), `unsupported` (ephemeral resources, functions);
//! `guard` holds what they share (panics to diagnostics, logging without
//! values). StopProvider is here: it cancels the service's token.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::diag::Diagnostic;
use super::proto::tfplugin6 as pb;
use super::provider::ProviderImpl;
use super::schema::Schema;

mod config;
mod data_source;
mod guard;
mod resource_change;
mod resource_state;
mod schemas;
mod unsupported;

use guard::unknown_type_diag;

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
}

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        req: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        self.metadata(req).await
    }

    async fn get_provider_schema(
        &self,
        req: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        self.schemas(req).await
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        self.validate_provider(req).await
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        self.validate_resource(req).await
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        self.validate_data_source(req).await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        self.upgrade_state(req).await
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        self.configure(req).await
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        self.read_state(req).await
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        self.plan_change(req).await
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        self.apply_change(req).await
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        self.import_state(req).await
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        self.move_state(req).await
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        self.read_data(req).await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        self.validate_ephemeral(req).await
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        self.open_ephemeral(req).await
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        self.renew_ephemeral(req).await
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        self.close_ephemeral(req).await
    }

    async fn get_functions(
        &self,
        req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        self.functions(req).await
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        self.call_missing_function(req).await
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
