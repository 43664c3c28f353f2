//! The report: one line (failing servers first), or a table of checks and
//! findings, for logs, the CLI and error messages.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::VerificationReport;
use crate::check::{CheckKind, ServerResult};
use crate::diagnose::{self, Finding};
use crate::dns::fmt_duration;

impl VerificationReport {
    /// Number of distinct server addresses asked.
    pub fn servers_checked(&self) -> usize {
        let mut addrs: Vec<SocketAddr> = self.checks.iter().filter_map(|c| c.address).collect();
        addrs.sort();
        addrs.dedup();
        addrs.len()
    }

    /// One entry per server asked, failing servers first.
    pub fn servers(&self) -> Vec<ServerResult> {
        diagnose::server_results(&self.checks)
    }

    /// True when no parent or child name server answered at all (every
    /// question timed out or failed to be sent): the check says nothing
    /// about the delegation, only about the network it ran from.
    pub fn inconclusive(&self) -> bool {
        let mut authoritative = self
            .checks
            .iter()
            .filter(|c| {
                matches!(
                    c.kind,
                    CheckKind::ParentReferral | CheckKind::ChildSoa | CheckKind::ChildNs
                )
            })
            .peekable();
        authoritative.peek().is_some() && authoritative.all(|c| c.error.is_some())
    }

    /// One line: verdict, the failing servers first (with what they did),
    /// counts and finding codes.
    pub fn summary(&self) -> String {
        let attempts = if self.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", self.attempts)
        };
        let mut s = if self.passed {
            format!(
                "delegation of {} verified on {} servers ({} checks, {attempts}, {})",
                self.name,
                self.servers_checked(),
                self.checks.len(),
                fmt_duration(self.elapsed)
            )
        } else {
            let servers = self.servers();
            let failing: Vec<String> = crate::check::failing_by_result(&servers)
                .into_iter()
                .map(|(labels, result)| format!("{} {result}", labels.join(", ")))
                .collect();
            let ok = servers.iter().filter(|r| r.ok).count();
            let mut head = format!("delegation of {} not verified: ", self.name);
            if !failing.is_empty() {
                const SHOWN: usize = 4;
                head.push_str(
                    &failing
                        .iter()
                        .take(SHOWN)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                if failing.len() > SHOWN {
                    let _ = write!(head, "; and {} more", failing.len() - SHOWN);
                }
                head.push_str("; ");
            }
            let _ = write!(
                head,
                "{ok} of {} servers correct; authoritative servers {} ({attempts}, {})",
                servers.len(),
                if self.authoritative_ok {
                    "correct"
                } else {
                    "not correct"
                },
                fmt_duration(self.elapsed)
            );
            head
        };
        if !self.findings.is_empty() {
            let mut codes: Vec<&str> = self.findings.iter().map(Finding::code).collect();
            codes.dedup();
            let _ = write!(s, "; findings: {}", codes.join(", "));
        }
        s
    }

    /// A multi-line table of checks and findings, for logs and the CLI.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.summary());
        let header = [
            "CHECK", "SERVER", "ADDRESS", "RESULT", "RCODE", "AA", "TIME", "DETAIL",
        ];
        let rows: Vec<[String; 8]> = self
            .checks
            .iter()
            .map(|c| {
                [
                    kind_text(c.kind).to_string(),
                    c.server_name
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "-".into()),
                    c.address
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "-".into()),
                    if c.ok { "ok" } else { "FAIL" }.to_string(),
                    c.rcode.map_or_else(|| "-".into(), |r| r.to_string()),
                    match c.authoritative {
                        Some(true) => "yes".into(),
                        Some(false) => "no".into(),
                        None => "-".into(),
                    },
                    c.latency.map(fmt_duration).unwrap_or_else(|| "-".into()),
                    c.error.clone().unwrap_or_else(|| c.detail.clone()),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row.iter()) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: &[&str]| {
            let mut l = String::from(" ");
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    let _ = write!(l, " {cell}");
                } else {
                    let _ = write!(l, " {cell:<w$}", w = widths[i]);
                }
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header));
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            let _ = writeln!(out, "{}", line(&cells));
        }
        if !self.findings.is_empty() {
            let _ = writeln!(out, "findings:");
            for f in &self.findings {
                let _ = writeln!(out, "  {} {}: {}", f.severity(), f.code(), f.message());
            }
        }
        out
    }
}

fn kind_text(k: CheckKind) -> &'static str {
    match k {
        CheckKind::ParentReferral => "parent-referral",
        CheckKind::ChildSoa => "child-soa",
        CheckKind::ChildNs => "child-ns",
        CheckKind::Recursive => "recursive",
        CheckKind::ParentZone => "parent-zone",
        CheckKind::ParentZoneChain => "parent-zone-chain",
    }
}
