//! The front door holds against clients that would starve it: slow and idle connections are
//! closed, the connection cap refuses the excess at once while others are served, a stalled
//! body is given up on, and a stop finishes within its grace period whatever clients do.
//! Each bound below is a liveness guard (the server must act at all), far above the limit
//! under test; speed is measured by the benchmarks, not here.

use crate::common;

use std::time::Duration;

use common::{Backend, TestServer};
use oxiam_server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(header: u64, body: u64, max: usize, grace: u64) -> Limits {
    Limits {
        header_timeout: Duration::from_secs(header),
        body_timeout: Duration::from_secs(body),
        max_connections: max,
        grace: Duration::from_secs(grace),
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.server.as_ref().unwrap().local_addr)
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// A normal request through the SDK: the server still answers.
async fn still_answers(server: &TestServer) {
    let sts = server.root_sts();
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(common::ACCOUNT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_and_slowloris_connections_do_not_starve_anyone() {
    let server = TestServer::start_with(Backend::Sqlite, limits(2, 5, 4096, 5)).await;
    let mut held = Vec::new();
    for i in 0..2000 {
        let mut stream = connect(&server).await;
        if i % 2 == 0 {
            // slowloris: a head that never ends
            stream
                .write_all(b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .await
                .unwrap();
        }
        held.push(stream);
    }
    still_answers(&server).await;
    // Every one of them is closed by the server once the header timeout passes.
    for (i, stream) in held.iter_mut().enumerate() {
        if i % 2 == 0 {
            let _ = stream.write_all(b"a").await;
        }
        let closed = read_to_close(stream, Duration::from_secs(30)).await;
        assert!(closed.is_some(), "connection {i} is still open");
    }
    still_answers(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed_at_once_and_the_rest_served() {
    let server = TestServer::start_with(Backend::Sqlite, limits(3, 5, 8, 5)).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(&server).await);
    }
    // Give the server the moment it needs to accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = connect(&server).await;
    let answer = read_to_close(&mut extra, Duration::from_secs(2)).await;
    assert_eq!(answer.as_deref(), Some(""), "the ninth connection is closed unanswered");
    // The header timeout frees the slots the idle connections held; then requests are
    // served again.
    for stream in &mut held {
        assert!(read_to_close(stream, Duration::from_secs(30)).await.is_some());
    }
    still_answers(&server).await;
    // The metrics saw it: one refused; the eight held are gone, leaving the metrics
    // request's own connection (and perhaps the last request's, still closing).
    let (_, metrics) = get(&server, "GET", "/_oxiam/metrics").await;
    assert!(metrics.contains("\noxiam_connections_refused_total 1\n"), "{metrics}");
    let open: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("oxiam_connections_open ")?.parse().ok())
        .unwrap();
    assert!((1..=2).contains(&open), "{metrics}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_given_up_on() {
    let server = TestServer::start_with(Backend::Sqlite, limits(20, 1, 64, 5)).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(15))
        .await
        .expect("the server gave up on the body");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    still_answers(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_within_the_grace_period_despite_a_half_sent_request() {
    // Timeouts far longer than the grace period: only the stop can end this connection.
    let server = TestServer::start_with(Backend::Sqlite, limits(300, 300, 64, 2)).await;
    let mut half = connect(&server).await;
    half.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .unwrap();
    let mut idle = connect(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(60), server.stop()).await;
    assert!(stopped.is_ok(), "the server did not stop");
    assert!(read_to_close(&mut idle, Duration::from_secs(5)).await.is_some());
}

async fn get(server: &TestServer, method: &str, path: &str) -> (u16, String) {
    let reply = common::raw::send(server, method, path, &[("host".to_owned(), "x".to_owned())], "").await;
    (reply.status, reply.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer_without_credentials() {
    if !common::postgres_available() {
        return;
    }
    let server = TestServer::start(Backend::Postgres).await;
    assert_eq!(get(&server, "GET", "/_oxiam/health").await, (200, "ok\n".to_owned()));
    assert_eq!(get(&server, "GET", "/_oxiam/ready").await, (200, "ready\n".to_owned()));
    assert_eq!(get(&server, "GET", "/_oxiam/nothing").await.0, 404);
    assert_eq!(get(&server, "POST", "/_oxiam/health").await.0, 405);

    // The database refuses connections: still alive, no longer ready; then ready again.
    let name = server.pg_database().unwrap().to_owned();
    let mut admin = common::admin().await;
    for sql in [
        format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
        format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    ] {
        sqlx::Executor::execute(&mut admin, sqlx::AssertSqlSafe(sql))
            .await
            .unwrap();
    }
    assert_eq!(get(&server, "GET", "/_oxiam/ready").await.0, 503);
    assert_eq!(get(&server, "GET", "/_oxiam/health").await.0, 200);
    sqlx::Executor::execute(
        &mut admin,
        sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")),
    )
    .await
    .unwrap();
    assert_eq!(get(&server, "GET", "/_oxiam/ready").await.0, 200);
    server.stop().await;
}

/// A user with no permissions at all cannot make the server read more than a bounded XML
/// body: s3s reads DeleteObjects' whole list before the keys are authorized one by one, so
/// the read itself is capped (oxiam_s3::XML_MAX_BODY_BYTES, far above AWS's 1,000 keys).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_xml_body_is_refused_after_a_bounded_read() {
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
    use aws_smithy_runtime_api::client::identity::Identity;

    let server = TestServer::start(Backend::Sqlite).await;
    let iam = server.root_iam();
    iam.create_user().user_name("nobody").send().await.unwrap();
    let key = iam.create_access_key().user_name("nobody").send().await.unwrap();
    let key = key.access_key().unwrap();
    let root_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(server.endpoint())
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                common::ROOT_KEY,
                common::ROOT_SECRET,
                None,
                None,
                "test",
            ))
            .build(),
    );
    root_s3.create_bucket().bucket("big").send().await.unwrap();

    let host = server.server.as_ref().unwrap().local_addr.to_string();
    let identity: Identity = Credentials::new(key.access_key_id(), key.secret_access_key(), None, None, "t").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("http://{host}/big?delete");
    let headers = [("host", host.as_str())];
    let signable = SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::UnsignedPayload).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let size = 32 << 20;
    let mut head =
        format!("POST /big?delete HTTP/1.1\r\nhost: {host}\r\ncontent-length: {size}\r\nconnection: close\r\n");
    for (name, value) in instructions.headers() {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");

    let stream = connect(&server).await;
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b'x'; 64 << 10];
        for _ in 0..(size / chunk.len()) {
            writer.write_all(&chunk).await?;
        }
        std::io::Result::Ok(())
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), reader.read_to_end(&mut answer))
        .await
        .expect("the server answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        (answer.starts_with("HTTP/1.1 400") && answer.contains("<Code>MaxMessageLengthExceeded</Code>"))
            || (answer.starts_with("HTTP/1.1 403") && answer.contains("<Code>AccessDenied</Code>")),
        "{answer}"
    );
    // The server answered before the client could send it all.
    let sent_all = sender.await.unwrap().is_ok();
    assert!(!sent_all, "the whole 32 MB body was read");
    server.stop().await;
}

/// Reads one response from a connection kept open: its head (lower-cased) and body.
async fn read_response(stream: &mut TcpStream) -> Option<(String, String)> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while raw.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    Some((
        head,
        String::from_utf8_lossy(&raw[head_end..head_end + length]).into_owned(),
    ))
}

/// An upload the server refuses before reading its body: botocore sends `Expect:
/// 100-continue` and holds the body back until asked, or a client sends it all at once. The
/// server answers without reading it, so the connection may not carry another request unless
/// the body was drained; the answer must then say `Connection: close`, or the client puts
/// the connection back in its pool and its next call finds it closed (a ConnectionClosedError
/// in boto3). Either the answer says so and the connection closes, or the next request on
/// it is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_sent_before_the_body_was_read_closes_the_connection_only_when_it_says_so() {
    use common::raw::{s3_send, s3_signed_parts};
    use std::time::SystemTime;

    let server = TestServer::start(Backend::Sqlite).await;
    let root = (common::ROOT_KEY, common::ROOT_SECRET);
    let made = s3_send(&server, root, "PUT", "/uploads", &[], "", SystemTime::now()).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let (key_id, secret) = server.user_with_inline_policy("nobody", None).await;
    let nobody = (key_id.as_str(), secret.as_str());

    for held_back in [true, false] {
        let body = "hello";
        let (target, headers) = s3_signed_parts(
            &server,
            nobody,
            ("PUT", "/uploads/notes.txt"),
            &[],
            body,
            SystemTime::now(),
        );
        let mut request = format!("PUT {target} HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
        for (name, value) in &headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if held_back {
            request.push_str("expect: 100-continue\r\n\r\n");
        } else {
            request.push_str("\r\n");
            request.push_str(body);
        }
        let mut stream = connect(&server).await;
        stream.write_all(request.as_bytes()).await.unwrap();
        let (head, answer) = read_response(&mut stream).await.expect("the upload was answered");
        assert!(head.starts_with("http/1.1 403"), "{head}{answer}");
        assert!(answer.contains("<Code>AccessDenied</Code>"), "{answer}");
        if head.lines().any(|line| line == "connection: close") {
            let rest = read_to_close(&mut stream, Duration::from_secs(10)).await;
            assert_eq!(rest.as_deref(), Some(""), "held back: {held_back}");
        } else {
            let host = server.server.as_ref().unwrap().local_addr;
            stream
                .write_all(format!("GET /_oxiam/health HTTP/1.1\r\nhost: {host}\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let next = read_response(&mut stream).await;
            assert!(
                next.as_ref().is_some_and(|(head, _)| head.starts_with("http/1.1 200")),
                "held back: {held_back}: the connection was closed without a word: {next:?}"
            );
        }
    }
    server.stop().await;
}

/// DeleteObjects names its keys in its body. Before that body is read, the caller must be
/// one who may delete some object of the bucket: a user with no permission there, or with
/// permission on another bucket only, is refused at once without the server waiting for a
/// byte of it; a user who may delete some keys is heard out, and each key decided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_objects_is_refused_before_the_body_to_whoever_may_delete_nothing_there() {
    use common::raw::{s3_send, s3_signed_parts};
    use std::time::SystemTime;

    let server = TestServer::start(Backend::Sqlite).await;
    let root = (common::ROOT_KEY, common::ROOT_SECRET);
    for target in ["/big", "/big/tmp/a", "/big/keep/b"] {
        let made = s3_send(&server, root, "PUT", target, &[], "", SystemTime::now()).await;
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let mut users = Vec::new();
    for (name, resource) in [
        ("nobody", None),
        ("elsewhere", Some("arn:aws:s3:::other/*")),
        ("tmp-only", Some("arn:aws:s3:::big/tmp/*")),
    ] {
        let policy = resource.map(|resource| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:DeleteObject","Resource":"{resource}"}}]}}"#
            )
        });
        let (key_id, secret) = server.user_with_inline_policy(name, policy.as_deref()).await;
        users.push((name, key_id, secret));
    }

    let body = "<Delete><Object><Key>tmp/a</Key></Object><Object><Key>keep/b</Key></Object></Delete>";
    for (name, key_id, secret) in &users {
        let (target, headers) = s3_signed_parts(
            &server,
            (key_id, secret),
            ("POST", "/big?delete"),
            &[],
            body,
            SystemTime::now(),
        );
        let mut head = format!("POST {target} HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
        for (header, value) in &headers {
            head.push_str(&format!("{header}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = connect(&server).await;
        stream.write_all(head.as_bytes()).await.unwrap();
        // The head alone: an answer now is an answer given before the body was read.
        let mut first = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut first)).await;
        if *name == "tmp-only" {
            assert!(early.is_err(), "{name} was answered before sending the keys");
            stream.write_all(body.as_bytes()).await.unwrap();
            let (head, answer) = read_response(&mut stream).await.expect("answered");
            assert!(head.starts_with("http/1.1 200"), "{head}{answer}");
            assert!(answer.contains("<Deleted><Key>tmp/a</Key></Deleted>"), "{answer}");
            assert!(
                answer.contains("<Error><Code>AccessDenied</Code><Key>keep/b</Key>"),
                "{answer}"
            );
        } else {
            let n = early
                .unwrap_or_else(|_| panic!("{name} was not refused before the body"))
                .unwrap();
            let answer = String::from_utf8_lossy(&first[..n]).into_owned();
            assert!(answer.starts_with("HTTP/1.1 403"), "{name}: {answer}");
            let rest = read_to_close(&mut stream, Duration::from_secs(10))
                .await
                .unwrap_or_default();
            assert!(rest.contains("<Code>AccessDenied</Code>"), "{name}: {answer}{rest}");
            // The first action asked answers: DeleteObject, not DeleteObjectVersion.
            assert!(
                rest.contains("perform: s3:DeleteObject on resource: &quot;arn:aws:s3:::big/&quot;"),
                "{name}: {rest}"
            );
        }
    }
    server.stop().await;
}

/// PutObjectTagging is decided with the tags in its body; before that body is read, the
/// caller must be one who may tag the object at all: a user with no permission is refused
/// at once, without the server waiting for a byte of it, and one allowed (whatever the
/// Allow's conditions) is heard out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_an_object_is_refused_before_the_body_to_whoever_may_not_tag_it() {
    use common::raw::{s3_send, s3_signed_parts};
    use std::time::SystemTime;

    let server = TestServer::start(Backend::Sqlite).await;
    let root = (common::ROOT_KEY, common::ROOT_SECRET);
    for target in ["/tags", "/tags/k"] {
        let made = s3_send(&server, root, "PUT", target, &[], "", SystemTime::now()).await;
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let conditional = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObjectTagging","Resource":"arn:aws:s3:::tags/k","Condition":{"StringEquals":{"s3:RequestObjectTag/team":"red"}}}]}"#;
    let body = "<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag></TagSet></Tagging>";
    for (name, policy) in [("untagger", None), ("red-tagger", Some(conditional))] {
        let (key_id, secret) = server.user_with_inline_policy(name, policy).await;
        let (target, headers) = s3_signed_parts(
            &server,
            (&key_id, &secret),
            ("PUT", "/tags/k?tagging"),
            &[],
            body,
            SystemTime::now(),
        );
        let mut head = format!("PUT {target} HTTP/1.1\r\ncontent-length: {}\r\n", body.len());
        for (header, value) in &headers {
            head.push_str(&format!("{header}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = connect(&server).await;
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut first = [0u8; 64];
        let early = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut first)).await;
        if policy.is_some() {
            assert!(early.is_err(), "{name} was answered before sending the tags");
            stream.write_all(body.as_bytes()).await.unwrap();
            let (head, answer) = read_response(&mut stream).await.expect("answered");
            assert!(head.starts_with("http/1.1 200"), "{head}{answer}");
        } else {
            let n = early
                .unwrap_or_else(|_| panic!("{name} was not refused before the body"))
                .unwrap();
            let answer = String::from_utf8_lossy(&first[..n]).into_owned();
            assert!(answer.starts_with("HTTP/1.1 403"), "{name}: {answer}");
        }
    }
    server.stop().await;
}

/// A request in flight when the server begins to stop is answered, and its answer says the
/// connection closes (the stop closes it next), so that no client puts it back in its pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_given_while_stopping_says_the_connection_closes() {
    let server = TestServer::start_with(Backend::Sqlite, limits(20, 20, 64, 10)).await;
    let mut stream = connect(&server).await;
    let body = "Action=ListUsers&Version=2010-05-08";
    let head = format!(
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..7]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = tokio::spawn(server.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(&body.as_bytes()[7..]).await.unwrap();
    let (head, answer) = read_response(&mut stream)
        .await
        .expect("the request in flight was answered");
    assert!(head.lines().any(|line| line == "connection: close"), "{head}{answer}");
    tokio::time::timeout(Duration::from_secs(30), stopped)
        .await
        .expect("the server stopped")
        .unwrap();
}
