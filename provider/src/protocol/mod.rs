//! Terraform plugin protocol 6.8 layer (what Terraform 1.11 speaks).
//!
//! * [`value`] / [`codec`]: protocol-neutral [`Value`] and [`Type`], msgpack
//!   and JSON encodings.
//! * [`schema`]: plain schema types ([`Schema`], [`Block`], [`Attribute`],
//!   [`NestedBlock`]) usable by a documentation generator.
//! * [`diag`]: [`Diagnostic`] and [`AttributePath`].
//! * [`provider`]: the [`ProviderImpl`] trait resource code implements.
//! * [`service`]: the `tfplugin6.Provider` service; [`convert`]: its
//!   protobuf conversions; [`plugin_services`]: go-plugin's controller,
//!   stdio, broker and health services; [`server`]: handshake, mTLS, serving.
//! * [`logging`]: hclog-JSON logging to stderr.

pub mod codec;
pub mod convert;
pub mod diag;
pub mod logging;
pub mod plugin_services;
pub mod proto;
pub mod provider;
pub mod schema;
pub mod server;
pub mod service;
pub mod tls;
pub mod value;

pub use diag::{has_errors, AttributePath, Diagnostic, PathStep, Severity};
pub use provider::{
    async_trait, ApplyRequest, ApplyResponse, Checkpoint, DataSourceRequest, DataSourceResponse,
    ImportResponse, ImportedResource, PlanRequest, PlanResponse, ProviderImpl, ReadRequest,
    ReadResponse,
};
pub use schema::{Attribute, Block, NestedBlock, NestingMode, Schema, StringKind};
pub use server::{serve, serve_plain_on, serve_with, ServeError, ServeOptions, PROVIDER_ADDRESS};
pub use tls::install_crypto_provider;
pub use value::{Number, Type, Value};
