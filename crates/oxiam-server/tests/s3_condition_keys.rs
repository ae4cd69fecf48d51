//! Every condition key a served S3 operation can carry reaches the policy engine.
//!
//! For each S3 operation oxiam serves, each IAM action it is authorized as, and each key
//! AWS's Service Authorization Reference lists for that action, a user whose policy allows
//! everything but denies the action on a condition over the key sends the request twice:
//! once where the condition holds (refused) and once where it does not (not refused). Keys
//! the request sets (a header, a query parameter, its tags) are varied in the request; keys
//! that describe how it was sent (its signature, the bucket's account) are varied in the
//! policy. A key no request can carry is listed in `NOT_CARRIED` with its reason, and
//! docs/differences.md says the same. Dedicated tests follow for the attacks the keys stop:
//! a replayed signature, an unsigned payload.

use crate::common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use common::raw::{Reply, s3_presigned, s3_send};
use common::{ACCOUNT, ROOT_KEY, ROOT_SECRET, TestServer};

/// Keys AWS lists for an action that no request of a served operation can carry, and why.
/// (`*` as the operation: every operation.)
const NOT_CARRIED: &[(&str, &str, &str)] = &[
    ("*", "s3:TlsVersion", "the server speaks plain HTTP"),
    ("*", "s3:AccessGrantsInstanceArn", "S3 Access Grants are not served"),
    ("*", "s3:AccessPointNetworkOrigin", "access points are not served"),
    ("*", "s3:AccessPointTag/${TagKey}", "access points are not served"),
    ("*", "s3:DataAccessPointAccount", "access points are not served"),
    ("*", "s3:DataAccessPointArn", "access points are not served"),
    (
        "*",
        "s3:BucketTag/${TagKey}",
        "bucket tags are kept (PutBucketTagging) but not yet carried into authorization",
    ),
    (
        "*",
        "aws:ResourceTag/${TagKey}",
        "bucket tags are kept but not yet carried into authorization; objects have s3:ExistingObjectTag",
    ),
    (
        "*",
        "s3:object-lock-remaining-retention-days",
        "object lock is not served",
    ),
    ("*", "s3:object-lock-event-hold", "object lock is not served"),
    (
        "*",
        "s3:object-lock-event-hold-duration-days",
        "object lock is not served",
    ),
    (
        "CreateBucket",
        "s3:locationconstraint",
        "it is in the body, which is read after authorization",
    ),
    (
        "CreateBucket",
        "aws:RequestTag/${TagKey}",
        "bucket tags are in the body, which is read after authorization",
    ),
    (
        "CreateBucket",
        "aws:TagKeys",
        "bucket tags are in the body, which is read after authorization",
    ),
    (
        "PutObject",
        "s3:x-amz-copy-source",
        "a PUT with x-amz-copy-source is CopyObject",
    ),
    (
        "UploadPart",
        "s3:x-amz-copy-source",
        "a part PUT with x-amz-copy-source is UploadPartCopy",
    ),
];

/// Served operations this table does not send, and why.
const NOT_SENT: &[(&str, &str)] = &[(
    "PostObject",
    "a browser form upload carries its keys in its form fields (actions::post_form_headers), checked through the same Gate::authorize_key as DeleteObjects' keys; a_form_uploads_fields_are_its_keys sends one",
)];

/// What the root creates before the request: nothing, bucket `bkt{N}`, also object
/// `bkt{N}/k`, or also a multipart upload of `bkt{N}/up` (its id replaces `{U}`).
#[derive(Clone, Copy, PartialEq)]
enum Setup {
    Nothing,
    Bucket,
    Object,
    Upload,
}

/// One request: `{N}` is a fresh number, `{V}` the value under test, `{I}` a version id.
#[derive(Clone)]
struct Request {
    method: &'static str,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn req(method: &'static str, target: &str) -> Request {
    Request {
        method,
        target: target.to_owned(),
        headers: Vec::new(),
        body: String::new(),
    }
}

impl Request {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
}

/// One key of one action of one operation.
struct Row {
    op: &'static str,
    action: &'static str,
    key: String,
    setup: Setup,
    request: Request,
    operator: &'static str,
    /// (value in the Deny's condition, value the request sends) where the Deny applies.
    refused: (String, &'static str),
    /// The same where it does not.
    allowed: (String, &'static str),
    /// Whether the request is presigned (else signed in its headers).
    presigned: bool,
}

/// Each served operation, as each action it is authorized as.
fn bases() -> Vec<(&'static str, &'static str, Setup, Request)> {
    use Setup::{Bucket, Nothing, Object, Upload};
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b{{N}}/*"}}]}}"#
    );
    let delete = "<Delete><Object><Key>k</Key></Object></Delete>";
    let delete_version = "<Delete><Object><Key>k</Key><VersionId>{I}</VersionId></Object></Delete>";
    let complete =
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"0\"</ETag></Part></CompleteMultipartUpload>";
    let part = "/bkt{N}/up?partNumber=1&uploadId={U}";
    let versioning = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag></TagSet></Tagging>";
    vec![
        ("ListBuckets", "s3:ListAllMyBuckets", Bucket, req("GET", "/")),
        ("CreateBucket", "s3:CreateBucket", Nothing, req("PUT", "/new{N}")),
        ("DeleteBucket", "s3:DeleteBucket", Bucket, req("DELETE", "/bkt{N}")),
        ("HeadBucket", "s3:ListBucket", Bucket, req("HEAD", "/bkt{N}")),
        (
            "GetBucketLocation",
            "s3:GetBucketLocation",
            Bucket,
            req("GET", "/bkt{N}?location"),
        ),
        ("ListObjects", "s3:ListBucket", Bucket, req("GET", "/bkt{N}")),
        (
            "ListObjectVersions",
            "s3:ListBucketVersions",
            Bucket,
            req("GET", "/bkt{N}?versions"),
        ),
        (
            "ListObjectsV2",
            "s3:ListBucket",
            Bucket,
            req("GET", "/bkt{N}?list-type=2"),
        ),
        (
            "PutBucketPolicy",
            "s3:PutBucketPolicy",
            Bucket,
            req("PUT", "/bkt{N}?policy").body(&policy),
        ),
        (
            "GetBucketPolicy",
            "s3:GetBucketPolicy",
            Bucket,
            req("GET", "/bkt{N}?policy"),
        ),
        (
            "DeleteBucketPolicy",
            "s3:DeleteBucketPolicy",
            Bucket,
            req("DELETE", "/bkt{N}?policy"),
        ),
        (
            "GetBucketVersioning",
            "s3:GetBucketVersioning",
            Bucket,
            req("GET", "/bkt{N}?versioning"),
        ),
        ("PutObject", "s3:PutObject", Bucket, req("PUT", "/bkt{N}/k").body("x")),
        ("GetObject", "s3:GetObject", Object, req("GET", "/bkt{N}/k")),
        (
            "GetObject",
            "s3:GetObjectVersion",
            Object,
            req("GET", "/bkt{N}/k?versionId={I}"),
        ),
        ("HeadObject", "s3:GetObject", Object, req("HEAD", "/bkt{N}/k")),
        (
            "HeadObject",
            "s3:GetObjectVersion",
            Object,
            req("HEAD", "/bkt{N}/k?versionId={I}"),
        ),
        ("DeleteObject", "s3:DeleteObject", Object, req("DELETE", "/bkt{N}/k")),
        (
            "DeleteObject",
            "s3:DeleteObjectVersion",
            Object,
            req("DELETE", "/bkt{N}/k?versionId={I}"),
        ),
        (
            "DeleteObjects",
            "s3:DeleteObject",
            Object,
            req("POST", "/bkt{N}?delete").body(delete),
        ),
        (
            "DeleteObjects",
            "s3:DeleteObjectVersion",
            Object,
            req("POST", "/bkt{N}?delete").body(delete_version),
        ),
        (
            "CopyObject",
            "s3:GetObject",
            Object,
            req("PUT", "/bkt{N}/k2").header("x-amz-copy-source", "/bkt{N}/k"),
        ),
        (
            "CopyObject",
            "s3:GetObjectVersion",
            Object,
            req("PUT", "/bkt{N}/k2").header("x-amz-copy-source", "/bkt{N}/k?versionId={I}"),
        ),
        (
            "CopyObject",
            "s3:PutObject",
            Object,
            req("PUT", "/bkt{N}/k2").header("x-amz-copy-source", "/bkt{N}/k"),
        ),
        (
            "CreateMultipartUpload",
            "s3:PutObject",
            Bucket,
            req("POST", "/bkt{N}/k?uploads"),
        ),
        ("UploadPart", "s3:PutObject", Upload, req("PUT", part).body("x")),
        (
            "UploadPartCopy",
            "s3:GetObject",
            Upload,
            req("PUT", part).header("x-amz-copy-source", "/bkt{N}/k"),
        ),
        (
            "UploadPartCopy",
            "s3:GetObjectVersion",
            Upload,
            req("PUT", part).header("x-amz-copy-source", "/bkt{N}/k?versionId={I}"),
        ),
        (
            "UploadPartCopy",
            "s3:PutObject",
            Upload,
            req("PUT", part).header("x-amz-copy-source", "/bkt{N}/k"),
        ),
        (
            "ListParts",
            "s3:ListMultipartUploadParts",
            Upload,
            req("GET", "/bkt{N}/up?uploadId={U}"),
        ),
        (
            "CompleteMultipartUpload",
            "s3:PutObject",
            Upload,
            req("POST", "/bkt{N}/up?uploadId={U}").body(complete),
        ),
        (
            "AbortMultipartUpload",
            "s3:AbortMultipartUpload",
            Upload,
            req("DELETE", "/bkt{N}/up?uploadId={U}"),
        ),
        (
            "ListMultipartUploads",
            "s3:ListBucketMultipartUploads",
            Upload,
            req("GET", "/bkt{N}?uploads"),
        ),
        (
            "PutBucketVersioning",
            "s3:PutBucketVersioning",
            Bucket,
            req("PUT", "/bkt{N}?versioning").body(versioning),
        ),
        (
            "PutBucketTagging",
            "s3:PutBucketTagging",
            Bucket,
            req("PUT", "/bkt{N}?tagging").body(tagging),
        ),
        (
            "GetBucketTagging",
            "s3:GetBucketTagging",
            Bucket,
            req("GET", "/bkt{N}?tagging"),
        ),
        (
            "DeleteBucketTagging",
            "s3:PutBucketTagging",
            Bucket,
            req("DELETE", "/bkt{N}?tagging"),
        ),
        (
            "PutObjectTagging",
            "s3:PutObjectTagging",
            Object,
            req("PUT", "/bkt{N}/k?tagging").body(tagging),
        ),
        (
            "PutObjectTagging",
            "s3:PutObjectVersionTagging",
            Object,
            req("PUT", "/bkt{N}/k?tagging&versionId={I}").body(tagging),
        ),
        (
            "GetObjectTagging",
            "s3:GetObjectTagging",
            Object,
            req("GET", "/bkt{N}/k?tagging"),
        ),
        (
            "GetObjectTagging",
            "s3:GetObjectVersionTagging",
            Object,
            req("GET", "/bkt{N}/k?tagging&versionId={I}"),
        ),
        (
            "DeleteObjectTagging",
            "s3:DeleteObjectTagging",
            Object,
            req("DELETE", "/bkt{N}/k?tagging"),
        ),
        (
            "DeleteObjectTagging",
            "s3:DeleteObjectVersionTagging",
            Object,
            req("DELETE", "/bkt{N}/k?tagging&versionId={I}"),
        ),
    ]
}

fn excused(op: &str, pattern: &str) -> bool {
    NOT_CARRIED
        .iter()
        .any(|(o, k, _)| (*o == "*" || *o == op) && *k == pattern)
}

/// The rows of one key of one base request, or none if the key is not one this table
/// knows how to vary (the coverage test reports it).
fn rows_for(op: &'static str, action: &'static str, setup: Setup, base: &Request, pattern: &str) -> Vec<Row> {
    let row = |key: &str,
               request: Request,
               operator: &'static str,
               refused: (&str, &'static str),
               allowed: (&str, &'static str)| Row {
        op,
        action,
        key: key.to_owned(),
        setup,
        request,
        operator,
        refused: (refused.0.to_owned(), refused.1),
        allowed: (allowed.0.to_owned(), allowed.1),
        presigned: false,
    };
    let presigned = |row: Row| Row { presigned: true, ..row };
    let same = base.clone();
    let with_query = |name: &str| {
        let mut r = base.clone();
        let sep = if r.target.contains('?') { '&' } else { '?' };
        r.target = format!("{}{sep}{name}={{V}}", r.target);
        r
    };
    let with_header = |name: &str, value: &str| base.clone().header(name, value);
    // PutObjectTagging's tags are its body's (S3 reads them there), others' x-amz-tagging.
    let with_tags = |key: &str, value: &str| {
        if op == "PutObjectTagging" {
            let mut r = base.clone();
            r.body = format!("<Tagging><TagSet><Tag><Key>{key}</Key><Value>{value}</Value></Tag></TagSet></Tagging>");
            r
        } else {
            with_header("x-amz-tagging", &format!("{key}={value}"))
        }
    };
    let lower = pattern.to_ascii_lowercase();
    let name = lower.strip_prefix("s3:").unwrap_or("");
    match name {
        // How the request was sent: the policy varies.
        "authtype" => vec![
            row(
                pattern,
                same.clone(),
                "StringEquals",
                ("REST-HEADER", ""),
                ("REST-QUERY-STRING", ""),
            ),
            presigned(row(
                pattern,
                same,
                "StringEquals",
                ("REST-QUERY-STRING", ""),
                ("REST-HEADER", ""),
            )),
        ],
        "signatureversion" => vec![row(
            pattern,
            same,
            "StringEquals",
            ("AWS4-HMAC-SHA256", ""),
            ("AWS", ""),
        )],
        // Presigned ten seconds ago: in milliseconds, over 5000 and under 60000.
        "signatureage" => vec![presigned(row(
            pattern,
            same,
            "NumericGreaterThan",
            ("5000", ""),
            ("60000", ""),
        ))],
        "x-amz-content-sha256" => vec![
            row(
                pattern,
                with_header("x-amz-content-sha256", "{V}"),
                "StringEquals",
                ("UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD"),
                ("UNSIGNED-PAYLOAD", ""),
            ),
            presigned(row(pattern, same, "StringEquals", ("UNSIGNED-PAYLOAD", ""), ("x", ""))),
        ],
        "resourceaccount" => vec![row(pattern, same, "StringEquals", (ACCOUNT, ""), ("999999999999", ""))],
        "objectcreationoperation" => {
            let creates = matches!(op, "PutObject" | "CopyObject" | "CompleteMultipartUpload");
            let (yes, no) = if creates { ("true", "false") } else { ("false", "true") };
            vec![row(pattern, same, "Bool", (yes, ""), (no, ""))]
        }
        // What the request sets: the request varies.
        "prefix" | "delimiter" => vec![row(pattern, with_query(name), "StringEquals", ("a", "a"), ("a", "b"))],
        "max-keys" => vec![row(pattern, with_query(name), "NumericEquals", ("5", "5"), ("5", "6"))],
        "versionid"
            if base.target.contains("{I}")
                || base.body.contains("{I}")
                || base.headers.iter().any(|(_, v)| v.contains("{I}")) =>
        {
            let mut r = base.clone();
            r.target = r.target.replace("{I}", "{V}");
            r.body = r.body.replace("{I}", "{V}");
            for (_, v) in &mut r.headers {
                *v = v.replace("{I}", "{V}");
            }
            vec![row(pattern, r, "StringEquals", ("v1", "v1"), ("v1", "v2"))]
        }
        "x-amz-copy-source" if base.headers.iter().any(|(n, _)| n == "x-amz-copy-source") => {
            let mut r = base.clone();
            r.headers.retain(|(n, _)| n != "x-amz-copy-source");
            let r = r.header("x-amz-copy-source", "{V}");
            // Compared as `bucket/key`, however the client wrote it.
            vec![
                row(
                    pattern,
                    r.clone(),
                    "StringEquals",
                    ("bkt{N}/k", "/bkt{N}/k"),
                    ("bkt{N}/k", "/bkt{N}/other"),
                ),
                row(
                    pattern,
                    r.clone(),
                    "StringLike",
                    ("bkt{N}/secret/*", "%2Fbkt{N}/secret/x"),
                    ("bkt{N}/secret/*", "%2Fbkt{N}/public/x"),
                ),
                row(
                    pattern,
                    r,
                    "StringLike",
                    ("bkt{N}/secret/*", "bkt{N}/secre%74/x"),
                    ("bkt{N}/secret/*", "bkt{N}/public/x"),
                ),
            ]
        }
        "requestobjecttagkeys" => vec![row(
            pattern,
            with_tags("{V}", "x"),
            "ForAnyValue:StringEquals",
            ("admin", "admin"),
            ("admin", "team"),
        )],
        // The tags of the object the setup put (team=red): the request does not vary.
        _ if oxiam_catalogue::key_matches("s3:ExistingObjectTag/<key>", pattern)
            && matches!(setup, Setup::Object | Setup::Upload) =>
        {
            vec![row(
                "s3:ExistingObjectTag/team",
                same.clone(),
                "StringEquals",
                ("red", ""),
                ("blue", ""),
            )]
        }
        _ if oxiam_catalogue::key_matches("s3:RequestObjectTag/<key>", pattern) => vec![row(
            "s3:RequestObjectTag/team",
            with_tags("team", "{V}"),
            "StringEquals",
            ("red", "red"),
            ("red", "blue"),
        )],
        h if h.starts_with("x-amz-") || h == "if-match" || h == "if-none-match" => {
            vec![row(
                pattern,
                with_header(h, "{V}"),
                "StringEquals",
                ("red", "red"),
                ("red", "blue"),
            )]
        }
        h if h.starts_with("object-lock-") => vec![row(
            pattern,
            with_header(&format!("x-amz-{h}"), "{V}"),
            "StringEquals",
            ("red", "red"),
            ("red", "blue"),
        )],
        _ => Vec::new(),
    }
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (op, action, setup, base) in bases() {
        let entry = oxiam_catalogue::action_named(action).unwrap_or_else(|| panic!("{action} is not in the catalogue"));
        for &pattern in entry.all_condition_keys() {
            if !excused(op, pattern) {
                rows.extend(rows_for(op, action, setup, &base, pattern));
            }
        }
    }
    rows
}

/// Every (served operation, action, catalogue key) is tested by a row or listed as not
/// carried, and every served operation is sent or excused.
#[test]
fn every_key_of_every_served_s3_operation_has_a_row() {
    let rows = rows();
    let bases = bases();
    let mut missing = BTreeSet::new();
    for op in oxiam_s3::SERVED_OPERATIONS {
        if NOT_SENT.iter().any(|(o, _)| o == op) {
            continue;
        }
        let actions: Vec<_> = bases.iter().filter(|b| b.0 == *op).map(|b| b.1).collect();
        if actions.is_empty() {
            missing.insert(format!("{op}: no request in the table"));
        }
        for action in actions {
            let entry = oxiam_catalogue::action_named(action).unwrap();
            for &pattern in entry.all_condition_keys() {
                let tested = rows
                    .iter()
                    .any(|r| r.op == *op && r.action == action && oxiam_catalogue::key_matches(pattern, &r.key));
                if !tested && !excused(op, pattern) {
                    missing.insert(format!("{op} as {action}: {pattern}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "keys with no row and no reason: {missing:#?}");
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

fn deny(action: &str, operator: &str, key: &str, value: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Sid":"DenyUnderTest","Effect":"Deny","Action":"{action}","Resource":"*","Condition":{{"{operator}":{{"{key}":"{value}"}}}}}}]}}"#
    )
}

async fn put_policy(server: &TestServer, user: &str, document: &str) {
    server
        .root_iam()
        .put_user_policy()
        .user_name(user)
        .policy_name("under-test")
        .policy_document(document)
        .send()
        .await
        .unwrap();
}

const ROOT: (&str, &str) = (ROOT_KEY, ROOT_SECRET);

const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

async fn root(server: &TestServer, method: &str, target: &str, body: &str) -> Reply {
    let reply = s3_send(server, ROOT, method, target, &[], body, SystemTime::now()).await;
    assert!(reply.status < 300, "{method} {target}: {} {}", reply.status, reply.body);
    reply
}

/// What the root sets up; the multipart upload's id, if one was started. The upload is
/// started by the caller: the object store lets only the key that started an upload go on
/// with it.
async fn set_up(server: &TestServer, caller: (&str, &str), setup: Setup, n: &str) -> String {
    if setup == Setup::Nothing {
        return String::new();
    }
    root(server, "PUT", &format!("/bkt{n}"), "").await;
    if matches!(setup, Setup::Object | Setup::Upload) {
        root(server, "PUT", &format!("/bkt{n}/k"), "x").await;
        // Tagged, for the actions that carry s3:ExistingObjectTag/….
        let tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag></TagSet></Tagging>";
        root(server, "PUT", &format!("/bkt{n}/k?tagging"), tagging).await;
    }
    if setup == Setup::Upload {
        put_policy(server, "subject", ALLOW_ALL).await;
        let target = format!("/bkt{n}/up?uploads");
        let reply = s3_send(server, caller, "POST", &target, &[], "", SystemTime::now()).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        return reply
            .body
            .split("<UploadId>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .unwrap()
            .to_owned();
    }
    String::new()
}

/// Denies the row's action when its key has `deny_value`, then sends its request with
/// `sent` as the caller. Whether it was refused: a 403, or (DeleteObjects) a per-key
/// AccessDenied.
async fn refused(server: &TestServer, caller: (&str, &str), row: &Row, deny_value: &str, sent: &str) -> (bool, Reply) {
    let n = SERIAL.fetch_add(1, Ordering::Relaxed).to_string();
    let fill = |s: &str| s.replace("{N}", &n);
    let upload = set_up(server, caller, row.setup, &n).await;
    put_policy(
        server,
        "subject",
        &deny(row.action, row.operator, &row.key, &fill(deny_value)),
    )
    .await;
    let fill_request = |s: &str| {
        s.replace("{N}", &n)
            .replace("{U}", &upload)
            // The version of an object put in a bucket never versioned.
            .replace("{I}", "null")
            .replace("{V}", &fill(sent))
    };
    // A header whose value under test is empty is not sent.
    let headers: Vec<_> = row
        .request
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), fill_request(v)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let (target, body) = (fill_request(&row.request.target), fill_request(&row.request.body));
    let reply = if row.presigned {
        let ten_seconds_ago = SystemTime::now() - Duration::from_secs(10);
        let request = (row.request.method, target.as_str());
        s3_presigned(server, caller, request, &headers, &[], &body, ten_seconds_ago).await
    } else {
        s3_send(
            server,
            caller,
            row.request.method,
            &target,
            &headers,
            &body,
            SystemTime::now(),
        )
        .await
    };
    (reply.status == 403 || reply.code() == "AccessDenied", reply)
}

async fn user(server: &TestServer, name: &str) -> (String, String) {
    let iam = server.root_iam();
    iam.create_user().user_name(name).send().await.unwrap();
    let key = iam.create_access_key().user_name(name).send().await.unwrap();
    let key = key.access_key().unwrap();
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

async fn a_deny_on_each_key_blocks_only_where_it_holds(server: &TestServer) {
    let (key, secret) = user(server, "subject").await;
    let caller = (key.as_str(), secret.as_str());
    let mut failures = Vec::new();
    for row in rows() {
        let how = if row.presigned { "presigned" } else { "signed" };
        let what = format!("{} {how} as {} with {} {}", row.op, row.action, row.key, row.operator);
        let (was_refused, reply) = refused(server, caller, &row, &row.refused.0, row.refused.1).await;
        if !was_refused {
            failures.push(format!(
                "{what} {:?} sending {:?}: not refused: {} {}",
                row.refused.0, row.refused.1, reply.status, reply.body
            ));
        } else if row.request.method != "HEAD"
            && !reply.message().contains("explicit deny")
            && row.op != "DeleteObjects"
        {
            failures.push(format!(
                "{what}: the message does not name the explicit deny: {}",
                reply.body
            ));
        }
        let (was_refused, reply) = refused(server, caller, &row, &row.allowed.0, row.allowed.1).await;
        if was_refused {
            failures.push(format!(
                "{what} {:?} sending {:?}: refused: {} {}",
                row.allowed.0, row.allowed.1, reply.status, reply.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A presigned URL used long after it was signed is refused by a policy that bounds its
/// age (the S3 User Guide's example), and a fresh one is not; a header its holder adds
/// cannot make it look younger.
async fn an_old_presigned_url_is_refused_by_its_age(server: &TestServer) {
    let (key, secret) = user(server, "replayer").await;
    put_policy(
        server,
        "replayer",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NumericGreaterThan":{"s3:signatureAge":"60000"}}}]}"#,
    )
    .await;
    root(server, "PUT", "/replayed", "").await;
    let two_minutes_ago = SystemTime::now() - Duration::from_secs(120);
    let caller = (key.as_str(), secret.as_str());
    let get = ("GET", "/replayed");
    let old = s3_presigned(server, caller, get, &[], &[], "", two_minutes_ago).await;
    assert_eq!((old.status, old.code()), (403, "AccessDenied"), "{}", old.body);
    // An added X-Amz-Date header is not signed: refused before any key is read.
    let now = [("x-amz-date".to_owned(), "20991231T000000Z".to_owned())];
    let dressed = s3_presigned(server, caller, get, &[], &now, "", two_minutes_ago).await;
    assert_eq!(
        (dressed.status, dressed.code()),
        (403, "AccessDenied"),
        "{}",
        dressed.body
    );
    let fresh = s3_presigned(server, caller, get, &[], &[], "", SystemTime::now()).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
}

/// Whoever holds a presigned URL cannot add an `x-amz-*` header to it (an ACL, a tag, a
/// storage class, a payload hash): S3 refuses headers the signature does not cover, and so
/// does oxiam.
async fn a_presigned_url_takes_no_added_headers(server: &TestServer) {
    let (key, secret) = user(server, "holder").await;
    put_policy(server, "holder", ALLOW_ALL).await;
    root(server, "PUT", "/handed-out", "").await;
    let caller = (key.as_str(), secret.as_str());
    let now = SystemTime::now();
    let put = ("PUT", "/handed-out/k");
    let acl = [("x-amz-acl".to_owned(), "public-read".to_owned())];
    let added = s3_presigned(server, caller, put, &[], &acl, "x", now).await;
    assert_eq!((added.status, added.code()), (403, "AccessDenied"), "{}", added.body);
    assert!(added.message().contains("not signed: x-amz-acl"), "{}", added.body);
    // Nor can it slip one past the check by naming it in an Authorization header beside the
    // URL's own signature (s3s verifies the URL's, and would never read the header's):
    // refused as S3 refuses two auth mechanisms.
    let fake = format!(
        "AWS4-HMAC-SHA256 Credential={key}/20261203/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-acl, Signature={}",
        "0".repeat(64)
    );
    let smuggled = [acl[0].clone(), ("authorization".to_owned(), fake)];
    let added = s3_presigned(server, caller, put, &[], &smuggled, "x", now).await;
    assert_eq!((added.status, added.code()), (400, "InvalidArgument"), "{}", added.body);
    assert!(
        added.message().starts_with("Only one auth mechanism allowed"),
        "{}",
        added.body
    );
    let signed = s3_presigned(server, caller, put, &acl, &[], "x", now).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
}

/// A bucket that requires signed payloads refuses an upload whose payload is unsigned.
async fn an_unsigned_payload_is_refused_where_signed_ones_are_required(server: &TestServer) {
    let (key, secret) = user(server, "uploader").await;
    put_policy(
        server,
        "uploader",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-content-sha256":"UNSIGNED-PAYLOAD"}}}]}"#,
    )
    .await;
    root(server, "PUT", "/signed", "").await;
    let caller = (key.as_str(), secret.as_str());
    let unsigned = [("x-amz-content-sha256".to_owned(), "UNSIGNED-PAYLOAD".to_owned())];
    let reply = s3_send(server, caller, "PUT", "/signed/k", &unsigned, "x", SystemTime::now()).await;
    assert_eq!((reply.status, reply.code()), (403, "AccessDenied"), "{}", reply.body);
    let reply = s3_send(server, caller, "PUT", "/signed/k", &[], "x", SystemTime::now()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

on_both_backends!(
    a_deny_on_each_key_blocks_only_where_it_holds,
    an_old_presigned_url_is_refused_by_its_age,
    a_presigned_url_takes_no_added_headers,
    a_form_uploads_fields_are_its_keys,
    an_unsigned_payload_is_refused_where_signed_ones_are_required
);

/// A browser form upload (PostObject, SigV4 POST policy) signed at `time`: its fields are
/// `fields` plus those the signature needs, its file `x`.
async fn post_form(
    server: &TestServer,
    (key_id, secret): (&str, &str),
    bucket: &str,
    fields: &[(&str, &str)],
    time: SystemTime,
) -> Reply {
    use base64::Engine as _;
    let stamp = amz_date(time);
    let credential = format!("{key_id}/{}/us-east-1/s3/aws4_request", &stamp[..8]);
    let mut conditions = vec![
        format!(r#"{{"bucket":"{bucket}"}}"#),
        r#"{"x-amz-algorithm":"AWS4-HMAC-SHA256"}"#.to_owned(),
        format!(r#"{{"x-amz-credential":"{credential}"}}"#),
        format!(r#"{{"x-amz-date":"{stamp}"}}"#),
    ];
    for (name, _) in fields {
        conditions.push(format!(r#"["starts-with","${name}",""]"#));
    }
    let policy = format!(
        r#"{{"expiration":"2099-01-01T00:00:00Z","conditions":[{}]}}"#,
        conditions.join(",")
    );
    let policy = base64::engine::general_purpose::STANDARD.encode(policy);
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, time, "us-east-1", "s3");
    let signature = aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes());
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.extend([
        ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
        ("x-amz-credential", credential.as_str()),
        ("x-amz-date", stamp.as_str()),
        ("policy", policy.as_str()),
        ("x-amz-signature", signature.as_str()),
    ]);
    let boundary = "oxiamformboundary";
    let mut body = String::new();
    for (name, value) in all {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--{boundary}--\r\n"
    ));
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let headers = [
        ("host".to_owned(), host),
        (
            "content-type".to_owned(),
            format!("multipart/form-data; boundary={boundary}"),
        ),
    ];
    common::raw::send(server, "POST", &format!("/{bucket}"), &headers, &body).await
}

/// `X-Amz-Date` of `time`.
fn amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    oxiam_sigv4::format_amz_date(i64::try_from(secs).unwrap())
}

/// A form upload's condition keys come from its form fields, which are what the object
/// store reads: a Deny on the canned ACL refuses a form that asks for it.
async fn a_form_uploads_fields_are_its_keys(server: &TestServer) {
    let (key, secret) = user(server, "browser").await;
    put_policy(
        server,
        "browser",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}},
        {"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:authType":"REST-HEADER"}}}]}"#,
    )
    .await;
    root(server, "PUT", "/forms", "").await;
    let caller = (key.as_str(), secret.as_str());
    let now = SystemTime::now();
    let public = post_form(
        server,
        caller,
        "forms",
        &[("key", "public"), ("x-amz-acl", "public-read")],
        now,
    )
    .await;
    assert_eq!((public.status, public.code()), (403, "AccessDenied"), "{}", public.body);
    let private = post_form(
        server,
        caller,
        "forms",
        &[("key", "private"), ("x-amz-acl", "private")],
        now,
    )
    .await;
    assert!(private.status < 300, "{} {}", private.status, private.body);
    let got = s3_send(server, ROOT, "GET", "/forms/private", &[], "", now).await;
    assert_eq!((got.status, got.body.as_str()), (200, "x"));
    let got = s3_send(server, ROOT, "GET", "/forms/public", &[], "", now).await;
    assert_eq!(got.status, 404, "the refused upload wrote nothing");
}
