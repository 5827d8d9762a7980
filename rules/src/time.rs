//! Time as vouch reads and writes it: Unix seconds in, RFC 3339 (`2026-01-31T01:00:00Z`) out.
//!
//! One place for every date the policy, allowed-signers lines, reviews and verdicts carry, so a
//! date means the same thing wherever it is written.

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parse an RFC 3339 date (`2026-01-31`) or date-time (`2026-01-31T12:00:00Z`, `…+02:00`) to
/// Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    // RFC 3339 years have four digits: anything else is not a date (and cannot overflow).
    if d.next().is_some()
        || !(0..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let mut seconds = days_from_civil(y, m, day) * 86_400;
    if let Some(rest) = rest {
        let (clock, offset) = if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
            (stripped, 0)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (oh, om) = rest[i + 1..].split_once(':')?;
            let (oh, om): (u8, u8) = (oh.parse().ok()?, om.parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            (
                &rest[..i],
                sign * (i64::from(oh) * 3600 + i64::from(om) * 60),
            )
        } else {
            return None;
        };
        let mut c = clock.split(':');
        let h: u8 = c.next()?.parse().ok()?;
        let mi: u8 = c.next()?.parse().ok()?;
        let s: f64 = c.next().unwrap_or("0").parse().ok()?;
        if h > 23 || mi > 59 || !(0.0..61.0).contains(&s) {
            return None;
        }
        seconds += i64::from(h) * 3600 + i64::from(mi) * 60 + s as i64 - offset;
    }
    Some(seconds)
}

/// OpenSSH's allowed-signers time, `YYYYMMDD[HHMM[SS]][Z]`, as Unix seconds (UTC).
pub fn parse_compact(value: &str) -> Option<i64> {
    let digits = value.strip_suffix(['Z', 'z']).unwrap_or(value);
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|s| s.parse::<i64>().ok());
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = match digits.len() {
        8 => (0, 0, 0),
        12 => (num(8..10)?, num(10..12)?, 0),
        _ => (num(8..10)?, num(10..12)?, num(12..14)?),
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, m as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates_and_times() {
        assert_eq!(parse_rfc3339("1970-01-01"), Some(0));
        assert_eq!(parse_rfc3339("2026-01-31"), Some(1_769_817_600));
        assert_eq!(parse_rfc3339("2026-01-31T01:00:00Z"), Some(1_769_821_200));
        assert_eq!(
            parse_rfc3339("2026-01-31T03:00:00+02:00"),
            Some(1_769_821_200)
        );
        assert_eq!(parse_rfc3339("2026-13-01"), None);
        assert_eq!(parse_rfc3339("soon"), None);
    }

    /// Found by the review_input fuzz target: a huge year overflowed the seconds.
    #[test]
    fn rfc3339_out_of_range_is_none_not_a_panic() {
        assert_eq!(parse_rfc3339("99999999999999999-01-01"), None);
        assert_eq!(parse_rfc3339("-99999999999999999-01-01T00:00:00Z"), None);
        assert_eq!(
            parse_rfc3339("2026-01-31T00:00:00+99999999999999999:00"),
            None
        );
        assert_eq!(parse_rfc3339("2026-01-31T00:00:00+24:00"), None);
        assert_eq!(parse_rfc3339("2026-01-31T-1:00:00Z"), None);
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59Z"), Some(253_402_300_799));
    }

    #[test]
    fn compact_times() {
        assert_eq!(parse_compact("20260131"), Some(1_769_817_600));
        assert_eq!(parse_compact("202601310100Z"), Some(1_769_821_200));
        assert_eq!(parse_compact("2026013101000"), None);
        assert_eq!(parse_compact("20261301"), None);
    }

    #[test]
    fn iso_round_trips() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_769_821_200), "2026-01-31T01:00:00Z");
        for t in [0, 1, 86_399, 951_782_400, 1_769_821_200, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&iso(t)), Some(t));
        }
    }
}
