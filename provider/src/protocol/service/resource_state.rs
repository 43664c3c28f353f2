//! A resource's stored state: UpgradeResourceState, ReadResource,
//! ImportResourceState and MoveResourceState (refused). A read that fails
//! answers with the current state, so Terraform keeps what it had.

use tonic::{Request, Response, Status};

use super::super::convert::{decode_dynamic, diag_to_proto, diags_to_proto, encode_dynamic};
use super::super::diag::Diagnostic;
use super::super::proto::tfplugin6 as pb;
use super::super::provider::ReadRequest;
use super::super::value::Value;
use super::guard::{finish, guarded};
use super::ProviderService;

impl ProviderService {
    pub(super) async fn upgrade_state(
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

    pub(super) async fn read_state(
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

    pub(super) async fn import_state(
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

    pub(super) async fn move_state(
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
}
