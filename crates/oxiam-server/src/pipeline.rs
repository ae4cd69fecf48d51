//! The request path, one stage per function, in the order they run:
//! [`receive`] → [`route`] → protocol parse → authenticate → protocol decode → authorize
//! (the verdict kept) → execute → protocol encode → record. Nothing goes back up the line,
//! and no stage names a wire protocol: [`serve`] runs them for whichever [`Protocol`] the
//! route chose. S3 requests go to the S3 endpoint whole, and come back to be recorded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::FutureExt as _;
use http::{HeaderValue, StatusCode};
use oxiam_core::authz::RequestFacts;
use oxiam_core::record::{RecordSink, RecordSlot, RequestRecord};
use oxiam_core::{AuthFailure, Authenticated, Clock, Oxiam, Service, ids};
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_sigv4::SignedRequest;
use tracing::Instrument as _;

use crate::protocol::{AwsQuery, Decoded, Encoded, Executed, Protocol};

/// The largest request body oxiam reads (IAM's largest inputs, policy documents, are
/// far smaller).
const MAX_BODY_BYTES: usize = 1 << 20;

/// The signing names accepted on the Query endpoint.
const QUERY_SERVICES: &[&str] = &["iam", "sts"];

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) oxiam: Arc<Oxiam>,
    pub(crate) clock: Clock,
    pub(crate) s3: oxiam_s3::S3Endpoint,
    /// Where each finished request record goes.
    pub(crate) sinks: Arc<[Arc<dyn RecordSink>]>,
}

/// The signing name in the SigV4 credential scope, read before anything is trusted: it
/// only routes; authentication checks it again.
fn signing_name(head: &http::request::Parts) -> Option<String> {
    let authorization = head.headers.get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
    oxiam_sigv4::credential_scope(authorization, head.uri.query().unwrap_or("")).map(|s| s.service)
}

/// Where a request goes, from its head alone (S3 bodies are streamed, not buffered).
enum Route {
    /// The S3 endpoint.
    S3,
    /// The AWS Query protocol (IAM, STS); the service when the signature names it. A
    /// signing name of a service oxiam does not serve comes here too, and authentication
    /// refuses its credential scope in IAM's words, as IAM's endpoint would.
    Query(Option<Service>),
}

fn route(head: &http::request::Parts) -> Route {
    match signing_name(head).as_deref() {
        Some("s3") => Route::S3,
        Some("iam") => Route::Query(Some(Service::Iam)),
        Some("sts") => Route::Query(Some(Service::Sts)),
        Some(_) => Route::Query(None),
        // Unsigned: Query requests are form POSTs and `?Action=` requests to `/`.
        None => {
            let form = head
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
            let query_action = head
                .uri
                .query()
                .unwrap_or("")
                .split('&')
                .any(|pair| pair.starts_with("Action="));
            if head.uri.path() == "/" && (form || query_action) {
                Route::Query(None)
            } else {
                Route::S3
            }
        }
    }
}

pub(crate) fn router(app: App) -> Router {
    Router::new().fallback(handle).with_state(app)
}

/// A request as received: everything later stages read, with the body fully buffered
/// (SigV4 hashes the exact bytes before anything parses them).
pub(crate) struct Received {
    pub(crate) peer: SocketAddr,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Bytes,
}

impl Received {
    pub(crate) fn content_type_is_form(&self) -> bool {
        self.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("content-type")
                && std::str::from_utf8(v).is_ok_and(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
        })
    }
}

fn http_response(encoded: Encoded, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(encoded.body));
    *response.status_mut() = StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(encoded.content_type),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

async fn receive(peer: SocketAddr, request: http::Request<Body>) -> Result<Received, ServiceError> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ServiceError::new(
            common_errors::VALIDATION_ERROR,
            "The request body is too large or could not be read.",
        )
    })?;
    let mut headers: Vec<(String, Vec<u8>)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    // HTTP/2 carries the host as :authority, not as a header; SigV4 signs it as `host`.
    if !headers.iter().any(|(k, _)| k == "host")
        && let Some(authority) = parts.uri.authority()
    {
        headers.push(("host".to_owned(), authority.as_str().as_bytes().to_vec()));
    }
    Ok(Received {
        peer,
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
    })
}

async fn handle(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: http::Request<Body>,
) -> Response {
    let (head, body) = request.into_parts();
    if head.uri.path().starts_with(crate::operations::PREFIX) {
        return crate::operations::answer(&app.oxiam, &head.method, head.uri.path()).await;
    }
    let started = Instant::now();
    let record = RequestRecord {
        request_id: ids::request_id(),
        time: app.clock.now(),
        source_ip: Some(peer.ip()),
        ..RequestRecord::default()
    };
    let span = tracing::info_span!("request", id = %record.request_id);
    let route = route(&head);
    let request = http::Request::from_parts(head, body);
    let (response, mut record) = async {
        match route {
            Route::S3 => serve_s3(&app, request, record).await,
            Route::Query(service) => serve(&AwsQuery, &app, request, service, record).await,
        }
    }
    .instrument(span)
    .await;
    record.status = response.status().as_u16();
    record.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    for sink in app.sinks.iter() {
        sink.record(&record);
    }
    response
}

/// An S3 request: the S3 endpoint answers it, filling its record in flight.
async fn serve_s3(app: &App, mut request: http::Request<Body>, record: RequestRecord) -> (Response, RequestRecord) {
    let peer = record.source_ip;
    let slot = RecordSlot::new(RequestRecord {
        service: "s3".to_owned(),
        ..record
    });
    request.extensions_mut().insert(slot.clone());
    let mut response = app.s3.call(request, peer).await;
    let mut record = slot.take();
    // The answer names the request by the id its record has.
    if let Ok(id) = HeaderValue::from_str(&record.request_id) {
        response.headers_mut().insert("x-amz-request-id", id);
    }
    // The S3 endpoint's errors are small XML documents held in memory: their code is read
    // back for the record (a refusal by the gate has already set it).
    if response.status().as_u16() >= 400 && record.error_code.is_none() {
        record.error_code = response.body().bytes().and_then(|b| error_code(&b));
    }
    (response.map(Body::new), record)
}

/// The `<Code>` of an XML error document.
fn error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].to_owned())
}

/// A request of a protocol the pipeline speaks itself: every stage after routing.
async fn serve<P: Protocol>(
    protocol: &P,
    app: &App,
    request: http::Request<Body>,
    signed_service: Option<Service>,
    mut record: RequestRecord,
) -> (Response, RequestRecord) {
    let request_id = record.request_id.clone();
    let peer = record
        .source_ip
        .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |ip| SocketAddr::new(ip, 0));
    let received = match receive(peer, request).await {
        Ok(r) => r,
        Err(e) => {
            record.error_code = Some(e.kind.code.to_owned());
            let service = signed_service.unwrap_or(Service::Iam);
            return (
                http_response(protocol.encode_error(service, &request_id, &e), &request_id),
                record,
            );
        }
    };
    let parsed = protocol.parse(signed_service, &received);
    let service = protocol.service(&parsed);
    record.service = service.signing_name().to_owned();
    record.operation = protocol.operation(&parsed).map(str::to_owned);
    // A panic is a bug, but the client still gets an answer in the protocol's envelope
    // (InternalFailure, 500) rather than a dropped connection.
    let outcome = std::panic::AssertUnwindSafe(run(protocol, app, &received, parsed, &mut record))
        .catch_unwind()
        .await;
    let encoded = match outcome {
        Ok(Ok(executed)) => protocol.encode(&request_id, &executed),
        Ok(Err(e)) => {
            record.error_code = Some(e.kind.code.to_owned());
            protocol.encode_error(service, &request_id, &e)
        }
        Err(_) => {
            let e = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.");
            record.error_code = Some(e.kind.code.to_owned());
            protocol.encode_error(service, &request_id, &e)
        }
    };
    (http_response(encoded, &request_id), record)
}

/// authenticate → decode → authorize → execute, filling the record as each stage learns.
async fn run<P: Protocol>(
    protocol: &P,
    app: &App,
    received: &Received,
    parsed: P::Parsed,
    record: &mut RequestRecord,
) -> Result<Executed, ServiceError> {
    let oxiam = &app.oxiam;
    let now = record.time;
    let caller = authenticate(oxiam, received, now).await?;
    record.principal = Some(caller.principal.arn());
    record.access_key_id = Some(caller.claim.access_key_id.clone());
    let outcome = authorize_and_execute(protocol, oxiam, received, &caller, parsed, now, record).await;
    // Last use is noted whatever the answer: the key was used.
    oxiam.record(&caller, now);
    outcome
}

async fn authenticate(oxiam: &Oxiam, received: &Received, now: i64) -> Result<Authenticated, ServiceError> {
    let headers: Vec<(&str, &[u8])> = received
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    let signed = SignedRequest {
        method: &received.method,
        raw_path: &received.path,
        raw_query: &received.query,
        headers: &headers,
        body: &received.body,
    };
    match oxiam.authenticate(&signed, now, QUERY_SERVICES).await {
        Ok(caller) => Ok(caller),
        Err(AuthFailure::Rejected(e)) => Err(ServiceError::new(
            oxiam_protocol::ErrorKind {
                code: e.kind.code(),
                status: e.kind.http_status(),
                sender: true,
            },
            e.message,
        )),
        Err(AuthFailure::Internal(e)) => Err(oxiam_core::errors::internal(e)),
    }
}

/// A header's value as text, if present and valid UTF-8.
fn header_text(received: &Received, name: &str) -> Option<String> {
    received
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| String::from_utf8(v.clone()).ok())
}

/// decode → authorize → execute, for an authenticated caller; each verdict is kept.
async fn authorize_and_execute<P: Protocol>(
    protocol: &P,
    oxiam: &Oxiam,
    received: &Received,
    caller: &Authenticated,
    parsed: P::Parsed,
    now: i64,
    record: &mut RequestRecord,
) -> Result<Executed, ServiceError> {
    let principal = &caller.principal;
    let facts = RequestFacts {
        now,
        source_ip: Some(received.peer.ip()),
        secure_transport: false,
        region: caller.claim.region.clone(),
        user_agent: header_text(received, "user-agent"),
        referer: header_text(received, "referer"),
    };
    let keep = |record: &mut RequestRecord, refusal: oxiam_core::authz::Refusal| {
        record.verdicts.extend(refusal.verdict);
        refusal.error
    };
    match protocol.decode(parsed)? {
        Decoded::Iam(request) => {
            for access in oxiam.accesses(principal, &request).await? {
                let verdict = oxiam
                    .authorize(principal, &access, &facts, None)
                    .await
                    .map_err(|r| keep(record, r))?;
                record.verdicts.push(verdict);
            }
            Ok(Executed::Iam(oxiam.execute_iam(principal, request, now).await?))
        }
        Decoded::Sts(request) => {
            let verdicts = oxiam
                .authorize_sts(principal, &request, &facts)
                .await
                .map_err(|r| keep(record, r))?;
            record.verdicts.extend(verdicts);
            Ok(Executed::Sts(oxiam.execute_sts(principal, request, now, &facts).await?))
        }
    }
}
