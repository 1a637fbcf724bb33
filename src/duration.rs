//! Durations as users write them: `500ms`, `30s`, `5m`, `1h30m`, `7d`, `0`.
//!
//! The grammar is Go's `time.ParseDuration` (what terraform's `-lock-timeout`
//! accepts) plus `d` for days, without negative values: a sequence of decimal
//! numbers, each with a unit. A bare `0` is allowed, as in Go.

use std::time::Duration;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (examples: 500ms, 30s, 5m, 1h30m)")]
pub struct ParseError {
    input: String,
    reason: &'static str,
}

pub fn parse(input: &str) -> Result<Duration, ParseError> {
    let err = |reason| ParseError {
        input: input.to_string(),
        reason,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(err("empty"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err(err("must not be negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total_nanos: u128 = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
            i += 1;
        }
        let number = &s[start..i];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(err("expected a number"));
        }
        let unit_start = i;
        // Units are letters; "µs" starts with a two-byte character.
        while i < bytes.len() && (bytes[i].is_ascii_alphabetic() || !bytes[i].is_ascii()) {
            i += 1;
        }
        let unit_nanos: u128 = match &s[unit_start..i] {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            "d" => 86_400 * 1_000_000_000,
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit")),
        };
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| err("number too large"))?
        };
        let mut nanos = whole
            .checked_mul(unit_nanos)
            .ok_or_else(|| err("too large"))?;
        // Fractions: scale digit by digit so "1.5h" is exact and "0.0000000001s"
        // rounds down to zero rather than failing.
        let mut scale = unit_nanos;
        for digit in frac.bytes() {
            scale /= 10;
            nanos += u128::from(digit - b'0') * scale;
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or_else(|| err("too large"))?;
    }
    // Cap at a century: anything longer is a typo, and Duration arithmetic
    // with Instant must not overflow.
    if total_nanos > MAX.as_nanos() {
        return Err(err("too large"));
    }
    Ok(Duration::from_nanos(total_nanos as u64))
}

/// The longest duration tflock accepts: a century. Anything longer is a typo.
pub const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);

/// As a chrono duration for wall-clock arithmetic, capped at [`MAX`] so that
/// adding it to a date can never overflow.
pub fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d.min(MAX)).unwrap_or_default()
}

/// Formats a duration compactly for humans: `850ms`, `12s`, `2m13s`, `1h05m`, `3d4h`.
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        if ms < 10_000 && !ms.is_multiple_of(1_000) {
            return format!("{:.1}s", d.as_secs_f64());
        }
        return format!("{secs}s");
    }
    if secs < 3_600 {
        let s = secs % 60;
        return if s == 0 {
            format!("{}m", secs / 60)
        } else {
            format!("{}m{:02}s", secs / 60, s)
        };
    }
    if secs < 86_400 {
        let m = (secs % 3_600) / 60;
        return if m == 0 {
            format!("{}h", secs / 3_600)
        } else {
            format!("{}h{:02}m", secs / 3_600, m)
        };
    }
    match (secs % 86_400) / 3_600 {
        0 => format!("{}d", secs / 86_400),
        h => format!("{}d{h}h", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1_500)));
        assert_eq!(parse(".5m"), Ok(Duration::from_secs(30)));
        assert_eq!(parse("2h45m30.5s"), Ok(Duration::from_millis(9_930_500)));
        assert_eq!(parse("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            "",
            " ",
            "10",
            "s",
            "-5s",
            "1x",
            "5 m",
            "1..5s",
            ".s",
            "1.2.3s",
            "ten",
            "1h-5m",
            "99999999999999999999999h",
            "1000000d",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn error_names_the_input_and_the_reason() {
        let e = parse("10").unwrap_err().to_string();
        assert!(e.contains("\"10\"") && e.contains("missing unit"), "{e}");
    }

    #[test]
    fn formats_for_humans() {
        assert_eq!(format(Duration::from_millis(850)), "850ms");
        assert_eq!(format(Duration::from_millis(1_500)), "1.5s");
        assert_eq!(format(Duration::from_secs(12)), "12s");
        assert_eq!(format(Duration::from_secs(133)), "2m13s");
        assert_eq!(format(Duration::from_secs(120)), "2m");
        assert_eq!(format(Duration::from_secs(3_900)), "1h05m");
        assert_eq!(format(Duration::from_secs(273_600)), "3d4h");
        assert_eq!(format(Duration::ZERO), "0s");
        assert_eq!(format(Duration::from_secs(7_200)), "2h");
        assert_eq!(format(Duration::from_secs(90 * 86_400)), "90d");
        // What format writes, parse reads back.
        for secs in [
            0,
            1,
            59,
            60,
            61,
            3_599,
            3_600,
            3_660,
            86_400,
            90 * 86_400 + 3_600,
        ] {
            let d = Duration::from_secs(secs);
            assert_eq!(parse(&format(d)), Ok(d), "{secs}s");
        }
    }
}
