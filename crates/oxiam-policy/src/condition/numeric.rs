//! Numeric condition values. AWS IAM User Guide, "Condition operators" > "Numeric condition
//! operators": integers or decimals. Integers compare exactly (as `i128`); anything with a
//! fraction or exponent compares as `f64`.

use std::cmp::Ordering;

/// A parsed number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    pub(crate) fn parse(s: &str) -> Option<Number> {
        let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
        if digits.is_empty() {
            return None;
        }
        if digits.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = s.parse::<i128>()
        {
            return Some(Number::Int(i));
        }
        // Only plain decimal notation (and exponents): no "inf", "NaN", hex or spaces.
        if !digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        {
            return None;
        }
        let f: f64 = s.parse().ok()?;
        f.is_finite().then_some(Number::Float(f))
    }

    fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    pub(crate) fn compare(self, other: Number) -> Option<Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares() {
        assert_eq!(Number::parse("10"), Some(Number::Int(10)));
        assert_eq!(Number::parse("-3"), Some(Number::Int(-3)));
        assert_eq!(Number::parse("2.5"), Some(Number::Float(2.5)));
        assert_eq!(Number::parse("1e3"), Some(Number::Float(1000.0)));
        for bad in ["", "-", "abc", "inf", "NaN", " 1", "0x10", "1,000"] {
            assert_eq!(Number::parse(bad), None, "{bad}");
        }
        let n = |s| Number::parse(s).unwrap();
        assert_eq!(n("10").compare(n("10.0")), Some(Ordering::Equal));
        assert_eq!(n("9").compare(n("10")), Some(Ordering::Less));
        assert_eq!(
            n("170141183460469231731687303715884105727").compare(n("170141183460469231731687303715884105726")),
            Some(Ordering::Greater)
        );
    }
}
