//! `oxiam_lint::diff`: "does the new policy allow anything the old one does not?" A witness
//! for each kind of widening, "no new access" for refactorings that change nothing, and both
//! halves checked against the policy engine: a witness is a request the engine allows under
//! the new policy and refuses under the old, and after "no new access" no request is found
//! that says otherwise.

use std::sync::Arc;

use oxiam_lint::diff::{Verdict, Witness, diff};
use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request, Value as ContextValue, compile, evaluate};
use proptest::prelude::*;
use serde_json::{Value, json};

fn doc(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn allowed(policy: &str, action: &str, resource: &str, context: &[(String, String)]) -> bool {
    let compiled = Arc::new(compile("p", policy, PolicyKind::Identity).unwrap());
    let mut ctx = Context::new();
    for (k, v) in context {
        ctx.insert(k, vec![ContextValue::new(v.clone())]);
    }
    let principal = Principal::user("arn:aws:iam::123456789012:user/witness", "123456789012");
    let identity = [compiled];
    evaluate(
        &Request::new(principal, action, resource, &ctx),
        &PolicySet {
            identity: &identity,
            ..PolicySet::default()
        },
    )
    .allowed
}

fn witness(old: &str, new: &str) -> Witness {
    match diff(old, new, PolicyKind::Identity).unwrap() {
        Verdict::NewAccess(w) => {
            assert!(
                allowed(new, &w.action, &w.resource, &w.context),
                "{w:?}: the new policy allows it"
            );
            assert!(
                !allowed(old, &w.action, &w.resource, &w.context),
                "{w:?}: the old one does not"
            );
            w
        }
        other => panic!("expected new access from\n{old}\nto\n{new}, got {other:?}"),
    }
}

fn no_new_access(old: &str, new: &str) {
    assert_eq!(
        diff(old, new, PolicyKind::Identity).unwrap(),
        Verdict::NoNewAccess,
        "from\n{old}\nto\n{new}"
    );
}

#[test]
fn widening_a_wildcard_has_a_witness() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    let new = doc(json!([{"Sid": "Wider", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]));
    let w = witness(&old, &new);
    assert!(w.action.starts_with("s3:Get") && w.action != "s3:GetObject", "{w:?}");
    assert_eq!((w.statement_index, w.statement_id.as_deref()), (0, Some("Wider")));
}

#[test]
fn dropping_a_condition_has_a_witness() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                          "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    let w = witness(&old, &new);
    assert_eq!(w.action, "s3:GetObject");
}

#[test]
fn not_action_has_a_witness() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
    let new = doc(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]));
    let w = witness(&old, &new);
    assert!(!w.action.starts_with("s3:") && !w.action.starts_with("iam:"), "{w:?}");
}

#[test]
fn widening_a_resource_path_has_a_witness() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/home/*"}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]));
    let w = witness(&old, &new);
    assert!(!w.resource.starts_with("arn:aws:s3:::b/home/"), "{w:?}");
}

#[test]
fn removing_a_deny_has_a_witness() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                         {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]));
    assert_eq!(witness(&old, &new).action, "s3:DeleteBucket");
}

#[test]
fn refactorings_grant_nothing_new() {
    let old = doc(json!([
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"},
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
    ]));
    // The same, as it was.
    no_new_access(&old, &old);
    // Statements reordered, Sids added.
    no_new_access(
        &old,
        &doc(json!([
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
            {"Sid": "Mfa", "Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
            {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
        ])),
    );
    // Actions split into statements of their own; a narrower resource; a condition added.
    no_new_access(
        &old,
        &doc(json!([
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/uploads/*"},
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                           "StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        ])),
    );
}

#[test]
fn a_wildcard_and_the_catalogues_list_of_its_actions_are_the_same() {
    let service = oxiam_lint::reference::reference().service("s3").unwrap();
    let listed: Vec<String> = service
        .actions
        .iter()
        .filter(|a| a.lower.starts_with("get"))
        .map(|a| format!("s3:{}", a.name))
        .collect();
    assert!(listed.len() > 10);
    let wildcard = doc(json!([{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]));
    let expanded = doc(json!([{"Effect": "Allow", "Action": listed, "Resource": "*"}]));
    no_new_access(&wildcard, &expanded);
    no_new_access(&expanded, &wildcard);
}

#[test]
fn what_cannot_be_proved_or_shown_is_unknown() {
    // The new policy's variable pattern is covered by no old pattern, and no request the
    // witness search builds tells them apart.
    let old =
        doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:userid}/*"}]));
    assert!(
        matches!(
            diff(&old, &new, PolicyKind::Identity).unwrap(),
            Verdict::Unknown(_) | Verdict::NewAccess(_)
        ),
        "never a proof of no new access"
    );
    // What the engine does that a proof must not overlook: it passes over a statement one of
    // whose patterns has a variable without a value (so the old `pub/*` may not apply), and
    // pads a short ARN pattern with `*` segments (so the old NotResource leaves out every
    // table).
    let pairs = [
        (
            json!([{"Effect": "Allow", "Action": "s3:GetObject",
                    "Resource": ["arn:aws:s3:::pub/*", "arn:aws:s3:::home/${aws:PrincipalTag/team}/*"]}]),
            json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"}]),
        ),
        (
            json!([{"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": "arn:aws:dynamodb:us-east-1:123456789012"}]),
            json!([{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/T"}]),
        ),
    ];
    for (old, new) in pairs {
        let (old, new) = (doc(old), doc(new));
        assert_ne!(
            diff(&old, &new, PolicyKind::Identity).unwrap(),
            Verdict::NoNewAccess,
            "{old}\n{new}"
        );
    }
    // Under no Version variables are text: the same pattern means two things.
    let resource = |version: Option<&str>| {
        let mut d = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                           "Resource": "arn:aws:s3:::b/${aws:username}/*"}]});
        if let Some(v) = version {
            d["Version"] = json!(v);
        }
        d.to_string()
    };
    assert_ne!(
        diff(&resource(None), &resource(Some("2012-10-17")), PolicyKind::Resource).unwrap(),
        Verdict::NoNewAccess
    );
}

/// Texts past what the checks match are not matched at all: unknown, never a proof.
#[test]
fn a_text_too_long_to_match_is_unknown() {
    let long = format!("arn:aws:s3:::b/{}", "a*".repeat(600));
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": long}]));
    assert!(
        matches!(diff(&old, &new, PolicyKind::Identity).unwrap(), Verdict::Unknown(why) if why.contains("too large"))
    );
}

/// A condition with an empty list of values (which the parser accepts) beside another key
/// gives the witness search no value to try for it, and no panic.
#[test]
fn a_condition_without_values_is_searched_past() {
    let old = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                          "Condition": {"StringEquals": {"aws:username": [], "aws:userid": "x"}}}]));
    let new = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]));
    witness(&old, &new);
}

/// Whether the resource policy `policy` (of a resource in 123456789012) lets `caller` (as a
/// witness names it) make the request, the caller's own policies allowing everything.
fn resource_allowed(policy: &str, caller: &str, action: &str, resource: &str, context: &[(String, String)]) -> bool {
    let compiled = compile("p", policy, PolicyKind::Resource).unwrap();
    let everything = Arc::new(
        compile(
            "caller",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            PolicyKind::Identity,
        )
        .unwrap(),
    );
    let mut ctx = Context::new();
    for (k, v) in context {
        ctx.insert(k, vec![ContextValue::new(v.clone())]);
    }
    let account = caller.split(':').nth(4).unwrap_or_default();
    let role;
    let principal = if caller == "*" {
        Principal::anonymous()
    } else if caller.ends_with(".amazonaws.com") {
        Principal::service(caller)
    } else if let Some(rest) = caller.split(":assumed-role/").nth(1) {
        role = format!("arn:aws:iam::{account}:role/{}", rest.split('/').next().unwrap());
        Principal::assumed_role(caller, &role, account)
    } else {
        Principal::user(caller, account)
    };
    let identity = [everything];
    evaluate(
        &Request::new(principal, action, resource, &ctx).with_resource_account("123456789012"),
        &PolicySet {
            identity: &identity,
            resource: Some(&compiled),
            resource_must_allow: true,
            ..PolicySet::default()
        },
    )
    .allowed
}

/// A resource policy's witness, checked with the engine: its caller is let in by `new` and
/// not by `old`.
fn resource_witness(old: &str, new: &str) -> Witness {
    match diff(old, new, PolicyKind::Resource).unwrap() {
        Verdict::NewAccess(w) => {
            let caller = w.caller.clone().expect("a resource policy's witness names its caller");
            assert!(
                resource_allowed(new, &caller, &w.action, &w.resource, &w.context),
                "{w:?}: new allows it"
            );
            assert!(
                !resource_allowed(old, &caller, &w.action, &w.resource, &w.context),
                "{w:?}: old does not"
            );
            w
        }
        other => panic!("expected new access from\n{old}\nto\n{new}, got {other:?}"),
    }
}

#[test]
fn a_bucket_policy_opened_to_another_account_has_a_witness_naming_its_caller() {
    let statement = |principals: Value| {
        doc(
            json!([{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*"}]),
        )
    };
    let old = statement(json!("arn:aws:iam::123456789012:root"));
    let new = statement(json!([
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::111122223333:root"
    ]));
    let w = resource_witness(&old, &new);
    assert_eq!(w.caller.as_deref(), Some("arn:aws:iam::111122223333:user/witness"));
    assert_eq!(w.action, "s3:GetObject");
    // A role of the other account, by a session of it.
    let w = resource_witness(&old, &statement(json!("arn:aws:iam::111122223333:role/reader")));
    assert_eq!(
        w.caller.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/reader/witness")
    );
    // Everyone: an anonymous caller, or an account nobody named.
    let everyone = doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                               "Resource": "arn:aws:s3:::b/*"}]));
    resource_witness(&old, &everyone);
    // A service.
    let w = resource_witness(
        &old,
        &doc(
            json!([{"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
        ),
    );
    assert_eq!(w.caller.as_deref(), Some("logging.s3.amazonaws.com"));
}

/// Past the cap on callers named by the policy, the search still tries a user of the policy's
/// account, an account nobody names and an anonymous caller: opening a policy of twenty named
/// accounts to everyone is shown.
#[test]
fn a_policy_naming_many_principals_opened_to_everyone_has_a_witness() {
    let named: Vec<String> = (0..20).map(|i| format!("1111222233{i:02}")).collect();
    let grant = |principals: Value| {
        doc(
            json!([{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*"}]),
        )
    };
    let mut everyone = named.clone();
    everyone.push("*".to_owned());
    let w = resource_witness(&grant(json!(named)), &grant(json!(everyone)));
    // One of the callers every search tries, none of the named accounts' (those the old
    // policy lets in too).
    let generic = [
        "arn:aws:iam::123456789012:user/witness",
        "arn:aws:iam::999988887777:user/witness",
        "*",
    ];
    assert!(generic.contains(&w.caller.as_deref().unwrap_or_default()), "{w:?}");
}

#[test]
fn a_resource_policy_widened_or_unconditioned_has_a_witness() {
    let old = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
                          "Resource": "arn:aws:s3:::b/public/*",
                          "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}]),
    );
    let widened = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:Get*",
                              "Resource": "arn:aws:s3:::b/*",
                              "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}]),
    );
    resource_witness(&old, &widened);
    let unconditioned = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject",
                                    "Resource": "arn:aws:s3:::b/public/*"}]),
    );
    let w = resource_witness(&old, &unconditioned);
    assert_eq!(w.caller.as_deref(), Some("arn:aws:iam::111122223333:user/witness"));
    // And the same policy, the account written as its root ARN and the lists as lists, is
    // proved to grant nothing new.
    let split = doc(json!([
        {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["s3:GetObject"],
         "Resource": ["arn:aws:s3:::b/public/*"],
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}},
    ]));
    assert_eq!(diff(&old, &split, PolicyKind::Resource).unwrap(), Verdict::NoNewAccess);
}

const ACTIONS: [&str; 6] = ["s3:GetObject", "s3:PutObject", "s3:Get*", "s3:*", "iam:GetUser", "*"];
const RESOURCES: [&str; 7] = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::*",
    "arn:aws:s3",
    "arn:aws:s3:::${aws:username}/*",
    "arn:aws:s3:*:b/k",
];
const ASKED: [(&str, &str); 7] = [
    ("s3:GetObject", "arn:aws:s3:::b/k"),
    ("s3:GetObject", "arn:aws:s3:::c/k"),
    ("s3:GetObject", "arn:aws:s3:::b/x/k"),
    ("s3:PutObject", "arn:aws:s3:::b/k"),
    ("s3:GetBucketAcl", "arn:aws:s3:::b"),
    ("iam:GetUser", "arn:aws:iam::123456789012:user/u"),
    ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"),
];

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.8),
        prop::sample::subsequence(ACTIONS.to_vec(), 1..3),
        prop::bool::weighted(0.15),
        prop::sample::subsequence(RESOURCES.to_vec(), 1..3),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(allow, actions, not_action, resources, not_resource, conditioned)| {
            let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }});
            s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
            s[if not_resource { "NotResource" } else { "Resource" }] = json!(resources);
            if conditioned {
                s["Condition"] = json!({"Bool": {"aws:SecureTransport": "true"}});
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// "No new access" is never contradicted by the engine, and every witness is one.
    #[test]
    fn the_verdict_agrees_with_the_engine(
        old in prop::collection::vec(statement(), 1..4),
        new in prop::collection::vec(statement(), 1..4),
    ) {
        let (old, new) = (doc(json!(old)), doc(json!(new)));
        match diff(&old, &new, PolicyKind::Identity).unwrap() {
            Verdict::NoNewAccess => {
                for (action, resource) in ASKED {
                    for (secure, username) in [("true", None), ("false", Some("b"))] {
                        let mut context = vec![("aws:SecureTransport".to_owned(), secure.to_owned())];
                        context.extend(username.map(|u| ("aws:username".to_owned(), u.to_owned())));
                        prop_assert!(
                            !allowed(&new, action, resource, &context) || allowed(&old, action, resource, &context),
                            "no new access said, yet {action} on {resource} (secure {secure}) only under\n{new}\nnot\n{old}"
                        );
                    }
                }
            }
            Verdict::NewAccess(w) => {
                prop_assert!(allowed(&new, &w.action, &w.resource, &w.context));
                prop_assert!(!allowed(&old, &w.action, &w.resource, &w.context));
            }
            Verdict::Unknown(_) => {}
        }
    }

    /// The same for resource policies: statements with principals, each witness's caller let
    /// in by the new policy and not by the old, and after "no new access" no caller found that
    /// says otherwise.
    #[test]
    fn the_verdict_on_resource_policies_agrees_with_the_engine(
        old in prop::collection::vec(resource_statement(), 1..3),
        new in prop::collection::vec(resource_statement(), 1..3),
    ) {
        let (old, new) = (doc(json!(old)), doc(json!(new)));
        match diff(&old, &new, PolicyKind::Resource).unwrap() {
            Verdict::NoNewAccess => {
                for caller in CALLERS {
                    for (action, resource) in ASKED {
                        let context = [("aws:SecureTransport".to_owned(), "true".to_owned())];
                        prop_assert!(
                            !resource_allowed(&new, caller, action, resource, &context)
                                || resource_allowed(&old, caller, action, resource, &context),
                            "no new access said, yet {caller} may {action} on {resource} only under\n{new}\nnot\n{old}"
                        );
                    }
                }
            }
            Verdict::NewAccess(w) => {
                let caller = w.caller.clone().unwrap();
                prop_assert!(resource_allowed(&new, &caller, &w.action, &w.resource, &w.context));
                prop_assert!(!resource_allowed(&old, &caller, &w.action, &w.resource, &w.context));
            }
            Verdict::Unknown(_) => {}
        }
    }
}

const PRINCIPALS: [&str; 5] = [
    "arn:aws:iam::123456789012:root",
    "111122223333",
    "arn:aws:iam::111122223333:role/reader",
    "arn:aws:iam::111122223333:user/u",
    "*",
];
const CALLERS: [&str; 5] = [
    "arn:aws:iam::123456789012:user/u",
    "arn:aws:iam::111122223333:user/u",
    "arn:aws:sts::111122223333:assumed-role/reader/s",
    "arn:aws:iam::444455556666:user/u",
    "*",
];

fn resource_statement() -> impl Strategy<Value = Value> {
    (
        statement(),
        prop::sample::subsequence(PRINCIPALS.to_vec(), 1..3),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(mut s, principals, everyone)| {
            s["Principal"] = if everyone {
                json!("*")
            } else {
                json!({"AWS": principals})
            };
            s
        })
}
