//! Running the binary by hand, plain-TCP mode and debug mode.

mod protocol_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use protocol_common::{plain_channel, Plugin, BIN};
use route53delegation_provider::protocol::proto::plugin::{
    grpc_controller_client::GrpcControllerClient, Empty,
};
use route53delegation_provider::protocol::proto::tfplugin6::{
    get_metadata, provider_client::ProviderClient,
};

#[test]
fn without_magic_cookie_exits_with_help() {
    let out = Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "stdout must stay empty");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("This binary is a plugin. These are not meant to be executed directly.")
    );
    assert!(stderr.contains("Please execute the program that consumes these plugins"));
    assert!(
        stderr.contains("required_providers"),
        "explains how to use it: {stderr}"
    );

    let wrong = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", "nope")
        .output()
        .expect("run");
    assert_eq!(wrong.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tcp_without_client_cert() {
    let mut plugin = Plugin::start(None);
    assert!(plugin.server_cert.is_none());
    assert!(plugin.handshake.ends_with("|grpc|"), "{}", plugin.handshake);
    let channel = plain_channel(plugin.addr).await;
    let md = ProviderClient::new(channel.clone())
        .get_metadata(get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    let caps = md.server_capabilities.expect("capabilities");
    assert!(caps.get_provider_schema_optional);
    assert!(!caps.plan_destroy);
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("shutdown");
    assert!(plugin
        .wait_exit(Duration::from_secs(10))
        .expect("exits")
        .success());
}

#[tokio::test]
async fn port_range_is_respected() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = listener.local_addr().unwrap().port();
    drop(listener);
    let mut child = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", protocol_common::COOKIE)
        .env("PLUGIN_MIN_PORT", base.to_string())
        .env("PLUGIN_MAX_PORT", base.saturating_add(20).to_string())
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port: u16 = line
        .split('|')
        .nth(3)
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((base..=base + 20).contains(&port), "{line}");
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_prints_reattach_and_stops_on_sigint() {
    let mut child = Command::new(BIN)
        .arg("-debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env("PLUGIN_CLIENT_CERT", "ignored in debug mode")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let json = line
        .trim_end()
        .strip_prefix("TF_REATTACH_PROVIDERS='")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or_else(|| panic!("unexpected debug line {line:?}"));
    let v: serde_json::Value = serde_json::from_str(json).expect("reattach JSON");
    let p = &v["registry.terraform.io/route53delegation/route53delegation"];
    assert_eq!(p["Protocol"], "grpc");
    assert_eq!(p["ProtocolVersion"], 6);
    assert_eq!(p["Test"], true);
    assert_eq!(p["Pid"], child.id());
    assert_eq!(p["Addr"]["Network"], "tcp");
    let addr: std::net::SocketAddr = p["Addr"]["String"].as_str().unwrap().parse().unwrap();

    // Plain TCP in debug mode.
    let channel = plain_channel(addr).await;
    ProviderClient::new(channel)
        .get_metadata(get_metadata::Request {})
        .await
        .expect("metadata");

    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let start = std::time::Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "debug server must stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
