//! Condition operators, set operators and policy variables, table-driven from the AWS
//! documentation. Each case: (condition block, request context, does the condition hold).

use std::net::IpAddr;
use std::sync::Arc;

use oxiam_policy::{Context, PolicyKind, PolicySet, Principal, Request, Value, compile, evaluate};
use serde_json::{Value as J, json};

const USER: &str = "arn:aws:iam::111122223333:user/alice";

/// Whether an Allow statement guarded by `condition` applies to a request with `ctx`.
fn holds_with(condition: &J, resource_pattern: &str, resource: &str, ctx: &Context) -> bool {
    let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": resource_pattern, "Condition": condition}});
    let p = compile("p", &doc.to_string(), PolicyKind::Identity).unwrap_or_else(|e| panic!("{doc}: {e}"));
    let identity = [Arc::new(p)];
    let req = Request::new(Principal::user(USER, "111122223333"), "s3:GetObject", resource, ctx);
    evaluate(
        &req,
        &PolicySet {
            identity: &identity,
            ..PolicySet::default()
        },
    )
    .allowed
}

fn holds(condition: &J, ctx: &Context) -> bool {
    holds_with(condition, "*", "arn:aws:s3:::bucket/key", ctx)
}

fn run(table: &str, cases: &[(J, Context, bool)]) {
    for (i, (cond, ctx, want)) in cases.iter().enumerate() {
        assert_eq!(holds(cond, ctx), *want, "{table} case {i}: {cond} with {ctx:?}");
    }
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    pairs.iter().fold(Context::builder(), |b, (k, v)| b.set(k, *v)).build()
}

fn multi(key: &str, values: &[&str]) -> Context {
    Context::builder().set_all(key, values.iter().copied()).build()
}

fn none() -> Context {
    Context::new()
}

// AWS IAM User Guide, "IAM JSON policy elements: Condition operators" > "String condition
// operators".
#[test]
fn string_operators() {
    let tag = "aws:PrincipalTag/job-category";
    run(
        "string",
        &[
            (
                json!({"StringEquals": {tag: "iamuser-admin"}}),
                ctx(&[(tag, "iamuser-admin")]),
                true,
            ),
            (
                json!({"StringEquals": {tag: "iamuser-admin"}}),
                ctx(&[(tag, "IAMUSER-ADMIN")]),
                false,
            ),
            (json!({"StringEquals": {tag: "iamuser-admin"}}), none(), false),
            // Wildcards are literal in StringEquals.
            (
                json!({"StringEquals": {tag: "iamuser-*"}}),
                ctx(&[(tag, "iamuser-admin")]),
                false,
            ),
            (
                json!({"StringEquals": {tag: "iamuser-*"}}),
                ctx(&[(tag, "iamuser-*")]),
                true,
            ),
            (
                json!({"StringNotEquals": {tag: "iamuser-admin"}}),
                ctx(&[(tag, "other")]),
                true,
            ),
            (
                json!({"StringNotEquals": {tag: "iamuser-admin"}}),
                ctx(&[(tag, "iamuser-admin")]),
                false,
            ),
            // A negated operator on a missing key is true (the box at the top of the page).
            (json!({"StringNotEquals": {tag: "iamuser-admin"}}), none(), true),
            (
                json!({"StringEqualsIgnoreCase": {tag: "IAMUser-Admin"}}),
                ctx(&[(tag, "iamuser-admin")]),
                true,
            ),
            (
                json!({"StringEqualsIgnoreCase": {tag: "IAMUser-Admin"}}),
                ctx(&[(tag, "iamuser-adm")]),
                false,
            ),
            (
                json!({"StringNotEqualsIgnoreCase": {tag: "IAMUser-Admin"}}),
                ctx(&[(tag, "iamuser-admin")]),
                false,
            ),
            (
                json!({"StringNotEqualsIgnoreCase": {tag: "IAMUser-Admin"}}),
                ctx(&[(tag, "x")]),
                true,
            ),
            (
                json!({"StringNotEqualsIgnoreCase": {tag: "IAMUser-Admin"}}),
                none(),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}),
                ctx(&[("s3:prefix", "home/alice/x")]),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}),
                ctx(&[("s3:prefix", "")]),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": ["", "home/", "home/*"]}}),
                ctx(&[("s3:prefix", "work/")]),
                false,
            ),
            (
                json!({"StringLike": {"s3:prefix": "home/?"}}),
                ctx(&[("s3:prefix", "home/a")]),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": "home/?"}}),
                ctx(&[("s3:prefix", "home/ab")]),
                false,
            ),
            // StringLike is case-sensitive.
            (
                json!({"StringLike": {"s3:prefix": "Home/*"}}),
                ctx(&[("s3:prefix", "home/a")]),
                false,
            ),
            (
                json!({"StringNotLike": {"s3:prefix": "home/*"}}),
                ctx(&[("s3:prefix", "work/a")]),
                true,
            ),
            (
                json!({"StringNotLike": {"s3:prefix": "home/*"}}),
                ctx(&[("s3:prefix", "home/a")]),
                false,
            ),
            (json!({"StringNotLike": {"s3:prefix": "home/*"}}), none(), true),
            // Condition keys are case-insensitive.
            (
                json!({"StringEquals": {"AWS:PRINCIPALTAG/JOB-CATEGORY": "x"}}),
                ctx(&[(tag, "x")]),
                true,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "Numeric condition operators".
#[test]
fn numeric_operators() {
    let k = "s3:max-keys";
    let n = |v: &str| ctx(&[(k, v)]);
    run(
        "numeric",
        &[
            (json!({"NumericLessThanEquals": {k: "10"}}), n("10"), true),
            (json!({"NumericLessThanEquals": {k: "10"}}), n("9"), true),
            (json!({"NumericLessThanEquals": {k: "10"}}), n("11"), false),
            (json!({"NumericLessThanEquals": {k: "10"}}), none(), false),
            (json!({"NumericLessThanEquals": {k: 10}}), n("10"), true),
            (json!({"NumericEquals": {k: "10"}}), n("10.0"), true),
            (json!({"NumericEquals": {k: "10"}}), n("abc"), false),
            (json!({"NumericNotEquals": {k: "10"}}), n("11"), true),
            (json!({"NumericNotEquals": {k: "10"}}), n("10"), false),
            (json!({"NumericNotEquals": {k: "10"}}), none(), true),
            (json!({"NumericLessThan": {k: "10"}}), n("10"), false),
            (json!({"NumericLessThan": {k: "10"}}), n("-1"), true),
            (json!({"NumericGreaterThan": {k: "10"}}), n("10.5"), true),
            (json!({"NumericGreaterThan": {k: "10"}}), n("10"), false),
            (json!({"NumericGreaterThanEquals": {k: "10"}}), n("10"), true),
            (json!({"NumericGreaterThanEquals": {k: "2.5"}}), n("2"), false),
            // Several values: OR.
            (json!({"NumericEquals": {k: ["1", "2"]}}), n("2"), true),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "Date condition operators": ISO 8601 or epoch.
#[test]
fn date_operators() {
    let k = "aws:TokenIssueTime";
    let at = |v: &str| ctx(&[(k, v)]);
    let epoch = |s: i64| Context::builder().set(k, Value::date_epoch_seconds(s)).build();
    // 2020-01-01T00:00:01Z == 1577836801
    run(
        "date",
        &[
            (
                json!({"DateGreaterThan": {k: "2020-01-01T00:00:01Z"}}),
                at("2020-06-30T00:00:00Z"),
                true,
            ),
            (
                json!({"DateGreaterThan": {k: "2020-01-01T00:00:01Z"}}),
                at("2019-06-30T00:00:00Z"),
                false,
            ),
            (json!({"DateGreaterThan": {k: "2020-01-01T00:00:01Z"}}), none(), false),
            (
                json!({"DateGreaterThan": {k: "1577836801"}}),
                epoch(1_577_836_802),
                true,
            ),
            (
                json!({"DateGreaterThan": {k: "2020-01-01T00:00:01Z"}}),
                at("1577836802"),
                true,
            ),
            (
                json!({"DateEquals": {k: "2020-01-01T00:00:01Z"}}),
                epoch(1_577_836_801),
                true,
            ),
            (
                json!({"DateEquals": {k: "2020-01-01T02:00:01+02:00"}}),
                at("2020-01-01T00:00:01Z"),
                true,
            ),
            (
                json!({"DateNotEquals": {k: "2020-01-01T00:00:01Z"}}),
                at("2020-01-01T00:00:02Z"),
                true,
            ),
            (json!({"DateNotEquals": {k: "2020-01-01T00:00:01Z"}}), none(), true),
            (
                json!({"DateLessThan": {k: "2020-01-01"}}),
                at("2019-12-31T23:59:59Z"),
                true,
            ),
            (
                json!({"DateLessThan": {k: "2020-01-01"}}),
                at("2020-01-01T00:00:00Z"),
                false,
            ),
            (
                json!({"DateLessThanEquals": {k: "2020-01-01"}}),
                at("2020-01-01T00:00:00Z"),
                true,
            ),
            (
                json!({"DateGreaterThanEquals": {k: "2020-01-01T00:00:00Z"}}),
                at("2020-01-01T00:00:00.000Z"),
                true,
            ),
            (
                json!({"DateGreaterThan": {k: "2020-01-01T00:00:00Z"}}),
                at("not a date"),
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "Boolean condition operators" (and the
// MultiFactorAuthPresent / SecureTransport examples of "AWS global condition context keys").
#[test]
fn bool_operator() {
    let k = "aws:SecureTransport";
    let b = |v: bool| Context::builder().set(k, v).build();
    run(
        "bool",
        &[
            (json!({"Bool": {k: "true"}}), b(true), true),
            (json!({"Bool": {k: "true"}}), b(false), false),
            (json!({"Bool": {k: "false"}}), b(false), true),
            (json!({"Bool": {k: true}}), b(true), true),
            (json!({"Bool": {k: "true"}}), none(), false),
            (json!({"Bool": {k: "true"}}), ctx(&[(k, "TRUE")]), true),
            (json!({"Bool": {k: "true"}}), ctx(&[(k, "yes")]), false),
            // "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}: absent (long-term keys) → true.
            (
                json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
                none(),
                true,
            ),
            (
                json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
                Context::builder().set("aws:MultiFactorAuthPresent", true).build(),
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "Binary condition operators".
#[test]
fn binary_operator() {
    let k = "key";
    run(
        "binary",
        &[
            (
                json!({"BinaryEquals": {k: "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
                Context::builder().set(k, Value::binary(b"BinaryValueInBase64")).build(),
                true,
            ),
            (
                json!({"BinaryEquals": {k: "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
                ctx(&[(k, "QmluYXJ5VmFsdWVJbkJhc2U2NA")]),
                true,
            ),
            (
                json!({"BinaryEquals": {k: "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
                Context::builder().set(k, Value::binary(b"other")).build(),
                false,
            ),
            (
                json!({"BinaryEquals": {k: "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}),
                none(),
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "IP address condition operators".
#[test]
fn ip_operators() {
    let k = "aws:SourceIp";
    let ip = |s: &str| Context::builder().set(k, s.parse::<IpAddr>().unwrap()).build();
    run(
        "ip",
        &[
            (json!({"IpAddress": {k: "203.0.113.0/24"}}), ip("203.0.113.10"), true),
            (json!({"IpAddress": {k: "203.0.113.0/24"}}), ip("203.0.114.10"), false),
            (json!({"IpAddress": {k: "203.0.113.0/24"}}), none(), false),
            (
                json!({"IpAddress": {k: ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}),
                ip("2001:db8:1234:5678::42"),
                true,
            ),
            (json!({"IpAddress": {k: "203.0.113.7"}}), ip("203.0.113.7"), true),
            (json!({"IpAddress": {k: "203.0.113.7"}}), ip("203.0.113.8"), false),
            (
                json!({"IpAddress": {k: "203.0.113.0/24"}}),
                ctx(&[(k, "203.0.113.10")]),
                true,
            ),
            (json!({"NotIpAddress": {k: "192.0.2.0/24"}}), ip("203.0.113.10"), true),
            (json!({"NotIpAddress": {k: "192.0.2.0/24"}}), ip("192.0.2.10"), false),
            // Via a VPC endpoint aws:SourceIp is absent: NotIpAddress is then true.
            (json!({"NotIpAddress": {k: "192.0.2.0/24"}}), none(), true),
            (
                json!({"NotIpAddress": {k: ["192.0.2.0/24", "203.0.113.0/24"]}}),
                ip("203.0.113.10"),
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "Amazon Resource Name (ARN) condition operators".
#[test]
fn arn_operators() {
    let k = "aws:SourceArn";
    let a = |v: &str| ctx(&[(k, v)]);
    let alarm = "arn:aws:cloudwatch:us-east-2:111122223333:alarm:alarm-name";
    // The page's example: `*` in a segment cannot swallow colons under ArnLike; it can under StringLike.
    let tricky = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
    run(
        "arn",
        &[
            (json!({"ArnEquals": {k: alarm}}), a(alarm), true),
            (
                json!({"ArnEquals": {k: alarm}}),
                a("arn:aws:cloudwatch:us-east-2:111122223333:alarm:other"),
                false,
            ),
            (
                json!({"ArnEquals": {k: "arn:aws:cloudwatch:*:111122223333:alarm:*"}}),
                a(alarm),
                true,
            ),
            (
                json!({"ArnLike": {k: "arn:aws:cloudwatch:*:111122223333:alarm:*"}}),
                a(alarm),
                true,
            ),
            (
                json!({"ArnLike": {k: "arn:aws:cloudwatch:*:444455556666:alarm:*"}}),
                a(alarm),
                false,
            ),
            (
                json!({"ArnLike": {k: "arn:aws:someservice:*:111122223333:finance/*"}}),
                a(tricky),
                false,
            ),
            (
                json!({"StringLike": {k: "arn:aws:someservice:*:111122223333:finance/*"}}),
                a(tricky),
                true,
            ),
            (json!({"ArnLike": {k: alarm}}), a("not-an-arn"), false),
            (json!({"ArnLike": {k: alarm}}), none(), false),
            (json!({"ArnNotEquals": {k: alarm}}), a(alarm), false),
            (
                json!({"ArnNotEquals": {k: alarm}}),
                a("arn:aws:cloudwatch:us-east-2:111122223333:alarm:x"),
                true,
            ),
            (json!({"ArnNotLike": {k: "arn:aws:cloudwatch:*"}}), none(), true),
            (
                json!({"ArnNotLike": {k: "arn:aws:cloudwatch:*:*:*:*"}}),
                a(alarm),
                false,
            ),
            // ARN matching is case-sensitive.
            (
                json!({"ArnEquals": {k: "arn:aws:cloudwatch:us-east-2:111122223333:alarm:Alarm-Name"}}),
                a(alarm),
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Condition operators" > "...IfExists condition operators" and
// "Condition operator to check existence of condition keys" (Null).
#[test]
fn if_exists_and_null() {
    let k = "ec2:InstanceType";
    run(
        "ifexists",
        &[
            (
                json!({"StringLikeIfExists": {k: ["t1.*", "t2.*", "m3.*"]}}),
                ctx(&[(k, "t2.micro")]),
                true,
            ),
            (
                json!({"StringLikeIfExists": {k: ["t1.*", "t2.*", "m3.*"]}}),
                ctx(&[(k, "c5.large")]),
                false,
            ),
            (
                json!({"StringLikeIfExists": {k: ["t1.*", "t2.*", "m3.*"]}}),
                none(),
                true,
            ),
            (json!({"StringNotEqualsIfExists": {k: "t2.micro"}}), none(), true),
            (
                json!({"StringNotEqualsIfExists": {k: "t2.micro"}}),
                ctx(&[(k, "t2.micro")]),
                false,
            ),
            (json!({"NumericLessThanIfExists": {"s3:max-keys": "10"}}), none(), true),
            (
                json!({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}),
                none(),
                true,
            ),
            (
                json!({"DateLessThanIfExists": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}}),
                none(),
                true,
            ),
            (
                json!({"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::*"}}),
                none(),
                true,
            ),
            (json!({"Null": {"aws:TokenIssueTime": "true"}}), none(), true),
            (
                json!({"Null": {"aws:TokenIssueTime": "true"}}),
                ctx(&[("aws:TokenIssueTime", "2020-01-01T00:00:00Z")]),
                false,
            ),
            (
                json!({"Null": {"aws:TokenIssueTime": "false"}}),
                ctx(&[("aws:TokenIssueTime", "2020-01-01T00:00:00Z")]),
                true,
            ),
            (json!({"Null": {"aws:TokenIssueTime": "false"}}), none(), false),
            // A key present with an empty value set is null.
            (
                json!({"Null": {"aws:TagKeys": "true"}}),
                multi("aws:TagKeys", &[]),
                true,
            ),
            (
                json!({"Null": {"aws:TagKeys": false}}),
                multi("aws:TagKeys", &["a"]),
                true,
            ),
        ],
    );
}

// AWS IAM User Guide, "Creating a condition with multiple context keys or values": operators
// AND, keys under one operator AND, values of one key OR; negated operators NOR their values.
#[test]
fn combining_keys_and_values() {
    let both = ctx(&[("aws:PrincipalTag/role", "audit"), ("aws:PrincipalTag/team", "blue")]);
    run(
        "combining",
        &[
            (
                json!({"StringEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}),
                both.clone(),
                true,
            ),
            (
                json!({"StringEquals": {"aws:PrincipalTag/role": ["audit", "security"], "aws:PrincipalTag/team": "red"}}),
                both.clone(),
                false,
            ),
            (
                json!({"StringEquals": {"aws:PrincipalTag/role": "audit"}, "StringLike": {"aws:PrincipalTag/team": "bl*"}}),
                both.clone(),
                true,
            ),
            (
                json!({"StringEquals": {"aws:PrincipalTag/role": "audit"}, "StringLike": {"aws:PrincipalTag/team": "r*"}}),
                both.clone(),
                false,
            ),
            (
                json!({"StringNotEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}),
                both.clone(),
                false,
            ),
            (
                json!({"StringNotEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}),
                ctx(&[("aws:PrincipalTag/role", "dev")]),
                true,
            ),
            (
                json!({"StringNotLike": {"aws:PrincipalTag/role": ["a*", "s*"]}}),
                both,
                false,
            ),
        ],
    );
}

// AWS IAM User Guide, "Single-valued vs. multivalued context keys" > "Set operators for
// multivalued context keys", and "Multivalued context key examples" (the
// `ForAllValues:StringNotLike` / `aws:TagKeys` "key1*" table).
#[test]
fn set_operators() {
    let k = "aws:TagKeys";
    let not_like_key1 = json!({"ForAllValues:StringNotLike": {k: "key1*"}});
    run(
        "set",
        &[
            // The documented table (Match / No match).
            (not_like_key1.clone(), multi(k, &["key1:legal"]), false),
            (not_like_key1.clone(), multi(k, &["key1:hr", "key1:personnel"]), false),
            (not_like_key1.clone(), multi(k, &["key2:audit"]), true),
            (not_like_key1.clone(), none(), true),
            // ForAllValues: every request value must match one policy value; true when missing/empty.
            (
                json!({"ForAllValues:StringLike": {k: ["PostDateTime", "Message", "Tags"]}}),
                multi(k, &["PostDateTime", "Message"]),
                true,
            ),
            (
                json!({"ForAllValues:StringLike": {k: ["PostDateTime", "Message", "Tags"]}}),
                multi(k, &["PostDateTime", "UserName"]),
                false,
            ),
            (json!({"ForAllValues:StringEquals": {k: ["a"]}}), multi(k, &[]), true),
            (json!({"ForAllValues:StringEquals": {k: ["a"]}}), none(), true),
            // ForAnyValue: at least one request value matches; false when missing/empty.
            (
                json!({"ForAnyValue:StringLike": {k: ["ID", "PostDateTime"]}}),
                multi(k, &["UserName", "Message", "PostDateTime"]),
                true,
            ),
            (
                json!({"ForAnyValue:StringLike": {k: ["ID", "PostDateTime"]}}),
                multi(k, &["UserName"]),
                false,
            ),
            (json!({"ForAnyValue:StringEquals": {k: "a"}}), none(), false),
            (json!({"ForAnyValue:StringEquals": {k: "a"}}), multi(k, &[]), false),
            (json!({"ForAnyValue:StringNotEquals": {k: "a"}}), none(), false),
            (
                json!({"ForAnyValue:StringNotEquals": {k: ["a", "b"]}}),
                multi(k, &["a", "c"]),
                true,
            ),
            (
                json!({"ForAnyValue:StringNotEquals": {k: ["a", "b"]}}),
                multi(k, &["a", "b"]),
                false,
            ),
            (
                json!({"ForAllValues:StringNotEquals": {k: ["a", "b"]}}),
                multi(k, &["c", "d"]),
                true,
            ),
            (
                json!({"ForAllValues:StringNotEquals": {k: ["a", "b"]}}),
                multi(k, &["c", "a"]),
                false,
            ),
            // IfExists with a set operator: the set operator decides (see
            // `set_operators_with_if_exists` below; this case once expected `true`).
            (json!({"ForAnyValue:StringEqualsIfExists": {k: "a"}}), none(), false),
            // A multivalued key without a set operator: any value matching is enough.
            (json!({"StringEquals": {k: "b"}}), multi(k, &["a", "b"]), true),
            (json!({"StringNotEquals": {k: "b"}}), multi(k, &["a", "b"]), false),
        ],
    );
}

/// Where a cell of [`set_operators_with_if_exists`] comes from.
#[derive(Debug, Clone, Copy)]
enum Src {
    /// The set operator's documented definition ("Condition operators" > "Condition
    /// operators for multivalued context keys"; "Single-valued vs. multivalued context keys").
    Set,
    /// The set operator's definition, and `IfExists` (true when the key "is not present")
    /// gives the same answer.
    Both,
    /// The set operator's definition; `IfExists` does not apply because the key is present
    /// (null, or with values: "If the condition key is present … process the key as
    /// specified in the policy").
    SetKeyPresent,
    /// Undocumented: the definitions disagree (`ForAnyValue` false, `IfExists` true). oxiam
    /// lets the set operator decide, as real IAM is reported to; docs/differences.md.
    Decided,
}

// Every set operator × IfExists × {missing key, empty (null) list, one value that matches,
// one that does not, one of each}, positive and negated, policy value "a".
//
// AWS IAM User Guide, "IAM JSON policy elements: Condition operators" (`ForAllValues` "returns
// true if there are no context keys in the request or if the context key value resolves to a
// null dataset, such as an empty string"; `...IfExists`: "If the key is not present, evaluate
// the condition element as true") and "Single-valued vs. multivalued context keys"
// (`ForAnyValue`: "For no matching context key or a null dataset, the condition returns
// false"). For a negated operator a request value "matches" when it matches none of the
// policy values (the guide's `ForAllValues:StringNotLike` table).
#[test]
fn set_operators_with_if_exists() {
    let k = "aws:TagKeys";
    let requests: [(&str, Context); 5] = [
        ("missing", none()),
        ("empty", multi(k, &[])),
        ("one match", multi(k, &["a"])),
        ("no match", multi(k, &["b"])),
        ("one of each", multi(k, &["a", "b"])),
    ];
    use Src::*;
    #[rustfmt::skip]
    let table: [(&str, [(bool, Src); 5]); 8] = [
        //                                     missing          empty                    "a"                    "b"                    "a","b"
        ("ForAllValues:StringEquals",         [(true, Set),     (true, Set),             (true, Set),           (false, Set),          (false, Set)]),
        ("ForAllValues:StringEqualsIfExists", [(true, Both),    (true, SetKeyPresent),   (true, SetKeyPresent), (false, SetKeyPresent),(false, SetKeyPresent)]),
        ("ForAnyValue:StringEquals",          [(false, Set),    (false, Set),            (true, Set),           (false, Set),          (true, Set)]),
        ("ForAnyValue:StringEqualsIfExists",  [(false, Decided),(false, SetKeyPresent),  (true, SetKeyPresent), (false, SetKeyPresent),(true, SetKeyPresent)]),
        ("ForAllValues:StringNotEquals",      [(true, Set),     (true, Set),             (false, Set),          (true, Set),           (false, Set)]),
        ("ForAllValues:StringNotEqualsIfExists",[(true, Both),  (true, SetKeyPresent),   (false, SetKeyPresent),(true, SetKeyPresent), (false, SetKeyPresent)]),
        ("ForAnyValue:StringNotEquals",       [(false, Set),    (false, Set),            (false, Set),          (true, Set),           (true, Set)]),
        ("ForAnyValue:StringNotEqualsIfExists",[(false, Decided),(false, SetKeyPresent), (false, SetKeyPresent),(true, SetKeyPresent), (true, SetKeyPresent)]),
    ];
    for (operator, row) in table {
        for ((label, ctx), (want, src)) in requests.iter().zip(row) {
            let cond = json!({operator: {k: "a"}});
            assert_eq!(holds(&cond, ctx), want, "{operator} × {label} ({src:?})");
        }
    }
    // The operator family does not matter: the same for ARN and numeric set operators.
    for (operator, value) in [
        ("ForAnyValue:ArnLikeIfExists", "arn:aws:s3:::b/*"),
        ("ForAnyValue:NumericLessThanIfExists", "5"),
        ("ForAnyValue:StringLikeIfExists", "a*"),
    ] {
        let cond = json!({operator: {k: value}});
        assert!(!holds(&cond, &none()), "{operator} × missing");
        assert!(!holds(&cond, &multi(k, &[])), "{operator} × empty");
    }
    // Without a set operator IfExists still makes a missing or null key true.
    assert!(holds(&json!({"StringEqualsIfExists": {k: "a"}}), &none()));
    assert!(holds(&json!({"StringEqualsIfExists": {k: "a"}}), &multi(k, &[])));
}

// AWS IAM User Guide, "IAM policy elements: Variables and tags".
#[test]
fn policy_variables() {
    run(
        "variables",
        &[
            (
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                ctx(&[("aws:username", "alice"), ("s3:prefix", "home/alice/x")]),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}}),
                ctx(&[("aws:username", "bob"), ("s3:prefix", "home/alice/x")]),
                false,
            ),
            // Variable key names are case-insensitive.
            (
                json!({"StringEquals": {"s3:prefix": "${AWS:UserName}"}}),
                ctx(&[("aws:username", "alice"), ("s3:prefix", "alice")]),
                true,
            ),
            // No value: StringEquals/StringLike do not match, the inverted operators do.
            (
                json!({"StringEquals": {"s3:prefix": "${aws:username}"}}),
                ctx(&[("s3:prefix", "")]),
                false,
            ),
            (
                json!({"StringLike": {"s3:prefix": "${aws:username}*"}}),
                ctx(&[("s3:prefix", "x")]),
                false,
            ),
            (
                json!({"StringNotEquals": {"s3:prefix": "${aws:username}"}}),
                ctx(&[("s3:prefix", "x")]),
                true,
            ),
            (
                json!({"StringNotLike": {"s3:prefix": "${aws:username}*"}}),
                ctx(&[("s3:prefix", "x")]),
                true,
            ),
            // Defaults.
            (
                json!({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'company-wide'}"}}),
                ctx(&[("s3:prefix", "company-wide")]),
                true,
            ),
            (
                json!({"StringEquals": {"s3:prefix": "${aws:PrincipalTag/team, 'company-wide'}"}}),
                ctx(&[("s3:prefix", "blue"), ("aws:PrincipalTag/team", "blue")]),
                true,
            ),
            // Special characters are literal, not wildcards.
            (
                json!({"StringLike": {"s3:prefix": "a${*}b"}}),
                ctx(&[("s3:prefix", "a*b")]),
                true,
            ),
            (
                json!({"StringLike": {"s3:prefix": "a${*}b"}}),
                ctx(&[("s3:prefix", "axxb")]),
                false,
            ),
            (
                json!({"StringEquals": {"s3:prefix": "${$}{x}${?}"}}),
                ctx(&[("s3:prefix", "${x}?")]),
                true,
            ),
            // A substituted value is literal even if it contains wildcard characters.
            (
                json!({"StringLike": {"s3:prefix": "${aws:username}"}}),
                ctx(&[("aws:username", "*"), ("s3:prefix", "anything")]),
                false,
            ),
            // A multivalued key cannot be a variable.
            (
                json!({"StringEquals": {"s3:prefix": "${aws:TagKeys}"}}),
                Context::builder()
                    .set_all("aws:TagKeys", ["a", "b"])
                    .set("s3:prefix", "a")
                    .build(),
                false,
            ),
            // ARN operators take variables too.
            (
                json!({"ArnEquals": {"aws:SourceArn": "arn:aws:iam::111122223333:user/${aws:username}"}}),
                ctx(&[
                    ("aws:username", "alice"),
                    ("aws:SourceArn", "arn:aws:iam::111122223333:user/alice"),
                ]),
                true,
            ),
        ],
    );

    // In Resource: only in the resource part (after the fifth colon).
    let u = ctx(&[("aws:username", "alice")]);
    assert!(holds_with(
        &json!({}),
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::bucket/alice/file",
        &u
    ));
    assert!(!holds_with(
        &json!({}),
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::bucket/bob/file",
        &u
    ));
    assert!(!holds_with(
        &json!({}),
        "arn:aws:s3:::bucket/${aws:username}/*",
        "arn:aws:s3:::bucket/alice/file",
        &none()
    ));
    assert!(holds_with(
        &json!({}),
        "arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*",
        "arn:aws:s3:::bucket/anonymous/f",
        &none()
    ));
    assert!(holds_with(
        &json!({}),
        "arn:aws:s3:::b/${aws:PrincipalTag/team}",
        "arn:aws:s3:::b/blue",
        &ctx(&[("aws:principaltag/TEAM", "blue")])
    ));
    // Not substituted before the fifth colon: the text is literal there.
    assert!(!holds_with(
        &json!({}),
        "arn:aws:sqs:${aws:username}:111122223333:q",
        "arn:aws:sqs:alice:111122223333:q",
        &u
    ));
}

// Without "Version": "2012-10-17" variables are literal text (same page, the Note).
#[test]
fn variables_need_version_2012() {
    let doc = json!({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/${aws:username}"}});
    let p = compile("p", &doc.to_string(), PolicyKind::Session).unwrap();
    let identity = [Arc::new(
        compile(
            "id",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            PolicyKind::Identity,
        )
        .unwrap(),
    )];
    let session = [Arc::new(p)];
    let c = ctx(&[("aws:username", "alice")]);
    let set = PolicySet {
        identity: &identity,
        session: Some(&session),
        ..PolicySet::default()
    };
    let principal = Principal::assumed_role(
        "arn:aws:sts::111122223333:assumed-role/R/s",
        "arn:aws:iam::111122223333:role/R",
        "111122223333",
    );
    assert!(
        !evaluate(
            &Request::new(principal, "s3:GetObject", "arn:aws:s3:::bucket/alice", &c),
            &set
        )
        .allowed
    );
    assert!(
        evaluate(
            &Request::new(principal, "s3:GetObject", "arn:aws:s3:::bucket/${aws:username}", &c),
            &set
        )
        .allowed
    );
}
