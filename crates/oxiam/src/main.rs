//! The `oxiam` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oxiam_server::{ServerConfig, start};

#[derive(Parser)]
#[command(name = "oxiam", version, about = "A self-hostable AWS IAM and STS")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve IAM and STS on one port.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one; the log says which).
    #[arg(long, default_value = "127.0.0.1:7345")]
    listen: SocketAddr,
    /// The data directory: the embedded database and the master key live here.
    #[arg(long, default_value = "oxiam-data")]
    data_dir: PathBuf,
    /// Use this PostgreSQL database (postgres://…) instead of the embedded one.
    #[arg(long, env = "OXIAM_DATABASE_URL")]
    database_url: Option<String>,
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
    let master_key = match &args.master_key {
        Some(hex) => {
            Some(parse_master_key(hex).ok_or("OXIAM_MASTER_KEY must be 64 hex digits (32 bytes)")?)
        }
        None => None,
    };
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.data_dir,
        database_url: args.database_url,
        master_key,
        bootstrap: oxiam_core::BootstrapConfig {
            account_id: args.account_id,
            root_key: args.root_access_key_id.zip(args.root_secret_access_key),
        },
    };
    let mut server = start(config).await.map_err(|e| e.to_string())?;
    if let Some((id, secret)) = &server.generated_root_key {
        // Shown once, on the terminal only: it is not logged and cannot be read back.
        println!(
            "Created account {} with a root access key:",
            server.account_id
        );
        println!("  AWS_ACCESS_KEY_ID={id}");
        println!("  AWS_SECRET_ACCESS_KEY={secret}");
        println!("Keep it now; oxiam will not show the secret again.");
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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OXIAM_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
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
