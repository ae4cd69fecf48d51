//! String comparisons. AWS IAM User Guide, "Condition operators" > "String condition
//! operators": `StringEquals` is exact and case-sensitive; `…IgnoreCase` ignores case;
//! `*`/`?` are wildcards only for `StringLike`/`StringNotLike` (case-sensitive).

/// Case-insensitive equality: ASCII fast path, Unicode lower-casing otherwise (no allocation).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_case() {
        assert!(eq_ignore_case("Finance", "FINANCE"));
        assert!(eq_ignore_case("ÉQUIPE", "équipe"));
        assert!(!eq_ignore_case("a", "b"));
        assert!(!eq_ignore_case("a", "ab"));
    }
}
