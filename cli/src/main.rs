//! `route53delegation`: the delegation check for pipelines.
//!
//! ```text
//! route53delegation check NAME [--expect NS,NS,...] [--json]
//!                   [--root-server ADDR]... [--resolver ADDR]... [--query-timeout 2s]
//!
//! `--query-timeout` takes the provider's duration syntax (`2s`, `500ms`); a bare
//! number is seconds. Any argument that cannot be parsed is usage (64).
//! ```
//!
//! Walks from the root servers to the zone that delegates NAME, then asks
//! the parent's servers for the referral and each child server for the
//! zone's SOA and NS, with recursion off, exactly as a `route53delegation_link`
//! verifies its delegation. Needs no AWS credentials.
//!
//! Exit codes: 0 healthy, 1 broken, 2 could not check, 64 bad usage.

// The command prints its result on stdout: that is its job.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use route53delegation::dns::{parse_resolver, AddressResolver, DnsClient};
use route53delegation::inspect::{default_roots, inspect, Health, InspectRequest};
use route53delegation::{DomainName, NsSet};

/// Exit code for bad usage (sysexits' EX_USAGE), distinct from the verdicts.
const EXIT_USAGE: u8 = 64;

#[derive(Debug, Parser)]
#[command(
    name = "route53delegation",
    version,
    about = "Checks DNS delegations from the root, the way route53delegation_link verifies them",
    after_help = "Exit codes: 0 healthy, 1 broken, 2 could not check, 64 bad usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Checks that NAME's parent refers it to the expected name servers and
    /// that each of them answers for it authoritatively.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The delegated name, e.g. api.example.com.
    name: String,
    /// The name servers NAME must be delegated to, comma-separated (default:
    /// whatever the parent refers to must work).
    #[arg(long, value_delimiter = ',')]
    expect: Vec<String>,
    /// Print the result as JSON (version 1 of the documented shape).
    #[arg(long)]
    json: bool,
    /// A root server to start from, ADDRESS or ADDRESS:PORT (repeatable;
    /// default: the thirteen root servers). The data source's
    /// `root_servers`; `--root` is a shorter name.
    #[arg(long = "root-server", visible_alias = "root")]
    roots: Vec<String>,
    /// A recursive resolver for name-server addresses without glue,
    /// ADDRESS or ADDRESS:PORT (repeatable; default: /etc/resolv.conf).
    #[arg(long = "resolver")]
    resolvers: Vec<String>,
    /// How long to wait for each answer: a duration such as 2s or 500ms,
    /// as the provider writes them (a bare number is seconds). The data
    /// source's `query_timeout`; `--timeout` is a shorter name.
    #[arg(
        long = "query-timeout",
        visible_alias = "timeout",
        default_value = "2s"
    )]
    timeout: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let Command::Check(args) = cli.command;
    let req = match request(&args) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("route53delegation check: {msg}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let resolver = match resolver(&req.resolvers, &req.inspect.query) {
        Ok(r) => r,
        Err(msg) => {
            eprintln!("route53delegation check: {msg}");
            return ExitCode::from(Health::Unknown.exit_code());
        }
    };
    let req = req.inspect;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("route53delegation check: cannot start the async runtime: {e}");
            return ExitCode::from(Health::Unknown.exit_code());
        }
    };
    let result = runtime.block_on(inspect(&req, &resolver));
    if args.json {
        match serde_json::to_string_pretty(&result) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("route53delegation check: cannot encode the result: {e}");
                return ExitCode::from(Health::Unknown.exit_code());
            }
        }
    } else {
        println!("{}", result.summary);
        for f in &result.findings {
            println!("  {}: {} ({})", f.severity, f.message, f.code);
        }
        for s in result.servers.iter().filter(|s| !s.ok) {
            println!(
                "  {} {} {}: {}",
                s.role,
                s.server.as_deref().unwrap_or("-"),
                s.address.as_deref().unwrap_or("-"),
                s.detail
            );
        }
    }
    ExitCode::from(result.status.exit_code())
}

fn addresses(items: &[String], what: &str) -> Result<Vec<SocketAddr>, String> {
    items
        .iter()
        .map(|s| {
            parse_resolver(s).map_err(|_| format!("{what} {s:?} is not ADDRESS or ADDRESS:PORT"))
        })
        .collect()
}

/// A check as the command line asks for it: every argument parsed (an
/// argument that cannot be is usage, exit 64, whichever it is).
struct Request {
    inspect: InspectRequest,
    /// `--resolver`s (empty: the system's).
    resolvers: Vec<SocketAddr>,
}

/// The longest wait for one answer.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// `--query-timeout`: a duration in the provider's syntax, or a bare number of
/// seconds; more than zero, at most a minute.
fn timeout(arg: &str) -> Result<Duration, String> {
    let expected = "expected a duration from 1ms to 60s, such as 2s or 500ms";
    let d = match arg.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("--query-timeout {arg}: {expected}"))?,
        Ok(_) => return Err(format!("--query-timeout {arg}: {expected}")),
        Err(_) => route53delegation::duration::parse(arg)
            .map_err(|e| format!("--query-timeout {arg}: {e}"))?,
    };
    if d < Duration::from_millis(1) || d > MAX_TIMEOUT {
        return Err(format!("--query-timeout {arg}: {expected}"));
    }
    Ok(d)
}

fn request(args: &CheckArgs) -> Result<Request, String> {
    let name = DomainName::parse_subdomain(&args.name).map_err(|e| {
        format!(
            "NAME {:?}: {e}; expected a name such as api.example.com",
            args.name
        )
    })?;
    let expect = if args.expect.is_empty() {
        None
    } else {
        Some(NsSet::parse(&args.expect).map_err(|e| {
            format!("--expect: {e}; expected host names such as ns-1.awsdns-01.com")
        })?)
    };
    let roots = if args.roots.is_empty() {
        default_roots()
    } else {
        addresses(&args.roots, "--root-server")?
    };
    let resolvers = addresses(&args.resolvers, "--resolver")?;
    Ok(Request {
        inspect: InspectRequest {
            name,
            expect,
            roots,
            query: DnsClient::new(timeout(&args.timeout)?, 1),
        },
        resolvers,
    })
}

/// The `--resolver`s, or the system's (which it may fail to read: that is
/// not usage, the check cannot be made).
fn resolver(resolvers: &[SocketAddr], client: &DnsClient) -> Result<AddressResolver, String> {
    if resolvers.is_empty() {
        let system = AddressResolver::from_system()
            .map_err(|e| format!("no --resolver given and the system's cannot be read: {e}"))?;
        Ok(AddressResolver::with_client(
            system.resolvers().to_vec(),
            client.clone(),
        ))
    } else {
        Ok(AddressResolver::with_client(
            resolvers.to_vec(),
            client.clone(),
        ))
    }
}
