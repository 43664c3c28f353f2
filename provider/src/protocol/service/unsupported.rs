//! What this provider does not offer: ephemeral resources and functions.
//! Each RPC answers with an error diagnostic (or an empty list), never an
//! RPC error.

use tonic::{Request, Response, Status};

use super::super::convert::diag_to_proto;
use super::super::proto::tfplugin6 as pb;
use super::guard::unknown_type_diag;
use super::ProviderService;

impl ProviderService {
    pub(super) async fn validate_ephemeral(
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

    pub(super) async fn open_ephemeral(
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

    pub(super) async fn renew_ephemeral(
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

    pub(super) async fn close_ephemeral(
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

    pub(super) async fn functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    pub(super) async fn call_missing_function(
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
}
