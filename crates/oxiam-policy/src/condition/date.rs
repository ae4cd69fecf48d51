//! Date condition values. AWS IAM User Guide, "Condition operators" > "Date condition
//! operators": values use the W3C profiles of ISO 8601 (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`,
//! `YYYY-MM-DDThh:mmTZD`, `YYYY-MM-DDThh:mm:ssTZD`, `YYYY-MM-DDThh:mm:ss.sTZD`) or epoch
//! (UNIX) seconds; wildcards are not allowed.

/// An instant, in nanoseconds since the UNIX epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp(pub(crate) i128);

impl Timestamp {
    pub(crate) fn from_epoch_seconds(secs: i64) -> Timestamp {
        Timestamp(i128::from(secs) * 1_000_000_000)
    }

    /// Parses an ISO 8601 (W3C profile) date-time or epoch seconds (optionally with a fraction).
    pub(crate) fn parse(s: &str) -> Option<Timestamp> {
        let b = s.as_bytes();
        if b.is_empty() {
            return None;
        }
        if b.iter().all(u8::is_ascii_digit) || (b[0] == b'-' && b.len() > 1 && b[1..].iter().all(u8::is_ascii_digit)) {
            // Epoch seconds; a 4-digit value is read as epoch seconds too, as a year would be
            // ambiguous and AWS's own keys (aws:EpochTime) are epoch seconds.
            let secs: i64 = s.parse().ok()?;
            return Some(Timestamp::from_epoch_seconds(secs));
        }
        if let Some((int, frac)) = s.split_once('.')
            && !int.is_empty()
            && int.bytes().all(|c| c.is_ascii_digit())
            && !frac.is_empty()
            && frac.bytes().all(|c| c.is_ascii_digit())
        {
            let secs: i64 = int.parse().ok()?;
            return Some(Timestamp(i128::from(secs) * 1_000_000_000 + frac_nanos(frac)?));
        }
        parse_iso(s)
    }
}

fn frac_nanos(frac: &str) -> Option<i128> {
    let mut nanos: i128 = 0;
    for (i, c) in frac.bytes().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        if i < 9 {
            nanos = nanos * 10 + i128::from(c - b'0');
        }
    }
    let shown = frac.len().min(9) as u32;
    Some(nanos * 10i128.pow(9 - shown))
}

fn digits(s: &str, n: usize) -> Option<i64> {
    (s.len() == n && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok())?
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn parse_iso(s: &str) -> Option<Timestamp> {
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = parts.next().map(|m| digits(m, 2)).unwrap_or(Some(1))?;
    let day = parts.next().map(|d| digits(d, 2)).unwrap_or(Some(1))?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut nanos = i128::from(days_from_civil(year, month, day)) * 86_400 * 1_000_000_000;
    let Some(time) = time else {
        return Some(Timestamp(nanos));
    };
    // Split off the zone designator.
    let (clock, offset_secs) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else if let Some(i) = time.rfind(['+', '-']) {
        let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
        let zone = &time[i + 1..];
        let (zh, zm) = match zone.split_once(':') {
            Some((h, m)) => (digits(h, 2)?, digits(m, 2)?),
            None if zone.len() == 4 => (digits(&zone[..2], 2)?, digits(&zone[2..], 2)?),
            None => (digits(zone, 2)?, 0),
        };
        if zh > 23 || zm > 59 {
            return None;
        }
        (&time[..i], sign * (zh * 3600 + zm * 60))
    } else {
        (time, 0)
    };
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?, 2)?;
    let minute = digits(fields.next()?, 2)?;
    let (second, frac) = match fields.next() {
        Some(sec) => match sec.split_once('.') {
            Some((whole, frac)) => (digits(whole, 2)?, frac_nanos(frac)?),
            None => (digits(sec, 2)?, 0),
        },
        None => (0, 0),
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let secs = hour * 3600 + minute * 60 + second - offset_secs;
    nanos += i128::from(secs) * 1_000_000_000 + frac;
    Some(Timestamp(nanos))
}

/// The civil fields of epoch seconds: year, month, day and the seconds into the day.
fn civil(secs: i64) -> (i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem)
}

/// Civil fields written by `format!`: any year, at least four digits.
fn formatted((y, m, d, rem): (i64, i64, i64, i64)) -> String {
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats epoch seconds as `YYYY-MM-DDThh:mm:ssZ` (for context values built from a number).
pub(crate) fn format_epoch(secs: i64) -> String {
    let fields @ (y, m, d, rem) = civil(secs);
    // Every request's aws:CurrentTime is written here: digit by digit, which costs a tenth
    // of `format!`'s padding machinery. A year outside 0–9999 (no request's) takes `format!`.
    let Ok(year @ 0..=9999) = u16::try_from(y) else {
        return formatted(fields);
    };
    let mut text = String::with_capacity(20);
    let mut push = |n: i64, width: u32, then: char| {
        for place in (0..width).rev() {
            let digit = n / 10_i64.pow(place) % 10;
            text.push(char::from(b'0' + digit as u8));
        }
        text.push(then);
    };
    push(i64::from(year), 4, '-');
    push(m, 2, '-');
    push(d, 2, 'T');
    push(rem / 3600, 2, ':');
    push(rem % 3600 / 60, 2, ':');
    push(rem % 60, 2, 'Z');
    text
}

/// The write-time check IAM applies to `Date*` condition values; a value that fails it makes
/// IAM answer "The policy failed legacy parsing". It is looser than [`Timestamp::parse`] (IAM
/// accepts values that can never match, such as `01T`). Behaviour inferred from recorded IAM
/// answers: `sdfdsf`, `234-13`, a one-digit zone hour, a ten-digit fraction and epoch values
/// above `i64::MAX` are rejected; `01T`, `2016-12-13t2:00:00.593194+23` and `-292275054` are
/// accepted.
pub(crate) fn legacy_date_ok(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower.contains('t') || lower.contains('-') {
        legacy_iso_ok(&lower)
    } else {
        lower.parse::<u64>().is_ok_and(|n| n <= i64::MAX as u64)
    }
}

fn int_in(s: &str, lo: i64, hi: i64) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    !body.is_empty()
        && body.bytes().all(|c| c.is_ascii_digit())
        && s.parse::<i64>().is_ok_and(|n| (lo..=hi).contains(&n))
}

fn legacy_iso_ok(s: &str) -> bool {
    let (date, time) = match s.split_once('t') {
        Some((d, t)) => (d, t),
        None => (s, ""),
    };
    let (negative, date_body) = match date.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, date),
    };
    let parts: Vec<&str> = date_body.split('-').collect();
    if parts.len() > 3 {
        return false;
    }
    let year = if negative {
        format!("-{}", parts[0])
    } else {
        parts[0].to_owned()
    };
    if !int_in(&year, -292_275_054, 292_278_993) {
        return false;
    }
    if parts.len() > 1 && !int_in(parts[1], 1, 12) {
        return false;
    }
    if parts.len() > 2 && !int_in(parts[2], 1, 31) {
        return false;
    }
    if time.is_empty() {
        return true;
    }
    let (clock, zone) = match time.find(['z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    if let Some(zone) = zone
        && zone != "z"
    {
        let body = &zone[1..];
        let (h, m) = match body.split_once(':') {
            Some((h, m)) => (h, Some(m)),
            None if body.len() == 4 => (&body[..2], Some(&body[2..])),
            None => (body, None),
        };
        if h.len() != 2 || !int_in(h, 0, 23) || m.is_some_and(|m| m.len() != 2 || !int_in(m, 0, 59)) {
            return false;
        }
    }
    let fields: Vec<&str> = clock.split(':').collect();
    if fields.len() > 3 {
        return false;
    }
    if !fields[0].is_empty() && !int_in(fields[0], 0, 23) {
        return false;
    }
    if fields.len() > 1 && !int_in(fields[1], 0, 59) {
        return false;
    }
    if let Some(seconds) = fields.get(2) {
        let (whole, frac) = match seconds.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (*seconds, None),
        };
        if !int_in(whole, 0, 59) {
            return false;
        }
        if let Some(f) = frac {
            return f.len() <= 9 && int_in(f, 0, 999_999_999);
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i128 {
        Timestamp::parse(s).unwrap_or_else(|| panic!("{s}")).0 / 1_000_000_000
    }

    #[test]
    fn iso_and_epoch() {
        assert_eq!(ts("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ts("2019-07-01T13:20:15Z"), 1_561_987_215);
        assert_eq!(ts("1561987215"), 1_561_987_215);
        assert_eq!(ts("2019-07-01T15:20:15+02:00"), 1_561_987_215);
        assert_eq!(ts("2019-07-01T08:20:15-0500"), 1_561_987_215);
        assert_eq!(ts("2019-07-01T13:20Z"), 1_561_987_200);
        assert_eq!(ts("2019-07-01"), 1_561_939_200);
        assert_eq!(ts("2019-07"), 1_561_939_200);
        assert_eq!(ts("2019"), 2019); // four digits alone are epoch seconds
        assert_eq!(
            Timestamp::parse("2016-12-13T21:20:37.593194+00:00").unwrap().0 % 1_000_000_000,
            593_194_000
        );
        for bad in [
            "",
            "sdfdsf",
            "2019-13-01",
            "2019-02-30",
            "2019-07-01T25:00Z",
            "01T",
            "2019-07-01T13:20:15+1",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn format_round_trips() {
        for secs in [0i64, 1_561_987_215, -86_400, 951_782_400, 4_102_444_800] {
            assert_eq!(ts(&format_epoch(secs)), i128::from(secs));
        }
        assert_eq!(format_epoch(1_561_987_215), "2019-07-01T13:20:15Z");
        // Either side of the digit-by-digit range (years 0–9999).
        assert_eq!(format_epoch(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(format_epoch(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(format_epoch(-62_167_219_200), "0000-01-01T00:00:00Z");
        assert_eq!(format_epoch(-62_167_219_201), "-001-12-31T23:59:59Z");
    }

    proptest::proptest! {
        /// The digit-by-digit text is `format!`'s, for any time a request can carry and far
        /// beyond (years up to 9999 and past it, before 1970 and before year 0).
        #[test]
        fn format_epoch_writes_what_format_writes(secs in -100_000_000_000i64..400_000_000_000) {
            proptest::prop_assert_eq!(format_epoch(secs), formatted(civil(secs)));
        }
    }

    #[test]
    fn legacy_parsing_as_recorded() {
        for ok in [
            "2017-07-01T00:00:00Z",
            "01T",
            "2016-12-13T21:20:37.593194+00:00",
            "2016-12-13t2:00:00.593194+23",
            "-292275054",
            "2019-07-01T13:20:15Z",
            "1561987215",
            "2019-07-01T13:20Z",
            "2019-07-01T08:20:15-05:00",
            "2019-07-01",
        ] {
            assert!(legacy_date_ok(ok), "{ok}");
        }
        for bad in [
            "sdfdsf",
            "234-13",
            "2016-12-13t2:00:00.593194+1",
            "2016-12-13t2:00:00.1999999999+10:59",
            "9223372036854775808",
            "true",
        ] {
            assert!(!legacy_date_ok(bad), "{bad}");
        }
    }
}
