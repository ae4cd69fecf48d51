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
