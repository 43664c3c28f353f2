//! The plugin binary's go-plugin handshake and automatic mTLS: only the
//! exact certificate from PLUGIN_CLIENT_CERT may connect.

mod protocol_common;

use std::time::Duration;

use protocol_common::{client_cert, tls_channel, Plugin};

use route53delegation_provider::protocol::proto::grpc_health_v1::{
    health_client::HealthClient, HealthCheckRequest,
};
use route53delegation_provider::protocol::proto::plugin::{
    grpc_controller_client::GrpcControllerClient, Empty,
};
use route53delegation_provider::protocol::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};

async fn try_get_schema(
    plugin: &Plugin,
    client: Option<&route53delegation_provider::protocol::tls::GeneratedCert>,
) -> Result<(), String> {
    let cert = plugin
        .server_cert
        .clone()
        .expect("server cert in handshake");
    let fut = async {
        let channel = tls_channel(plugin.addr, cert, client)
            .await
            .map_err(|e| format!("connect: {e:?}"))?;
        ProviderClient::new(channel)
            .get_provider_schema(get_provider_schema::Request {})
            .await
            .map(|_| ())
            .map_err(|e| format!("call: {e:?}"))
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .unwrap_or_else(|_| Err("timed out".to_owned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_client_cert_is_required() {
    let trusted = client_cert();
    let mut plugin = Plugin::start(Some(&trusted.cert_pem));
    assert!(
        plugin.server_cert.is_some(),
        "mTLS handshake must carry the server cert"
    );

    // (a) the pinned certificate works, for the provider and health services.
    try_get_schema(&plugin, Some(&trusted))
        .await
        .expect("trusted client");
    let channel = tls_channel(
        plugin.addr,
        plugin.server_cert.clone().unwrap(),
        Some(&trusted),
    )
    .await
    .expect("connect");
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .expect("health")
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");

    // (b) no client certificate: refused.
    let err = try_get_schema(&plugin, None)
        .await
        .expect_err("no client cert must be refused");
    eprintln!("no-cert client refused as expected: {err}");

    // (c) another (equally well-formed) certificate: refused.
    for other in [client_cert(), protocol_common::other_client_cert()] {
        let err = try_get_schema(&plugin, Some(&other))
            .await
            .expect_err("other cert must be refused");
        eprintln!("other-cert client refused as expected: {err}");
    }

    // The trusted client still works afterwards; Shutdown ends the process.
    try_get_schema(&plugin, Some(&trusted))
        .await
        .expect("trusted client again");
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("shutdown");
    let status = plugin
        .wait_exit(Duration::from_secs(10))
        .expect("plugin exits after Shutdown");
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_is_ignored_in_plugin_mode() {
    let trusted = client_cert();
    let mut plugin = Plugin::start(Some(&trusted.cert_pem));
    plugin.signal("-INT");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "SIGINT must not kill the plugin"
    );
    try_get_schema(&plugin, Some(&trusted))
        .await
        .expect("still serving after SIGINT");
    let channel = tls_channel(
        plugin.addr,
        plugin.server_cert.clone().unwrap(),
        Some(&trusted),
    )
    .await
    .expect("connect");
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("shutdown");
    assert!(plugin.wait_exit(Duration::from_secs(10)).is_some());
}
