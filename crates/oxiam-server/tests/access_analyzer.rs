//! Access Analyzer's policy checks over restJson1, from the wire: what a signature covers,
//! what a caller without permission can make the server do, and the record each request
//! leaves. (boto3's `accessanalyzer` client drives the checks themselves in the
//! compatibility suite, `compat/test_access_analyzer.py`.)

use crate::common;

use common::raw::call_rest_json;
use common::{Backend, ROOT_KEY, ROOT_SECRET, TestServer};

const ROOT: (&str, &str) = (ROOT_KEY, ROOT_SECRET);

#[tokio::test]
async fn validate_policy_answers_json_and_is_recorded() {
    let s = TestServer::start(Backend::Sqlite).await;
    let body = r#"{"policyDocument":"{\"Statement\":[]}","policyType":"IDENTITY_POLICY"}"#;
    let reply = call_rest_json(&s, ROOT, "/policy/validation", None, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let codes: Vec<&str> = answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["issueCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["MISSING_VERSION"], "{}", reply.body);
    let id = reply.header("x-amzn-requestid").unwrap();
    let record = s.records.by_id(id).expect("the request's record");
    assert_eq!(record.service, "access-analyzer");
    assert_eq!(record.operation.as_deref(), Some("ValidatePolicy"));
    assert_eq!(
        record.verdicts.len(),
        1,
        "authorized once, as access-analyzer:ValidatePolicy"
    );
    s.stop().await;
}

/// The path names the operation, so a signature made for one path must not carry a request
/// to another.
#[tokio::test]
async fn a_signature_for_one_check_does_not_run_another() {
    let s = TestServer::start(Backend::Sqlite).await;
    let body = r#"{"policyDocument":"{}","resourceType":"AWS::S3::Bucket"}"#;
    let replayed = call_rest_json(
        &s,
        ROOT,
        "/policy/validation",
        Some("/policy/check-no-public-access"),
        body,
    )
    .await;
    assert_eq!(replayed.status, 403, "{}", replayed.body);
    assert_eq!(replayed.header("x-amzn-errortype"), Some("InvalidSignatureException"));
    s.stop().await;
}

/// A caller with no permission gets AccessDeniedException, and a body over the limit is
/// refused before anything reads it, in the protocol's own envelope.
#[tokio::test]
async fn no_permission_and_oversized_bodies_are_refused() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let body = r#"{"policyDocument":"{}","policyType":"IDENTITY_POLICY"}"#;
    let denied = call_rest_json(&s, (&key, &secret), "/policy/validation", None, body).await;
    assert_eq!(denied.status, 403, "{}", denied.body);
    assert_eq!(denied.header("x-amzn-errortype"), Some("AccessDeniedException"));
    assert!(
        denied.body.contains("access-analyzer:ValidatePolicy"),
        "{}",
        denied.body
    );

    let document = "x".repeat(2 << 20);
    let huge = format!(r#"{{"policyDocument":"{document}","policyType":"IDENTITY_POLICY"}}"#);
    let refused = call_rest_json(&s, (&key, &secret), "/policy/validation", None, &huge).await;
    assert_eq!(refused.status, 400, "{}", &refused.body[..refused.body.len().min(200)]);
    assert_eq!(refused.header("content-type"), Some("application/json"));
    assert_eq!(refused.header("x-amzn-errortype"), Some("ValidationException"));
    assert!(refused.body.len() < 1024, "the answer does not echo the body");
    s.stop().await;
}

/// A path that names no check is UnknownOperationException, not some other service's answer.
#[tokio::test]
async fn an_unknown_path_names_no_operation() {
    let s = TestServer::start(Backend::Sqlite).await;
    let reply = call_rest_json(&s, ROOT, "/analyzer", None, "{}").await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.header("x-amzn-errortype"), Some("UnknownOperationException"));
    s.stop().await;
}

/// A document longer than any policy AWS holds is refused before any check reads it (the
/// checks' work grows with it).
#[tokio::test]
async fn a_document_past_the_limit_is_refused() {
    let s = TestServer::start(Backend::Sqlite).await;
    let document = format!("{{\"Statement\":[],\"Id\":\"{}\"}}", "x".repeat(131_072));
    let body = serde_json::json!({
        "existingPolicyDocument": "{}",
        "newPolicyDocument": document,
        "policyType": "IDENTITY_POLICY",
    })
    .to_string();
    let reply = call_rest_json(&s, ROOT, "/policy/check-no-new-access", None, &body).await;
    assert_eq!(reply.status, 400, "{}", &reply.body[..reply.body.len().min(300)]);
    assert_eq!(reply.header("x-amzn-errortype"), Some("ValidationException"));
    assert!(reply.body.contains("newPolicyDocument"), "{}", reply.body);
    assert!(reply.body.len() < 1024, "the answer does not echo the document");
    s.stop().await;
}

/// An empty access list asks nothing: refused rather than a PASS with nothing checked. And a
/// member the model binds to the query string (`maxResults`) is not read from the body.
#[tokio::test]
async fn members_are_read_where_the_model_puts_them() {
    let s = TestServer::start(Backend::Sqlite).await;
    let body = r#"{"policyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[]}","access":[],"policyType":"IDENTITY_POLICY"}"#;
    let reply = call_rest_json(&s, ROOT, "/policy/check-access-not-granted", None, body).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert_eq!(reply.header("x-amzn-errortype"), Some("ValidationException"));

    let noisy = r#"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Nope1\",\"s3:Nope2\"],\"Resource\":\"*\"}]}"#;
    let body = format!(r#"{{"policyDocument":"{noisy}","policyType":"IDENTITY_POLICY","maxResults":1}}"#);
    let reply = call_rest_json(&s, ROOT, "/policy/validation", None, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["findings"].as_array().unwrap().len(), 2, "{}", reply.body);
    assert!(answer.get("nextToken").is_none());
    s.stop().await;
}
