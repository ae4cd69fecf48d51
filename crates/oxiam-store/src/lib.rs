//! oxiam's storage: one schema on SQLite (the embedded default) and PostgreSQL.
//!
//! The store speaks in rows, not in AWS errors: it reports `Conflict`, `NotFound`,
//! `LimitExceeded` and `DeleteConflict`, and the service layer words them as IAM does.
//! Every rule that must hold under parallel requests (unique names regardless of case,
//! the access-key quota, "no keys left" before a delete) is decided by the database inside
//! one statement or transaction, never by a read followed by a separate write.

mod account;
mod entities;
mod groups;
mod policies;
mod roles;
mod schema;
mod sessions;
mod tags;
mod usage;
mod users;
mod write;

pub use account::{AccountCounts, CredentialReportRow};
pub use entities::{Dependent, EntityKind, EntityRef, InlinePolicy, StoredPolicy};
pub use groups::GroupRow;
pub use policies::{NewPolicy, PolicyRow, PolicyVersionRow};
pub use roles::{NewRole, RoleRow};
pub use sessions::{SessionRow, UserSessionRow};
pub use tags::TagOwner;
pub use usage::{KeyUse, RoleUse};
pub use users::{AccessKeyRow, KeyWithOwner, NewUser, Page, UserRow};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions as _};
use std::str::FromStr;
use std::time::Duration;

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key (e.g. a name, regardless of case) exists.
    #[error("an entity with this name already exists")]
    Conflict,
    /// The row to read, change or delete does not exist.
    #[error("no such entity")]
    NotFound,
    /// A quota would be exceeded.
    #[error("limit exceeded")]
    LimitExceeded,
    /// The entity still has dependents (e.g. a user with access keys).
    #[error("entity has dependents: {0:?}")]
    DeleteConflict(Dependent),
    /// A managed policy named by ARN does not exist in the account.
    #[error("no such policy")]
    PolicyNotFound,
    /// The policy exists but the version named does not.
    #[error("no such policy version")]
    VersionNotFound,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The write ran, but the commit it was part of failed: nothing of it was stored.
    #[error("commit failed: {0}")]
    Commit(std::sync::Arc<str>),
}

impl StoreError {
    fn from_write(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Database(e),
        }
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a file (the embedded default).
    Sqlite,
    /// PostgreSQL, possibly shared by several oxiam servers.
    Postgres,
}

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// On SQLite, where concurrent writes share a commit.
    group_commit: Option<write::GroupCommit>,
}

impl Store {
    /// Opens (creating if needed) the database at `url` (`sqlite://…` or `postgres://…`)
    /// and brings its schema up to date.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run beside the writer; FULL makes an
                            // acknowledged write survive power loss; foreign keys
                            // cascade tag rows away with their user.
                            sqlx::raw_sql(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;",
                            )
                            .execute(conn)
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        let group_commit = (backend == Backend::Sqlite).then(write::GroupCommit::start);
        let store = Self {
            pool,
            backend,
            group_commit,
        };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write: its own transaction on PostgreSQL, a savepoint in the shared
    /// batch on SQLite (see [`write`]). Either way [`write::WriteTx::commit`] returns once
    /// the write is durable.
    async fn write_tx(&self) -> Result<write::WriteTx, StoreError> {
        match &self.group_commit {
            Some(group) => group.begin(&self.pool).await,
            None => write::WriteTx::alone(&self.pool).await,
        }
    }

    /// Returns the database's account, creating `candidate` if there is none yet; the
    /// flag says whether it was created now. Servers starting together on one PostgreSQL
    /// serialize on an advisory lock, so exactly one account is created.
    pub async fn bootstrap_account(&self, candidate: &str, now: i64) -> Result<(String, bool), StoreError> {
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7142010509)")
                .execute(&mut *tx)
                .await?;
        }
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT account_id FROM accounts ORDER BY created_at, account_id LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((account_id,)) = existing {
            tx.commit().await?;
            return Ok((account_id, false));
        }
        sqlx::query("INSERT INTO accounts (account_id, created_at) VALUES ($1, $2)")
            .bind(candidate)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((candidate.to_owned(), true))
    }

    /// The creation time of an account.
    pub async fn account_created_at(&self, account_id: &str) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM accounts WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.0).ok_or(StoreError::NotFound)
    }
}

/// Opaque paging markers: the sort key of the last row of the previous page.
pub mod marker {
    use base64::Engine as _;
    const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// The marker that resumes after `sort_key`.
    pub fn encode(sort_key: &str) -> String {
        ENGINE.encode(sort_key)
    }

    /// The sort key a marker resumes after; `None` if the marker is not one of ours.
    pub fn decode(marker: &str) -> Option<String> {
        String::from_utf8(ENGINE.decode(marker).ok()?).ok()
    }
}
