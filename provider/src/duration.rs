//! Durations in Terraform's usual notation (`30s`, `5m`, `1h30m`, `500ms`),
//! as the `timeouts` blocks of other providers accept them.

use std::time::Duration;

/// Parses `1h30m`, `45s`, `500ms`, `2h`. Units: h, m, s, ms. No sign, at
/// least one unit.
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let expected = "expected a duration such as \"30s\", \"5m\" or \"1h30m\"";
    if s.is_empty() {
        return Err(format!("empty duration; {expected}"));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{input:?} has a number without a unit; {expected}"))?;
        if digits == 0 {
            return Err(format!("{input:?} is not a duration; {expected}"));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{input:?} is not a duration; {expected}"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let secs = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return Err(format!("{input:?} has unknown unit {unit:?}; {expected}")),
        };
        total += Duration::from_secs_f64(number * secs);
    }
    Ok(total)
}

/// Formats a duration the way [`parse`] reads it.
pub fn format(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut out = String::new();
    let h = secs / 3600;
    secs %= 3600;
    let m = secs / 60;
    secs %= 60;
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if secs > 0 {
        out.push_str(&format!("{secs}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_terraform_durations() {
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse("1.5h").unwrap(), Duration::from_secs(5400));
        assert!(parse("").is_err());
        assert!(parse("10").unwrap_err().contains("without a unit"));
        assert!(parse("10d").unwrap_err().contains("unknown unit"));
        assert!(parse("-5m").is_err());
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(45)), "45s");
    }
}
