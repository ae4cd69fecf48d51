//! The two timestamp formats SigV4 meets (D1 step 6), without a date crate.
//!
//! Civil-date arithmetic follows Howard Hinnant's `days_from_civil` / `civil_from_days`.

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Value of an all-digit ASCII slice; `None` if any byte is not a digit.
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Unix seconds of a validated civil date-time.
fn to_unix(year: u32, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Option<i64> {
    let year = i64::from(year);
    let valid =
        (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month) && hour < 24 && min < 60 && sec < 60;
    valid.then(|| {
        days_from_civil(year, month, day) * 86_400 + i64::from(hour) * 3_600 + i64::from(min) * 60 + i64::from(sec)
    })
}

/// Parses ISO 8601 basic format `YYYYMMDD'T'HHMMSS'Z'` (the `X-Amz-Date` format).
pub(crate) fn parse_basic(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_unix(
        digits(&b[0..4])?,
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// Parses an RFC 7231 IMF-fixdate (`Sun, 30 Aug 2015 12:36:00 GMT`), the form clients put in
/// `Date` when they omit `X-Amz-Date` (D1 step 6).
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = s.split_ascii_whitespace();
    let weekday = parts.next()?;
    if !weekday.ends_with(',') {
        return None;
    }
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if day.len() > 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)?;
    let month = u32::try_from(month).ok()? + 1;
    let t = time.as_bytes();
    if t.len() != 8 || t[2] != b':' || t[5] != b':' {
        return None;
    }
    to_unix(
        digits(year.as_bytes())?,
        month,
        digits(day.as_bytes())?,
        digits(&t[0..2])?,
        digits(&t[3..5])?,
        digits(&t[6..8])?,
    )
}

/// Formats unix seconds as ISO 8601 basic format (used in the string to sign and in messages).
pub(crate) fn format_basic(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_roundtrip() {
        assert_eq!(parse_basic("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_basic(1_440_938_160), "20150830T123600Z");
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
        assert_eq!(parse_basic("20000229T235959Z"), Some(951_868_799));
        assert_eq!(format_basic(-1), "19691231T235959Z");
        for t in [0, 951_868_799, 4_102_444_800, 253_402_300_799] {
            assert_eq!(parse_basic(&format_basic(t)), Some(t));
        }
    }

    #[test]
    fn basic_rejects_malformed() {
        for bad in [
            "",
            "20150830",
            "20150830T123600",
            "20150830T123600z",
            "2015-08-30T12:36:00Z",
            "20150230T123600Z",
            "20190229T000000Z",
            "20151301T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015083+T123600Z",
            "20150830T12360éZ",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }

    #[test]
    fn http_date() {
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(1_440_938_160));
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 UTC"), None);
        assert_eq!(parse_http_date("Sun 30 Aug 2015 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("Sun, 31 Sep 2015 12:36:00 GMT"), None);
    }

    #[test]
    fn format_extremes_do_not_panic() {
        let _ = format_basic(i64::MAX);
        let _ = format_basic(i64::MIN);
    }
}
