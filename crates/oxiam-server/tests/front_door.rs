//! The front door holds against clients that would starve it: slow and idle connections are
//! closed, the connection cap refuses the excess at once while others are served, a stalled
//! body is given up on, and a stop finishes within its grace period whatever clients do.
//! Each bound below is a liveness guard (the server must act at all), far above the limit
//! under test; speed is measured by the benchmarks, not here.

mod common;

use std::time::Duration;

use common::{Backend, TestServer};
use oxiam_server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits(header: u64, body: u64, max: usize, grace: u64) -> Limits {
    Limits {
        header_timeout: Duration::from_secs(header),
        body_timeout: Duration::from_secs(body),
        max_connections: max,
        grace: Duration::from_secs(grace),
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.server.as_ref().unwrap().local_addr)
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut out)).await {
        Ok(_) => Some(String::from_utf8_lossy(&out).into_owned()),
        Err(_) => None,
    }
}

/// A normal request through the SDK: the server still answers.
async fn still_answers(server: &TestServer) {
    let sts = server.root_sts();
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(common::ACCOUNT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_idle_and_slowloris_connections_do_not_starve_anyone() {
    let server = TestServer::start_with(Backend::Sqlite, limits(2, 5, 4096, 5)).await;
    let mut held = Vec::new();
    for i in 0..2000 {
        let mut stream = connect(&server).await;
        if i % 2 == 0 {
            // slowloris: a head that never ends
            stream
                .write_all(b"POST / HTTP/1.1\r\nhost: x\r\nx-slow: ")
                .await
                .unwrap();
        }
        held.push(stream);
    }
    still_answers(&server).await;
    // Every one of them is closed by the server once the header timeout passes.
    for (i, stream) in held.iter_mut().enumerate() {
        if i % 2 == 0 {
            let _ = stream.write_all(b"a").await;
        }
        let closed = read_to_close(stream, Duration::from_secs(30)).await;
        assert!(closed.is_some(), "connection {i} is still open");
    }
    still_answers(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed_at_once_and_the_rest_served() {
    let server = TestServer::start_with(Backend::Sqlite, limits(3, 5, 8, 5)).await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(&server).await);
    }
    // Give the server the moment it needs to accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = connect(&server).await;
    let answer = read_to_close(&mut extra, Duration::from_secs(2)).await;
    assert_eq!(answer.as_deref(), Some(""), "the ninth connection is closed unanswered");
    // The header timeout frees the slots the idle connections held; then requests are
    // served again.
    for stream in &mut held {
        assert!(read_to_close(stream, Duration::from_secs(30)).await.is_some());
    }
    still_answers(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_given_up_on() {
    let server = TestServer::start_with(Backend::Sqlite, limits(20, 1, 64, 5)).await;
    let mut stream = connect(&server).await;
    stream
        .write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .unwrap();
    let answer = read_to_close(&mut stream, Duration::from_secs(15))
        .await
        .expect("the server gave up on the body");
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    still_answers(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_within_the_grace_period_despite_a_half_sent_request() {
    // Timeouts far longer than the grace period: only the stop can end this connection.
    let server = TestServer::start_with(Backend::Sqlite, limits(300, 300, 64, 2)).await;
    let mut half = connect(&server).await;
    half.write_all(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nAction=")
        .await
        .unwrap();
    let mut idle = connect(&server).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(60), server.stop()).await;
    assert!(stopped.is_ok(), "the server did not stop");
    assert!(read_to_close(&mut idle, Duration::from_secs(5)).await.is_some());
}
