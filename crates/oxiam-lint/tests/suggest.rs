//! `suggest` against the policy engine: whatever was recorded, the suggestion allows it, in
//! every mode (wildcard characters where the engine reads no variables, and text that is no
//! ARN, included); exactly, it allows nothing else of the actions that name resources (for
//! resources a policy can name exactly); with `ids`, the same request with its generated digits
//! drawn afresh is allowed too.

use std::sync::Arc;

use oxiam_lint::suggest::{Attempt, Generalize, suggestion};
use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request, compile, evaluate};
use proptest::prelude::*;

/// Actions with a resource type, with none (`iam:ListUsers`), and one the reference does not
/// know.
const ACTIONS: &[&str] = &[
    "iam:CreateUser",
    "iam:getuser",
    "s3:GetObject",
    "s3:ListBucket",
    "iam:ListUsers",
    "example:Frob",
];

/// A name: letters, digits, the characters policies treat specially, separators.
fn name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z]{1,4}",
        "[0-9]{1,9}",
        Just("*".to_owned()),
        Just("?".to_owned()),
        Just("$".to_owned()),
        Just("${".to_owned()),
        Just("}".to_owned()),
        Just("/".to_owned()),
        Just(":".to_owned()),
        Just("-".to_owned()),
    ];
    prop::collection::vec(piece, 0..5).prop_map(|pieces| pieces.concat())
}

fn resource() -> impl Strategy<Value = String> {
    (0..4usize, name(), name()).prop_map(|(shape, a, b)| match shape {
        0 => format!("arn:aws:iam::123456789012:user/{a}"),
        1 => format!("arn:aws:s3:::{a}/{b}"),
        2 => format!("arn:aws:s3:::{a}"),
        _ => format!("arn:aws:example:us-east-1:123456789012:thing/{a}"),
    })
}

/// Resources a policy cannot name exactly: wildcard characters before the fifth colon (where
/// the engine reads no variables), and text that is no ARN.
fn odd_resource() -> impl Strategy<Value = String> {
    let region = prop::collection::vec(
        prop_oneof![
            "[a-z0-9-]{1,4}",
            Just("*".to_owned()),
            Just("?".to_owned()),
            Just("$".to_owned())
        ],
        0..4,
    )
    .prop_map(|pieces| pieces.concat());
    prop_oneof![
        (region, name()).prop_map(|(region, a)| format!("arn:aws:example:{region}:123456789012:thing/{a}")),
        name().prop_map(|a| format!("x{a}")),
    ]
}

fn attempts_of(resources: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<Attempt>> {
    let one = (prop::sample::select(ACTIONS), resources).prop_map(|(action, resource)| Attempt {
        action: action.to_owned(),
        resource,
    });
    prop::collection::vec(one, 1..5)
}

fn attempts() -> impl Strategy<Value = Vec<Attempt>> {
    attempts_of(resource())
}

fn any_attempts() -> impl Strategy<Value = Vec<Attempt>> {
    attempts_of(prop_oneof![3 => resource(), 1 => odd_resource()])
}

/// Whether the suggestion for `recorded` allows `action` on `resource`.
fn allows(policy: &serde_json::Value, action: &str, resource: &str) -> bool {
    let compiled = compile("suggested", &policy.to_string(), PolicyKind::Identity).expect("the suggestion compiles");
    let identity = [Arc::new(compiled)];
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    let principal = Principal::user("arn:aws:iam::123456789012:user/app", "123456789012");
    let context = Context::new();
    evaluate(&Request::new(principal, action, resource, &context), &set).allowed
}

/// `resource` with each run of six or more digits after the ARN's fifth colon replaced by
/// other digits of another length. `suggest` keeps the rest as recorded: everything up to the
/// fifth colon (the account among it), and a name that is exactly twelve digits, which it
/// reads as an account's id (a bucket named `000000000000`): such a run, between the start or
/// end of the resource part, `/` and `:`, is left too.
fn redrawn(resource: &str) -> String {
    let Some(start) = resource.match_indices(':').nth(4).map(|(at, _)| at + 1) else {
        return resource.to_owned();
    };
    let (head, rest) = resource.split_at(start);
    let mut out = head.to_owned();
    let mut digits = String::new();
    let mut before = None;
    for c in rest.chars().map(Some).chain([None]) {
        if let Some(d) = c.filter(char::is_ascii_digit) {
            digits.push(d);
            continue;
        }
        let bounded = |side: Option<char>| side.is_none_or(|s| s == '/' || s == ':');
        let whole_name = digits.len() == 12 && bounded(before) && bounded(c);
        if digits.len() >= 6 && !whole_name {
            out.push_str("97531");
        }
        out.push_str(&digits);
        digits.clear();
        out.extend(c);
        before = c;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_recorded_request_is_allowed(recorded in any_attempts()) {
        for generalize in [Generalize::Exact, Generalize::Ids, Generalize::Names] {
            let policy = suggestion(&recorded, generalize);
            for a in &recorded {
                prop_assert!(allows(&policy, &a.action, &a.resource), "{generalize:?} {} on {}: {policy}", a.action, a.resource);
            }
        }
    }

    #[test]
    fn exactly_nothing_else_is_allowed(recorded in attempts(), other in resource()) {
        let policy = suggestion(&recorded, Generalize::Exact);
        for action in ["iam:CreateUser", "s3:GetObject", "s3:ListBucket", "example:Frob"] {
            let was_recorded = recorded
                .iter()
                .any(|a| a.action.eq_ignore_ascii_case(action) && a.resource == other);
            prop_assert!(was_recorded || !allows(&policy, action, &other), "{action} on {other}: {policy}");
        }
    }

    #[test]
    fn ids_drawn_afresh_are_allowed(recorded in any_attempts()) {
        let policy = suggestion(&recorded, Generalize::Ids);
        for a in &recorded {
            let again = redrawn(&a.resource);
            prop_assert!(allows(&policy, &a.action, &again), "{} on {again}: {policy}", a.action);
        }
    }
}
