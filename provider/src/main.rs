//! `terraform-provider-route53delegation`: the plugin binary Terraform runs.

use std::process::ExitCode;
use std::sync::Arc;

use route53delegation_provider::protocol::{self, ProviderImpl, ServeError};
use route53delegation_provider::provider_impl::Route53DelegationProvider;

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
        let provider: Arc<dyn ProviderImpl> = Arc::new(Route53DelegationProvider::new());
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
