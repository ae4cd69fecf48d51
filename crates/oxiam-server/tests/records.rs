//! One record per request, for IAM, STS and S3 alike: who asked, what was asked, what
//! authorization decided and by which statement, and how the request was answered. The
//! records are read from a sink the test server adds, as the audit trail and the metrics
//! will read them.

use crate::common;

use std::time::SystemTime;

use common::raw::{Reply, call, call_as, s3_send};
use common::{ACCOUNT, ROOT_KEY, ROOT_SECRET, TestServer};
use oxiam_core::authz::Outcome;
use oxiam_core::record::RequestRecord;

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"},
    {"Sid":"NoDeletingUsers","Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"},
    {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::records/secret"}]}"#;

fn iam(body: &str) -> String {
    format!("{body}&Version=2010-05-08")
}

/// The record of a Query reply (its `<RequestId>`), or of an S3 reply (`x-amz-request-id`).
fn record_of(server: &TestServer, reply: &Reply) -> RequestRecord {
    let id = reply
        .body
        .split("<RequestId>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .or_else(|| reply.header("x-amz-request-id"))
        .unwrap_or_else(|| panic!("no request id in {} {}", reply.head, reply.body))
        .to_owned();
    if let Some(header) = reply
        .header("x-amzn-RequestId")
        .or_else(|| reply.header("x-amz-request-id"))
    {
        assert_eq!(header, id, "the header and the body name the same request");
    }
    let records: Vec<RequestRecord> = server
        .records
        .all()
        .into_iter()
        .filter(|r| r.request_id == id)
        .collect();
    assert_eq!(records.len(), 1, "one record of request {id}, not {}", records.len());
    records.into_iter().next().unwrap()
}

async fn user(server: &TestServer) -> (String, String) {
    server.user_with_inline_policy("recorded", Some(POLICY)).await
}

async fn every_request_has_one_record_with_its_decision(server: &TestServer) {
    let (key, secret) = user(server).await;
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/recorded");
    let before = server.records.all().len();

    // IAM, allowed by a statement.
    let reply = call_as(server, &key, &secret, &iam("Action=GetUser&UserName=recorded"), "iam").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let r = record_of(server, &reply);
    assert_eq!((r.service, r.operation.as_deref()), ("iam", Some("GetUser")));
    assert_eq!(r.principal.as_deref(), Some(arn.as_str()));
    assert_eq!(r.access_key_id.as_deref(), Some(key.as_str()));
    assert_eq!((r.status, r.error_code.as_deref()), (200, None));
    assert!(r.source_ip.is_some_and(|ip| ip.is_loopback()));
    let d = r.decision().unwrap();
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(d.action, "iam:GetUser");
    assert_eq!(d.resource, arn);
    assert_eq!(d.decided_by, "user/recorded/p#Everything");

    // IAM, refused by a Deny statement, named.
    let reply = call_as(
        server,
        &key,
        &secret,
        &iam("Action=DeleteUser&UserName=recorded"),
        "iam",
    )
    .await;
    assert_eq!(reply.status, 403);
    let r = record_of(server, &reply);
    let d = r.decision().unwrap();
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert_eq!(d.decided_by, "user/recorded/p#NoDeletingUsers");
    assert_eq!((r.status, r.error_code.as_deref()), (403, Some("AccessDenied")));

    // STS: no permission needed.
    let reply = call_as(
        server,
        &key,
        &secret,
        "Action=GetCallerIdentity&Version=2011-06-15",
        "sts",
    )
    .await;
    let r = record_of(server, &reply);
    assert_eq!((r.service, r.operation.as_deref()), ("sts", Some("GetCallerIdentity")));
    assert_eq!(r.decision().unwrap().decided_by, "no permission required");

    // A failure that is not authorization's: the request was allowed, then answered 404.
    let reply = call(server, &iam("Action=GetUser&UserName=nobody"), "iam").await;
    let r = record_of(server, &reply);
    assert_eq!((r.status, r.error_code.as_deref()), (404, Some("NoSuchEntity")));
    assert_eq!(r.decision().unwrap().decided_by, "account root");

    // Authentication failed: nobody, nothing decided, and the key the request claimed.
    let reply = call_as(server, "AKIAIOSFODNN7NOTREAL", &secret, &iam("Action=ListUsers"), "iam").await;
    let r = record_of(server, &reply);
    assert_eq!(r.error_code.as_deref(), Some("InvalidClientTokenId"));
    assert_eq!((r.principal.as_deref(), r.decision()), (None, None));
    assert_eq!(r.access_key_id.as_deref(), Some("AKIAIOSFODNN7NOTREAL"));

    // An operation nobody has: the record names none, whatever text the client sent.
    let reply = call_as(server, &key, &secret, &iam("Action=Drop%0ATables"), "iam").await;
    let r = record_of(server, &reply);
    assert_eq!(
        (r.operation.as_deref(), r.error_code.as_deref()),
        (None, Some("InvalidAction"))
    );

    // S3: allowed, refused by name, and an error of the operation itself.
    let root = (ROOT_KEY, ROOT_SECRET);
    let now = SystemTime::now;
    assert_eq!(
        s3_send(server, root, "PUT", "/records", &[], "", now()).await.status,
        200
    );
    assert_eq!(
        s3_send(server, root, "PUT", "/records/secret", &[], "x", now())
            .await
            .status,
        200
    );
    let me = (key.as_str(), secret.as_str());
    let reply = s3_send(server, me, "PUT", "/records/open", &[], "x", now()).await;
    let r = record_of(server, &reply);
    assert_eq!((r.service, r.operation.as_deref()), ("s3", Some("PutObject")));
    assert_eq!(r.principal.as_deref(), Some(arn.as_str()));
    let d = r.decision().unwrap();
    assert_eq!(
        (d.action.as_str(), d.resource.as_str()),
        ("s3:PutObject", "arn:aws:s3:::records/open")
    );
    assert_eq!((d.outcome, r.status), (Outcome::Allowed, 200));
    let reply = s3_send(server, me, "GET", "/records/secret", &[], "", now()).await;
    let r = record_of(server, &reply);
    let d = r.decision().unwrap();
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert_eq!(d.decided_by, "user/recorded/p#NoSecrets");
    assert_eq!((r.status, r.error_code.as_deref()), (403, Some("AccessDenied")));
    let reply = s3_send(server, me, "GET", "/records/missing", &[], "", now()).await;
    let r = record_of(server, &reply);
    assert_eq!((r.status, r.error_code.as_deref()), (404, Some("NoSuchKey")));
    // s3s refuses the signature itself: the code is read back from its answer.
    let reply = s3_send(server, (&key, "not-the-secret"), "GET", "/records/open", &[], "", now()).await;
    let r = record_of(server, &reply);
    assert_eq!(
        (r.status, r.error_code.as_deref()),
        (403, Some("SignatureDoesNotMatch"))
    );

    // One record per request, no more: twelve requests since `before` was read.
    let since: Vec<String> = server.records.all()[before..]
        .iter()
        .map(|r| format!("{} {:?} {}", r.service, r.operation, r.status))
        .collect();
    assert_eq!(since.len(), 12, "{since:#?}");

    // The metrics count them, with labels oxiam chose (never the client's text).
    let host = [("host".to_owned(), "x".to_owned())];
    let metrics = common::raw::send(server, "GET", "/_oxiam/metrics", &host, "")
        .await
        .body;
    for line in [
        r#"oxiam_requests_total{service="iam",operation="GetUser",decision="Allowed",status="200"} 1"#,
        r#"oxiam_requests_total{service="iam",operation="DeleteUser",decision="ExplicitDeny",status="403"} 1"#,
        r#"oxiam_requests_total{service="s3",operation="GetObject",decision="ExplicitDeny",status="403"} 1"#,
        r#"oxiam_requests_total{service="iam",operation="unknown",decision="none",status="400"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(!metrics.contains("Drop"), "{metrics}");
    assert!(metrics.contains(r#"oxiam_request_duration_seconds_count{service="s3"}"#));
    // The front door and the store: this very request's connection is open; the pool holds
    // connections; the writes above were group-committed; on SQLite the read cache answered
    // lookups, on PostgreSQL its lease is reported (it answers once the lease holds).
    let value = |name: &str| -> Option<u64> {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    };
    assert!(value("oxiam_connections_open").is_some_and(|n| n >= 1), "{metrics}");
    assert!(value("oxiam_db_pool_connections").is_some_and(|n| n >= 1), "{metrics}");
    assert!(
        value("oxiam_group_commit_writes_count").is_some_and(|n| n >= 1),
        "{metrics}"
    );
    assert!(
        value("oxiam_group_commit_writes_sum").is_some_and(|n| n >= 1),
        "{metrics}"
    );
    let hits = value(r#"oxiam_read_cache_lookups_total{result="hit"}"#);
    if server.pg_database().is_none() {
        assert!(hits.is_some_and(|n| n >= 1), "{metrics}");
        assert!(!metrics.contains("oxiam_read_cache_lease"), "{metrics}");
    } else {
        assert!(hits.is_some(), "{metrics}");
        assert!(value("oxiam_read_cache_lease").is_some_and(|n| n <= 1), "{metrics}");
        assert!(value("oxiam_replication_writes_heard_total").is_some(), "{metrics}");
        assert!(value("oxiam_read_cache_lease_lapses_total").is_some(), "{metrics}");
    }

    // The audit trail has each of them, once.
    let ids: Vec<String> = server.records.all()[before..]
        .iter()
        .map(|r| r.request_id.clone())
        .collect();
    // Read at once: each event was written before its answer was sent.
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    for id in &ids {
        assert_eq!(trail.matches(id.as_str()).count(), 1, "{id} in\n{trail}");
    }
}

/// A request abandoned half-sent (its client went away) is still recorded, once.
async fn an_abandoned_request_is_recorded(server: &TestServer) {
    use tokio::io::AsyncWriteExt as _;
    let before = server.records.all().len();
    let addr = server.server.as_ref().unwrap().local_addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAction=List")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    drop(stream);
    let mut abandoned = Vec::new();
    for _ in 0..50 {
        abandoned = server.records.all()[before..].to_vec();
        if !abandoned.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Once: either abandoned where it waited, or answered (to nobody) when its body broke
    // off, depending on which the server noticed first.
    assert_eq!(abandoned.len(), 1, "{abandoned:?}");
    let outcome = (abandoned[0].status, abandoned[0].error_code.as_deref());
    assert!(
        matches!(outcome, (0, Some("Abandoned")) | (400, Some("ValidationError"))),
        "{outcome:?}"
    );
    // Audited too, before the sinks heard of it.
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    assert_eq!(trail.matches(abandoned[0].request_id.as_str()).count(), 1, "{trail}");
}

/// The audit event of a Query reply (its `<RequestId>`) or an S3 reply, read from the trail.
fn event_of(server: &TestServer, reply: &Reply) -> serde_json::Value {
    let id = record_of(server, reply).request_id;
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    let mut events = trail
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|e| e["requestID"] == id.as_str());
    let event = events.next().unwrap_or_else(|| panic!("no event of {id}"));
    assert!(events.next().is_none(), "one event of {id}");
    event
}

const GUARDED: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"},
    {"Sid":"NoRedTeam","Effect":"Deny","Action":"iam:CreateUser","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/team":"red"}}},
    {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::audited/secret"},
    {"Sid":"NotThatRole","Effect":"Deny","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/forbidden"}]}"#;

/// The decision of an event, its deciding statement's policy, Sid, index and condition keys.
fn decided(event: &serde_json::Value) -> (String, serde_json::Value) {
    let decision = event["oxiam"]["decision"].as_str().unwrap_or("none").to_owned();
    let verdicts = event["oxiam"]["verdicts"].as_array().unwrap();
    let deciding = verdicts
        .iter()
        .find(|v| v["decision"] != "Allowed")
        .or(verdicts.last())
        .unwrap();
    (decision, deciding["statement"].clone())
}

fn statement(sid: &str, index: u64, keys: &[&str]) -> serde_json::Value {
    serde_json::json!({"policy": "user/guarded/p", "sid": sid, "index": index, "conditionKeys": keys})
}

/// The audit trail's event of an allowed, an implicitly denied and an explicitly denied
/// request, on IAM, STS and S3: each names the statement that decided (policy, Sid, index,
/// the condition keys it tested), carries the request's parameters and, for a write, the
/// answer's elements, with every secret hidden; a role session's events name its role.
async fn the_audit_trail_says_what_was_asked_and_what_decided(server: &TestServer) {
    let guarded = server.user_with_inline_policy("guarded", Some(GUARDED)).await;
    let bare = server.user_with_inline_policy("bare", None).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    for role in ["open", "forbidden"] {
        let made = call(
            server,
            &iam(&format!(
                "Action=CreateRole&RoleName={role}&AssumeRolePolicyDocument={}",
                common::raw::url_encode(&trust)
            )),
            "iam",
        )
        .await;
        assert_eq!(made.status, 200, "{}", made.body);
    }
    let hidden = "HIDDEN_DUE_TO_SECURITY_REASONS";

    // IAM, allowed: a new key's secret is in the answer, and nowhere in the trail.
    let reply = call_as(
        server,
        &guarded.0,
        &guarded.1,
        &iam("Action=CreateAccessKey&UserName=bare"),
        "iam",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(decided(&event), ("Allowed".to_owned(), statement("Everything", 0, &[])));
    assert_eq!(event["requestParameters"], serde_json::json!({"userName": "bare"}));
    let new_key = &event["responseElements"]["accessKey"];
    assert_eq!(new_key["secretAccessKey"], hidden, "{event}");
    assert_eq!(new_key["userName"], "bare");
    assert!(reply.body.contains(new_key["accessKeyId"].as_str().unwrap()));
    let secret = oxiam_protocol::xml::element_text(&reply.body, "SecretAccessKey").unwrap();
    assert!(!std::fs::read_to_string(server.audit_path()).unwrap().contains(&secret));
    assert_eq!(event["userIdentity"]["userName"], "guarded");
    assert_eq!(event["userIdentity"]["type"], "IAMUser");
    assert!(event["userIdentity"].get("sessionContext").is_none(), "{event}");
    assert_eq!(
        (&event["readOnly"], &event["eventType"]),
        (&serde_json::json!(false), &serde_json::json!("AwsApiCall"))
    );

    // A read: its parameters, no elements (as CloudTrail).
    let reply = call_as(
        server,
        &guarded.0,
        &guarded.1,
        &iam("Action=GetUser&UserName=bare"),
        "iam",
    )
    .await;
    let event = event_of(server, &reply);
    assert_eq!(event["requestParameters"], serde_json::json!({"userName": "bare"}));
    assert_eq!(
        (&event["responseElements"], &event["readOnly"]),
        (&serde_json::Value::Null, &serde_json::json!(true))
    );

    // IAM, explicitly denied by a statement with a condition: the key it tested is named.
    let red = iam("Action=CreateUser&UserName=red&Tags.member.1.Key=team&Tags.member.1.Value=red");
    let reply = call_as(server, &guarded.0, &guarded.1, &red, "iam").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(
        decided(&event),
        (
            "ExplicitDeny".to_owned(),
            statement("NoRedTeam", 1, &["aws:RequestTag/team"])
        )
    );
    assert_eq!(
        event["requestParameters"],
        serde_json::json!({"userName": "red", "tags": [{"key": "team", "value": "red"}]})
    );
    assert_eq!(event["responseElements"], serde_json::Value::Null);
    assert_eq!(event["errorCode"], "AccessDenied");
    assert_eq!(
        event["errorMessage"].as_str(),
        oxiam_protocol::xml::element_text(&reply.body, "Message").as_deref()
    );

    // IAM, implicitly denied: no statement decided.
    let reply = call_as(server, &bare.0, &bare.1, &iam("Action=ListUsers"), "iam").await;
    let event = event_of(server, &reply);
    assert_eq!(decided(&event), ("ImplicitDeny".to_owned(), serde_json::Value::Null));
    assert_eq!(event["requestParameters"], serde_json::Value::Null);

    // STS, allowed: the session's secret is hidden; its key and the role are named.
    let assume = |role: &str| {
        format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{ACCOUNT}:role/{role}&RoleSessionName=audited"
        )
    };
    let reply = call_as(server, &guarded.0, &guarded.1, &assume("open"), "sts").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(decided(&event), ("Allowed".to_owned(), statement("Everything", 0, &[])));
    assert_eq!(
        event["requestParameters"],
        serde_json::json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/open"), "roleSessionName": "audited"})
    );
    let credentials = &event["responseElements"]["credentials"];
    assert_eq!(credentials["secretAccessKey"], hidden, "{event}");
    let session_key = oxiam_protocol::xml::element_text(&reply.body, "AccessKeyId").unwrap();
    let session_secret = oxiam_protocol::xml::element_text(&reply.body, "SecretAccessKey").unwrap();
    let session_token = oxiam_protocol::xml::element_text(&reply.body, "SessionToken").unwrap();
    assert_eq!(credentials["accessKeyId"], session_key.as_str());
    assert!(
        !std::fs::read_to_string(server.audit_path())
            .unwrap()
            .contains(&session_secret)
    );

    // STS, explicitly denied.
    let reply = call_as(server, &guarded.0, &guarded.1, &assume("forbidden"), "sts").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(
        decided(&event),
        ("ExplicitDeny".to_owned(), statement("NotThatRole", 3, &[]))
    );

    // STS, implicitly denied: the trust policy names the account, and nothing of the
    // caller's allows it.
    let reply = call_as(server, &bare.0, &bare.1, &assume("open"), "sts").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(decided(&event_of(server, &reply)).0, "ImplicitDeny");

    // A role session's requests name the role it is a session of, and when it began.
    let session = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .endpoint_url(server.endpoint())
            .credentials_provider(aws_sdk_iam::config::Credentials::new(
                &session_key,
                &session_secret,
                Some(session_token),
                None,
                "test",
            ))
            .build(),
    );
    assert!(session.list_users().send().await.is_err(), "the role has no policy");
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    let event: serde_json::Value = trail
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|e| e["userIdentity"]["accessKeyId"] == session_key.as_str())
        .expect("the session's event");
    assert_eq!(event["userIdentity"]["type"], "AssumedRole");
    assert_eq!(
        event["userIdentity"]["sessionContext"]["sessionIssuer"],
        serde_json::json!({
            "type": "Role",
            "principalId": event["userIdentity"]["principalId"].as_str().unwrap().split(':').next().unwrap(),
            "arn": format!("arn:aws:iam::{ACCOUNT}:role/open"),
            "accountId": ACCOUNT,
            "userName": "open",
        })
    );
    let began = &event["userIdentity"]["sessionContext"]["attributes"];
    assert!(event["userIdentity"]["sessionContext"].get("sourceIdentity").is_none());
    assert_eq!(began["mfaAuthenticated"], "false");
    assert!(
        began["creationDate"].as_str().is_some_and(|d| d.ends_with('Z')),
        "{event}"
    );

    // S3: allowed, explicitly denied, implicitly denied.
    let root = (ROOT_KEY, ROOT_SECRET);
    let now = SystemTime::now;
    assert_eq!(
        s3_send(server, root, "PUT", "/audited", &[], "", now()).await.status,
        200
    );
    assert_eq!(
        s3_send(server, root, "PUT", "/audited/secret", &[], "x", now())
            .await
            .status,
        200
    );
    let reply = s3_send(
        server,
        (&guarded.0, &guarded.1),
        "PUT",
        "/audited/notes",
        &[],
        "y",
        now(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(decided(&event), ("Allowed".to_owned(), statement("Everything", 0, &[])));
    assert_eq!(event["requestParameters"]["bucketName"], "audited");
    assert_eq!(event["requestParameters"]["key"], "notes");
    let reply = s3_send(
        server,
        (&guarded.0, &guarded.1),
        "GET",
        "/audited/secret",
        &[],
        "",
        now(),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    let event = event_of(server, &reply);
    assert_eq!(
        decided(&event),
        ("ExplicitDeny".to_owned(), statement("NoSecrets", 2, &[]))
    );
    assert_eq!(
        (&event["errorCode"], event["errorMessage"].as_str()),
        (
            &serde_json::json!("AccessDenied"),
            oxiam_protocol::xml::element_text(&reply.body, "Message").as_deref()
        )
    );
    let reply = s3_send(server, (&bare.0, &bare.1), "GET", "/audited/notes", &[], "", now()).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(
        decided(&event_of(server, &reply)),
        ("ImplicitDeny".to_owned(), serde_json::Value::Null)
    );
}

on_both_backends!(
    every_request_has_one_record_with_its_decision,
    an_abandoned_request_is_recorded,
    the_audit_trail_says_what_was_asked_and_what_decided
);

/// `--enforcement log` lets a denied request through, and records it as what it would have
/// been: the deciding statement, the denial, and that it was not enforced; on IAM and S3.
async fn soft_mode_lets_denials_through_and_records_them(backend: common::Backend) {
    let server = TestServer::start_logging_denials(backend).await;
    let (key, secret) = user(&server).await;
    let reply = call_as(
        &server,
        &key,
        &secret,
        &iam("Action=DeleteUser&UserName=recorded"),
        "iam",
    )
    .await;
    assert_eq!(
        reply.status, 409,
        "denied, let through, and met the user's key: {}",
        reply.body
    );
    let r = record_of(&server, &reply);
    let d = r.decision().unwrap();
    assert_eq!(
        (d.outcome, d.decided_by.as_str(), d.enforced),
        (Outcome::ExplicitDeny, "user/recorded/p#NoDeletingUsers", false)
    );
    let root = (ROOT_KEY, ROOT_SECRET);
    let now = SystemTime::now;
    assert_eq!(
        s3_send(&server, root, "PUT", "/records", &[], "", now()).await.status,
        200
    );
    assert_eq!(
        s3_send(&server, root, "PUT", "/records/secret", &[], "x", now())
            .await
            .status,
        200
    );
    let me = (key.as_str(), secret.as_str());
    let reply = s3_send(&server, me, "GET", "/records/secret", &[], "", now()).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "x"));
    let r = record_of(&server, &reply);
    let d = r.decision().unwrap();
    assert_eq!((d.outcome, d.enforced), (Outcome::ExplicitDeny, false));
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    let event = trail.lines().find(|l| l.contains(&r.request_id)).unwrap();
    assert!(event.contains(r#""enforced":false"#), "{event}");

    // A role whose trust policy names someone else: assumed anyway, and recorded.
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/someone-else"},"Action":"sts:AssumeRole"}]}"#;
    server
        .root_iam()
        .create_role()
        .role_name("guarded")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let assume = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{ACCOUNT}:role/guarded&RoleSessionName=soft-session"
    );
    let reply = call_as(&server, &key, &secret, &assume, "sts").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let r = record_of(&server, &reply);
    let d = r.decision().unwrap();
    assert_eq!(
        (d.action.as_str(), d.outcome, d.enforced),
        ("sts:AssumeRole", Outcome::ImplicitDeny, false)
    );
    server.stop().await;
}

/// In soft mode, DeleteObjects' check before its body asks every action it may need: a
/// caller allowed only `s3:DeleteObjectVersion` is recorded as allowed by it, not as a
/// would-have-been denial of `s3:DeleteObject` (which the keys' own verdicts may still be).
async fn soft_mode_asks_every_action_before_deleting_objects(backend: common::Backend) {
    let server = TestServer::start_logging_denials(backend).await;
    let root = (ROOT_KEY, ROOT_SECRET);
    let now = SystemTime::now;
    assert_eq!(
        s3_send(&server, root, "PUT", "/versions", &[], "", now()).await.status,
        200
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:DeleteObjectVersion","Resource":"arn:aws:s3:::versions/*"}]}"#;
    let (key, secret) = server.user_with_inline_policy("versioner", Some(policy)).await;
    let body = "<Delete><Object><Key>k</Key></Object></Delete>";
    let reply = s3_send(&server, (&key, &secret), "POST", "/versions?delete", &[], body, now()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let r = record_of(&server, &reply);
    let first = &r.verdicts[0];
    assert_eq!(
        (
            first.action.as_str(),
            first.resource.as_str(),
            first.outcome,
            first.enforced
        ),
        (
            "s3:DeleteObjectVersion",
            "arn:aws:s3:::versions/",
            Outcome::Allowed,
            true
        ),
        "{:#?}",
        r.verdicts
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_soft_mode_deleting_objects() {
    soft_mode_asks_every_action_before_deleting_objects(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_soft_mode_deleting_objects() {
    if common::postgres_available() {
        soft_mode_asks_every_action_before_deleting_objects(common::Backend::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_soft_mode() {
    soft_mode_lets_denials_through_and_records_them(common::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_soft_mode() {
    if common::postgres_available() {
        soft_mode_lets_denials_through_and_records_them(common::Backend::Postgres).await;
    }
}

/// Requests write their events in groups: under many at once, every event is written once,
/// whole, on a line of its own, before its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_have_their_event_once() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let body = iam("Action=GetUser");
    let replies = futures_util::future::join_all((0..300).map(|_| call(&server, &body, "iam"))).await;
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    let events: Vec<serde_json::Value> = trail
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    for reply in &replies {
        assert_eq!(reply.status, 200, "{}", reply.body);
        let id = record_of(&server, reply).request_id;
        assert_eq!(
            events.iter().filter(|e| e["requestID"] == id.as_str()).count(),
            1,
            "{id}"
        );
    }
    let mut event_ids: Vec<&str> = events.iter().map(|e| e["eventID"].as_str().unwrap()).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    assert_eq!(event_ids.len(), events.len(), "event ids are unique");
    server.stop().await;
}

/// A role session's source identity is in the `sessionContext` of each of its events, as
/// CloudTrail writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_identity_is_in_its_sessions_events() {
    let server = TestServer::start(common::Backend::Sqlite).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:SetSourceIdentity"],"Resource":"*"}]}"#;
    let (key, secret) = server.user_with_inline_policy("traced", Some(policy)).await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}}]}}"#
    );
    server
        .root_iam()
        .create_role()
        .role_name("traced")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let assumed = server
        .sts_as(&key, &secret, "us-east-1")
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/traced"))
        .role_session_name("traced")
        .source_identity("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(assumed.source_identity(), Some("alice"));
    let credentials = assumed.credentials().unwrap();
    let session = server.iam_as_session(credentials);
    assert!(session.list_users().send().await.is_err(), "the role has no policy");
    let trail = std::fs::read_to_string(server.audit_path()).unwrap();
    let event: serde_json::Value = trail
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .find(|e| e["userIdentity"]["accessKeyId"] == credentials.access_key_id())
        .expect("the session's event");
    assert_eq!(event["userIdentity"]["sessionContext"]["sourceIdentity"], "alice");
    server.stop().await;
}
