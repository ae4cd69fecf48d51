//! Test mode's reset: back to a new database's state between tests, keeping the account
//! and its root key; refused by a server not started in test mode.

use crate::common;

use std::time::SystemTime;

use common::raw::{Reply, call, s3_send, send};
use common::{Backend, ROOT_KEY, ROOT_SECRET, TestServer, code};

/// The path of the account's issuer key set.
async fn issuer_keys(server: &TestServer) -> String {
    let info = server
        .root_iam()
        .get_outbound_web_identity_federation_info()
        .send()
        .await
        .unwrap();
    let issuer = info.issuer_identifier().unwrap();
    let path = &issuer[issuer.find("/_oxiam/").unwrap()..];
    format!("{path}/.well-known/jwks.json")
}

async fn post(server: &TestServer, path: &str) -> Reply {
    send(server, "POST", path, &[("host".to_owned(), "x".to_owned())], "").await
}

/// Users, keys, groups, roles, policies, the alias and S3 buckets, made by the root.
async fn populate(server: &TestServer) -> (String, String) {
    let iam = server.root_iam();
    iam.create_user().user_name("u").send().await.unwrap();
    let key = iam.create_access_key().user_name("u").send().await.unwrap();
    let key = key.access_key().unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    iam.add_user_to_group()
        .group_name("g")
        .user_name("u")
        .send()
        .await
        .unwrap();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("r")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(doc)
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("u")
        .policy_arn(policy.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    iam.create_account_alias()
        .account_alias("resettable")
        .send()
        .await
        .unwrap();
    // A profile holding the role, and a tagged OIDC provider with a client id.
    iam.create_instance_profile()
        .instance_profile_name("ip")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("ip")
        .role_name("r")
        .send()
        .await
        .unwrap();
    iam.create_open_id_connect_provider()
        .url("https://idp.example.com")
        .client_id_list("app")
        .tags(aws_sdk_iam::types::Tag::builder().key("k").value("v").build().unwrap())
        .send()
        .await
        .unwrap();
    iam.enable_outbound_web_identity_federation().send().await.unwrap();
    // Published (and kept by the server) before the reset.
    assert_eq!(
        send(server, "GET", &issuer_keys(server).await, &[], "").await.status,
        200
    );
    let root = (ROOT_KEY, ROOT_SECRET);
    let now = SystemTime::now();
    assert_eq!(s3_send(server, root, "PUT", "/wiped", &[], "", now).await.status, 200);
    assert_eq!(
        s3_send(server, root, "PUT", "/wiped/k", &[], "x", now).await.status,
        200
    );
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

async fn everything_is_gone_but_the_root(server: &TestServer, (key, secret): (&str, &str)) {
    let iam = server.root_iam();
    assert_eq!(
        code(&iam.get_user().user_name("u").send().await.unwrap_err()),
        "NoSuchEntity"
    );
    assert!(iam.list_users().send().await.unwrap().users().is_empty());
    assert!(iam.list_roles().send().await.unwrap().roles().is_empty());
    assert!(iam.list_groups().send().await.unwrap().groups().is_empty());
    assert!(
        iam.list_instance_profiles()
            .send()
            .await
            .unwrap()
            .instance_profiles()
            .is_empty()
    );
    assert!(
        iam.list_open_id_connect_providers()
            .send()
            .await
            .unwrap()
            .open_id_connect_provider_list()
            .is_empty()
    );
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(local.policies().is_empty());
    assert!(
        iam.list_account_aliases()
            .send()
            .await
            .unwrap()
            .account_aliases()
            .is_empty()
    );
    let err = iam
        .get_outbound_web_identity_federation_info()
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "FeatureDisabled");
    // The user's key is gone; the root's still works, on IAM, STS and S3.
    let reply = common::raw::call_as(server, key, secret, "Action=ListUsers&Version=2010-05-08", "iam").await;
    assert_eq!(reply.code(), "InvalidClientTokenId", "{}", reply.body);
    let who = call(server, "Action=GetCallerIdentity&Version=2011-06-15", "sts").await;
    assert_eq!(who.status, 200, "{}", who.body);
    let root = (ROOT_KEY, ROOT_SECRET);
    let buckets = s3_send(server, root, "GET", "/", &[], "", SystemTime::now()).await;
    assert!(!buckets.body.contains("<Name>wiped</Name>"), "{}", buckets.body);
    // And the names are free again.
    iam.create_user().user_name("u").send().await.unwrap();
    assert_eq!(
        s3_send(server, root, "PUT", "/wiped", &[], "", SystemTime::now())
            .await
            .status,
        200
    );
}

async fn a_reset_keeps_only_the_account_and_its_root_key(backend: Backend) {
    let server = TestServer::start_in_test_mode(backend).await;
    let (key, secret) = populate(&server).await;
    let published = issuer_keys(&server).await;
    // A second root key goes; the configured one stays.
    let extra = server.root_iam().create_access_key().send().await.unwrap();
    let extra = extra.access_key().unwrap().clone();
    // Only the exact path, by POST, resets.
    let head = [("host".to_owned(), "x".to_owned())];
    for (method, path) in [
        ("GET", "/_oxiam/reset"),
        ("POST", "/_oxiam/reset/"),
        ("POST", "/moto-api/reset?uploads"),
    ] {
        let reply = send(&server, method, path, &head, "").await;
        assert_ne!(reply.body, "reset\n", "{method} {path}");
    }
    assert_eq!(server.root_iam().list_users().send().await.unwrap().users().len(), 1);
    let reply = post(&server, "/_oxiam/reset").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "reset\n"));
    everything_is_gone_but_the_root(&server, (&key, &secret)).await;
    // The issuer's published keys went with it (the server kept none).
    assert_eq!(send(&server, "GET", &published, &[], "").await.status, 404);
    let reply = common::raw::call_as(
        &server,
        extra.access_key_id(),
        extra.secret_access_key(),
        "Action=GetCallerIdentity&Version=2011-06-15",
        "sts",
    )
    .await;
    assert_eq!(reply.code(), "InvalidClientTokenId", "{}", reply.body);

    // moto's reset path does the same.
    let reply = post(&server, "/moto-api/reset").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "reset\n"));
    assert!(server.root_iam().list_users().send().await.unwrap().users().is_empty());
    server.stop().await;
}

async fn a_reset_is_refused_outside_test_mode(backend: Backend) {
    let server = TestServer::start(backend).await;
    populate(&server).await;
    let reply = post(&server, "/_oxiam/reset").await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    // moto's path is just a bucket name here, and S3 wants a signature for it.
    let reply = post(&server, "/moto-api/reset").await;
    assert_ne!(reply.status, 200, "{}", reply.body);
    let users = server.root_iam().list_users().send().await.unwrap();
    assert_eq!(users.users().len(), 1, "nothing was wiped");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reset_in_test_mode() {
    a_reset_keeps_only_the_account_and_its_root_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reset_in_test_mode() {
    if common::postgres_available() {
        a_reset_keeps_only_the_account_and_its_root_key(Backend::Postgres).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reset_outside_test_mode() {
    a_reset_is_refused_outside_test_mode(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reset_outside_test_mode() {
    if common::postgres_available() {
        a_reset_is_refused_outside_test_mode(Backend::Postgres).await;
    }
}
