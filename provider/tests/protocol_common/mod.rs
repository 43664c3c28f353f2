//! Shared helpers for the protocol integration tests: spawning the plugin
//! binary and talking gRPC to it over plain TCP or mTLS.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use route53delegation_provider::protocol::tls::{
    generate_self_signed, GeneratedCert, PinnedCertVerifier,
};
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};

pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-route53delegation");

/// A running plugin process and its parsed handshake.
pub struct Plugin {
    pub child: Child,
    pub addr: SocketAddr,
    pub server_cert: Option<CertificateDer<'static>>,
    pub handshake: String,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Plugin {
    /// Starts the plugin like Terraform would; `client_cert_pem` enables mTLS.
    pub fn start(client_cert_pem: Option<&str>) -> Plugin {
        let mut cmd = Command::new(BIN);
        cmd.env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .env_remove("PLUGIN_MIN_PORT")
            .env_remove("PLUGIN_MAX_PORT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match client_cert_pem {
            Some(pem) => cmd.env("PLUGIN_CLIENT_CERT", pem),
            None => cmd.env_remove("PLUGIN_CLIENT_CERT"),
        };
        let mut child = cmd.spawn().expect("spawn plugin");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read handshake");
        let handshake = line.trim_end().to_owned();
        let parts: Vec<&str> = handshake.split('|').collect();
        assert_eq!(parts.len(), 6, "handshake line {handshake:?}");
        assert_eq!(parts[0], "1");
        assert_eq!(parts[1], "6");
        assert_eq!(parts[2], "tcp");
        assert_eq!(parts[4], "grpc");
        let addr: SocketAddr = parts[3].parse().expect("address");
        assert!(addr.ip().is_loopback());
        let server_cert = if parts[5].is_empty() {
            None
        } else {
            let der = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(parts[5])
                .expect("go-plugin uses unpadded standard base64");
            Some(CertificateDer::from(der))
        };
        Plugin {
            child,
            addr,
            server_cert,
            handshake,
        }
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Sends a signal with the `kill` utility.
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
    }
}

/// A client certificate shaped like the one go-plugin (Terraform) makes:
/// self-signed CA, CN/SAN localhost, ECDSA P-521.
pub fn client_cert() -> GeneratedCert {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, PKCS_ECDSA_P521_SHA512,
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyAgreement,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).expect("self-signed");
    GeneratedCert {
        cert: cert.der().clone(),
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        cert_pem: cert.pem(),
    }
}

/// A second kind of client certificate (our own generator, P-256).
pub fn other_client_cert() -> GeneratedCert {
    generate_self_signed("Someone Else").expect("client cert")
}

fn client_tls(
    server_cert: CertificateDer<'static>,
    client: Option<&GeneratedCert>,
) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedCertVerifier::new(server_cert)));
    let mut config = match client {
        Some(c) => builder
            .with_client_auth_cert(vec![c.cert.clone()], c.key.clone_key())
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// A gRPC channel over mTLS (client cert optional, to test refusal).
pub async fn tls_channel(
    addr: SocketAddr,
    server_cert: CertificateDer<'static>,
    client: Option<&GeneratedCert>,
) -> Result<Channel, tonic::transport::Error> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls(server_cert, client)));
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_uri| {
            let connector = connector.clone();
            async move {
                let tcp = TcpStream::connect(addr).await?;
                let name = ServerName::try_from("localhost").expect("name");
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

/// A plain-TCP gRPC channel (HTTP/2 prior knowledge).
pub async fn plain_channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}
