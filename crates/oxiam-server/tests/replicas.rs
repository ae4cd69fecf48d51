//! Two oxiam servers on one PostgreSQL database, as replicas behind a load balancer run,
//! each answering its hottest lookups from memory (`oxiam-store`'s `replication.rs`):
//! what one makes the other serves at once, what one revokes the other refuses once it
//! has heard (within the revocation window docs/benchmarks.md measures), and the rules that
//! must hold under parallel requests hold across servers as within one.

use crate::common;

use std::time::Duration;

use common::TestServer;

const READ_USERS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}"#;

/// A counter or gauge of the server's metrics.
async fn metric(server: &TestServer, name: &str) -> u64 {
    let reply = common::raw::send(server, "GET", "/_oxiam/metrics", &[("host".into(), "x".into())], "").await;
    let line = reply
        .body
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("{name} in\n{}", reply.body));
    line[name.len() + 1..].parse().unwrap()
}

async fn cache_hits(server: &TestServer) -> u64 {
    metric(server, r#"oxiam_read_cache_lookups_total{result="hit"}"#).await
}

/// Waits (up to 20 s, then fails) for the server's read-cache lease.
async fn leased(server: &TestServer) {
    for _ in 0..2000 {
        if metric(server, "oxiam_read_cache_lease").await == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the server never took its read-cache lease");
}

/// Asks GetUser (for up to 5 s) until the server refuses: the refusal's code.
async fn first_refusal(iam: &aws_sdk_iam::Client) -> Option<String> {
    for _ in 0..500 {
        match iam.get_user().send().await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => return Some(code(&e)),
        }
    }
    None
}

fn code<E: aws_sdk_iam::error::ProvideErrorMetadata>(e: &aws_sdk_iam::error::SdkError<E>) -> String {
    aws_sdk_iam::error::ProvideErrorMetadata::code(e)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_replica_makes_or_revokes_the_other_serves_or_refuses() {
    if !common::postgres_available() {
        return;
    }
    let (a, b) = TestServer::start_replicas().await;
    leased(&b).await;

    // Made on A, used on B at once: a new key is never one B kept a miss of.
    let (key, secret) = a.user_with_inline_policy("alice", Some(READ_USERS)).await;
    let alice_on_b = b.iam_as(&key, &secret, "us-east-1");
    alice_on_b.get_user().send().await.unwrap();
    // B now answers alice's lookups from memory.
    let hits = cache_hits(&b).await;
    alice_on_b.get_user().send().await.unwrap();
    assert!(cache_hits(&b).await > hits, "B answered nothing from memory");

    // Revoked on A: B refuses once it has heard, and never serves the key again.
    a.root_iam()
        .update_access_key()
        .user_name("alice")
        .access_key_id(&key)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    assert_eq!(
        first_refusal(&alice_on_b).await.as_deref(),
        Some("InvalidClientTokenId")
    );
    for _ in 0..20 {
        let again = alice_on_b.get_user().send().await.unwrap_err();
        assert_eq!(code(&again), "InvalidClientTokenId");
    }

    // A policy taken away on B is no longer granted on A.
    let (key, secret) = b.user_with_inline_policy("bob", Some(READ_USERS)).await;
    let bob_on_a = a.iam_as(&key, &secret, "us-east-1");
    bob_on_a.get_user().send().await.unwrap();
    b.root_iam()
        .delete_user_policy()
        .user_name("bob")
        .policy_name("p")
        .send()
        .await
        .unwrap();
    assert_eq!(first_refusal(&bob_on_a).await.as_deref(), Some("AccessDenied"));

    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_quotas_hold_across_replicas() {
    if !common::postgres_available() {
        return;
    }
    let (a, b) = TestServer::start_replicas().await;
    let (on_a, on_b) = (a.root_iam(), b.root_iam());

    // Eight creations of one name, half on each server: one user.
    let mut creations = Vec::new();
    for i in 0..8 {
        let iam = if i % 2 == 0 { on_a.clone() } else { on_b.clone() };
        creations.push(tokio::spawn(async move {
            iam.create_user().user_name("carol").send().await
        }));
    }
    let mut made = 0;
    for creation in creations {
        match creation.await.unwrap() {
            Ok(_) => made += 1,
            Err(e) => assert_eq!(code(&e), "EntityAlreadyExists"),
        }
    }
    assert_eq!(made, 1);

    // Six access keys asked for at once on both servers: the quota of two holds.
    let mut keys = Vec::new();
    for i in 0..6 {
        let iam = if i % 2 == 0 { on_a.clone() } else { on_b.clone() };
        keys.push(tokio::spawn(async move {
            iam.create_access_key().user_name("carol").send().await
        }));
    }
    let mut issued = 0;
    for key in keys {
        match key.await.unwrap() {
            Ok(_) => issued += 1,
            Err(e) => assert_eq!(code(&e), "LimitExceeded"),
        }
    }
    assert_eq!(issued, 2);
    let listed = on_b.list_access_keys().user_name("carol").send().await.unwrap();
    assert_eq!(listed.access_key_metadata().len(), 2);

    b.stop().await;
    a.stop().await;
}
