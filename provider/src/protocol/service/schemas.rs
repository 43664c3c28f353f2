//! GetMetadata and GetProviderSchema: the type names and schemas the
//! implementation declared (computed once in [`ProviderService::new`]), with
//! an invalid schema reported as an error diagnostic.

use tonic::{Request, Response, Status};

use super::super::convert::{diag_to_proto, schema_to_proto};
use super::super::diag::Diagnostic;
use super::super::proto::tfplugin6 as pb;
use super::ProviderService;

impl ProviderService {
    pub(super) fn server_capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: false,
        }
    }

    pub(super) async fn metadata(
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

    pub(super) async fn schemas(
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
}
