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

const NETNS: &str = "r53world";

#[derive(Debug)]
struct Opts {
    dir: PathBuf,
    net: u8,
    insync_ms: Option<u64>,
    provider_dir: Option<PathBuf>,
    rest: Vec<String>,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        dir: PathBuf::from(".world"),
        net: 0,
        insync_ms: None,
        provider_dir: None,
        rest: Vec::new(),
    };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let val = |i: usize| -> Result<&String> {
            args.get(i + 1)
                .with_context(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--dir" => {
                o.dir = PathBuf::from(val(i)?);
                i += 1;
            }
            "--net" => {
                o.net = val(i)?.parse().context("--net")?;
                i += 1;
            }
            "--insync-delay-ms" => {
                o.insync_ms = Some(val(i)?.parse().context("--insync-delay-ms")?);
                i += 1;
            }
            "--provider-dir" => {
                o.provider_dir = Some(PathBuf::from(val(i)?));
                i += 1;
            }
            "--" => {
                o.rest = args[i + 1..].to_vec();
                break;
            }
            _ => o.rest.push(a.clone()),
        }
        i += 1;
    }
    Ok(o)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        bail!("usage: world up|serve|down|exec|admin [--dir DIR] [--net N] ...");
    };
    let o = parse(&args[1..])?;
    match cmd.as_str() {
        "serve" => serve(&o),
        "up" => up(&o),
        "down" => down(&o),
        "exec" => exec(&o),
        "admin" => admin(&o),
        other => bail!("unknown command {other}"),
    }
}

fn abs(p: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(p).with_context(|| format!("create {}", p.display()))?;
    Ok(std::fs::canonicalize(p)?)
}

fn serve(o: &Opts) -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let dir = abs(&o.dir)?;
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

fn up(o: &Opts) -> Result<()> {
    let dir = abs(&o.dir)?;
    if dir.join("world.pid").exists() {
        down(o)?;
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
    let overrides = match &o.provider_dir {
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

fn down(o: &Opts) -> Result<()> {
    let dir = o.dir.clone();
    if let Some(pid) = read_pid(&dir) {
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

fn exec(o: &Opts) -> Result<()> {
    if o.rest.is_empty() {
        bail!("usage: world exec [--dir DIR] -- CMD...");
    }
    let st = Command::new("ip")
        .args(["netns", "exec", NETNS])
        .args(&o.rest)
        .envs(env_of(&o.dir)?)
        .status()?;
    std::process::exit(st.code().unwrap_or(1));
}

fn admin(o: &Opts) -> Result<()> {
    let env = env_of(&o.dir)?;
    let endpoint = env
        .iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL")
        .map(|(_, v)| v.clone())
        .context("no endpoint in env")?;
    let (method, path) = match o.rest.as_slice() {
        [m, p, ..] => (m.clone(), p.clone()),
        _ => bail!("usage: world admin METHOD PATH [JSON]"),
    };
    let body = o.rest.get(2).cloned().unwrap_or_default();
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
            &method,
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
