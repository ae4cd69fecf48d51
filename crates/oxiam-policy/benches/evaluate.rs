//! Decision cost for a principal with 10 attached policies of 20 statements each (wildcard
//! actions and resources, conditions, a few denies and policy variables), plus parse+compile
//! cost. Run: `cargo bench -p oxiam-policy --bench evaluate -- --quick`.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use oxiam_policy::{CompiledPolicy, Context, PolicyKind, PolicySet, Principal, Request, Value, compile, evaluate};
use serde_json::{Value as J, json};

const ACCT: &str = "111122223333";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const SERVICES: [&str; 10] = [
    "s3",
    "ec2",
    "iam",
    "sqs",
    "dynamodb",
    "lambda",
    "kms",
    "sns",
    "logs",
    "cloudwatch",
];

/// Statement `j` of policy `i`: every shape an attached policy commonly has.
fn statement(i: usize, j: usize) -> J {
    let svc = SERVICES[(i + j) % SERVICES.len()];
    let action = match j % 5 {
        0 => json!(format!("{svc}:Get*")),
        1 => json!([format!("{svc}:List*"), format!("{svc}:Describe*")]),
        2 => json!(format!("{svc}:*")),
        3 => json!([format!("{svc}:Put{j}Item"), format!("{svc}:Update?{i}")]),
        _ => json!(format!("{svc}:*Tag*")),
    };
    let resource = match (j % 4, svc) {
        (0, _) => json!("*"),
        (1, "iam") => json!(format!("arn:aws:iam::{ACCT}:role/thing-{i}-{j}/*")),
        (1, "s3") => json!(format!("arn:aws:s3:::thing-{i}-{j}/*")),
        (1, _) => json!(format!("arn:aws:{svc}:*:{ACCT}:thing-{i}-{j}/*")),
        (2, _) => json!([
            format!("arn:aws:s3:::bucket-{i}-{j}/*"),
            format!("arn:aws:s3:::bucket-{i}-{j}")
        ]),
        (_, "iam") => json!(format!("arn:aws:iam::{ACCT}:user/home/${{aws:username}}")),
        (_, "s3") => json!(format!("arn:aws:s3:::home-{i}/${{aws:username}}/*")),
        _ => json!(format!("arn:aws:{svc}:us-east-1:{ACCT}:home/${{aws:username}}/*")),
    };
    let condition = match j % 6 {
        0 => Some(json!({"StringEquals": {"aws:PrincipalTag/team": ["red", "green"]}})),
        1 => Some(json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}})),
        2 => Some(
            json!({"Bool": {"aws:SecureTransport": "true"}, "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        ),
        3 => Some(json!({"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}})),
        _ => None,
    };
    let effect = if j % 9 == 8 { "Deny" } else { "Allow" };
    let mut s = json!({"Sid": format!("S{i}x{j}"), "Effect": effect, "Action": action, "Resource": resource});
    if let Some(c) = condition {
        s["Condition"] = c;
    }
    s
}

fn policies() -> Vec<Arc<CompiledPolicy>> {
    (0..10)
        .map(|i| {
            let mut statements: Vec<J> = (0..20).map(|j| statement(i, j)).collect();
            if i == 5 {
                // The grant the "allowed" request finds, late in the list.
                statements[19] = json!({"Sid": "Grant", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::data/home/${aws:username}/*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:SecureTransport": "true"}}});
            }
            if i == 7 {
                statements[3] = json!({"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::data/secret/*"});
            }
            let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
            Arc::new(compile(format!("arn:aws:iam::{ACCT}:policy/p{i}"), &doc, PolicyKind::Identity).unwrap())
        })
        .collect()
}

fn context() -> Context {
    Context::builder()
        .set("aws:username", "alice")
        .set("aws:userid", "AIDACKCEVSQ6C2EXAMPLE")
        .set("aws:PrincipalArn", USER)
        .set("aws:PrincipalAccount", ACCT)
        .set("aws:PrincipalType", "User")
        .set("aws:PrincipalTag/team", "blue")
        .set("aws:SourceIp", Ipv4Addr::new(203, 0, 113, 7))
        .set("aws:SecureTransport", true)
        .set("aws:CurrentTime", Value::date_epoch_seconds(1_700_000_000))
        .set("aws:EpochTime", 1_700_000_000i64)
        .set("aws:RequestedRegion", "us-east-1")
        .build()
}

fn bench(c: &mut Criterion) {
    let identity = policies();
    let ctx = context();
    let principal = Principal::user(USER, ACCT);
    let set = PolicySet {
        identity: &identity,
        ..PolicySet::default()
    };
    let decide = |action: &'static str, resource: &'static str, want: bool| {
        let req = Request::new(principal, action, resource, &ctx);
        assert_eq!(evaluate(&req, &set).allowed, want, "{action} {resource}");
        move || evaluate(black_box(&req), black_box(&set))
    };

    let mut g = c.benchmark_group("evaluate/10x20");
    let f = decide("s3:GetObject", "arn:aws:s3:::data/home/alice/report.csv", true);
    g.bench_function("allowed (s3, variables + conditions)", |b| b.iter(&f));
    let f = decide("s3:DeleteObject", "arn:aws:s3:::elsewhere/key", false);
    g.bench_function("implicit deny (s3, every candidate checked)", |b| b.iter(&f));
    let f = decide("organizations:ListAccounts", "*", false);
    g.bench_function("implicit deny (service not in any policy)", |b| b.iter(&f));
    let f = decide("s3:GetObject", "arn:aws:s3:::data/secret/key", false);
    g.bench_function("explicit deny (s3)", |b| b.iter(&f));
    let f = decide("ec2:DescribeInstances", "*", true);
    g.bench_function("allowed (ec2, wildcard action)", |b| b.iter(&f));
    g.finish();

    let doc =
        json!({"Version": "2012-10-17", "Statement": (0..20).map(|j| statement(3, j)).collect::<Vec<_>>()}).to_string();
    c.bench_function("parse+compile/20 statements", |b| {
        b.iter(|| compile("p", black_box(&doc), PolicyKind::Identity).unwrap())
    });
    c.bench_function("context/11 keys", |b| b.iter(context));
}

criterion_group!(benches, bench);
criterion_main!(benches);
