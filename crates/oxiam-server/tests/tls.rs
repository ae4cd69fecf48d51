//! TLS on the server's port (`--tls-cert`, `--tls-key`): IAM, STS and S3 answer over it,
//! a plain-HTTP request gets no HTTP answer, `aws:SecureTransport` is true over TLS (a Deny
//! on it refuses exactly what it should, on IAM and on S3), false without, and a stalled
//! handshake does not hold a stop.

use crate::common;

use std::time::SystemTime;

use aws_sigv4::http_request::SignatureLocation;
use common::raw::{Reply, s3_send, send, send_tls, signed_post};
use common::{Backend, ROOT_KEY, ROOT_SECRET, TestServer};

/// A form POST to IAM or STS signed with `key`, over TLS (or not).
async fn call(server: &TestServer, tls: bool, (key, secret): (&str, &str), body: &str, service: &str) -> Reply {
    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let (target, headers) = signed_post(
        &host,
        body,
        service,
        key,
        secret,
        SystemTime::now(),
        SignatureLocation::Headers,
    );
    if tls {
        send_tls(server, "POST", &target, &headers, body).await
    } else {
        send(server, "POST", &target, &headers, body).await
    }
}

const IAM: &str = "Version=2010-05-08";

/// A user that may do anything but list users over TLS, and anything but get itself
/// without it.
async fn user(server: &TestServer, tls: bool) -> (String, String) {
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
        {"Effect":"Deny","Action":["iam:GetUser","s3:ListBucket"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
    let encoded = common::raw::url_encode(policy);
    for body in [
        format!("Action=CreateUser&UserName=carol&{IAM}"),
        format!("Action=PutUserPolicy&UserName=carol&PolicyName=transport&PolicyDocument={encoded}&{IAM}"),
    ] {
        let reply = call(server, tls, (ROOT_KEY, ROOT_SECRET), &body, "iam").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let reply = call(
        server,
        tls,
        (ROOT_KEY, ROOT_SECRET),
        &format!("Action=CreateAccessKey&UserName=carol&{IAM}"),
        "iam",
    )
    .await;
    let field = |name: &str| {
        reply
            .body
            .split(&format!("<{name}>"))
            .nth(1)
            .and_then(|s| s.split(&format!("</{name}>")).next())
            .unwrap()
            .to_owned()
    };
    (field("AccessKeyId"), field("SecretAccessKey"))
}

async fn answers_over_tls_with_secure_transport(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let identity = call(
        &server,
        true,
        (ROOT_KEY, ROOT_SECRET),
        "Action=GetCallerIdentity&Version=2011-06-15",
        "sts",
    )
    .await;
    assert_eq!(identity.status, 200, "{}", identity.body);

    let (key, secret) = user(&server, true).await;
    let carol = (key.as_str(), secret.as_str());
    let get = call(&server, true, carol, &format!("Action=GetUser&{IAM}"), "iam").await;
    assert_eq!(
        get.status, 200,
        "a Deny on SecureTransport false spares TLS: {}",
        get.body
    );
    let list = call(&server, true, carol, &format!("Action=ListUsers&{IAM}"), "iam").await;
    assert_eq!((list.status, list.code()), (403, "AccessDenied"), "{}", list.body);

    // Plain HTTP to the TLS port is not answered in HTTP.
    let addr = server.server.as_ref().unwrap().local_addr;
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    tcp.write_all(b"GET /_oxiam/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    let _ = tcp.read_to_end(&mut raw).await;
    assert!(!raw.starts_with(b"HTTP/"), "{}", String::from_utf8_lossy(&raw));
    server.stop().await;
}

async fn s3_over_tls_carries_secure_transport(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let (key, secret) = user(&server, true).await;
    let made = s3_tls(&server, (ROOT_KEY, ROOT_SECRET), "PUT", "/tls-bucket").await;
    assert_eq!(made.status, 200, "{}", made.body);
    let listed = s3_tls(&server, (&key, &secret), "GET", "/tls-bucket").await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    server.stop().await;
}

/// Without TLS the same Deny on `aws:SecureTransport` false refuses.
async fn without_tls_secure_transport_is_false(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (key, secret) = user(&server, false).await;
    let carol = (key.as_str(), secret.as_str());
    let get = call(&server, false, carol, &format!("Action=GetUser&{IAM}"), "iam").await;
    assert_eq!((get.status, get.code()), (403, "AccessDenied"), "{}", get.body);
    let list = call(&server, false, carol, &format!("Action=ListUsers&{IAM}"), "iam").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let made = s3_send(
        &server,
        (ROOT_KEY, ROOT_SECRET),
        "PUT",
        "/plain-bucket",
        &[],
        "",
        SystemTime::now(),
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let listed = s3_send(&server, carol, "GET", "/plain-bucket", &[], "", SystemTime::now()).await;
    assert_eq!((listed.status, listed.code()), (403, "AccessDenied"), "{}", listed.body);
    server.stop().await;
}

/// An S3 request signed as the SDK signs one, sent over TLS.
async fn s3_tls(server: &TestServer, credentials: (&str, &str), method: &str, target: &str) -> Reply {
    let (target, headers) =
        common::raw::s3_signed_parts(server, credentials, (method, target), &[], "", SystemTime::now());
    send_tls(server, method, &target, &headers, "").await
}

/// A stop does not wait for a client that opened a connection and never began its
/// handshake: it is closed at once, as an idle plain connection is, not after the header
/// timeout (20 s here).
async fn a_stop_does_not_wait_for_a_stalled_handshake(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let addr = server.server.as_ref().unwrap().local_addr;
    let _stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let stopped = tokio::time::timeout(std::time::Duration::from_secs(10), server.stop()).await;
    assert!(stopped.is_ok(), "the stop waited on a handshake never begun");
}

per_backend!(
    a_stop_does_not_wait_for_a_stalled_handshake,
    answers_over_tls_with_secure_transport,
    s3_over_tls_carries_secure_transport,
    without_tls_secure_transport_is_false
);
