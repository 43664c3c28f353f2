//! Compiles the plugin-protocol `.proto` files with `protox` (a pure-Rust
//! protobuf compiler, so no system `protoc` is needed) and generates the
//! tonic server and client stubs.

use std::error::Error;
use std::io::Write;

const PROTOS: &[&str] = &[
    "proto/tfplugin6.proto",
    "proto/grpc_controller.proto",
    "proto/grpc_stdio.proto",
    "proto/grpc_broker.proto",
    "proto/health.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    // Build scripts talk to cargo on stdout; that is the only output here.
    let mut cargo = std::io::stdout().lock();
    for proto in PROTOS {
        writeln!(cargo, "cargo:rerun-if-changed={proto}")?;
    }
    drop(cargo);
    let fds = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // The generated clients only need `tonic::client`; our tests supply
        // their own channel, so no `tonic::transport::Channel` helpers.
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
