//! oxiam's S3-compatible endpoint.
//!
//! [s3s](https://docs.rs/s3s/0.14.1) speaks the S3 REST protocol and verifies SigV4 (header,
//! presigned and streaming) with the secrets the IAM core holds. Buckets, object versions
//! and multipart uploads are rows of the database (shared by every server on it); the
//! bytes are blob files under the S3 directory ([`blobs`]), which servers sharing a
//! database share too.
//!
//! The request path, for every S3 operation:
//! 0. the `Host` says whether the bucket is in it (`BUCKET.DOMAIN`, [`hosts`]) or in the
//!    path; a request that names no bucket and cannot be ListBuckets is refused;
//! 1. s3s verifies the signature with the secret `Oxiam::credentials` finds
//!    (unknown or inactive key: InvalidAccessKeyId; bad signature: SignatureDoesNotMatch);
//! 2. `gate` (one central `S3Access::check`) refuses session tokens (InvalidToken),
//!    records the key's use, maps the operation to its IAM action(s), resource ARN(s) and
//!    condition keys ([`actions`]) and asks `Oxiam::authorize`, with the bucket's policy
//!    and owner; any denial is S3's 403 AccessDenied;
//! 3. the operation runs on the rows and the blobs: `store.rs` (buckets), `objects.rs`,
//!    `listing.rs`, `multipart.rs`.

pub mod actions;
mod attributes;
mod blobs;
mod buckets;
mod errors;
mod gate;
pub mod hosts;
mod listing;
mod multipart;
mod objects;
mod payload;
mod store;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use oxiam_core::{Clock, Oxiam};
use s3s::service::{S3Service, S3ServiceBuilder};

pub use hosts::BucketHosts;
pub use s3s::Body;
pub use store::{bucket_region, canonical_user_id, validate_policy};

/// The endpoint could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A directory under the root could not be created or opened.
    #[error("cannot prepare the S3 data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The S3 operations oxiam answers itself; every other operation s3s routes is still
/// authorized (see [`actions`]) and then answers NotImplemented.
pub const SERVED_OPERATIONS: &[&str] = &[
    "AbortMultipartUpload",
    "CompleteMultipartUpload",
    "CopyObject",
    "CreateBucket",
    "CreateMultipartUpload",
    "DeleteBucket",
    "DeleteBucketPolicy",
    "DeleteBucketTagging",
    "DeleteObject",
    "DeleteObjectTagging",
    "DeleteObjects",
    "GetBucketLocation",
    "GetBucketPolicy",
    "GetBucketTagging",
    "GetBucketVersioning",
    "GetObject",
    "GetObjectTagging",
    "HeadBucket",
    "HeadObject",
    "ListBuckets",
    "ListMultipartUploads",
    "ListObjectVersions",
    "ListObjects",
    "ListObjectsV2",
    "ListParts",
    "PostObject",
    "PutBucketPolicy",
    "PutBucketTagging",
    "PutBucketVersioning",
    "PutObject",
    "PutObjectTagging",
    "UploadPart",
    "UploadPartCopy",
];

/// The largest XML request body read (see [`service`]).
pub const XML_MAX_BODY_BYTES: usize = 4 << 20;

/// The S3 endpoint, ready to answer requests. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3Endpoint {
    service: S3Service,
    /// The rows and the blobs, for [`S3Endpoint::reset`].
    oxiam: Arc<Oxiam>,
    blobs: Arc<blobs::Blobs>,
    /// For the signature check made before s3s sees a request.
    gate: gate::Gate,
}

/// How the endpoint answers, besides where it keeps its data.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// Whether SigV2 signatures are accepted; refused otherwise.
    pub allow_sigv2: bool,
    /// The domains under which `BUCKET.DOMAIN` addresses a bucket.
    pub hosts: BucketHosts,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            allow_sigv2: false,
            hosts: BucketHosts::new(std::iter::empty::<&str>()).expect("no domain is always well formed"),
        }
    }
}

/// The S3 endpoint for `oxiam`, keeping the objects' bytes under `root` (created if
/// missing; servers sharing a database must share it).
pub fn service(oxiam: Arc<Oxiam>, root: &Path, clock: Clock, options: S3Options) -> Result<S3Endpoint, Error> {
    // On SQLite this server is the only one (it holds the database's lock), so the S3
    // directory is its alone; on PostgreSQL replicas share it.
    let exclusive = oxiam.store().backend() == oxiam_store::Backend::Sqlite;
    let blobs = Arc::new(blobs::Blobs::open(root, exclusive).map_err(|source| Error::DataDir {
        path: root.to_owned(),
        source,
    })?);
    if blobs.owned() {
        // What a crash of the server before left unnamed: swept in the background, so that
        // a large store does not slow the start.
        let (blobs, oxiam) = (blobs.clone(), oxiam.clone());
        let started = std::time::SystemTime::now();
        tokio::spawn(async move {
            let swept = match oxiam.store().s3_blob_names().await {
                Ok(named) => blobs.sweep(&named, started).await,
                Err(e) => Err(std::io::Error::other(e.to_string())),
            };
            match swept {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed S3 blobs no object or part names"),
                Err(e) => tracing::warn!(error = %e, "sweeping the S3 blob directory failed"),
            }
        });
    }
    let gate = gate::Gate {
        oxiam: oxiam.clone(),
        buckets: Arc::new(buckets::Buckets::new(oxiam.clone())),
        clock,
        allow_sigv2: options.allow_sigv2,
        hosts: options.hosts.clone(),
    };
    let store = store::Store {
        blobs: blobs.clone(),
        gate: gate.clone(),
    };
    let mut builder = S3ServiceBuilder::new(store);
    let mut config = s3s::config::S3Config::default();
    // s3s reads XML bodies whole before an operation can look at them (DeleteObjects'
    // list of keys, which it authorizes one by one). AWS's largest such bodies are far
    // smaller than s3s's default of 20 MB: 1,000 keys of at most 1,024 bytes for
    // DeleteObjects, 10,000 parts for CompleteMultipartUpload. Anyone with a key could
    // otherwise make the server hold 20 MB per request before anything is decided.
    config.xml_max_body_size = XML_MAX_BODY_BYTES;
    builder.set_config(Arc::new(s3s::config::StaticConfigProvider::new(Arc::new(config))));
    let gate_for_sigv2 = gate.clone();
    builder.set_host(options.hosts);
    builder.set_auth(gate.clone());
    builder.set_access(gate);
    Ok(S3Endpoint {
        service: builder.build(),
        oxiam,
        blobs,
        gate: gate_for_sigv2,
    })
}

impl S3Endpoint {
    /// Deletes every bucket, object and upload (`oxiam serve --test-mode`'s reset): the
    /// rows first, so that no request finds a row whose blob is gone, then the blobs.
    pub async fn reset(&self) -> std::io::Result<()> {
        self.oxiam
            .store()
            .s3_reset()
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        self.blobs.clear().await
    }

    /// Whether the request's `Host` names a bucket (`BUCKET.DOMAIN`): its path is then a
    /// key, whatever it looks like.
    pub fn names_bucket_in_host(&self, headers: &http::HeaderMap) -> bool {
        headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| matches!(self.gate.hosts.addressing(host), hosts::Addressing::Bucket(_)))
    }

    /// Answers one S3 request; `peer` is the client's address (`aws:SourceIp`) and
    /// `request_id` the id the answer names in `x-amz-request-id`.
    ///
    /// From an axum handler: `endpoint.call(request, Some(peer.ip()), &id).await` returns
    /// a response axum can send as it is.
    pub async fn call<B>(&self, req: http::Request<B>, peer: Option<IpAddr>, request_id: &str) -> http::Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let host = req.headers().get(http::header::HOST).and_then(|v| v.to_str().ok());
        let query = req.uri().query().unwrap_or("");
        // A NUL in a parameter (a version id, a marker, a prefix) names nothing S3 keeps,
        // and the database would refuse it with a fault of its own.
        if query.to_ascii_lowercase().contains("%00") {
            return error_response(errors::nul_in_request(), request_id);
        }
        let bucket_in_host = self.names_bucket_in_host(req.headers());
        let tagging_a_bucket = req.method() == http::Method::PUT
            && form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "tagging")
            && names_no_key(req.uri().path(), bucket_in_host);
        if let Some(error) = self
            .gate
            .hosts
            .misaddressed(req.method(), host, req.uri().path(), query)
        {
            return error_response(error, request_id);
        }
        // A body s3s will read whole is checked against its signed hash on the way.
        let (mut req, mismatch) = match payload::signed_sha256(req.headers()) {
            Some(expected) => {
                let (parts, body) = req.into_parts();
                let (checked, mismatch) = payload::Checked::new(Box::pin(body), expected);
                (
                    http::Request::from_parts(parts, Body::http_body_unsync(checked)),
                    Some(mismatch),
                )
            }
            None => (req.map(Body::http_body_unsync), None),
        };
        if let Some(ip) = peer {
            req.extensions_mut().insert(gate::ClientIp(ip));
        }
        let checked = self.gate.check_signature(&req).await;
        let mut response = match gate::Gate::with_signature_check(checked, self.service.call(req)).await {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(?error, "the S3 service failed to answer");
                internal_error(request_id)
            }
        };
        if response.status() == http::StatusCode::INTERNAL_SERVER_ERROR && mismatch.is_some_and(|m| m.found()) {
            response = content_sha256_mismatch();
        }
        // S3 answers PutBucketTagging 204; s3s writes its 200 whatever the operation says.
        if tagging_a_bucket && response.status() == http::StatusCode::OK {
            *response.status_mut() = http::StatusCode::NO_CONTENT;
        }
        // Every S3 answer names its request, as S3's `x-amz-request-id` does.
        if let Ok(id) = http::HeaderValue::from_str(request_id) {
            response.headers_mut().insert("x-amz-request-id", id);
        }
        response
    }
}

/// Whether a request's path names a bucket alone (no key): `/BUCKET` or `/BUCKET/` by
/// path, `/` with the bucket in the host.
fn names_no_key(path: &str, bucket_in_host: bool) -> bool {
    let rest = path.trim_start_matches('/');
    if bucket_in_host {
        return rest.is_empty();
    }
    rest.split_once('/').is_none_or(|(_, key)| key.is_empty())
}

/// `error` as S3 writes it, naming its request.
fn error_response(error: s3s::S3Error, request_id: &str) -> http::Response<Body> {
    let mut response = match error.to_http_response() {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = ?e, "writing an S3 error failed");
            return internal_error(request_id);
        }
    };
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    response
}

/// S3's answer to a body that is not what its `x-amz-content-sha256` says (400).
fn content_sha256_mismatch() -> http::Response<Body> {
    let mut response = http::Response::new(Body::from(Bytes::from_static(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>XAmzContentSHA256Mismatch</Code><Message>The provided 'x-amz-content-sha256' header does not match what was computed.</Message></Error>",
    )));
    *response.status_mut() = http::StatusCode::BAD_REQUEST;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    response
}

/// S3's 500, for when s3s itself fails (or panics) and has no serializer left to ask.
pub fn internal_error(request_id: &str) -> http::Response<Body> {
    let mut response = http::Response::new(Body::from(Bytes::from_static(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>",
    )));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    if let Ok(id) = http::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    response
}

#[cfg(test)]
mod tests {
    /// The list of served operations is the list of operations `store.rs` implements.
    #[test]
    fn served_operations_are_those_the_store_implements() {
        let source = include_str!("store.rs");
        let mut implemented: Vec<String> = source
            .lines()
            .filter_map(|line| {
                let (name, _) = line.trim().strip_prefix("async fn ")?.split_once('(')?;
                // Only the S3 trait's methods take an `S3Request` by value.
                source_has_request(source, name).then(|| camel(name))
            })
            .collect();
        implemented.sort();
        assert_eq!(implemented, super::SERVED_OPERATIONS);
    }

    fn source_has_request(source: &str, name: &str) -> bool {
        let at = source.find(&format!("async fn {name}(")).unwrap();
        let signature = &source[at..at + source[at..].find('{').unwrap()];
        signature.contains(": S3Request<")
    }

    fn camel(snake: &str) -> String {
        snake
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                match chars.next() {
                    Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => String::new(),
                }
            })
            .collect()
    }
}
