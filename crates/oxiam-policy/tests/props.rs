//! Property tests: the evaluation laws AWS documents (explicit deny wins, allows only add,
//! boundaries only narrow), parser robustness, and the wildcard matcher against a naive
//! reference implementation.

use std::sync::Arc;

use oxiam_policy::{
    CompiledPolicy, Context, PolicyKind, PolicySet, Principal, Reason, Request, compile, evaluate, parse,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const ACCT: &str = "111122223333";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/R";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s";

const ACTIONS: [&str; 8] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "s3:Get*",
    "iam:ListUsers",
    "iam:*",
    "*",
    "sqs:Send?essage",
];
const REQ_ACTIONS: [&str; 5] = [
    "s3:GetObject",
    "s3:PutObject",
    "iam:ListUsers",
    "sqs:SendMessage",
    "S3:getobject",
];
const RESOURCES: [&str; 5] = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:iam::111122223333:user/${aws:username}",
    "arn:aws:s3:::*",
];
const REQ_RESOURCES: [&str; 4] = [
    "*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::c/k",
    "arn:aws:iam::111122223333:user/alice",
];
const PRINCIPALS: [&str; 5] = ["*", USER, ACCT, ROLE, SESSION];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:username": "alice"}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        1 => Just(Some(json!({"NumericLessThan": {"s3:max-keys": "5"}}))),
        1 => Just(Some(json!({"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}))),
        1 => Just(Some(json!({"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}}))),
    ]
}

/// A statement; `principal` adds a Principal element (resource-based policies).
fn statement(principal: bool) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        prop::sample::subsequence(ACTIONS.to_vec(), 1..3),
        any::<bool>(),
        prop::sample::subsequence(RESOURCES.to_vec(), 1..3),
        any::<bool>(),
        condition(),
        prop::sample::select(PRINCIPALS.to_vec()),
        prop::bool::weighted(0.15),
    )
        .prop_map(
            move |(allow, actions, not_action, resources, not_resource, cond, who, not_principal)| {
                let mut s = serde_json::Map::new();
                s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                s.insert((if not_action { "NotAction" } else { "Action" }).into(), json!(actions));
                s.insert(
                    (if not_resource { "NotResource" } else { "Resource" }).into(),
                    json!(resources),
                );
                if let Some(c) = cond {
                    s.insert("Condition".into(), c);
                }
                if principal {
                    let p = if who == "*" { json!("*") } else { json!({"AWS": who}) };
                    let key = if not_principal && !allow {
                        "NotPrincipal"
                    } else {
                        "Principal"
                    };
                    s.insert(key.into(), p);
                }
                Value::Object(s)
            },
        )
}

fn policy_doc(principal: bool) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(statement(principal), 1..4)
}

#[derive(Debug, Clone)]
struct Docs {
    identity: Vec<Vec<Value>>,
    resource: Option<Vec<Value>>,
    boundary: Option<Vec<Value>>,
    session: Option<Vec<Value>>,
    scps: Vec<Vec<Value>>,
}

fn docs() -> impl Strategy<Value = Docs> {
    (
        prop::collection::vec(policy_doc(false), 0..3),
        prop::option::of(policy_doc(true)),
        prop::option::of(policy_doc(false)),
        prop::option::of(policy_doc(false)),
        prop::collection::vec(policy_doc(false), 0..2),
    )
        .prop_map(|(identity, resource, boundary, session, scps)| Docs {
            identity,
            resource,
            boundary,
            session,
            scps,
        })
}

fn build(kind: PolicyKind, statements: &[Value]) -> Arc<CompiledPolicy> {
    let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    Arc::new(compile("p", &doc, kind).unwrap_or_else(|e| panic!("{doc}: {e}")))
}

#[derive(Debug, Clone)]
struct Req {
    session: bool,
    action: &'static str,
    resource: &'static str,
    cross_account: bool,
    username: bool,
    secure: bool,
    max_keys: u8,
    team: Option<&'static str>,
    tag_keys: Vec<&'static str>,
}

fn req() -> impl Strategy<Value = Req> {
    (
        any::<bool>(),
        prop::sample::select(REQ_ACTIONS.to_vec()),
        prop::sample::select(REQ_RESOURCES.to_vec()),
        prop::bool::weighted(0.2),
        any::<bool>(),
        any::<bool>(),
        0u8..10,
        prop::option::of(prop::sample::select(vec!["red", "green"])),
        prop::sample::subsequence(vec!["ab", "b", "ac"], 0..3),
    )
        .prop_map(
            |(session, action, resource, cross_account, username, secure, max_keys, team, tag_keys)| Req {
                session,
                action,
                resource,
                cross_account,
                username,
                secure,
                max_keys,
                team,
                tag_keys,
            },
        )
}

fn decide(d: &Docs, r: &Req) -> oxiam_policy::Decision {
    let identity: Vec<_> = d.identity.iter().map(|s| build(PolicyKind::Identity, s)).collect();
    let resource = d.resource.as_ref().map(|s| build(PolicyKind::Resource, s));
    let boundary = d.boundary.as_ref().map(|s| build(PolicyKind::Boundary, s));
    let session: Option<Vec<_>> = d.session.as_ref().map(|s| vec![build(PolicyKind::Session, s)]);
    let scp_levels: Vec<Vec<_>> = d.scps.iter().map(|s| vec![build(PolicyKind::Scp, s)]).collect();
    let scp_refs: Vec<&[Arc<CompiledPolicy>]> = scp_levels.iter().map(Vec::as_slice).collect();
    let mut b = Context::builder()
        .set("aws:SecureTransport", r.secure)
        .set("s3:max-keys", u32::from(r.max_keys));
    if r.username {
        b = b.set("aws:username", "alice");
    }
    b = b
        .set_opt("aws:PrincipalTag/team", r.team)
        .set_all("aws:TagKeys", r.tag_keys.iter().copied());
    let ctx = b.build();
    let principal = if r.session {
        Principal::assumed_role(SESSION, ROLE, ACCT)
    } else {
        Principal::user(USER, ACCT)
    };
    let mut request = Request::new(principal, r.action, r.resource, &ctx);
    if r.cross_account {
        request = request.with_resource_account("444455556666");
    }
    let set = PolicySet {
        identity: &identity,
        resource: resource.as_deref(),
        boundary: boundary.as_deref(),
        session: session.as_deref(),
        scps: &scp_refs,
        rcps: &[],
        resource_must_allow: false,
    };
    evaluate(&request, &set)
}

/// A Deny statement that applies to `r` whatever the context.
fn matching_deny(r: &Req, principal: bool) -> Value {
    let mut s = json!({"Effect": "Deny", "Action": r.action, "Resource": r.resource});
    if principal {
        s["Principal"] = json!("*");
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    // "Policy evaluation logic": an explicit deny in any policy overrides any allow.
    #[test]
    fn explicit_deny_always_wins(mut d in docs(), r in req(), where_ in 0usize..5, at in 0usize..4) {
        match where_ {
            0 => {
                if d.identity.is_empty() { d.identity.push(vec![]); }
                let n = d.identity.len();
                let p = &mut d.identity[at % n];
                p.insert(at % (p.len() + 1), matching_deny(&r, false));
            }
            1 => d.resource.get_or_insert_with(Vec::new).push(matching_deny(&r, true)),
            2 => d.boundary.get_or_insert_with(Vec::new).push(matching_deny(&r, false)),
            3 => d.session.get_or_insert_with(Vec::new).push(matching_deny(&r, false)),
            _ => {
                if d.scps.is_empty() { d.scps.push(vec![]); }
                let n = d.scps.len();
                d.scps[at % n].push(matching_deny(&r, false));
            }
        }
        // The identity/boundary/session denies only reach IAM identities, which these are.
        let decision = decide(&d, &r);
        prop_assert!(!decision.allowed);
        prop_assert!(matches!(decision.reason, Reason::ExplicitDeny(_)), "{:?}", decision.reason);
    }

    // Adding an Allow statement to an identity or resource-based policy never denies what was allowed.
    #[test]
    fn adding_allow_never_denies(mut d in docs(), r in req(), extra in statement(false), to_resource in any::<bool>()) {
        let before = decide(&d, &r).allowed;
        let mut extra = extra;
        extra["Effect"] = json!("Allow");
        if to_resource {
            extra["Principal"] = json!({"AWS": USER});
            d.resource.get_or_insert_with(Vec::new).push(extra);
        } else if d.identity.is_empty() {
            d.identity.push(vec![extra]);
        } else {
            d.identity[0].push(extra);
        }
        if before {
            prop_assert!(decide(&d, &r).allowed);
        }
    }

    // Removing a Deny statement never denies what was allowed.
    #[test]
    fn removing_deny_never_denies(d in docs(), r in req()) {
        let before = decide(&d, &r).allowed;
        let strip = |ps: &Vec<Value>| -> Vec<Value> {
            let kept: Vec<Value> = ps.iter().filter(|s| s["Effect"] != "Deny").cloned().collect();
            kept
        };
        let mut after = d.clone();
        // Keep at least one statement per policy (a policy must have one): use a no-op allow.
        let noop = json!({"Effect": "Allow", "Action": "noop:Noop", "Resource": "*"});
        let fix = |mut v: Vec<Value>, principal: bool| {
            if v.is_empty() {
                let mut n = noop.clone();
                if principal { n["Principal"] = json!({"AWS": "999999999999"}); }
                v.push(n);
            }
            v
        };
        after.identity = d.identity.iter().map(|p| fix(strip(p), false)).collect();
        after.resource = d.resource.as_ref().map(|p| fix(strip(p), true));
        after.boundary = d.boundary.as_ref().map(|p| fix(strip(p), false));
        after.session = d.session.as_ref().map(|p| fix(strip(p), false));
        after.scps = d.scps.iter().map(|p| fix(strip(p), false)).collect();
        if before {
            prop_assert!(decide(&after, &r).allowed);
        }
    }

    // "Permissions boundaries": a boundary never grants; removing it never denies.
    #[test]
    fn boundary_never_widens(d in docs(), r in req()) {
        let with = decide(&d, &r).allowed;
        let without = decide(&Docs { boundary: None, ..d.clone() }, &r).allowed;
        prop_assert!(!with || without);
        // Likewise for session policies of a role session and for SCPs.
        if r.session {
            let no_session = decide(&Docs { session: None, ..d.clone() }, &r).allowed;
            prop_assert!(!with || no_session);
        }
        let no_scps = decide(&Docs { scps: vec![], ..d }, &r).allowed;
        prop_assert!(!with || no_scps);
    }
}

// --- Policy variables without a value ----------------------------------------------------

/// Resource patterns holding `var`, for `Resource`/`NotResource` elements.
const VAR_PATTERNS: [&str; 4] = [
    "arn:aws:s3:::b/{}/*",
    "arn:aws:s3:::{}",
    "arn:aws:iam::111122223333:user/{}",
    "arn:aws:s3:::*{}*",
];

/// Variables that have no value for `r`, and why.
fn unresolvable(r: &Req) -> Vec<&'static str> {
    let mut out = vec!["${aws:PrincipalTag/project}", "${aws:SourceVpc}"];
    if !r.username {
        out.push("${aws:username}");
    }
    if r.tag_keys.len() != 1 {
        // Null (no values) or multivalued: neither can stand for a variable.
        out.push("${aws:TagKeys}");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    // "IAM policy elements: Variables and tags": a variable AWS cannot resolve makes the whole
    // statement invalid. Adding one (Allow or Deny, Resource or NotResource, anywhere) never
    // changes a decision, nor its reason.
    #[test]
    fn unresolvable_statement_changes_nothing(
        mut d in docs(),
        r in req(),
        plain in statement(false),
        with_principal in statement(true),
        where_ in 0usize..5,
        at in 0usize..4,
        var_at in 0usize..8,
        pattern in prop::sample::select(VAR_PATTERNS.to_vec()),
    ) {
        let before = decide(&d, &r);
        let vars = unresolvable(&r);
        let var = vars[var_at % vars.len()];
        let add = |mut s: Value| {
            let element = if s.get("Resource").is_some() { "Resource" } else { "NotResource" };
            s[element].as_array_mut().unwrap().push(json!(pattern.replace("{}", var)));
            s
        };
        match where_ {
            0 => {
                if d.identity.is_empty() { d.identity.push(vec![]); }
                let n = d.identity.len();
                d.identity[at % n].push(add(plain));
            }
            1 => match &mut d.resource { Some(p) => p.push(add(with_principal)), None => return Ok(()) },
            2 => match &mut d.boundary { Some(p) => p.push(add(plain)), None => return Ok(()) },
            3 => match &mut d.session { Some(p) => p.push(add(plain)), None => return Ok(()) },
            _ => {
                if d.scps.is_empty() { return Ok(()); }
                let n = d.scps.len();
                d.scps[at % n].push(add(plain));
            }
        }
        let after = decide(&d, &r);
        prop_assert_eq!(after.allowed, before.allowed);
        prop_assert_eq!(&after.reason, &before.reason);
    }

    // An Allow with NotResource never allows a resource its own pattern matches once the
    // variable is substituted: not when the variable has that value, and not when it has none
    // (then the statement allows nothing at all).
    #[test]
    fn allow_not_resource_never_allows_its_own_pattern(
        template in prop::sample::select(vec![
            "b/${aws:username}/*", "b/${aws:username}", "*/${aws:username}", "h${aws:username}?x",
            "${aws:username}-q*", "b/${aws:username}/${aws:username}*",
        ]),
        name in "[ab*?]{1,3}",
        fillers in prop::collection::vec("[ab/:]{0,3}", 4),
        single in "[ab]",
        others in prop::sample::subsequence(vec!["arn:aws:s3:::b/*", "arn:aws:s3:::c", "*"], 0..2),
        session in any::<bool>(),
        other_resource in "[abc/]{0,6}",
    ) {
        // The resource `template` matches when `${aws:username}` is `name`: the substituted
        // value is literal, each `*` stands for a filler and `?` for one character.
        let mut tail = String::new();
        let mut fill = fillers.iter();
        for (i, part) in template.split("${aws:username}").enumerate() {
            if i > 0 { tail.push_str(&name); }
            for c in part.chars() {
                match c {
                    '*' => tail.push_str(fill.next().map_or("", String::as_str)),
                    '?' => tail.push_str(&single),
                    c => tail.push(c),
                }
            }
        }
        let own = format!("arn:aws:s3:::{tail}");
        let mut not_resource: Vec<String> = others.iter().map(|s| s.to_string()).collect();
        not_resource.push(format!("arn:aws:s3:::{template}"));
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "NotResource": not_resource}]});
        let identity = [Arc::new(compile("p", &doc.to_string(), PolicyKind::Identity).unwrap())];
        let set = PolicySet { identity: &identity, ..PolicySet::default() };
        let principal = if session {
            Principal::assumed_role(SESSION, ROLE, ACCT)
        } else {
            Principal::user(USER, ACCT)
        };
        let with = Context::builder().set("aws:username", name.as_str()).build();
        let d = evaluate(&Request::new(principal, "s3:GetObject", &own, &with), &set);
        prop_assert!(!d.allowed, "{} allowed {} for {}", doc, own, name);
        let without = Context::new();
        let elsewhere = format!("arn:aws:s3:::{other_resource}");
        for resource in [own.as_str(), elsewhere.as_str()] {
            let d = evaluate(&Request::new(principal, "s3:GetObject", resource, &without), &set);
            prop_assert!(!d.allowed, "{} allowed {} without aws:username", doc, resource);
            // Reported as ignored, unless another pattern excludes the resource anyway.
            if others.is_empty() {
                prop_assert_eq!(d.ignored.len(), 1);
            }
        }
    }
}

// --- Parser robustness -------------------------------------------------------------------

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "Version",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "Principal",
        "NotPrincipal",
        "Sid",
        "Id",
        "AWS",
        "Service",
        "StringEquals",
        "ForAnyValue:StringLike",
        "DateGreaterThan",
        "IpAddressIfExists",
        "aws:SourceIp",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "allow",
            "*",
            "s3:GetObject",
            "s3:*",
            "arn:aws:s3:::b/*",
            "arn:aws:iam::111122223333:root",
            "arn:aws::x",
            "a:b:c",
            "",
            "${aws:username}",
            "2019-01-01T00:00:00Z",
            "10.0.0.0/8",
            "111122223333",
            "sts:AssumeRole",
            "iam:",
            ":",
            "${",
            "\u{0}",
        ])
        .prop_map(Value::from),
        "[^\"\\\\]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|kvs| Value::Object(kvs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

const KINDS: [PolicyKind; 6] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Boundary,
    PolicyKind::Session,
    PolicyKind::Scp,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_strings(s in ".{0,300}") {
        for kind in KINDS {
            let _ = parse(&s, kind);
        }
    }

    #[test]
    fn parse_never_panics_on_json(v in json_value()) {
        let text = v.to_string();
        for kind in KINDS {
            if let Ok(p) = parse(&text, kind) {
                // Whatever parses also compiles and evaluates without panicking.
                let c = Arc::new(CompiledPolicy::compile("p", &p));
                let ctx = Context::builder().set("aws:username", "alice").build();
                let ids = [c.clone()];
                let set = PolicySet { identity: &ids, resource: Some(&c), ..PolicySet::default() };
                let _ = evaluate(&Request::new(Principal::user(USER, ACCT), "s3:GetObject", "arn:aws:s3:::b/k", &ctx), &set);
                let _ = oxiam_policy::context_keys(&p);
            }
        }
    }
}

// --- Wildcard matcher vs. a naive reference ----------------------------------------------

/// Backtracking reference: `*` any run of characters, `?` exactly one character.
fn reference(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
    }
}

fn like(pattern: &str, text: &str) -> bool {
    let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringLike": {"s3:prefix": pattern}}}});
    let ids = [Arc::new(compile("p", &doc.to_string(), PolicyKind::Identity).unwrap())];
    let ctx = Context::builder().set("s3:prefix", text).build();
    evaluate(
        &Request::new(Principal::user(USER, ACCT), "s3:GetObject", "*", &ctx),
        &PolicySet {
            identity: &ids,
            ..PolicySet::default()
        },
    )
    .allowed
}

fn resource_matches(pattern_tail: &str, text_tail: &str) -> bool {
    let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{pattern_tail}")}});
    let ids = [Arc::new(compile("p", &doc.to_string(), PolicyKind::Identity).unwrap())];
    let ctx = Context::new();
    let resource = format!("arn:aws:s3:::{text_tail}");
    evaluate(
        &Request::new(Principal::user(USER, ACCT), "s3:GetObject", &resource, &ctx),
        &PolicySet {
            identity: &ids,
            ..PolicySet::default()
        },
    )
    .allowed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn wildcard_matches_reference(p in "[ab*?é:/]{0,8}", t in "[abé:/]{0,10}") {
        let want = reference(&p.chars().collect::<Vec<_>>(), &t.chars().collect::<Vec<_>>());
        prop_assert_eq!(like(&p, &t), want, "pattern {:?} text {:?}", p, t);
        // In the resource part of an ARN, `*` spans `/` and `:` the same way.
        prop_assert_eq!(resource_matches(&p, &t), want, "resource pattern {:?} text {:?}", p, t);
    }
}
