//! The lifecycle calls: plan, apply (create, update, destroy), read and
//! import, on top of an [`Engine`].

use std::time::Duration;

use route53delegation::delegation::{Notice, Preflight, VerifySpec, DEFAULT_TTL};
use route53delegation::diagnose::Finding;
use route53delegation::{CancellationToken, Engine, LinkSpec, LinkState};

use super::diag::{error_diag, state_problems};
use super::state::{encode_private, with_state};
use super::{
    core_error_diag, created_plan, import_id, link_state, parse_config, PLAN_LOOKUP_TIMEOUT,
    TYPE_NAME,
};
use crate::protocol::{
    ApplyRequest, ApplyResponse, Diagnostic, ImportResponse, ImportedResource, PlanRequest,
    PlanResponse, ReadRequest, ReadResponse, Value,
};

/// The resource's lifecycle on top of an engine.
#[derive(Debug, Clone)]
pub struct Link {
    engine: Engine,
    defaults: super::VerifyDefaults,
}

impl Link {
    /// A resource served by this engine.
    pub fn new(engine: Engine) -> Self {
        Self::with_defaults(engine, super::VerifyDefaults::default())
    }

    /// A resource served by this engine, with the provider's defaults for
    /// every link's `verify` block.
    pub fn with_defaults(engine: Engine, defaults: super::VerifyDefaults) -> Self {
        Link { engine, defaults }
    }

    /// ValidateResourceConfig.
    pub fn validate(config: &Value) -> Vec<Diagnostic> {
        parse_config(config).1
    }

    /// PlanResourceChange.
    pub async fn plan(&self, req: PlanRequest) -> PlanResponse {
        self.plan_with(req, &CancellationToken::new()).await
    }

    /// PlanResourceChange, ended early by `cancel` (StopProvider): the
    /// plan-time lookups stop and plan reports the interruption.
    pub async fn plan_with(&self, req: PlanRequest, cancel: &CancellationToken) -> PlanResponse {
        let fallback = req.proposed_new_state.clone();
        tokio::select! {
            biased;
            () = cancel.cancelled() => PlanResponse {
                planned_state: fallback,
                diagnostics: vec![Diagnostic::error(
                    "Interrupted",
                    "planning route53delegation_link: cancelled",
                )],
                ..Default::default()
            },
            r = self.plan_inner(req) => r,
        }
    }

    async fn plan_inner(&self, mut req: PlanRequest) -> PlanResponse {
        req.config = self.defaults.fill(&req.config);
        let mut resp = PlanResponse {
            planned_private: req.prior_private.clone(),
            ..Default::default()
        };
        if req.proposed_new_state.is_null() {
            // Destroy.
            resp.planned_state = Value::Null;
            return resp;
        }
        let (cfg, diags) = parse_config(&req.config);
        if diags.iter().any(Diagnostic::is_error) {
            resp.diagnostics = diags;
            resp.planned_state = req.proposed_new_state.clone();
            return resp;
        }
        if !req.prior_state.is_null() {
            let mut r = super::plan_rules::plan_update(
                &req.prior_state,
                &req.prior_private,
                &req.config,
                &req.proposed_new_state,
                cfg.as_ref(),
            );
            let mut all = diags;
            all.append(&mut r.diagnostics);
            if let Some(cfg) = cfg
                .as_ref()
                .filter(|_| update_key_changed(&req.prior_state, &req.config))
            {
                all.extend(self.check_update_key(&cfg.spec).await);
            }
            let moved_by = super::plan_rules::child_move_attribute(&req.prior_state, &req.config);
            if let (Some(cfg), Some(attribute)) = (cfg.as_ref(), moved_by) {
                if !all.iter().any(Diagnostic::is_error) {
                    let prior = prior_link_state(&req.prior_state, &req.prior_private);
                    all.extend(self.check_move(&cfg.spec, &prior, attribute).await);
                }
            }
            r.diagnostics = all;
            return r;
        }
        resp.diagnostics = diags;
        let mut planned = req.proposed_new_state.clone();
        let ttl = match req.config.get("ttl") {
            Some(Value::Null) | None => Value::int(DEFAULT_TTL),
            Some(v) => v.clone(),
        };
        planned.set("ttl", ttl);
        for k in [
            "id",
            "child_zone_id",
            "parent_zone_id",
            "parent_zone_name",
            "name_servers",
            "delegated_name_servers",
            "verification",
        ] {
            planned.set(k, Value::Unknown);
        }
        let manual = matches!(
            req.config.get("parent").and_then(|p| p.get("manual")),
            Some(Value::Object(_)) | Some(Value::Unknown)
        );
        planned.set(
            "registrar_instructions",
            if manual { Value::Unknown } else { Value::Null },
        );
        if let Some(cfg) = &cfg {
            // Plan-time lookups only warn early; they are bounded so that a
            // role still propagating does not hold the plan for long.
            let pre =
                tokio::time::timeout(PLAN_LOOKUP_TIMEOUT, self.engine.preflight(&cfg.spec, None))
                    .await;
            let pre = match pre {
                Ok(r) => r,
                Err(_) => Ok(Preflight::new(
                    None,
                    vec![Notice {
                        summary: "Not checked at plan time",
                        attribute: None,
                        detail: format!(
                            "the parent zone and the accounts of {} could not be checked within {}s (a role still propagating, or Route 53 slow); apply checks them again",
                            cfg.spec.name,
                            PLAN_LOOKUP_TIMEOUT.as_secs()
                        ),
                    }],
                )),
            };
            resp.diagnostics
                .extend(created_plan(&mut planned, &cfg.spec, pre));
        }
        resp.planned_state = planned;
        resp
    }

    /// A changed `dns_update` key, checked as a new link's is; bounded like
    /// every plan-time lookup (a server that does not answer in time is
    /// left to apply).
    async fn check_update_key(&self, spec: &LinkSpec) -> Vec<Diagnostic> {
        match tokio::time::timeout(PLAN_LOOKUP_TIMEOUT, self.engine.check_update_key(spec)).await {
            // On the block, not on key_secret: Terraform prints the line a
            // diagnostic points at, and that line holds the secret.
            Ok(Err(e)) => vec![core_error_diag(&e).with_attribute(
                crate::protocol::AttributePath::attr("parent").then_attr("dns_update"),
            )],
            Ok(Ok(())) | Err(_) => Vec::new(),
        }
    }

    /// A move of the child side that apply would refuse (the zone it
    /// leaves, which this link created, holds records of its own), told at
    /// plan on the setting that moves it; bounded like every plan-time
    /// lookup, and an account that cannot be read in time is left to apply,
    /// which checks again before its first write.
    async fn check_move(
        &self,
        spec: &LinkSpec,
        prior: &LinkState,
        attribute: crate::protocol::AttributePath,
    ) -> Vec<Diagnostic> {
        match tokio::time::timeout(PLAN_LOOKUP_TIMEOUT, self.engine.check_move(spec, prior)).await {
            Ok(Ok(Some(refusal))) => vec![Diagnostic::error(
                "Move would strand the old zone's records",
                refusal.to_string(),
            )
            .with_attribute(attribute)],
            Ok(Ok(None)) => Vec::new(),
            Ok(Err(e)) => {
                tracing::info!(name = %spec.name, error = %e, "move not checked at plan time; apply checks it");
                Vec::new()
            }
            Err(_) => {
                tracing::info!(name = %spec.name, "move not checked within the plan-time limit; apply checks it");
                Vec::new()
            }
        }
    }

    /// ApplyResourceChange.
    pub async fn apply(&self, mut req: ApplyRequest) -> ApplyResponse {
        req.config = self.defaults.fill(&req.config);
        let cancel: CancellationToken = req.cancel.clone();
        if req.planned_state.is_null() {
            return self.destroy(req, &cancel).await;
        }
        let (cfg, diags) = parse_config(&req.config);
        let Some(cfg) = cfg else {
            let mut d = diags;
            if d.is_empty() {
                d.push(Diagnostic::error(
                    "Invalid configuration",
                    "the configuration is incomplete at apply time",
                ));
            }
            return ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: d,
            };
        };
        let prior = (!req.prior_state.is_null())
            .then(|| prior_link_state(&req.prior_state, &req.planned_private));
        let timeout = if prior.is_some() {
            cfg.timeouts.update
        } else {
            cfg.timeouts.create
        };
        let base = req.planned_state.clone();
        // Each object created or written is recorded with the protocol layer
        // as it happens: should this apply panic, Terraform still gets it.
        let checkpoint = req.checkpoint.clone();
        let progress_base = base.clone();
        let progress_name = cfg.spec.name.clone();
        let progress = move |st: &LinkState| {
            checkpoint.record(
                with_state(&progress_base, &progress_name, st),
                encode_private(st),
            );
        };
        match self
            .engine
            .apply_with_progress(&cfg.spec, prior.as_ref(), timeout, &cancel, &progress)
            .await
        {
            Ok(applied) => {
                if let Some(r) = &applied.report {
                    tracing::info!(name = %cfg.spec.name, report = %r.render(), "delegation verified");
                }
                // Occluded records were a plan warning already: not twice.
                let diagnostics = applied
                    .findings
                    .iter()
                    .filter(|f| !matches!(f, Finding::OccludedRecords { .. }))
                    .map(|f| f.message())
                    .chain(applied.warnings.iter().cloned())
                    .map(|w| Diagnostic::warning("Delegation warning", w))
                    .collect();
                ApplyResponse {
                    new_state: with_state(&base, &cfg.spec.name, &applied.state),
                    private: encode_private(&applied.state),
                    diagnostics,
                }
            }
            Err(failure) => {
                let mut d = core_error_diag(&failure.error);
                if let Some(r) = &failure.report {
                    d.detail = format!("{}\n\n{}", d.detail, r.render());
                }
                let (new_state, private) = match &failure.partial {
                    Some(st) => (with_state(&base, &cfg.spec.name, st), encode_private(st)),
                    None => (req.prior_state.clone(), req.planned_private.clone()),
                };
                ApplyResponse {
                    new_state,
                    private,
                    diagnostics: vec![d],
                }
            }
        }
    }

    async fn destroy(&self, req: ApplyRequest, cancel: &CancellationToken) -> ApplyResponse {
        let (cfg, _) = parse_config(&req.prior_state);
        let Some(cfg) = cfg else {
            return ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: vec![Diagnostic::error(
                    "Cannot destroy",
                    "the stored state of this link is incomplete; import it again",
                )],
            };
        };
        let st = link_state(&req.prior_state, &req.planned_private);
        match self
            .engine
            .destroy(&cfg.spec, &st, cfg.timeouts.delete, cancel)
            .await
        {
            Ok(()) => ApplyResponse {
                new_state: Value::Null,
                private: Vec::new(),
                diagnostics: Vec::new(),
            },
            Err(e) => ApplyResponse {
                new_state: req.prior_state.clone(),
                private: req.planned_private.clone(),
                diagnostics: vec![core_error_diag(&e)],
            },
        }
    }

    /// ReadResource.
    pub async fn read(&self, req: ReadRequest) -> ReadResponse {
        // Read gets no configuration: the link's settings come from state,
        // with the provider's defaults where it sets none (never written
        // back: the state keeps what the configuration says).
        let (cfg, diags) = parse_config(&self.defaults.fill(&req.current_state));
        let Some(cfg) = cfg else {
            return ReadResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: vec![Diagnostic::error(
                    "Cannot read",
                    format!(
                        "the stored state of this link is incomplete or invalid{}; import it again",
                        state_problems(&diags)
                    ),
                )],
            };
        };
        let prior = link_state(&req.current_state, &req.private);
        // StopProvider (Ctrl-C) ends a read too, keeping the state as it was.
        let read = tokio::select! {
            biased;
            () = req.cancel.cancelled() => Err(route53delegation::Error::Cancelled {
                during: format!("reading the delegation of {}", cfg.spec.name),
            }),
            r = self.engine.read(&cfg.spec, &prior) => r,
        };
        match read {
            Ok(out) => {
                let diagnostics = out
                    .warnings
                    .iter()
                    .map(|w| Diagnostic::warning("Delegation drift", w.clone()))
                    .chain(
                        out.verification_warning
                            .iter()
                            .map(|w| Diagnostic::warning("Delegation not verified", w.clone())),
                    )
                    .collect();
                match out.state {
                    Some(st) => {
                        let mut st = st;
                        // Keep what this link wrote across reads.
                        st.written = prior.written.clone();
                        ReadResponse {
                            new_state: with_state(&req.current_state, &cfg.spec.name, &st),
                            private: encode_private(&st),
                            diagnostics,
                        }
                    }
                    None => ReadResponse {
                        new_state: Value::Null,
                        private: Vec::new(),
                        diagnostics,
                    },
                }
            }
            Err(e) => ReadResponse {
                new_state: req.current_state.clone(),
                private: req.private.clone(),
                diagnostics: vec![core_error_diag(&e)],
            },
        }
    }

    /// ImportResourceState.
    pub async fn import(&self, id: &str) -> ImportResponse {
        self.import_with(id, &CancellationToken::new()).await
    }

    /// ImportResourceState, ended early by `cancel` (StopProvider).
    pub async fn import_with(&self, id: &str, cancel: &CancellationToken) -> ImportResponse {
        let value = match import_id::parse(id) {
            Ok(v) => v,
            Err(e) => {
                return ImportResponse {
                    imported: Vec::new(),
                    diagnostics: vec![Diagnostic::error("Invalid import ID", e)],
                }
            }
        };
        let (cfg, diags) = parse_config(&value);
        let Some(cfg) = cfg else {
            // Name the import keys the user typed, not configuration paths.
            let detail = diags
                .iter()
                .map(|d| import_id::in_key_terms(&d.detail))
                .collect::<Vec<_>>()
                .join("; ");
            return ImportResponse {
                imported: Vec::new(),
                diagnostics: vec![Diagnostic::error(
                    "Invalid import ID",
                    format!("{detail}\n\n{}", import_id::HELP),
                )],
            };
        };
        match self.engine.import(&cfg.spec, cancel).await {
            Ok(imported) => {
                let mut st = imported.state;
                // Verify once, so that a plan after import has nothing to do
                // when the delegation is already right.
                let verify = VerifySpec {
                    timeout: Duration::from_secs(15),
                    ..cfg.spec.verify.clone()
                };
                let spec = LinkSpec {
                    verify,
                    ..cfg.spec.clone()
                };
                st.verification = Some(self.engine.verify_state(&spec, &st, cancel).await);
                let mut v = value.clone();
                if let Some(d) = &st.delegated {
                    v.set("ttl", Value::int(d.ttl));
                }
                let mut diagnostics = Vec::new();
                if cfg.spec.child.zone_id.is_none() {
                    diagnostics.push(if st.zone_owned {
                        Diagnostic::warning(
                            "Imported zone is managed",
                            format!(
                                "hosted zone {} was created by route53delegation for {}, so the link manages it: destroy deletes it (after removing the parent NS record); to keep it on destroy, set child.zone_id = \"{}\" in the configuration",
                                st.child_zone_id, cfg.spec.name, st.child_zone_id
                            ),
                        )
                    } else {
                        Diagnostic::warning(
                            "Imported zone is adopted",
                            format!(
                                "hosted zone {} was not created by route53delegation for {}, so the link adopts it: destroy removes the parent NS record and keeps the zone, and its comment is left alone",
                                st.child_zone_id, cfg.spec.name
                            ),
                        )
                    });
                }
                ImportResponse {
                    imported: vec![ImportedResource {
                        type_name: TYPE_NAME.into(),
                        state: with_state(&v, &cfg.spec.name, &st),
                        private: encode_private(&st),
                    }],
                    diagnostics,
                }
            }
            Err(e) => ImportResponse {
                imported: Vec::new(),
                diagnostics: vec![error_diag("Cannot import delegation", &e)],
            },
        }
    }
}

/// The prior state as the core sees it, with where its objects live: the
/// configuration they were made with, so that a move can find (and retire)
/// them.
fn prior_link_state(prior: &Value, private: &[u8]) -> LinkState {
    let mut st = link_state(prior, private);
    if let (Some(prior_cfg), _) = parse_config(prior) {
        st.parent_account = Some(prior_cfg.spec.parent.account);
        st.child_account = Some(prior_cfg.spec.child.account);
    }
    st
}

/// Whether the planned `dns_update` key (name, algorithm or secret) differs
/// from the one in state.
fn update_key_changed(prior: &Value, config: &Value) -> bool {
    let key = |v: &Value| {
        let d = v.get("parent").and_then(|p| p.get("dns_update"));
        ["key_name", "key_algorithm", "key_secret"].map(|k| {
            d.and_then(|d| d.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    let planned = key(config);
    planned[0].is_some() && planned != key(prior)
}
