//! SigV2 on S3: refused by default, even with a good signature; with `--allow-sigv2`,
//! held to AWS's rules, each tried the way an attacker would: a signature made with
//! another secret, a captured request replayed after 15 minutes, a presigned URL used
//! after its Expires, an unknown key, an amz header added to a signed request, and a Deny
//! on `s3:signatureversion` that must see "AWS".
//!
//! The signatures come from `oxiam_sigv4::v2::sign`, which `oxiam-sigv4/tests/v2.rs`
//! checks against every worked example of the S3 guide.

use crate::common;

use std::time::SystemTime;

use common::raw::{Reply, s3_send, send, url_encode};
use common::{Backend, ROOT_KEY, ROOT_SECRET, TestServer};
use oxiam_sigv4::SignedRequest;
use oxiam_sigv4::v2::{V2Form, sign, string_to_sign};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

/// An HTTP date as SigV2 clients send it.
fn http_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap()
}

/// The SigV2 signature `secret` makes of a request with these headers (no query).
fn v2_signature(secret: &str, (method, path): (&str, &str), headers: &[(String, String)], form: V2Form) -> String {
    let pairs: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect();
    let request = SignedRequest {
        method,
        raw_path: path,
        raw_query: "",
        headers: &pairs,
        body: b"",
    };
    sign(secret, &string_to_sign(&request, form))
}

/// `headers` with a `Date` of `date` and the SigV2 `Authorization` header signing them.
fn v2_signed(
    (key, secret): (&str, &str),
    (method, path): (&str, &str),
    mut headers: Vec<(String, String)>,
    date: i64,
) -> Vec<(String, String)> {
    headers.push(("Date".to_owned(), http_date(date)));
    let signature = v2_signature(secret, (method, path), &headers, V2Form::Header);
    headers.push(("Authorization".to_owned(), format!("AWS {key}:{signature}")));
    headers
}

/// A request signed with SigV2 in its `Authorization` header, dated `date`, sent.
async fn v2_send(
    server: &TestServer,
    credentials: (&str, &str),
    (method, path): (&str, &str),
    headers: Vec<(String, String)>,
    body: &str,
    date: i64,
) -> Reply {
    let headers = v2_signed(credentials, (method, path), headers, date);
    send(server, method, path, &headers, body).await
}

/// A GET presigned with SigV2, good until `expires`.
fn v2_presigned(path: &str, (key, secret): (&str, &str), expires: i64) -> String {
    let signature = v2_signature(secret, ("GET", path), &[], V2Form::Presigned { expires });
    let signature = url_encode(&signature);
    format!("{path}?AWSAccessKeyId={key}&Expires={expires}&Signature={signature}")
}

const ROOT: (&str, &str) = (ROOT_KEY, ROOT_SECRET);

async fn make_bucket(server: &TestServer) {
    let created = s3_send(server, ROOT, "PUT", "/sigv2-bucket", &[], "", SystemTime::now()).await;
    assert_eq!(created.status, 200, "{}", created.body);
}

async fn refused_by_default(backend: Backend) {
    let server = TestServer::start(backend).await;
    make_bucket(&server).await;
    let reply = v2_send(&server, ROOT, ("GET", "/sigv2-bucket"), Vec::new(), "", now()).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.code(), "InvalidRequest");
    let url = v2_presigned("/sigv2-bucket", ROOT, now() + 60);
    let reply = send(&server, "GET", &url, &[], "").await;
    assert_eq!(reply.code(), "InvalidRequest", "{}", reply.body);
    server.stop().await;
}

async fn held_to_aws_rules_when_allowed(backend: Backend) {
    let server = TestServer::start_allowing_sigv2(backend).await;
    make_bucket(&server).await;
    let put = v2_send(
        &server,
        ROOT,
        ("PUT", "/sigv2-bucket/greeting"),
        vec![("Content-Type".to_owned(), "text/plain".to_owned())],
        "hello",
        now(),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    let get = v2_send(&server, ROOT, ("GET", "/sigv2-bucket/greeting"), Vec::new(), "", now()).await;
    assert_eq!((get.status, get.body.as_str()), (200, "hello"));
    // Addressed by host, the bucket is signed as if it were in the path; a signature of
    // the path as sent (no bucket) is not this request's.
    let port = server.server.as_ref().unwrap().local_addr.port();
    let host = vec![("Host".to_owned(), format!("sigv2-bucket.localhost:{port}"))];
    let by_host = v2_signed(ROOT, ("GET", "/sigv2-bucket/greeting"), host.clone(), now());
    let get = send(&server, "GET", "/greeting", &by_host, "").await;
    assert_eq!((get.status, get.body.as_str()), (200, "hello"));
    let of_the_path = v2_signed(ROOT, ("GET", "/greeting"), host, now());
    let get = send(&server, "GET", "/greeting", &of_the_path, "").await;
    assert_eq!((get.status, get.code()), (403, "SignatureDoesNotMatch"), "{}", get.body);

    // Signed with another secret.
    let forged = v2_send(
        &server,
        (ROOT_KEY, "not the secret"),
        ("GET", "/sigv2-bucket/greeting"),
        Vec::new(),
        "",
        now(),
    )
    .await;
    assert_eq!((forged.status, forged.code()), (403, "SignatureDoesNotMatch"));
    // An unknown key.
    let unknown = v2_send(
        &server,
        ("AKIAZZZZZZZZZZZZZZZZ", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("GET", "/sigv2-bucket/greeting"),
        Vec::new(),
        "",
        now(),
    )
    .await;
    assert_eq!((unknown.status, unknown.code()), (403, "InvalidAccessKeyId"));
    // A captured request replayed 16 minutes later (its Date is signed: it cannot be
    // brought up to date), or dated ahead.
    for date in [now() - 16 * 60, now() + 16 * 60] {
        let replayed = v2_send(&server, ROOT, ("GET", "/sigv2-bucket/greeting"), Vec::new(), "", date).await;
        assert_eq!(
            (replayed.status, replayed.code()),
            (403, "RequestTimeTooSkewed"),
            "{}",
            replayed.body
        );
    }
    // Within the 15 minutes, it is a request like any other.
    let late = v2_send(
        &server,
        ROOT,
        ("GET", "/sigv2-bucket/greeting"),
        Vec::new(),
        "",
        now() - 14 * 60,
    )
    .await;
    assert_eq!(late.status, 200, "{}", late.body);
    // No date at all: refused before any signature is looked at (s3s answers 400
    // InvalidRequest where S3 answers 403 AccessDenied; docs/differences.md).
    let undated = send(
        &server,
        "GET",
        "/sigv2-bucket/greeting",
        &[("Authorization".to_owned(), format!("AWS {ROOT_KEY}:AAAA"))],
        "",
    )
    .await;
    assert_eq!(
        (undated.status, undated.code()),
        (400, "InvalidRequest"),
        "{}",
        undated.body
    );

    // A header added to a signed request: every x-amz-* header is signed in SigV2.
    let mut headers = v2_signed(ROOT, ("GET", "/sigv2-bucket/greeting"), Vec::new(), now());
    headers.push(("x-amz-security-token".to_owned(), "smuggled".to_owned()));
    let smuggled = send(&server, "GET", "/sigv2-bucket/greeting", &headers, "").await;
    assert_eq!((smuggled.status, smuggled.code()), (403, "SignatureDoesNotMatch"));

    // Presigned: good until Expires, refused after.
    let url = v2_presigned("/sigv2-bucket/greeting", ROOT, now() + 60);
    let fresh = send(&server, "GET", &url, &[], "").await;
    assert_eq!((fresh.status, fresh.body.as_str()), (200, "hello"));
    let url = v2_presigned("/sigv2-bucket/greeting", ROOT, now() - 1);
    let expired = send(&server, "GET", &url, &[], "").await;
    assert_eq!(
        (expired.status, expired.code()),
        (403, "AccessDenied"),
        "{}",
        expired.body
    );
    assert!(
        expired.message().starts_with("Request has expired"),
        "{}",
        expired.message()
    );
    server.stop().await;
}

/// `s3:signatureversion` is "AWS" for SigV2: a Deny on it refuses SigV2 and nothing else.
async fn a_deny_on_the_signature_version_sees_sigv2(backend: Backend) {
    let server = TestServer::start_allowing_sigv2(backend).await;
    make_bucket(&server).await;
    let iam = server.root_iam();
    iam.create_user().user_name("legacy").send().await.unwrap();
    iam.put_user_policy()
        .user_name("legacy")
        .policy_name("v4-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"},
                {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:signatureversion":"AWS"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("legacy")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let credentials = (key.access_key_id.as_str(), key.secret_access_key.as_str());
    let v2 = v2_send(&server, credentials, ("GET", "/sigv2-bucket"), Vec::new(), "", now()).await;
    assert_eq!((v2.status, v2.code()), (403, "AccessDenied"), "{}", v2.body);
    let v4 = s3_send(&server, credentials, "GET", "/sigv2-bucket", &[], "", SystemTime::now()).await;
    assert_eq!(v4.status, 200, "{}", v4.body);
    server.stop().await;
}

/// The request of [`v2_send`], with `before` sent ahead of its Authorization header as
/// raw bytes (not text), over a plain connection; the status and body of the answer.
async fn v2_send_after(server: &TestServer, before: &[u8], date: i64) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let path = "/sigv2-bucket/greeting";
    let headers = [("Date".to_owned(), http_date(date))];
    let signature = v2_signature(ROOT_SECRET, ("GET", path), &headers, V2Form::Header);
    let mut raw = format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ndate: {}\r\nauthorization: ",
        http_date(date)
    )
    .into_bytes();
    raw.extend_from_slice(before);
    raw.extend_from_slice(format!("\r\nauthorization: AWS {ROOT_KEY}:{signature}\r\n\r\n").as_bytes());
    let addr = server.server.as_ref().unwrap().local_addr;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&raw).await.unwrap();
    let mut reply = Vec::new();
    let _ = tcp.read_to_end(&mut reply).await;
    let text = String::from_utf8_lossy(&reply).into_owned();
    (text[9..12].parse().unwrap(), text)
}

/// A captured SigV2 request replayed long after, behind a first Authorization header that
/// is not text: s3s skips such a value and would verify the second with no date check, so
/// a request with two Authorization headers, or one not text, is refused outright. Before
/// this guard it was served, even with SigV2 off.
async fn a_second_authorization_header_smuggles_nothing(backend: Backend) {
    for server in [
        TestServer::start(backend).await,
        TestServer::start_allowing_sigv2(backend).await,
    ] {
        make_bucket(&server).await;
        let put = s3_send(
            &server,
            ROOT,
            "PUT",
            "/sigv2-bucket/greeting",
            &[],
            "hello",
            SystemTime::now(),
        )
        .await;
        assert_eq!(put.status, 200, "{}", put.body);
        let (status, body) = v2_send_after(&server, &[0xff, 0xfe], now() - 3600).await;
        assert_eq!(status, 400, "{body:?}");
        assert!(body.contains("<Code>InvalidArgument</Code>"), "{body}");
        // Two headers that are both text: refused the same way.
        let (status, body) = v2_send_after(&server, b"AWS4-HMAC-SHA256 Credential=x", now()).await;
        assert_eq!(status, 400, "{body:?}");
        server.stop().await;
    }
}

/// A presigned query and an Authorization header in one request: refused as S3 refuses two
/// auth mechanisms (s3s would read the query and leave the header unchecked), so a header
/// signed with one key cannot vouch for a query naming another.
async fn the_query_signature_is_the_one_checked(backend: Backend) {
    let server = TestServer::start_allowing_sigv2(backend).await;
    make_bucket(&server).await;
    // Mallory signs the header rightly with her own key; the query names the root's.
    let iam = server.root_iam();
    iam.create_user().user_name("mallory").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("mallory")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let mallory = (key.access_key_id.as_str(), key.secret_access_key.as_str());
    let url = format!("/sigv2-bucket?AWSAccessKeyId={ROOT_KEY}&Expires=9999999999&Signature=Zm9yZ2Vk");
    let headers = v2_signed(mallory, ("GET", "/sigv2-bucket"), Vec::new(), now());
    let reply = send(&server, "GET", &url, &headers, "").await;
    assert_eq!((reply.status, reply.code()), (400, "InvalidArgument"), "{}", reply.body);
    assert!(
        reply.message().starts_with("Only one auth mechanism allowed"),
        "{}",
        reply.body
    );
    server.stop().await;
}

per_backend!(
    a_second_authorization_header_smuggles_nothing,
    the_query_signature_is_the_one_checked,
    refused_by_default,
    held_to_aws_rules_when_allowed,
    a_deny_on_the_signature_version_sees_sigv2
);
