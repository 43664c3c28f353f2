//! ReadDataSource: decode the configuration, read, and answer a state
//! without an error or an error without a state, as Terraform wants.

use tonic::{Request, Response, Status};

use super::super::convert::{decode_dynamic, diags_to_proto, encode_dynamic};
use super::super::diag::{Diagnostic, Severity};
use super::super::proto::tfplugin6 as pb;
use super::super::provider::DataSourceRequest;
use super::guard::{finish, guarded};
use super::ProviderService;

impl ProviderService {
    pub(super) async fn read_data(
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
}
