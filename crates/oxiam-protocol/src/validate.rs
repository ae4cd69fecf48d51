//! The model's constraints (required, length, pattern, range, enum), reported with the
//! texts IAM puts in a `ValidationError`:
//! `1 validation error detected: Value 'x' at 'userName' failed to satisfy constraint: …`.

use std::sync::OnceLock;

use regex::Regex;

/// Every constraint a request broke, joined into one message as IAM does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The full message, starting `N validation error(s) detected: `.
    pub message: String,
    /// The kind of the first constraint broken (services that name it, as Organizations'
    /// `Reason` does, answer with it).
    pub first: Option<Constraint>,
}

/// A kind of model constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// A required member is absent.
    Required,
    /// Too short.
    MinLength,
    /// Too long.
    MaxLength,
    /// Does not match the pattern.
    Pattern,
    /// Too small.
    MinValue,
    /// Too large.
    MaxValue,
    /// Not one of the enum's values.
    Enum,
    /// Not a value of the member's type at all (a number, a boolean, a timestamp).
    Malformed,
}

/// A model pattern, compiled on first use.
pub struct Pattern {
    /// The pattern as the model (and IAM's messages) write it.
    model: &'static str,
    /// The same pattern in the regex crate's dialect, anchored.
    rust: &'static str,
    /// A substring the value must not contain, for the lookahead the regex crate lacks.
    forbidden: Option<&'static str>,
    compiled: OnceLock<Regex>,
}

impl Pattern {
    /// A pattern; the generator writes one per distinct model pattern.
    pub const fn new(model: &'static str, rust: &'static str, forbidden: Option<&'static str>) -> Self {
        Self {
            model,
            rust,
            forbidden,
            compiled: OnceLock::new(),
        }
    }

    /// Whether the whole value matches.
    pub fn matches(&self, value: &str) -> bool {
        let regex = self.compiled.get_or_init(|| {
            // Every pattern is compiled by a test (`compile_all_patterns`), so this cannot fire.
            Regex::new(self.rust).unwrap_or_else(|e| panic!("generated pattern {:?} does not compile: {e}", self.rust))
        });
        regex.is_match(value) && !self.forbidden.is_some_and(|f| value.contains(f))
    }

    /// Compiles the pattern now, reporting an error instead of panicking later.
    pub fn compile(&self) -> Result<(), String> {
        Regex::new(self.rust)
            .map(|_| ())
            .map_err(|e| format!("{}: {e}", self.model))
    }

    /// The pattern as the model writes it.
    pub fn model_text(&self) -> &'static str {
        self.model
    }
}

/// Something with a length constraint: a string (in characters) or a list.
pub trait Measured {
    /// The length the model's min/max apply to.
    fn measure(&self) -> usize;
    /// How the value appears in a message.
    fn describe(&self) -> String;
}

impl Measured for String {
    fn measure(&self) -> usize {
        // IAM counts UTF-16 code units (Java strings); for the BMP that is one per char.
        self.encode_utf16().count()
    }
    fn describe(&self) -> String {
        format!("'{self}'")
    }
}

impl<T> Measured for Vec<T> {
    fn measure(&self) -> usize {
        self.len()
    }
    fn describe(&self) -> String {
        format!("a list of {} items", self.len())
    }
}

/// Collects broken constraints while a request decodes.
#[derive(Debug, Default)]
pub struct Violations {
    messages: Vec<String>,
    first: Option<Constraint>,
}

/// Joins a member onto a message path: `join_path("tags.1.member", "key")`.
pub fn join_path(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

/// How a broken member's value is written in its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// As given, quoted: `Value 'x' at …`.
    Value,
    /// A value the model marks sensitive: `Value '*** Sensitive Data Redacted ***' at …`.
    Redacted,
    /// Left out, as IAM writes tag keys and values: `Value at …`.
    Omitted,
}

impl Shown {
    fn text(self, value: impl FnOnce() -> String) -> Option<String> {
        match self {
            Shown::Value => Some(value()),
            Shown::Redacted => Some("'*** Sensitive Data Redacted ***'".to_owned()),
            Shown::Omitted => None,
        }
    }
}

impl Violations {
    /// Records one broken constraint; `value` is how the value is written, `None` to
    /// leave it out.
    fn push(&mut self, kind: Constraint, value: Option<&str>, path: &str, constraint: &str) {
        self.first.get_or_insert(kind);
        let value = match value {
            Some(v) => format!("Value {v}"),
            None => "Value".to_owned(),
        };
        self.messages.push(format!(
            "{value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member is absent.
    pub fn missing(&mut self, path: &str) {
        self.push(Constraint::Required, Some("null"), path, "Member must not be null");
    }

    pub(crate) fn length(&mut self, path: &str, value: &dyn Measured, min: usize, max: usize, shown: Shown) {
        let n = value.measure();
        if (min..=max).contains(&n) {
            // The common case: nothing to write, so the value is not described.
            return;
        }
        let shown = shown.text(|| value.describe());
        if n < min {
            self.push(
                Constraint::MinLength,
                shown.as_deref(),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if n > max {
            self.push(
                Constraint::MaxLength,
                shown.as_deref(),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    pub(crate) fn pattern(&mut self, path: &str, value: &str, pattern: &Pattern, shown: Shown) {
        if !pattern.matches(value) {
            let shown = shown.text(|| format!("'{value}'"));
            let constraint = format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.model_text()
            );
            self.push(Constraint::Pattern, shown.as_deref(), path, &constraint);
        }
    }

    pub(crate) fn range(&mut self, path: &str, value: i64, min: i64, max: i64) {
        if value < min {
            self.push(
                Constraint::MinValue,
                Some(&format!("'{value}'")),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if value > max {
            self.push(
                Constraint::MaxValue,
                Some(&format!("'{value}'")),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    pub(crate) fn not_in_enum(&mut self, path: &str, value: &str, values: &[&str]) {
        self.push(
            Constraint::Enum,
            Some(&format!("'{value}'")),
            path,
            &format!("Member must satisfy enum value set: [{}]", values.join(", ")),
        );
    }

    pub(crate) fn malformed(&mut self, path: &str, value: &str, constraint: &str) {
        self.push(Constraint::Malformed, Some(&format!("'{value}'")), path, constraint);
    }

    /// The decoded value if nothing was broken, else every violation in one error.
    pub fn finish<T>(self, decoded: Option<T>) -> Result<T, ValidationError> {
        let first = self.first;
        match (self.messages.len(), decoded) {
            (0, Some(value)) => Ok(value),
            (0, None) => Err(ValidationError {
                message: "1 validation error detected: the request is empty".to_owned(),
                first,
            }),
            (1, _) => Err(ValidationError {
                message: format!("1 validation error detected: {}", self.messages[0]),
                first,
            }),
            (n, _) => Err(ValidationError {
                message: format!("{n} validation errors detected: {}", self.messages.join("; ")),
                first,
            }),
        }
    }
}
