//! Durations in Terraform's usual notation (`30s`, `5m`, `1h30m`, `500ms`),
//! as the `timeouts` blocks of other providers accept them: the one syntax
//! of every surface (resource and provider attributes, the data source, the
//! CLI's `--timeout`, the tuning environment variables).

use std::time::Duration;

/// The longest duration accepted: one year. Longer ones are surely typos,
/// and every deadline computed from an accepted duration stays far from the
/// clock's overflow.
pub const MAX: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses `1h30m`, `45s`, `500ms`, `2h`, `1.5h`. Units: h, m, s, ms. No
/// sign, at least one unit. Arithmetic is exact (decimal, in nanoseconds)
/// and checked: a duration too long to represent is an error, never a panic.
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let expected = "expected a duration such as \"30s\", \"5m\" or \"1h30m\"";
    if s.is_empty() {
        return Err(format!("empty duration; {expected}"));
    }
    let too_long = || format!("{input:?} is too long a duration; {expected}");
    let mut total_ns: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{input:?} has a number without a unit; {expected}"))?;
        if digits == 0 {
            return Err(format!("{input:?} is not a duration; {expected}"));
        }
        let number = &rest[..digits];
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let unit_ns: u128 = match unit {
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            _ => return Err(format!("{input:?} has unknown unit {unit:?}; {expected}")),
        };
        let part = decimal_times(number, unit_ns)
            .ok_or_else(|| format!("{input:?} is not a duration; {expected}"))?
            .ok_or_else(too_long)?;
        total_ns = total_ns.checked_add(part).ok_or_else(too_long)?;
    }
    let secs = u64::try_from(total_ns / 1_000_000_000).map_err(|_| too_long())?;
    // The remainder is below 10^9, so it fits.
    let nanos = (total_ns % 1_000_000_000) as u32;
    let d = Duration::new(secs, nanos);
    if d > MAX {
        return Err(format!(
            "{input:?} is longer than {} (one year); {expected}",
            format(MAX)
        ));
    }
    Ok(d)
}

/// `number` (decimal digits with at most one `.`) times `unit_ns`, in whole
/// nanoseconds (truncated). `None`: not a number; `Some(None)`: overflow.
fn decimal_times(number: &str, unit_ns: u128) -> Option<Option<u128>> {
    let (int, frac) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let mut value: u128 = 0;
    for d in int.bytes() {
        let digit = u128::from(d - b'0');
        match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
            Some(v) => value = v,
            None => return Some(None),
        }
    }
    let Some(whole) = value.checked_mul(unit_ns) else {
        return Some(None);
    };
    // Fractional digits beyond the 13th cannot add a nanosecond to an hour.
    let frac = &frac[..frac.len().min(13)];
    let mut frac_value: u128 = 0;
    let mut scale: u128 = 1;
    for d in frac.bytes() {
        frac_value = frac_value * 10 + u128::from(d - b'0');
        scale *= 10;
    }
    Some(whole.checked_add(frac_value * unit_ns / scale))
}

/// Formats a duration the way [`parse`] reads it, exactly to the
/// millisecond (`1h30m`, `45s`, `2s500ms`, `0ms`).
pub fn format(d: Duration) -> String {
    let mut secs = d.as_secs();
    let ms = d.subsec_millis();
    if secs == 0 {
        return format!("{ms}ms");
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
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
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
        assert_eq!(format(Duration::from_millis(2500)), "2s500ms");
    }

    #[test]
    fn absurd_durations_are_refused_not_panicked_on() {
        let e = parse("99999999999999999999h").unwrap_err();
        assert!(e.contains("too long"), "{e}");
        assert!(e.contains("expected a duration such as"), "{e}");
        assert!(parse("340282366920938463463374607431768211456s")
            .unwrap_err()
            .contains("too long"));
        assert!(parse("8761h").unwrap_err().contains("longer than 8760h"));
        assert_eq!(parse("8760h").unwrap(), MAX);
        assert!(parse("1.2.3s").unwrap_err().contains("not a duration"));
        assert!(parse(".s").unwrap_err().contains("not a duration"));
        assert_eq!(parse("0.1s").unwrap(), Duration::from_millis(100));
        assert_eq!(parse(".5s").unwrap(), Duration::from_millis(500));
    }
}
