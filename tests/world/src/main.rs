//! `world`: run the r53world local world.
//!
//! ```text
//! world up    [--dir .world] [--net 0] [--insync-delay-ms N] [--provider-dir DIR]
//! world serve [--dir .world] [--net 0] [--insync-delay-ms N]
//! world down  [--dir .world]
//! world exec  [--dir .world] -- CMD...
//! world admin [--dir .world] METHOD PATH [JSON]
//! ```
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

const NETNS: &str = "r53world";

/// Runs the r53world local world: Route 53 + STS emulator, authoritative
/// DNS (knot for the root and TLDs, the world's own pool servers) and an
/// unbound resolver, on 127.N addresses.
#[derive(Debug, Parser)]
#[command(name = "world", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

/// Where the world keeps its files.
#[derive(Debug, Args)]
struct DirArg {
    /// Directory for the world's files (configs, logs, `env`, `ready`).
    #[arg(long, default_value = ".world")]
    dir: PathBuf,
}

/// How a world is started.
#[derive(Debug, Args)]
struct StartArgs {
    #[command(flatten)]
    dir: DirArg,
    /// The world's net: it binds addresses in 127.N.0.0/16.
    #[arg(long, default_value_t = 0)]
    net: u8,
    /// Milliseconds until a change is INSYNC (the world's default when unset).
    #[arg(long = "insync-delay-ms", value_name = "MS")]
    insync_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start a long-running world in the `r53world` network namespace and
    /// print its environment.
    Up {
        #[command(flatten)]
        start: StartArgs,
        /// Directory holding a provider binary for Terraform's dev_overrides.
        #[arg(long, value_name = "DIR")]
        provider_dir: Option<PathBuf>,
    },
    /// Run a world in the foreground until SIGTERM or SIGINT.
    Serve(StartArgs),
    /// Stop the world started by `up` (succeeds when it is already down).
    Down(DirArg),
    /// Run a command inside the world's namespace with its environment.
    Exec {
        #[command(flatten)]
        dir: DirArg,
        /// The command and its arguments (after `--`).
        #[arg(trailing_var_arg = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Call the admin API inside the namespace, e.g. `POST /reset '{}'`.
    Admin {
        #[command(flatten)]
        dir: DirArg,
        /// HTTP method.
        method: String,
        /// Admin path, e.g. `/calls`.
        path: String,
        /// JSON body.
        json: Option<String>,
    },
}

fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Serve(start) => serve(&start),
        Cmd::Up {
            start,
            provider_dir,
        } => up(&start, provider_dir.as_deref()),
        Cmd::Down(dir) => down(&dir.dir),
        Cmd::Exec { dir, cmd } => exec(&dir.dir, &cmd),
        Cmd::Admin {
            dir,
            method,
            path,
            json,
        } => admin(&dir.dir, &method, &path, json.unwrap_or_default()),
    }
}

fn abs(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p).with_context(|| format!("create {}", p.display()))?;
    Ok(std::fs::canonicalize(p)?)
}

fn serve(o: &StartArgs) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let dir = abs(&o.dir.dir)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut cfg = r53world::WorldConfig::new(o.net, &dir);
        if let Some(ms) = o.insync_ms {
            cfg.insync_delay = Duration::from_millis(ms);
        }
        let t0 = Instant::now();
        let world = r53world::World::start(cfg).await?;
        std::fs::write(dir.join("world.pid"), format!("{}\n", std::process::id()))?;
        let env: Vec<String> = world
            .env()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        std::fs::write(dir.join("ready"), env.join("\n") + "\n")?;
        println!(
            "r53world net {} ready in {:?}: {}",
            world.net(),
            t0.elapsed(),
            world.endpoint()
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = std::fs::remove_file(dir.join("ready"));
        drop(world);
        anyhow::Ok(())
    })
}

fn run(cmd: &mut Command) -> Result<()> {
    let st = cmd.status().with_context(|| format!("run {cmd:?}"))?;
    if !st.success() {
        bail!("{cmd:?} failed: {st}");
    }
    Ok(())
}

fn netns_exists() -> bool {
    Path::new("/run/netns").join(NETNS).exists()
}

fn up(o: &StartArgs, provider_dir: Option<&Path>) -> Result<()> {
    let dir = abs(&o.dir.dir)?;
    if dir.join("world.pid").exists() {
        down(&dir)?;
    }
    if !netns_exists() {
        run(Command::new("ip").args(["netns", "add", NETNS]))?;
    }
    run(Command::new("ip").args(["-n", NETNS, "link", "set", "lo", "up"]))?;
    let etc = PathBuf::from("/etc/netns").join(NETNS);
    std::fs::create_dir_all(&etc)?;
    std::fs::write(
        etc.join("resolv.conf"),
        format!("nameserver 127.{}.10.53\n", o.net),
    )?;
    let _ = std::fs::remove_file(dir.join("ready"));
    let exe = std::env::current_exe()?;
    let log = std::fs::File::create(dir.join("world.log"))?;
    let mut cmd = Command::new("setsid");
    cmd.args(["ip", "netns", "exec", NETNS])
        .arg(&exe)
        .arg("serve")
        .arg("--dir")
        .arg(&dir)
        .arg("--net")
        .arg(o.net.to_string());
    if let Some(ms) = o.insync_ms {
        cmd.arg("--insync-delay-ms").arg(ms.to_string());
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .context("start world serve")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let ready = dir.join("ready");
    while !ready.exists() {
        if let Some(st) = child.try_wait()? {
            bail!(
                "world serve exited ({st}); log:\n{}",
                std::fs::read_to_string(dir.join("world.log")).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "world serve not ready after 15 s; see {}",
                dir.join("world.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut env: Vec<String> = std::fs::read_to_string(&ready)?
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| format!("export {k}={v}"))
        .collect();
    env.push(format!("export R53WORLD_NETNS={NETNS}"));
    env.push(format!(
        "export TF_CLI_CONFIG_FILE={}",
        dir.join("terraformrc").display()
    ));
    let env = env.join("\n") + "\n";
    std::fs::write(dir.join("env"), &env)?;
    let overrides = match provider_dir {
        Some(p) => format!(
            "  dev_overrides {{\n    \"registry.terraform.io/route53delegation/route53delegation\" = \"{}\"\n  }}\n",
            abs(p)?.display()
        ),
        None => String::new(),
    };
    std::fs::write(
        dir.join("terraformrc"),
        format!("provider_installation {{\n{overrides}  direct {{}}\n}}\n"),
    )?;
    print!("{env}");
    Ok(())
}

fn read_pid(dir: &Path) -> Option<i32> {
    std::fs::read_to_string(dir.join("world.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

fn down(dir: &Path) -> Result<()> {
    if let Some(pid) = read_pid(dir) {
        if alive(pid) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
    if netns_exists() {
        // Anything left in the namespace (stray children) goes too.
        if let Ok(out) = Command::new("ip").args(["netns", "pids", NETNS]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        run(Command::new("ip").args(["netns", "delete", NETNS]))?;
    }
    let _ = std::fs::remove_file(dir.join("world.pid"));
    let _ = std::fs::remove_file(dir.join("ready"));
    Ok(())
}

fn env_of(dir: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(dir.join("env")).with_context(|| {
        format!(
            "{} missing: run `world up` first",
            dir.join("env").display()
        )
    })?;
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

fn exec(dir: &Path, cmd: &[String]) -> Result<()> {
    let st = Command::new("ip")
        .args(["netns", "exec", NETNS])
        .args(cmd)
        .envs(env_of(dir)?)
        .status()?;
    std::process::exit(st.code().unwrap_or(1));
}

fn admin(dir: &Path, method: &str, path: &str, body: String) -> Result<()> {
    let env = env_of(dir)?;
    let endpoint = env
        .iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL")
        .map(|(_, v)| v.clone())
        .context("no endpoint in env")?;
    let url = format!(
        "{endpoint}/admin/{}",
        path.trim_start_matches('/').trim_start_matches("admin/")
    );
    let st = Command::new("ip")
        .args([
            "netns",
            "exec",
            NETNS,
            "curl",
            "-sS",
            "-X",
            method,
            "-H",
            "content-type: application/json",
        ])
        .args(if body.is_empty() {
            vec![]
        } else {
            vec!["-d".to_string(), body]
        })
        .arg(url)
        .status()?;
    std::process::exit(st.code().unwrap_or(1));
}
