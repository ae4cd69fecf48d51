//! End to end: STS GetFederationToken with the AWS SDK for Rust. A federated user may do
//! what both the user who asked and the session policies allow (nothing without a session
//! policy, unless a resource policy names the federated user itself), calls no IAM and no
//! STS but GetCallerIdentity, and its session tags need sts:TagSession.

use crate::common;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sts::types::Tag;
use common::{ACCOUNT, ROOT_KEY, ROOT_SECRET, TestServer, code};

/// The broker's own policy: federation, and S3 put and get (never delete).
const BROKER: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["sts:GetFederationToken","s3:PutObject","s3:GetObject"],"Resource":"*"}]}"#;
/// The session policy: put and delete (never get).
const PUT_AND_DELETE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"*"}]}"#;

fn s3(s: &TestServer, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_s3::Client {
    s.s3_as_session(c)
}

fn root_s3(s: &TestServer) -> aws_sdk_s3::Client {
    s.s3_as(ROOT_KEY, ROOT_SECRET, None)
}

/// Puts a one-byte object.
async fn put(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<(), aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError>> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .map(|_| ())
}

fn session_sts(s: &TestServer, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_sts::Client {
    s.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token())
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn sts_message<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.message()).unwrap_or("").to_owned()
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn seconds_left(c: &aws_sdk_sts::types::Credentials) -> i64 {
    c.expiration().secs()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
}

on_both_backends!(
    a_federated_user_may_do_what_both_the_user_and_the_session_policy_allow,
    without_a_session_policy_only_a_resource_policy_naming_the_federated_user_grants,
    federated_users_call_no_iam_and_no_sts_but_get_caller_identity,
    who_may_ask_and_for_how_long,
    session_tags_need_tag_session_and_decide,
    the_users_boundary_group_denies_and_later_changes_bind_its_federated_users,
);

/// What limits the user limits its federated users, now and as it changes: its
/// permissions boundary, a Deny of its group's, a policy removed after the token was issued.
async fn the_users_boundary_group_denies_and_later_changes_bind_its_federated_users(s: &TestServer) {
    let root = root_s3(s);
    root.create_bucket().bucket("bound").send().await.unwrap();
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let (key, secret) = s.user_with_inline_policy("broker", Some(everything)).await;
    let iam = s.root_iam();
    let federated = |c: &aws_sdk_sts::types::Credentials| s3(s, c);
    let token = || async {
        s.sts_as(&key, &secret, "us-east-1")
            .get_federation_token()
            .name("fed")
            .policy(everything)
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap()
    };
    let creds = token().await;
    put(&federated(&creds), "bound", "a").await.unwrap();

    // A boundary that allows only reads: the federated user may no longer put.
    let boundary = iam
        .create_policy()
        .policy_name("read-only-boundary")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","sts:GetFederationToken"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.put_user_permissions_boundary()
        .user_name("broker")
        .permissions_boundary(&boundary)
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(&put(&federated(&creds), "bound", "b").await.unwrap_err()),
        "AccessDenied",
        "the boundary binds"
    );
    iam.delete_user_permissions_boundary()
        .user_name("broker")
        .send()
        .await
        .unwrap();
    put(&federated(&creds), "bound", "c").await.unwrap();

    // A Deny of the user's group.
    iam.create_group().group_name("no-puts").send().await.unwrap();
    iam.put_group_policy()
        .group_name("no-puts")
        .policy_name("deny")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("no-puts")
        .user_name("broker")
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(&put(&federated(&creds), "bound", "d").await.unwrap_err()),
        "AccessDenied",
        "the group's Deny binds"
    );
    iam.remove_user_from_group()
        .group_name("no-puts")
        .user_name("broker")
        .send()
        .await
        .unwrap();

    // The user's own policy removed after the token was issued.
    put(&federated(&creds), "bound", "e").await.unwrap();
    iam.delete_user_policy()
        .user_name("broker")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(
        s3_code(&put(&federated(&creds), "bound", "f").await.unwrap_err()),
        "AccessDenied",
        "a later change binds"
    );
}

async fn a_federated_user_may_do_what_both_the_user_and_the_session_policy_allow(s: &TestServer) {
    root_s3(s).create_bucket().bucket("drop").send().await.unwrap();
    let (key, secret) = s.user_with_inline_policy("broker", Some(BROKER)).await;
    let out = s
        .sts_as(&key, &secret, "us-east-1")
        .get_federation_token()
        .name("carol")
        .policy(PUT_AND_DELETE)
        .send()
        .await
        .unwrap();
    let federated = out.federated_user().unwrap();
    assert_eq!(federated.arn(), format!("arn:aws:sts::{ACCOUNT}:federated-user/carol"));
    assert_eq!(federated.federated_user_id(), format!("{ACCOUNT}:carol"));
    #[expect(
        deprecated,
        reason = "AWS answers PackedPolicySize alone; the SDK deprecates it for SessionTokenUtilization"
    )]
    let packed = out.packed_policy_size();
    assert!(packed.is_some_and(|p| p > 0 && p < 100));
    assert_eq!(out.session_token_utilization(), None);
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert!((43_190..=43_200).contains(&seconds_left(creds)), "12 hours by default");

    let me = session_sts(s, creds).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(federated.arn()));
    // Its key's account is known, as every key oxiam issued is.
    let info = s
        .root_sts()
        .get_access_key_info()
        .access_key_id(creds.access_key_id())
        .send()
        .await
        .unwrap();
    assert_eq!(info.account(), Some(ACCOUNT));
    assert_eq!(me.user_id(), Some(federated.federated_user_id()));
    assert_eq!(me.account(), Some(ACCOUNT));

    let bucket = s3(s, creds);
    // Both allow put; only the user allows get; only the session policy allows delete.
    put(&bucket, "drop", "k").await.unwrap();
    let err = bucket.get_object().bucket("drop").key("k").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied", "the session policy does not allow get");
    let err = bucket.delete_object().bucket("drop").key("k").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied", "the user does not allow delete");

    // The federated user's session dies with the user who asked for it.
    let iam = s.root_iam();
    iam.delete_user_policy()
        .user_name("broker")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    iam.delete_access_key()
        .user_name("broker")
        .access_key_id(&key)
        .send()
        .await
        .unwrap();
    iam.delete_user().user_name("broker").send().await.unwrap();
    let err = session_sts(s, creds).get_caller_identity().send().await.unwrap_err();
    assert_eq!(sts_code(&err), "InvalidClientTokenId");
}

async fn without_a_session_policy_only_a_resource_policy_naming_the_federated_user_grants(s: &TestServer) {
    let root = root_s3(s);
    root.create_bucket().bucket("shared").send().await.unwrap();
    put(&root, "shared", "k").await.unwrap();
    let (key, secret) = s.user_with_inline_policy("broker", Some(BROKER)).await;
    let sts = s.sts_as(&key, &secret, "us-east-1");
    let bare = sts.get_federation_token().name("dave").send().await.unwrap();
    assert_eq!(bare.session_token_utilization(), None);
    let creds = bare.credentials().unwrap();
    let err = s3(s, creds)
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        s3_code(&err),
        "AccessDenied",
        "no session policy: nothing the user's own policies allow"
    );

    // A bucket policy naming the user who asked is limited by the (missing) session policy
    // as the user's own policies are …
    let grant = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}}]}}"#
        )
    };
    root.put_bucket_policy()
        .bucket("shared")
        .policy(grant(&format!("arn:aws:iam::{ACCOUNT}:user/broker")))
        .send()
        .await
        .unwrap();
    let err = s3(s, creds)
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
    // … but one naming the federated user itself grants what it says.
    root.put_bucket_policy()
        .bucket("shared")
        .policy(grant(&format!("arn:aws:sts::{ACCOUNT}:federated-user/dave")))
        .send()
        .await
        .unwrap();
    s3(s, creds)
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap();
    // Another federated user of the same broker is not named.
    let other = sts.get_federation_token().name("erin").send().await.unwrap();
    let err = s3(s, other.credentials().unwrap())
        .get_object()
        .bucket("shared")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}

async fn federated_users_call_no_iam_and_no_sts_but_get_caller_identity(s: &TestServer) {
    // The session policy allows everything: the refusals are the credentials' own.
    let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let (key, secret) = s.user_with_inline_policy("broker", Some(everything)).await;
    s.root_iam()
        .create_role()
        .role_name("target")
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
        .send()
        .await
        .unwrap();
    let out = s
        .sts_as(&key, &secret, "us-east-1")
        .get_federation_token()
        .name("frank")
        .policy(everything)
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    let err = s.iam_as_session(creds).list_users().send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let sts = session_sts(s, creds);
    let err = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/target"))
        .role_session_name("escape")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    let err = sts.get_session_token().send().await.unwrap_err();
    assert_eq!(
        sts_message(&err),
        "Cannot call GetSessionToken with session credentials"
    );
    let err = sts.get_federation_token().name("again").send().await.unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    assert_eq!(
        sts_message(&err),
        "Cannot call GetFederationToken with session credentials"
    );
    sts.get_caller_identity().send().await.unwrap();
}

async fn who_may_ask_and_for_how_long(s: &TestServer) {
    // A user without sts:GetFederationToken may not.
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let err = s
        .sts_as(&key, &secret, "us-east-1")
        .get_federation_token()
        .name("gina")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    assert!(
        sts_message(&err).contains(&format!(
            "sts:GetFederationToken on resource: arn:aws:sts::{ACCOUNT}:federated-user/gina"
        )),
        "{}",
        sts_message(&err)
    );
    // Names: 2 to 32 of [\w+=,.@-].
    let (key, secret) = s.user_with_inline_policy("broker", Some(BROKER)).await;
    let sts = s.sts_as(&key, &secret, "us-east-1");
    for bad in ["g", "has space", &"n".repeat(33)] {
        let err = sts.get_federation_token().name(bad).send().await.unwrap_err();
        assert_eq!(sts_code(&err), "ValidationError", "{bad:?}");
    }
    // A user's: 900 s to 36 h.
    let out = sts
        .get_federation_token()
        .name("hal")
        .duration_seconds(129_600)
        .send()
        .await
        .unwrap();
    assert!((129_590..=129_600).contains(&seconds_left(out.credentials().unwrap())));
    for bad in [899, 129_601] {
        let err = sts
            .get_federation_token()
            .name("hal")
            .duration_seconds(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(sts_code(&err), "ValidationError", "{bad}");
    }
    // The root's: an hour at most, an hour by default.
    let root = s.root_sts();
    let err = root
        .get_federation_token()
        .name("ivy")
        .duration_seconds(3601)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "ValidationError");
    let out = root
        .get_federation_token()
        .name("ivy")
        .policy(PUT_AND_DELETE)
        .send()
        .await
        .unwrap();
    assert!((3590..=3600).contains(&seconds_left(out.credentials().unwrap())));
    // The root's federated user may do what its session policy allows, and no more.
    root_s3(s).create_bucket().bucket("rooted").send().await.unwrap();
    let bucket = s3(s, out.credentials().unwrap());
    put(&bucket, "rooted", "k").await.unwrap();
    let err = bucket.get_object().bucket("rooted").key("k").send().await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    // Temporary credentials may not ask: a role session's, GetSessionToken's.
    let session = sts.get_session_token().send().await.unwrap();
    let err = session_sts(s, session.credentials().unwrap())
        .get_federation_token()
        .name("jack")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        sts_message(&err),
        "Cannot call GetFederationToken with session credentials"
    );
    // A malformed session policy is refused before anything is issued.
    let err = sts
        .get_federation_token()
        .name("kim")
        .policy("{not json")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "MalformedPolicyDocument");
    let err = sts
        .get_federation_token()
        .name("kim")
        .policy_arns(
            aws_sdk_sts::types::PolicyDescriptorType::builder()
                .arn(format!("arn:aws:iam::{ACCOUNT}:policy/missing"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "ValidationError");
}

async fn session_tags_need_tag_session_and_decide(s: &TestServer) {
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let (key, secret) = s.user_with_inline_policy("broker", Some(BROKER)).await;
    let sts = s.sts_as(&key, &secret, "us-east-1");
    let err = sts
        .get_federation_token()
        .name("lee")
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    assert!(sts_message(&err).contains("sts:TagSession"), "{}", sts_message(&err));

    let tagging = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["sts:GetFederationToken","sts:TagSession","s3:PutObject"],"Resource":"*"}]}"#;
    let (key, secret) = s.user_with_inline_policy("tagger", Some(tagging)).await;
    // The session may put only under its own team's prefix.
    let by_team = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"}]}"#;
    let out = s
        .sts_as(&key, &secret, "us-east-1")
        .get_federation_token()
        .name("lee")
        .policy(by_team)
        .tags(tag("team", "red"))
        .send()
        .await
        .unwrap();
    root_s3(s).create_bucket().bucket("teams").send().await.unwrap();
    let bucket = s3(s, out.credentials().unwrap());
    put(&bucket, "teams", "red/a").await.unwrap();
    let err = put(&bucket, "teams", "blue/a").await.unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");
}
