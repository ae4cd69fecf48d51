//! Wildcard matching as IAM does it: `*` matches any run of characters (including none) and
//! `?` matches exactly one character; nothing else is special (no brackets, no braces, no
//! escapes). Patterns are compiled once into a [`Glob`] with fast paths for the common shapes.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(u8),
    Star,
    Quest,
}

/// Tokenises `pattern`, treating `*` and `?` as wildcards.
pub(crate) fn tokens(pattern: &str, out: &mut Vec<Tok>) {
    out.extend(pattern.bytes().map(|b| match b {
        b'*' => Tok::Star,
        b'?' => Tok::Quest,
        b => Tok::Lit(b),
    }));
}

/// Appends `literal` as literal bytes (no wildcards).
pub(crate) fn literal_tokens(literal: &str, out: &mut Vec<Tok>) {
    out.extend(literal.bytes().map(Tok::Lit));
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// `*`: matches everything.
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// `prefix*`
    Prefix(Box<str>),
    /// `*suffix`
    Suffix(Box<str>),
    /// `*infix*`
    Contains(Box<str>),
    /// Anything else.
    General(Box<[Tok]>),
}

impl Glob {
    pub(crate) fn new(pattern: &str) -> Glob {
        let mut toks = Vec::with_capacity(pattern.len());
        tokens(pattern, &mut toks);
        Glob::from_tokens(toks)
    }

    pub(crate) fn from_tokens(toks: Vec<Tok>) -> Glob {
        // Collapse runs of `*`: they are equivalent to one.
        let mut collapsed: Vec<Tok> = Vec::with_capacity(toks.len());
        for t in toks {
            if t == Tok::Star && collapsed.last() == Some(&Tok::Star) {
                continue;
            }
            collapsed.push(t);
        }
        let toks = collapsed;
        let stars = toks.iter().filter(|t| **t == Tok::Star).count();
        let quests = toks.contains(&Tok::Quest);
        if quests {
            return Glob::General(toks.into_boxed_slice());
        }
        let lit = |slice: &[Tok]| -> Option<Box<str>> {
            let bytes: Vec<u8> = slice
                .iter()
                .map(|t| match t {
                    Tok::Lit(b) => *b,
                    _ => 0,
                })
                .collect();
            String::from_utf8(bytes).ok().map(String::into_boxed_str)
        };
        let n = toks.len();
        let general = |toks: Vec<Tok>| Glob::General(toks.into_boxed_slice());
        match stars {
            0 => lit(&toks).map(Glob::Exact).unwrap_or_else(|| general(toks)),
            1 if n == 1 => Glob::Any,
            1 if toks[n - 1] == Tok::Star => lit(&toks[..n - 1]).map(Glob::Prefix).unwrap_or_else(|| general(toks)),
            1 if toks[0] == Tok::Star => lit(&toks[1..]).map(Glob::Suffix).unwrap_or_else(|| general(toks)),
            2 if n >= 2 && toks[0] == Tok::Star && toks[n - 1] == Tok::Star => lit(&toks[1..n - 1])
                .map(Glob::Contains)
                .unwrap_or_else(|| general(toks)),
            _ => general(toks),
        }
    }

    /// Whether the pattern matches some text that begins with `prefix` (`prefix` itself,
    /// or `prefix` followed by anything).
    pub(crate) fn matches_some_extension_of(&self, prefix: &str) -> bool {
        match self {
            Glob::Any | Glob::Suffix(_) | Glob::Contains(_) => true,
            Glob::Exact(s) => s.starts_with(prefix),
            Glob::Prefix(p) => p.starts_with(prefix) || prefix.starts_with(&**p),
            Glob::General(toks) => tokens_match_some_extension_of(toks, prefix),
        }
    }

    /// Whether the pattern matches all of `text`.
    #[inline]
    pub(crate) fn matches(&self, text: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(s) => bytes_eq(s.as_bytes(), text.as_bytes()),
            Glob::Prefix(p) => starts_with(text, p),
            Glob::Suffix(s) => {
                text.len() >= s.len() && bytes_eq(s.as_bytes(), &text.as_bytes()[text.len() - s.len()..])
            }
            Glob::Contains(s) => contains(text.as_bytes(), s.as_bytes()),
            Glob::General(toks) => match_tokens(toks, text),
        }
    }
}

/// Whether `pattern` can match some text beginning with `prefix`: the positions in the
/// pattern reachable after reading `prefix` (a `*` may take any byte, or none) are not
/// none; whatever follows a reachable position can always be matched by some text.
pub(crate) fn tokens_match_some_extension_of(pattern: &[Tok], prefix: &str) -> bool {
    // `reach[i]`: position `i` of the pattern (`pattern.len()`: its end) is reachable.
    let closure = |reach: &mut Vec<bool>| {
        for i in 0..pattern.len() {
            if reach[i] && pattern[i] == Tok::Star {
                reach[i + 1] = true;
            }
        }
    };
    let mut reach = vec![false; pattern.len() + 1];
    reach[0] = true;
    closure(&mut reach);
    // Character by character: `?` takes one character, however many bytes it is.
    let mut chars = prefix.char_indices().peekable();
    while let Some((at, _)) = chars.next() {
        let end = chars.peek().map_or(prefix.len(), |(next, _)| *next);
        let bytes = &prefix.as_bytes()[at..end];
        let mut next = vec![false; pattern.len() + 1];
        for (i, tok) in pattern.iter().enumerate() {
            if !reach[i] {
                continue;
            }
            match *tok {
                Tok::Star => next[i] = true,
                Tok::Quest => next[i + 1] = true,
                Tok::Lit(_) => {
                    let literal = pattern[i..].iter().take(bytes.len()).map(|t| match t {
                        Tok::Lit(l) => Some(*l),
                        _ => None,
                    });
                    if literal.eq(bytes.iter().map(|b| Some(*b))) {
                        next[i + bytes.len()] = true;
                    }
                }
            }
        }
        closure(&mut next);
        if !next.contains(&true) {
            return false;
        }
        reach = next;
    }
    true
}

/// Byte-string equality that stays inline for the short strings policies are made of (a
/// `memcmp` call costs more than comparing a dozen bytes): overlapping word loads.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    };
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=32 => {
            let mut i = 0;
            while i + 8 < n {
                if word(a, i) != word(b, i) {
                    return false;
                }
                i += 8;
            }
            word(a, n - 8) == word(b, n - 8)
        }
        _ => a == b,
    }
}

/// Substring search; a naive scan for the short needles and texts of policies (the standard
/// two-way searcher's set-up costs more than the search), the standard one otherwise.
#[inline]
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.len() > 16 || hay.len() > 256 {
        return hay.windows(needle.len().max(1)).any(|w| w == needle) || needle.is_empty();
    }
    let Some((&first, _)) = needle.split_first() else {
        return true;
    };
    if hay.len() < needle.len() {
        return false;
    }
    (0..=hay.len() - needle.len()).any(|i| hay[i] == first && bytes_eq(&hay[i..i + needle.len()], needle))
}

/// `text.starts_with(prefix)` via [`bytes_eq`].
#[inline]
pub(crate) fn starts_with(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len() && bytes_eq(prefix.as_bytes(), &text.as_bytes()[..prefix.len()])
}

/// Width in bytes of the UTF-8 character that starts with `lead`.
#[inline]
fn char_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xff => 4,
        // A continuation byte cannot start a character of a valid `str`; step one byte.
        _ => 1,
    }
}

/// Matches `text` against a token pattern. Iterative, with one backtracking point (the most
/// recent `*`), which is complete for patterns made only of `*`, `?` and literals; it runs in
/// O(len(text) × len(pattern)) at worst and allocates nothing. `?` consumes one character.
pub(crate) fn match_tokens(pattern: &[Tok], text: &str) -> bool {
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if let Some(&tok) = pattern.get(pi) {
            match tok {
                Tok::Star => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                Tok::Quest => {
                    ti += char_width(t[ti]);
                    pi += 1;
                    continue;
                }
                Tok::Lit(b) if b == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                Tok::Lit(_) => {}
            }
        }
        match star {
            Some((sp, st)) => {
                let next = st + char_width(t[st]);
                star = Some((sp, next));
                pi = sp + 1;
                ti = next;
            }
            None => return false,
        }
    }
    pattern[pi.min(pattern.len())..].iter().all(|t| *t == Tok::Star) && ti <= t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_eq_agrees_with_eq() {
        let words = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "arn:aws:s3:::",
            "0123456789abcdef0123456789abcdefX",
        ];
        for a in words {
            for b in words {
                assert_eq!(bytes_eq(a.as_bytes(), b.as_bytes()), a == b, "{a:?} {b:?}");
                for i in 0..a.len() {
                    let mut c = a.as_bytes().to_vec();
                    c[i] ^= 1;
                    assert!(!bytes_eq(a.as_bytes(), &c));
                }
            }
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(Glob::new("*"), Glob::Any);
        assert_eq!(Glob::new("**"), Glob::Any);
        assert_eq!(Glob::new("abc"), Glob::Exact("abc".into()));
        assert_eq!(Glob::new("abc*"), Glob::Prefix("abc".into()));
        assert_eq!(Glob::new("*abc"), Glob::Suffix("abc".into()));
        assert_eq!(Glob::new("*abc*"), Glob::Contains("abc".into()));
        assert!(matches!(Glob::new("a*b"), Glob::General(_)));
        assert!(matches!(Glob::new("a?"), Glob::General(_)));
    }

    #[test]
    fn matching() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "a", false),
            ("a*", "a", true),
            ("a*b", "ab", true),
            ("a*b", "axxb", true),
            ("a*b", "axxbc", false),
            ("a*b*c", "abbbc", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "aéc", true),
            ("??", "é", false),
            ("?", "é", true),
            ("*?", "", false),
            ("*x*y*", "axbyc", true),
            ("*x*y*", "aybxc", false),
            ("Get???", "GetObj", true),
            ("Get???", "GetObject", false),
            ("[a]", "a", false),
            ("[a]", "[a]", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(Glob::new(p).matches(t), want, "{p:?} vs {t:?}");
        }
    }

    #[test]
    fn matching_some_extension() {
        let cases = [
            ("*", "b/", true),
            ("b/tmp/*", "b/", true),
            ("b/tmp/*", "c/", false),
            ("b", "b/", false),
            ("b/", "b/", true),
            ("b/x", "b/", true),
            ("b*", "b/", true),
            ("bu*", "b/", false),
            ("*/x", "b/", true),
            ("a*b?d", "axxb", true),
            ("a*b?d", "axxbcd", true),
            ("a*b?d", "axxbcde", true),
            ("a?c*", "aéc/", true),
            ("a??c*", "aéc/", false),
            ("b?/*", "bé/", true),
            ("x*y", "x", true),
            ("x?y", "xay/", false),
        ];
        for (p, prefix, want) in cases {
            assert_eq!(
                Glob::new(p).matches_some_extension_of(prefix),
                want,
                "{p:?} under {prefix:?}"
            );
        }
    }

    /// Every text over `alphabet` of at most `len` characters.
    fn texts(alphabet: &[char], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    proptest::proptest! {
        /// Exactly right: a pattern matches some extension of a prefix if and only if it
        /// matches the prefix followed by one of the texts short enough to fill the rest of
        /// the pattern (each token of the pattern takes at most one character).
        #[test]
        fn some_extension_is_exactly_some_matching_text(
            pattern in "[ab*?é/]{0,6}",
            prefix in "[abé/]{0,5}",
        ) {
            let glob = Glob::new(&pattern);
            let witnessed = texts(&['a', 'b', 'é', '/'], pattern.chars().count())
                .iter()
                .any(|tail| glob.matches(&format!("{prefix}{tail}")));
            proptest::prop_assert_eq!(glob.matches_some_extension_of(&prefix), witnessed, "{:?} under {:?}", pattern, prefix);
        }
    }
}
