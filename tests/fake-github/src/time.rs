//! Checking the timestamps the bot sends (`2011-01-26T19:01:12Z`); the fake writes its own
//! with `vouch_rules::time::iso`.

/// Whether `text` is an ISO 8601 timestamp as GitHub's check-run API takes it:
/// `YYYY-MM-DDTHH:MM:SS`, optional fraction, then `Z` or an offset.
pub(crate) fn is_iso8601(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.len() == range.len() && s.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] | [b'+' | b'-', h1, h2, m1, m2] => {
            [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_checked() {
        for good in [
            "2018-05-04T01:14:52Z",
            "2018-05-04T01:14:52.123Z",
            "2018-05-04T01:14:52+02:00",
        ] {
            assert!(is_iso8601(good), "{good}");
        }
        for bad in [
            "",
            "t",
            "2018-05-04",
            "2018-05-04 01:14:52Z",
            "2018-05-04T01:14:52",
            "2018-05-04T01:14:52.Z",
        ] {
            assert!(!is_iso8601(bad), "{bad}");
        }
    }
}
