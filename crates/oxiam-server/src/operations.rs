//! Endpoints for operators, unauthenticated, under `/_oxiam/`: no bucket name can contain
//! `_`, so this path is never S3's, and it is never a Query request (those go to `/`).
//!
//! - `GET /_oxiam/health`: 200 while the process lives.
//! - `GET /_oxiam/ready`: 200 once the database answers, 503 otherwise.
//! - `GET /_oxiam/metrics`: the request counters and latencies, in Prometheus's text format.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode};
use oxiam_core::Oxiam;

/// The path prefix of the operations endpoints.
pub(crate) const PREFIX: &str = "/_oxiam/";

/// Answers one operations request.
pub(crate) async fn answer(oxiam: &Oxiam, metrics: &crate::Metrics, method: &Method, path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match path.strip_prefix(PREFIX) {
        Some("health") => plain(StatusCode::OK, "ok\n"),
        Some("ready") if oxiam.ready().await => plain(StatusCode::OK, "ready\n"),
        Some("ready") => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database does not answer\n",
        ),
        Some("metrics") => {
            let mut response = Response::new(Body::from(metrics.render()));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => plain(StatusCode::NOT_FOUND, "no such endpoint\n"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
