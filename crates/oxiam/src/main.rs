//! The `oxiam` command.

mod account_cmd;
mod audit_filter;
mod current_policies;
mod policy_diff;
mod policy_eval;
mod policy_lint;
mod policy_suggest;
#[cfg(target_os = "linux")]
mod worker_affinity;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use oxiam::demo::{self, Clients, Embedded, Scenario};
use oxiam_server::{ServerConfig, start};

/// mimalloc rather than the system's allocator: requests allocate and free many small
/// buffers across worker threads, where glibc's arenas and consolidation cost measurably
/// more (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "oxiam",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("OXIAM_GIT_REVISION"), ")"),
    about = "A self-hostable AWS IAM, STS and S3"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve IAM, STS and S3 on one port.
    ///
    /// Environment: OXIAM_DATABASE_URL, OXIAM_ACCOUNT_ID, OXIAM_ROOT_ACCESS_KEY_ID,
    /// OXIAM_ROOT_SECRET_ACCESS_KEY, OXIAM_MASTER_KEY (64 hex digits), OXIAM_HEADER_TIMEOUT,
    /// OXIAM_BODY_TIMEOUT, OXIAM_WORKERS, OXIAM_PIN_WORKERS, OXIAM_MAX_CONNECTIONS,
    /// OXIAM_SHUTDOWN_GRACE, OXIAM_AUDIT_LOG, OXIAM_LOG_FORMAT, OXIAM_TEST_MODE,
    /// OXIAM_ENFORCEMENT, OXIAM_ALLOW_SIGV2, OXIAM_S3_DOMAIN, OXIAM_TLS_CERT, OXIAM_TLS_KEY,
    /// OXIAM_PUBLIC_URL, OXIAM_LINT_POLICIES, OXIAM_LOG (log filter).
    Serve(ServeArgs),
    /// Perform one of the seed's scenarios (or all of them) with the AWS SDK for Rust,
    /// printing each step; on an embedded oxiam unless told where to go.
    Demo(DemoArgs),
    /// Work with IAM policies offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the events of an audit trail (`serve --audit-log`) that match: by caller,
    /// action, decision and time. Exits 0 when some matched, 1 when none did.
    Audit(audit_filter::AuditArgs),
    /// Create and list accounts beside the bootstrap one, on a stopped server's database.
    #[command(subcommand)]
    Account(account_cmd::AccountCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Decide whether a request would be allowed, from policy files, and say why.
    /// Exits 0 when allowed, 2 when denied.
    Eval(policy_eval::EvalArgs),
    /// Check policy files as IAM Access Analyzer's ValidatePolicy does: errors, security
    /// warnings, warnings and suggestions, each with its place in the file. Exits 0 when
    /// nothing is at or above --fail-on, 1 when something is, 2 when a file cannot be read.
    Lint(policy_lint::LintArgs),
    /// Write the least-privilege identity policy for what a principal did, from an audit
    /// trail (`serve --audit-log`; with `--enforcement log`, an application's whole run).
    /// With --verify, exits 1 when the suggestion would refuse a recorded request.
    Suggest(policy_suggest::SuggestArgs),
    /// Whether NEW allows any request OLD does not (Access Analyzer's CheckNoNewAccess),
    /// with a witness request when it does. Exits 0 for no new access, 1 for new access,
    /// 3 when neither could be shown, 2 when a file cannot be read or parsed.
    Diff(policy_diff::DiffArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// The scenario.
    #[arg(value_enum)]
    scenario: DemoScenario,
    /// Talk to the oxiam at this URL instead of starting an embedded one, with the
    /// credentials of the usual AWS environment variables or profile.
    #[arg(long, value_name = "URL", conflicts_with = "aws")]
    endpoint_url: Option<String>,
    /// Talk to AWS itself, with the credentials of the usual AWS environment variables or
    /// profile (the demos create and delete real resources).
    #[arg(long)]
    aws: bool,
    /// The region to sign for and create buckets in (else AWS_REGION, the profile's, or us-east-1).
    #[arg(long, env = "AWS_REGION")]
    region: Option<String>,
    /// The profile of the shared AWS config and credentials files to use (with --endpoint-url or --aws).
    #[arg(long, env = "AWS_PROFILE")]
    profile: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DemoScenario {
    /// 1. Users with different permissions on a bucket.
    Users,
    /// 2. Manage access keys.
    Keys,
    /// 3. Manage policies, and roll a policy version back.
    Policies,
    /// 4. Manage roles.
    Roles,
    /// 5. Manage the account: alias, credential report, summary, authorization details.
    Account,
    /// 6. Create a user and assume a role.
    AssumeRole,
    /// Enable a virtual MFA device, then assume a role that requires MFA.
    Mfa,
    /// Create an organization and a member account, enter it, and show an SCP deny its own
    /// administrator (not part of `all`).
    Organization,
    /// All seven, in order (each runs even if an earlier one failed).
    All,
}

impl DemoScenario {
    fn scenarios(self) -> Vec<Scenario> {
        match self {
            DemoScenario::Users => vec![Scenario::Users],
            DemoScenario::Keys => vec![Scenario::Keys],
            DemoScenario::Policies => vec![Scenario::Policies],
            DemoScenario::Roles => vec![Scenario::Roles],
            DemoScenario::Account => vec![Scenario::Account],
            DemoScenario::AssumeRole => vec![Scenario::AssumeRole],
            DemoScenario::Mfa => vec![Scenario::Mfa],
            DemoScenario::Organization => vec![Scenario::Organization],
            DemoScenario::All => Scenario::ALL.to_vec(),
        }
    }
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one; the log says which).
    #[arg(long, default_value = "127.0.0.1:7345")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    /// The account id of a new database (12 digits; random if unset).
    #[arg(long, env = "OXIAM_ACCOUNT_ID", hide_env_values = true)]
    account_id: Option<String>,
    /// A root access key id to make sure of (with OXIAM_ROOT_SECRET_ACCESS_KEY).
    #[arg(
        long,
        env = "OXIAM_ROOT_ACCESS_KEY_ID",
        hide_env_values = true,
        requires = "root_secret_access_key"
    )]
    root_access_key_id: Option<String>,
    /// The root secret access key (environment only, so it stays out of `ps`).
    #[arg(
        long = "root-secret-access-key-from-env",
        env = "OXIAM_ROOT_SECRET_ACCESS_KEY",
        hide_env_values = true,
        hide = true
    )]
    root_secret_access_key: Option<String>,
    /// Seconds a connection may take to send a request's head, or stay idle between
    /// requests, before it is closed.
    #[arg(long, env = "OXIAM_HEADER_TIMEOUT", default_value_t = 20, value_name = "SECONDS")]
    header_timeout: u64,
    /// Seconds the server waits for the next piece of a request body.
    #[arg(long, env = "OXIAM_BODY_TIMEOUT", default_value_t = 30, value_name = "SECONDS")]
    body_timeout: u64,
    /// Threads that answer requests (unset: tokio's TOKIO_WORKER_THREADS if set, else one
    /// per core).
    #[arg(long, env = "OXIAM_WORKERS", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    /// `auto` pins each worker to a CPU of its own when there is one worker per CPU the
    /// process may run on (Linux); `off` leaves them to the scheduler. Pinned, a server
    /// sharing its cores with busy callers answers with a shorter tail (docs/benchmarks.md,
    /// 2026-12-06 (late evening)).
    #[arg(long, env = "OXIAM_PIN_WORKERS", value_enum, default_value_t = PinWorkers::Auto)]
    pin_workers: PinWorkers,
    /// Connections open at once; more are closed as soon as they are accepted.
    #[arg(long, env = "OXIAM_MAX_CONNECTIONS", default_value_t = 4096, value_name = "N")]
    max_connections: usize,
    /// Seconds a stop (SIGTERM, Ctrl-C) waits for in-flight requests before closing what
    /// is still open.
    #[arg(long, env = "OXIAM_SHUTDOWN_GRACE", default_value_t = 30, value_name = "SECONDS")]
    shutdown_grace: u64,
    /// Append every request's event to this file (`-`: standard output), one JSON object
    /// per line (who, what, what authorization decided and by which statement, the answer).
    #[arg(long, env = "OXIAM_AUDIT_LOG", value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Answer `POST /_oxiam/reset` (and moto's `POST /moto-api/reset`), which wipes IAM, STS
    /// and S3 state back to a new database's, keeping the account and its root key: for test
    /// suites, between tests. Never on a server anyone relies on.
    #[arg(long, env = "OXIAM_TEST_MODE")]
    test_mode: bool,
    /// `enforce` refuses what policies deny; `log` lets it through, recording each such
    /// request in the log and the audit trail as would-have-been denied, with the
    /// statement or rule that denies it (for writing least-privilege policies against a
    /// working application; never on a server anyone relies on).
    #[arg(long, env = "OXIAM_ENFORCEMENT", value_enum, default_value_t = EnforcementArg::Enforce)]
    enforcement: EnforcementArg,
    /// Check each identity policy written (CreatePolicy, CreatePolicyVersion, Put…Policy)
    /// as `oxiam policy lint` does: `warn` logs the findings and records them in the audit
    /// trail; `deny` also refuses a policy with an ERROR finding (MalformedPolicyDocument,
    /// with the finding). `off`: as IAM, no such check.
    #[arg(long, env = "OXIAM_LINT_POLICIES", value_enum, default_value_t = LintPoliciesArg::Off)]
    lint_policies: LintPoliciesArg,
    /// Accept S3 requests signed with Signature Version 2 (old clients), held to AWS's
    /// rules: a Date within 15 minutes, a presigned URL only until its Expires, the
    /// signature compared in constant time. Off: SigV2 is refused, as in AWS regions that
    /// take only SigV4.
    #[arg(long, env = "OXIAM_ALLOW_SIGV2")]
    allow_sigv2: bool,
    /// Address S3 buckets by host as well as by path: `BUCKET.DOMAIN` names the bucket
    /// BUCKET (as the AWS SDK for JavaScript and s3cmd do by default). Repeatable, or
    /// comma-separated in the variable. `localhost` is always one (`BUCKET.localhost`
    /// resolves to the loopback address on most systems).
    #[arg(
        long = "s3-domain",
        env = "OXIAM_S3_DOMAIN",
        value_name = "DOMAIN",
        value_delimiter = ','
    )]
    s3_domains: Vec<String>,
    /// Keep S3 objects' bytes in this directory (default: DATA_DIR/s3). Buckets and object
    /// metadata are in the database; servers sharing a PostgreSQL database must also share
    /// this directory (a volume every replica mounts).
    #[arg(long, env = "OXIAM_S3_DIR", value_name = "DIR")]
    s3_dir: Option<PathBuf>,
    /// Speak TLS on the listening port with this certificate chain (PEM); requires
    /// --tls-key. Requests over it carry `aws:SecureTransport` true.
    #[arg(long, env = "OXIAM_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "OXIAM_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The URL clients reach this server by, when it is not the listening address (a load
    /// balancer, a host name). The issuer URLs of outbound identity federation
    /// (EnableOutboundWebIdentityFederation) start with it: `URL/_oxiam/oidc/ID`. Replicas
    /// of one database must be given the same. Default: `http(s)://` the listening address.
    #[arg(long, env = "OXIAM_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// How the log is written: `text` for people, `json` (one object per line) for
    /// collectors.
    #[arg(long, env = "OXIAM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Whether the workers are pinned, one to each CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum PinWorkers {
    Auto,
    Off,
}

/// Whether denials are enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum EnforcementArg {
    Enforce,
    Log,
}

/// Whether identity policies written are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LintPoliciesArg {
    Off,
    Warn,
    Deny,
}

/// The log's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Where the server's state is: the options `serve` and `account` share.
#[derive(clap::Args)]
struct StoreArgs {
    /// The data directory: the embedded database and the master key live here.
    #[arg(long, default_value = "oxiam-data")]
    data_dir: PathBuf,
    /// Use this PostgreSQL database (postgres://…) instead of the embedded one.
    #[arg(long, env = "OXIAM_DATABASE_URL")]
    database_url: Option<String>,
    /// The 32-byte master key sealing secrets at rest, as 64 hex digits (replicas sharing
    /// one PostgreSQL must share it); read from or created in the data directory if unset.
    #[arg(
        long = "master-key-from-env",
        env = "OXIAM_MASTER_KEY",
        hide_env_values = true,
        hide = true
    )]
    master_key: Option<String>,
}

impl StoreArgs {
    /// The master key given in the environment, if one is.
    fn master_key(&self) -> Result<Option<[u8; 32]>, String> {
        match &self.master_key {
            Some(hex) => match parse_master_key(hex) {
                Some(key) => Ok(Some(key)),
                None => Err("OXIAM_MASTER_KEY must be 64 hex digits (32 bytes)".to_owned()),
            },
            None => Ok(None),
        }
    }
}

fn parse_master_key(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler cannot fail on Unix");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        revision = env!("OXIAM_GIT_REVISION"),
        "oxiam is starting"
    );
    // Whatever the server writes (the database, its WAL, S3 objects) is for its owner only.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let master_key = args.store.master_key()?;
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.store.data_dir,
        database_url: args.store.database_url,
        master_key,
        bootstrap: oxiam_core::BootstrapConfig {
            account_id: args.account_id,
            root_key: args.root_access_key_id.zip(args.root_secret_access_key),
        },
        limits: oxiam_server::Limits {
            header_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
            body_timeout: std::time::Duration::from_secs(args.body_timeout.max(1)),
            max_connections: args.max_connections.max(1),
            grace: std::time::Duration::from_secs(args.shutdown_grace),
        },
        audit_log: args.audit_log,
        test_mode: args.test_mode,
        enforcement: match args.enforcement {
            EnforcementArg::Enforce => oxiam_core::Enforcement::Enforce,
            EnforcementArg::Log => oxiam_core::Enforcement::Log,
        },
        lint_policies: match args.lint_policies {
            LintPoliciesArg::Off => oxiam_core::LintPolicies::Off,
            LintPoliciesArg::Warn => oxiam_core::LintPolicies::Warn,
            LintPoliciesArg::Deny => oxiam_core::LintPolicies::Deny,
        },
        allow_sigv2: args.allow_sigv2,
        s3_domains: args.s3_domains,
        s3_dir: args.s3_dir,
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| oxiam_server::TlsFiles { cert, key }),
        public_url: args.public_url,
        sinks: Vec::new(),
    };
    let audit_on_stdout = config.audit_log.as_deref() == Some(std::path::Path::new("-"));
    let mut server = start(config).await.map_err(|e| e.to_string())?;
    if let Some((id, secret)) = &server.generated_root_key {
        // Shown once, on the terminal only: it is not logged and cannot be read back. Not
        // on standard output when the audit trail goes there, for collectors to keep.
        let shown = format!(
            "Created account {} with a root access key:\n  AWS_ACCESS_KEY_ID={id}\n  AWS_SECRET_ACCESS_KEY={secret}\nKeep it now; oxiam will not show the secret again.",
            server.account_id
        );
        if audit_on_stdout {
            eprintln!("{shown}");
        } else {
            println!("{shown}");
        }
    }
    let stop = server.take_shutdown();
    let waiter = tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("stopping: finishing in-flight requests");
        drop(stop);
    });
    let result = server.wait().await.map_err(|e| e.to_string());
    waiter.abort();
    tracing::info!("stopped");
    result
}

/// The SDK configuration of `--endpoint-url` or `--aws`: the usual AWS environment variables,
/// shared config and credentials files.
async fn configured_sdk(args: &DemoArgs) -> aws_config::SdkConfig {
    use aws_config::meta::region::RegionProviderChain;
    let region = match &args.region {
        Some(region) => aws_config::Region::new(region.clone()),
        None => {
            let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
            if let Some(name) = &args.profile {
                profile = profile.profile_name(name);
            }
            RegionProviderChain::first_try(aws_config::environment::EnvironmentVariableRegionProvider::new())
                .or_else(profile.build())
                .or_else("us-east-1")
                .region()
                .await
                .unwrap_or_else(|| aws_config::Region::from_static("us-east-1"))
        }
    };
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region);
    if let Some(name) = &args.profile {
        loader = loader.profile_name(name);
    }
    if let Some(url) = &args.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

async fn demo(args: DemoArgs) -> Result<(), String> {
    let scenarios = args.scenario.scenarios();
    let (embedded, config) = if args.endpoint_url.is_none() && !args.aws {
        let server = Embedded::start().await.map_err(|e| e.to_string())?;
        println!(
            "Started an embedded oxiam at {} for account {}, root access key {}, data in {}.",
            server.endpoint_url(),
            server.account_id(),
            Embedded::ROOT_ACCESS_KEY_ID,
            server.data_dir().display()
        );
        let config = server.sdk_config(args.region.as_deref().unwrap_or("us-east-1"));
        (Some(server), config)
    } else {
        (None, configured_sdk(&args).await)
    };
    let admin = Clients::new(&config);
    let ran = async {
        let me = demo::whoami(&admin).await?;
        println!(
            "Acting as {me} on {}, in {}.",
            admin.endpoint_url().unwrap_or("AWS"),
            admin.region()
        );
        Ok::<_, demo::Error>(demo::run_scenarios(&admin, &scenarios).await)
    };
    // Ctrl-C still stops the embedded server and removes its data directory.
    let ran = tokio::select! {
        ran = ran => ran,
        _ = tokio::signal::ctrl_c() => Err(demo::Error::new(
            "interrupted",
            if embedded.is_some() {
                "stopped before the end"
            } else {
                "stopped before the end: what the demo had created so far is still there"
            },
        )),
    };
    if let Some(server) = embedded {
        match server.stop().await {
            Ok(()) => println!("\nStopped the embedded oxiam and removed its data directory."),
            Err(e) => eprintln!("oxiam: {e}"),
        }
    }
    match ran {
        Err(e) => Err(e.to_string()),
        Ok(failures) if failures.is_empty() => Ok(()),
        Ok(failures) => Err(failures
            .iter()
            .map(|(scenario, e)| format!("demo {} failed: {e}", scenario.name()))
            .collect::<Vec<_>>()
            .join("\noxiam: ")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demos print their own story; the embedded server's request log (and s3s's error log of
    // every expected AccessDenied) would drown it.
    let default_filter = match cli.command {
        // s3s logs every S3 error answer at ERROR (an AccessDenied, a NoSuchKey) with a debug
        // dump of it: each request already has its one line, with its error code, and a
        // server fault is logged by oxiam where it happens.
        Command::Serve(_) => "info,sqlx=warn,s3s=off",
        Command::Demo(_) | Command::Account(_) => "warn,sqlx=warn,s3s=off",
        Command::Policy(_) | Command::Audit(_) => "warn",
    };
    if let Command::Audit(args) = &cli.command {
        return match audit_filter::run(args) {
            Ok(0) => ExitCode::from(1),
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("oxiam: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Policy(PolicyCommand::Suggest(args)) = &cli.command {
        return match policy_suggest::run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("oxiam: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Policy(PolicyCommand::Diff(args)) = &cli.command {
        return match policy_diff::run(args) {
            Ok(policy_diff::Outcome::NoNewAccess) => ExitCode::SUCCESS,
            Ok(policy_diff::Outcome::NewAccess) => ExitCode::FAILURE,
            Ok(policy_diff::Outcome::Unknown) => ExitCode::from(3),
            Err(e) => {
                eprintln!("oxiam: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Policy(PolicyCommand::Lint(args)) = &cli.command {
        return match policy_lint::run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("oxiam: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Policy(PolicyCommand::Eval(args)) = &cli.command {
        return match policy_eval::run(args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(2),
            Err(e) => {
                eprintln!("oxiam: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("OXIAM_LOG").unwrap_or_else(|_| default_filter.into());
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match &cli.command {
        // One JSON object per line, each request's fields (and its span's id) as keys.
        Command::Serve(args) if args.log_format == LogFormat::Json => log.json().init(),
        // Colours only for a person at a terminal, never into a file or a pipe.
        _ => log
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    #[cfg(target_os = "linux")]
    let mut pinning = None;
    if let Command::Serve(args) = &cli.command {
        if let Some(workers) = args.workers {
            runtime.worker_threads(usize::from(workers));
        }
        #[cfg(target_os = "linux")]
        if args.pin_workers == PinWorkers::Auto {
            pinning = Some(worker_affinity::Pinning::hook(&mut runtime));
        }
        #[cfg(not(target_os = "linux"))]
        let _pinned_on_linux_only = args.pin_workers;
    }
    let runtime = runtime.enable_all().build().expect("the tokio runtime starts");
    #[cfg(target_os = "linux")]
    if let Some(pinning) = pinning {
        pinning.release_strays_every_second(&runtime);
    }
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Demo(args) => demo(args).await,
            Command::Account(command) => account_cmd::run(command).await,
            Command::Policy(_) | Command::Audit(_) => unreachable!("answered before the runtime starts"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oxiam: {e}");
            ExitCode::FAILURE
        }
    }
}
