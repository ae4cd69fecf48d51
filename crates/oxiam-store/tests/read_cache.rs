//! On SQLite the store answers repeated lookups from memory; a write must be visible to
//! the next read all the same, and only one process may have the database open.

use crate::rows::{self, ACCOUNT};
use oxiam_store::{EntityKind, NewUser, Store, StoreError, Subject};

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("oxiam.db").display())
}

#[tokio::test]
async fn every_write_is_seen_by_the_next_lookup() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let user = store
        .create_user(NewUser {
            path: "/a/",
            ..rows::user("AIDACACHETEST0000001", "Cached")
        })
        .await
        .unwrap();
    let key = rows::key("AKIACACHETEST0000001", Some(&user.user_id));
    store.create_access_key(&key, 2).await.unwrap();

    // Each lookup twice (the second may come from memory), then a write, then again.
    for _ in 0..2 {
        assert_eq!(store.get_user(ACCOUNT, "cached").await.unwrap().path, "/a/");
        assert_eq!(
            store
                .find_entity(ACCOUNT, EntityKind::User, "CACHED")
                .await
                .unwrap()
                .path,
            "/a/"
        );
        let found = store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
        assert_eq!(found.key.status, "Active");
        assert_eq!(found.user.unwrap().path, "/a/");
        assert_eq!(
            store
                .permissions_boundary(EntityKind::User, &user.user_id)
                .await
                .unwrap(),
            None
        );
    }
    store.update_user(ACCOUNT, "Cached", None, Some("/b/")).await.unwrap();
    assert_eq!(store.get_user(ACCOUNT, "cached").await.unwrap().path, "/b/");
    assert_eq!(
        store
            .find_entity(ACCOUNT, EntityKind::User, "cached")
            .await
            .unwrap()
            .path,
        "/b/"
    );
    let found = store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert_eq!(found.user.unwrap().path, "/b/");

    store
        .set_access_key_status(ACCOUNT, Some(&user.user_id), &key.access_key_id, "Inactive")
        .await
        .unwrap();
    let found = store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert_eq!(found.key.status, "Inactive");

    let entity = store.find_entity(ACCOUNT, EntityKind::User, "cached").await.unwrap();
    store
        .set_permissions_boundary(ACCOUNT, &entity, Some("arn:aws:iam::aws:policy/ReadOnlyAccess"), false)
        .await
        .unwrap();
    let boundary = store
        .permissions_boundary(EntityKind::User, &user.user_id)
        .await
        .unwrap();
    assert_eq!(
        boundary.map(|(arn, _)| arn).as_deref(),
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
    );
    store
        .set_permissions_boundary(ACCOUNT, &entity, None, false)
        .await
        .unwrap();

    store
        .delete_access_key(ACCOUNT, Some(&user.user_id), &key.access_key_id)
        .await
        .unwrap();
    assert!(store.find_access_key(&key.access_key_id).await.unwrap().is_none());
    store.delete_user(ACCOUNT, "cached").await.unwrap();
    assert!(matches!(
        store.get_user(ACCOUNT, "cached").await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));
    assert!(matches!(
        store.find_entity(ACCOUNT, EntityKind::User, "cached").await,
        Err(StoreError::NotFound {
            subject: Subject::Entity(EntityKind::User),
            ..
        })
    ));
}

/// Lookups answered from memory and lookups that queried, so far.
fn cache_counts(store: &Store) -> (u64, u64) {
    store.stats().cache.expect("a SQLite store caches")
}

/// The frequent writes that change little (the last-use records, attachments, inline
/// policies, a new user) leave cached what they cannot have changed; what they did change
/// is read fresh all the same.
#[tokio::test]
async fn a_write_drops_from_memory_only_what_it_may_have_changed() {
    use oxiam_store::KeyUse;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let user = store
        .create_user(rows::user("AIDASECTIONS00000001", "sections"))
        .await
        .unwrap();
    let key = rows::key("AKIASECTIONS00000001", Some(&user.user_id));
    store.create_access_key(&key, 2).await.unwrap();
    let entity = store.find_entity(ACCOUNT, EntityKind::User, "sections").await.unwrap();
    let epoch = store
        .find_access_key(&key.access_key_id)
        .await
        .unwrap()
        .unwrap()
        .policy_epoch;

    // A last use recorded: the key stays cached, and its last use is read as stored.
    let (hits, misses) = cache_counts(&store);
    let used = KeyUse {
        access_key_id: &key.access_key_id,
        at: 50,
        service: "iam",
        region: "us-east-1",
    };
    store.record_uses(&[used], &[], &[]).await.unwrap();
    store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert_eq!(cache_counts(&store), (hits + 1, misses), "the key came from memory");
    let stored = store
        .find_access_key_as_stored(&key.access_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.key.last_used,
        Some((50, "iam".to_owned(), "us-east-1".to_owned()))
    );

    // An attachment: the user's name and path stay cached; its key is read again, with the
    // epoch the attachment moved.
    store
        .attach_policy(ACCOUNT, &entity, "arn:aws:iam::aws:policy/ReadOnlyAccess", false, 1, 10)
        .await
        .unwrap();
    let (hits, misses) = cache_counts(&store);
    store.find_entity(ACCOUNT, EntityKind::User, "sections").await.unwrap();
    assert_eq!(cache_counts(&store), (hits + 1, misses), "the entity came from memory");
    let found = store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert!(found.policy_epoch > epoch, "the key's epoch is read fresh");
    assert_eq!(cache_counts(&store), (hits + 1, misses + 1), "the key queried");
    let epoch = found.policy_epoch;

    // Attached again: nothing changes, and nothing is dropped.
    store
        .attach_policy(ACCOUNT, &entity, "arn:aws:iam::aws:policy/ReadOnlyAccess", false, 1, 10)
        .await
        .unwrap();
    let (hits, misses) = cache_counts(&store);
    assert_eq!(
        store
            .find_access_key(&key.access_key_id)
            .await
            .unwrap()
            .unwrap()
            .policy_epoch,
        epoch
    );
    assert_eq!(cache_counts(&store), (hits + 1, misses), "a no-op attach drops nothing");

    // An inline policy, put and deleted: the same.
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    store.put_inline_policy(&entity, "p", document, 60, 2048).await.unwrap();
    let found = store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert!(found.policy_epoch > epoch);
    store.delete_inline_policy(&entity, "p").await.unwrap();
    let (hits, misses) = cache_counts(&store);
    store.find_entity(ACCOUNT, EntityKind::User, "sections").await.unwrap();
    assert_eq!(cache_counts(&store), (hits + 1, misses));
    assert!(
        store
            .find_access_key(&key.access_key_id)
            .await
            .unwrap()
            .unwrap()
            .policy_epoch
            > found.policy_epoch
    );

    // A new user: keys stay cached; the listing shows it at once.
    store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    let listed = store.list_users(ACCOUNT, "/", None, 100).await.unwrap().items.len();
    let (hits, misses) = cache_counts(&store);
    store
        .create_user(rows::user("AIDASECTIONS00000002", "another"))
        .await
        .unwrap();
    store.find_access_key(&key.access_key_id).await.unwrap().unwrap();
    assert_eq!(cache_counts(&store), (hits + 1, misses), "the key came from memory");
    assert_eq!(
        store.list_users(ACCOUNT, "/", None, 100).await.unwrap().items.len(),
        listed + 1
    );
    assert_eq!(
        store
            .find_entity(ACCOUNT, EntityKind::User, "another")
            .await
            .unwrap()
            .id,
        "AIDASECTIONS00000002"
    );
}

#[tokio::test]
async fn a_second_store_on_the_same_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(&url(&dir)).await.unwrap();
    match Store::open(&url(&dir)).await {
        Err(StoreError::InUse(path)) => assert!(path.ends_with("oxiam.db"), "{path}"),
        other => panic!("expected InUse, got {other:?}"),
    }
    // Closed, the database may be opened again.
    drop(first);
    Store::open(&url(&dir)).await.unwrap();
}

#[tokio::test]
async fn s3_buckets_and_objects_read_from_memory_are_never_older_than_the_last_write() {
    use oxiam_store::{BucketRow, ObjectRow, Versioning};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    store.bootstrap_account(ACCOUNT, 0).await.unwrap();
    let bucket = BucketRow {
        name: "cached-bucket".to_owned(),
        owner_account: ACCOUNT.to_owned(),
        region: "us-east-1".to_owned(),
        created_ms: 1,
        policy: None,
        versioning: Versioning::Unversioned,
        tags: None,
    };
    // Absent, read twice (the second may come from memory), then created.
    for _ in 0..2 {
        assert_eq!(store.s3_bucket("cached-bucket").await.unwrap(), None);
    }
    assert_eq!(store.s3_create_bucket(&bucket).await.unwrap(), None);
    assert_eq!(store.s3_bucket("cached-bucket").await.unwrap(), Some(bucket.clone()));
    store
        .s3_set_bucket_policy("cached-bucket", ACCOUNT, Some("{}"))
        .await
        .unwrap();
    assert_eq!(
        store
            .s3_bucket("cached-bucket")
            .await
            .unwrap()
            .unwrap()
            .policy
            .as_deref(),
        Some("{}")
    );

    let object = |etag: &str| ObjectRow {
        bucket: "cached-bucket".to_owned(),
        key: "k".to_owned(),
        version_id: "null".to_owned(),
        is_latest: true,
        delete_marker: false,
        size: 1,
        etag: etag.to_owned(),
        modified_ms: 1,
        owner_account: ACCOUNT.to_owned(),
        blob: None,
        attributes: "{}".to_owned(),
        tags: "[]".to_owned(),
        seq: 0,
    };
    let etag_now = || async {
        store
            .s3_object("cached-bucket", "k", None)
            .await
            .unwrap()
            .map(|o| o.etag)
    };
    assert_eq!(etag_now().await, None);
    store.s3_put_object(&object("one"), false).await.unwrap();
    assert_eq!(etag_now().await.as_deref(), Some("one"));
    assert_eq!(etag_now().await.as_deref(), Some("one"));
    store.s3_put_object(&object("two"), false).await.unwrap();
    assert_eq!(etag_now().await.as_deref(), Some("two"));
    let version = store.s3_object("cached-bucket", "k", Some("null")).await.unwrap();
    assert_eq!(version.map(|o| o.etag).as_deref(), Some("two"));
    store
        .s3_delete_object("cached-bucket", "k", None, &object("marker"))
        .await
        .unwrap();
    assert_eq!(etag_now().await, None);
    assert_eq!(store.s3_object("cached-bucket", "k", Some("null")).await.unwrap(), None);
    store.s3_delete_bucket("cached-bucket").await.unwrap();
    assert_eq!(store.s3_bucket("cached-bucket").await.unwrap(), None);
}

/// A newer release's migrations may change what this one's writes must do (which policy
/// epoch a change moves, say): a store refuses a database migrated by one.
#[tokio::test]
async fn a_database_migrated_by_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&url(&dir)).await.unwrap();
    drop(store);
    {
        use sqlx::Connection as _;
        let mut conn = sqlx::SqliteConnection::connect(&url(&dir)).await.unwrap();
        sqlx::query("INSERT INTO oxiam_schema (version, applied_at) VALUES (1000000, 0)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    match Store::open(&url(&dir)).await {
        Err(StoreError::SchemaNewer { found, known }) => {
            assert_eq!(found, 1_000_000);
            assert!(known < found);
        }
        other => panic!("expected SchemaNewer, got {other:?}"),
    }
}
