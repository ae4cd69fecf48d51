//! Evaluation rules, from AWS IAM User Guide "Policy evaluation logic" and its sub-pages
//! ("How AWS enforcement code logic evaluates requests to allow or deny access", "Policy
//! evaluation for requests within a single account", "Cross-account policy evaluation logic"),
//! "Permissions boundaries for IAM entities", "Session policies", "IAM JSON policy elements"
//! (Action, NotAction, NotResource, NotPrincipal), and "Troubleshoot access denied error
//! messages".

use std::sync::Arc;

use oxiam_policy::{
    CompiledPolicy, Context, Decision, EvalOptions, PolicyKind, PolicySet, Principal, Reason, Request, compile,
    evaluate, evaluate_trust,
};
use serde_json::{Value, json};

const ACCT: &str = "111122223333";
const OTHER: &str = "444455556666";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/app/R";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/R/s1";
const FED: &str = "arn:aws:sts::111122223333:federated-user/carol";
const BUCKET_OBJ: &str = "arn:aws:s3:::bucket/key";

fn pol(kind: PolicyKind, id: &str, statements: Value) -> Arc<CompiledPolicy> {
    let doc = json!({"Version": "2012-10-17", "Statement": statements});
    Arc::new(compile(id, &doc.to_string(), kind).unwrap_or_else(|e| panic!("{doc}: {e}")))
}

fn allow(action: &str, resource: &str) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

fn deny(action: &str, resource: &str) -> Value {
    json!({"Effect": "Deny", "Action": action, "Resource": resource})
}

fn res_stmt(effect: &str, principal: Value, action: &str, resource: &str) -> Value {
    json!({"Effect": effect, "Principal": principal, "Action": action, "Resource": resource})
}

fn user() -> Principal<'static> {
    Principal::user(USER, ACCT)
}

fn session() -> Principal<'static> {
    Principal::assumed_role(SESSION, ROLE, ACCT)
}

fn run(p: Principal<'_>, action: &str, resource: &str, set: &PolicySet<'_>) -> Decision {
    let ctx = Context::new();
    evaluate(&Request::new(p, action, resource, &ctx), set)
}

fn missing(d: &Decision) -> Option<PolicyKind> {
    match d.reason {
        Reason::NoAllow { missing } => Some(missing),
        _ => None,
    }
}

fn denied_by(d: &Decision) -> Option<PolicyKind> {
    match &d.reason {
        Reason::ExplicitDeny(s) => Some(s.kind),
        _ => None,
    }
}

#[test]
fn identity_policies_and_explicit_deny() {
    let a = pol(PolicyKind::Identity, "a", json!([allow("s3:*", "*")]));
    let d = pol(
        PolicyKind::Identity,
        "d",
        json!([{"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]),
    );
    let ids = [a.clone(), d];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    let got = run(user(), "s3:GetObject", BUCKET_OBJ, &set);
    assert!(got.allowed);
    match &got.reason {
        Reason::Allowed(s) => {
            assert_eq!(
                (s.kind, &*s.policy_id, s.index, s.sid.as_deref()),
                (PolicyKind::Identity, "a", 0, None)
            );
        }
        other => panic!("{other:?}"),
    }
    let got = run(user(), "s3:DeleteObject", BUCKET_OBJ, &set);
    assert!(!got.allowed);
    match &got.reason {
        Reason::ExplicitDeny(s) => assert_eq!((&*s.policy_id, s.sid.as_deref()), ("d", Some("NoDelete"))),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        got.denial_message(USER, "s3:DeleteObject", BUCKET_OBJ).unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:DeleteObject on resource: \
         arn:aws:s3:::bucket/key with an explicit deny in an identity-based policy"
    );
    // Implicit deny.
    let got = run(user(), "iam:ListUsers", "*", &set);
    assert_eq!(missing(&got), Some(PolicyKind::Identity));
    assert_eq!(
        got.denial_message(USER, "iam:ListUsers", "*").unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:ListUsers on resource: * \
         because no identity-based policy allows the iam:ListUsers action"
    );
    assert!(got.denial_message(USER, "x", "y").is_some());
    assert_eq!(
        run(user(), "s3:GetObject", BUCKET_OBJ, &set).denial_message(USER, "a", "b"),
        None
    );
    // No policies at all: implicit deny.
    assert_eq!(
        missing(&run(user(), "s3:GetObject", BUCKET_OBJ, &PolicySet::default())),
        Some(PolicyKind::Identity)
    );
}

// "IAM JSON policy elements: Action": case-insensitive, `*` and `?` anywhere in the name.
#[test]
fn action_matching() {
    let cases = [
        ("iam:ListAccessKeys", "IAM:listaccesskeys", true),
        ("iam:*AccessKey*", "iam:CreateAccessKey", true),
        ("iam:*AccessKey*", "iam:ListAccessKeys", true),
        ("iam:*AccessKey*", "iam:ListUsers", false),
        ("s3:Get???", "s3:GetAcl", true),
        ("s3:Get???", "s3:GetObject", false),
        ("s3:*", "s3:GetObject", true),
        ("s3:*", "s3express:CreateSession", false),
        ("*", "anything:Really", true),
        ("ec2:Describe*", "EC2:DescribeInstances", true),
    ];
    for (pattern, action, want) in cases {
        let ids = [pol(PolicyKind::Identity, "p", json!([allow(pattern, "*")]))];
        let set = PolicySet {
            identity: &ids,
            ..PolicySet::default()
        };
        assert_eq!(run(user(), action, "*", &set).allowed, want, "{pattern} vs {action}");
    }
}

// "IAM JSON policy elements: NotAction" and "NotResource".
#[test]
fn not_action_and_not_resource() {
    let ids = [pol(
        PolicyKind::Identity,
        "p",
        json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
    )];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    assert!(!run(user(), "iam:CreateUser", "arn:aws:iam::111122223333:user/x", &set).allowed);

    // NotAction with a scoped Resource does not grant actions needing `*`.
    let ids = [pol(
        PolicyKind::Identity,
        "p",
        json!([{"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}]),
    )];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    assert!(!run(user(), "s3:ListAllMyBuckets", "*", &set).allowed);
    assert!(!run(user(), "s3:DeleteBucket", "arn:aws:s3:::bucket", &set).allowed);

    // Deny with NotAction denies everything not listed.
    let ids = [
        pol(PolicyKind::Identity, "all", json!([allow("*", "*")])),
        pol(
            PolicyKind::Identity,
            "mfa",
            json!([{"Effect": "Deny", "NotAction": ["iam:ChangePassword", "sts:GetSessionToken"], "Resource": "*"}]),
        ),
    ];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    assert!(run(user(), "iam:ChangePassword", USER, &set).allowed);
    assert_eq!(
        denied_by(&run(user(), "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Identity)
    );

    // Deny with NotResource: everything except the HR payroll objects.
    let ids = [
        pol(PolicyKind::Identity, "all", json!([allow("s3:*", "*")])),
        pol(
            PolicyKind::Identity,
            "hr",
            json!([{"Effect": "Deny", "Action": "s3:*",
            "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]),
        ),
    ];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv", &set).allowed);
    assert!(!run(user(), "s3:GetObject", "arn:aws:s3:::HRBucket/Other", &set).allowed);
}

// "Permissions boundaries for IAM entities": the effective permissions are the intersection.
#[test]
fn permissions_boundary() {
    let ids = [pol(
        PolicyKind::Identity,
        "id",
        json!([allow("iam:CreateUser", "*"), allow("s3:GetObject", "*")]),
    )];
    let boundary = pol(
        PolicyKind::Boundary,
        "pb",
        json!([allow("s3:*", "*"), allow("cloudwatch:*", "*"), allow("ec2:*", "*")]),
    );
    let set = PolicySet {
        identity: &ids,
        boundary: Some(&boundary),
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let d = run(user(), "iam:CreateUser", "arn:aws:iam::111122223333:user/x", &set);
    assert_eq!(missing(&d), Some(PolicyKind::Boundary));
    assert_eq!(
        d.denial_message(USER, "iam:CreateUser", "arn:aws:iam::111122223333:user/x")
            .unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser on resource: \
         arn:aws:iam::111122223333:user/x because no permissions boundary allows the iam:CreateUser action"
    );
    // The boundary alone grants nothing.
    assert_eq!(
        missing(&run(user(), "ec2:RunInstances", "*", &set)),
        Some(PolicyKind::Identity)
    );
    // An explicit deny in the boundary.
    let boundary = pol(
        PolicyKind::Boundary,
        "pb",
        json!([allow("*", "*"), deny("s3:GetObject", "*")]),
    );
    let set = PolicySet {
        identity: &ids,
        boundary: Some(&boundary),
        ..PolicySet::default()
    };
    let d = run(user(), "s3:GetObject", BUCKET_OBJ, &set);
    assert_eq!(denied_by(&d), Some(PolicyKind::Boundary));
    assert!(
        d.denial_message(USER, "s3:GetObject", BUCKET_OBJ)
            .unwrap()
            .ends_with("with an explicit deny in a permissions boundary")
    );
}

// "Session policies": role session permissions are the intersection of the role's policies
// and the session policies; no session policy means the role's permissions; a
// GetFederationToken session without session policies has none.
#[test]
fn session_policies() {
    let ids = [pol(
        PolicyKind::Identity,
        "role",
        json!([allow("s3:*", "*"), allow("sqs:*", "*")]),
    )];
    let sp = [pol(PolicyKind::Session, "sp", json!([allow("s3:GetObject", "*")]))];
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp),
        ..PolicySet::default()
    };
    assert!(run(session(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let d = run(
        session(),
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111122223333:q",
        &set,
    );
    assert_eq!(missing(&d), Some(PolicyKind::Session));
    assert!(
        d.denial_message(SESSION, "sqs:SendMessage", "q")
            .unwrap()
            .ends_with("because no session policy allows the sqs:SendMessage action")
    );
    // No session policy.
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    assert!(
        run(
            session(),
            "sqs:SendMessage",
            "arn:aws:sqs:us-east-1:111122223333:q",
            &set
        )
        .allowed
    );
    // Federated user without a session policy.
    let fed = Principal::federated_user(FED, Some(USER), ACCT);
    assert_eq!(
        missing(&run(fed, "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Session)
    );
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp),
        ..PolicySet::default()
    };
    assert!(run(fed, "s3:GetObject", BUCKET_OBJ, &set).allowed);
    // Explicit deny in a session policy.
    let sp = [pol(
        PolicyKind::Session,
        "sp",
        json!([allow("*", "*"), deny("s3:PutObject", "*")]),
    )];
    let set = PolicySet {
        identity: &ids,
        session: Some(&sp),
        ..PolicySet::default()
    };
    assert_eq!(
        denied_by(&run(session(), "s3:PutObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Session)
    );
}

// "Policy evaluation logic" > "Resource-based policies" (same account): whether a resource
// policy's allow stands alone depends on the principal it names.
#[test]
fn same_account_resource_policy() {
    let nothing: [Arc<CompiledPolicy>; 0] = [];
    let narrow_boundary = pol(PolicyKind::Boundary, "pb", json!([allow("sqs:*", "*")]));
    let narrow_session = [pol(PolicyKind::Session, "sp", json!([allow("sqs:*", "*")]))];
    let rp = |principal: Value| {
        pol(
            PolicyKind::Resource,
            "bucket-policy",
            json!([res_stmt("Allow", principal, "s3:GetObject", "arn:aws:s3:::bucket/*")]),
        )
    };

    // IAM user ARN: not limited by identity policies or the boundary.
    let by_user = rp(json!({"AWS": USER}));
    let set = PolicySet {
        identity: &nothing,
        resource: Some(&by_user),
        boundary: Some(&narrow_boundary),
        ..PolicySet::default()
    };
    let d = run(user(), "s3:GetObject", BUCKET_OBJ, &set);
    assert!(d.allowed);
    assert!(
        matches!(&d.reason, Reason::Allowed(s) if s.kind == PolicyKind::Resource && &*s.policy_id == "bucket-policy")
    );
    // ... but an explicit deny in the boundary still wins.
    let deny_boundary = pol(PolicyKind::Boundary, "pb", json!([allow("*", "*"), deny("s3:*", "*")]));
    let set = PolicySet {
        resource: Some(&by_user),
        boundary: Some(&deny_boundary),
        ..PolicySet::default()
    };
    assert_eq!(
        denied_by(&run(user(), "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Boundary)
    );

    // Role ARN: limited by the boundary and the session policy, not by identity policies.
    let by_role = rp(json!({"AWS": ROLE}));
    let set = PolicySet {
        resource: Some(&by_role),
        ..PolicySet::default()
    };
    assert!(run(session(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let set = PolicySet {
        resource: Some(&by_role),
        boundary: Some(&narrow_boundary),
        ..PolicySet::default()
    };
    assert_eq!(
        missing(&run(session(), "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Identity)
    );
    let set = PolicySet {
        resource: Some(&by_role),
        session: Some(&narrow_session),
        ..PolicySet::default()
    };
    assert!(!run(session(), "s3:GetObject", BUCKET_OBJ, &set).allowed);

    // Role session ARN: not limited by identity policies, boundary or session policy.
    let by_session = rp(json!({"AWS": SESSION}));
    let set = PolicySet {
        resource: Some(&by_session),
        boundary: Some(&narrow_boundary),
        session: Some(&narrow_session),
        ..PolicySet::default()
    };
    assert!(run(session(), "s3:GetObject", BUCKET_OBJ, &set).allowed);

    // Federated-user session ARN: not limited; the IAM user who federated: limited.
    let fed = Principal::federated_user(FED, Some(USER), ACCT);
    let set = PolicySet {
        resource: Some(&rp(json!({"AWS": FED}))),
        ..PolicySet::default()
    };
    assert!(run(fed, "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let by_issuer = rp(json!({"AWS": USER}));
    let set = PolicySet {
        resource: Some(&by_issuer),
        ..PolicySet::default()
    };
    assert_eq!(
        missing(&run(fed, "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Identity)
    );
    let set = PolicySet {
        resource: Some(&by_issuer),
        session: Some(&narrow_session),
        ..PolicySet::default()
    };
    let wide_session = [pol(PolicyKind::Session, "sp", json!([allow("s3:*", "*")]))];
    assert!(!run(fed, "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let set = PolicySet {
        resource: Some(&by_issuer),
        session: Some(&wide_session),
        ..PolicySet::default()
    };
    assert!(run(fed, "s3:GetObject", BUCKET_OBJ, &set).allowed);

    // Account principal: delegates to the account, an identity-based allow is still needed.
    for account in [json!({"AWS": ACCT}), json!({"AWS": "arn:aws:iam::111122223333:root"})] {
        let by_account = rp(account);
        let set = PolicySet {
            resource: Some(&by_account),
            ..PolicySet::default()
        };
        assert_eq!(
            missing(&run(user(), "s3:GetObject", BUCKET_OBJ, &set)),
            Some(PolicyKind::Identity)
        );
        let ids = [pol(PolicyKind::Identity, "id", json!([allow("s3:GetObject", "*")]))];
        let set = PolicySet {
            identity: &ids,
            resource: Some(&by_account),
            ..PolicySet::default()
        };
        assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    }

    // Identity allow alone suffices within the account (union), whatever the resource policy.
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("s3:GetObject", "*")]))];
    let other = rp(json!({"AWS": "arn:aws:iam::111122223333:user/bob"}));
    let set = PolicySet {
        identity: &ids,
        resource: Some(&other),
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);

    // Explicit deny in the resource policy.
    let rdeny = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt("Deny", json!("*"), "s3:*", "arn:aws:s3:::bucket/*")]),
    );
    let set = PolicySet {
        identity: &ids,
        resource: Some(&rdeny),
        ..PolicySet::default()
    };
    let d = run(user(), "s3:GetObject", BUCKET_OBJ, &set);
    assert_eq!(denied_by(&d), Some(PolicyKind::Resource));
    assert!(
        d.denial_message(USER, "s3:GetObject", BUCKET_OBJ)
            .unwrap()
            .ends_with("with an explicit deny in a resource-based policy")
    );
}

// "Cross-account policy evaluation logic": both accounts must allow.
#[test]
fn cross_account() {
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("s3:GetObject", "*")]))];
    let ctx = Context::new();
    let req = Request::new(user(), "s3:GetObject", BUCKET_OBJ, &ctx).with_resource_account(OTHER);
    // No resource policy in the other account.
    let d = evaluate(
        &req,
        &PolicySet {
            identity: &ids,
            ..PolicySet::default()
        },
    );
    assert_eq!(missing(&d), Some(PolicyKind::Resource));
    assert!(
        d.denial_message(USER, "s3:GetObject", BUCKET_OBJ)
            .unwrap()
            .ends_with("because no resource-based policy allows the s3:GetObject action")
    );
    // The other account trusts ours.
    let rp = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt(
            "Allow",
            json!({"AWS": ACCT}),
            "s3:GetObject",
            "arn:aws:s3:::bucket/*"
        )]),
    );
    assert!(
        evaluate(
            &req,
            &PolicySet {
                identity: &ids,
                resource: Some(&rp),
                ..PolicySet::default()
            }
        )
        .allowed
    );
    // Resource policy alone is not enough across accounts, even naming the user directly.
    let by_user = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt(
            "Allow",
            json!({"AWS": USER}),
            "s3:GetObject",
            "arn:aws:s3:::bucket/*"
        )]),
    );
    let d = evaluate(
        &req,
        &PolicySet {
            resource: Some(&by_user),
            ..PolicySet::default()
        },
    );
    assert_eq!(missing(&d), Some(PolicyKind::Identity));
    // A resource policy naming some other account does not help.
    let wrong = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt(
            "Allow",
            json!({"AWS": "999999999999"}),
            "s3:GetObject",
            "arn:aws:s3:::bucket/*"
        )]),
    );
    assert!(
        !evaluate(
            &req,
            &PolicySet {
                identity: &ids,
                resource: Some(&wrong),
                ..PolicySet::default()
            }
        )
        .allowed
    );
    // Boundary still limits the caller's side.
    let pb = pol(PolicyKind::Boundary, "pb", json!([allow("sqs:*", "*")]));
    let d = evaluate(
        &req,
        &PolicySet {
            identity: &ids,
            resource: Some(&rp),
            boundary: Some(&pb),
            ..PolicySet::default()
        },
    );
    assert_eq!(missing(&d), Some(PolicyKind::Boundary));
}

// "How AWS enforcement code logic evaluates requests" > SCPs; Organizations: every level must
// allow, and an SCP's implicit deny reads as an explicit deny.
#[test]
fn service_control_policies() {
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("*", "*")]))];
    let full = pol(PolicyKind::Scp, "FullAWSAccess", json!([allow("*", "*")]));
    let s3_only = pol(PolicyKind::Scp, "s3-only", json!([allow("s3:*", "*")]));
    let no_iam = pol(PolicyKind::Scp, "deny-iam", json!([deny("iam:*", "*")]));
    let root_level = [full.clone()];
    let ou_level = [s3_only];
    let levels: [&[Arc<CompiledPolicy>]; 2] = [&root_level, &ou_level];
    let set = PolicySet {
        identity: &ids,
        scps: &levels,
        rcps: &[],
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let d = run(user(), "sqs:SendMessage", "*", &set);
    assert_eq!(missing(&d), Some(PolicyKind::Scp));
    assert_eq!(
        d.denial_message(USER, "sqs:SendMessage", "*").unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sqs:SendMessage on resource: * \
         with an explicit deny in a service control policy"
    );
    // Deny-list SCP next to FullAWSAccess at the same level.
    let account_level = [full, no_iam];
    let levels: [&[Arc<CompiledPolicy>]; 1] = [&account_level];
    let set = PolicySet {
        identity: &ids,
        scps: &levels,
        rcps: &[],
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    assert_eq!(
        denied_by(&run(user(), "iam:CreateUser", "*", &set)),
        Some(PolicyKind::Scp)
    );
    // SCPs limit the root user of a member account too.
    let root = Principal::root("arn:aws:iam::111122223333:root", ACCT);
    assert!(run(root, "s3:GetObject", BUCKET_OBJ, &set).allowed);
    assert_eq!(
        denied_by(&run(root, "iam:CreateUser", "*", &set)),
        Some(PolicyKind::Scp)
    );
}

// Organizations User Guide, "RCP evaluation": the resource owner's RCPs apply to every
// caller, whoever it is and whatever its own account allows; a Deny in any of them denies,
// read as an explicit deny in a resource control policy.
#[test]
fn resource_control_policies() {
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("*", "*")]))];
    let mut full = allow("*", "*");
    full["Principal"] = json!("*");
    let mut no_deletes = deny("s3:DeleteObject", "*");
    no_deletes["Principal"] = json!("*");
    let root_level = [pol(PolicyKind::Rcp, "RCPFullAWSAccess", json!([full.clone()]))];
    let account_level = [
        pol(PolicyKind::Rcp, "RCPFullAWSAccess", json!([full])),
        pol(PolicyKind::Rcp, "no-deletes", json!([no_deletes])),
    ];
    let levels: [&[Arc<CompiledPolicy>]; 2] = [&root_level, &account_level];
    let set = PolicySet {
        identity: &ids,
        rcps: &levels,
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let d = run(user(), "s3:DeleteObject", BUCKET_OBJ, &set);
    assert_eq!(denied_by(&d), Some(PolicyKind::Rcp));
    assert!(
        d.denial_message(USER, "s3:DeleteObject", BUCKET_OBJ)
            .unwrap()
            .ends_with("with an explicit deny in a resource control policy")
    );
    let root = Principal::root("arn:aws:iam::111122223333:root", ACCT);
    assert_eq!(
        denied_by(&run(root, "s3:DeleteObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Rcp)
    );
}

// "How AWS enforcement code logic evaluates requests": all requests are implicitly denied
// except for the account root user, who has full access (explicit denies still apply).
#[test]
fn root_user() {
    let root = Principal::root("arn:aws:iam::111122223333:root", ACCT);
    let d = run(root, "iam:CreateUser", "*", &PolicySet::default());
    assert_eq!(
        d,
        Decision {
            allowed: true,
            reason: Reason::RootAccount,
            ignored: vec![],
        }
    );
    let rdeny = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt("Deny", json!("*"), "s3:*", "arn:aws:s3:::bucket/*")]),
    );
    let set = PolicySet {
        resource: Some(&rdeny),
        ..PolicySet::default()
    };
    assert_eq!(
        denied_by(&run(root, "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Resource)
    );
    // Turned off: root is evaluated like anyone else.
    let ctx = Context::new();
    let req = Request::new(root, "iam:CreateUser", "*", &ctx).with_options(EvalOptions {
        root_full_access: false,
        ..EvalOptions::default()
    });
    assert_eq!(
        missing(&evaluate(&req, &PolicySet::default())),
        Some(PolicyKind::Identity)
    );
    // Root of another account needs the resource policy.
    let req = Request::new(root, "s3:GetObject", BUCKET_OBJ, &ctx).with_resource_account(OTHER);
    assert_eq!(
        missing(&evaluate(&req, &PolicySet::default())),
        Some(PolicyKind::Resource)
    );
    let rp = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt(
            "Allow",
            json!({"AWS": ACCT}),
            "s3:GetObject",
            "arn:aws:s3:::bucket/*"
        )]),
    );
    assert!(
        evaluate(
            &req,
            &PolicySet {
                resource: Some(&rp),
                ..PolicySet::default()
            }
        )
        .allowed
    );
}

// "IAM roles" > role trust policies: the trust policy must allow the caller; naming the account
// delegates to the account's identity policies; cross-account needs both.
#[test]
fn trust_policies() {
    let trust = |principal: Value| {
        pol(
            PolicyKind::Trust,
            "trust",
            json!([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]),
        )
    };
    let ctx = Context::new();
    let nothing = PolicySet::default();
    let assume = |p: Principal<'static>| Request::new(p, "sts:AssumeRole", ROLE, Box::leak(Box::new(Context::new())));

    // Naming the user: no identity policy needed in the same account.
    let t = trust(json!({"AWS": USER}));
    assert!(evaluate_trust(&assume(user()), &t, &nothing).allowed);
    // Naming the account: the caller's identity policy must allow sts:AssumeRole on the role.
    let t = trust(json!({"AWS": "arn:aws:iam::111122223333:root"}));
    assert_eq!(
        missing(&evaluate_trust(&assume(user()), &t, &nothing)),
        Some(PolicyKind::Identity)
    );
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("sts:AssumeRole", ROLE)]))];
    assert!(
        evaluate_trust(
            &assume(user()),
            &t,
            &PolicySet {
                identity: &ids,
                ..nothing
            }
        )
        .allowed
    );
    // Not named: an identity allow is not enough.
    let t = trust(json!({"AWS": "arn:aws:iam::111122223333:user/bob"}));
    let d = evaluate_trust(
        &assume(user()),
        &t,
        &PolicySet {
            identity: &ids,
            ..nothing
        },
    );
    assert_eq!(missing(&d), Some(PolicyKind::Trust));
    assert_eq!(
        d.denial_message(USER, "sts:AssumeRole", ROLE).unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/app/R"
    );
    // Cross-account: trust names the other account, and the caller's identity policy allows.
    let t = trust(json!({"AWS": OTHER}));
    let outsider = Principal::user("arn:aws:iam::444455556666:user/dave", OTHER);
    let req = Request::new(outsider, "sts:AssumeRole", ROLE, &ctx).with_resource_account(ACCT);
    assert_eq!(missing(&evaluate_trust(&req, &t, &nothing)), Some(PolicyKind::Identity));
    assert!(
        evaluate_trust(
            &req,
            &t,
            &PolicySet {
                identity: &ids,
                ..nothing
            }
        )
        .allowed
    );
    // Services and web identities.
    let t = trust(json!({"Service": "ec2.amazonaws.com"}));
    assert!(evaluate_trust(&assume(Principal::service("ec2.amazonaws.com")), &t, &nothing).allowed);
    assert!(!evaluate_trust(&assume(Principal::service("lambda.amazonaws.com")), &t, &nothing).allowed);
    let provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
    let t = pol(
        PolicyKind::Trust,
        "trust",
        json!([{"Effect": "Allow", "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo/app:*"}}}]),
    );
    let good = Context::builder()
        .set("token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
        .set(
            "token.actions.githubusercontent.com:sub",
            "repo:octo/app:ref:refs/heads/main",
        )
        .build();
    let bad = Context::builder()
        .set("token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
        .set("token.actions.githubusercontent.com:sub", "repo:evil/app:x")
        .build();
    let web = Principal::federated(provider);
    assert!(
        evaluate_trust(
            &Request::new(web, "sts:AssumeRoleWithWebIdentity", ROLE, &good),
            &t,
            &nothing
        )
        .allowed
    );
    assert!(
        !evaluate_trust(
            &Request::new(web, "sts:AssumeRoleWithWebIdentity", ROLE, &bad),
            &t,
            &nothing
        )
        .allowed
    );
    // sts:ExternalId condition.
    let t = pol(
        PolicyKind::Trust,
        "trust",
        json!([{"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": "Unique-1"}}}]),
    );
    let with_id = Context::builder().set("sts:ExternalId", "Unique-1").build();
    let req = Request::new(outsider, "sts:AssumeRole", ROLE, &with_id).with_resource_account(ACCT);
    assert!(
        evaluate_trust(
            &req,
            &t,
            &PolicySet {
                identity: &ids,
                ..nothing
            }
        )
        .allowed
    );
    let req = Request::new(outsider, "sts:AssumeRole", ROLE, &ctx).with_resource_account(ACCT);
    assert!(
        !evaluate_trust(
            &req,
            &t,
            &PolicySet {
                identity: &ids,
                ..nothing
            }
        )
        .allowed
    );
}

// "AWS JSON policy elements: NotPrincipal": Deny + NotPrincipal denies everyone but the listed
// principals (account and identity must both be listed); principals with a permissions boundary
// are always denied ("Permissions boundaries for IAM entities").
#[test]
fn not_principal() {
    let rp = pol(
        PolicyKind::Resource,
        "bp",
        json!([
            res_stmt("Allow", json!("*"), "s3:*", "arn:aws:s3:::bucket/*"),
            {"Effect": "Deny", "NotPrincipal": {"AWS": ["arn:aws:iam::111122223333:root", USER]}, "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"}
        ]),
    );
    let set = PolicySet {
        resource: Some(&rp),
        ..PolicySet::default()
    };
    assert!(run(user(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    let bob = Principal::user("arn:aws:iam::111122223333:user/bob", ACCT);
    assert_eq!(
        denied_by(&run(bob, "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Resource)
    );
    let pb = pol(PolicyKind::Boundary, "pb", json!([allow("*", "*")]));
    let set = PolicySet {
        resource: Some(&rp),
        boundary: Some(&pb),
        ..PolicySet::default()
    };
    assert_eq!(
        denied_by(&run(user(), "s3:GetObject", BUCKET_OBJ, &set)),
        Some(PolicyKind::Resource)
    );
}

#[test]
fn anonymous_and_public_resources() {
    let public = pol(
        PolicyKind::Resource,
        "bp",
        json!([res_stmt("Allow", json!("*"), "s3:GetObject", "arn:aws:s3:::bucket/*")]),
    );
    let set = PolicySet {
        resource: Some(&public),
        ..PolicySet::default()
    };
    assert!(run(Principal::anonymous(), "s3:GetObject", BUCKET_OBJ, &set).allowed);
    assert!(!run(Principal::anonymous(), "s3:PutObject", BUCKET_OBJ, &set).allowed);
    assert_eq!(
        missing(&run(
            Principal::anonymous(),
            "s3:GetObject",
            BUCKET_OBJ,
            &PolicySet::default()
        )),
        Some(PolicyKind::Resource)
    );
    // Identity policies are irrelevant to anonymous callers.
    let ids = [pol(PolicyKind::Identity, "id", json!([allow("*", "*")]))];
    assert!(
        !run(
            Principal::anonymous(),
            "s3:PutObject",
            BUCKET_OBJ,
            &PolicySet {
                identity: &ids,
                ..PolicySet::default()
            }
        )
        .allowed
    );
}

#[test]
fn first_statement_in_document_order_is_reported() {
    let p = pol(
        PolicyKind::Identity,
        "p",
        json!([
            {"Sid": "Specific", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Sid": "Wide", "Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Sid": "Svc", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        ]),
    );
    let ids = [p];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    let sid = |action| match run(user(), action, BUCKET_OBJ, &set).reason {
        Reason::Allowed(s) => s.sid.as_deref().map(str::to_owned),
        _ => None,
    };
    assert_eq!(sid("s3:GetObject").as_deref(), Some("Specific"));
    assert_eq!(sid("s3:PutObject").as_deref(), Some("Wide"));
    assert_eq!(sid("sqs:SendMessage").as_deref(), Some("Wide"));
}

// A realistic context: aws:SourceIp deny with a NotIpAddress guard, MFA required for IAM.
#[test]
fn global_condition_keys_in_context() {
    let ids = [pol(
        PolicyKind::Identity,
        "id",
        json!([
            allow("*", "*"),
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}, "Bool": {"aws:ViaAWSService": "false"}}},
            {"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
        ]),
    )];
    let set = PolicySet {
        identity: &ids,
        ..PolicySet::default()
    };
    let ctx = |ip: &str, mfa: Option<bool>| {
        Context::builder()
            .set("aws:SourceIp", ip.parse::<std::net::IpAddr>().unwrap())
            .set("aws:ViaAWSService", false)
            .set_opt("aws:MultiFactorAuthPresent", mfa)
            .build()
    };
    let go = |c: &Context, action: &str| evaluate(&Request::new(user(), action, "*", c), &set).allowed;
    assert!(go(&ctx("203.0.113.9", None), "s3:ListAllMyBuckets"));
    assert!(!go(&ctx("198.51.100.1", None), "s3:ListAllMyBuckets"));
    assert!(!go(&ctx("203.0.113.9", None), "iam:ListUsers"));
    assert!(!go(&ctx("203.0.113.9", Some(false)), "iam:ListUsers"));
    assert!(go(&ctx("203.0.113.9", Some(true)), "iam:ListUsers"));
}

/// The simulator's `*` stands for every resource: any statement's resource element lets it
/// apply. A real request's `*` is the literal `*`, which only `*` patterns match.
#[test]
fn the_simulators_any_resource_matches_every_resource_element() {
    let allow = compile(
        "p",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let deny_elsewhere = compile(
        "d",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let user = Principal::user("arn:aws:iam::123456789012:user/u", "123456789012");
    let ctx = Context::new();
    let any = EvalOptions {
        any_resource: true,
        ..EvalOptions::default()
    };
    let identity = [Arc::new(allow)];
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    let literal = Request::new(user, "s3:GetObject", "*", &ctx);
    assert!(!evaluate(&literal, &set).allowed, "a real `*` is not under b/*");
    assert!(evaluate(&literal.with_options(any), &set).allowed);
    // A named resource is judged as named, whatever the option.
    let named = Request::new(user, "s3:GetObject", "arn:aws:s3:::c/k", &ctx).with_options(any);
    assert!(!evaluate(&named, &set).allowed);
    // A Deny applies to "every resource" only where it covers the literal `*`: this
    // NotResource does (`*` is not under b/*), a Deny of b/secret/* would not.
    let identity = [identity[0].clone(), Arc::new(deny_elsewhere)];
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    assert!(!evaluate(&literal.with_options(any), &set).allowed);
    let deny_some = compile(
        "s",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret/*"}]}"#,
        PolicyKind::Identity,
    )
    .unwrap();
    let identity = [identity[0].clone(), Arc::new(deny_some)];
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    assert!(evaluate(&literal.with_options(any), &set).allowed);
}

/// A prefix stands for every resource under it ("may the action be allowed on some object
/// of bucket b"): an Allow counts where its resource element may match one of them, a Deny
/// only where it denies them all. Each case: the identity policy's statements, whether the
/// answer under `arn:aws:s3:::b/` is "may be allowed".
#[test]
fn a_prefix_stands_for_every_resource_under_it() {
    let allow = |resource: &str| format!(r#"{{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"{resource}"}}"#);
    let deny = |resource: &str| format!(r#"{{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"{resource}"}}"#);
    let cases: Vec<(Vec<String>, bool)> = vec![
        (vec![allow("arn:aws:s3:::b/tmp/*")], true),
        (vec![allow("arn:aws:s3:::b/exact-key")], true),
        (vec![allow("arn:aws:s3:::c/*")], false),
        // The bucket is not under its own prefix.
        (vec![allow("arn:aws:s3:::b")], false),
        (vec![allow("arn:aws:s3:::bu*")], false),
        (vec![allow("arn:aws:s3:::*/logs/*")], true),
        (vec![allow("arn:aws:s3:::b/${aws:username}/*")], true),
        // A variable has its value: the caller's own bucket is elsewhere.
        (vec![allow("arn:aws:s3:::${aws:username}/*")], false),
        (vec![allow("arn:aws:s3:::${aws:username}-b/*")], false),
        (vec![allow("arn:aws:s3:::${aws:PrincipalTag/bucket}/*")], true),
        // A variable without a value: the statement is ignored, and allows nothing.
        (vec![allow("arn:aws:s3:::${aws:PrincipalTag/missing}/*")], false),
        (vec![allow("*")], true),
        (
            vec![r#"{"Effect":"Allow","Action":"s3:DeleteObject","NotResource":"arn:aws:s3:::b/keep/*"}"#.to_owned()],
            true,
        ),
        // Another action allows nothing here.
        (
            vec![r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#.to_owned()],
            false,
        ),
        // A Deny of some keys leaves the others; a Deny of all of them denies.
        (vec![allow("arn:aws:s3:::b/*"), deny("arn:aws:s3:::b/keep/*")], true),
        (vec![allow("arn:aws:s3:::b/*"), deny("*")], false),
        // An Allow's conditions may test what each key supplies: it may allow.
        (
            vec![r#"{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:versionid":"v1"}}}"#.to_owned()],
            true,
        ),
        // A conditional Deny of `*` may spare some keys; an unconditional one, none.
        (
            vec![
                allow("arn:aws:s3:::b/*"),
                r#"{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#.to_owned(),
            ],
            true,
        ),
    ];
    let user = Principal::user("arn:aws:iam::123456789012:user/u", "123456789012");
    let ctx = Context::builder()
        .set("aws:SecureTransport", false)
        .set("aws:username", "u")
        .set("aws:PrincipalTag/bucket", "b")
        .build();
    let under = EvalOptions {
        resource_prefix: true,
        ..EvalOptions::default()
    };
    for (statements, may) in cases {
        let document = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, statements.join(","));
        let policy = compile("p", &document, PolicyKind::Identity).unwrap();
        let identity = [Arc::new(policy)];
        let set = PolicySet {
            identity: &identity,
            ..PolicySet::default()
        };
        let request = Request::new(user, "s3:DeleteObject", "arn:aws:s3:::b/", &ctx).with_options(under);
        assert_eq!(evaluate(&request, &set).allowed, may, "{document}");
    }
}
