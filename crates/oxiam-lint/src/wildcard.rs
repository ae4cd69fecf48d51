//! IAM's wildcards (`*` any run of characters, `?` one character), on lower-cased text when
//! the caller wants case-insensitive matching: whether a pattern matches a text, and whether
//! two patterns can match one same text (an ARN pattern of a policy against the ARN format of
//! a resource type, its `${…}` placeholders read as `*`).

/// Whether `pattern` matches all of `text`.
pub fn matches(pattern: &str, text: &str) -> bool {
    // Action names and ARNs are ASCII: bytes are characters, and nothing is allocated (this
    // runs for every action of a service a wildcard is tried on).
    if pattern.is_ascii() && text.is_ascii() {
        return matches_units(pattern.as_bytes(), text.as_bytes());
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    matches_units(&p, &t)
}

/// [`matches`] over units that are each one character.
fn matches_units<U: Copy + PartialEq + From<u8>>(p: &[U], t: &[U]) -> bool {
    let (any, one) = (U::from(b'*'), U::from(b'?'));
    // Greedy with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == any {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == any)
}

/// Whether some text matches both `a` and `b`.
pub fn intersect(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // reach[i][j]: the first i characters of `a` and the first j of `b` can stand for the
    // same text. A `*` may take nothing or one more character of the other side.
    let mut reach = vec![vec![false; b.len() + 1]; a.len() + 1];
    reach[0][0] = true;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if reach[i][j] {
                continue;
            }
            let star_a = i > 0 && a[i - 1] == '*';
            let star_b = j > 0 && b[j - 1] == '*';
            reach[i][j] = (star_a && (reach[i - 1][j] || (j > 0 && reach[i][j - 1])))
                || (star_b && (reach[i][j - 1] || (i > 0 && reach[i - 1][j])))
                || (i > 0 && j > 0 && reach[i - 1][j - 1] && one_char_compatible(a[i - 1], b[j - 1]));
        }
    }
    reach[a.len()][b.len()]
}

/// Whether some ARN matches both ARN patterns. IAM matches an ARN's six colon-separated
/// parts one by one (a wildcard never reaches into the next part), so the parts are
/// intersected one by one; text that is no ARN is intersected whole.
pub fn arns_intersect(a: &str, b: &str) -> bool {
    match (oxiam_policy::split_arn(a), oxiam_policy::split_arn(b)) {
        (Some(a), Some(b)) => a.iter().zip(b.iter()).all(|(x, y)| intersect(x, y)),
        _ => intersect(a, b),
    }
}

/// Whether the policy engine surely matches `arn` with the resource `pattern`: `*`, or two
/// full ARNs matched segment by segment as the engine does (a pattern of fewer segments the
/// engine may pad or read as plain text: not surely). Case-sensitive, as the engine is.
pub fn surely_matches(pattern: &str, arn: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match (oxiam_policy::split_arn(pattern), oxiam_policy::split_arn(arn)) {
        (Some(p), Some(a)) => p.iter().zip(a.iter()).all(|(p, a)| matches(p, a)),
        _ => false,
    }
}

/// Whether the policy engine may match some text both the resource `pattern` and `text` (a
/// pattern too) stand for: no only when both are full ARNs whose segments cannot meet.
pub fn may_intersect(pattern: &str, text: &str) -> bool {
    match (oxiam_policy::split_arn(pattern), oxiam_policy::split_arn(text)) {
        (Some(_), Some(_)) => arns_intersect(pattern, text),
        _ => true,
    }
}

fn one_char_compatible(x: char, y: char) -> bool {
    x == y || x == '?' || y == '?'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("s3:get*", "s3:getobject"));
        assert!(matches("*", ""));
        assert!(matches("s3:?etobject", "s3:getobject"));
        assert!(!matches("s3:get*", "s3:putobject"));
        assert!(matches("a*b*c", "axxbyyc"));
        assert!(!matches("a*b*c", "axxbyy"));
    }

    #[test]
    fn intersecting() {
        assert!(intersect("arn:aws:s3:::*", "arn:*:s3:::*/*"));
        assert!(intersect("arn:aws:s3:::bucket/*", "arn:*:s3:::*/*"));
        assert!(
            !intersect("arn:aws:s3:::bucket", "arn:*:s3:::*/*"),
            "a bucket is no object"
        );
        assert!(
            intersect("arn:aws:iam::*:user/*", "arn:*:iam::*:role/*"),
            "as whole strings, * spans colons"
        );
        assert!(
            !arns_intersect("arn:aws:iam::*:user/*", "arn:*:iam::*:role/*"),
            "not part by part"
        );
        assert!(arns_intersect(
            "arn:aws:iam::*:user/*",
            "arn:*:iam::*:user/${UserNameWithPath}"
        ));
        assert!(intersect("a?c", "*b*"));
        assert!(!intersect("abc", "abd"));
    }

    proptest::proptest! {
        /// A text matches both patterns exactly when it is a witness of their intersection.
        #[test]
        fn intersection_agrees_with_witnesses(a in "[ab*?]{0,6}", b in "[ab*?]{0,6}", t in "[ab]{0,6}") {
            if matches(&a, &t) && matches(&b, &t) {
                proptest::prop_assert!(intersect(&a, &b), "{a} and {b} both match {t}");
            }
            if !intersect(&a, &b) {
                proptest::prop_assert!(!(matches(&a, &t) && matches(&b, &t)));
            }
            proptest::prop_assert_eq!(intersect(&a, &t), matches(&a, &t));
        }
    }
}
