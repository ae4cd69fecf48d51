//! Endpoints for operators, unauthenticated, under `/_oxiam/`: no bucket name can contain
//! `_`, so this path is never S3's when the bucket is in the path (a host that names a
//! bucket, `BUCKET.localhost`, makes it a key, and S3's), and it is never a Query request
//! (those go to `/`).
//!
//! - `GET /_oxiam/health`: 200 while the process lives.
//! - `GET /_oxiam/ready`: 200 once the database answers, 503 otherwise.
//! - `GET /_oxiam/metrics`: the request counters and latencies, in Prometheus's text format.
//! - `POST /_oxiam/reset` (and moto's `POST /moto-api/reset`): back to a new database's
//!   state, keeping the account and its root key, for test suites between tests; answered
//!   only by a server started with `--test-mode`, 403 otherwise.
//! - `GET /_oxiam/oidc/ISSUER_ID/.well-known/openid-configuration` and `…/jwks.json`: the
//!   discovery document and key set of an account's web identity token issuer (outbound
//!   identity federation), which verifiers of its tokens fetch.

use crate::pipeline::App;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode};

/// The path prefix of the operations endpoints.
pub(crate) const PREFIX: &str = "/_oxiam/";

/// moto's reset path, answered like `/_oxiam/reset` in test mode.
pub(crate) const MOTO_RESET: &str = "/moto-api/reset";

/// Answers one operations request.
pub(crate) async fn answer(app: &App, method: &Method, path: &str, client: std::net::IpAddr) -> Response {
    if path == MOTO_RESET || path.strip_prefix(PREFIX) == Some("reset") {
        return if method != Method::POST {
            plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        } else {
            reset(app, client).await
        };
    }
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match path.strip_prefix(PREFIX) {
        Some("health") => plain(StatusCode::OK, "ok\n"),
        Some("ready") if app.oxiam.ready().await => plain(StatusCode::OK, "ready\n"),
        Some("ready") => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database does not answer\n",
        ),
        Some(rest) if rest.starts_with("oidc/") => issuer(app, &rest["oidc/".len()..]).await,
        Some("metrics") => {
            let mut response = Response::new(Body::from(app.metrics.render(&app.oxiam.store().stats())));
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        _ => plain(StatusCode::NOT_FOUND, "no such endpoint\n"),
    }
}

/// An issuer's discovery document or key set (`ISSUER_ID/.well-known/…`), as JSON.
async fn issuer(app: &App, path: &str) -> Response {
    use oxiam_core::outbound_federation::IssuerDocument;
    let Some((issuer_id, document)) = path
        .split_once('/')
        .and_then(|(id, document)| Some((id, IssuerDocument::named(document)?)))
    else {
        return plain(StatusCode::NOT_FOUND, "no such endpoint\n");
    };
    match app.oxiam.issuer_document(issuer_id, document).await {
        Ok(Some(json)) => {
            let mut response = Response::new(Body::from(json.to_string()));
            let headers = response.headers_mut();
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            // An issuer's documents never change once made.
            headers.insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            response
        }
        Ok(None) => plain(StatusCode::NOT_FOUND, "no such issuer\n"),
        Err(e) => {
            tracing::error!(error = ?e.cause, "an issuer's document could not be read");
            plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the issuer's document could not be read\n",
            )
        }
    }
}

/// Wipes IAM, STS and S3 state back to a new database's, if the server is in test mode.
async fn reset(app: &App, client: std::net::IpAddr) -> Response {
    tracing::warn!(%client, test_mode = app.test_mode.is_some(), "reset requested");
    let Some(test_mode) = &app.test_mode else {
        return plain(
            StatusCode::FORBIDDEN,
            "reset is answered only by a server started with --test-mode\n",
        );
    };
    if let Err(e) = app.oxiam.reset(&test_mode.account_id, &test_mode.bootstrap).await {
        tracing::error!(error = %e, "reset failed");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "reset failed\n");
    }
    if let Err(e) = app.s3.reset().await {
        tracing::error!(error = %e, "reset of the S3 data failed");
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "reset failed\n");
    }
    tracing::info!("reset: the account is back to a new database's state");
    plain(StatusCode::OK, "reset\n")
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
