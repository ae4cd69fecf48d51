//! End to end: STS AssumeRoot with the AWS SDK for Rust. It is authorized as AWS documents it
//! (`sts:AssumeRoot` on the member account's root user, with `sts:TaskPolicyArn`), issued only
//! to the management account of an organization with root sessions enabled, for a member
//! account; and the root session it issues may do only what its root task policy leaves it,
//! while the member's own root keeps its full access.

use crate::common;

use aws_sdk_organizations::types::{HandshakeParty, HandshakePartyType};
use aws_sdk_sts::types::{Credentials, PolicyDescriptorType};
use common::{ACCOUNT, Backend, ROOT_KEY, ROOT_SECRET, TestServer, code};

const OTHER: &str = "210987654321";
const AUDIT: &str = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials";
const DELETE_CREDENTIALS: &str = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials";
const UNLOCK: &str = "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy";
const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn sts_error<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(
    e: &aws_sdk_sts::error::SdkError<E, R>,
) -> (String, String) {
    let e = e.as_service_error();
    (
        e.and_then(|e| e.code()).unwrap_or("").to_owned(),
        e.and_then(|e| e.message()).unwrap_or("").to_owned(),
    )
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> &str {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("")
}

async fn assume_root(
    sts: &aws_sdk_sts::Client,
    target: &str,
    task: &str,
    duration: Option<i32>,
) -> Result<Credentials, (String, String)> {
    sts.assume_root()
        .target_principal(target)
        .task_policy_arn(PolicyDescriptorType::builder().arn(task).build())
        .set_duration_seconds(duration)
        .send()
        .await
        .map(|out| out.credentials.unwrap())
        .map_err(|e| sts_error(&e))
}

per_backend!(
    authorized_on_the_member_root_and_issued_only_where_aws_issues,
    a_root_session_does_only_its_task_and_the_member_root_keeps_its_access,
);

/// The management account's administrator (`admin`), an organization with `OTHER` invited
/// into it, IAM's trusted access, and root sessions enabled when `enable` says so.
async fn organization_of_other(s: &TestServer, enable: bool) -> aws_sdk_sts::Client {
    let orgs = s.root_organizations();
    orgs.create_organization().send().await.unwrap();
    let invited = orgs
        .invite_account_to_organization()
        .target(
            HandshakeParty::builder()
                .id(OTHER)
                .r#type(HandshakePartyType::Account)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let other = &s.accounts[0];
    s.organizations_as(&other.access_key_id, &other.secret_access_key.0, None)
        .accept_handshake()
        .handshake_id(invited.handshake().unwrap().id().unwrap())
        .send()
        .await
        .unwrap();
    orgs.enable_aws_service_access()
        .service_principal("iam.amazonaws.com")
        .send()
        .await
        .unwrap();
    if enable {
        s.root_iam().enable_organizations_root_sessions().send().await.unwrap();
    }
    let (key, secret) = s.user_with_inline_policy("admin", Some(ADMIN)).await;
    s.sts_as(&key, &secret, "us-east-1")
}

async fn authorized_on_the_member_root_and_issued_only_where_aws_issues(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    // Without sts:AssumeRoot: refused on the member account's root user.
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let (code, message) = assume_root(&s.sts_as(&key, &secret, "us-east-1"), OTHER, AUDIT, None)
        .await
        .unwrap_err();
    assert_eq!(code, "AccessDenied");
    assert!(
        message.contains(&format!("sts:AssumeRoot on resource: arn:aws:iam::{OTHER}:root")),
        "{message}"
    );
    // Allowed, but not with the S3 unlock task (a Deny on sts:TaskPolicyArn).
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRoot","Resource":"*"}},
        {{"Effect":"Deny","Action":"sts:AssumeRoot","Resource":"*","Condition":{{"ArnEquals":{{"sts:TaskPolicyArn":"{UNLOCK}"}}}}}}]}}"#
    );
    let (key, secret) = s.user_with_inline_policy("operator", Some(&policy)).await;
    let operator = s.sts_as(&key, &secret, "us-east-1");
    let (code, message) = assume_root(&operator, OTHER, UNLOCK, None).await.unwrap_err();
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("with an explicit deny"), "{message}");
    // The other task is allowed, and refused outside an organization.
    let (code, message) = assume_root(&operator, OTHER, AUDIT, Some(900)).await.unwrap_err();
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("not the management account"), "{message}");

    // In the organization, before root sessions are enabled: refused.
    let admin = organization_of_other(&s, false).await;
    let (code, message) = assume_root(&admin, OTHER, AUDIT, None).await.unwrap_err();
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("not enabled"), "{message}");
    s.root_iam().enable_organizations_root_sessions().send().await.unwrap();
    // Enabled: issued for the member, by its id or its root user's ARN, for at most 900 s.
    for target in [OTHER.to_owned(), format!("arn:aws:iam::{OTHER}:root")] {
        let credentials = assume_root(&admin, &target, AUDIT, None).await.unwrap();
        assert!(credentials.access_key_id().starts_with("ASIA"));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let lifetime = credentials.expiration().secs() - now;
        assert!((890..=900).contains(&lifetime), "{lifetime}");
    }
    // Never for the management account itself, nor an account outside the organization.
    for target in [ACCOUNT, "999999999999"] {
        let (code, message) = assume_root(&admin, target, AUDIT, None).await.unwrap_err();
        assert_eq!(code, "AccessDenied", "{target}");
        assert!(message.contains("not a member account"), "{message}");
    }
    // The root user may not (AWS: management or delegated administrator credentials).
    let (code, message) = assume_root(&s.root_sts(), OTHER, AUDIT, None).await.unwrap_err();
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("AccessDenied", "Root user credentials cannot call AssumeRoot.")
    );
    // Input AWS refuses.
    for (target, task, duration) in [
        ("not-an-account", AUDIT, None),
        (OTHER, "arn:aws:iam::aws:policy/AdministratorAccess", None),
        (OTHER, "arn:aws:iam::aws:policy/root-task/NoSuchTask", None),
        (OTHER, AUDIT, Some(901)),
    ] {
        let (code, message) = assume_root(&admin, target, task, duration).await.unwrap_err();
        assert_eq!(code, "ValidationError", "{target} {task} {duration:?}: {message}");
    }
}

async fn a_root_session_does_only_its_task_and_the_member_root_keeps_its_access(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let admin = organization_of_other(&s, true).await;
    let other = &s.accounts[0];
    let member_root = s.iam_as(&other.access_key_id, &other.secret_access_key.0, "us-east-1");

    let session = assume_root(&admin, OTHER, DELETE_CREDENTIALS, None).await.unwrap();
    let who = s
        .sts_as_session(
            session.access_key_id(),
            session.secret_access_key(),
            session.session_token(),
        )
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(who.account(), Some(OTHER));
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{OTHER}:root").as_str()));
    let root_session = s.iam_as_session(&session);
    // Its task: the member root's own keys, listed and deleted.
    let keys = root_session.list_access_keys().send().await.unwrap();
    let ids: Vec<&str> = keys
        .access_key_metadata()
        .iter()
        .filter_map(|k| k.access_key_id())
        .collect();
    assert_eq!(ids, [other.access_key_id.as_str()]);
    // Anything else is refused, though a root may do anything: the task policy denies it.
    let err = root_session
        .create_user()
        .user_name("intruder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    // The member's own root is not limited by the session (nor the session by the root's
    // cached decisions), in either order.
    member_root.create_user().user_name("kept").send().await.unwrap();
    let err = root_session
        .create_user()
        .user_name("intruder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    // The S3 task in S3: a bucket's policy deleted, its objects untouched.
    let unlock = assume_root(&admin, OTHER, UNLOCK, None).await.unwrap();
    let member_s3 = s.s3_as(&other.access_key_id, &other.secret_access_key.0, None);
    member_s3.create_bucket().bucket("locked-out").send().await.unwrap();
    member_s3
        .put_bucket_policy()
        .bucket("locked-out")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::locked-out","arn:aws:s3:::locked-out/*"]}]}"#)
        .send()
        .await
        .unwrap();
    // Locked out: even the owner's root, but for the bucket policy itself (S3 API reference:
    // the owner's root may always get, put and delete it).
    let err = member_s3
        .list_objects_v2()
        .bucket("locked-out")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    member_s3.get_bucket_policy().bucket("locked-out").send().await.unwrap();
    // The owner's root only: another account's root (the management account's) is not.
    let err = s
        .s3_as(ROOT_KEY, ROOT_SECRET, None)
        .delete_bucket_policy()
        .bucket("locked-out")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // That is the root's alone: an administrator of the account stays denied.
    member_root
        .create_user()
        .user_name("bucket-admin")
        .send()
        .await
        .unwrap();
    member_root
        .put_user_policy()
        .user_name("bucket-admin")
        .policy_name("admin")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();
    let key = member_root
        .create_access_key()
        .user_name("bucket-admin")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let err = s
        .s3_as(key.access_key_id(), key.secret_access_key(), None)
        .get_bucket_policy()
        .bucket("locked-out")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    let unlocker = s.s3_as_session(&unlock);
    unlocker
        .delete_bucket_policy()
        .bucket("locked-out")
        .send()
        .await
        .unwrap();
    let err = unlocker.delete_bucket().bucket("locked-out").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // The root session deleting the member root's key: its task, done.
    root_session
        .delete_access_key()
        .access_key_id(&other.access_key_id)
        .send()
        .await
        .unwrap();
    let err = member_root.get_user().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
}
