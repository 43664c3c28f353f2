//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::process::Command;

use aws_sdk_route53::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use r53world::{World, WorldConfig};

pub async fn world() -> World {
    World::start(WorldConfig::for_test())
        .await
        .expect("start r53world")
}

pub fn r53_with(
    endpoint: &str,
    key: &str,
    secret: &str,
    token: Option<String>,
) -> aws_sdk_route53::Client {
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key, secret, token, None, "r53world-test"))
        .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_route53::Client::from_conf(conf)
}

pub fn r53(w: &World, account: &str) -> aws_sdk_route53::Client {
    let (k, s) = w.credentials(account);
    r53_with(&w.endpoint(), &k, &s, None)
}

pub fn sts_with(endpoint: &str, key: &str, secret: &str) -> aws_sdk_sts::Client {
    sts_with_token(endpoint, key, secret, None)
}

pub fn sts_with_token(
    endpoint: &str,
    key: &str,
    secret: &str,
    token: Option<String>,
) -> aws_sdk_sts::Client {
    let conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            key,
            secret,
            token,
            None,
            "r53world-test",
        ))
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(conf)
}

pub fn sts(w: &World, account: &str) -> aws_sdk_sts::Client {
    let (k, s) = w.credentials(account);
    sts_with(&w.endpoint(), &k, &s)
}

/// Route 53 client with the credentials of an assumed role.
pub async fn assume(
    w: &World,
    caller: &str,
    role_arn: &str,
    external_id: Option<&str>,
) -> aws_sdk_route53::Client {
    let out = sts(w, caller)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("test-session")
        .set_external_id(external_id.map(str::to_string))
        .send()
        .await
        .expect("assume role");
    let c = out.credentials().expect("credentials");
    r53_with(
        &w.endpoint(),
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
    )
}

pub fn code<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("<no code>").to_string()
}

pub fn message<E: ProvideErrorMetadata>(e: &E) -> String {
    e.message().unwrap_or("<no message>").to_string()
}

pub fn rrset(name: &str, t: RrType, ttl: i64, values: &[&str]) -> ResourceRecordSet {
    let mut b = ResourceRecordSet::builder().name(name).r#type(t).ttl(ttl);
    for v in values {
        b = b.resource_records(ResourceRecord::builder().value(*v).build().expect("rr"));
    }
    b.build().expect("rrset")
}

pub fn change(action: ChangeAction, rr: ResourceRecordSet) -> Change {
    Change::builder()
        .action(action)
        .resource_record_set(rr)
        .build()
        .expect("change")
}

pub fn batch(changes: Vec<Change>) -> ChangeBatch {
    ChangeBatch::builder()
        .set_changes(Some(changes))
        .build()
        .expect("batch")
}

/// Create a public zone, return (bare id, name servers).
pub async fn create_zone(
    c: &aws_sdk_route53::Client,
    name: &str,
    caller_ref: &str,
) -> (String, Vec<String>) {
    let out = c
        .create_hosted_zone()
        .name(name)
        .caller_reference(caller_ref)
        .send()
        .await
        .expect("create zone");
    let id = out
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let ns = out
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    (id, ns)
}

pub async fn wait_insync(c: &aws_sdk_route53::Client, change_id: &str) {
    for _ in 0..200 {
        let out = c
            .get_change()
            .id(change_id)
            .send()
            .await
            .expect("get change");
        if out.change_info().map(|i| i.status().as_str()) == Some("INSYNC") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("change {change_id} never became INSYNC");
}

/// Fail with a clear message when a tool is missing.
pub fn require_tool(tool: &str) {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "required tool `{tool}` is not installed or not on PATH");
}

/// Result of a dig query.
#[derive(Debug)]
pub struct Dig {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<String>,
    pub authority: Vec<String>,
    pub additional: Vec<String>,
    pub raw: String,
}

/// `dig +norec @server name type` (or with recursion) and parse the output.
pub fn dig(server: std::net::SocketAddr, name: &str, qtype: &str, rec: bool) -> Dig {
    dig_with(server, &[if rec { "+rec" } else { "+norec" }], name, qtype)
}

/// dig with extra options.
pub fn dig_with(server: std::net::SocketAddr, opts: &[&str], name: &str, qtype: &str) -> Dig {
    require_tool("dig");
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .arg("-p")
        .arg(server.port().to_string())
        .args(opts)
        .args(["+time=2", "+tries=1", "+nocookie"])
        .arg(name)
        .arg(qtype)
        .output()
        .expect("run dig");
    let raw = String::from_utf8_lossy(&out.stdout).to_string();
    let mut d = Dig {
        status: String::new(),
        flags: vec![],
        answer: vec![],
        authority: vec![],
        additional: vec![],
        raw: raw.clone(),
    };
    let mut section = "";
    for line in raw.lines() {
        if let Some(s) = line.split("status: ").nth(1) {
            d.status = s.split(',').next().unwrap_or("").to_string();
        }
        if let Some(f) = line.strip_prefix(";; flags: ") {
            d.flags = f
                .split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
        }
        if line.starts_with(";; ANSWER SECTION") {
            section = "a";
            continue;
        }
        if line.starts_with(";; AUTHORITY SECTION") {
            section = "u";
            continue;
        }
        if line.starts_with(";; ADDITIONAL SECTION") {
            section = "d";
            continue;
        }
        if line.trim().is_empty() || line.starts_with(';') {
            if line.trim().is_empty() {
                section = "";
            }
            continue;
        }
        let norm = line.split_whitespace().collect::<Vec<_>>().join(" ");
        match section {
            "a" => d.answer.push(norm),
            "u" => d.authority.push(norm),
            "d" => d.additional.push(norm),
            _ => {}
        }
    }
    d
}

/// Minimal raw HTTP/1.1 request (for headers and the admin API).
pub fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let hostport = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(hostport).expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_string(), body.to_string())
}
