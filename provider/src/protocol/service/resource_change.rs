//! A resource's changes: PlanResourceChange and ApplyResourceChange.
//! Write-only attributes are nulled in what goes back to Terraform; an apply
//! that fails answers with the last state the implementation recorded as
//! reached (its [`Checkpoint`]), else the prior state.

use tonic::{Request, Response, Status};

use super::super::convert::{decode_dynamic, diags_to_proto, encode_dynamic, path_to_proto};
use super::super::proto::tfplugin6 as pb;
use super::super::provider::{ApplyRequest, Checkpoint, PlanRequest};
use super::guard::guarded;
use super::ProviderService;

impl ProviderService {
    pub(super) async fn plan_change(
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

    pub(super) async fn apply_change(
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
}
