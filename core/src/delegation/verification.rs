//! The engine's side of verification: verify after a change, the refresh check, negative-caching notes, and summaries for state.

use super::*;

impl Engine {
    /// The quick DNS check of a refresh ([`verify::refresh_check`]) and what
    /// it means for state ([`crate::delegation::refresh::refresh_outcome`]). Runs when
    /// verification and `verify.on_refresh` are on.
    pub async fn refresh_verification(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        parent_zone: &HostedZone,
    ) -> crate::delegation::refresh::RefreshOutcome {
        let keep = crate::delegation::refresh::RefreshOutcome {
            verification: state.verification.clone(),
            warning: None,
        };
        if !spec.verify.enabled || !spec.verify.on_refresh || state.name_servers.is_empty() {
            return keep;
        }
        let client = DnsClient::new(verify::REFRESH_QUERY_TIMEOUT, verify::REFRESH_RETRIES);
        let resolver = match self.resolver_with(&spec.verify, client.clone()) {
            Ok(r) => r,
            Err(e) => {
                return crate::delegation::refresh::RefreshOutcome {
                    warning: Some(format!(
                    "the refresh check of {} could not start: {e}; the last verification is kept",
                    spec.name
                )),
                    ..keep
                }
            }
        };
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: parent_zone.name.clone(),
            parent_name_servers: parent_zone.name_servers.clone(),
            child_name_servers: state.name_servers.clone(),
        };
        match verify::refresh_check(&req, &resolver, client, verify::REFRESH_BUDGET).await {
            Ok(report) => {
                tracing::info!(name = %spec.name, passed = report.passed, "refresh check: {}", report.summary());
                crate::delegation::refresh::refresh_outcome(
                    &spec.name,
                    state.verification.as_ref(),
                    &report,
                    SystemTime::now(),
                )
            }
            Err(e) => crate::delegation::refresh::RefreshOutcome {
                warning: Some(format!(
                    "the refresh check of {} could not start: {e}",
                    spec.name
                )),
                ..keep
            },
        }
    }

    /// Verifies an existing delegation once (polling until the spec's
    /// timeout), for example right after import.
    pub async fn verify_state(
        &self,
        spec: &LinkSpec,
        state: &LinkState,
        cancel: &CancellationToken,
    ) -> VerificationSummary {
        if spec.parent.kind != ParentKind::Route53 {
            return self.verify_state_external(spec, state, cancel).await;
        }
        let parent = match self.clients.route53(&spec.parent.account).await {
            Ok(p) => p,
            Err(e) => return failed_summary(e.to_string()),
        };
        let parent_zone = match zone::get_zone(&parent, &state.parent_zone_id).await {
            Ok(Some(z)) => z,
            Ok(None) => {
                return failed_summary(format!(
                    "the parent hosted zone {} no longer exists",
                    state.parent_zone_id
                ))
            }
            Err(e) => return failed_summary(e.to_string()),
        };
        let child = match self.clients.route53(&spec.child.account).await {
            Ok(c) => c,
            Err(e) => return failed_summary(e.to_string()),
        };
        let ctx = Ctx {
            parent,
            child,
            parent_zone,
        };
        match self
            .verify(spec, &ctx, state, spec.verify.timeout, cancel)
            .await
        {
            Ok(r) => summary_of(&r, None),
            Err(e) => failed_summary(e.to_string()),
        }
    }

    pub(super) async fn verify(
        &self,
        spec: &LinkSpec,
        ctx: &Ctx,
        state: &LinkState,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> std::result::Result<VerificationReport, verify::VerifyError> {
        let resolver = self
            .resolver_for(&spec.verify)
            .map_err(|e| verify::VerifyError::Setup(e.to_string()))?;
        let req = VerifyRequest {
            name: spec.name.clone(),
            parent_zone: ctx.parent_zone.name.clone(),
            parent_name_servers: ctx.parent_zone.name_servers.clone(),
            child_name_servers: state.name_servers.clone(),
        };
        let recursive = if spec.verify.recursive {
            Some(resolver.resolvers().to_vec())
        } else {
            None
        };
        let opts = VerifyOptions {
            query: DnsClient::default(),
            deadline: timeout,
            poll_interval: Duration::from_millis(500),
            recursive,
            require_recursive: spec.verify.recursive,
        };
        verify::verify(&req, &resolver, &opts, cancel).await
    }

    /// For a new delegation: how long resolvers may keep an NXDOMAIN they
    /// got before it existed (the parent SOA's negative TTL).
    pub(super) async fn negative_caching(&self, spec: &LinkSpec, ctx: &Ctx) -> Option<Finding> {
        let resolver = self.resolver_for(&spec.verify).ok()?;
        let seconds = verify::negative_caching_ttl(
            &ctx.parent_zone.name,
            &ctx.parent_zone.name_servers,
            &resolver,
            &DnsClient::new(Duration::from_secs(1), 1),
        )
        .await?;
        Some(Finding::NegativeCaching {
            name: spec.name.clone(),
            parent_zone: ctx.parent_zone.name.clone(),
            seconds,
        })
    }

    pub(super) async fn observe(
        &self,
        ctx: &Ctx,
        spec: &LinkSpec,
        zone_id: Option<String>,
        last_written: Option<NsRecord>,
    ) -> Result<Observed> {
        let child_zone = match zone_id {
            Some(id) => zone::get_zone(&ctx.child, &id).await?,
            // No state: a zone an interrupted or tainted earlier attempt
            // created is this delegation's own.
            None => self.own_zone(&ctx.child, spec, &ctx.parent_zone.id).await?,
        };
        if let Some(z) = &child_zone {
            if z.name != spec.name {
                return Err(Error::InvalidSetting {
                    attribute: "child.zone_id".into(),
                    message: format!(
                        "hosted zone {} is named {}, not {}",
                        z.id, z.name, spec.name
                    ),
                });
            }
        }
        let parent_record = self
            .parent_ns(&ctx.parent, spec, &ctx.parent_zone.id)
            .await?;
        Ok(Observed {
            child_zone: child_zone.map(|z| ObservedZone {
                id: z.id,
                name_servers: z.name_servers,
            }),
            parent_record,
            last_written,
        })
    }
}

pub(crate) fn summary_of(
    report: &VerificationReport,
    status: Option<VerifyStatus>,
) -> VerificationSummary {
    VerificationSummary {
        status: status.unwrap_or(if report.passed {
            VerifyStatus::Verified
        } else {
            VerifyStatus::Failed
        }),
        checked_at: SystemTime::now(),
        servers_checked: report.servers_checked() as u32,
        summary: report.summary(),
        servers: report.servers(),
    }
}

/// The summary when verification is switched off.
pub(crate) fn skipped_summary() -> VerificationSummary {
    VerificationSummary {
        status: VerifyStatus::Skipped,
        checked_at: SystemTime::now(),
        servers_checked: 0,
        summary: "verification is switched off (verify.enabled = false)".into(),
        servers: Vec::new(),
    }
}

/// The summary of a verification cut short by cancellation, with what its
/// last attempt saw.
pub(crate) fn cancelled_summary(
    name: &DomainName,
    last_report: Option<&VerificationReport>,
) -> VerificationSummary {
    VerificationSummary {
        status: VerifyStatus::Cancelled,
        checked_at: SystemTime::now(),
        servers_checked: last_report.map_or(0, |r| r.servers_checked() as u32),
        summary: format!("verification of {name} was interrupted"),
        servers: last_report.map(|r| r.servers()).unwrap_or_default(),
    }
}

pub(super) fn failed_summary(why: String) -> VerificationSummary {
    VerificationSummary {
        status: VerifyStatus::Failed,
        checked_at: SystemTime::now(),
        servers_checked: 0,
        summary: why,
        servers: Vec::new(),
    }
}

pub(crate) fn failure_text(report: &VerificationReport) -> String {
    let mut s = report.summary();
    for f in &report.findings {
        s.push_str("; ");
        s.push_str(&f.message());
    }
    s
}
