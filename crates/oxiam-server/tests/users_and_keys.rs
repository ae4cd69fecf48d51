//! End to end with the AWS SDK for Rust: users, access keys and caller identity, on SQLite
//! and on PostgreSQL, through a real server on a loopback port.

use crate::common;

use aws_sdk_iam::types::{StatusType, Tag};
use common::{ACCOUNT, TestServer, code, message};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn is_aws_id(id: &str, prefix: &str, len: usize) -> bool {
    id.len() == len
        && id.starts_with(prefix)
        && id[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

on_both_backends!(
    user_lifecycle_keeps_ids_across_renames,
    list_users_pages_in_name_order_and_filters_by_path,
    names_are_unique_regardless_of_case,
    access_key_quota_holds_under_parallel_requests,
    inactive_and_deleted_keys_cannot_sign,
    last_used_records_service_and_region,
    caller_identity_and_denials_name_the_caller,
    signature_failures_get_aws_errors,
    one_key_signs_for_every_region_and_service,
    unimplemented_operations_say_so,
);

async fn user_lifecycle_keeps_ids_across_renames(s: &TestServer) {
    let iam = s.root_iam();
    let before = now();
    let created = iam
        .create_user()
        .user_name("writer")
        .path("/demo/")
        .tags(Tag::builder().key("team").value("blue").build().unwrap())
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    assert_eq!(created.user_name, "writer");
    assert_eq!(created.path, "/demo/");
    assert_eq!(created.arn, format!("arn:aws:iam::{ACCOUNT}:user/demo/writer"));
    assert!(is_aws_id(&created.user_id, "AIDA", 21), "{}", created.user_id);
    assert!((before..=now()).contains(&created.create_date.secs()));
    assert_eq!(created.tags().len(), 1);
    assert_eq!((created.tags()[0].key(), created.tags()[0].value()), ("team", "blue"));

    let got = iam.get_user().user_name("WRITER").send().await.unwrap().user.unwrap();
    assert_eq!(
        got, created,
        "GetUser finds the user regardless of case and returns the same fields"
    );

    iam.update_user()
        .user_name("writer")
        .new_user_name("creator")
        .new_path("/moved/")
        .send()
        .await
        .unwrap();
    let renamed = iam.get_user().user_name("creator").send().await.unwrap().user.unwrap();
    assert_eq!(renamed.user_id, created.user_id, "the id survives a rename");
    assert_eq!(renamed.arn, format!("arn:aws:iam::{ACCOUNT}:user/moved/creator"));
    assert_eq!(renamed.create_date, created.create_date);
    let err = iam.get_user().user_name("writer").send().await.unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(message(&err), "The user with name writer cannot be found.");

    let key = iam
        .create_access_key()
        .user_name("creator")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let err = iam.delete_user().user_name("creator").send().await.unwrap_err();
    assert_eq!(code(&err), "DeleteConflict");
    assert_eq!(message(&err), "Cannot delete entity, must delete access keys first.");
    iam.delete_access_key()
        .user_name("creator")
        .access_key_id(key.access_key_id)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("creator").send().await.unwrap();
    assert_eq!(
        code(&iam.delete_user().user_name("creator").send().await.unwrap_err()),
        "NoSuchEntity"
    );

    let root = iam.get_user().send().await.unwrap().user.unwrap();
    assert_eq!(root.user_id, ACCOUNT);
    assert_eq!(root.arn, format!("arn:aws:iam::{ACCOUNT}:root"));
}

async fn list_users_pages_in_name_order_and_filters_by_path(s: &TestServer) {
    let iam = s.root_iam();
    let names = ["delta", "Alpha", "charlie", "bravo", "echo"];
    for name in names {
        iam.create_user().user_name(name).path("/paged/").send().await.unwrap();
    }
    iam.create_user().user_name("elsewhere").send().await.unwrap();

    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = iam
            .list_users()
            .path_prefix("/paged/")
            .max_items(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.users().len() <= 2);
        seen.extend(page.users().iter().map(|u| u.user_name.clone()));
        assert!(
            page.users().iter().all(|u| u.tags().is_empty()),
            "ListUsers returns no tags"
        );
        if !page.is_truncated {
            assert!(page.marker.is_none());
            break;
        }
        marker = Some(page.marker.expect("a truncated page carries a marker"));
    }
    assert_eq!(seen, ["Alpha", "bravo", "charlie", "delta", "echo"]);

    let all = iam.list_users().send().await.unwrap();
    assert_eq!(all.users().len(), 6);
    assert!(!all.is_truncated);
    let err = iam.list_users().max_items(0).send().await.unwrap_err();
    assert_eq!(code(&err), "ValidationError");
}

async fn names_are_unique_regardless_of_case(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("Reader").send().await.unwrap();
    let err = iam.create_user().user_name("reader").send().await.unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");
    assert_eq!(message(&err), "User with name reader already exists.");
    iam.create_user().user_name("other").send().await.unwrap();
    let err = iam
        .update_user()
        .user_name("other")
        .new_user_name("READER")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "EntityAlreadyExists");

    // Parallel creates of one name: exactly one wins.
    let attempts = (0..8).map(|i| {
        let iam = iam.clone();
        tokio::spawn(async move {
            iam.create_user()
                .user_name(if i % 2 == 0 { "race" } else { "RACE" })
                .send()
                .await
        })
    });
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(code(&e), "EntityAlreadyExists"),
        }
    }
    assert_eq!(won, 1);
}

async fn access_key_quota_holds_under_parallel_requests(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("keys").send().await.unwrap();
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let iam = iam.clone();
            tokio::spawn(async move { iam.create_access_key().user_name("keys").send().await })
        })
        .collect();
    let mut created = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(out) => created.push(out.access_key.unwrap()),
            Err(e) => {
                assert_eq!(code(&e), "LimitExceeded");
                assert_eq!(message(&e), "Cannot exceed quota for AccessKeysPerUser: 2");
            }
        }
    }
    assert_eq!(created.len(), 2);
    for key in &created {
        assert!(is_aws_id(&key.access_key_id, "AKIA", 20), "{}", key.access_key_id);
        assert_eq!(key.secret_access_key.len(), 40);
        assert_eq!(key.status, StatusType::Active);
        assert_eq!(key.user_name, "keys");
    }
    let listed = iam.list_access_keys().user_name("keys").send().await.unwrap();
    let mut ids: Vec<_> = listed
        .access_key_metadata()
        .iter()
        .map(|k| k.access_key_id().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut expected: Vec<_> = created.iter().map(|k| k.access_key_id.clone()).collect();
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        listed
            .access_key_metadata()
            .iter()
            .all(|k| k.user_name() == Some("keys") && k.status() == Some(&StatusType::Active))
    );
}

async fn inactive_and_deleted_keys_cannot_sign(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("signer").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("signer")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let as_user = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    as_user.get_caller_identity().send().await.unwrap();

    iam.update_access_key()
        .user_name("signer")
        .access_key_id(&key.access_key_id)
        .status(StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let listed = iam.list_access_keys().user_name("signer").send().await.unwrap();
    assert_eq!(listed.access_key_metadata()[0].status(), Some(&StatusType::Inactive));
    let err = as_user.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("InvalidClientTokenId")
    );

    iam.update_access_key()
        .user_name("signer")
        .access_key_id(&key.access_key_id)
        .status(StatusType::Active)
        .send()
        .await
        .unwrap();
    as_user.get_caller_identity().send().await.unwrap();
    iam.delete_access_key()
        .user_name("signer")
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap();
    let err = as_user.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        err.as_service_error()
            .and_then(|e| aws_sdk_sts::error::ProvideErrorMetadata::code(e)),
        Some("InvalidClientTokenId")
    );
    let err = iam
        .delete_access_key()
        .user_name("signer")
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NoSuchEntity");
    assert_eq!(
        message(&err),
        format!("The Access Key with id {} cannot be found.", key.access_key_id)
    );
}

async fn last_used_records_service_and_region(s: &TestServer) {
    let iam = s.root_iam();
    iam.create_user().user_name("used").send().await.unwrap();
    let key = iam
        .create_access_key()
        .user_name("used")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let fresh = iam
        .get_access_key_last_used()
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.user_name(), Some("used"));
    let never = fresh.access_key_last_used().unwrap();
    assert_eq!(
        (never.service_name(), never.region(), never.last_used_date()),
        ("N/A", "N/A", None)
    );

    let before = now();
    s.sts_as(&key.access_key_id, &key.secret_access_key, "eu-west-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    let used = iam
        .get_access_key_last_used()
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap();
    let last = used.access_key_last_used().unwrap();
    assert_eq!(last.service_name(), "sts");
    assert_eq!(last.region(), "eu-west-1");
    assert!((before..=now()).contains(&last.last_used_date().unwrap().secs()));
}

async fn caller_identity_and_denials_name_the_caller(s: &TestServer) {
    let root = s.root_sts().get_caller_identity().send().await.unwrap();
    assert_eq!(root.account(), Some(ACCOUNT));
    assert_eq!(root.user_id(), Some(ACCOUNT));
    assert_eq!(root.arn(), Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str()));

    let iam = s.root_iam();
    let user = iam
        .create_user()
        .user_name("nobody")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = iam
        .create_access_key()
        .user_name("nobody")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let me = s
        .sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1")
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.user_id(), Some(user.user_id.as_str()));
    assert_eq!(me.arn(), Some(user.arn.as_str()));

    // A user with no policies is denied, as in AWS.
    let err = s
        .iam_as(&key.access_key_id, &key.secret_access_key, "us-east-1")
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(
        message(&err),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::{ACCOUNT}:user/ \
             because no identity-based policy allows the iam:ListUsers action"
        )
    );
}

async fn signature_failures_get_aws_errors(s: &TestServer) {
    // The root key has signed already (its signing key is kept): a wrong secret still fails.
    s.root_iam().list_users().send().await.unwrap();
    let wrong_secret = s.iam_as(
        common::ROOT_KEY,
        "not-the-secret-not-the-secret-not-the-se",
        "us-east-1",
    );
    let err = wrong_secret.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    assert!(
        message(&err).starts_with("The request signature we calculated does not match the signature you provided.")
    );

    let unknown = s.iam_as("AKIAUNKNOWNUNKNOWN00", common::ROOT_SECRET, "us-east-1");
    let err = unknown.list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "InvalidClientTokenId");
    assert_eq!(message(&err), "The security token included in the request is invalid");
}

/// A signing key is kept per region and service (and day): each scope has its own, and
/// signing for one after another, and back, works every time.
async fn one_key_signs_for_every_region_and_service(s: &TestServer) {
    let (key_id, secret) = s.user_with_inline_policy("traveller", None).await;
    for region in ["us-east-1", "eu-west-1", "us-east-1", "ap-southeast-2", "eu-west-1"] {
        let me = s
            .sts_as(&key_id, &secret, region)
            .get_caller_identity()
            .send()
            .await
            .unwrap();
        assert_eq!(me.account(), Some(ACCOUNT), "{region}");
        // IAM's signing name after STS's, in the same region: denied (no policy), not refused.
        let err = s
            .iam_as(&key_id, &secret, region)
            .list_users()
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&err), "AccessDenied", "{region}");
    }
}

async fn unimplemented_operations_say_so(s: &TestServer) {
    // Every IAM and STS operation the SDK knows is served: an Organizations one is not yet.
    let err = s
        .root_organizations()
        .list_delegated_administrators()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "NotImplemented");
    assert!(
        message(&err).contains("ListDelegatedAdministrators"),
        "{}",
        message(&err)
    );
    match &err {
        aws_sdk_iam::error::SdkError::ServiceError(e) => assert_eq!(e.raw().status().as_u16(), 501),
        other => panic!("{other:?}"),
    }
}
