//! Policy variables without a value, table-driven from the examples of the AWS IAM User Guide,
//! "IAM policy elements: Variables and tags"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>).
//!
//! Each example runs with the variable's key present, missing, and missing with a default
//! (`${key, 'default'}`, "Specifying default values"), in `Resource` and `NotResource`, as an
//! `Allow` and as a `Deny`, and in condition values.
//!
//! What the guide says, and what oxiam does with it:
//! - "If AWS cannot resolve a variable, this might cause the entire statement to be
//!   invalid", and in the principal-key table a key that is *not present* (`aws:username`
//!   for a role) means "any attempt to match it fails and causes the statement to be
//!   invalid". oxiam ignores such a statement as a whole when the variable is in its
//!   `Resource`/`NotResource` element: it neither allows nor denies, and an `Allow` with
//!   `NotResource` grants nothing (it used to grant everything but the unresolved pattern).
//! - "Policy variables with no value": in a condition value the variable is null;
//!   `StringEquals`/`StringLike` do not match, `StringNotEquals`/`StringNotLike` do, and the
//!   guide's example `Deny` (`StringNotEquals` against `${aws:PrincipalTag/Team}`) denies when
//!   the tag is not set. oxiam follows that example: condition variables do not make a
//!   statement ignored.

use std::sync::Arc;

use oxiam_policy::{
    CompiledPolicy, Context, Decision, PolicyKind, PolicySet, Principal, Reason, Request, Unresolved, compile, evaluate,
};
use serde_json::{Value as J, json};

const ACCT: &str = "111122223333";
const USER: &str = "arn:aws:iam::111122223333:user/David";
const ROLE: &str = "arn:aws:iam::111122223333:role/R";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s";

fn policy(id: &str, statements: J) -> Arc<CompiledPolicy> {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    Arc::new(compile(id, &doc, PolicyKind::Identity).unwrap_or_else(|e| panic!("{doc}: {e}")))
}

/// Evaluates `statements` as one identity policy `p`. With a key present the caller is an IAM
/// user; without it, a role session (for which `aws:username` is never set).
fn decide(statements: J, action: &str, resource: &str, ctx: &Context) -> Decision {
    let identity = [policy("p", statements)];
    let principal = if ctx.is_empty() {
        Principal::assumed_role(SESSION, ROLE, ACCT)
    } else {
        Principal::user(USER, ACCT)
    };
    evaluate(
        &Request::new(principal, action, resource, ctx),
        &PolicySet {
            identity: &identity,
            ..PolicySet::default()
        },
    )
}

/// One of the guide's examples of a variable in a resource ARN.
struct Example {
    name: &'static str,
    action: &'static str,
    /// The pattern, `{}` standing for the variable.
    pattern: &'static str,
    /// The request's resource, `{}` standing for the value.
    resource: &'static str,
    key: &'static str,
    value: &'static str,
}

impl Example {
    fn pattern(&self, default: Option<&str>) -> String {
        let var = match default {
            Some(d) => format!("${{{}, '{d}'}}", self.key),
            None => format!("${{{}}}", self.key),
        };
        self.pattern.replace("{}", &var)
    }

    fn resource(&self, value: &str) -> String {
        self.resource.replace("{}", value)
    }
}

const EXAMPLES: [Example; 4] = [
    // "Resource element": each user's home directory in a bucket.
    Example {
        name: "home directory",
        action: "s3:GetObject",
        pattern: "arn:aws:s3:::mybucket/{}/*",
        resource: "arn:aws:s3:::mybucket/{}/notes.txt",
        key: "aws:username",
        value: "David",
    },
    // "Introduction": each user manages their own access keys.
    Example {
        name: "own access keys",
        action: "iam:CreateAccessKey",
        pattern: "arn:aws:iam::111122223333:user/{}",
        resource: "arn:aws:iam::111122223333:user/{}",
        key: "aws:username",
        value: "David",
    },
    // "Resource element": queues named after the user, in us-east-2.
    Example {
        name: "own queue",
        action: "sqs:SendMessage",
        pattern: "arn:aws:sqs:us-east-2:*:{}-queue",
        resource: "arn:aws:sqs:us-east-2:111122223333:{}-queue",
        key: "aws:username",
        value: "David",
    },
    // "Resource element": a bucket named like the principal's `department` tag.
    Example {
        name: "department bucket",
        action: "s3:ListBucket",
        pattern: "arn:aws:s3:::bucket/{}",
        resource: "arn:aws:s3:::bucket/{}",
        key: "aws:PrincipalTag/department",
        value: "Engineering",
    },
];

const DEFAULT: &str = "shared";
const OTHER: &str = "Maria";

/// The request situations each example runs in: (label, value of the key or `None`, the
/// default written in the pattern, whose resource is requested).
fn runs() -> [(&'static str, Option<&'static str>, Option<&'static str>, &'static str); 6] {
    [
        ("present, own resource", Some("VALUE"), None, "VALUE"),
        ("present, another's resource", Some("VALUE"), None, OTHER),
        ("missing, the resource it would name", None, None, "VALUE"),
        ("missing, another resource", None, None, OTHER),
        (
            "missing with a default, the default's resource",
            None,
            Some(DEFAULT),
            DEFAULT,
        ),
        ("missing with a default, another resource", None, Some(DEFAULT), OTHER),
    ]
}

/// Expected answers per run, in the order of [`runs`]: (allowed, ignored).
struct Expect {
    element: &'static str,
    effect: &'static str,
    want: [(bool, bool); 6],
}

const EXPECT: [Expect; 4] = [
    // Allow + Resource: grants its own resource; with no value, nothing (ignored).
    Expect {
        element: "Resource",
        effect: "Allow",
        want: [
            (true, false),
            (false, false),
            (false, true),
            (false, true),
            (true, false),
            (false, false),
        ],
    },
    // Allow + NotResource: grants everything but its own resource; with no value, nothing
    // (before, it granted everything: the over-grant this table pins).
    Expect {
        element: "NotResource",
        effect: "Allow",
        want: [
            (false, false),
            (true, false),
            (false, true),
            (false, true),
            (false, false),
            (true, false),
        ],
    },
    // Deny + Resource (with an Allow of everything): denies its own resource; with no value,
    // nothing.
    Expect {
        element: "Resource",
        effect: "Deny",
        want: [
            (false, false),
            (true, false),
            (true, true),
            (true, true),
            (false, false),
            (true, false),
        ],
    },
    // Deny + NotResource (with an Allow of everything): denies everything but its own
    // resource; with no value, nothing.
    Expect {
        element: "NotResource",
        effect: "Deny",
        want: [
            (true, false),
            (false, false),
            (true, true),
            (true, true),
            (true, false),
            (false, false),
        ],
    },
];

#[test]
fn resource_and_not_resource_tables() {
    for ex in &EXAMPLES {
        for expect in &EXPECT {
            for ((label, value, default, requested), (want_allowed, want_ignored)) in
                runs().into_iter().zip(expect.want)
            {
                let mut statement = json!({"Sid": "Vars", "Effect": expect.effect, "Action": ex.action});
                statement[expect.element] = json!(ex.pattern(default));
                let statements = if expect.effect == "Deny" {
                    json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}, statement])
                } else {
                    json!([statement])
                };
                let ctx = match value {
                    Some(_) => Context::builder().set(ex.key, ex.value).build(),
                    None => Context::new(),
                };
                let requested = if requested == "VALUE" { ex.value } else { requested };
                let resource = ex.resource(requested);
                let d = decide(statements, ex.action, &resource, &ctx);
                let at = format!(
                    "{} / {} {} / {label}: {} on {resource}",
                    ex.name,
                    expect.effect,
                    expect.element,
                    ex.pattern(default)
                );
                assert_eq!(d.allowed, want_allowed, "{at}: {d:?}");
                assert_eq!(!d.ignored.is_empty(), want_ignored, "{at}: {d:?}");
                if want_ignored {
                    let i = &d.ignored[0];
                    assert_eq!(&*i.variable, ex.key, "{at}");
                    assert_eq!(i.cause, Unresolved::Missing, "{at}");
                    assert_eq!(i.statement.sid.as_deref(), Some("Vars"), "{at}");
                }
            }
        }
    }
}

/// A condition block guarding an `Allow` of `s3:ListBucket` (or a `Deny`, next to an `Allow`
/// of everything), run with the key present, missing, and missing with a default.
struct CondCase {
    name: &'static str,
    effect: &'static str,
    /// The condition, `{}` standing for the variable.
    condition: &'static str,
    key: &'static str,
    value: &'static str,
    default: &'static str,
    /// The context key the condition compares with, and its value in the request (`{}`
    /// standing for the variable's value, or its default in the run with a default).
    request_key: &'static str,
    request: &'static str,
    /// (present, missing, missing with a default): allowed?
    want: [bool; 3],
}

const CONDITIONS: [CondCase; 5] = [
    // "Resource element": list only one's own prefix.
    CondCase {
        name: "StringLike s3:prefix",
        effect: "Allow",
        condition: r#"{"StringLike": {"s3:prefix": ["{}/*"]}}"#,
        key: "aws:username",
        value: "David",
        default: "guest",
        request_key: "s3:prefix",
        request: "{}/reports/",
        want: [true, false, true],
    },
    // "Condition element": an SNS endpoint named after the user.
    CondCase {
        name: "StringLike sns:endpoint",
        effect: "Allow",
        condition: r#"{"StringLike": {"sns:endpoint": "https://example.com/{}/"}}"#,
        key: "aws:username",
        value: "David",
        default: "guest",
        request_key: "sns:endpoint",
        request: "https://example.com/{}/",
        want: [true, false, true],
    },
    // "Policy variables with no value": an exact match against a null value fails.
    CondCase {
        name: "StringEquals against a tag",
        effect: "Allow",
        condition: r#"{"StringEquals": {"s3:ExistingObjectTag/Team": "{}"}}"#,
        key: "aws:PrincipalTag/Team",
        value: "Blue",
        default: "Blue",
        request_key: "s3:ExistingObjectTag/Team",
        request: "{}",
        want: [true, false, true],
    },
    // "Policy variables with no value": inverted operators match a null value; the guide's
    // Deny example explicitly denies when `aws:PrincipalTag/Team` is not set.
    CondCase {
        name: "Deny StringNotEquals against a tag (the guide's example)",
        effect: "Deny",
        condition: r#"{"StringNotEquals": {"s3:ExistingObjectTag/Team": "{}"}}"#,
        key: "aws:PrincipalTag/Team",
        value: "Blue",
        default: "Blue",
        request_key: "s3:ExistingObjectTag/Team",
        request: "{}",
        want: [true, false, true],
    },
    // The same inverted operator in an Allow: it matches the null value, so it allows.
    CondCase {
        name: "Allow StringNotEquals against a tag",
        effect: "Allow",
        condition: r#"{"StringNotEquals": {"s3:ExistingObjectTag/Team": "{}"}}"#,
        key: "aws:PrincipalTag/Team",
        value: "Blue",
        default: "Red",
        request_key: "s3:ExistingObjectTag/Team",
        request: "{}",
        want: [false, true, false],
    },
];

#[test]
fn condition_value_table() {
    for c in &CONDITIONS {
        // (label, key set?, default written?): the request always carries `request_key`, made
        // of the value (present; missing, where the variable has nothing to compare with) or
        // of the default.
        let runs = [
            ("present", true, false),
            ("missing", false, false),
            ("missing with a default", false, true),
        ];
        for ((label, present, with_default), want) in runs.into_iter().zip(c.want) {
            let var = if with_default {
                format!("${{{}, '{}'}}", c.key, c.default)
            } else {
                format!("${{{}}}", c.key)
            };
            let condition: J = serde_json::from_str(&c.condition.replace("{}", &var)).unwrap();
            let compared = if with_default { c.default } else { c.value };
            let request_value = c.request.replace("{}", compared);
            let mut b = Context::builder().set(c.request_key, request_value.as_str());
            if present {
                b = b.set(c.key, c.value);
            }
            let ctx = b.build();
            let statement =
                json!({"Effect": c.effect, "Action": "s3:ListBucket", "Resource": "*", "Condition": condition});
            let statements = if c.effect == "Deny" {
                json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}, statement])
            } else {
                json!([statement])
            };
            let principal = Principal::assumed_role(SESSION, ROLE, ACCT);
            let identity = [policy("p", statements)];
            let d = evaluate(
                &Request::new(principal, "s3:ListBucket", "arn:aws:s3:::mybucket", &ctx),
                &PolicySet {
                    identity: &identity,
                    ..PolicySet::default()
                },
            );
            assert_eq!(d.allowed, want, "{} / {label}: {condition} with {ctx:?}: {d:?}", c.name);
            // Condition variables never make a statement ignored.
            assert!(d.ignored.is_empty(), "{} / {label}: {d:?}", c.name);
        }
    }
}

// A `Resource` list whose other patterns would match does not rescue a statement with an
// unresolved variable: the statement is invalid as a whole. (The guide's "Policy variables
// with no value" says only that the pattern holding the variable matches no resource; see
// docs/differences.md.)
#[test]
fn other_patterns_do_not_rescue_the_statement() {
    let allow = json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": ["arn:aws:s3:::public/*", "arn:aws:s3:::home/${aws:username}/*"]}]);
    let with = Context::builder().set("aws:username", "David").build();
    assert!(decide(allow.clone(), "s3:GetObject", "arn:aws:s3:::public/a", &with).allowed);
    let d = decide(allow, "s3:GetObject", "arn:aws:s3:::public/a", &Context::new());
    assert!(!d.allowed);
    assert_eq!(d.ignored.len(), 1);
    // Even `*` next to it.
    let star = json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": ["*", "arn:aws:s3:::home/${aws:username}/*"]}]);
    assert!(!decide(star, "s3:GetObject", "arn:aws:s3:::public/a", &Context::new()).allowed);
    // Several patterns holding the variable, none matching the resource: still ignored.
    let deny = json!([{"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": ["arn:aws:iam::111122223333:user/${aws:username}", "arn:aws:s3:::b/${aws:username}/*"]}]);
    let d = decide(deny.clone(), "s3:GetObject", "arn:aws:s3:::c/k", &Context::new());
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.ignored.len(), 1);
    assert!(!decide(deny, "s3:GetObject", "arn:aws:s3:::c/k", &with).allowed);
}

// The decision says which statement was ignored and why, for the simulator and the CLI.
#[test]
fn ignored_statements_are_reported() {
    let statements = json!([
        {"Sid": "Home", "Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/${aws:username}/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:TagKeys}/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:userid, 'anon'}/*"},
    ]);
    let ctx = Context::builder()
        .set_all::<&str>("aws:PrincipalTag/team", [])
        .set_all("aws:TagKeys", ["a", "b"])
        .build();
    let d = decide(statements, "s3:GetObject", "arn:aws:s3:::b/x/y", &ctx);
    assert!(!d.allowed);
    assert_eq!(
        d.reason,
        Reason::NoAllow {
            missing: PolicyKind::Identity
        }
    );
    let notes: Vec<String> = d.ignored.iter().map(ToString::to_string).collect();
    assert_eq!(
        notes,
        [
            "p: statement 1 (Sid Home) ignored: ${aws:username} is not set",
            "p: statement 2 ignored: ${aws:PrincipalTag/team} is null",
            "p: statement 3 ignored: ${aws:TagKeys} has several values",
        ]
    );
    assert_eq!(d.ignored[1].statement.index, 1);
    assert_eq!(d.ignored[1].cause, Unresolved::Null);
    assert_eq!(d.ignored[2].cause, Unresolved::Multivalued);

    // A statement whose action or conditions do not match is not reported.
    let statements = json!([
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ]);
    let d = decide(statements, "s3:GetObject", "arn:aws:s3:::b/x/y", &ctx);
    assert!(d.ignored.is_empty(), "{d:?}");

    // An ignored Deny lets another statement allow, and says so.
    let statements = json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/${aws:username}/*"},
    ]);
    let d = decide(statements, "s3:GetObject", "arn:aws:s3:::elsewhere/k", &Context::new());
    assert!(d.allowed);
    assert_eq!(d.ignored.len(), 1);
    assert_eq!(d.ignored[0].statement.index, 1);
    assert_eq!(d.denial_message(SESSION, "s3:GetObject", "x"), None);
}
