//! CheckAccessNotGranted and CheckNoPublicAccess (`oxiam_lint::access`): a table of policies
//! each check must pass or fail, and their soundness against the policy engine — whenever
//! the engine allows a request of the kind asked about, the check must say the access may be
//! granted (a PASS is a proof).

use std::sync::Arc;

use oxiam_lint::access::{grants, public_grants};
use oxiam_policy::{CompiledPolicy, Context, PolicyKind, PolicySet, Principal, Request, compile, evaluate, parse};
use proptest::prelude::*;
use serde_json::{Value, json};

fn policy(kind: PolicyKind, statements: Value) -> oxiam_policy::Policy {
    parse(
        &json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
        kind,
    )
    .unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Statements, the actions asked about, the resources asked about, the statements that grant.
type Case = (Value, &'static [&'static str], &'static [&'static str], Vec<usize>);

#[test]
fn access_not_granted_table() {
    let read = json!([{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]);
    let cases: Vec<Case> = vec![
        (read.clone(), &["s3:GetObject"], &[], vec![0]),
        (read.clone(), &["S3:getobject"], &[], vec![0]),
        (read.clone(), &["s3:PutObject"], &[], vec![]),
        (read.clone(), &["s3:GetObject"], &["arn:aws:s3:::b/key"], vec![0]),
        (read.clone(), &["s3:GetObject"], &["arn:aws:s3:::c/key"], vec![]),
        (read.clone(), &["s3:GetObject"], &["arn:aws:s3:::*"], vec![0]),
        (read.clone(), &[], &["arn:aws:s3:::b/key"], vec![0]),
        (read.clone(), &["s3:Get*"], &[], vec![0]),
        (read.clone(), &["s3:Put*"], &[], vec![]),
        // NotAction allows everything else.
        (
            json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
            &["s3:DeleteBucket"],
            &[],
            vec![0],
        ),
        (
            json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
            &["iam:CreateUser"],
            &[],
            vec![],
        ),
        // NotResource: every resource but those.
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]),
            &["s3:GetObject"],
            &["arn:aws:s3:::secret/x"],
            vec![],
        ),
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*"}]),
            &["s3:GetObject"],
            &["arn:aws:s3:::public/x"],
            vec![0],
        ),
        // A variable may stand for anything.
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]),
            &["s3:GetObject"],
            &["arn:aws:s3:::home/alice/x"],
            vec![0],
        ),
        // Conditions are taken as satisfiable.
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]),
            &["s3:GetObject"],
            &[],
            vec![0],
        ),
        // An unconditional Deny covering the access takes it away …
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]),
            &["s3:GetObject"],
            &[],
            vec![],
        ),
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]),
            &["s3:GetObject"],
            &["arn:aws:s3:::b/k"],
            vec![],
        ),
        // … a conditional one, or one covering part of it, does not.
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
            &["s3:GetObject"],
            &[],
            vec![0],
        ),
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
            &["s3:GetObject"],
            &[],
            vec![0],
        ),
        // A Deny the engine passes over when a variable has no value, whichever of its
        // patterns would have matched.
        (
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject",
                 "Resource": ["arn:aws:s3:::secret/*", "arn:aws:s3:::h/${aws:PrincipalTag/x}/*"]}]),
            &["s3:GetObject"],
            &["arn:aws:s3:::secret/k"],
            vec![0],
        ),
        // A short ARN pattern the engine pads with `*` segments.
        (
            json!([{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012"}]),
            &["dynamodb:GetItem"],
            &["arn:aws:dynamodb:us-east-1:123456789012:table/T"],
            vec![0],
        ),
        // In the engine a `*` reaches across no colon: these do not cover the log group.
        (
            json!([{"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "logs:DeleteLogGroup", "Resource": "arn:aws:logs:*:log-group:audit"}]),
            &["logs:DeleteLogGroup"],
            &["arn:aws:logs:us-east-1:123456789012:log-group:audit"],
            vec![0],
        ),
        (
            json!([{"Effect": "Allow", "Action": "logs:*", "NotResource": "arn:aws:logs:*:log-group:audit"}]),
            &["logs:DeleteLogGroup"],
            &["arn:aws:logs:us-east-1:123456789012:log-group:audit"],
            vec![0],
        ),
        // Each granting statement is a reason.
        (
            json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
            &["s3:GetObject"],
            &[],
            vec![0, 2],
        ),
    ];
    for (statements, actions, resources, expected) in cases {
        let p = policy(PolicyKind::Identity, statements.clone());
        let found: Vec<usize> = grants(&p, &strings(actions), &strings(resources))
            .iter()
            .map(|r| r.statement_index)
            .collect();
        assert_eq!(found, expected, "{statements} asked {actions:?} on {resources:?}");
    }
    let p = policy(PolicyKind::Identity, read);
    assert_eq!(
        grants(&p, &strings(&["s3:GetObject"]), &[])[0].statement_id.as_deref(),
        Some("Read")
    );
}

/// An asked resource (or a policy text) too long to match: every Allow may grant, never a PASS.
#[test]
fn a_text_too_long_to_match_may_be_granted() {
    let p = policy(
        PolicyKind::Identity,
        json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
    );
    let long = format!("arn:aws:s3:::c/{}", "a".repeat(2000));
    assert!(grants(&p, &strings(&["s3:GetObject"]), &strings(&["arn:aws:s3:::c/k"])).is_empty());
    assert_eq!(grants(&p, &strings(&["s3:GetObject"]), &[long]).len(), 1);
}

#[test]
fn public_access_table() {
    let get = |principal: Value, condition: Option<Value>| {
        let mut s = json!({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::b/*"});
        if let Some(c) = condition {
            s["Condition"] = c;
        }
        s
    };
    // (statement, public)
    let cases = vec![
        (get(json!("*"), None), true),
        (get(json!({"AWS": "*"}), None), true),
        (get(json!({"AWS": ["arn:aws:iam::111122223333:root", "*"]}), None), true),
        (get(json!({"AWS": "arn:aws:iam::111122223333:root"}), None), false),
        (get(json!({"Service": "cloudfront.amazonaws.com"}), None), false),
        (
            get(
                json!("*"),
                Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
            ),
            false,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringEquals": {"AWS:SourceAccount": "111122223333"}})),
            ),
            false,
        ),
        (
            get(json!("*"), Some(json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}))),
            false,
        ),
        (
            get(json!("*"), Some(json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))),
            true,
        ),
        (
            get(json!("*"), Some(json!({"StringLike": {"aws:PrincipalOrgID": "*"}}))),
            true,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
            ),
            true,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
            ),
            true,
        ),
        (
            get(
                json!("*"),
                Some(json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})),
            ),
            true,
        ),
        (
            get(json!("*"), Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
            true,
        ),
        // Limiting keys whose values name no one in particular …
        (
            get(
                json!("*"),
                Some(json!({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}})),
            ),
            true,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}})),
            ),
            true,
        ),
        (
            get(json!("*"), Some(json!({"StringLike": {"aws:userid": "AIDA*"}}))),
            true,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringLike": {"aws:PrincipalOrgPaths": "*/ou-1/*"}})),
            ),
            true,
        ),
        // … and values that do.
        (
            get(
                json!("*"),
                Some(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}})),
            ),
            false,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})),
            ),
            false,
        ),
        (
            get(
                json!("*"),
                Some(json!({"StringLike": {"aws:PrincipalOrgPaths": "o-abcdefghij/*"}})),
            ),
            false,
        ),
    ];
    for (statement, public) in cases {
        let p = policy(PolicyKind::Resource, json!([statement]));
        assert_eq!(!public_grants(&p).is_empty(), public, "{statement}");
    }
    let deny = policy(
        PolicyKind::Resource,
        json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]),
    );
    assert!(public_grants(&deny).is_empty(), "a Deny grants nothing");
}

const ACTIONS: [&str; 7] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "s3:Get*",
    "iam:ListUsers",
    "*",
    "s3:?utObject",
];
const RESOURCES: [&str; 7] = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::${aws:username}/*",
    "arn:aws:s3:::*",
    "arn:aws:s3",
    "arn:aws:s3:*:b/k",
];
const ASKED_ACTIONS: [&str; 4] = ["s3:GetObject", "s3:PutObject", "iam:ListUsers", "s3:DeleteObject"];
const ASKED_RESOURCES: [&str; 4] = ["arn:aws:s3:::b/k", "arn:aws:s3:::c/k", "arn:aws:s3:::alice/k", "*"];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:username": "alice"}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalOrgID": "o-mine"}}))),
        1 => Just(Some(json!({"StringEqualsIfExists": {"aws:SourceAccount": "111122223333"}}))),
        1 => Just(Some(json!({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}}))),
        1 => Just(Some(json!({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}}))),
        1 => Just(Some(json!({"StringLike": {"aws:userid": "AIDA*"}}))),
    ]
}

fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::sample::subsequence(ACTIONS.to_vec(), 1..3),
        any::<bool>(),
        prop::sample::subsequence(RESOURCES.to_vec(), 1..3),
        any::<bool>(),
        condition(),
        any::<bool>(),
    )
        .prop_map(
            move |(allow, actions, not_action, resources, not_resource, cond, everyone)| {
                let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }});
                s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                s[if not_resource { "NotResource" } else { "Resource" }] = json!(resources);
                if let Some(c) = cond {
                    s["Condition"] = c;
                }
                if with_principal {
                    s["Principal"] = if everyone {
                        json!("*")
                    } else {
                        json!({"AWS": "111122223333"})
                    };
                }
                s
            },
        )
}

fn compiled(kind: PolicyKind, statements: &[Value]) -> (oxiam_policy::Policy, Arc<CompiledPolicy>) {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    (parse(&doc, kind).unwrap(), Arc::new(compile("p", &doc, kind).unwrap()))
}

proptest! {
    /// Whatever the engine allows, CheckAccessNotGranted finds granted: asked by its name,
    /// by a wildcard that matches it, or by its resource alone.
    #[test]
    fn a_pass_is_never_contradicted_by_the_engine(
        statements in prop::collection::vec(statement(false), 1..4),
        action in prop::sample::select(ASKED_ACTIONS.to_vec()),
        resource in prop::sample::select(ASKED_RESOURCES.to_vec()),
        username in any::<bool>(),
        secure in any::<bool>(),
    ) {
        let (parsed, policy) = compiled(PolicyKind::Identity, &statements);
        let mut context = Context::builder().set("aws:SecureTransport", secure);
        if username {
            context = context.set("aws:username", "alice");
        }
        let context = context.build();
        let principal = Principal::user("arn:aws:iam::111122223333:user/alice", "111122223333");
        let request = Request::new(principal, action, resource, &context);
        let identity = [policy];
        let set = PolicySet { identity: &identity, ..PolicySet::default() };
        if evaluate(&request, &set).allowed {
            let (service, _) = action.split_once(':').unwrap();
            for asked in [action.to_owned(), format!("{service}:*")] {
                prop_assert!(!grants(&parsed, std::slice::from_ref(&asked), &[resource.to_owned()]).is_empty(),
                    "{statements:?} allows {action} on {resource}, asked as {asked}");
            }
            prop_assert!(!grants(&parsed, &[action.to_owned()], &[]).is_empty());
            prop_assert!(!grants(&parsed, &[], &[resource.to_owned()]).is_empty());
        }
    }

    /// Whatever a resource policy lets a stranger do (another account, in no organization
    /// the policy names, with no source), CheckNoPublicAccess finds public.
    #[test]
    fn a_stranger_let_in_is_public(
        statements in prop::collection::vec(statement(true), 1..4),
        action in prop::sample::select(ASKED_ACTIONS.to_vec()),
        resource in prop::sample::select(ASKED_RESOURCES.to_vec()),
        secure in any::<bool>(),
    ) {
        let (parsed, policy) = compiled(PolicyKind::Resource, &statements);
        // With what the server puts in every request's context.
        let context = Context::builder()
            .set("aws:SecureTransport", secure)
            .set("aws:PrincipalArn", "arn:aws:iam::999999999999:user/mallory")
            .set("aws:PrincipalAccount", "999999999999")
            .set("aws:userid", "AIDAMALLORYEXAMPLE")
            .build();
        let stranger = Principal::user("arn:aws:iam::999999999999:user/mallory", "999999999999");
        let request = Request::new(stranger, action, resource, &context).with_resource_account("111122223333");
        // The stranger's own account lets them do anything: the resource policy decides.
        let (_, everything) = compiled(
            PolicyKind::Identity,
            &[json!({"Effect": "Allow", "Action": "*", "Resource": "*"})],
        );
        let identity = [everything];
        let set = PolicySet { identity: &identity, resource: Some(&policy), ..PolicySet::default() };
        if evaluate(&request, &set).allowed {
            prop_assert!(!public_grants(&parsed).is_empty(), "{statements:?} lets a stranger {action} {resource}");
        }
    }
}
