//! Group commit, on SQLite and on PostgreSQL: concurrent writes share commits, a failing
//! write is undone alone, a write whose request is dropped half-way leaves all of itself or
//! nothing, and what was acknowledged is in the database when it is opened again.

use oxiam_store::{AccessKeyRow, NewUser, Store, StoreError};
use sqlx::Connection as _;
use sqlx::Executor as _;

const ACCOUNT: &str = "123456789012";

/// A database of the test's own: a SQLite file, or a fresh PostgreSQL database.
enum Database {
    Sqlite(tempfile::TempDir),
    Postgres { base: String, name: String },
}

impl Database {
    fn sqlite() -> Self {
        Database::Sqlite(tempfile::tempdir().unwrap())
    }

    /// `None` (the test skipped, saying so) when `OXIAM_TEST_POSTGRES_URL` is not set.
    async fn postgres(test: &str) -> Option<Self> {
        let Ok(base) = std::env::var("OXIAM_TEST_POSTGRES_URL") else {
            eprintln!("skipped on PostgreSQL: OXIAM_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("oxiam_group_{test}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
        }
        Some(Database::Postgres { base, name })
    }

    async fn open(&self) -> Store {
        let url = match self {
            Database::Sqlite(dir) => format!("sqlite://{}?mode=rwc", dir.path().join("oxiam.db").display()),
            Database::Postgres { base, name } => format!("{}/{name}", &base[..base.rfind('/').unwrap()]),
        };
        Store::open(&url).await.unwrap()
    }

    async fn remove(self) {
        if let Database::Postgres { base, name } = self {
            let mut admin = sqlx::PgConnection::connect(&base).await.unwrap();
            let sql = format!("DROP DATABASE {name} WITH (FORCE)");
            admin.execute(sqlx::AssertSqlSafe(sql)).await.unwrap();
        }
    }
}

/// Each test, on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let database = super::Database::sqlite();
                    super::$test(&database).await;
                    database.remove().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(database) = super::Database::postgres(stringify!($test)).await else { return };
                    super::$test(&database).await;
                    database.remove().await;
                }
            )*
        }
    };
}

on_both!(
    concurrent_writes_commit_together_and_fail_alone,
    batch_sizes_count_only_committed_writes,
    a_write_dropped_half_way_leaves_all_of_itself_or_nothing,
    an_attachment_is_checked_in_its_insert_and_its_failures_named_in_order,
    a_change_to_one_user_moves_its_own_policy_epoch_and_a_groups_moves_all,
);

async fn all_user_names(store: &Store) -> Vec<String> {
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users(ACCOUNT, "/", after.as_deref(), 100).await.unwrap();
        names.extend(page.items.into_iter().map(|u| u.name));
        match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
            Some(next) => after = Some(next),
            None => return names,
        }
    }
}

async fn concurrent_writes_commit_together_and_fail_alone(database: &Database) {
    let store = database.open().await;
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();

    // Each of 100 names is created twice at once, in two cases: one of each pair must
    // win, the other conflict, and the conflicts must not undo anyone else's write.
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let name = if i % 2 == 0 {
                    format!("user{}", i / 2)
                } else {
                    format!("USER{}", i / 2)
                };
                let user_id = format!("AIDATEST{i:013}");
                store
                    .create_user(NewUser {
                        account_id: ACCOUNT,
                        user_id: &user_id,
                        name: &name,
                        path: "/",
                        created_at: 1,
                        tags: &[("k".to_owned(), i.to_string())],
                        permissions_boundary: None,
                    })
                    .await
                    .map(|_| ())
            })
        })
        .collect();
    let (mut created, mut conflicts) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(StoreError::Conflict { .. }) => conflicts += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!((created, conflicts), (100, 100));

    // Quotas decided inside the batch: ten parallel keys for one user, two stored.
    let keys: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let owner = store.get_user(ACCOUNT, "user7").await.unwrap();
                let key = AccessKeyRow {
                    access_key_id: format!("AKIATEST{i:012}"),
                    account_id: ACCOUNT.to_owned(),
                    user_id: Some(owner.user_id),
                    secret_sealed: "sealed".to_owned(),
                    status: "Active".to_owned(),
                    created_at: 1,
                    last_used: None,
                };
                store.create_access_key(&key, 2).await
            })
        })
        .collect();
    let mut stored = 0;
    for task in keys {
        match task.await.unwrap() {
            Ok(()) => stored += 1,
            Err(StoreError::LimitExceeded) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(stored, 2);
    // A write that fails after changing something (the key count is raised, then the
    // key's id turns out taken) leaves nothing behind: user20 can still hold two keys.
    let user20 = store.get_user(ACCOUNT, "user20").await.unwrap();
    let key_for_20 = |id: &str| AccessKeyRow {
        access_key_id: id.to_owned(),
        account_id: ACCOUNT.to_owned(),
        user_id: Some(user20.user_id.clone()),
        secret_sealed: "sealed".to_owned(),
        status: "Active".to_owned(),
        created_at: 2,
        last_used: None,
    };
    let taken = store.list_access_keys(None, ACCOUNT).await.unwrap();
    assert!(taken.is_empty());
    let user7_keys = store
        .list_access_keys(Some(&store.get_user(ACCOUNT, "user7").await.unwrap().user_id), ACCOUNT)
        .await
        .unwrap();
    let err = store
        .create_access_key(&key_for_20(&user7_keys[0].access_key_id), 2)
        .await;
    assert!(matches!(err, Err(StoreError::Conflict { .. })), "{err:?}");
    store
        .create_access_key(&key_for_20("AKIATWENTY0000000001"), 2)
        .await
        .unwrap();
    store
        .create_access_key(&key_for_20("AKIATWENTY0000000002"), 2)
        .await
        .unwrap();
    for id in ["AKIATWENTY0000000001", "AKIATWENTY0000000002"] {
        store
            .delete_access_key(ACCOUNT, Some(&user20.user_id), id)
            .await
            .unwrap();
    }

    // A delete that must fail (the user holds keys) beside ones that must succeed.
    let deletes: Vec<_> = ["user7", "user8", "user9"]
        .into_iter()
        .map(|name| {
            let store = store.clone();
            tokio::spawn(async move { store.delete_user(ACCOUNT, name).await })
        })
        .collect();
    let outcomes: Vec<_> = futures_outcomes(deletes).await;
    assert!(
        matches!(outcomes[0], Err(StoreError::DeleteConflict(_))),
        "{:?}",
        outcomes[0]
    );
    assert!(outcomes[1].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");

    // Everything acknowledged is in the database: open it afresh.
    drop(store);
    let store = database.open().await;
    let names = all_user_names(&store).await;
    assert_eq!(names.len(), 98);
    for n in 0..100 {
        let present = names.iter().any(|name| name.eq_ignore_ascii_case(&format!("user{n}")));
        assert_eq!(present, n != 8 && n != 9, "user{n}");
    }
    let user7 = store.get_user(ACCOUNT, "user7").await.unwrap();
    assert_eq!(user7.tags.len(), 1);
    assert_eq!(
        store
            .list_access_keys(Some(&user7.user_id), ACCOUNT)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Polls `future` until it is ready or has been found pending `waits` + 1 times, then
/// drops it (as a request whose client left is dropped).
async fn drop_after_waits<F: std::future::Future>(future: F, waits: usize) -> Option<F::Output> {
    use std::task::Poll;
    let mut future = std::pin::pin!(future);
    let mut left = waits;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        Poll::Ready(out) => Poll::Ready(Some(out)),
        Poll::Pending if left == 0 => Poll::Ready(None),
        Poll::Pending => {
            left -= 1;
            Poll::Pending
        }
    })
    .await
}

/// AttachUserPolicy's one statement checks the entity, a customer managed policy and the
/// quota; when it inserts nothing, the reason is the first of: the entity is gone, the
/// policy is gone, attached already (no error), the quota. DeleteUser counts what still
/// hangs off the user in one query.
async fn an_attachment_is_checked_in_its_insert_and_its_failures_named_in_order(database: &Database) {
    use oxiam_store::{Dependent, EntityKind, Subject};
    let store = database.open().await;
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    for (name, id) in [("holder", "AIDAHOLDER0000000001"), ("gone", "AIDAGONE000000000001")] {
        store.create_user(crate::rows::user(id, name)).await.unwrap();
    }
    let holder = store.find_entity(ACCOUNT, EntityKind::User, "holder").await.unwrap();
    let gone = store.find_entity(ACCOUNT, EntityKind::User, "gone").await.unwrap();
    store.delete_user(ACCOUNT, "gone").await.unwrap();
    let aws = |name: &str| format!("arn:aws:iam::aws:policy/{name}");
    let missing_customer_policy = format!("arn:aws:iam::{ACCOUNT}:policy/missing");
    let attach = |entity: &oxiam_store::EntityRef, arn: &str, customer: bool| {
        let (store, entity, arn) = (store.clone(), entity.clone(), arn.to_owned());
        async move { store.attach_policy(ACCOUNT, &entity, &arn, customer, 1, 2).await }
    };

    assert!(matches!(
        attach(&gone, &aws("ReadOnlyAccess"), false).await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));
    attach(&holder, &aws("ReadOnlyAccess"), false).await.unwrap();
    attach(&holder, &aws("IAMReadOnlyAccess"), false).await.unwrap();
    // At the quota (2): the same again is no error, another is refused, and a missing
    // policy is reported before the quota, a missing entity before the policy.
    attach(&holder, &aws("ReadOnlyAccess"), false).await.unwrap();
    assert!(matches!(
        attach(&holder, &aws("AdministratorAccess"), false).await,
        Err(StoreError::LimitExceeded)
    ));
    assert!(matches!(
        attach(&holder, &missing_customer_policy, true).await,
        Err(StoreError::NotFound {
            subject: Subject::Policy,
            ..
        })
    ));
    assert!(matches!(
        attach(&gone, &missing_customer_policy, true).await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));
    assert_eq!(
        store.attached_policies(EntityKind::User, &holder.id).await.unwrap(),
        vec![aws("IAMReadOnlyAccess"), aws("ReadOnlyAccess")]
    );
    assert!(matches!(
        store.delete_user(ACCOUNT, "holder").await,
        Err(StoreError::DeleteConflict(Dependent::AttachedPolicies))
    ));
    for arn in [aws("ReadOnlyAccess"), aws("IAMReadOnlyAccess")] {
        store.detach_policy(&holder, &arn).await.unwrap();
    }
    store.delete_user(ACCOUNT, "holder").await.unwrap();
}

async fn futures_outcomes<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

/// The metrics' group commits count the writes that committed: a write that failed (and
/// was rolled back) is in no batch, and a batch of nothing but it is no commit.
async fn batch_sizes_count_only_committed_writes(database: &Database) {
    let store = database.open().await;
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let before = store.stats().batches.expect("group commits are counted");
    let create = |name: &'static str, id: &'static str| {
        let store = store.clone();
        async move {
            store
                .create_user(NewUser {
                    account_id: ACCOUNT,
                    user_id: id,
                    name,
                    path: "/",
                    created_at: 0,
                    tags: &[],
                    permissions_boundary: None,
                })
                .await
        }
    };
    create("first", "AIDABATCH000000000001").await.unwrap();
    let conflict = create("FIRST", "AIDABATCH000000000002").await;
    assert!(matches!(conflict, Err(StoreError::Conflict { .. })), "{conflict:?}");
    create("second", "AIDABATCH000000000003").await.unwrap();
    let after = store.stats().batches.unwrap();
    assert_eq!(after.writes - before.writes, 2, "{before:?} → {after:?}");
    assert_eq!(after.batches - before.batches, 2, "{before:?} → {after:?}");
    // Cumulative: every batch of one write is under each bound.
    assert!(after.buckets.iter().all(|n| *n == after.batches), "{after:?}");
}

/// Requests dropped at every point of their write (a client gone, a timeout): each user is
/// there with all three of its tags, or not at all, and the writes after them go on.
async fn a_write_dropped_half_way_leaves_all_of_itself_or_nothing(database: &Database) {
    let store = database.open().await;
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let tags: Vec<(String, String)> = ["a", "b", "c"]
        .iter()
        .map(|k| ((*k).to_owned(), "v".to_owned()))
        .collect();
    let create = |i: u32| {
        let (store, tags) = (store.clone(), tags.clone());
        async move {
            let (name, user_id) = (format!("dropped{i}"), format!("AIDADROPPED{i:010}"));
            store
                .create_user(NewUser {
                    account_id: ACCOUNT,
                    user_id: &user_id,
                    name: &name,
                    path: "/",
                    created_at: 1,
                    tags: &tags,
                    permissions_boundary: None,
                })
                .await
                .map(|_| ())
        }
    };
    // Writes dropped at each of their awaits in turn (after 0, 1, 2, … waits: polls that
    // found the database not done yet), one after another, each beside a write that is not
    // dropped. Counting waits, not time, reaches every await however fast the database is.
    let mut kept = Vec::new();
    for i in 0..60 {
        let beside = tokio::spawn(create(2000 + i));
        drop_after_waits(create(i), i as usize / 4).await;
        kept.push(beside);
    }
    for outcome in futures_outcomes(kept).await {
        assert!(outcome.is_ok(), "a write beside a dropped one failed: {outcome:?}");
    }
    let (mut whole, mut none) = (0, 0);
    for i in 0..60 {
        match store.get_user(ACCOUNT, &format!("dropped{i}")).await {
            Ok(user) => {
                assert_eq!(user.tags.len(), 3, "dropped{i} is there in part");
                whole += 1;
            }
            Err(e) if e.is_not_found() => none += 1,
            Err(e) => panic!("dropped{i}: {e}"),
        }
    }
    assert!(none > 0, "no write was dropped early: {whole} whole");
    assert!(whole > 0, "no write was dropped late: {none} not made");
    drop(store);
    let store = database.open().await;
    for i in 0..60 {
        assert_eq!(
            store
                .get_user(ACCOUNT, &format!("dropped{}", 2000 + i))
                .await
                .unwrap()
                .tags
                .len(),
            3
        );
    }
}

/// A change to one user's own policies moves that user's policy epoch (what a key reads),
/// and no one else's, even when the changes share a batch; a group's change moves every
/// key's of the account, and a membership moves the member's alone.
async fn a_change_to_one_user_moves_its_own_policy_epoch_and_a_groups_moves_all(database: &Database) {
    use oxiam_store::{EntityKind, TagOwner};
    let store = database.open().await;
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let mut keys = Vec::new();
    for (name, id, key_id) in [
        ("changed", "AIDACHANGED000000001", "AKIACHANGED000000001"),
        ("bystander", "AIDABYSTANDER0000001", "AKIABYSTANDER0000001"),
    ] {
        store.create_user(crate::rows::user(id, name)).await.unwrap();
        let key = crate::rows::key(key_id, Some(id));
        store.create_access_key(&key, 2).await.unwrap();
        keys.push(key_id);
    }
    let epochs = || {
        let store = store.clone();
        let keys = keys.clone();
        async move {
            let mut out = Vec::new();
            for key in keys {
                out.push(store.find_access_key(key).await.unwrap().unwrap().policy_epoch);
            }
            out
        }
    };
    let changed = store.find_entity(ACCOUNT, EntityKind::User, "changed").await.unwrap();
    let before = epochs().await;

    // Three changes to one user, concurrently: they may share a batch.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let tags = [("team".to_owned(), "blue".to_owned())];
    let (attached, inline, tagged) = tokio::join!(
        store.attach_policy(
            ACCOUNT,
            &changed,
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            false,
            1,
            10
        ),
        store.put_inline_policy(&changed, "p", policy, 60, 2048),
        store.update_tags(ACCOUNT, TagOwner::User, &changed.id, &tags, &[], 50),
    );
    attached.unwrap();
    inline.unwrap();
    tagged.unwrap();
    let after = epochs().await;
    assert!(
        after[0] > before[0],
        "the changed user's key sees a new epoch: {before:?} → {after:?}"
    );
    assert_eq!(after[1], before[1], "the bystander's compiled policies stay current");

    // Each kind of change alone moves the changed user's epoch.
    let mut last = after[0];
    let mut moved = |what: &str, now: Vec<i64>| {
        assert!(now[0] > last, "{what}: the changed user's epoch moved");
        last = now[0];
        now[1]
    };
    store
        .detach_policy(&changed, "arn:aws:iam::aws:policy/ReadOnlyAccess")
        .await
        .unwrap();
    assert_eq!(moved("detach", epochs().await), before[1]);
    store.delete_inline_policy(&changed, "p").await.unwrap();
    assert_eq!(moved("inline deleted", epochs().await), before[1]);
    store
        .set_permissions_boundary(ACCOUNT, &changed, Some("arn:aws:iam::aws:policy/ReadOnlyAccess"), false)
        .await
        .unwrap();
    assert_eq!(moved("boundary", epochs().await), before[1]);
    store
        .update_tags(ACCOUNT, TagOwner::User, &changed.id, &[], &["team".to_owned()], 50)
        .await
        .unwrap();
    assert_eq!(moved("untagged", epochs().await), before[1]);

    // A group: joining moves the member's epoch alone; the group's policies move everyone's.
    store
        .create_group(ACCOUNT, "AGPAGROUP00000000001", "crew", "/", 1)
        .await
        .unwrap();
    let crew = store.find_entity(ACCOUNT, EntityKind::Group, "crew").await.unwrap();
    store.add_user_to_group(&crew, &changed, 1, 10).await.unwrap();
    assert_eq!(moved("joined", epochs().await), before[1]);
    store
        .attach_policy(ACCOUNT, &crew, "arn:aws:iam::aws:policy/ReadOnlyAccess", false, 1, 10)
        .await
        .unwrap();
    let now = epochs().await;
    assert!(
        now[0] > last && now[1] > before[1],
        "a group's change moves every key's epoch: {now:?}"
    );
    drop(store);
}
