//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, `${*}`, `${?}`,
//! `${$}`): parsing into template pieces, and resolution against a request [`Context`].
//!
//! AWS IAM User Guide, "IAM policy elements: Variables and tags": key names are
//! case-insensitive; a variable whose key is absent has no value (the value it sits in matches
//! nothing) unless a default is given as `${key, 'default'}`; `${*}`, `${?}` and `${$}` stand for
//! the literal characters; a multivalued key cannot be used as a variable.

use crate::context::{Context, key_hash};
use crate::glob::{Glob, Tok, literal_tokens, match_tokens, starts_with, tokens};

/// A piece of a value that contains variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Policy text (wildcards in it are live for `Like` matching).
    Text(Box<str>),
    /// A literal character produced by `${*}`, `${?}` or `${$}`.
    Special(char),
    /// A context key (lower-cased, with its hash) and an optional default.
    Var {
        key: Box<str>,
        hash: u64,
        default: Option<Box<str>>,
    },
}

/// How a template that is literal up to its last piece finishes a `Like` match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tail {
    /// The last piece is text with wildcards: it must match what remains.
    Glob(Glob),
    /// No wildcard anywhere: nothing may remain.
    End,
}

/// A value containing policy variables, compiled for matching. Values with wildcards only in
/// their last piece (`home/${aws:username}/*`, `user/${aws:username}`) are matched piece by
/// piece without building the expanded pattern, so they allocate nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// Literal text before the first wildcard or variable: a cheap first test.
    prefix: Box<str>,
    /// `Some` when every piece but the last is wildcard-free.
    tail: Option<Tail>,
}

impl Template {
    /// Compiles `text`, or `None` if it contains no variable.
    pub(crate) fn parse(text: &str) -> Option<Template> {
        let pieces = parse_template(text)?;
        let wild = |p: &Piece| matches!(p, Piece::Text(t) if t.contains(['*', '?']));
        let (init, last) = pieces.split_at(pieces.len() - 1);
        let tail = if init.iter().any(wild) {
            None
        } else {
            match &last[0] {
                Piece::Text(t) if wild(&last[0]) => Some(Tail::Glob(Glob::new(t))),
                _ => Some(Tail::End),
            }
        };
        Some(Template {
            prefix: literal_prefix(&pieces).into(),
            pieces,
            tail,
        })
    }

    /// The keys the template refers to (lower-cased).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Var { key, .. } => Some(&**key),
                _ => None,
            })
            .collect()
    }

    /// Strips the literal pieces `pieces` from the front of `text` (ASCII case-insensitively if
    /// `ignore_case`); `None` if they do not match or a variable has no value.
    fn strip<'t>(pieces: &[Piece], ctx: &Context, text: &'t str, ignore_case: bool) -> Option<&'t str> {
        let mut rest = text;
        for piece in pieces {
            let mut buf = [0u8; 4];
            let lit: &str = match piece {
                Piece::Text(t) => t,
                Piece::Special(c) => c.encode_utf8(&mut buf),
                Piece::Var { key, hash, default } => resolve(*hash, key, default.as_deref(), ctx)?,
            };
            let head = rest.get(..lit.len())?;
            let same = if ignore_case {
                head.eq_ignore_ascii_case(lit)
            } else {
                starts_with(rest, lit)
            };
            if !same {
                return None;
            }
            rest = rest.get(lit.len()..)?;
        }
        Some(rest)
    }

    /// `StringLike`-style match: wildcards in the policy text are live, substituted values and
    /// `${*}`/`${?}` are literal. A variable without a value matches nothing.
    pub(crate) fn like(&self, ctx: &Context, text: &str, scratch: &mut Vec<Tok>) -> bool {
        if !starts_with(text, &self.prefix) {
            return false;
        }
        match &self.tail {
            Some(Tail::End) => Template::strip(&self.pieces, ctx, text, false).is_some_and(str::is_empty),
            Some(Tail::Glob(g)) => {
                let init = &self.pieces[..self.pieces.len() - 1];
                Template::strip(init, ctx, text, false).is_some_and(|rest| g.matches(rest))
            }
            None => expand_tokens(&self.pieces, ctx, scratch) && match_tokens(scratch, text),
        }
    }

    /// Whether the template, its variables given their values in `ctx`, matches some text
    /// that begins with `prefix`; `false` if a variable has no value (the statement holding
    /// it is then ignored, and allows nothing).
    pub(crate) fn matches_some_extension_of(&self, ctx: &Context, prefix: &str, scratch: &mut Vec<Tok>) -> bool {
        expand_tokens(&self.pieces, ctx, scratch) && crate::glob::tokens_match_some_extension_of(scratch, prefix)
    }

    /// Whether `text` starts with the literal text before the first wildcard or variable:
    /// whether some values of the variables could make [`Template::like`] match.
    pub(crate) fn could_match(&self, text: &str) -> bool {
        starts_with(text, &self.prefix)
    }

    /// Exact match (`StringEquals`): every piece is literal.
    pub(crate) fn equals(&self, ctx: &Context, text: &str) -> bool {
        Template::strip(&self.pieces, ctx, text, false).is_some_and(str::is_empty)
    }

    /// Case-insensitive exact match (`StringEqualsIgnoreCase`).
    pub(crate) fn equals_ignore_case(&self, ctx: &Context, text: &str, scratch: &mut String) -> bool {
        if text.is_ascii()
            && self
                .pieces
                .iter()
                .all(|p| !matches!(p, Piece::Text(t) if !t.is_ascii()))
            && let Some(rest) = Template::strip(&self.pieces, ctx, text, true)
        {
            return rest.is_empty();
        }
        // A substituted value may be non-ASCII: fall through to the general comparison.
        expand_string(&self.pieces, ctx, scratch) && crate::condition::string::eq_ignore_case(scratch, text)
    }

    /// The expanded text; `false` if a variable has no value.
    pub(crate) fn expand(&self, ctx: &Context, out: &mut String) -> bool {
        expand_string(&self.pieces, ctx, out)
    }
}

/// Splits `text` into pieces, or returns `None` when it contains no variable.
fn parse_template(text: &str) -> Option<Vec<Piece>> {
    if !text.contains("${") {
        return None;
    }
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut any_var = false;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some((inner, consumed)) = variable_body(after) else {
            // Not a well-formed variable: keep `${` as text and go on after it.
            push_text(&mut pieces, &rest[..start + 2]);
            rest = after;
            continue;
        };
        push_text(&mut pieces, &rest[..start]);
        let piece = match inner {
            Body::Special(c) => Piece::Special(c),
            Body::Var { key, default } => {
                let key = key.to_ascii_lowercase();
                let hash = key_hash(&key);
                Piece::Var {
                    key: key.into_boxed_str(),
                    hash,
                    default: default.map(Into::into),
                }
            }
        };
        any_var = true;
        pieces.push(piece);
        rest = &after[consumed..];
    }
    push_text(&mut pieces, rest);
    any_var.then_some(pieces)
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Piece::Text(prev)) = pieces.last_mut() {
        let mut joined = String::from(&**prev);
        joined.push_str(text);
        *prev = joined.into_boxed_str();
    } else {
        pieces.push(Piece::Text(text.into()));
    }
}

enum Body<'a> {
    Special(char),
    Var { key: &'a str, default: Option<&'a str> },
}

/// Parses what follows `${`: returns the body and how many bytes (closing `}` included) it used.
fn variable_body(after: &str) -> Option<(Body<'_>, usize)> {
    for (special, c) in [("*}", '*'), ("?}", '?'), ("$}", '$')] {
        if after.starts_with(special) {
            return Some((Body::Special(c), 2));
        }
    }
    let end = after.find(['}', ','])?;
    let key = after[..end].trim();
    if key.is_empty() || key.contains("${") {
        return None;
    }
    if after.as_bytes()[end] == b'}' {
        return Some((Body::Var { key, default: None }, end + 1));
    }
    // `${key, 'default'}`
    let tail = after[end + 1..].trim_start();
    let skipped = after.len() - (end + 1) - tail.len();
    let quoted = tail.strip_prefix('\'')?;
    let close = quoted.find('\'')?;
    let default = &quoted[..close];
    let after_quote = &quoted[close + 1..];
    let trimmed = after_quote.trim_start();
    if !trimmed.starts_with('}') {
        return None;
    }
    let consumed = end + 1 + skipped + 1 + close + 1 + (after_quote.len() - trimmed.len()) + 1;
    Some((
        Body::Var {
            key,
            default: Some(default),
        },
        consumed,
    ))
}

/// The literal text a template starts with, up to its first wildcard or variable.
fn literal_prefix(pieces: &[Piece]) -> &str {
    match pieces.first() {
        Some(Piece::Text(t)) => &t[..t.find(['*', '?']).unwrap_or(t.len())],
        _ => "",
    }
}

/// The keys the variables in `text` refer to, as written.
pub(crate) fn variable_keys(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match variable_body(after) {
            Some((Body::Var { key, .. }, consumed)) => {
                out.push(key);
                rest = &after[consumed..];
            }
            Some((Body::Special(_), consumed)) => rest = &after[consumed..],
            None => rest = after,
        }
    }
    out
}

/// The keys (as written) of the variables in `text` that have no default, each once
/// (compared case-insensitively): the ones whose absence leaves `text` without a value.
pub(crate) fn keys_without_default(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match variable_body(after) {
            Some((Body::Var { key, default }, consumed)) => {
                if default.is_none() && !out.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                    out.push(key);
                }
                rest = &after[consumed..];
            }
            Some((Body::Special(_), consumed)) => rest = &after[consumed..],
            None => rest = after,
        }
    }
    out
}

/// Why a policy variable has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unresolved {
    /// The key is not in the request context.
    Missing,
    /// The key is present but null (no values, for example an empty tag list).
    Null,
    /// The key has several values; only single-valued keys can be policy variables.
    Multivalued,
}

impl Unresolved {
    /// How the variable is described in messages: `is not set`, `is null`, `has several values`.
    pub fn phrase(self) -> &'static str {
        match self {
            Unresolved::Missing => "is not set",
            Unresolved::Null => "is null",
            Unresolved::Multivalued => "has several values",
        }
    }
}

/// Whether the key (lower-cased, with its hash) of a variable without a default has a value
/// in `ctx`: exactly one, as [`resolve`] requires.
#[inline]
pub(crate) fn check(key_hash: u64, key: &str, ctx: &Context) -> Result<(), Unresolved> {
    match ctx.get_hashed(key_hash, key) {
        Some([_]) => Ok(()),
        None => Err(Unresolved::Missing),
        Some([]) => Err(Unresolved::Null),
        Some(_) => Err(Unresolved::Multivalued),
    }
}

/// The value a variable resolves to: the single value of its key, else its default, else none.
fn resolve<'a>(key_hash: u64, key: &str, default: Option<&'a str>, ctx: &'a Context) -> Option<&'a str> {
    match ctx.get_hashed(key_hash, key) {
        Some([single]) => Some(single.as_str()),
        // Absent, empty (null) or multivalued: no usable value.
        _ => default,
    }
}

/// Expands a template into a plain string; `None` if a variable has no value.
fn expand_string(pieces: &[Piece], ctx: &Context, out: &mut String) -> bool {
    out.clear();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Special(c) => out.push(*c),
            Piece::Var { key, hash, default } => match resolve(*hash, key, default.as_deref(), ctx) {
                Some(v) => out.push_str(v),
                None => return false,
            },
        }
    }
    true
}

/// Expands a template into wildcard tokens: policy text keeps its wildcards, substituted values
/// and `${*}`/`${?}` are literal. `false` if a variable has no value.
fn expand_tokens(pieces: &[Piece], ctx: &Context, out: &mut Vec<Tok>) -> bool {
    out.clear();
    out.reserve(
        pieces
            .iter()
            .map(|p| if let Piece::Text(t) = p { t.len() } else { 16 })
            .sum(),
    );
    for piece in pieces {
        match piece {
            Piece::Text(t) => tokens(t, out),
            Piece::Special(c) => {
                let mut buf = [0u8; 4];
                literal_tokens(c.encode_utf8(&mut buf), out);
            }
            Piece::Var { key, hash, default } => match resolve(*hash, key, default.as_deref(), ctx) {
                Some(v) => literal_tokens(v, out),
                None => return false,
            },
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(key: &str, default: Option<&str>) -> Piece {
        Piece::Var {
            key: key.into(),
            hash: key_hash(key),
            default: default.map(Into::into),
        }
    }

    proptest::proptest! {
        // The piecewise fast path agrees with expanding the template into a wildcard pattern.
        #[test]
        fn fast_like_agrees_with_expansion(
            parts in proptest::collection::vec(proptest::sample::select(vec!["a", "b", "/", "*", "?", "${aws:username}", "${*}", "${?}", "${aws:userid}", "${aws:userid, 'ab'}"]), 1..6),
            text in "[ab/*?]{0,12}",
            name in "[ab*]{0,3}",
        ) {
            let pattern: String = parts.concat();
            let Some(t) = Template::parse(&pattern) else { return Ok(()) };
            let ctx = Context::builder().set("aws:username", name.as_str()).build();
            let mut toks = Vec::new();
            let slow = expand_tokens(&t.pieces, &ctx, &mut toks) && match_tokens(&toks, &text);
            proptest::prop_assert_eq!(t.like(&ctx, &text, &mut Vec::new()), slow, "{} vs {}", pattern, text);
            let mut s = String::new();
            let slow_eq = expand_string(&t.pieces, &ctx, &mut s) && s == text;
            proptest::prop_assert_eq!(t.equals(&ctx, &text), slow_eq);
        }
    }

    #[test]
    fn template_matching() {
        let ctx = Context::builder()
            .set("aws:username", "alice")
            .set("aws:PrincipalTag/team", "Blue")
            .build();
        let t = |s: &str| Template::parse(s).unwrap();
        let mut toks = Vec::new();
        let mut text = String::new();
        assert!(t("home/${aws:username}/*").like(&ctx, "home/alice/x/y", &mut toks));
        assert!(!t("home/${aws:username}/*").like(&ctx, "home/alicex/y", &mut toks));
        assert!(!t("home/${aws:username}/*").like(&ctx, "home/bob/x", &mut toks));
        assert!(t("*/${aws:username}").like(&ctx, "a/b/alice", &mut toks));
        assert!(!t("*/${aws:username}").like(&ctx, "a/b/alic", &mut toks));
        assert!(t("${aws:username}").like(&ctx, "alice", &mut toks));
        assert!(!t("${aws:username}").like(&ctx, "alice2", &mut toks));
        assert!(t("a${*}${aws:username}").like(&ctx, "a*alice", &mut toks));
        assert!(!t("a${*}${aws:username}").like(&ctx, "abalice", &mut toks));
        assert!(!t("${aws:userid}*").like(&ctx, "x", &mut toks));
        assert!(t("${aws:userid, 'anon'}*").like(&ctx, "anon-1", &mut toks));
        assert!(t("h*/${aws:username}").equals(&ctx, "h*/alice"));
        assert!(!t("h*/${aws:username}").equals(&ctx, "hx/alice"));
        assert!(t("team-${aws:principaltag/team}").equals_ignore_case(&ctx, "TEAM-blue", &mut text));
        assert!(!t("team-${aws:principaltag/team}").equals_ignore_case(&ctx, "TEAM-blu", &mut text));
        assert_eq!(
            t("x${AWS:UserName}${aws:PrincipalTag/team}").keys(),
            ["aws:username", "aws:principaltag/team"]
        );
    }

    #[test]
    fn keys_as_written() {
        assert_eq!(
            variable_keys("a/${aws:UserName}/${*}/${aws:PrincipalTag/Team, 'x'}"),
            ["aws:UserName", "aws:PrincipalTag/Team"]
        );
        assert_eq!(
            keys_without_default("a/${aws:UserName}/${*}/${aws:PrincipalTag/Team, 'x'}/${AWS:username}/${ bad"),
            ["aws:UserName"]
        );
    }

    #[test]
    fn checks_values() {
        let ctx = Context::builder()
            .set("aws:username", "alice")
            .set_all::<&str>("aws:principaltag/none", [])
            .set_all("aws:tagkeys", ["a", "b"])
            .build();
        let c = |k: &str| check(key_hash(k), k, &ctx);
        assert_eq!(c("aws:username"), Ok(()));
        assert_eq!(c("aws:userid"), Err(Unresolved::Missing));
        assert_eq!(c("aws:principaltag/none"), Err(Unresolved::Null));
        assert_eq!(c("aws:tagkeys"), Err(Unresolved::Multivalued));
    }

    #[test]
    fn parses() {
        assert_eq!(parse_template("plain"), None);
        assert_eq!(
            parse_template("home/${aws:username}/*"),
            Some(vec![
                Piece::Text("home/".into()),
                var("aws:username", None),
                Piece::Text("/*".into())
            ])
        );
        assert_eq!(
            parse_template("${aws:PrincipalTag/Team, 'company-wide'}"),
            Some(vec![var("aws:principaltag/team", Some("company-wide"))])
        );
        assert_eq!(
            parse_template("a${*}b${?}${$}"),
            Some(vec![
                Piece::Text("a".into()),
                Piece::Special('*'),
                Piece::Text("b".into()),
                Piece::Special('?'),
                Piece::Special('$'),
            ])
        );
        // Not variables: kept as text.
        assert_eq!(parse_template("${unterminated"), None);
        assert_eq!(parse_template("${}"), None);
        assert_eq!(
            parse_template("${} ${aws:userid,'x'}"),
            Some(vec![Piece::Text("${} ".into()), var("aws:userid", Some("x"))])
        );
    }
}
