//! Delegation requests with the AWS SDK for Rust, across two accounts: the partner (the
//! bootstrap account) files a request, the customer's root associates, accepts and releases
//! it, the partner reads the token from its notifications and trades it for credentials;
//! and what time does to each: a token past its duration, a request past its state's life.

use crate::common;

use std::time::{Duration, SystemTime};

use aws_sdk_iam::config::{BehaviorVersion, Region};
use aws_sdk_iam::types::{DelegationPermission, PolicyParameter, PolicyParameterTypeEnum, StateType};
use aws_smithy_async::time::StaticTimeSource;
use common::{ACCOUNT, Backend, TestServer, code};

const CUSTOMER: &str = "210987654321";

const TEMPLATE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::@{bucket}/*"}]}"#;

fn customer_root(s: &TestServer) -> (String, String) {
    let made = &s.accounts[0];
    assert_eq!(made.account_id, CUSTOMER);
    (made.access_key_id.clone(), made.secret_access_key.0.clone())
}

fn sts_code<E: aws_sdk_sts::error::ProvideErrorMetadata, R>(e: &aws_sdk_sts::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn s3_code<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String {
    e.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

/// Moves the server's clock `seconds` on; the time clients must sign at from then on.
fn advance(s: &TestServer, seconds: u64, already: &mut u64) -> SystemTime {
    s.server.as_ref().unwrap().clock().advance(seconds as i64);
    *already += seconds;
    SystemTime::now() + Duration::from_secs(*already)
}

/// Credentials: a key, its secret, and a session token if any.
type Keys<'a> = (&'a str, &'a str, Option<&'a str>);

fn credentials((key, secret, token): Keys<'_>) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(key, secret, token.map(str::to_owned), None, "test")
}

/// Clients signing with `keys` at `at` (the server's clock moved on). One per request: the
/// SDK corrects its signing time by the skew it reads off a response's `Date`, which is the
/// host's time, not the moved clock's.
fn iam_at(s: &TestServer, keys: Keys<'_>, at: SystemTime) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .time_source(StaticTimeSource::new(at))
            .credentials_provider(credentials(keys))
            .build(),
    )
}

fn sts_at(s: &TestServer, keys: Keys<'_>, at: SystemTime) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .time_source(StaticTimeSource::new(at))
            .credentials_provider(credentials(keys))
            .build(),
    )
}

fn s3_at(s: &TestServer, keys: Keys<'_>, at: SystemTime) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(s.endpoint())
            .force_path_style(true)
            .time_source(StaticTimeSource::new(at))
            .credentials_provider(credentials(keys))
            .build(),
    )
}

/// Files a request of `seconds` for the customer, from a template of the partner's.
async fn file(s: &TestServer, bucket: &str, seconds: i32, workflow: &str) -> String {
    file_at(s, bucket, seconds, workflow, SystemTime::now()).await
}

/// [`file`], signed at `at` (the server's clock moved on).
async fn file_at(s: &TestServer, bucket: &str, seconds: i32, workflow: &str, at: SystemTime) -> String {
    let root = (common::ROOT_KEY, common::ROOT_SECRET, None);
    let template = match iam_at(s, root, at)
        .create_policy()
        .policy_name("template")
        .policy_document(TEMPLATE)
        .send()
        .await
    {
        Ok(made) => made.policy().unwrap().arn().unwrap().to_owned(),
        // Made by an earlier filing.
        Err(e) => {
            assert_eq!(code(&e), "EntityAlreadyExists");
            format!("arn:aws:iam::{ACCOUNT}:policy/template")
        }
    };
    let parameter = PolicyParameter::builder()
        .name("bucket")
        .values(bucket)
        .r#type(PolicyParameterTypeEnum::String)
        .build();
    let permissions = DelegationPermission::builder()
        .policy_template_arn(template)
        .parameters(parameter)
        .build();
    iam_at(s, root, at)
        .create_delegation_request()
        .owner_account_id(CUSTOMER)
        .description("Nightly backups")
        .permissions(permissions)
        .requestor_workflow_id(workflow)
        .notification_channel("arn:aws:sns:us-east-1:111122223333:partner")
        .session_duration(seconds)
        .send()
        .await
        .unwrap()
        .delegation_request_id()
        .unwrap()
        .to_owned()
}

/// The exchange token of a request, from the partner's notifications.
async fn exchange_token(s: &TestServer, request_id: &str) -> String {
    let reply = common::raw::oxiam_get(
        s,
        (common::ROOT_KEY, common::ROOT_SECRET),
        "/_oxiam/delegation-notifications",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    body["Notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| serde_json::from_str::<serde_json::Value>(n["Message"].as_str().unwrap()).unwrap())
        .find(|m| m["RequestId"] == request_id && m["Type"] == "ExchangeToken")
        .and_then(|m| m["ExchangeToken"].as_str().map(str::to_owned))
        .expect("an ExchangeToken notification")
}

async fn a_delegation_runs_its_course_and_expires(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[CUSTOMER], false).await;
    let (key, secret) = customer_root(&s);
    let customer = s.iam_as(&key, &secret, "us-east-1");
    let customer_s3 = s.s3_as(&key, &secret, None);
    customer_s3
        .create_bucket()
        .bucket("customer-backups")
        .send()
        .await
        .unwrap();

    let id = file(&s, "customer-backups", 3600, "workflow-1").await;
    let filed = customer
        .get_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let filed = filed.delegation_request().unwrap();
    assert_eq!(filed.state(), Some(&StateType::Unassigned));
    assert_eq!(filed.requestor_id(), Some(ACCOUNT));
    assert_eq!(filed.owner_account_id(), Some(CUSTOMER));
    assert_eq!(
        filed.permission_policy(),
        Some(
            r#"{"Statement":[{"Action":"s3:PutObject","Effect":"Allow","Resource":"arn:aws:s3:::customer-backups/*"}],"Version":"2012-10-17"}"#
        )
    );
    let expires = filed.expiration_time().unwrap().secs() - filed.create_date().unwrap().secs();
    assert_eq!(expires, 86_400, "an unassigned request lives a day");

    customer
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    customer
        .accept_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    customer
        .send_delegation_token()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let listed = customer.list_delegation_requests().send().await.unwrap();
    assert!(!listed.is_truncated());
    let done = &listed.delegation_requests()[0];
    assert_eq!(done.state(), Some(&StateType::Finalized));
    assert_eq!(done.owner_id(), Some(format!("arn:aws:iam::{CUSTOMER}:root").as_str()));
    assert_eq!(done.approver_id(), done.owner_id());

    let token = exchange_token(&s, &id).await;
    let traded = s
        .root_sts()
        .get_delegated_access_token()
        .trade_in_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        traded.assumed_principal(),
        Some(format!("arn:aws:iam::{CUSTOMER}:root").as_str())
    );
    let c = traded.credentials().unwrap();
    let delegated = s.s3_as(c.access_key_id(), c.secret_access_key(), Some(c.session_token()));
    delegated
        .put_object()
        .bucket("customer-backups")
        .key("night-1")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    // The rendered policy binds even the root's session: no read.
    let err = delegated
        .get_object()
        .bucket("customer-backups")
        .key("night-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(s3_code(&err), "AccessDenied");

    // An hour after the release, the delegation is over: no more credentials, and those
    // given expire.
    let mut advanced = 0;
    let later = advance(&s, 3600, &mut advanced);
    let err = sts_at(&s, (common::ROOT_KEY, common::ROOT_SECRET, None), later)
        .get_delegated_access_token()
        .trade_in_token(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(sts_code(&err), "ExpiredTradeInTokenException");
    let err = s3_at(
        &s,
        (c.access_key_id(), c.secret_access_key(), Some(c.session_token())),
        later,
    )
    .put_object()
    .bucket("customer-backups")
    .key("night-2")
    .body(b"x".to_vec().into())
    .send()
    .await
    .unwrap_err();
    assert_eq!(s3_code(&err), "ExpiredToken");

    // A request nobody associates in a day reads EXPIRED, and is associated no more.
    let lapsing = file_at(&s, "customer-backups", 3600, "workflow-2", later).await;
    let later = advance(&s, 86_400, &mut advanced);
    let customer = || iam_at(&s, (&key, &secret, None), later);
    let read = customer()
        .get_delegation_request()
        .delegation_request_id(&lapsing)
        .send()
        .await
        .unwrap();
    assert_eq!(read.delegation_request().unwrap().state(), Some(&StateType::Expired));
    let err = customer()
        .associate_delegation_request()
        .delegation_request_id(&lapsing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidInput");
    s.stop().await;
}

async fn the_root_approves_four_hours_at_most(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[CUSTOMER], false).await;
    let (key, secret) = customer_root(&s);
    let customer = s.iam_as(&key, &secret, "us-east-1");
    let long = file(&s, "b", 4 * 3600 + 1, "workflow-long").await;
    customer
        .associate_delegation_request()
        .delegation_request_id(&long)
        .send()
        .await
        .unwrap();
    let err = customer
        .accept_delegation_request()
        .delegation_request_id(&long)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    let short = file(&s, "b", 4 * 3600, "workflow-short").await;
    customer
        .associate_delegation_request()
        .delegation_request_id(&short)
        .send()
        .await
        .unwrap();
    customer
        .accept_delegation_request()
        .delegation_request_id(&short)
        .send()
        .await
        .unwrap();
    s.stop().await;
}

/// Parallel acceptances of one request: exactly one wins, the others lose the race as
/// ConcurrentModification; parallel filings of one workflow id: exactly one is filed.
async fn races_have_one_winner(backend: Backend) {
    let s = TestServer::start_with_accounts(backend, &[CUSTOMER], false).await;
    let (key, secret) = customer_root(&s);
    let customer = s.iam_as(&key, &secret, "us-east-1");
    let id = file(&s, "b", 3600, "workflow-race").await;
    customer
        .associate_delegation_request()
        .delegation_request_id(&id)
        .send()
        .await
        .unwrap();
    let accepts = (0..8).map(|_| {
        let customer = customer.clone();
        let id = id.clone();
        tokio::spawn(async move {
            customer
                .accept_delegation_request()
                .delegation_request_id(id)
                .send()
                .await
        })
    });
    let mut won = 0;
    for accept in accepts {
        match accept.await.unwrap() {
            Ok(_) => won += 1,
            Err(e) => assert_eq!(code(&e), "ConcurrentModification"),
        }
    }
    assert_eq!(won, 1);

    let filings = (0..8).map(|_| {
        let iam = s.root_iam();
        tokio::spawn(async move {
            let parameter = PolicyParameter::builder()
                .name("bucket")
                .values("b")
                .r#type(PolicyParameterTypeEnum::String)
                .build();
            iam.create_delegation_request()
                .description("d")
                .permissions(
                    DelegationPermission::builder()
                        .policy_template_arn(format!("arn:aws:iam::{ACCOUNT}:policy/template"))
                        .parameters(parameter)
                        .build(),
                )
                .requestor_workflow_id("workflow-same")
                .notification_channel("arn:aws:sns:us-east-1:111122223333:partner")
                .session_duration(900)
                .send()
                .await
        })
    });
    let mut filed = 0;
    for filing in filings {
        match filing.await.unwrap() {
            Ok(_) => filed += 1,
            Err(e) => assert_eq!(code(&e), "EntityAlreadyExists"),
        }
    }
    assert_eq!(filed, 1);
    s.stop().await;
}

per_backend!(
    a_delegation_runs_its_course_and_expires,
    the_root_approves_four_hours_at_most,
    races_have_one_winner,
);
