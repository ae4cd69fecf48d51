//! ARN-aware matching for the `Resource`/`NotResource` elements and the `Arn*` condition
//! operators.
//!
//! AWS IAM User Guide, "IAM JSON policy elements: Resource" > "Using wildcards in resource
//! ARNs": an ARN is `arn:partition:service:region:account-id:resource`; `*` and `?` work within
//! each colon-delimited segment, and `*` in the resource part (everything after the fifth
//! colon) also spans `/` and `:`. "Condition operators" > "Amazon Resource Name (ARN)
//! condition operators": each of the six components is checked separately, so unlike
//! `StringLike` a `*` in an earlier segment cannot swallow colons.
//!
//! Matching is case-sensitive in every segment (the guide calls the resource part and the ARN
//! operators case-sensitive; real ARNs are lower-case in the other segments).

use crate::context::Context;
use crate::glob::{Glob, Tok, bytes_eq};
use crate::vars::Template;

/// Splits an ARN into its six parts (`arn`, partition, service, region, account, resource) at
/// the first five colons; `None` if it has fewer than five colons.
pub fn split_arn(s: &str) -> Option<[&str; 6]> {
    // A plain byte loop: cheaper than five `split_once` calls on these short strings.
    let mut cuts = [0usize; 5];
    let mut n = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b':' {
            cuts[n] = i;
            n += 1;
            if n == 5 {
                break;
            }
        }
    }
    if n < 5 {
        return None;
    }
    Some([
        &s[..cuts[0]],
        &s[cuts[0] + 1..cuts[1]],
        &s[cuts[1] + 1..cuts[2]],
        &s[cuts[2] + 1..cuts[3]],
        &s[cuts[3] + 1..cuts[4]],
        &s[cuts[4] + 1..],
    ])
}

/// The resource part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResourcePart {
    Glob(Glob),
    /// Contains policy variables (Version 2012-10-17).
    Template(Template),
}

/// The first five segments of an ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// No wildcard: `arn:aws:s3:::` (the text up to and including the fifth colon), compared
    /// in one go.
    Literal(Box<str>),
    /// Matched segment by segment.
    Segments(Box<[Glob; 5]>),
}

/// A compiled ARN pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// `*`: matches every resource, ARN or not.
    Any,
    /// Six segments, each matched on its own.
    Arn { prefix: Prefix, resource: ResourcePart },
    /// A pattern that is not an ARN: matched against the whole value.
    Plain(Glob),
}

impl ArnPattern {
    /// Compiles `pattern`. `pad_short`: a pattern with fewer than six segments is padded with
    /// `*` segments (identity-style policies); otherwise it only matches as plain text unless
    /// its last segment ends in `*`, which may then expand past the colons. `variables`:
    /// substitute `${…}` in the resource part.
    pub(crate) fn compile(pattern: &str, pad_short: bool, variables: bool) -> ArnPattern {
        if pattern == "*" {
            return ArnPattern::Any;
        }
        let segments: Vec<&str> = pattern.splitn(6, ':').collect();
        let mut parts: [&str; 6] = ["*"; 6];
        if segments.len() < 6 {
            let last_star = segments.last().is_some_and(|s| s.ends_with('*'));
            if !(pad_short || last_star) {
                return ArnPattern::Plain(Glob::new(pattern));
            }
        }
        for (slot, seg) in parts.iter_mut().zip(segments.iter()) {
            *slot = seg;
        }
        let prefix = if parts[..5].iter().any(|p| p.contains(['*', '?'])) {
            Prefix::Segments(Box::new([
                Glob::new(parts[0]),
                Glob::new(parts[1]),
                Glob::new(parts[2]),
                Glob::new(parts[3]),
                Glob::new(parts[4]),
            ]))
        } else {
            Prefix::Literal(format!("{}:{}:{}:{}:{}:", parts[0], parts[1], parts[2], parts[3], parts[4]).into())
        };
        let resource = match variables.then(|| Template::parse(parts[5])).flatten() {
            Some(t) => ResourcePart::Template(t),
            None => ResourcePart::Glob(Glob::new(parts[5])),
        };
        ArnPattern::Arn { prefix, resource }
    }

    /// Whether the pattern contains policy variables.
    pub(crate) fn has_variables(&self) -> bool {
        matches!(
            self,
            ArnPattern::Arn {
                resource: ResourcePart::Template(_),
                ..
            }
        )
    }

    /// Matches `value`, whose ARN split (if it is an ARN) is `split`. `scratch` is reused for
    /// variable expansion. A variable with no value makes the pattern match nothing.
    pub(crate) fn matches(
        &self,
        value: &str,
        split: Option<&[&str; 6]>,
        ctx: &Context,
        scratch: &mut Vec<Tok>,
    ) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Plain(g) => g.matches(value),
            ArnPattern::Arn { prefix, resource } => {
                let Some(parts) = split else {
                    return false;
                };
                if !prefix.matches(value, parts) {
                    return false;
                }
                match resource {
                    ResourcePart::Glob(g) => g.matches(parts[5]),
                    ResourcePart::Template(t) => t.like(ctx, parts[5], scratch),
                }
            }
        }
    }

    /// Whether the pattern, its variables given their values in `ctx`, matches some
    /// resource whose ARN (or text) begins with `prefix`, split into `split` if it is an
    /// ARN: "may any resource under this prefix match".
    pub(crate) fn matches_some_resource_under(
        &self,
        prefix: &str,
        split: Option<&[&str; 6]>,
        ctx: &Context,
        scratch: &mut Vec<Tok>,
    ) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Plain(g) => g.matches_some_extension_of(prefix),
            ArnPattern::Arn { prefix: head, resource } => {
                let Some(parts) = split else {
                    return false;
                };
                if !head.matches(prefix, parts) {
                    return false;
                }
                match resource {
                    ResourcePart::Glob(g) => g.matches_some_extension_of(parts[5]),
                    ResourcePart::Template(t) => t.matches_some_extension_of(ctx, parts[5], scratch),
                }
            }
        }
    }

    /// Like [`ArnPattern::matches`], but tells apart a pattern holding variables that matched
    /// `value` up to them: [`Hit::Maybe`] when its first five segments match and the
    /// resource part starts with its literal text, but the whole does not match (perhaps
    /// because a variable has no value).
    #[inline]
    pub(crate) fn hit(&self, value: &str, split: Option<&[&str; 6]>, ctx: &Context, scratch: &mut Vec<Tok>) -> Hit {
        let yes = |b: bool| if b { Hit::Yes } else { Hit::No };
        match self {
            ArnPattern::Any => Hit::Yes,
            ArnPattern::Plain(g) => yes(g.matches(value)),
            ArnPattern::Arn { prefix, resource } => {
                let Some(parts) = split else {
                    return Hit::No;
                };
                if !prefix.matches(value, parts) {
                    return Hit::No;
                }
                match resource {
                    ResourcePart::Glob(g) => yes(g.matches(parts[5])),
                    ResourcePart::Template(t) => {
                        if !t.could_match(parts[5]) {
                            Hit::No
                        } else if t.like(ctx, parts[5], scratch) {
                            Hit::Yes
                        } else {
                            Hit::Maybe
                        }
                    }
                }
            }
        }
    }
}

/// What [`ArnPattern::hit`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hit {
    Yes,
    No,
    /// A pattern holding variables matched up to them, but not as a whole.
    Maybe,
}

impl Prefix {
    /// Whether the first five segments of `value` (split into `parts`) match.
    #[inline]
    fn matches(&self, value: &str, parts: &[&str; 6]) -> bool {
        match self {
            Prefix::Literal(lit) => {
                // `parts[5]` is the tail of `value`: the prefix is what precedes it.
                let head = &value.as_bytes()[..value.len() - parts[5].len()];
                bytes_eq(lit.as_bytes(), head)
            }
            Prefix::Segments(globs) => globs.iter().zip(parts.iter()).all(|(g, p)| g.matches(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, value: &str) -> bool {
        ArnPattern::compile(pattern, true, true).matches(
            value,
            split_arn(value).as_ref(),
            &Context::new(),
            &mut Vec::new(),
        )
    }

    // AWS IAM User Guide, "IAM JSON policy elements: Resource" > "Using wildcards in resource ARNs".
    #[test]
    fn resource_wildcards_from_the_guide() {
        assert!(m(
            "arn:aws:iam::111122223333:user/accounting/*",
            "arn:aws:iam::111122223333:user/accounting/bob"
        ));
        assert!(m(
            "arn:aws:iam::111122223333:user/accounting/*",
            "arn:aws:iam::111122223333:user/accounting/team/bob"
        ));
        assert!(!m(
            "arn:aws:iam::111122223333:user/accounting/*",
            "arn:aws:iam::111122223333:user/sales/bob"
        ));
        assert!(m(
            "arn:aws:s3:::amzn-s3-demo-bucket/*",
            "arn:aws:s3:::amzn-s3-demo-bucket/a/b/c.txt"
        ));
        assert!(m(
            "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*",
            "arn:aws:s3:::amzn-s3-demo-bucket/1/test/object.jpg"
        ));
        assert!(m(
            "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*",
            "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg"
        ));
        assert!(m(
            "arn:aws:dynamodb:*:*:table/MyTable",
            "arn:aws:dynamodb:us-east-1:111122223333:table/MyTable"
        ));
        assert!(!m(
            "arn:aws:dynamodb:*:*:table/MyTable",
            "arn:aws:dynamodb:us-east-1:111122223333:table/MyTable2"
        ));
        assert!(m(
            "arn:aws:ec2:us-east-?:*:instance/*",
            "arn:aws:ec2:us-east-2:111122223333:instance/i-1"
        ));
        assert!(!m(
            "arn:aws:ec2:us-east-?:*:instance/*",
            "arn:aws:ec2:us-west-2:111122223333:instance/i-1"
        ));
        // `*` in a segment does not cross colons; in the resource part it does.
        assert!(!m(
            "arn:aws:sqs:*:111122223333:queue1",
            "arn:aws:sqs:us:east:111122223333:queue1"
        ));
        assert!(m(
            "arn:aws:logs:us-east-1:111122223333:log-group:*",
            "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s"
        ));
        // The user-name part is case-sensitive.
        assert!(!m(
            "arn:aws:iam::111122223333:user/Bob",
            "arn:aws:iam::111122223333:user/bob"
        ));
        // `*` matches anything, ARN or not; an ARN pattern never matches a non-ARN.
        assert!(m("*", "*"));
        assert!(!m("arn:aws:s3:::*", "*"));
    }

    #[test]
    fn short_patterns() {
        // Padded with `*` in identity-style policies.
        assert!(m("arn:aws:s3:*", "arn:aws:s3:::bucket/key"));
        assert!(m("arn:aws:iam::*", "arn:aws:iam::111122223333:user/x"));
        let strict = |p: &str, v: &str| {
            ArnPattern::compile(p, false, true).matches(v, split_arn(v).as_ref(), &Context::new(), &mut Vec::new())
        };
        assert!(strict("arn:aws:s3:*", "arn:aws:s3:::bucket/key"));
        assert!(!strict("arn:aws:s3:::b:x", "arn:aws:s3:::b:x:y"));
        assert!(!strict("arn:aws:s3", "arn:aws:s3:::b"));
    }

    #[test]
    fn hits() {
        let ctx = Context::builder().set("aws:username", "alice").build();
        let hit = |p: &str, v: &str, ctx: &Context| {
            ArnPattern::compile(p, true, true).hit(v, split_arn(v).as_ref(), ctx, &mut Vec::new())
        };
        let p = "arn:aws:s3:::home/${aws:username}/*";
        assert_eq!(hit(p, "arn:aws:s3:::home/alice/x", &ctx), Hit::Yes);
        assert_eq!(hit(p, "arn:aws:s3:::home/bob/x", &ctx), Hit::Maybe);
        assert_eq!(hit(p, "arn:aws:s3:::home/alice/x", &Context::new()), Hit::Maybe);
        assert_eq!(hit(p, "arn:aws:s3:::public/x", &Context::new()), Hit::No);
        assert_eq!(hit(p, "arn:aws:iam::1:home/x", &Context::new()), Hit::No);
        // Patterns without variables only hit or miss.
        assert_eq!(hit("arn:aws:s3:::home/*", "arn:aws:s3:::home/x", &ctx), Hit::Yes);
        assert_eq!(hit("arn:aws:s3:::home/*", "arn:aws:s3:::elsewhere", &ctx), Hit::No);
        assert_eq!(hit("*", "x", &ctx), Hit::Yes);
    }

    #[test]
    fn splits() {
        assert_eq!(
            split_arn("arn:aws:s3:::b/k:x"),
            Some(["arn", "aws", "s3", "", "", "b/k:x"])
        );
        assert_eq!(split_arn("arn:aws:s3::b"), None);
    }
}
