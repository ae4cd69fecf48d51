//! What the tests of the `oxiam` command share: starting `oxiam serve` as a process.
#![allow(dead_code, reason = "each test crate uses part of the shared helpers")]

use oxiam::demo::Embedded;

/// The log of a server started by [`start_serve`], from where it said it listens.
pub type LogLines = std::io::Lines<std::io::BufReader<std::process::ChildStderr>>;

/// Starts `oxiam serve` on a free port with `dir` as its data directory, `extra`
/// arguments and `env` besides the well-known account and root key; returns the process,
/// the address it listens on (read from its log, text or JSON) and the rest of its log.
pub async fn start_serve(
    dir: &std::path::Path,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, String, LogLines) {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oxiam"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env("OXIAM_ACCOUNT_ID", "123456789012")
        .env("OXIAM_ROOT_ACCESS_KEY_ID", Embedded::ROOT_ACCESS_KEY_ID)
        .env("OXIAM_ROOT_SECRET_ACCESS_KEY", Embedded::ROOT_SECRET_ACCESS_KEY)
        .env("OXIAM_LOG", "info")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let started = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("the server logs where it listens").unwrap();
            // `address=HOST:PORT` in text, `"address":"HOST:PORT"` in JSON.
            if let Some(rest) = line
                .split("address=")
                .nth(1)
                .or_else(|| line.split("\"address\":\"").nth(1))
            {
                break rest.split([' ', '"']).next().unwrap().to_owned();
            }
        };
        (address, lines)
    });
    let (address, lines) = tokio::time::timeout(std::time::Duration::from_secs(120), started)
        .await
        .expect("the server logged where it listens")
        .unwrap();
    (child, address, lines)
}

/// A running `oxiam serve`, killed (SIGKILL) when dropped.
pub struct Served {
    pub child: std::process::Child,
    pub address: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `oxiam serve` on a free port with `data` as its data directory, `extra` arguments and
/// `env`; its log is read on (and dropped), so that it never blocks on a full pipe.
pub async fn serve(data: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let (child, address, lines) = start_serve(data, extra, env).await;
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, address }
}

/// A fresh database on the test PostgreSQL server, dropped by the returned guard.
pub struct FreshDatabase {
    base: String,
    name: String,
    pub url: String,
}

impl FreshDatabase {
    pub async fn create() -> Option<Self> {
        let Ok(base) = std::env::var("OXIAM_TEST_POSTGRES_URL") else {
            eprintln!("skipped: OXIAM_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
            return None;
        };
        // Tests of one binary share a process id: a counter tells their databases apart.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "oxiam_s3_shared_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        psql(&base, &format!("CREATE DATABASE {name}"));
        let (prefix, _) = base.rsplit_once('/').expect("a URL naming a database");
        let url = format!("{prefix}/{name}");
        Some(Self { base, name, url })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        psql(
            &self.base,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

pub fn psql(url: &str, sql: &str) {
    let status = std::process::Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql {sql}");
}
