//! `serve --lint-policies`: the identity policies a request writes (CreatePolicy,
//! CreatePolicyVersion, Put…Policy) checked as IAM Access Analyzer's ValidatePolicy does. With
//! `deny` an ERROR finding refuses the write with MalformedPolicyDocument and the finding;
//! with `warn` the write goes on and the findings are in the audit trail; off, nothing.

use crate::common;

use common::{Backend, TestServer, code, message};

per_backend!(
    deny_refuses_an_error_finding_and_keeps_the_rest,
    warn_records_the_findings_and_writes,
    off_checks_nothing,
);

const UNKNOWN_ACTION: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}]}"#;
/// A security warning (PassRole on `*`) and no error.
const PASS_ANY_ROLE: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}]}"#;
const CLEAN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

async fn deny_refuses_an_error_finding_and_keeps_the_rest(backend: Backend) {
    let s = TestServer::start_linting_policies(backend, oxiam_core::LintPolicies::Deny).await;
    let iam = s.root_iam();
    let err = iam
        .create_policy()
        .policy_name("typo")
        .policy_document(UNKNOWN_ACTION)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert_eq!(message(&err), "INVALID_ACTION: The action s3:GetObjekt does not exist.");
    assert!(
        iam.list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .send()
            .await
            .unwrap()
            .policies()
            .is_empty()
    );
    // Every writing operation, inline ones too.
    iam.create_user().user_name("u").send().await.unwrap();
    let err = iam
        .put_user_policy()
        .user_name("u")
        .policy_name("p")
        .policy_document(UNKNOWN_ACTION)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    let arn = iam
        .create_policy()
        .policy_name("fine")
        .policy_document(PASS_ANY_ROLE)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    let err = iam
        .create_policy_version()
        .policy_arn(&arn)
        .policy_document(UNKNOWN_ACTION)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    iam.create_policy_version()
        .policy_arn(&arn)
        .policy_document(CLEAN)
        .send()
        .await
        .unwrap();
    // Too big for a managed policy (but not for a role's inline one), with an error in it:
    // IAM's own LimitExceeded answers.
    let actions: Vec<String> = (0..400).map(|i| format!("\"s3:GetObjekt{i:04}\"")).collect();
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*"}}]}}"#,
        actions.join(",")
    );
    let err = iam
        .create_policy()
        .policy_name("big")
        .policy_document(big)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "LimitExceeded", "{}", message(&err));
    // A document IAM itself refuses gets IAM's own answer, not a finding's.
    let err = iam
        .create_policy()
        .policy_name("broken")
        .policy_document("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "MalformedPolicyDocument");
    assert!(!message(&err).contains("JSON_SYNTAX_ERROR"), "{}", message(&err));
}

async fn warn_records_the_findings_and_writes(backend: Backend) {
    let s = TestServer::start_linting_policies(backend, oxiam_core::LintPolicies::Warn).await;
    let iam = s.root_iam();
    iam.create_policy()
        .policy_name("typo")
        .policy_document(UNKNOWN_ACTION)
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("clean")
        .policy_document(CLEAN)
        .send()
        .await
        .unwrap();
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    let events: Vec<serde_json::Value> = audit.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let created: Vec<&serde_json::Value> = events.iter().filter(|e| e["eventName"] == "CreatePolicy").collect();
    assert_eq!(created.len(), 2);
    assert_eq!(
        created[0]["oxiam"]["policyFindings"],
        serde_json::json!(["ERROR INVALID_ACTION: The action s3:GetObjekt does not exist."])
    );
    assert!(
        created[1]["oxiam"].get("policyFindings").is_none(),
        "a clean policy has none"
    );
}

async fn off_checks_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    s.root_iam()
        .create_policy()
        .policy_name("typo")
        .policy_document(UNKNOWN_ACTION)
        .send()
        .await
        .unwrap();
    let audit = std::fs::read_to_string(s.audit_path()).unwrap();
    assert!(!audit.contains("policyFindings"));
    s.stop().await;
}
