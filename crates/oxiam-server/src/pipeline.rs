//! The request path, one stage per function, in the order they run:
//! [`receive`] → [`route`] → authenticate → [`decode`] → authorize → execute →
//! [`encode`] → record. Nothing goes back up the line.

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
use oxiam_core::{AuthFailure, Authenticated, Clock, Oxiam, Service, ids};
use oxiam_protocol::query::QueryParams;
use oxiam_protocol::{ServiceError, common_errors, encode_error, encode_response, iam, sts};
use oxiam_sigv4::SignedRequest;
use std::net::SocketAddr;

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
}

/// The signing name in the SigV4 credential scope (`AKID/DATE/REGION/SERVICE/aws4_request`),
/// from the Authorization header or a presigned `X-Amz-Credential`. Read before anything
/// is trusted: it only routes; authentication checks it again.
fn signing_name(head: &http::request::Parts) -> Option<String> {
    let service = |credential: &str| {
        credential
            .split('/')
            .nth(3)
            .map(|s| s.trim_end_matches([',', ' ']).to_owned())
    };
    let from_header = head
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1).and_then(service));
    from_header.or_else(|| {
        head.uri.query().unwrap_or("").split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.eq_ignore_ascii_case("X-Amz-Credential")
                .then(|| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned())
                .and_then(|c| service(&c))
        })
    })
}

/// Where a request goes, from its head alone (S3 bodies are streamed, not buffered).
enum Route {
    /// The S3 endpoint.
    S3,
    /// The IAM/STS Query endpoint; the service when the signature names it.
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
struct Received {
    peer: SocketAddr,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

impl Received {
    fn content_type_is_form(&self) -> bool {
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

/// The Query service: the one the signature names, else the one whose API version
/// `Version` gives (IAM and STS share no action names, but do share this endpoint).
fn query_service(signed: Option<Service>, params: Option<&QueryParams>) -> Service {
    signed.unwrap_or(match params.and_then(|p| p.get("Version")) {
        Some(sts::API_VERSION) => Service::Sts,
        _ => Service::Iam,
    })
}

/// A decoded request of one service.
enum Decoded {
    Iam(iam::Request),
    Sts(sts::Request),
}

/// Form pairs → the operation `Action` names → its typed, validated input.
fn decode(service: Service, params: &QueryParams) -> Result<Decoded, ServiceError> {
    let action = params
        .get("Action")
        .ok_or_else(|| ServiceError::new(common_errors::MISSING_ACTION, "Missing Action"))?;
    let (version, found) = match service {
        Service::Iam => (iam::API_VERSION, iam::Operation::from_action(action).map(|_| ())),
        Service::Sts => (sts::API_VERSION, sts::Operation::from_action(action).map(|_| ())),
    };
    let asked_version = params.get("Version").unwrap_or(version);
    if found.is_none() || asked_version != version {
        return Err(ServiceError::new(
            common_errors::INVALID_ACTION,
            format!("Could not find operation {action} for version {asked_version}"),
        ));
    }
    Ok(match service {
        Service::Iam => {
            let op = iam::Operation::from_action(action).expect("checked above");
            Decoded::Iam(iam::decode(op, params)?)
        }
        Service::Sts => {
            let op = sts::Operation::from_action(action).expect("checked above");
            Decoded::Sts(sts::decode(op, params)?)
        }
    })
}

fn namespace(service: Service) -> &'static str {
    match service {
        Service::Iam => iam::XML_NAMESPACE,
        Service::Sts => sts::XML_NAMESPACE,
    }
}

fn xml_response(status: u16, request_id: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", id);
    }
    response
}

/// An error → the XML error envelope, with its status.
fn encode_failure(service: Service, request_id: &str, error: &ServiceError) -> (u16, String) {
    (error.kind.status, encode_error(namespace(service), error, request_id))
}

fn encode_iam(request_id: &str, response: &iam::Response) -> String {
    let op = response.operation();
    encode_response(iam::XML_NAMESPACE, op.name(), op.has_output(), request_id, |w| {
        response.write_result(w)
    })
}

fn encode_sts(request_id: &str, response: &sts::Response) -> String {
    let op = response.operation();
    encode_response(sts::XML_NAMESPACE, op.name(), op.has_output(), request_id, |w| {
        response.write_result(w)
    })
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
    let signed_service = match route(&head) {
        Route::S3 => {
            return app
                .s3
                .call(http::Request::from_parts(head, body), Some(peer.ip()))
                .await
                .map(Body::new);
        }
        Route::Query(service) => service,
    };
    let request = http::Request::from_parts(head, body);
    let started = Instant::now();
    let request_id = ids::request_id();
    let received = match receive(peer, request).await {
        Ok(r) => r,
        Err(e) => {
            return xml_response(
                e.kind.status,
                &request_id,
                encode_error(iam::XML_NAMESPACE, &e, &request_id),
            );
        }
    };
    // A panic is a bug, but the client still gets an answer in the protocol's envelope
    // (InternalFailure, 500) rather than a dropped connection.
    let outcome =
        std::panic::AssertUnwindSafe(run(&app.oxiam, &received, signed_service, &request_id, app.clock.now()))
            .catch_unwind()
            .await;
    let (status, body, caller) = outcome.unwrap_or_else(|_| {
        let error = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.");
        let (status, body) = encode_failure(Service::Iam, &request_id, &error);
        (status, body, None)
    });
    tracing::info!(
        request_id = %request_id,
        method = %received.method,
        status,
        caller = caller.as_deref().unwrap_or("-"),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    xml_response(status, &request_id, body)
}

/// The stages after `receive`; returns the status, the body, and the caller's ARN if known.
async fn run(
    oxiam: &Oxiam,
    received: &Received,
    signed_service: Option<Service>,
    request_id: &str,
    now: i64,
) -> (u16, String, Option<String>) {
    let form_body = if received.content_type_is_form() || received.method == "POST" {
        std::str::from_utf8(&received.body).ok()
    } else {
        None
    };
    let forms: Vec<&str> = [Some(received.query.as_str()), form_body]
        .into_iter()
        .flatten()
        .collect();
    let params = QueryParams::parse(&forms);
    let service = query_service(signed_service, params.as_ref().ok());

    // authenticate
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
    let caller: Authenticated = match oxiam.authenticate(&signed, now, QUERY_SERVICES).await {
        Ok(caller) => caller,
        Err(AuthFailure::Rejected(e)) => {
            let error = ServiceError::new(
                oxiam_protocol::ErrorKind {
                    code: e.kind.code(),
                    status: e.kind.http_status(),
                    sender: true,
                },
                e.message,
            );
            let (status, body) = encode_failure(service, request_id, &error);
            return (status, body, None);
        }
        Err(AuthFailure::Internal(e)) => {
            let (status, body) = encode_failure(service, request_id, &oxiam_core::errors::internal(e));
            return (status, body, None);
        }
    };
    let arn = Some(caller.principal.arn());
    let result = execute(oxiam, received, &caller, service, params, now, request_id).await;
    // record
    oxiam.record(&caller, now);
    match result {
        Ok(body) => (200, body, arn),
        Err(e) => {
            let (status, body) = encode_failure(service, request_id, &e);
            (status, body, arn)
        }
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

/// decode → authorize → execute → encode, for an authenticated caller.
async fn execute(
    oxiam: &Oxiam,
    received: &Received,
    caller: &Authenticated,
    service: Service,
    params: Result<QueryParams, ServiceError>,
    now: i64,
    request_id: &str,
) -> Result<String, ServiceError> {
    let principal = &caller.principal;
    let facts = RequestFacts {
        now,
        source_ip: Some(received.peer.ip()),
        secure_transport: false,
        region: caller.claim.region.clone(),
        user_agent: header_text(received, "user-agent"),
        referer: header_text(received, "referer"),
    };
    match decode(service, &params?)? {
        Decoded::Iam(request) => {
            for access in oxiam.accesses(principal, &request).await? {
                oxiam.authorize(principal, &access, &facts, None).await?;
            }
            let response = oxiam.execute_iam(principal, request, now).await?;
            Ok(encode_iam(request_id, &response))
        }
        Decoded::Sts(request) => {
            oxiam.authorize_sts(principal, &request, &facts).await?;
            let response = oxiam.execute_sts(principal, request, now, &facts).await?;
            Ok(encode_sts(request_id, &response))
        }
    }
}
