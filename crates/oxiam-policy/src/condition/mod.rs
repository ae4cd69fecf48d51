//! Condition operators: compiled once into typed comparisons ([`CCondition`]), evaluated
//! against a [`Context`].
//!
//! Semantics (AWS IAM User Guide):
//! - "Condition operators", the box at the top: a key missing from the request context makes
//!   the condition false, except for negated operators (`StringNotEquals`, `NotIpAddress`,
//!   `ArnNotLike`, …), for which it is true; `…IfExists` makes a missing key true; `Null`
//!   tests presence itself.
//! - "Creating a condition with multiple context keys or values": several values for one key
//!   are ORed; for a negated operator the key must match none of them (NOR).
//! - "Single-valued vs. multivalued context keys" / "Set operators for multivalued context
//!   keys": `ForAllValues:` is true when every request value matches (and when the key is
//!   missing or its value set is empty); `ForAnyValue:` is true when at least one request value
//!   matches (false when missing or empty). For a negated operator, "matches" means "matches
//!   none of the policy values".
//! - A multivalued key used without a set operator: the condition holds if any request value
//!   matches (for a negated operator: if no request value matches any policy value). The guide
//!   only says to use set operators with multivalued keys; this is the natural extension.
//! - A set operator with `IfExists` (`ForAnyValue:StringEqualsIfExists`) on a key that is
//!   missing or null: the set operator decides, so `ForAnyValue:…IfExists` is false and
//!   `ForAllValues:…IfExists` true. The guide defines `ForAnyValue` as false "for no matching
//!   context key or a null dataset" and `IfExists` as true when the key is absent, and says
//!   nothing of the two together; real IAM has been reported to treat
//!   `ForAnyValue:StringEqualsIfExists` exactly like `ForAnyValue:StringEquals`. On a key that
//!   is present, `IfExists` changes nothing.
//! - A policy variable without a value in a condition value is null ("Policy variables with
//!   no value"): `StringEquals`/`StringLike` (and the other positive operators) do not match
//!   it, the negated operators do. Unlike a variable in `Resource`/`NotResource`, it does not
//!   make the statement ignored: the guide's own example is a `Deny` with `StringNotEquals`
//!   against `${aws:PrincipalTag/Team}` that denies when the tag is not set.

pub(crate) mod binary;
pub(crate) mod date;
pub(crate) mod ip;
pub(crate) mod numeric;
pub(crate) mod string;

use std::cmp::Ordering;

use crate::arn::{ArnPattern, split_arn};
use crate::ast::{Condition, OperatorBase, SetQualifier};
use crate::context::{Context, Value, key_hash};
use crate::glob::{Glob, Tok};
use crate::vars::Template;

use self::date::Timestamp;
use self::ip::Cidr;
use self::numeric::Number;

/// Reusable buffers for variable expansion during one evaluation, and the statements it
/// ignored.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) toks: Vec<Tok>,
    pub(crate) text: String,
    pub(crate) ignored: Vec<crate::eval::IgnoredStatement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ord: Option<Ordering>) -> bool {
        let Some(ord) = ord else { return false };
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Text {
    Lit(Box<str>),
    Tpl(Template),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Like {
    Glob(Glob),
    Tpl(Template),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ArnValue {
    Pattern(ArnPattern),
    Tpl(Template),
}

/// The policy values of one condition, in the form its operator compares. Values that do not
/// parse for the operator's type are dropped: they can never match.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Equals(Vec<Text>),
    EqualsIgnoreCase(Vec<Text>),
    Like(Vec<Like>),
    Numeric(Cmp, Vec<Number>),
    Date(Cmp, Vec<Timestamp>),
    Bool(Vec<Text>),
    Binary(Vec<String>),
    Ip(Vec<Cidr>),
    Arn(Vec<ArnValue>),
    Null(Vec<bool>),
}

/// A compiled condition (one operator, one key).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CCondition {
    /// Lower-cased key and its hash.
    key: Box<str>,
    hash: u64,
    negated: bool,
    set: Option<SetQualifier>,
    if_exists: bool,
    values: Values,
}

fn text(v: &str, variables: bool) -> Text {
    match variables.then(|| Template::parse(v)).flatten() {
        Some(p) => Text::Tpl(p),
        None => Text::Lit(v.into()),
    }
}

impl CCondition {
    pub(crate) fn compile(cond: &Condition, variables_enabled: bool) -> CCondition {
        use OperatorBase::*;
        let base = cond.operator.base;
        let vars = variables_enabled && base.takes_variables();
        let vals = &cond.values;
        let cmp = |b: OperatorBase| match b {
            NumericLessThan | DateLessThan => Cmp::Lt,
            NumericLessThanEquals | DateLessThanEquals => Cmp::Le,
            NumericGreaterThan | DateGreaterThan => Cmp::Gt,
            NumericGreaterThanEquals | DateGreaterThanEquals => Cmp::Ge,
            _ => Cmp::Eq,
        };
        let values = match base {
            StringEquals | StringNotEquals => Values::Equals(vals.iter().map(|v| text(v, vars)).collect()),
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                Values::EqualsIgnoreCase(vals.iter().map(|v| text(v, vars)).collect())
            }
            StringLike | StringNotLike => Values::Like(
                vals.iter()
                    .map(|v| match vars.then(|| Template::parse(v)).flatten() {
                        Some(p) => Like::Tpl(p),
                        None => Like::Glob(Glob::new(v)),
                    })
                    .collect(),
            ),
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => {
                Values::Numeric(cmp(base), vals.iter().filter_map(|v| Number::parse(v)).collect())
            }
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => {
                Values::Date(cmp(base), vals.iter().filter_map(|v| Timestamp::parse(v)).collect())
            }
            Bool => Values::Bool(vals.iter().map(|v| text(v, vars)).collect()),
            BinaryEquals => Values::Binary(vals.iter().filter_map(|v| binary::canonical(v)).collect()),
            IpAddress | NotIpAddress => Values::Ip(vals.iter().filter_map(|v| Cidr::parse(v)).collect()),
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Values::Arn(
                vals.iter()
                    .map(|v| match vars.then(|| Template::parse(v)).flatten() {
                        Some(p) => ArnValue::Tpl(p),
                        None => ArnValue::Pattern(ArnPattern::compile(v, false, false)),
                    })
                    .collect(),
            ),
            Null => Values::Null(
                vals.iter()
                    .filter_map(|v| {
                        if v.eq_ignore_ascii_case("true") {
                            Some(true)
                        } else if v.eq_ignore_ascii_case("false") {
                            Some(false)
                        } else {
                            None
                        }
                    })
                    .collect(),
            ),
        };
        let key = cond.key.to_ascii_lowercase();
        CCondition {
            hash: key_hash(&key),
            key: key.into_boxed_str(),
            negated: base.is_negated(),
            set: cond.operator.set,
            if_exists: cond.operator.if_exists && base != Null,
            values,
        }
    }

    /// Whether the condition holds for `ctx`.
    pub(crate) fn eval(&self, ctx: &Context, scratch: &mut Scratch) -> bool {
        let found = ctx.get_hashed(self.hash, &self.key);
        if let Values::Null(expected) = &self.values {
            // `"Null": {"k": "true"}` holds when k is absent (or null); `"false"` when present.
            let absent = found.is_none_or(<[Value]>::is_empty);
            return expected.contains(&absent);
        }
        let values = match found {
            Some(v) if !v.is_empty() => v,
            // Missing or null. A set operator decides before `IfExists`: `ForAnyValue:…IfExists`
            // is false like `ForAnyValue:…` (see the module documentation).
            _ => {
                return match self.set {
                    Some(SetQualifier::ForAllValues) => true,
                    Some(SetQualifier::ForAnyValue) => false,
                    None => self.if_exists || self.negated,
                };
            }
        };
        match self.set {
            None => {
                let any = values.iter().any(|v| self.matches(v, ctx, scratch));
                any != self.negated
            }
            Some(SetQualifier::ForAllValues) => values.iter().all(|v| self.matches(v, ctx, scratch) != self.negated),
            Some(SetQualifier::ForAnyValue) => values.iter().any(|v| self.matches(v, ctx, scratch) != self.negated),
        }
    }

    /// Whether one request value matches at least one policy value, in the operator's positive
    /// sense (`StringNotEquals` is checked as `StringEquals` and negated by the caller).
    fn matches(&self, v: &Value, ctx: &Context, scratch: &mut Scratch) -> bool {
        let raw = v.as_str();
        match &self.values {
            Values::Equals(ps) => ps.iter().any(|p| match p {
                Text::Lit(s) => **s == *raw,
                Text::Tpl(t) => t.equals(ctx, raw),
            }),
            Values::EqualsIgnoreCase(ps) => ps.iter().any(|p| match p {
                Text::Lit(s) => string::eq_ignore_case(s, raw),
                Text::Tpl(t) => t.equals_ignore_case(ctx, raw, &mut scratch.text),
            }),
            Values::Like(ps) => ps.iter().any(|p| match p {
                Like::Glob(g) => g.matches(raw),
                Like::Tpl(t) => t.like(ctx, raw, &mut scratch.toks),
            }),
            Values::Numeric(cmp, ps) => v.number.is_some_and(|n| ps.iter().any(|p| cmp.holds(n.compare(*p)))),
            Values::Date(cmp, ps) => v.date.is_some_and(|d| ps.iter().any(|p| cmp.holds(Some(d.cmp(p))))),
            Values::Bool(ps) => v.boolean.is_some_and(|b| {
                ps.iter().any(|p| {
                    let s: &str = match p {
                        Text::Lit(s) => s,
                        Text::Tpl(t) => {
                            if !t.expand(ctx, &mut scratch.text) {
                                return false;
                            }
                            &scratch.text
                        }
                    };
                    (b && s.eq_ignore_ascii_case("true")) || (!b && s.eq_ignore_ascii_case("false"))
                })
            }),
            Values::Binary(ps) => {
                ps.iter().any(|p| **p == *raw) || binary::canonical(raw).is_some_and(|c| ps.contains(&c))
            }
            Values::Ip(ps) => v.ip.is_some_and(|ip| ps.iter().any(|c| c.contains(ip))),
            Values::Arn(ps) => {
                let split = split_arn(raw);
                ps.iter().any(|p| match p {
                    ArnValue::Pattern(pat) => pat.matches(raw, split.as_ref(), ctx, &mut scratch.toks),
                    ArnValue::Tpl(t) => {
                        t.expand(ctx, &mut scratch.text)
                            && ArnPattern::compile(&scratch.text, false, false).matches(
                                raw,
                                split.as_ref(),
                                ctx,
                                &mut scratch.toks,
                            )
                    }
                })
            }
            Values::Null(_) => false,
        }
    }
}
