//! Plugin process startup: go-plugin handshake, listener, optional mTLS,
//! signal handling and graceful shutdown.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;

use super::plugin_services::{BrokerService, ControllerService, HealthService, StdioService};
use super::proto::{grpc_health_v1 as health, plugin, tfplugin6 as pb};
use super::provider::ProviderImpl;
use super::service::ProviderService;

/// The provider's registry address.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/route53delegation/route53delegation";
/// go-plugin's handshake cookie name used by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// go-plugin's handshake cookie value used by Terraform.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// Terraform plugin protocol major version.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// Largest gRPC message accepted or sent by the Provider service.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Shown on stderr when the binary is run by hand.
pub const NOT_A_PLUGIN_MESSAGE: &str =
    "This binary is a plugin. These are not meant to be executed directly.
Please execute the program that consumes these plugins, which will
load any plugins automatically.

terraform-provider-route53delegation is a Terraform provider. To use it,
declare it in your configuration and run Terraform:

  terraform {
    required_providers {
      route53delegation = {
        source = \"route53delegation/route53delegation\"
      }
    }
  }

For provider development, run it with -debug and export the printed
TF_REATTACH_PROVIDERS value in the shell running Terraform.";

/// Errors from [`serve`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Started without the magic cookie (i.e. not by Terraform).
    #[error("{NOT_A_PLUGIN_MESSAGE}")]
    NotLaunchedByTerraform,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Debug mode: no cookie check, plain TCP, print `TF_REATTACH_PROVIDERS`,
    /// stop on Ctrl-C.
    pub debug: bool,
}

impl ServeOptions {
    /// Parses the process arguments (`-debug` / `--debug`).
    pub fn from_args() -> Self {
        let debug = std::env::args()
            .skip(1)
            .any(|a| a == "-debug" || a == "--debug");
        ServeOptions { debug }
    }
}

/// How often the provider checks that Terraform, its parent process, is
/// still alive.
pub const PARENT_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long in-flight work gets to notice the cancellation after Terraform
/// died, before the process exits regardless.
pub const PARENT_GONE_GRACE: Duration = Duration::from_millis(700);

/// Writes one line to stdout and flushes. Stdout belongs to the go-plugin
/// handshake; this is the only place the provider writes to it.
fn write_stdout_line(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Gives stdout back once the handshake line is written: file descriptor 1
/// is pointed at `/dev/null`, which closes our end of Terraform's pipe.
///
/// go-plugin's client keeps reading the plugin's stdout after the handshake
/// and, when the plugin exits, `exec.Cmd.Wait` closes the read end of that
/// pipe. If the reader has not yet seen end-of-file at that moment it logs
/// `[ERROR] provider: error encountered while scanning stdout: read |0: file
/// already closed` (a race that a busy machine loses about one run in ten).
/// Releasing the pipe right after the handshake gives the reader its
/// end-of-file while the provider is still serving, so nothing is left to
/// race at exit. Nothing else writes to stdout (logs go to stderr).
fn release_stdout() -> io::Result<()> {
    let null = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    rustix::stdio::dup2_stdout(&null).map_err(io::Error::from)
}

/// Stops the provider when Terraform is gone (killed with SIGKILL, crashed):
/// the parent process id changes when the parent exits, because the orphan
/// is re-parented. Polling `getppid` is cheap and, unlike
/// `PR_SET_PDEATHSIG` (which fires when the parent *thread* that forked us
/// exits, something the Go runtime may do while Terraform lives on), has no
/// false alarms. On noticing, in-flight work is cancelled exactly as
/// `StopProvider` does, the server is shut down, and after
/// [`PARENT_GONE_GRACE`] the process exits whatever is still running, so no
/// further AWS call is made on behalf of a Terraform that is gone.
fn watch_parent(stop: CancellationToken, shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PARENT_POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if std::os::unix::process::parent_id() != parent {
                break;
            }
        }
        tracing::warn!(
            parent_pid = parent,
            "Terraform (the parent process) exited; cancelling in-flight operations and stopping"
        );
        stop.cancel();
        shutdown.cancel();
        tokio::time::sleep(PARENT_GONE_GRACE).await;
        tracing::warn!("exiting: Terraform is gone");
        std::process::exit(1);
    });
}

/// The go-plugin handshake line.
pub fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|d| base64::engine::general_purpose::STANDARD_NO_PAD.encode(d))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

/// The `TF_REATTACH_PROVIDERS` JSON for debug mode.
pub fn reattach_json(addr: SocketAddr, pid: u32) -> String {
    serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": PLUGIN_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": {"Network": "tcp", "String": addr.to_string()},
        }
    })
    .to_string()
}

/// Binds 127.0.0.1, honouring `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT`.
async fn bind_listener(
    min_port: Option<u16>,
    max_port: Option<u16>,
) -> anyhow::Result<TcpListener> {
    match (min_port, max_port) {
        (Some(min), Some(max)) if min <= max && min > 0 => {
            for port in min..=max {
                if let Ok(l) = TcpListener::bind(("127.0.0.1", port)).await {
                    return Ok(l);
                }
            }
            anyhow::bail!("no free port in PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT ({min}..={max})")
        }
        _ => Ok(TcpListener::bind(("127.0.0.1", 0)).await?),
    }
}

fn env_port(name: &str) -> Option<u16> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// A plugin connection, plain or TLS.
#[derive(Debug)]
pub enum PluginConn {
    /// Plain TCP (no `PLUGIN_CLIENT_CERT`, or debug mode).
    Plain(TcpStream),
    /// mTLS-authenticated TCP.
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// Connection info attached to each request.
#[derive(Debug, Clone)]
pub struct PluginConnInfo {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// Whether the connection is mTLS-authenticated.
    pub tls: bool,
}

impl Connected for PluginConn {
    type ConnectInfo = PluginConnInfo;

    fn connect_info(&self) -> PluginConnInfo {
        match self {
            PluginConn::Plain(s) => PluginConnInfo {
                remote_addr: s.peer_addr().ok(),
                tls: false,
            },
            PluginConn::Tls(s) => PluginConnInfo {
                remote_addr: s.get_ref().0.peer_addr().ok(),
                tls: true,
            },
        }
    }
}

impl AsyncRead for PluginConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_flush(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            PluginConn::Plain(s) => s.is_write_vectored(),
            PluginConn::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// Accepts connections (doing the TLS handshake, if any, off the accept
/// loop) until `shutdown`, feeding established ones into `tx`.
async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    tx: mpsc::Sender<PluginConn>,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        match &tls {
            None => {
                let _ = tx.send(PluginConn::Plain(stream)).await;
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => {
                            tracing::debug!(%peer, "mTLS connection established");
                            let _ = tx.send(PluginConn::Tls(Box::new(s))).await;
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(%peer, error = %e, "refused connection: TLS handshake failed")
                        }
                        Err(_) => {
                            tracing::warn!(%peer, "refused connection: TLS handshake timed out")
                        }
                    }
                });
            }
        }
    }
}

/// Handles signals. SIGINT is ignored in plugin mode (Terraform forwards
/// Ctrl-C to the whole process group and then stops us via
/// StopProvider/Shutdown) and stops the server in debug mode. SIGTERM
/// cancels in-flight work as StopProvider does and shuts the server down.
fn handle_signals(
    debug: bool,
    stop: CancellationToken,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let term_shutdown = shutdown.clone();
    tokio::spawn(async move {
        if sigterm.recv().await.is_some() {
            tracing::info!("SIGTERM received; cancelling in-flight operations and stopping");
            stop.cancel();
            term_shutdown.cancel();
        }
    });
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::spawn(async move {
        while sigint.recv().await.is_some() {
            if debug {
                tracing::info!("interrupt received; stopping debug server");
                shutdown.cancel();
                break;
            }
            tracing::debug!("ignoring SIGINT; Terraform will stop the provider");
        }
    });
    Ok(())
}

/// Serves `provider` as a Terraform plugin until Terraform shuts it down
/// (or, in `-debug` mode, until Ctrl-C). Reads options from the process
/// arguments and go-plugin's environment variables.
pub async fn serve(provider: Arc<dyn ProviderImpl>) -> Result<(), ServeError> {
    serve_with(provider, ServeOptions::from_args()).await
}

/// [`serve`] with explicit options.
pub async fn serve_with(
    provider: Arc<dyn ProviderImpl>,
    opts: ServeOptions,
) -> Result<(), ServeError> {
    if !opts.debug && std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(ServeError::NotLaunchedByTerraform);
    }
    super::tls::install_crypto_provider();

    let shutdown = CancellationToken::new();
    // Cancelled by StopProvider, SIGTERM, or Terraform's death; reaches
    // every wait in the core.
    let stop = CancellationToken::new();
    handle_signals(opts.debug, stop.clone(), shutdown.clone())?;

    if let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS") {
        if !versions.split(',').any(|v| v.trim() == "6") {
            tracing::warn!(versions = %versions, "Terraform did not offer protocol 6; offering it anyway");
        }
    }

    let (min_port, max_port) = if opts.debug {
        (None, None)
    } else {
        (env_port("PLUGIN_MIN_PORT"), env_port("PLUGIN_MAX_PORT"))
    };
    let listener = bind_listener(min_port, max_port).await?;
    let addr = listener.local_addr().context("listener address")?;

    let client_cert = std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|c| !c.trim().is_empty());
    let (acceptor, server_cert) = match (&client_cert, opts.debug) {
        (Some(pem), false) => {
            let (config, cert) =
                super::tls::server_config(pem).context("configuring automatic mTLS")?;
            tracing::info!("configuring server automatic mTLS");
            (Some(TlsAcceptor::from(config)), Some(cert))
        }
        _ => {
            tracing::info!("serving plain TCP (no PLUGIN_CLIENT_CERT)");
            (None, None)
        }
    };

    let incoming = start_accepting(listener, acceptor, shutdown.clone());

    if opts.debug {
        let json = reattach_json(addr, std::process::id());
        tracing::info!(%addr, "provider started in debug mode");
        eprintln!(
            "Provider started in debug mode. To attach Terraform, run in another shell:\n\n    \
             export TF_REATTACH_PROVIDERS='{json}'\n\n(stop with Ctrl-C)"
        );
        write_stdout_line(&format!("TF_REATTACH_PROVIDERS='{json}'"))
            .context("writing to stdout")?;
    } else {
        tracing::debug!(%addr, tls = server_cert.is_some(), "plugin address");
        write_stdout_line(&handshake_line(
            addr,
            server_cert.as_ref().map(|c| c.as_ref()),
        ))
        .context("writing the handshake to stdout")?;
        release_stdout().context("releasing stdout after the handshake")?;
        watch_parent(stop.clone(), shutdown.clone());
    }

    run_server(provider, incoming, stop, shutdown).await
}

type Incoming = futures::stream::BoxStream<'static, io::Result<PluginConn>>;

fn start_accepting(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) -> Incoming {
    let (tx, rx) = mpsc::channel::<PluginConn>(16);
    tokio::spawn(accept_loop(listener, acceptor, tx, shutdown));
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|c| (Ok::<_, io::Error>(c), rx))
    }))
}

/// Serves `provider` over plain TCP on an already-bound `listener` until
/// `shutdown` is cancelled (or Terraform calls `GRPCController.Shutdown`),
/// with no handshake output, cookie check or signal handling. `-debug` mode
/// is built on this; tests use it to drive an in-process provider with real
/// Terraform through `TF_REATTACH_PROVIDERS` (see [`reattach_json`]).
pub async fn serve_plain_on(
    provider: Arc<dyn ProviderImpl>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    super::tls::install_crypto_provider();
    let incoming = start_accepting(listener, None, shutdown.clone());
    run_server(provider, incoming, CancellationToken::new(), shutdown).await
}

async fn run_server(
    provider: Arc<dyn ProviderImpl>,
    incoming: Incoming,
    stop: CancellationToken,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let provider_svc = ProviderService::new(provider, stop);
    let router = tonic::transport::Server::builder()
        .add_service(
            pb::provider_server::ProviderServer::new(provider_svc)
                // Terraform's own limit is far above tonic's 4 MiB default.
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            ControllerService {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(plugin::grpc_stdio_server::GrpcStdioServer::new(
            StdioService {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(plugin::grpc_broker_server::GrpcBrokerServer::new(
            BrokerService {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(health::health_server::HealthServer::new(HealthService {
            shutdown: shutdown.clone(),
        }));

    let signal = shutdown.clone();
    let server =
        router.serve_with_incoming_shutdown(incoming, async move { signal.cancelled().await });
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r.context("gRPC server failed")?,
        () = async {
            shutdown.cancelled().await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        } => tracing::warn!("graceful shutdown timed out; exiting"),
    }
    tracing::debug!("server stopped");
    Ok(())
}
