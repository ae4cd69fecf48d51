//! `oxiam-bench`: a load generator for oxiam, or any IAM/STS/S3-compatible endpoint (moto).
//!
//! `run` sets up what the mix needs (as root, through the API), then runs each operation
//! with N concurrent clients, signing every request with SigV4, as root and as an IAM user
//! whose policy allows it. `startup` times a server command from spawn to its first
//! successful request. `report` prints result files side by side with throughput ratios.
//! `revocation` measures how long a server sharing another's database goes on granting what
//! the other has revoked.

mod client;
mod floor;
mod ops;
mod revocation;
mod runner;
mod signer;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use client::{Endpoint, Error, Key};
use ops::Op;
use runner::{Limit, Who};

/// The allocator the server uses (crates/oxiam/src/main.rs): with glibc's, malloc, free and
/// its arena locks were a quarter of the load generator's CPU, taken from the server it
/// shares the machine with (docs/benchmarks.md), and the floor it serves would be measured
/// on another allocator than oxiam.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "oxiam-bench",
    about = "SigV4 load generator for oxiam and compatible endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Set up, then run the operations with N concurrent clients.
    Run(RunArgs),
    /// Spawn a server command and time it from spawn to its first successful request.
    Startup(StartupArgs),
    /// Print result files (from `run --out`) as one markdown table, with throughput ratios.
    Report(ReportArgs),
    /// Serve the HTTP floor: the same stack answering every request with a fixed body.
    Floor(FloorArgs),
    /// Revoke on one server (`--endpoint`), time until another on the same database
    /// (`--observer`) refuses.
    Revocation(RevocationArgs),
}

#[derive(Args)]
struct RevocationArgs {
    #[command(flatten)]
    conn: Conn,
    /// The server asked after each revocation, e.g. http://127.0.0.1:7346
    #[arg(long)]
    observer: String,
    /// Revocations of each kind.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
}

#[derive(Args)]
struct FloorArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:7346")]
    listen: std::net::SocketAddr,
}

#[derive(Args)]
struct Conn {
    /// The endpoint, e.g. http://127.0.0.1:7345
    #[arg(long)]
    endpoint: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Root's access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Root's secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    conn: Conn,
    /// A name for this endpoint in the results (e.g. oxiam-sqlite, moto).
    #[arg(long, default_value = "target")]
    label: String,
    /// Concurrent clients; a comma-separated list runs every phase at each.
    #[arg(long, value_delimiter = ',', default_value = "64")]
    clients: Vec<usize>,
    /// Seconds measured per phase.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Measure this many iterations per phase instead of a duration.
    #[arg(long)]
    requests: Option<u64>,
    /// Seconds of unmeasured load before each phase.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Operations, comma-separated: GetUser, ListUsers, CreateDeleteUser, AccessKey, AttachDetach,
    /// GetCallerIdentity, S3GetObject, AssumeRole, CreateUser (keeps its users), Attach
    /// (AttachUserPolicy, keeps its attachments); default: the mix's (all but the last two).
    #[arg(long, value_delimiter = ',')]
    ops: Vec<String>,
    /// Also run the mix: every client cycles through the operations.
    #[arg(long)]
    mix: bool,
    /// Identities: root, user (an IAM user with a policy allowing the operations).
    #[arg(long = "as", value_delimiter = ',', default_value = "root,user")]
    who: Vec<String>,
    /// Write the results as JSON here.
    #[arg(long)]
    out: Option<String>,
    /// Worker threads of the (one) tokio runtime; default: one per core.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Args)]
struct StartupArgs {
    #[command(flatten)]
    conn: Conn,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
    /// Start (and stop) the command this many times; the data directory is reused after the first.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// The server command and its arguments.
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

#[derive(Args)]
struct ReportArgs {
    /// The label that ratios are computed against (e.g. moto).
    #[arg(long)]
    baseline: Option<String>,
    /// Result files written by `run --out`.
    #[arg(required = true)]
    files: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Cmd::Run(args) => args.threads,
        _ => None,
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(threads) = threads {
        builder.worker_threads(threads);
    }
    let runtime = builder.build().expect("tokio runtime");
    let result = runtime.block_on(async move {
        match cli.command {
            Cmd::Run(args) => run(args).await,
            Cmd::Startup(args) => startup(args).await,
            Cmd::Report(args) => report(args),
            Cmd::Floor(args) => floor::serve(args.listen).await.map_err(Error::from),
            Cmd::Revocation(args) => {
                revocation::measure(revocation::Setup {
                    writer: Endpoint::new(&args.conn.endpoint, &args.conn.region)?,
                    observer: Endpoint::new(&args.observer, &args.conn.region)?,
                    root: Key::new(&args.conn.access_key_id, &args.conn.secret_access_key),
                    rounds: args.rounds as usize,
                })
                .await
            }
        }
    });
    if let Err(error) = result {
        eprintln!("oxiam-bench: {error}");
        std::process::exit(1);
    }
}

async fn run(args: RunArgs) -> Result<(), Error> {
    let ops: Vec<Op> = if args.ops.is_empty() {
        Op::MIX.to_vec()
    } else {
        args.ops
            .iter()
            .map(|s| Op::parse(s).ok_or_else(|| format!("unknown operation {s}")))
            .collect::<Result<_, _>>()?
    };
    let whos: Vec<Who> = args
        .who
        .iter()
        .map(|s| match s.as_str() {
            "root" => Ok(Who::Root),
            "user" => Ok(Who::User),
            other => Err(format!("--as: {other}: root or user")),
        })
        .collect::<Result<_, _>>()?;
    let limit = match args.requests {
        Some(n) => Limit::Count(n),
        None => Limit::Time(Duration::from_secs_f64(args.duration)),
    };
    let warmup = Duration::from_secs_f64(args.warmup);
    let max_clients = args.clients.iter().copied().max().unwrap_or(1);

    let endpoint = Endpoint::new(&args.conn.endpoint, &args.conn.region)?;
    let root = Key::new(&args.conn.access_key_id, &args.conn.secret_access_key);
    let setup_start = Instant::now();
    let ctx = Arc::new(ops::setup(endpoint, root, max_clients).await?);
    eprintln!(
        "{}: setup done in {:.1}s (account {}, caller key {})",
        args.label,
        setup_start.elapsed().as_secs_f64(),
        ctx.account,
        ctx.user.access_key_id
    );

    let mut phases: Vec<(String, Vec<Op>)> = ops.iter().map(|op| (op.name().to_owned(), vec![*op])).collect();
    if args.mix {
        phases.push((
            "mix".to_owned(),
            ops.iter().copied().filter(|op| Op::MIX.contains(op)).collect(),
        ));
    }
    let mut rows = Vec::new();
    for &clients in &args.clients {
        eprintln!("{}: {clients} clients", args.label);
        for (name, phase) in &phases {
            for &who in &whos {
                let phase: Vec<Op> = phase
                    .iter()
                    .copied()
                    .filter(|op| who == Who::User || op.allowed_for_root())
                    .collect();
                if phase.is_empty() {
                    continue;
                }
                for row in runner::run_phase(ctx.clone(), name, &phase, who, clients, limit, warmup).await {
                    runner::print_row(&row);
                    let mut json = row.to_json();
                    json["clients"] = clients.into();
                    rows.push(json);
                }
            }
        }
    }
    if let Some(out) = args.out {
        let doc = serde_json::json!({
            "label": args.label, "endpoint": args.conn.endpoint,
            "limit": match limit { Limit::Time(d) => format!("{}s", d.as_secs_f64()), Limit::Count(n) => format!("{n} iterations") },
            "rows": rows,
        });
        std::fs::write(&out, serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(())
}

async fn startup(args: StartupArgs) -> Result<(), Error> {
    let endpoint = Endpoint::new(&args.conn.endpoint, &args.conn.region)?;
    let root = Key::new(&args.conn.access_key_id, &args.conn.secret_access_key);
    let mut times = Vec::new();
    for run in 0..args.runs {
        let start = Instant::now();
        let mut child = Command::new(&args.command[0])
            .args(&args.command[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = start + Duration::from_secs_f64(args.timeout);
        let mut connection = endpoint.connection();
        let elapsed = loop {
            if let Ok(reply) = connection.query(&root, "sts", "GetCallerIdentity", &[]).await
                && reply.ok()
            {
                break Some(start.elapsed());
            }
            if Instant::now() > deadline || child.try_wait()?.is_some() {
                break None;
            }
            tokio::time::sleep(Duration::from_micros(250)).await;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        child.wait()?;
        let elapsed = elapsed.ok_or("the server never answered (or exited)")?;
        let ms = elapsed.as_secs_f64() * 1000.0;
        println!(
            "startup run {} ({}): {ms:.1} ms to the first successful GetCallerIdentity",
            run + 1,
            if run == 0 { "first start" } else { "restart" }
        );
        times.push(ms);
        // The old server's port must be free before the next spawn.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if times.len() > 1 {
        let mut restarts = times[1..].to_vec();
        restarts.sort_by(f64::total_cmp);
        println!(
            "startup: first start {:.1} ms; restarts median {:.1} ms, min {:.1} ms, max {:.1} ms",
            times[0],
            restarts[restarts.len() / 2],
            restarts[0],
            restarts[restarts.len() - 1]
        );
    }
    Ok(())
}

fn report(args: ReportArgs) -> Result<(), Error> {
    let docs: Vec<serde_json::Value> = args
        .files
        .iter()
        .map(|f| -> Result<_, Error> { Ok(serde_json::from_str(&std::fs::read_to_string(f)?)?) })
        .collect::<Result<_, _>>()?;
    let labels: Vec<String> = docs
        .iter()
        .map(|d| d["label"].as_str().unwrap_or("?").to_owned())
        .collect();
    // Rows keyed by (clients, phase, as, request), in the order first seen.
    let key = |r: &serde_json::Value| {
        format!(
            "{}|{}|{}|{}",
            r["clients"],
            r["phase"].as_str().unwrap_or(""),
            r["as"].as_str().unwrap_or(""),
            r["request"].as_str().unwrap_or("")
        )
    };
    let mut keys: Vec<String> = Vec::new();
    for doc in &docs {
        for row in doc["rows"].as_array().into_iter().flatten() {
            let k = key(row);
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    let find = |doc: &serde_json::Value, k: &str| -> Option<serde_json::Value> {
        doc["rows"].as_array()?.iter().find(|r| key(r) == k).cloned()
    };
    let base = args.baseline.as_ref().and_then(|b| labels.iter().position(|l| l == b));
    let mut header = "| clients | operation | as | request |".to_owned();
    let mut rule = "|---:|---|---|---|".to_owned();
    for label in &labels {
        header.push_str(&format!(" {label} req/s | p50 / p99 / max ms |"));
        rule.push_str("---:|---:|");
    }
    if let Some(b) = base {
        for (i, label) in labels.iter().enumerate() {
            if i != b {
                header.push_str(&format!(" {label} / {} |", labels[b]));
                rule.push_str("---:|");
            }
        }
    }
    println!("{header}\n{rule}");
    for k in &keys {
        let parts: Vec<&str> = k.split('|').collect();
        let mut line = format!("| {} | {} | {} | {} |", parts[0], parts[1], parts[2], parts[3]);
        let found: Vec<Option<serde_json::Value>> = docs.iter().map(|d| find(d, k)).collect();
        for row in &found {
            match row {
                Some(r) => {
                    let errors = r["errors"].as_u64().unwrap_or(0);
                    let err = if errors > 0 {
                        format!(" ({errors} errors)")
                    } else {
                        String::new()
                    };
                    let ms = |f: &str| runner::ms(r[f].as_u64().unwrap_or(0));
                    line.push_str(&format!(
                        " {:.0}{err} | {} / {} / {} |",
                        r["rps"].as_f64().unwrap_or(0.0),
                        ms("p50_us"),
                        ms("p99_us"),
                        ms("max_us")
                    ));
                }
                None => line.push_str(" – | – |"),
            }
        }
        if let Some(b) = base {
            let base_rps = found[b].as_ref().and_then(|r| r["rps"].as_f64()).filter(|v| *v > 0.0);
            for (i, row) in found.iter().enumerate() {
                if i == b {
                    continue;
                }
                match (row.as_ref().and_then(|r| r["rps"].as_f64()), base_rps) {
                    (Some(v), Some(base)) => line.push_str(&format!(" {:.1}× |", v / base)),
                    _ => line.push_str(" – |"),
                }
            }
        }
        println!("{line}");
    }
    Ok(())
}
