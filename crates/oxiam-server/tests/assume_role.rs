//! End to end: STS AssumeRole with the AWS SDK for Rust, and requests signed with the
//! temporary credentials it returns (scenario 6, and the rules around it).

use crate::common;

use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region};
use common::{ACCOUNT, TestServer, code, message};

const LIST_ROLES: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#;

fn trust(principal_arn: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal_arn}"}},"Action":"sts:AssumeRole"}}]}}"#
    )
}

fn session_clients(s: &TestServer, c: &aws_sdk_sts::types::Credentials) -> (aws_sdk_iam::Client, aws_sdk_sts::Client) {
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "session",
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .credentials_provider(creds.clone())
            .build(),
    );
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .credentials_provider(creds)
            .build(),
    );
    (iam, sts)
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn sts_message<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.message()).unwrap_or("").to_owned()
}

on_both_backends!(
    denied_before_assuming_the_role_and_allowed_after,
    trust_and_duration_rules,
    temporary_credentials_expire,
    session_tags_decide_and_pass_on,
    session_token_credentials_act_as_the_user,
    sessions_carry_token_issue_time_and_no_mfa,
    a_role_arn_that_is_no_arn_is_invalid_before_authorization,
);

/// A RoleArn that is no role ARN answers ValidationError whoever asks: the root (which
/// may assume no role) and a user with no permissions alike; a well-formed ARN of a role
/// that does not exist is AccessDenied, as before.
async fn a_role_arn_that_is_no_arn_is_invalid_before_authorization(s: &TestServer) {
    let (key, secret) = s.user_with_inline_policy("nobody", None).await;
    let nobody = s.sts_as(&key, &secret, "us-east-1");
    for sts in [s.root_sts(), nobody.clone()] {
        for arn in [
            "not-an-arn-but-long-enough",
            "arn:aws:iam::123:role/too-short-account",
            "arn:aws:s3:::a-bucket-not-a-role",
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:role/",
        ] {
            let err = sts
                .assume_role()
                .role_arn(arn)
                .role_session_name("session")
                .send()
                .await
                .unwrap_err();
            assert_eq!(
                (sts_code(&err), sts_message(&err)),
                ("ValidationError".to_owned(), "Request ARN is invalid".to_owned()),
                "{arn}"
            );
        }
    }
    let err = nobody
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/missing")
        .role_session_name("session")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
}

async fn sessions_carry_token_issue_time_and_no_mfa(s: &TestServer) {
    let root = s.root_iam();
    let user = root
        .create_user()
        .user_name("keyholder")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("keyholder")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    root.create_role()
        .role_name("mfa-aware")
        .assume_role_policy_document(trust(&user.arn))
        .send()
        .await
        .unwrap();
    let policy = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["iam:ListRoles","iam:ListUsers"],"Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}},
        {"Effect":"Deny","Action":"iam:ListUsers","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    root.put_role_policy()
        .role_name("mfa-aware")
        .policy_name("p")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/mfa-aware"))
        .role_session_name("no-mfa")
        .send()
        .await
        .unwrap();
    let (iam, _) = session_clients(s, out.credentials().unwrap());
    iam.list_roles().send().await.unwrap();
    let err = iam.list_users().send().await.unwrap_err();
    assert!(
        message(&err).ends_with("with an explicit deny in an identity-based policy"),
        "{}",
        message(&err)
    );
}

async fn session_token_credentials_act_as_the_user(s: &TestServer) {
    let root = s.root_iam();
    let user = root
        .create_user()
        .user_name("traveller")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("traveller")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    root.put_user_policy()
        .user_name("traveller")
        .policy_name("list")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetAccessKeyInfo"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let out = sts.get_session_token().send().await.unwrap();
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let lasts = creds.expiration().secs()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
    assert!((43_190..=43_200).contains(&lasts), "{lasts}");
    let (iam, session_sts) = session_clients(s, creds);
    let me = session_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(user.arn.as_str()), "the session acts as the user");
    assert_eq!(me.user_id(), Some(user.user_id.as_str()));
    // Without MFA, no IAM and no STS beyond AssumeRole and GetCallerIdentity.
    assert_eq!(code(&iam.list_users().send().await.unwrap_err()), "AccessDenied");
    let err = session_sts.get_session_token().send().await.unwrap_err();
    assert_eq!(
        sts_message(&err),
        "Cannot call GetSessionToken with session credentials"
    );
    let err = session_sts
        .get_access_key_info()
        .access_key_id(&key.access_key_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    // The user's long-term key still can.
    s.iam_as(&key.access_key_id, &key.secret_access_key, "us-east-1")
        .list_users()
        .send()
        .await
        .unwrap();

    let err = s
        .root_sts()
        .get_session_token()
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        sts_code(&err),
        "ValidationError",
        "the root's sessions last at most an hour"
    );
    let root_session = s.root_sts().get_session_token().send().await.unwrap();
    let (_, root_sts) = session_clients(s, root_session.credentials().unwrap());
    assert_eq!(
        root_sts.get_caller_identity().send().await.unwrap().arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );
}

async fn session_tags_decide_and_pass_on(s: &TestServer) {
    use aws_sdk_sts::types::Tag;
    let root = s.root_iam();
    let user = root
        .create_user()
        .user_name("tagger")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("tagger")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let trust_with_tags = |principal: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
        )
    };
    root.create_role()
        .role_name("first")
        .assume_role_policy_document(trust_with_tags(&user.arn))
        .send()
        .await
        .unwrap();
    let blue_only = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/project":"blue"}}},
        {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    root.put_role_policy()
        .role_name("first")
        .policy_name("blue")
        .policy_document(blue_only)
        .send()
        .await
        .unwrap();
    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let first = format!("arn:aws:iam::{ACCOUNT}:role/first");
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();

    let blue = sts
        .assume_role()
        .role_arn(&first)
        .role_session_name("blue")
        .tags(tag("project", "blue"))
        .transitive_tag_keys("project")
        .send()
        .await
        .unwrap();
    let (blue_iam, blue_sts) = session_clients(s, blue.credentials().unwrap());
    blue_iam.list_roles().send().await.unwrap();
    let red = sts
        .assume_role()
        .role_arn(&first)
        .role_session_name("red")
        .tags(tag("project", "red"))
        .send()
        .await
        .unwrap();
    let (red_iam, _) = session_clients(s, red.credentials().unwrap());
    assert_eq!(code(&red_iam.list_roles().send().await.unwrap_err()), "AccessDenied");

    // Without sts:TagSession in the trust policy, tags cannot be passed.
    root.create_role()
        .role_name("no-tags")
        .assume_role_policy_document(trust(&user.arn))
        .send()
        .await
        .unwrap();
    let err = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/no-tags"))
        .role_session_name("s1")
        .tags(tag("project", "blue"))
        .send()
        .await
        .unwrap_err();
    assert!(
        sts_message(&err).contains("is not authorized to perform: sts:TagSession"),
        "{}",
        sts_message(&err)
    );

    // Role chaining: the transitive tag rides along and cannot be overridden.
    root.create_role()
        .role_name("second")
        .assume_role_policy_document(trust_with_tags(&first))
        .send()
        .await
        .unwrap();
    root.put_role_policy()
        .role_name("second")
        .policy_name("blue")
        .policy_document(blue_only)
        .send()
        .await
        .unwrap();
    let second = format!("arn:aws:iam::{ACCOUNT}:role/second");
    let chained = blue_sts
        .assume_role()
        .role_arn(&second)
        .role_session_name("chained")
        .send()
        .await
        .unwrap();
    let (chained_iam, _) = session_clients(s, chained.credentials().unwrap());
    chained_iam.list_roles().send().await.unwrap();
    let err = blue_sts
        .assume_role()
        .role_arn(&second)
        .role_session_name("override")
        .tags(tag("Project", "red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "InvalidParameterValue");
    assert_eq!(
        sts_message(&err),
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session."
    );
    // A transitive key must name one of the request's tags; tag keys differ by more than case.
    for (request, message) in [
        (
            blue_sts
                .assume_role()
                .tags(tag("Team", "a"))
                .transitive_tag_keys("Cost"),
            "The specified transitive tag key must be included in the requested tags.",
        ),
        (
            blue_sts.assume_role().tags(tag("Team", "a")).tags(tag("team", "b")),
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ),
    ] {
        let err = request
            .role_arn(&second)
            .role_session_name("invalid")
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            (sts_code(&err), sts_message(&err)),
            ("InvalidParameterValue".to_owned(), message.to_owned())
        );
    }
}

async fn temporary_credentials_expire(s: &TestServer) {
    let root = s.root_iam();
    let user = root
        .create_user()
        .user_name("short")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("short")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    root.create_role()
        .role_name("brief")
        .assume_role_policy_document(trust(&user.arn))
        .send()
        .await
        .unwrap();
    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/brief");
    let assumed = sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("short-lived")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    let (_, role_sts) = session_clients(s, creds);
    role_sts.get_caller_identity().send().await.unwrap();

    // 16 minutes later, by the server's clock and the client's alike.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(16 * 60);
    s.server.as_ref().unwrap().clock().advance(16 * 60);
    let expired = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .time_source(aws_smithy_async::time::StaticTimeSource::new(later))
            .credentials_provider(Credentials::new(
                creds.access_key_id(),
                creds.secret_access_key(),
                Some(creds.session_token().to_owned()),
                None,
                "session",
            ))
            .build(),
    );
    let err = expired.get_caller_identity().send().await.unwrap_err();
    assert_eq!(sts_code(&err), "ExpiredToken");
    assert_eq!(
        sts_message(&err),
        "The security token included in the request is expired"
    );

    // S3 reads the same clock: the session is over there too, and S3 says so its own way.
    let s3 = s.s3_as_session(creds);
    let err = s3.list_buckets().send().await.unwrap_err();
    let aws_sdk_s3::error::SdkError::ServiceError(service_error) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(service_error.raw().status().as_u16(), 400);
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(service_error.err()),
        Some("ExpiredToken")
    );
}

async fn denied_before_assuming_the_role_and_allowed_after(s: &TestServer) {
    let root = s.root_iam();
    let user = root
        .create_user()
        .user_name("assumer")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("assumer")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    let role = root
        .create_role()
        .role_name("lister")
        .assume_role_policy_document(trust(&user.arn))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    root.put_role_policy()
        .role_name("lister")
        .policy_name("list")
        .policy_document(LIST_ROLES)
        .send()
        .await
        .unwrap();
    root.put_user_policy()
        .user_name("assumer")
        .policy_name("assume")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{}"}}]}}"#,
            role.arn
        ))
        .send()
        .await
        .unwrap();

    let as_user = s.iam_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    assert_eq!(code(&as_user.list_roles().send().await.unwrap_err()), "AccessDenied");

    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let assumed = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("demo-session")
        .send()
        .await
        .unwrap();
    let creds = assumed.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA") && creds.access_key_id().len() == 20);
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(!creds.session_token().is_empty());
    let expires = creds.expiration().secs()
        - std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
    assert!((3590..=3600).contains(&expires), "{expires}");
    let who = assumed.assumed_role_user().unwrap();
    assert_eq!(
        who.arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/lister/demo-session")
    );
    assert_eq!(who.assumed_role_id(), format!("{}:demo-session", role.role_id));

    let (as_role, role_sts) = session_clients(s, creds);
    let me = role_sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(who.arn()));
    assert_eq!(me.user_id(), Some(who.assumed_role_id()));
    assert_eq!(as_role.list_roles().send().await.unwrap().roles().len(), 1);
    let err = as_role.list_users().send().await.unwrap_err();
    assert_eq!(
        message(&err),
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/lister/demo-session is not authorized to perform: iam:ListUsers \
             on resource: arn:aws:iam::{ACCOUNT}:user/ because no identity-based policy allows the iam:ListUsers action"
        )
    );
    let last_used = root.get_role().role_name("lister").send().await.unwrap().role.unwrap();
    assert_eq!(last_used.role_last_used().and_then(|u| u.region()), Some("us-east-1"));

    // A session policy narrows the session to what both allow.
    let narrowed = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("narrow")
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    #[expect(
        deprecated,
        reason = "AWS answers PackedPolicySize alone; the SDK deprecates it for SessionTokenUtilization"
    )]
    let packed = narrowed.packed_policy_size();
    assert!(packed.is_some_and(|p| p > 0));
    // AWS's answers carry PackedPolicySize alone.
    assert_eq!(narrowed.session_token_utilization(), None);
    let (narrow_iam, _) = session_clients(s, narrowed.credentials().unwrap());
    let err = narrow_iam.list_roles().send().await.unwrap_err();
    assert!(
        message(&err).ends_with("because no session policy allows the iam:ListRoles action"),
        "{}",
        message(&err)
    );

    // A wrong or missing session token is not accepted.
    let mut forged = creds.clone();
    forged.session_token = "forged".into();
    let (forged_iam, _) = session_clients(s, &forged);
    assert_eq!(
        code(&forged_iam.list_roles().send().await.unwrap_err()),
        "InvalidClientTokenId"
    );
}

async fn trust_and_duration_rules(s: &TestServer) {
    let root = s.root_iam();
    let outsider = root
        .create_user()
        .user_name("outsider")
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    let key = root
        .create_access_key()
        .user_name("outsider")
        .send()
        .await
        .unwrap()
        .access_key
        .unwrap();
    root.attach_user_policy()
        .user_name("outsider")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    let role = root
        .create_role()
        .role_name("someone-else")
        .assume_role_policy_document(trust(&format!("arn:aws:iam::{ACCOUNT}:user/nobody-here")))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let sts = s.sts_as(&key.access_key_id, &key.secret_access_key, "us-east-1");
    let err = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("s1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied");
    assert_eq!(
        sts_message(&err),
        format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
            outsider.arn, role.arn
        )
    );

    root.update_assume_role_policy()
        .role_name("someone-else")
        .policy_document(trust(&outsider.arn))
        .send()
        .await
        .unwrap();
    sts.assume_role()
        .role_arn(&role.arn)
        .role_session_name("s2")
        .send()
        .await
        .unwrap();
    let err = sts
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("s3")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "ValidationError");
    let missing = format!("arn:aws:iam::{ACCOUNT}:role/missing");
    let err = sts
        .assume_role()
        .role_arn(&missing)
        .role_session_name("s4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "AccessDenied", "a missing role is not revealed");

    let err = s
        .root_sts()
        .assume_role()
        .role_arn(&role.arn)
        .role_session_name("root")
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_message(&err), "Roles may not be assumed by root accounts.");
}
