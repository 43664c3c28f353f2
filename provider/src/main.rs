//! `terraform-provider-route53delegation`: the plugin binary Terraform runs.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use route53delegation_provider::protocol::{
    self, ApplyRequest, ApplyResponse, Block, Diagnostic, PlanRequest, PlanResponse, ProviderImpl,
    ReadRequest, ReadResponse, Schema, ServeError,
};

/// PLACEHOLDER until the real provider exists: exposes no resources.
/// The lead replaces its use in `main` with
/// `route53delegation_provider::provider_impl::Route53DelegationProvider::new()`.
#[derive(Debug)]
struct PlaceholderProvider;

fn no_such_resource(type_name: &str) -> Vec<Diagnostic> {
    vec![Diagnostic::error(
        "Unknown resource type",
        format!("This build of the provider has no resource type {type_name:?}."),
    )]
}

#[protocol::async_trait]
impl ProviderImpl for PlaceholderProvider {
    fn provider_schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new().description("Verified Route 53 subdomain delegation."),
        )
    }

    fn resource_schemas(&self) -> BTreeMap<String, Schema> {
        BTreeMap::new()
    }

    async fn read_resource(&self, req: ReadRequest) -> ReadResponse {
        ReadResponse {
            diagnostics: no_such_resource(&req.type_name),
            ..Default::default()
        }
    }

    async fn plan_resource_change(&self, req: PlanRequest) -> PlanResponse {
        PlanResponse {
            diagnostics: no_such_resource(&req.type_name),
            ..Default::default()
        }
    }

    async fn apply_resource_change(&self, req: ApplyRequest) -> ApplyResponse {
        ApplyResponse {
            diagnostics: no_such_resource(&req.type_name),
            ..Default::default()
        }
    }
}

fn main() -> ExitCode {
    // Exactly one rustls crypto provider for the whole process, before
    // anything builds a TLS config.
    protocol::install_crypto_provider();
    protocol::logging::init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("failed to start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // PLACEHOLDER: replace with
        // Arc::new(route53delegation_provider::provider_impl::Route53DelegationProvider::new())
        let provider: Arc<dyn ProviderImpl> = Arc::new(PlaceholderProvider);
        protocol::serve(provider).await
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::NotLaunchedByTerraform) => {
            eprintln!("{}", protocol::server::NOT_A_PLUGIN_MESSAGE);
            ExitCode::FAILURE
        }
        Err(e) => {
            tracing::error!(error = %e, "provider failed");
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
