//! The front door: accepting connections with limits, so that no client can hold the server.
//!
//! - A connection must send a request's head within `header_timeout`, counted from the
//!   moment the server waits for one: this bounds slowloris heads and idle keep-alive
//!   connections alike (hyper runs one timer for both).
//! - Each piece of a request body must arrive within `body_timeout` of the last.
//! - At most `max_connections` are open; one more is accepted and closed at once (the
//!   listen queue never fills with clients that cannot be served), while the requests of
//!   those already open go on.
//! - A response sent before its request's body was read to the end says
//!   `Connection: close`, and the connection closes after it: the rest of that body (or a
//!   body the client holds back for a `100 Continue` never sent) would otherwise be read as
//!   the next request, and hyper closes such a connection without a word, so that a client
//!   that reused it would find it closed under it. (A response sent while the server stops
//!   says so too: hyper writes that one itself.)
//! - Stopping closes the listener at once, lets in-flight requests finish, and after
//!   `grace` drops whatever connections remain, whatever their clients are doing.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use oxiam_core::authz::SecureTransport;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::Metrics;
use std::sync::atomic::Ordering;
use tower_service::Service as _;

/// The limits of every connection. `oxiam serve` sets them from its options.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a connection may take to send a request's head, or stay idle between
    /// requests.
    pub header_timeout: Duration,
    /// How long the server waits for the next piece of a request body.
    pub body_timeout: Duration,
    /// How many connections may be open at once.
    pub max_connections: usize,
    /// How long a stop waits for in-flight requests before dropping their connections.
    pub grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            grace: Duration::from_secs(30),
        }
    }
}

/// Raises the soft limit on open files to the hard limit: every connection is a file, and
/// the usual soft limit (1,024) is far below what a server needs.
pub(crate) fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open files"),
        Err(e) => tracing::warn!(error = %e, "could not raise the limit on open files"),
    }
}

/// Serves `app` on `listener` (over TLS when given an acceptor) until `stop` resolves,
/// then stops as [`Limits`] says.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    metrics: Arc<Metrics>,
    stop: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping_tx, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors, most likely: wait for some to be freed
                        // rather than spin.
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = permits.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, limit = limits.max_connections, "connection refused: too many open");
                    metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
                    drop(tcp);
                    continue;
                };
                metrics.connections_open.fetch_add(1, Ordering::Relaxed);
                let open = OpenConnection(metrics.clone());
                // Responses go out in more than one write (headers, then a streamed S3
                // body): without TCP_NODELAY, Nagle's algorithm holds the second one for the
                // client's delayed ACK, ~40 ms per request.
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!(error = %e, "could not set TCP_NODELAY");
                }
                let app = app.clone();
                let stopping = stopping.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    match tls {
                        None => connection(tcp, peer, app, limits, stopping, false).await,
                        // The handshake is held to the header timeout too (a client that
                        // starts one and stalls is a slowloris all the same), and a stop
                        // ends it at once, as it ends an idle connection.
                        Some(acceptor) => {
                            let mut stopped = stopping.clone();
                            let handshake = tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp));
                            tokio::select! {
                                done = handshake => match done {
                                    Ok(Ok(stream)) => connection(stream, peer, app, limits, stopping, true).await,
                                    Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                                },
                                () = async { drop(stopped.wait_for(|stopping| *stopping).await) } => {}
                            }
                        }
                    }
                    drop(permit);
                    drop(open);
                });
            }
        }
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let drained = tokio::time::timeout(limits.grace, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "grace period over: closing the connections still open"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Counts a connection open for as long as it lives (its task may also be aborted at the
/// end of a stop's grace period: the count still goes down).
struct OpenConnection(Arc<Metrics>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One connection, HTTP/1.1, until the client leaves, a limit ends it, or the server stops.
/// `secure`: it came over TLS.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
    secure: bool,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let read_to_end = Arc::new(AtomicBool::new(request.body().is_end_stream()));
        let mut request =
            request.map(|body| axum::body::Body::new(TimedBody::new(body, limits.body_timeout, read_to_end.clone())));
        request.extensions_mut().insert(ConnectInfo(peer));
        if secure {
            request.extensions_mut().insert(SecureTransport);
        }
        let response = app.clone().call(request);
        async move {
            let mut response = response.await?;
            if !read_to_end.load(Ordering::Acquire) {
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, http::HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        }
        _ = stopping.changed() => {
            // Finish the request in flight, if any, then close; idle connections close now.
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A request body that fails when the client lets `timeout` pass without sending more, and
/// sets `read_to_end` once it has been read to its end.
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    read_to_end: Arc<AtomicBool>,
}

impl TimedBody {
    fn new(inner: Incoming, timeout: Duration, read_to_end: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            read_to_end,
        }
    }
}

/// The request body stalled.
#[derive(Debug, thiserror::Error)]
#[error("the client sent no more of the request body for {0:?}")]
struct BodyTimedOut(Duration);

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.timeout;
                this.deadline.as_mut().reset(next);
                if frame.is_none() || this.inner.is_end_stream() {
                    this.read_to_end.store(true, Ordering::Release);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.timeout))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
