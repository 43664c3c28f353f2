//! Tuning of the engine's pace from the environment: how fast each account
//! is called, when INSYNC is polled, how long parent writes are gathered.
//! The defaults fit Route 53; these exist for large fleets, other limits
//! and fast local worlds (tests, the demo).

use std::time::Duration;

use route53delegation::change::Polling;
use route53delegation::pace::{Pacing, Rate};
use route53delegation::parent::route53::ParentConfig;

/// Route 53 requests per second per account, optionally `/BURST`
/// (`5`, `10/20`), or `off`. Default 5, one at a time.
pub const RATE_ENV: &str = "ROUTE53DELEGATION_RATE";
/// When to ask GetChange: `FIRST,INTERVAL` (`45s,10s`, the default).
pub const INSYNC_POLL_ENV: &str = "ROUTE53DELEGATION_INSYNC_POLL";
/// How long parent zone writes are gathered into one batch (`100ms`).
pub const BATCH_WINDOW_ENV: &str = "ROUTE53DELEGATION_BATCH_WINDOW";

/// The engine's pace, from the environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tuning {
    /// Client-side pacing per account.
    pub pacing: Pacing,
    /// GetChange schedule, when set.
    pub polling: Option<Polling>,
    /// Parent side settings, when the window is set.
    pub parent: Option<ParentConfig>,
}

/// Reads the tuning variables; an error names the variable and what was
/// expected.
pub fn from_env() -> Result<Tuning, String> {
    parse(|k| std::env::var(k).ok())
}

/// [`from_env`] over any source of variables.
pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Tuning, String> {
    let mut t = Tuning::default();
    if let Some(v) = get(RATE_ENV).filter(|v| !v.trim().is_empty()) {
        t.pacing = parse_rate(v.trim()).map_err(|e| format!("{RATE_ENV}={v:?}: {e}"))?;
    }
    if let Some(v) = get(INSYNC_POLL_ENV).filter(|v| !v.trim().is_empty()) {
        let bad = |e: String| {
            format!("{INSYNC_POLL_ENV}={v:?}: {e}; expected FIRST,INTERVAL such as \"45s,10s\"")
        };
        let (first, interval) = v
            .trim()
            .split_once(',')
            .ok_or_else(|| bad("no comma".into()))?;
        let first = crate::duration::parse(first.trim()).map_err(bad)?;
        let interval = crate::duration::parse(interval.trim()).map_err(bad)?;
        if interval.is_zero() {
            return Err(bad("the interval must be above zero".into()));
        }
        t.polling = Some(Polling { first, interval });
    }
    if let Some(v) = get(BATCH_WINDOW_ENV).filter(|v| !v.trim().is_empty()) {
        let window = crate::duration::parse(v.trim())
            .map_err(|e| format!("{BATCH_WINDOW_ENV}={v:?}: {e}"))?;
        if window > Duration::from_secs(10) {
            return Err(format!(
                "{BATCH_WINDOW_ENV}={v:?}: expected at most 10s (every link waits this long before its parent write)"
            ));
        }
        t.parent = Some(ParentConfig {
            window,
            ..Default::default()
        });
    }
    Ok(t)
}

fn parse_rate(v: &str) -> Result<Pacing, String> {
    if v.eq_ignore_ascii_case("off") {
        return Ok(Pacing::Off);
    }
    let (rate, burst) = match v.split_once('/') {
        Some((r, b)) => (r, Some(b)),
        None => (v, None),
    };
    let per_second: f64 = rate.trim().parse().map_err(|_| {
        "expected requests per second such as 5, 5/10 (with a burst of 10) or off".to_string()
    })?;
    let burst = match burst {
        Some(b) => b
            .trim()
            .parse()
            .map_err(|_| "expected a whole number of requests after the /".to_string())?,
        None => 1,
    };
    Rate::new(per_second, burst).map(Pacing::At)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Tuning, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn unset_is_the_default_pace() {
        assert_eq!(with(&[]).unwrap(), Tuning::default());
    }

    #[test]
    fn each_variable_is_read() {
        let t = with(&[
            (RATE_ENV, "10/20"),
            (INSYNC_POLL_ENV, "250ms,1s"),
            (BATCH_WINDOW_ENV, "20ms"),
        ])
        .unwrap();
        assert_eq!(t.pacing, Pacing::At(Rate::new(10.0, 20).unwrap()));
        assert_eq!(
            t.polling,
            Some(Polling {
                first: Duration::from_millis(250),
                interval: Duration::from_secs(1)
            })
        );
        assert_eq!(t.parent.unwrap().window, Duration::from_millis(20));
        assert_eq!(with(&[(RATE_ENV, "off")]).unwrap().pacing, Pacing::Off);
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            (RATE_ENV, "fast"),
            (RATE_ENV, "0"),
            (RATE_ENV, "5/0"),
            (INSYNC_POLL_ENV, "10s"),
            (INSYNC_POLL_ENV, "1s,0s"),
            (BATCH_WINDOW_ENV, "1h"),
        ] {
            let e = with(&[(k, v)]).unwrap_err();
            assert!(e.starts_with(k), "{e}");
        }
    }
}
