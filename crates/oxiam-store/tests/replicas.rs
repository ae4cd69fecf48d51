//! Two stores on one PostgreSQL database, as two oxiam servers behind a load balancer have:
//! each answers its hottest lookups from memory, and never with a row another has changed
//! since — not after a write there, and not while it cannot hear of the other's writes.
//!
//! The stores are driven directly, so that every write is the test's own: a count of the
//! writes B has heard of is then exactly the test's writes on A.

use std::time::Duration;

use oxiam_store::{AccessKeyRow, ReplicationStats, Store};
use sqlx::Connection as _;
use sqlx::Executor as _;

const ACCOUNT: &str = "123456789012";
const KEY: &str = "AKIAREPLICATEST00001";

fn root_key() -> AccessKeyRow {
    AccessKeyRow {
        access_key_id: KEY.into(),
        account_id: ACCOUNT.into(),
        user_id: None,
        secret_sealed: "sealed".into(),
        status: "Active".into(),
        created_at: 1,
        last_used: None,
    }
}

fn replication(store: &Store) -> ReplicationStats {
    store
        .stats()
        .replication
        .expect("a PostgreSQL store keeps a leased cache")
}

fn hits(store: &Store) -> u64 {
    store.stats().cache.expect("a PostgreSQL store caches").0
}

/// Waits (up to 20 s, then fails) until `store` is in the state `wanted` says.
async fn until(store: &Store, what: &str, wanted: impl Fn(&ReplicationStats) -> bool) {
    for _ in 0..2000 {
        if wanted(&replication(store)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never {what}: {:?}", replication(store));
}

/// Waits (up to 10 s, then fails) until a lookup on `store` is answered from memory.
async fn answered_from_memory(store: &Store) {
    for _ in 0..1000 {
        let before = hits(store);
        status_seen_by(store).await;
        if hits(store) > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never answered from memory: {:?}", replication(store));
}

async fn status_seen_by(store: &Store) -> String {
    store.find_access_key(KEY).await.unwrap().unwrap().key.status
}

async fn admin(base: &str, sql: &str) {
    let mut admin = sqlx::PgConnection::connect(base).await.unwrap();
    admin.execute(sqlx::AssertSqlSafe(sql.to_owned())).await.unwrap();
}

/// Two stores on a new database holding the account and its root key (written by A):
/// the PostgreSQL base URL, the database's name, A and B. `None` (skipped, saying so) when
/// `OXIAM_TEST_POSTGRES_URL` is not set.
async fn two_stores(test: &str) -> Option<(String, String, Store, Store)> {
    let Ok(base) = std::env::var("OXIAM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: OXIAM_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!("oxiam_{test}_{}", std::process::id());
    admin(&base, &format!("DROP DATABASE IF EXISTS {name}")).await;
    admin(&base, &format!("CREATE DATABASE {name}")).await;
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
    let a = Store::open(&url).await.unwrap();
    let b = Store::open(&url).await.unwrap();
    a.create_account(ACCOUNT, 1, &root_key()).await.unwrap();
    Some((base, name, a, b))
}

/// Waits (up to 10 s) until `store` answers `status` for the key; what it answered last.
async fn status_once_heard(store: &Store, status: &str) -> String {
    let mut seen = status_seen_by(store).await;
    for _ in 0..1000 {
        if seen == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen = status_seen_by(store).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_answers_from_memory_only_what_no_write_has_changed() {
    let Some((base, name, a, b)) = two_stores("replicas").await else {
        return;
    };

    // B reads what A wrote at once (nothing of it was kept), then from memory (once it has
    // heard of A's writes so far, which drop what it kept).
    until(&b, "leased", |r| r.lease_holds).await;
    assert_eq!(status_seen_by(&b).await, "Active");
    answered_from_memory(&b).await;

    // A deactivates the key: B answers Inactive once it has heard, and only the test's
    // write can tell it (nothing else writes, and the lease holds throughout).
    let heard = replication(&b).writes_heard;
    a.set_access_key_status(ACCOUNT, None, KEY, "Inactive").await.unwrap();
    assert_eq!(status_seen_by(&a).await, "Inactive", "A's own write, at once");
    let seen = status_once_heard(&b, "Inactive").await;
    assert_eq!(seen, "Inactive", "B never heard of A's write");
    assert!(replication(&b).writes_heard > heard);
    assert_eq!(replication(&b).lease_lapses, 0);

    // A page of users, kept by B, is dropped when A adds a user.
    let names = |store: Store| async move {
        let page = store.list_users(ACCOUNT, "/", None, 100).await.unwrap();
        page.items.into_iter().map(|u| u.name).collect::<Vec<_>>()
    };
    assert!(names(b.clone()).await.is_empty());
    let before = hits(&b);
    assert!(names(b.clone()).await.is_empty());
    assert!(hits(&b) > before, "the page was kept");
    a.create_user(oxiam_store::NewUser {
        account_id: ACCOUNT,
        user_id: "AIDAREPLICATEST00001",
        name: "listed",
        path: "/",
        created_at: 1,
        tags: &[],
        permissions_boundary: None,
    })
    .await
    .unwrap();
    assert_eq!(names(a.clone()).await, ["listed"], "A's own write, at once");
    let mut listed = names(b.clone()).await;
    for _ in 0..1000 {
        if !listed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        listed = names(b.clone()).await;
    }
    assert_eq!(listed, ["listed"]);

    // The connections that hear writes are cut and can't come back (new connections to the
    // database are refused; the pools' open connections stay). B now hears nothing...
    admin(&base, &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
    admin(
        &base,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND application_name = '{}'",
            oxiam_store::LISTENER_APPLICATION_NAME
        ),
    )
    .await;
    until(&b, "without a lease", |r| !r.lease_holds).await;
    // ...so what it reads is not kept, and A's next write is seen at once all the same.
    let heard = replication(&b).writes_heard;
    assert_eq!(status_seen_by(&b).await, "Inactive");
    a.set_access_key_status(ACCOUNT, None, KEY, "Active").await.unwrap();
    assert_eq!(
        status_seen_by(&b).await,
        "Active",
        "B answered from memory without a lease"
    );
    assert_eq!(replication(&b).writes_heard, heard, "B did not hear of it");

    // Connections come back: B listens again, takes its lease again, and caches again.
    admin(&base, &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    until(&b, "leased again", |r| r.lease_holds && r.lease_lapses >= 1).await;
    assert_eq!(status_seen_by(&b).await, "Active");
    answered_from_memory(&b).await;

    drop((a, b));
    admin(&base, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
}

/// Processes stopped with SIGSTOP, continued when dropped (also when the test fails).
struct Stopped(Vec<i32>);

impl Stopped {
    /// Stops `pids`; `None` if this user may not signal them (the test is then skipped).
    fn stop(pids: Vec<i32>) -> Option<Self> {
        let mut stopped = Stopped(Vec::new());
        for pid in pids {
            let sent = std::process::Command::new("kill")
                .args(["-STOP", &pid.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if !sent {
                return None;
            }
            stopped.0.push(pid);
        }
        Some(stopped)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &pid.to_string()])
                .status();
        }
    }
}

/// Stops both servers' listening backends (SIGSTOP): their connections stay open, silent.
/// `None`, saying so, when this user may not signal PostgreSQL's processes.
async fn silence_listeners(base: &str, name: &str) -> Option<Stopped> {
    let mut connection = sqlx::PgConnection::connect(base).await.unwrap();
    let pids: Vec<(i32,)> =
        sqlx::query_as("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2")
            .bind(name)
            .bind(oxiam_store::LISTENER_APPLICATION_NAME)
            .fetch_all(&mut connection)
            .await
            .unwrap();
    assert_eq!(pids.len(), 2, "one listener per server");
    let stopped = Stopped::stop(pids.into_iter().map(|(pid,)| pid).collect());
    if stopped.is_none() {
        eprintln!("skipped: PostgreSQL's backends cannot be signalled by this user");
    }
    stopped
}

/// A listening connection that stays open but goes silent (its PostgreSQL backend stopped,
/// as a network partition or a stalled peer would leave it): B must not go on answering
/// from memory what A has changed since.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_listener_does_not_keep_a_replica_stale() {
    let Some((base, name, a, b)) = two_stores("silent").await else {
        return;
    };
    until(&b, "leased", |r| r.lease_holds).await;
    answered_from_memory(&b).await;
    assert_eq!(status_seen_by(&b).await, "Active");

    // Both servers' listening backends stop answering; their connections stay open.
    let Some(stopped) = silence_listeners(&base, &name).await else {
        drop((a, b));
        admin(&base, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
        return;
    };
    // A's write reaches no listener; B, which kept the key Active, must find it Inactive.
    a.set_access_key_status(ACCOUNT, None, KEY, "Inactive").await.unwrap();
    let seen = status_once_heard(&b, "Inactive").await;
    assert_eq!(seen, "Inactive", "B answered from memory over a silent connection");

    // B listens again on a new connection, and caches again.
    until(&b, "leased again", |r| r.lease_holds && r.lease_lapses >= 1).await;
    answered_from_memory(&b).await;
    drop(stopped);
    drop((a, b));
    admin(&base, &format!("DROP DATABASE {name} WITH (FORCE)")).await;
}
