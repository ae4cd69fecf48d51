//! A create with parts (tags, a permissions boundary) is one write: when a part fails, nothing
//! of the entity is left behind and a retry succeeds, on SQLite and on PostgreSQL. And a
//! role is service-linked only when made so.
//!
//! The failure is injected where it happens in real life: the boundary names a customer
//! managed policy that was deleted between the operation's checks and its write.
//!
//! A batch of recorded uses is one write too, and a use whose account is gone (a test-mode
//! reset removed it after the request) is skipped rather than failing the batch forever.

use oxiam_store::{EntityKind, NewBoundary, NewPolicy, NewRole, NewUser, Store, StoreError, Subject};
use sqlx::Connection as _;
use sqlx::Executor as _;

const ACCOUNT: &str = "123456789012";
const TAGS: &[(&str, &str)] = &[("team", "red")];

fn tags() -> Vec<(String, String)> {
    TAGS.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn with_policy(store: &Store) -> String {
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/bound");
    store
        .create_policy(NewPolicy {
            account_id: ACCOUNT,
            policy_id: "ANPAEXAMPLEBOUND0001",
            name: "bound",
            path: "/",
            arn: &arn,
            description: None,
            document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            created_at: 1,
            tags: &[],
        })
        .await
        .unwrap();
    arn
}

async fn a_failed_boundary_leaves_nothing_and_a_retry_succeeds(store: Store) {
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let gone = format!("arn:aws:iam::{ACCOUNT}:policy/deleted-meanwhile");
    let tags = tags();
    let user = |id: &'static str, boundary| NewUser {
        account_id: ACCOUNT,
        user_id: id,
        name: "alice",
        path: "/",
        created_at: 1,
        tags: &tags,
        permissions_boundary: boundary,
    };
    let failed = store
        .create_user(user(
            "AIDAEXAMPLE000000001",
            Some(NewBoundary {
                arn: &gone,
                customer: true,
            }),
        ))
        .await;
    assert!(
        matches!(
            failed,
            Err(StoreError::NotFound {
                subject: Subject::Policy,
                ..
            })
        ),
        "{failed:?}"
    );
    assert!(matches!(
        store.get_user(ACCOUNT, "alice").await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));
    assert!(matches!(
        store.find_entity(ACCOUNT, EntityKind::User, "alice").await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));

    // The retry, with a boundary that exists, is not EntityAlreadyExists.
    let arn = with_policy(&store).await;
    let created = store
        .create_user(user(
            "AIDAEXAMPLE000000002",
            Some(NewBoundary {
                arn: &arn,
                customer: true,
            }),
        ))
        .await
        .unwrap();
    assert_eq!(created.tags, tags);
    let boundary = store
        .permissions_boundary(EntityKind::User, &created.user_id)
        .await
        .unwrap();
    assert_eq!(boundary.map(|(a, _)| a), Some(arn.clone()));
    assert_eq!(store.get_user(ACCOUNT, "alice").await.unwrap().tags, tags);

    // The same for a role.
    let role = |id: &'static str, boundary| NewRole {
        attached_policies: &[],
        service_linked: false,
        inline_policies: &[],
        source_template: None,
        account_id: ACCOUNT,
        role_id: id,
        name: "deployer",
        path: "/",
        trust_policy: "{}",
        description: None,
        max_session_duration: 3600,
        created_at: 1,
        tags: &tags,
        permissions_boundary: boundary,
    };
    let failed = store
        .create_role(role(
            "AROAEXAMPLE000000001",
            Some(NewBoundary {
                arn: &gone,
                customer: true,
            }),
        ))
        .await;
    assert!(
        matches!(
            failed,
            Err(StoreError::NotFound {
                subject: Subject::Policy,
                ..
            })
        ),
        "{failed:?}"
    );
    assert!(matches!(
        store.get_role(ACCOUNT, "deployer").await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::Role),
            ..
        })
    ));
    let created = store
        .create_role(role(
            "AROAEXAMPLE000000002",
            Some(NewBoundary {
                arn: &arn,
                customer: true,
            }),
        ))
        .await
        .unwrap();
    assert_eq!(created.permissions_boundary.as_deref(), Some(arn.as_str()));
    assert_eq!(created.tags, tags);
}

/// Only a role made service-linked is one: a role under `/aws-service-role/` that CreateRole
/// once allowed is not protected, and a service-linked deletion does not take it.
async fn only_a_role_made_service_linked_is_one(store: &Store) {
    let role = |id: &'static str, name: &'static str, service_linked| NewRole {
        attached_policies: &[],
        service_linked,
        inline_policies: &[],
        source_template: None,
        account_id: ACCOUNT,
        role_id: id,
        name,
        path: "/aws-service-role/example.amazonaws.com/",
        trust_policy: "{}",
        description: None,
        max_session_duration: 3600,
        created_at: 1,
        tags: &[],
        permissions_boundary: None,
    };
    store
        .create_role(role("AROAEXAMPLE000000011", "planted", false))
        .await
        .unwrap();
    assert_eq!(
        store.service_linked(ACCOUNT, "PLANTED").await.unwrap(),
        Some((
            "planted".to_owned(),
            "/aws-service-role/example.amazonaws.com/".to_owned(),
            false
        ))
    );
    let refused = store
        .delete_service_linked_role(ACCOUNT, "planted", "task/aws-service-role/x/planted/1", 2)
        .await;
    assert!(matches!(refused, Err(StoreError::NotFound { .. })), "{refused:?}");
    assert!(store.get_role(ACCOUNT, "planted").await.is_ok());
    assert_eq!(
        store
            .service_linked_role_deletion(ACCOUNT, "task/aws-service-role/x/planted/1")
            .await
            .unwrap(),
        None
    );

    store
        .create_role(role("AROAEXAMPLE000000012", "linked", true))
        .await
        .unwrap();
    assert_eq!(
        store.service_linked(ACCOUNT, "linked").await.unwrap(),
        Some((
            "linked".to_owned(),
            "/aws-service-role/example.amazonaws.com/".to_owned(),
            true
        ))
    );
    let task = "task/aws-service-role/example.amazonaws.com/linked/2";
    store
        .delete_service_linked_role(ACCOUNT, "linked", task, 2)
        .await
        .unwrap();
    assert_eq!(
        store
            .service_linked_role_deletion(ACCOUNT, task)
            .await
            .unwrap()
            .as_deref(),
        Some("SUCCEEDED")
    );
    assert!(store.get_role(ACCOUNT, "linked").await.is_err());
}

async fn a_use_of_an_account_gone_does_not_fail_its_batch(store: &Store) {
    use oxiam_store::ServiceUse;
    let (account, _) = store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let used = |account_id, at| ServiceUse {
        entity_id: "AIDAEXAMPLE000000009",
        account_id,
        service: "s3",
        action: "",
        at,
        region: "us-east-1",
    };
    store
        .record_uses(&[], &[], &[used("999999999999", 5), used(&account, 5)])
        .await
        .unwrap();
    let uses = store.service_uses(&account, &["AIDAEXAMPLE000000009"]).await.unwrap();
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].at, 5);
    assert!(
        store
            .service_uses("999999999999", &["AIDAEXAMPLE000000009"])
            .await
            .unwrap()
            .is_empty()
    );
    // An older use never overwrites a newer one (servers flush independently).
    store.record_uses(&[], &[], &[used(&account, 3)]).await.unwrap();
    store.record_uses(&[], &[], &[used(&account, 8)]).await.unwrap();
    let uses = store.service_uses(&account, &["AIDAEXAMPLE000000009"]).await.unwrap();
    assert_eq!(uses[0].at, 8);

    // Access reports: the oldest beyond the latest `keep`, and those too old, are forgotten.
    let report = |job: &str, at| oxiam_store::AccessReportRow {
        job_id: job.to_owned(),
        account_id: account.clone(),
        owner: "owner".to_owned(),
        created_at: at,
        report: "{}".to_owned(),
    };
    for (job, at) in [("a", 10), ("b", 11), ("c", 12), ("d", 13)] {
        store.insert_access_report(&report(job, at), 0, 3).await.unwrap();
    }
    let kept = |job| store.access_report(&account, job);
    assert!(kept("a").await.unwrap().is_none(), "beyond the latest three");
    for job in ["b", "c", "d"] {
        assert!(kept(job).await.unwrap().is_some(), "{job}");
    }
    store.insert_access_report(&report("e", 20), 12, 3).await.unwrap();
    assert!(kept("b").await.unwrap().is_none(), "older than the lifetime");
    assert!(kept("c").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}?mode=rwc", dir.path().join("oxiam.db").display()))
        .await
        .unwrap();
    a_failed_boundary_leaves_nothing_and_a_retry_succeeds(store.clone()).await;
    only_a_role_made_service_linked_is_one(&store).await;
    a_use_of_an_account_gone_does_not_fail_its_batch(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    // scripts/test.sh (and CI) set the URL and run this; plain `cargo test` without a
    // database skips it, saying so.
    let Ok(base) = std::env::var("OXIAM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: OXIAM_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("oxiam_atomic_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
        .await
        .unwrap();
    admin
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let store = Store::open(&url).await.unwrap();
    a_failed_boundary_leaves_nothing_and_a_retry_succeeds(store.clone()).await;
    only_a_role_made_service_linked_is_one(&store).await;
    a_use_of_an_account_gone_does_not_fail_its_batch(&store).await;
    drop(store);
    admin
        .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
        .await
        .unwrap();
}
