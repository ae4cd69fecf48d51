//! oxiam's storage: one schema on SQLite (the embedded default) and PostgreSQL.
//!
//! The store speaks in rows, not in AWS errors: it reports `Conflict`, `NotFound`,
//! `LimitExceeded` and `DeleteConflict`, and the service layer words them as IAM does.
//! Every rule that must hold under parallel requests (unique names regardless of case,
//! the access-key quota, "no keys left" before a delete) is decided by the database inside
//! one statement or transaction, never by a read followed by a separate write.

mod account;
mod cache;
mod certificates;
mod delegation_requests;
mod entities;
mod groups;
mod guesses;
mod instance_profiles;
mod login_profiles;
mod mfa_devices;
mod oidc_providers;
mod organizations;
mod outbound_federation;
mod policies;
mod replication;
mod roles;
mod s3;
mod saml_providers;
mod schema;
mod sessions;
mod tags;
mod usage;
mod user_credentials;
mod users;
mod write;

pub use account::{AccountCounts, AccountRow, CredentialReportRow};
pub use certificates::{ServerCertificateRow, SigningCertificateRow};
pub use delegation_requests::{DelegationNotificationRow, DelegationRequestRow};
pub use entities::{Dependent, EntityKind, EntityRef, InlinePolicy, NewBoundary, StoredPolicy};
pub use groups::GroupRow;
pub use guesses::Guarded;
pub use instance_profiles::{InstanceProfileRow, NewInstanceProfile};
pub use login_profiles::{LoginProfileRow, PasswordPolicyRow};
pub use mfa_devices::{AssignmentFilter, MfaDeviceRow, NewMfaDevice};
pub use oidc_providers::{NewOidcProvider, OidcProviderRow};
pub use organizations::{CreatedAccount, OrganizationRow, OrganizationWrite};
pub use outbound_federation::OutboundFederationRow;
pub use policies::{NewPolicy, PolicyRow, PolicyVersionRow};
pub use replication::LISTENER_APPLICATION_NAME;
pub use roles::{NewRole, RoleRow, SourceTemplate};
pub use s3::{BucketDeletion, BucketRow, ObjectRow, PartRow, S3Write, UploadRow, Versioning};
pub use saml_providers::{SamlKeyRefusal, SamlPrivateKeyRow, SamlProviderChange, SamlProviderRow};
pub use sessions::{Federation, SessionRow, UserSessionRow};
pub use tags::TagOwner;
pub use usage::{AccessReportRow, KeyUse, RoleUse, ServiceUse, ServiceUseRow};
pub use user_credentials::{ServiceCredentialRow, SshPublicKeyRow};
pub use users::{AccessKeyRow, KeyWithOwner, NewUser, Page, UserRow};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions as _};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// What a [`StoreError::NotFound`] or [`StoreError::Conflict`] is about. With the error's
/// `name` it is all the core needs to word AWS's message, once (`oxiam_core::errors`),
/// instead of in a closure at every call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A user, group or role; the name is its name.
    Entity(EntityKind),
    /// A customer managed policy; the name is its ARN (its name, for a `Conflict`).
    Policy,
    /// A version of a managed policy; the name is the policy's ARN.
    PolicyVersion(i64),
    /// An access key or session credentials; the name is the key id.
    AccessKey,
    /// An inline policy of a user, group or role; the name is the policy's name.
    InlinePolicy(EntityKind),
    /// A managed policy attached to an entity; the name is the policy's ARN.
    Attachment,
    /// An account alias; the name is the alias.
    AccountAlias,
    /// An instance profile; the name is its name.
    InstanceProfile,
    /// An OpenID Connect provider; the name is its ARN (its URL, for a `Conflict`).
    OidcProvider,
    /// A virtual MFA device; the name is its serial number (its name, for a `Conflict`).
    MfaDevice,
    /// A user's login profile; the name is the user's name.
    LoginProfile,
    /// The account's password policy; the name is the account id.
    PasswordPolicy,
    /// An account; the name is its id.
    Account,
    /// A user's SSH public key; the name is its id (its fingerprint, for a `Conflict`).
    SshPublicKey,
    /// A service-specific credential; the name is its id.
    ServiceCredential,
    /// A signing certificate; the name is its id.
    SigningCertificate,
    /// A server certificate; the name is its name.
    ServerCertificate,
    /// The deletion task of a service-linked role; the name is its id.
    ServiceLinkedRoleDeletion,
    /// A SAML provider; the name is its ARN (its name, for a `Conflict`).
    SamlProvider,
    /// An organization; the name is its id.
    Organization,
    /// An account's membership of an organization; the name is the account's id.
    OrganizationMember,
    /// An S3 bucket; the name is its name.
    S3Bucket,
    /// An S3 object (a `Conflict`: one exists where none was to be); the name is its key.
    S3Object,
    /// An S3 multipart upload in progress; the name is its id.
    S3Upload,
    /// A delegation request; the name is its id (its workflow id, for a `Conflict`).
    DelegationRequest,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Entity(kind) => f.write_str(kind.as_str()),
            Subject::Policy => f.write_str("policy"),
            Subject::PolicyVersion(v) => write!(f, "version v{v} of policy"),
            Subject::AccessKey => f.write_str("access key"),
            Subject::InlinePolicy(kind) => write!(f, "inline policy of a {}", kind.as_str()),
            Subject::Attachment => f.write_str("attached policy"),
            Subject::AccountAlias => f.write_str("account alias"),
            Subject::InstanceProfile => f.write_str("instance profile"),
            Subject::OidcProvider => f.write_str("OpenID Connect provider"),
            Subject::MfaDevice => f.write_str("virtual MFA device"),
            Subject::LoginProfile => f.write_str("login profile"),
            Subject::PasswordPolicy => f.write_str("password policy"),
            Subject::Account => f.write_str("account"),
            Subject::SshPublicKey => f.write_str("SSH public key"),
            Subject::ServiceCredential => f.write_str("service-specific credential"),
            Subject::SigningCertificate => f.write_str("signing certificate"),
            Subject::ServerCertificate => f.write_str("server certificate"),
            Subject::ServiceLinkedRoleDeletion => f.write_str("service-linked role deletion task"),
            Subject::SamlProvider => f.write_str("SAML provider"),
            Subject::Organization => f.write_str("organization"),
            Subject::OrganizationMember => f.write_str("member of an organization"),
            Subject::S3Bucket => f.write_str("bucket"),
            Subject::S3Object => f.write_str("object"),
            Subject::S3Upload => f.write_str("multipart upload"),
            Subject::DelegationRequest => f.write_str("delegation request"),
        }
    }
}

/// What the store could not do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key (e.g. a name, regardless of case) exists.
    #[error("{subject} {name} already exists")]
    Conflict {
        /// What kind of thing clashes.
        subject: Subject,
        /// The name (or ARN, or id) it was given.
        name: String,
    },
    /// The row to read, change or delete does not exist.
    #[error("{subject} {name} not found")]
    NotFound {
        /// What kind of thing is missing.
        subject: Subject,
        /// The name (or ARN, or id) it was asked for by.
        name: String,
    },
    /// A quota would be exceeded.
    #[error("limit exceeded")]
    LimitExceeded,
    /// The entity still has dependents (e.g. a user with access keys).
    #[error("entity has dependents: {0:?}")]
    DeleteConflict(Dependent),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The write ran, but the commit it was part of failed: nothing of it was stored.
    #[error("commit failed: {0}")]
    Commit(std::sync::Arc<str>),
    /// Another process has the SQLite database open (its lock file is held).
    #[error("the database {0} is in use by another oxiam process (its lock file {0}.lock is held)")]
    InUse(String),
    /// The lock file next to the SQLite database could not be created.
    #[error("cannot create the lock file {path}: {source}")]
    LockFile {
        /// The lock file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database was migrated by a newer release, whose rules this one does not know
    /// (e.g. which writes move which policy epoch): serving from it could serve stale
    /// decisions.
    #[error(
        "the database's schema is version {found}, newer than this release's {known}: it was migrated by a newer oxiam; run that release (every server sharing a database must)"
    )]
    SchemaNewer {
        /// The schema version found.
        found: i64,
        /// The newest this release knows.
        known: i64,
    },
}

impl StoreError {
    /// `NotFound` for `subject` asked for by `name`.
    pub fn not_found(subject: Subject, name: impl Into<String>) -> Self {
        StoreError::NotFound {
            subject,
            name: name.into(),
        }
    }

    /// `Conflict` for `subject` named `name`.
    pub fn conflict(subject: Subject, name: impl Into<String>) -> Self {
        StoreError::Conflict {
            subject,
            name: name.into(),
        }
    }

    /// Whether this is a `NotFound`, whatever its subject.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// A failed insert or update: a unique violation is a `Conflict` on `subject`
    /// `name`, anything else the database's own failure.
    fn on_write(subject: Subject, name: &str) -> impl FnOnce(sqlx::Error) -> Self + '_ {
        move |e| match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::conflict(subject, name),
            _ => StoreError::Database(e),
        }
    }
}

/// What the store has been doing, for the metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreStats {
    /// Connections the pool holds.
    pub pool_connections: u32,
    /// Of those, how many are idle.
    pub pool_idle: usize,
    /// Lookups answered from the read cache, and those that queried.
    pub cache: Option<(u64, u64)>,
    /// On PostgreSQL: whether the cache's lease holds, the other servers' writes heard of,
    /// and the leases taken again after a lapse.
    pub replication: Option<ReplicationStats>,
    /// The group commits so far.
    pub batches: Option<BatchStats>,
}

/// How a server sharing its PostgreSQL database hears of the others' writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicationStats {
    /// Whether lookups may be answered from memory now.
    pub lease_holds: bool,
    /// Writes of other servers heard of.
    pub writes_heard: u64,
    /// Leases taken again after a lapse (a lost or stalled notification connection).
    pub lease_lapses: u64,
}

/// Group commits so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchStats {
    /// Commits of at most each of [`BATCH_SIZE_BOUNDS`] writes.
    pub buckets: Vec<u64>,
    /// Commits.
    pub batches: u64,
    /// Writes in them.
    pub writes: u64,
}

pub use write::BATCH_SIZE_BOUNDS;

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
    /// Concurrent writes share a commit.
    group_commit: write::GroupCommit,
    /// Lookups kept in memory: on SQLite, where this process is the only writer; on
    /// PostgreSQL, under a lease (`replication.rs`).
    cache: Option<Arc<cache::ReadCache>>,
    /// Held while the store is open: no other process writes this SQLite database.
    _lock: Option<Arc<std::fs::File>>,
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
        // The lock comes first: a second server must not touch a database in use.
        let lock = match backend {
            Backend::Sqlite => match sqlite_file(url) {
                Some(path) => Some(lock_database(path).await?),
                None => None,
            },
            Backend::Postgres => None,
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
        let (cache, origin) = match backend {
            Backend::Sqlite => (lock.is_some().then(|| Arc::new(cache::ReadCache::default())), None),
            Backend::Postgres => {
                let cache = Arc::new(cache::ReadCache::leased());
                let origin = Arc::new(replication::Origin::new());
                replication::listen(url, &cache, origin.clone())?;
                (Some(cache), Some(origin))
            }
        };
        let group_commit = write::GroupCommit::start(backend, cache.clone(), origin);
        let store = Self {
            pool,
            backend,
            group_commit,
            cache,
            _lock: lock,
        };
        schema::migrate(&store).await?;
        Ok(store)
    }

    /// The read cache and the generation to read at, when this store caches now.
    fn cache_generation(&self) -> Option<(&cache::ReadCache, cache::Generation)> {
        self.cache
            .as_deref()
            .filter(|c| c.usable())
            .map(|c| (c, c.generation()))
    }

    /// Whether the database answers (readiness): one round trip, reading the account table
    /// the migrations created.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT COUNT(*) FROM accounts").execute(&self.pool).await?;
        Ok(())
    }

    /// The pool, the read cache and group commit, as they stand.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            pool_connections: self.pool.size(),
            pool_idle: self.pool.num_idle(),
            cache: self.cache.as_ref().map(|c| c.counts()),
            replication: self.cache.as_ref().and_then(|c| {
                let lease = c.lease.as_ref()?;
                let (writes_heard, lease_lapses) = lease.counts();
                Some(ReplicationStats {
                    lease_holds: c.usable(),
                    writes_heard,
                    lease_lapses,
                })
            }),
            batches: Some(self.group_commit.counts.snapshot()),
        }
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a write: a savepoint in the shared batch (see [`write`]);
    /// [`write::WriteTx::commit`] returns once the write is durable.
    async fn write_tx(&self) -> Result<write::WriteTx, StoreError> {
        self.group_commit.begin(&self.pool).await
    }

    /// Returns the database's bootstrap account (the one a server makes at its first
    /// start), creating `candidate` if there is none yet; the flag says whether it was
    /// created now. Servers starting together on one PostgreSQL serialize on an advisory
    /// lock, so exactly one is created.
    pub async fn bootstrap_account(&self, candidate: &str, now: i64) -> Result<(String, bool), StoreError> {
        let mut tx = self.write_tx().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7142010509)")
                .execute(&mut *tx)
                .await?;
        }
        let existing: Option<(String,)> = sqlx::query_as("SELECT account_id FROM accounts WHERE origin = 'bootstrap'")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some((account_id,)) = existing {
            tx.commit().await?;
            return Ok((account_id, false));
        }
        sqlx::query("INSERT INTO accounts (account_id, created_at, origin) VALUES ($1, $2, 'bootstrap')")
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
        row.map(|r| r.0)
            .ok_or_else(|| StoreError::not_found(Subject::Account, account_id))
    }
}

/// `$first, $first+1, …`: `count` numbered parameters, for an `IN (…)` list.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ids per `IN (…)` list: a statement's parameters are bounded (SQLite's 32,766).
pub(crate) const IDS_PER_STATEMENT: usize = 500;

/// The file of a `sqlite:` URL; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.to_owned())
}

/// Takes the lock file `DB.lock` for as long as the store is open, waiting up to five
/// seconds for a store closing in this or another process to let go.
async fn lock_database(path: String) -> Result<Arc<std::fs::File>, StoreError> {
    let lock_path = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StoreError::LockFile {
            path: lock_path.clone(),
            source,
        })?;
    for _ in 0..500 {
        match file.try_lock() {
            Ok(()) => return Ok(Arc::new(file)),
            Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StoreError::LockFile {
                    path: lock_path,
                    source,
                });
            }
        }
    }
    Err(StoreError::InUse(path))
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
