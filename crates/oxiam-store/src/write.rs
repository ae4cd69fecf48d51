//! Write transactions: group commit, on SQLite and on PostgreSQL.
//!
//! An acknowledged write must be on disk, and that costs a flush per commit: on SQLite one
//! fsync, with one writer at a time; on PostgreSQL a WAL flush, and nearly every write
//! also bumps its account's policy epoch, so writes to one account wait on that row's lock
//! through each other's flushes. Either way a disk's flush rate would cap every write,
//! however small. So the writes of concurrent requests share a commit. One database
//! transaction (the *batch*) stays open while writes queue; each write runs inside its own
//! savepoint in it, so a write that fails is undone alone; when the writes that were
//! waiting have run, the batch commits — one flush for all of them — and only then does
//! each [`WriteTx::commit`] return. Nothing is acknowledged before its batch is durable,
//! and a batch that fails to commit fails every write in it.
//!
//! On PostgreSQL, where several servers may write, a batch first takes a transaction-level
//! advisory lock that every server's batches take: batches run one at a time across
//! servers, so two of them never wait on each other's row locks (no deadlock, which would
//! fail a write after a second's wait). And a batch announces itself to the other servers
//! before it commits (`replication.rs`), so that their caches drop what it changed.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Any, AnyConnection, AnyPool, AssertSqlSafe, Transaction};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, watch};

use crate::cache::{ReadCache, Sections};
use crate::replication::{CHANNEL, Origin};
use crate::{Backend, EntityKind, IDS_PER_STATEMENT, StoreError, placeholders};

/// How a PostgreSQL batch begins, in one round trip. A server frozen (or cut off) mid-batch
/// would hold every server's writes until TCP gave up on it: PostgreSQL ends its session
/// after 10 s of silence instead, and its batch fails unacknowledged. The advisory lock,
/// which every server's batches take, is a constant of oxiam's own (unlike the bootstrap's,
/// which a batch may take too).
const BEGIN_POSTGRES_BATCH: &str = "BEGIN; SET LOCAL idle_in_transaction_session_timeout = '10s'; \
     SELECT pg_advisory_xact_lock(7142010510)";

/// Rolls write `n` back to its savepoint and releases it. "No such savepoint" means it was
/// never made (its request was dropped before its `SAVEPOINT` ran) or is undone already:
/// nothing is left to undo. On PostgreSQL any failed statement aborts the whole
/// transaction — and a `COMMIT` of an aborted transaction rolls back without an error — so
/// there a probe savepoint is taken first: if the transaction is aborted already (a
/// statement of write `n` failed, so its savepoint exists), rolling back to `n` mends it;
/// if not, a "no such savepoint" is undone to the probe.
async fn undo(conn: &mut AnyConnection, backend: Backend, n: u64) -> Result<(), sqlx::Error> {
    const PROBE: &str = "SAVEPOINT oxiam_undo_probe";
    if backend == Backend::Postgres
        && let Err(e) = sqlx::raw_sql(PROBE).execute(&mut *conn).await
    {
        // in_failed_sql_transaction: only the rollback to `n` is left to do, unless an
        // earlier undo was dropped after its failed `ROLLBACK TO n` (which aborted the
        // transaction) and before undoing that to its probe: then the probe mends it.
        if e.as_database_error().and_then(|db| db.code()).as_deref() != Some("25P02") {
            return Err(e);
        }
        return match savepoint(conn, "ROLLBACK TO", n).await {
            Ok(()) => savepoint(conn, "RELEASE", n).await,
            Err(e) if no_such_savepoint(&e) => rollback_to_probe(conn).await,
            Err(e) => Err(e),
        };
    }
    // Rolling back to `n` also ends the probe, taken after it.
    let undone = match savepoint(conn, "ROLLBACK TO", n).await {
        Ok(()) => savepoint(conn, "RELEASE", n).await,
        Err(e) => Err(e),
    };
    match undone {
        Ok(()) => Ok(()),
        Err(e) if no_such_savepoint(&e) => match backend {
            Backend::Postgres => rollback_to_probe(conn).await,
            Backend::Sqlite => Ok(()),
        },
        Err(e) => Err(e),
    }
}

/// SQLite's words, and PostgreSQL's code (invalid_savepoint_specification).
fn no_such_savepoint(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|db| db.message().contains("no such savepoint") || db.code().as_deref() == Some("3B001"))
}

/// Undoes a failed statement of [`undo`]'s to the probe it took first.
async fn rollback_to_probe(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::raw_sql("ROLLBACK TO oxiam_undo_probe; RELEASE oxiam_undo_probe")
        .execute(conn)
        .await
        .map(|_| ())
}

/// Runs a savepoint statement (`SAVEPOINT`, `RELEASE`, `ROLLBACK TO`) on write `n`'s
/// savepoint. Each write has a name of its own: were a statement of a cancelled request
/// to run or not run unseen, no later statement can act on another write's savepoint.
async fn savepoint(conn: &mut AnyConnection, verb: &str, n: u64) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(format!("{verb} oxiam_write_{n}")))
        .execute(conn)
        .await
        .map(|_| ())
}

/// How a batch ended: `None` while it is open.
type Outcome = Option<Result<(), Arc<str>>>;

/// A write in progress: a savepoint in the open batch, which the guard holds for this
/// write alone. Dropped without [`WriteTx::commit`], its changes are rolled back.
pub(crate) struct WriteTx {
    /// `None` once the write has let the batch go (when it commits).
    guard: Option<OwnedMutexGuard<Batch>>,
    committer: Arc<Notify>,
    /// The number of this write's savepoint.
    savepoint: u64,
    /// What it may change of what the read cache holds: everything unless it says less.
    changes: Sections,
}

/// The writer: the batch being built, if any.
pub(crate) struct Batch {
    backend: Backend,
    /// On PostgreSQL: the name this server's write notifications go by.
    origin: Option<Arc<Origin>>,
    open: Option<OpenBatch>,
    /// The savepoint of the write that holds (or last held) the batch, from before its
    /// `SAVEPOINT` is sent until it commits. Still set when the next holder comes, it names
    /// a write that ended without committing — failed, or its request dropped at any
    /// await — and is rolled back before anything else runs.
    uncommitted: Option<u64>,
    /// The number of the next write's savepoint.
    next_savepoint: u64,
    /// Told of every commit, before its writes are acknowledged.
    cache: Option<Arc<ReadCache>>,
    /// Every commit's size.
    counts: Arc<BatchCounts>,
}

struct OpenBatch {
    tx: Transaction<'static, Any>,
    outcome: watch::Sender<Outcome>,
    /// The writes that joined it.
    writes: u64,
    /// The savepoint of the last write that committed, not yet released: its `RELEASE` is
    /// sent with the next write's `SAVEPOINT` (a round trip fewer per write), or never, as
    /// `COMMIT` commits it with the rest. Released or not, a later write's rollback to its
    /// own savepoint, made after this one, leaves this write's changes in place.
    committed_unreleased: Option<u64>,
    /// The accounts whose policy epoch the batch bumps before it commits.
    stale_policy_epochs: Vec<String>,
    /// The users and roles whose own policy epoch it bumps (migration 0031).
    stale_entity_epochs: Vec<(EntityKind, String)>,
    /// What its writes may have changed of what the read cache holds.
    changed: Sections,
}

/// Upper bounds of the batch-size buckets (writes per commit).
pub const BATCH_SIZE_BOUNDS: [u64; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// How group commit has gone: batches committed and the writes in them (for the metrics).
#[derive(Debug, Default)]
pub(crate) struct BatchCounts {
    /// Batches by size: of at most `BATCH_SIZE_BOUNDS[i]` writes and more than the bound
    /// before (not cumulative: one increment per commit), then those larger than all.
    sizes: [AtomicU64; BATCH_SIZE_BOUNDS.len() + 1],
    writes: AtomicU64,
}

impl BatchCounts {
    fn add(&self, writes: u64) {
        let size = BATCH_SIZE_BOUNDS
            .iter()
            .position(|bound| writes <= *bound)
            .unwrap_or(BATCH_SIZE_BOUNDS.len());
        self.sizes[size].fetch_add(1, Ordering::Relaxed);
        self.writes.fetch_add(writes, Ordering::Relaxed);
    }

    /// Cumulative, as Prometheus reads a histogram, from one load of each size: a scrape
    /// during a commit sees the commit in every bucket or in none.
    pub(crate) fn snapshot(&self) -> crate::BatchStats {
        let mut total = 0;
        let mut buckets = Vec::with_capacity(BATCH_SIZE_BOUNDS.len());
        for (i, n) in self.sizes.iter().enumerate() {
            total += n.load(Ordering::Relaxed);
            if i < BATCH_SIZE_BOUNDS.len() {
                buckets.push(total);
            }
        }
        crate::BatchStats {
            buckets,
            batches: total,
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}

/// Group commit for one SQLite database: the batch, and the task that commits it.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    batch: Arc<Mutex<Batch>>,
    committer: Arc<Notify>,
    pub(crate) counts: Arc<BatchCounts>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Starts the committer task on the current tokio runtime. `origin` names this server
    /// in the notifications of its commits (PostgreSQL), `cache` is told of each.
    pub(crate) fn start(backend: Backend, cache: Option<Arc<ReadCache>>, origin: Option<Arc<Origin>>) -> Self {
        let counts = Arc::new(BatchCounts::default());
        let group = Self {
            batch: Arc::new(Mutex::new(Batch {
                backend,
                origin,
                open: None,
                uncommitted: None,
                next_savepoint: 0,
                cache,
                counts: counts.clone(),
            })),
            committer: Arc::default(),
            counts,
        };
        let batch = Arc::downgrade(&group.batch);
        let committer = group.committer.clone();
        tokio::spawn(async move {
            loop {
                committer.notified().await;
                // The store is gone: nothing can be waiting.
                let Some(batch) = batch.upgrade() else { return };
                // The lock is fair: writes already queued for it run (and join the batch)
                // before the commit, and writes arriving during the commit form the next.
                let mut batch = batch.lock_owned().await;
                batch.commit().await;
            }
        });
        group
    }

    /// Opens a savepoint in the open batch, starting a batch if none is open.
    pub(crate) async fn begin(&self, pool: &AnyPool) -> Result<WriteTx, StoreError> {
        let mut guard = self.batch.clone().lock_owned().await;
        guard.undo_uncommitted().await;
        if guard.open.is_none() {
            let tx = match guard.backend {
                // IMMEDIATE takes SQLite's write lock now rather than at the first write.
                Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
                Backend::Postgres => pool.begin_with(BEGIN_POSTGRES_BATCH).await?,
            };
            guard.open = Some(OpenBatch {
                tx,
                outcome: watch::channel(None).0,
                writes: 0,
                committed_unreleased: None,
                stale_policy_epochs: Vec::new(),
                stale_entity_epochs: Vec::new(),
                changed: Sections::NONE,
            });
        }
        let n = guard.next_savepoint;
        guard.next_savepoint += 1;
        guard.uncommitted = Some(n);
        let open = guard.open.as_mut().expect("a batch is open");
        // The last write's RELEASE rides on this write's SAVEPOINT: one round trip, not two.
        let sql = match open.committed_unreleased.take() {
            Some(last) => format!("RELEASE oxiam_write_{last}; SAVEPOINT oxiam_write_{n}"),
            None => format!("SAVEPOINT oxiam_write_{n}"),
        };
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *open.tx).await {
            // The batch's connection is in an unknown state: end the batch here.
            guard.fail(&e);
            return Err(e.into());
        }
        Ok(WriteTx {
            guard: Some(guard),
            committer: self.committer.clone(),
            savepoint: n,
            changes: Sections::ALL,
        })
    }
}

impl Batch {
    /// Commits the open batch, if any, and tells its writes how it went.
    async fn commit(&mut self) {
        self.undo_uncommitted().await;
        let Some(mut open) = self.open.take() else { return };
        let writes = open.writes;
        let outcome = match bump_policy_epochs(&mut open).await {
            Ok(()) => match announce(&mut open.tx, self.origin.as_deref(), open.changed).await {
                Ok(()) => open.tx.commit().await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let outcome = outcome.map_err(|e| Arc::from(e.to_string()));
        // A batch of writes that all failed commits nothing: not a group commit.
        if outcome.is_ok() && writes > 0 {
            self.counts.add(writes);
        }
        if let Some(cache) = &self.cache {
            // A commit that failed changed nothing, but how far it got is not known here.
            cache.wrote(if outcome.is_ok() { open.changed } else { Sections::ALL });
        }
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "group commit failed; its writes are reported failed");
        }
        open.outcome.send_replace(Some(outcome));
    }

    /// Rolls back the savepoint of a write that ended without committing. Each step is
    /// repeated by the next holder if this one is dropped half-way; "no such savepoint"
    /// means it was never made (its request was dropped before its `SAVEPOINT` ran) or is
    /// undone already: nothing is left to undo.
    async fn undo_uncommitted(&mut self) {
        let Some(n) = self.uncommitted else { return };
        let Some(open) = self.open.as_mut() else {
            self.uncommitted = None;
            return;
        };
        // Undone, the write changed nothing; but a write's failure is rare, and a cache
        // refilled once costs less than reasoning about how far it got.
        open.changed = Sections::ALL;
        match undo(&mut open.tx, self.backend, n).await {
            Ok(()) => self.uncommitted = None,
            Err(e) => self.fail(&e),
        }
    }

    /// Ends the open batch unwritten (its transaction rolls back when dropped).
    fn fail(&mut self, e: &sqlx::Error) {
        self.uncommitted = None;
        if let Some(open) = self.open.take() {
            if let Some(cache) = &self.cache {
                cache.wrote(Sections::ALL);
            }
            tracing::error!(error = %e, "a write batch failed; its writes are reported failed");
            open.outcome.send_replace(Some(Err(Arc::from(e.to_string()))));
        }
    }
}

impl WriteTx {
    /// Makes the write's changes durable; returns once they are on disk.
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        let mut outcome = {
            let guard = self.guard.as_mut().expect("a write commits once");
            let open = guard.open.as_mut().expect("a batch is open while a write holds it");
            // No round trip here: the savepoint is released by the next write (see
            // `committed_unreleased`), and nothing awaits between this and letting the batch
            // go, so a request dropped now has committed its write or not begun to.
            open.committed_unreleased = Some(self.savepoint);
            open.writes += 1;
            open.changed = open.changed.union(self.changes);
            let outcome = open.outcome.subscribe();
            guard.uncommitted = None;
            outcome
        };
        // Let the next write in (and the committer: see Drop), then wait for the batch.
        drop(self);
        let ended = outcome.wait_for(Option::is_some).await.map(|o| o.clone());
        match ended {
            Ok(Some(Ok(()))) => Ok(()),
            Ok(Some(Err(e))) => Err(StoreError::Commit(e)),
            _ => Err(StoreError::Commit(Arc::from("the write batch was dropped"))),
        }
    }
}

/// Bumps the policy epoch of each account, user and role a write of the batch asked to
/// (see [`WriteTx::bump_policy_epoch`] and [`WriteTx::bump_policy_epoch_of`]).
async fn bump_policy_epochs(open: &mut OpenBatch) -> Result<(), sqlx::Error> {
    // Authentication reads the epochs with the key, as one cached row.
    if !open.stale_policy_epochs.is_empty() || !open.stale_entity_epochs.is_empty() {
        open.changed = open.changed.union(Sections::KEYS);
    }
    for account_id in &open.stale_policy_epochs {
        sqlx::query("UPDATE accounts SET policy_epoch = policy_epoch + 1 WHERE account_id = $1")
            .bind(account_id.as_str())
            .execute(&mut *open.tx)
            .await?;
    }
    for kind in [EntityKind::User, EntityKind::Role] {
        let ids: Vec<&str> = open
            .stale_entity_epochs
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id.as_str())
            .collect();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE {t} SET policy_epoch = policy_epoch + 1 WHERE {c} IN ({ids})",
                t = kind.table(),
                c = kind.id_column(),
                ids = placeholders(1, chunk.len())
            );
            let mut bump = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                bump = bump.bind(*id);
            }
            bump.execute(&mut *open.tx).await?;
        }
    }
    Ok(())
}

/// Tells the other servers sharing a PostgreSQL database that the batch is about to commit
/// (`replication.rs`): delivered if, and only if, it commits. Every batch says so, even one
/// whose writes all failed: a notification too many costs the other servers a cache refill,
/// one too few would let them serve a stale read. The announcement is also the proof that the
/// transaction is not aborted (where `COMMIT` would quietly roll back): it fails if it is,
/// and then so does the batch.
async fn announce(tx: &mut AnyConnection, origin: Option<&Origin>, changed: Sections) -> Result<(), sqlx::Error> {
    let Some(origin) = origin else {
        return Ok(());
    };
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(origin.next_write(changed))
        .execute(tx)
        .await
        .map(|_| ())
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // Committed or not, the batch now has something for the committer: a write to
        // make durable, or an uncommitted savepoint to undo (so that a failed write alone
        // in its batch does not keep the database's write lock until the next write comes).
        // The batch is let go first, so that writes already queued for it join it before
        // the committer's turn comes.
        if let Some(guard) = self.guard.take() {
            drop(guard);
            self.committer.notify_one();
        }
    }
}

impl WriteTx {
    /// Marks every compiled policy set of the account stale (see migration 0003) when the
    /// batch commits: in the same transaction as this write, so no reader sees the write
    /// under the old epoch, and once per batch. Each write bumping the one row itself
    /// would cost a round trip and, on PostgreSQL, a new version of the row per write. A
    /// write rolled back after asking leaves the bump in place: a needless recompilation,
    /// never a stale one.
    pub(crate) fn bump_policy_epoch(&mut self, account_id: &str) {
        let guard = self.guard.as_mut().expect("not yet committed");
        let open = guard.open.as_mut().expect("a batch is open while a write holds it");
        if !open.stale_policy_epochs.iter().any(|a| a == account_id) {
            open.stale_policy_epochs.push(account_id.to_owned());
        }
    }

    /// Marks one principal's compiled policies stale when the batch commits: the user's or
    /// role's own epoch (migration 0031), for a change to what that principal alone may do
    /// (its attachments, inline policies, boundary, tags; a user's group memberships). Other
    /// principals keep theirs. A group is no principal, and a change to its policies reaches
    /// every member: that bumps the account's epoch.
    pub(crate) fn bump_policy_epoch_of(&mut self, kind: EntityKind, account_id: &str, entity_id: &str) {
        if kind == EntityKind::Group {
            return self.bump_policy_epoch(account_id);
        }
        let guard = self.guard.as_mut().expect("not yet committed");
        let open = guard.open.as_mut().expect("a batch is open while a write holds it");
        if !open
            .stale_entity_epochs
            .iter()
            .any(|(k, id)| *k == kind && id == entity_id)
        {
            open.stale_entity_epochs.push((kind, entity_id.to_owned()));
        }
    }

    /// Says that the write changes no more of what the read cache holds than `changes`, so
    /// that its commit leaves the rest cached (on every server). Every table the write
    /// touches must be in it: a section left out serves rows older than the write. Epoch
    /// bumps need not be named (the batch adds what they change).
    pub(crate) fn changes_only(&mut self, changes: Sections) {
        self.changes = changes;
    }

    fn open_batch(&self) -> &OpenBatch {
        let guard = self.guard.as_ref().expect("not yet committed");
        guard.open.as_ref().expect("a batch is open while a write holds it")
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.open_batch().tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        let guard = self.guard.as_mut().expect("not yet committed");
        &mut guard.open.as_mut().expect("a batch is open while a write holds it").tx
    }
}
