//! Two accounts in one oxiam, as `oxiam account create` makes them: each its own root key
//! and its own entities, access across them only where both sides allow it (the caller's
//! identity policy and the role's trust policy or the bucket's policy), nothing of one seen
//! from the other, and test mode's reset leaving the bootstrap account alone.

use crate::common;

use common::{ACCOUNT, Backend, TestServer, code};

const OTHER: &str = "210987654321";

fn other_root(s: &TestServer) -> (String, String) {
    let made = &s.accounts[0];
    assert_eq!(made.account_id, OTHER);
    (made.access_key_id.clone(), made.secret_access_key.0.clone())
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

async fn assume(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
) -> Result<
    aws_sdk_sts::operation::assume_role::AssumeRoleOutput,
    aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>,
> {
    sts.assume_role()
        .role_arn(role_arn)
        .role_session_name("release")
        .send()
        .await
}

async fn a_role_in_another_account_is_assumed_only_when_both_sides_allow(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let (key, secret) = other_root(&s);
    let other_sts = s.sts_as(&key, &secret, "us-east-1");
    let who = other_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(OTHER));
    assert_eq!(who.arn(), Some(format!("arn:aws:iam::{OTHER}:root").as_str()));

    let other = s.iam_as(&key, &secret, "us-east-1");
    let trusting = |account: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        )
    };
    for (name, trusted) in [("deploy", ACCOUNT), ("closed", "999999999999")] {
        other
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trusting(trusted))
            .send()
            .await
            .unwrap();
    }
    let deploy = format!("arn:aws:iam::{OTHER}:role/deploy");
    let closed = format!("arn:aws:iam::{OTHER}:role/closed");

    // Trusted account, identity policy allowing: the session is the other account's.
    let may = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    let (ci_key, ci_secret) = s.user_with_inline_policy("ci", Some(may)).await;
    let ci = s.sts_as(&ci_key, &ci_secret, "us-east-1");
    let out = assume(&ci, &deploy).await.unwrap();
    let session = out.credentials().unwrap();
    let as_role = s.sts_as_session(
        session.access_key_id(),
        session.secret_access_key(),
        session.session_token(),
    );
    let who = as_role.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(OTHER));
    assert_eq!(
        who.arn(),
        Some(format!("arn:aws:sts::{OTHER}:assumed-role/deploy/release").as_str())
    );

    // The trust policy trusts the caller's account, but the caller's own account does
    // not allow it: across accounts, the identity side must allow too.
    let (no_key, no_secret) = s.user_with_inline_policy("nobody", None).await;
    let err = assume(&s.sts_as(&no_key, &no_secret, "us-east-1"), &deploy)
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");

    // The caller may, but the role does not trust its account.
    let err = assume(&ci, &closed).await.unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");

    // An explicit Deny on the caller's side wins over the other account's trust.
    s.root_iam()
        .put_user_policy()
        .user_name("ci")
        .policy_name("no-other-accounts")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":{{"StringEquals":{{"aws:ResourceAccount":"{OTHER}"}}}}}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let err = assume(&ci, &deploy).await.unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    s.stop().await;
}

async fn another_accounts_bucket_is_reached_only_through_its_policy_and_the_callers(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let (key, secret) = other_root(&s);
    let owner = s.s3_as(&key, &secret, None);
    owner.create_bucket().bucket("shared-artifacts").send().await.unwrap();
    owner
        .put_object()
        .bucket("shared-artifacts")
        .key("build.zip")
        .body(b"zip".to_vec().into())
        .send()
        .await
        .unwrap();

    let reads = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#;
    let (reader_key, reader_secret) = s.user_with_inline_policy("reader", Some(reads)).await;
    let reader = s.s3_as(&reader_key, &reader_secret, None);
    let (bare_key, bare_secret) = s.user_with_inline_policy("bare", None).await;
    let bare = s.s3_as(&bare_key, &bare_secret, None);

    // No bucket policy: the owner's account grants nothing to another's callers.
    let err = reader
        .get_object()
        .bucket("shared-artifacts")
        .key("build.zip")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:user/reader","arn:aws:iam::{ACCOUNT}:user/bare"]}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-artifacts/*"}}]}}"#
    );
    owner
        .put_bucket_policy()
        .bucket("shared-artifacts")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let got = reader
        .get_object()
        .bucket("shared-artifacts")
        .key("build.zip")
        .send()
        .await
        .unwrap();
    assert_eq!(got.body.collect().await.unwrap().into_bytes().as_ref(), b"zip");
    // The bucket policy names `bare`, but its own account grants it nothing.
    let err = bare
        .get_object()
        .bucket("shared-artifacts")
        .key("build.zip")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // `reader` may put in its own account's eyes, but the bucket policy grants no put.
    let err = reader
        .put_object()
        .bucket("shared-artifacts")
        .key("mine")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    s.stop().await;
}

/// This account's user (in a group, with a key and the policy attached), role, customer
/// managed policy (its ARN returned), instance profile, alias, MFA device and credential
/// report, each named `marker-…`.
async fn populate(iam: &aws_sdk_iam::Client) -> String {
    iam.create_user().user_name("marker-user").send().await.unwrap();
    iam.create_access_key().user_name("marker-user").send().await.unwrap();
    iam.create_group().group_name("marker-group").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("marker-group")
        .user_name("marker-user")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("marker-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let policy = iam
        .create_policy()
        .policy_name("marker-policy")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let policy_arn = policy.policy().unwrap().arn().unwrap().to_owned();
    iam.attach_user_policy()
        .user_name("marker-user")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("marker-profile")
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("marker-alias")
        .send()
        .await
        .unwrap();
    iam.create_virtual_mfa_device()
        .virtual_mfa_device_name("marker-phone")
        .send()
        .await
        .unwrap();
    iam.generate_credential_report().send().await.unwrap();
    policy_arn
}

async fn neither_account_sees_the_others_entities(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let mine = s.root_iam();
    let policy_arn = populate(&mine).await;

    let (key, secret) = other_root(&s);
    let theirs = s.iam_as(&key, &secret, "us-east-1");
    assert!(theirs.list_users().send().await.unwrap().users().is_empty());
    assert!(theirs.list_groups().send().await.unwrap().groups().is_empty());
    assert!(theirs.list_roles().send().await.unwrap().roles().is_empty());
    let local = theirs
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(local.policies().is_empty());
    assert!(
        theirs
            .list_instance_profiles()
            .send()
            .await
            .unwrap()
            .instance_profiles()
            .is_empty()
    );
    assert!(
        theirs
            .list_account_aliases()
            .send()
            .await
            .unwrap()
            .account_aliases()
            .is_empty()
    );
    assert!(
        theirs
            .list_virtual_mfa_devices()
            .send()
            .await
            .unwrap()
            .virtual_mfa_devices()
            .is_empty()
    );
    let details = theirs.get_account_authorization_details().send().await.unwrap();
    assert!(details.user_detail_list().is_empty());
    assert!(details.group_detail_list().is_empty());
    assert!(details.role_detail_list().is_empty());
    assert!(details.policies().iter().all(|p| p.arn() != Some(policy_arn.as_str())));
    let summary = theirs.get_account_summary().send().await.unwrap();
    let summary = summary.summary_map().unwrap();
    assert_eq!(summary.get(&aws_sdk_iam::types::SummaryKeyType::Users), Some(&0));
    assert_eq!(summary.get(&aws_sdk_iam::types::SummaryKeyType::Roles), Some(&0));

    // Named directly, the other account's entities are missing, not forbidden.
    let err = theirs.get_user().user_name("marker-user").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = theirs.get_role().role_name("marker-role").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    let err = theirs.get_policy().policy_arn(&policy_arn).send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    // The same names are free in the other account.
    theirs.create_user().user_name("marker-user").send().await.unwrap();
    let users = mine.list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 1);
    assert_eq!(
        users.users()[0].arn(),
        format!("arn:aws:iam::{ACCOUNT}:user/marker-user").as_str()
    );
    s.stop().await;
}

/// Every IAM operation that reads (List…, Get…, Simulate…, Generate…), asked by the other
/// account's root naming this account's entities (by name, by ARN): none answers with
/// anything of this account, and each answers as for a missing thing or with the other
/// account's own (empty) state.
async fn no_reading_operation_crosses_accounts(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], false).await;
    let mine = s.root_iam();
    let policy_arn = populate(&mine).await;

    let (key, secret) = other_root(&s);
    let arn = |kind: &str, name: &str| common::raw::url_encode(&format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}"));
    let names = [
        "UserName=marker-user".to_owned(),
        "GroupName=marker-group".to_owned(),
        "RoleName=marker-role".to_owned(),
        "InstanceProfileName=marker-profile".to_owned(),
        format!("PolicyArn={}", common::raw::url_encode(&policy_arn)),
        format!("PolicySourceArn={}", arn("user", "marker-user")),
        format!("Arn={}", arn("role", "marker-role")),
        "VersionId=v1".to_owned(),
        "PolicyName=marker-policy".to_owned(),
        "ActionNames.member.1=s3%3AGetObject".to_owned(),
        "EntityFilter=User".to_owned(),
    ];
    let mut answered = 0;
    let mut missing = 0;
    for op in oxiam_core::iam::IMPLEMENTED {
        let op = op.name();
        if !["List", "Get", "Simulate", "Generate"]
            .iter()
            .any(|p| op.starts_with(p))
        {
            continue;
        }
        // Each name alone, so an operation never sees a member it does not take.
        for name in std::iter::once("").chain(names.iter().map(String::as_str)) {
            let body = format!("Action={op}&Version=2010-05-08&{name}");
            let reply = common::raw::call_as(&s, &key, &secret, &body, "iam").await;
            // An error may quote what was asked for; anything else of this account is a leak.
            let asked = name.split_once('=').map_or(String::new(), |(_, v)| {
                percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()
            });
            let shown = if asked.is_empty() {
                reply.body.clone()
            } else {
                reply.body.replace(&asked, "")
            };
            assert!(
                !shown.contains(ACCOUNT) && !shown.contains("marker-"),
                "{op} {name} showed the other account's: {}",
                reply.body
            );
            match reply.status {
                200 => answered += 1,
                404 => missing += 1,
                _ => {}
            }
        }
    }
    // Not a walk of refusals only: many answered, and many found nothing of that name.
    assert!(answered > 40, "{answered} answered");
    assert!(missing > 30, "{missing} missing");
    s.stop().await;
}

async fn reset_removes_every_account_but_the_bootstrap_one(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[OTHER], true).await;
    let (key, secret) = other_root(&s);
    let theirs = s.iam_as(&key, &secret, "us-east-1");
    theirs.create_user().user_name("bob").send().await.unwrap();
    let reply = common::raw::send(&s, "POST", "/_oxiam/reset", &[("host".to_owned(), "x".to_owned())], "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // The other account is gone with its root key; the bootstrap account answers.
    let err = theirs.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    assert!(s.root_iam().list_users().send().await.unwrap().users().is_empty());
    s.stop().await;
}

/// The bootstrap's configured root key must be the bootstrap account's own. An id that is
/// another account's key already is refused, whatever the secret: on a first start (the
/// account new, its key inserted before any lookup) and on the restart after it. A restart
/// with the right id and a wrong secret is refused too.
#[tokio::test]
async fn a_root_key_that_is_not_the_bootstrap_accounts_own_is_refused() {
    use oxiam_core::{BootstrapConfig, BootstrapError};
    let dir = tempfile::tempdir().unwrap();
    let oxiam = oxiam_server::open(dir.path(), None, None).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let other = oxiam.create_account(Some(OTHER), now).await.unwrap();
    let configured = |id: &str, secret: &str| BootstrapConfig {
        account_id: Some(ACCOUNT.into()),
        root_key: Some((id.into(), secret.into())),
    };
    for secret in [
        other.secret_access_key.0.as_str(),
        "another-secret-0000000000000000000000000",
    ] {
        let refused = oxiam.bootstrap(&configured(&other.access_key_id, secret), now).await;
        assert!(
            matches!(&refused, Err(BootstrapError::RootKeyMismatch(id)) if *id == other.access_key_id),
            "{refused:?}"
        );
    }
    let own = configured(common::ROOT_KEY, common::ROOT_SECRET);
    assert_eq!(oxiam.bootstrap(&own, now).await.unwrap().account_id, ACCOUNT);
    assert_eq!(oxiam.bootstrap(&own, now).await.unwrap().account_id, ACCOUNT);
    let refused = oxiam
        .bootstrap(
            &configured(common::ROOT_KEY, "another-secret-0000000000000000000000000"),
            now,
        )
        .await;
    assert!(
        matches!(&refused, Err(BootstrapError::RootKeyMismatch(id)) if id == common::ROOT_KEY),
        "{refused:?}"
    );
}

per_backend!(
    a_role_in_another_account_is_assumed_only_when_both_sides_allow,
    another_accounts_bucket_is_reached_only_through_its_policy_and_the_callers,
    neither_account_sees_the_others_entities,
    no_reading_operation_crosses_accounts,
    reset_removes_every_account_but_the_bootstrap_one,
);
