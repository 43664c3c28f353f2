//! Generated protobuf/gRPC code (from `provider/proto/*.proto`, compiled by
//! `build.rs`). Prefer the protocol-neutral types of the parent module.

#![allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic,
    clippy::doc_lazy_continuation
)]

/// `tfplugin6`: the Terraform provider protocol, version 6.8.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// `plugin`: go-plugin's controller, stdio and broker services.
pub mod plugin {
    tonic::include_proto!("plugin");
}

/// `grpc.health.v1`: the standard health service.
pub mod grpc_health_v1 {
    tonic::include_proto!("grpc.health.v1");
}
