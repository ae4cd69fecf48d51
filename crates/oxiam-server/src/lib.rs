//! oxiam's HTTP front: one port, and for each request one straight line:
//! receive → route → authenticate → decode → authorize → execute → encode → record.
//!
//! Each stage is a function in [`pipeline`]; this module only starts and stops the server.

mod admin;
mod audit;
mod issuer_keys;
mod listen;
mod metrics;
mod operations;
mod pipeline;
mod protocol;
mod record;
mod tls;

pub use audit::AuditTrail;
pub use listen::Limits;
pub use metrics::Metrics;
pub use oxiam_core::Clock;
pub use record::LogSink;
pub use tls::{TlsError, TlsFiles};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use oxiam_core::{BootstrapConfig, Oxiam, SecretBox};
use oxiam_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Everything `oxiam serve` is configured with.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The data directory: the SQLite database and the master key live here.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL to use instead of the embedded SQLite database.
    pub database_url: Option<String>,
    /// The master key sealing secrets at rest; read from (or created in) the data
    /// directory when `None`.
    pub master_key: Option<[u8; 32]>,
    /// The account and root key to make sure of.
    pub bootstrap: BootstrapConfig,
    /// Timeouts and the connection cap.
    pub limits: Limits,
    /// The audit trail's file (one JSON line per request), if one is kept.
    pub audit_log: Option<PathBuf>,
    /// Whether `POST /_oxiam/reset` (and moto's `/moto-api/reset`) may wipe the state: for
    /// test suites only.
    pub test_mode: bool,
    /// Whether denials are enforced, or only recorded (`--enforcement log`).
    pub enforcement: oxiam_core::Enforcement,
    /// Whether identity policies written are checked (`--lint-policies`).
    pub lint_policies: oxiam_core::LintPolicies,
    /// Whether S3 accepts SigV2 signatures (`--allow-sigv2`), held to AWS's rules.
    pub allow_sigv2: bool,
    /// The domains under which S3 reads `BUCKET.DOMAIN` as a bucket (`--s3-domain`), besides
    /// `localhost`.
    pub s3_domains: Vec<String>,
    /// Where S3 objects' bytes are kept (`--s3-dir`); `None`: `DATA_DIR/s3`. Servers
    /// sharing a PostgreSQL database must share this directory too.
    pub s3_dir: Option<PathBuf>,
    /// The certificate and key to speak TLS with (`--tls-cert`, `--tls-key`); plain
    /// HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// The URL clients reach the server by (`--public-url`), which the issuer URLs of
    /// outbound identity federation start with; `None`: the listening address, with the
    /// scheme it speaks (loopback for an unspecified address).
    pub public_url: Option<String>,
    /// Where each request's record goes besides the log line, the metrics and the audit
    /// trail (a test's collector).
    pub sinks: Vec<Arc<dyn oxiam_core::record::RecordSink>>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or master key file could not be used.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The path that failed.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The master key file is not 32 bytes.
    #[error("the master key file {0} must hold exactly 32 bytes")]
    BadMasterKey(PathBuf),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] oxiam_store::StoreError),
    /// The account or root key could not be set up.
    #[error(transparent)]
    Bootstrap(#[from] oxiam_core::BootstrapError),
    /// The S3 object store could not be set up.
    #[error(transparent)]
    S3(#[from] oxiam_s3::Error),
    /// An S3 domain is not a domain name.
    #[error("--s3-domain: {0}")]
    S3Domain(#[from] oxiam_s3::hosts::BadDomain),
    /// The audit trail's file could not be opened.
    #[error("cannot open the audit trail {path}: {source}")]
    Audit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running server.
pub struct RunningServer {
    /// The address it listens on (with the real port when 0 was asked for).
    pub local_addr: SocketAddr,
    /// The account the database holds.
    pub account_id: String,
    /// A root key generated at this start, to show once.
    pub generated_root_key: Option<(String, String)>,
    /// It speaks TLS.
    tls: bool,
    clock: Clock,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The clock the server judges requests by; tests move it forward.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The endpoint URL clients use: `http://127.0.0.1:PORT`, or `https://…` over TLS.
    pub fn endpoint_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Waits until the server stops (after [`RunningServer::stop`] or a failure).
    pub async fn wait(self) -> std::io::Result<()> {
        let Self { task, shutdown, .. } = self;
        let result = task.await.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        drop(shutdown);
        result
    }

    /// A sender that stops the server gracefully when used or dropped.
    pub fn take_shutdown(&mut self) -> Option<oneshot::Sender<()>> {
        self.shutdown.take()
    }
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |source| StartError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Reads the master key from `DIR/master.key`, creating it (mode 0600) on first start.
fn load_master_key(data_dir: &std::path::Path) -> Result<[u8; 32], StartError> {
    let path = data_dir.join("master.key");
    match std::fs::read(&path) {
        Ok(bytes) => bytes.try_into().map_err(|_| StartError::BadMasterKey(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretBox::generate_key();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(io_err(&path))?;
            std::io::Write::write_all(&mut file, &key).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            Ok(key)
        }
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// Makes the data directory 0700 and the database's files 0600: they hold every identity
/// and, sealed, every secret. Anything looser is tightened, and said so in the log (the
/// `oxiam serve` command also sets its umask to 0077, so that files made later — S3
/// objects — are private too).
#[cfg(unix)]
fn private_files(data_dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let mut paths = vec![(data_dir.to_owned(), 0o700)];
    for name in [
        "oxiam.db",
        "oxiam.db-wal",
        "oxiam.db-shm",
        "oxiam.db.lock",
        "master.key",
    ] {
        paths.push((data_dir.join(name), 0o600));
    }
    for (path, mode) in paths {
        let Ok(meta) = std::fs::metadata(&path) else { continue };
        let current = meta.permissions().mode() & 0o777;
        if current & !mode != 0 {
            match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)) {
                Ok(()) => {
                    tracing::warn!(path = %path.display(), was = format!("{current:o}"), now = format!("{mode:o}"), "tightened permissions")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), mode = format!("{current:o}"), error = %e, "readable by others, and could not be made private")
                }
            }
        }
    }
}

#[cfg(not(unix))]
fn private_files(_data_dir: &std::path::Path) {}

/// How often the last use of keys and roles is written (see `oxiam_core::Oxiam::flush_usage`).
const USAGE_WRITE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

async fn write_usage_periodically(oxiam: Arc<Oxiam>) {
    let mut ticks = tokio::time::interval(USAGE_WRITE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = oxiam.flush_usage().await {
            tracing::warn!(error = %e, "could not write key and role last use");
        }
    }
}

/// Opens the services over the data directory's database (or `database_url`), with the
/// master key given or kept in the data directory: what `start` serves, and what the
/// operator's commands (`oxiam account`) use with the server stopped. On SQLite the
/// database's lock file keeps a second process out while one has it open.
pub async fn open(
    data_dir: &Path,
    database_url: Option<&str>,
    master_key: Option<[u8; 32]>,
) -> Result<Oxiam, StartError> {
    std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    let master_key = match master_key {
        Some(key) => key,
        None => load_master_key(data_dir)?,
    };
    let url = match database_url {
        Some(url) => url.to_owned(),
        None => format!("sqlite://{}?mode=rwc", data_dir.join("oxiam.db").display()),
    };
    let store = Store::open(&url).await?;
    if database_url.is_none() {
        private_files(data_dir);
    }
    Ok(Oxiam::new(store, SecretBox::new(&master_key)))
}

/// The URL of a server listening on `addr`: an unspecified address (all interfaces) is
/// reached on loopback.
fn default_public_url(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::IpAddr::from([127, 0, 0, 1]),
        ip if ip.is_unspecified() => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// Opens the database, bootstraps the account, binds the port and starts serving.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let s3_hosts = oxiam_s3::BucketHosts::new(&config.s3_domains)?;
    let oxiam = open(&config.data_dir, config.database_url.as_deref(), config.master_key)
        .await?
        .with_enforcement(config.enforcement)
        .with_lint_policies(config.lint_policies);
    if config.test_mode {
        tracing::warn!("--test-mode: POST /_oxiam/reset wipes every user, key, policy and bucket, without credentials");
    }
    if config.enforcement == oxiam_core::Enforcement::Log {
        tracing::warn!("--enforcement log: denied requests go through, recorded as would-have-been denied");
    }
    let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let clock = Clock::default();
    let booted = oxiam.bootstrap(&config.bootstrap, clock.now()).await?;

    listen::raise_open_file_limit();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: config.listen,
        source,
    })?;
    let public_url = match &config.public_url {
        Some(url) => url.clone(),
        None => default_public_url(local_addr, tls.is_some()),
    };
    let oxiam = Arc::new(oxiam.with_public_url(&public_url));
    let s3 = oxiam_s3::service(
        oxiam.clone(),
        &config.s3_dir.clone().unwrap_or_else(|| config.data_dir.join("s3")),
        clock.clone(),
        oxiam_s3::S3Options {
            allow_sigv2: config.allow_sigv2,
            hosts: s3_hosts,
        },
    )?;
    let usage_writer = tokio::spawn(write_usage_periodically(oxiam.clone()));
    let last_flush = oxiam.clone();
    let audit = match &config.audit_log {
        Some(path) => Some(Arc::new(AuditTrail::open(path).map_err(|source| {
            StartError::Audit {
                path: path.clone(),
                source,
            }
        })?)),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    let connection_metrics = metrics.clone();
    let mut sinks: Vec<Arc<dyn oxiam_core::record::RecordSink>> = vec![Arc::new(LogSink), metrics.clone()];
    sinks.extend(config.sinks.iter().cloned());
    let app = pipeline::router(pipeline::App {
        oxiam,
        clock: clock.clone(),
        s3,
        sinks: sinks.into(),
        metrics,
        audit,
        issuer_keys: Arc::new(issuer_keys::IssuerKeyFetcher::default()),
        test_mode: config.test_mode.then(|| {
            Arc::new(pipeline::TestMode {
                account_id: booted.account_id.clone(),
                bootstrap: config.bootstrap.clone(),
            })
        }),
    });
    let (tx, rx) = oneshot::channel::<()>();
    let limits = config.limits;
    let task = tokio::spawn(async move {
        listen::serve(listener, app, limits, tls, connection_metrics, async move {
            let _ = rx.await;
        })
        .await;
        usage_writer.abort();
        if let Err(e) = last_flush.flush_usage().await {
            tracing::warn!(error = %e, "could not write key and role last use at shutdown");
        }
        Ok(())
    });
    tracing::info!(address = %local_addr, account_id = %booted.account_id, tls = config.tls.is_some(), "oxiam is listening");
    Ok(RunningServer {
        local_addr,
        account_id: booted.account_id,
        generated_root_key: booted.generated_root_key,
        tls: config.tls.is_some(),
        clock,
        shutdown: Some(tx),
        task,
    })
}
