//! The `world serve` binary: starts, writes its ready/env files, serves, and
//! takes its children down on SIGTERM.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

#[test]
fn serve_runs_until_sigterm_and_cleans_up() {
    // Find a free net, then release it for the child process.
    let cfg = r53world::WorldConfig::try_for_test().expect("free net");
    let net = cfg.net;
    let dir = cfg.dir.clone();
    drop(cfg);
    let mut child = Command::new(env!("CARGO_BIN_EXE_world"))
        .args([
            "serve",
            "--net",
            &net.to_string(),
            "--insync-delay-ms",
            "50",
            "--dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn world serve");
    let ready = dir.join("ready");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "world serve exited early"
        );
        assert!(Instant::now() < deadline, "world serve not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    let env = std::fs::read_to_string(&ready).unwrap();
    assert!(
        env.contains(&format!("AWS_ENDPOINT_URL=http://127.{net}.0.10:8080")),
        "{env}"
    );
    assert!(
        env.contains("AWS_ACCESS_KEY_ID=AKIA999999999999WRLD"),
        "{env}"
    );
    let pid: u32 = std::fs::read_to_string(dir.join("world.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, child.id());
    let root: std::net::SocketAddr = format!("127.{net}.0.1:53").parse().unwrap();
    assert_eq!(dig(root, ".", "SOA", false).status, "NOERROR");
    let (st, _, body) = http(
        &format!("http://127.{net}.0.10:8080"),
        "GET",
        "/admin/health",
        &[],
        "",
    );
    assert_eq!(st, 200, "{body}");
    let pids = std::fs::read_to_string(r53world::pids_file(net)).unwrap();
    let kids: Vec<String> = pids
        .lines()
        .filter_map(|l| l.split('\t').next())
        .map(str::to_string)
        .collect();
    assert_eq!(kids.len(), 4, "{pids}");
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let st = child.wait().unwrap();
    assert!(st.success(), "world serve exit status {st}");
    for k in kids {
        assert!(
            !std::path::Path::new(&format!("/proc/{k}")).exists(),
            "child {k} survived"
        );
    }
    assert!(!ready.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The command line is clap's: a missing command or argument, or a value out
/// of range, is a usage error (exit 2) that says what is wrong, and nothing
/// starts.
#[test]
fn bad_command_lines_are_usage_errors() {
    let cases: [(&[&str], &str); 4] = [
        (&["exec"], "<CMD>"),
        (&["admin", "POST"], "<PATH>"),
        (&["serve", "--net", "300"], "--net"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, named) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_world"))
            .args(args)
            .output()
            .expect("run world");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error:"), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} should name {named}: {err}");
    }
}
