//! ValidateProviderConfig, ValidateResourceConfig,
//! ValidateDataResourceConfig and ConfigureProvider: decode the configuration
//! with the schema, hand it to the implementation, answer its diagnostics.

use tonic::{Request, Response, Status};

use super::super::convert::{decode_dynamic, diags_to_proto};
use super::super::proto::tfplugin6 as pb;
use super::guard::{finish, guarded};
use super::ProviderService;

impl ProviderService {
    pub(super) async fn validate_provider(
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

    pub(super) async fn validate_resource(
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

    pub(super) async fn validate_data_source(
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

    pub(super) async fn configure(
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
}
