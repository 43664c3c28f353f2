//! go-plugin "automatic mTLS".
//!
//! Terraform generates a self-signed (CA) client certificate, passes it as
//! PEM in `PLUGIN_CLIENT_CERT`, and expects the plugin to answer with its own
//! fresh self-signed server certificate (base64 DER in the handshake line,
//! verified by Terraform for `ServerName: localhost`). The plugin must then
//! require that exact client certificate on every connection.
//!
//! webpki rejects a CA certificate used as an end entity, so client
//! verification is done by [`PinnedCertVerifier`]: byte-equal DER pinning
//! plus handshake signature verification with the aws-lc-rs algorithms.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error as TlsError, SignatureScheme,
};

/// The process-wide crypto provider (aws-lc-rs).
pub fn crypto_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Installs aws-lc-rs as the process-wide rustls crypto provider. Call once
/// at the very start of `main`, before anything (tonic, the AWS SDK) builds
/// a TLS config; a second call is harmless.
pub fn install_crypto_provider() {
    let _already_installed = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Verifies that the peer presents exactly one pinned certificate (byte-equal
/// DER) and that it signed the TLS handshake. Usable on both sides: as the
/// server's client-certificate verifier (mandatory client auth) and as a
/// client's server-certificate verifier.
#[derive(Debug)]
pub struct PinnedCertVerifier {
    pinned: CertificateDer<'static>,
    algs: WebPkiSupportedAlgorithms,
}

impl PinnedCertVerifier {
    /// Pins `der`.
    pub fn new(der: CertificateDer<'static>) -> Self {
        PinnedCertVerifier {
            pinned: der,
            algs: crypto_provider().signature_verification_algorithms,
        }
    }

    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), TlsError> {
        if presented.as_ref() == self.pinned.as_ref() {
            Ok(())
        } else {
            Err(TlsError::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }
}

/// The handshake signature checks, the same for the client and the server
/// verifier traits: webpki's, with the process's crypto provider's
/// algorithms.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls12_signature(message, cert, dss, &self.algs)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, TlsError> {
            verify_tls13_signature(message, cert, dss, &self.algs)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algs.supported_schemes()
        }
    };
}

impl ClientCertVerifier for PinnedCertVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, TlsError> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }

    handshake_signatures!();
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }

    handshake_signatures!();
}

/// A generated certificate and its private key.
#[derive(Debug)]
pub struct GeneratedCert {
    /// DER certificate.
    pub cert: CertificateDer<'static>,
    /// PKCS#8 DER private key.
    pub key: PrivateKeyDer<'static>,
    /// PEM certificate.
    pub cert_pem: String,
}

/// Generates a fresh self-signed certificate shaped like go-plugin's: CN and
/// SAN `localhost`, CA basic constraints, server+client auth EKUs, ECDSA
/// P-256, valid from 30 seconds ago for ~30 years.
pub fn generate_self_signed(organization: &str) -> anyhow::Result<GeneratedCert> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Dn, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
    let mut dn = Dn::new();
    dn.push(DnType::CommonName, "localhost");
    dn.push(DnType::OrganizationName, organization);
    params.distinguished_name = dn;
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
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(30);
    params.not_after = now + time::Duration::days(365 * 30);
    let cert = params.self_signed(&key)?;
    Ok(GeneratedCert {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        cert_pem: cert.pem(),
    })
}

/// Parses the first certificate of a PEM bundle.
pub fn parse_pem_cert(pem: &str) -> anyhow::Result<CertificateDer<'static>> {
    use rustls_pki_types::pem::PemObject as _;
    let first = CertificateDer::pem_slice_iter(pem.as_bytes()).next();
    match first {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(anyhow::anyhow!("invalid PEM certificate: {e}")),
        None => Err(anyhow::anyhow!("no certificate found in PEM data")),
    }
}

/// The TLS configuration for serving when `PLUGIN_CLIENT_CERT` is set.
/// Returns the rustls config and the server certificate (for the handshake).
pub fn server_config(
    client_cert_pem: &str,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, CertificateDer<'static>)> {
    let client_cert = parse_pem_cert(client_cert_pem)?;
    let generated = generate_self_signed("route53delegation")?;
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(PinnedCertVerifier::new(client_cert)))
        .with_single_cert(vec![generated.cert.clone()], generated.key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok((Arc::new(config), generated.cert))
}
