//! go-plugin's services beside the provider: `GRPCController` (shutdown),
//! `GRPCStdio` and `GRPCBroker` (present, idle) and the standard gRPC health
//! service. Their long-lived streams end when the server shuts down.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use super::proto::grpc_health_v1 as health;
use super::proto::plugin;

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that yields nothing and ends when `token` is cancelled, so that
/// long-lived streams do not block a graceful shutdown.
fn until_cancelled<T: Send + 'static>(token: CancellationToken) -> BoxStream<T> {
    Box::pin(futures::stream::once(token.cancelled_owned()).filter_map(|()| async { None }))
}

/// `plugin.GRPCController`: `Shutdown` triggers a graceful server stop,
/// after which the process exits.
#[derive(Debug, Clone)]
pub struct ControllerService {
    /// Cancelled to shut the server down.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl plugin::grpc_controller_server::GrpcController for ControllerService {
    async fn shutdown(
        &self,
        _req: Request<plugin::Empty>,
    ) -> Result<Response<plugin::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown received; stopping");
        self.shutdown.cancel();
        Ok(Response::new(plugin::Empty {}))
    }
}

/// `plugin.GRPCStdio`: our stdout carries only the handshake and logs go
/// straight to stderr (which Terraform reads), so the stream stays open and
/// sends nothing until shutdown.
#[derive(Debug, Clone)]
pub struct StdioService {
    /// Ends the stream on shutdown.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl plugin::grpc_stdio_server::GrpcStdio for StdioService {
    type StreamStdioStream = BoxStream<plugin::StdioData>;

    async fn stream_stdio(
        &self,
        _req: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(until_cancelled(self.shutdown.clone())))
    }
}

/// `plugin.GRPCBroker`: we never broker extra connections; the stream is
/// accepted, incoming messages are drained, nothing is sent.
#[derive(Debug, Clone)]
pub struct BrokerService {
    /// Ends the stream on shutdown.
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl plugin::grpc_broker_server::GrpcBroker for BrokerService {
    type StartStreamStream = BoxStream<plugin::ConnInfo>;

    async fn start_stream(
        &self,
        req: Request<Streaming<plugin::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = req.into_inner();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    msg = incoming.next() => match msg {
                        Some(Ok(_)) => tracing::debug!("ignoring GRPCBroker message"),
                        _ => break,
                    },
                }
            }
        });
        Ok(Response::new(until_cancelled(self.shutdown.clone())))
    }
}

/// `grpc.health.v1.Health`: `plugin` (and the empty server name) are SERVING.
#[derive(Debug, Clone)]
pub struct HealthService {
    /// Ends watch streams on shutdown.
    pub shutdown: CancellationToken,
}

fn health_status(service: &str) -> i32 {
    match service {
        "" | "plugin" => health::health_check_response::ServingStatus::Serving as i32,
        _ => health::health_check_response::ServingStatus::ServiceUnknown as i32,
    }
}

#[tonic::async_trait]
impl health::health_server::Health for HealthService {
    type WatchStream = BoxStream<health::HealthCheckResponse>;

    async fn check(
        &self,
        req: Request<health::HealthCheckRequest>,
    ) -> Result<Response<health::HealthCheckResponse>, Status> {
        Ok(Response::new(health::HealthCheckResponse {
            status: health_status(&req.get_ref().service),
        }))
    }

    async fn watch(
        &self,
        req: Request<health::HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let first = health::HealthCheckResponse {
            status: health_status(&req.get_ref().service),
        };
        let s = futures::stream::once(async move { Ok(first) })
            .chain(until_cancelled(self.shutdown.clone()));
        Ok(Response::new(Box::pin(s)))
    }
}
