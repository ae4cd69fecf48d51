//! End to end: STS AssumeRoot with the AWS SDK for Rust. It is authorized as AWS documents it
//! (`sts:AssumeRoot` on the member account's root user, with `sts:TaskPolicyArn`), its input
//! checked, and then refused: oxiam does not issue root sessions yet.

mod common;

use aws_sdk_sts::types::PolicyDescriptorType;
use common::TestServer;

const MEMBER: &str = "210987654321";
const AUDIT: &str = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";
const UNLOCK: &str = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy";

fn sts_error<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_sts::error::SdkError<E, R>,
) -> (String, String) {
    let e = e.as_service_error();
    (
        e.and_then(|e| e.code()).unwrap_or("").to_owned(),
        e.and_then(|e| e.message()).unwrap_or("").to_owned(),
    )
}

async fn assume_root(sts: &aws_sdk_sts::Client, target: &str, task: &str, duration: Option<i32>) -> (String, String) {
    let err = sts
        .assume_root()
        .target_principal(target)
        .task_policy_arn(PolicyDescriptorType::builder().arn(task).build())
        .set_duration_seconds(duration)
        .send()
        .await
        .unwrap_err();
    sts_error(&err)
}

on_both_backends!(authorized_on_the_member_root_then_refused_without_organizations);

async fn authorized_on_the_member_root_then_refused_without_organizations(s: &TestServer) {
    // Without sts:AssumeRoot: refused on the member account's root user.
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let (code, message) = assume_root(&s.sts_as(&key, &secret, "us-east-1"), MEMBER, AUDIT, None).await;
    assert_eq!(code, "AccessDenied");
    assert!(
        message.contains(&format!("sts:AssumeRoot on resource: arn:aws:iam::{MEMBER}:root")),
        "{message}"
    );

    // Allowed, but not with the S3 unlock task (a Deny on sts:TaskPolicyArn).
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*"}},
        {{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*","Condition":{{"ArnEquals":{{"sts:TaskPolicyArn":"{UNLOCK}"}}}}}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("admin", Some(&policy)).await;
    let sts = s.sts_as(&key, &secret, "us-east-1");
    let (code, message) = assume_root(&sts, MEMBER, UNLOCK, None).await;
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("with an explicit deny"), "{message}");
    // The other task is allowed, and refused: no root session is issued.
    for target in [MEMBER.to_owned(), format!("arn:aws:iam::{MEMBER}:root")] {
        let (code, message) = assume_root(&sts, &target, AUDIT, Some(900)).await;
        assert_eq!(code, "AccessDenied");
        assert!(message.contains("does not issue root sessions yet"), "{message}");
    }

    // The root user may not (AWS: management or delegated administrator credentials).
    let (code, message) = assume_root(&s.root_sts(), MEMBER, AUDIT, None).await;
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDenied", "Root user credentials cannot call AssumeRoot.")
    );

    // Input AWS refuses.
    for (target, task, duration) in [
        ("not-an-account", AUDIT, None),
        (MEMBER, "arn:aws:iam::aws:policy/AdministratorAccess", None),
        (MEMBER, AUDIT, Some(901)),
    ] {
        let (code, message) = assume_root(&sts, target, task, duration).await;
        assert_eq!(code, "ValidationError", "{target} {task} {duration:?}: {message}");
    }
}
