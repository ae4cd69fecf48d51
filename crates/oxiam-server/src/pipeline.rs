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

use crate::protocol::{AwsJson, AwsQuery, Decoded, Encoded, Executed, Protocol, RestJson};

/// The largest request body oxiam reads (IAM's largest inputs, policy documents, are
/// far smaller).
const MAX_BODY_BYTES: usize = 1 << 20;

/// What every request handler shares (behind one `Arc`: each request takes a reference,
/// not one of each field's).
pub(crate) struct App {
    pub(crate) oxiam: Arc<Oxiam>,
    pub(crate) clock: Clock,
    pub(crate) s3: oxiam_s3::S3Endpoint,
    /// Where each finished request record goes.
    pub(crate) sinks: Arc<[Arc<dyn RecordSink>]>,
    /// The metrics, also one of the sinks, for `/_oxiam/metrics`.
    pub(crate) metrics: Arc<crate::Metrics>,
    /// The audit trail, written before each answer is sent.
    pub(crate) audit: Option<Arc<crate::AuditTrail>>,
    /// Web identity providers' signing keys (AssumeRoleWithWebIdentity).
    pub(crate) issuer_keys: Arc<crate::issuer_keys::IssuerKeyFetcher>,
    /// What a reset goes back to, when the server runs in test mode.
    pub(crate) test_mode: Option<Arc<TestMode>>,
}

/// A server in test mode: the account and bootstrap a reset keeps.
pub(crate) struct TestMode {
    pub(crate) account_id: String,
    pub(crate) bootstrap: oxiam_core::BootstrapConfig,
}

/// The signing name in the SigV4 credential scope, read before anything is trusted: it
/// only routes; authentication checks it again.
fn signing_name(head: &http::request::Parts) -> Option<String> {
    let authorization = head.headers.get(http::header::AUTHORIZATION).map(|v| v.as_bytes());
    oxiam_sigv4::credential_scope(authorization, head.uri.query().unwrap_or("")).map(|s| s.service)
}

/// Where a request goes, from its head alone (S3 bodies are streamed, not buffered).
#[derive(Clone, Copy)]
enum Route {
    /// The S3 endpoint.
    S3,
    /// The AWS Query protocol (IAM, STS); the service when the signature names it. A
    /// signing name of a service oxiam does not serve comes here too, and authentication
    /// refuses its credential scope in IAM's words, as IAM's endpoint would.
    AwsQuery(Option<Service>),
    /// The awsJson protocol (Organizations), named by the signing name.
    AwsJson,
    /// The restJson1 protocol (Access Analyzer), named by the signing name.
    RestJson,
    /// The operator's accounts endpoint (`admin.rs`), named by its path.
    Admin,
}

fn route(head: &http::request::Parts) -> Route {
    match signing_name(head).as_deref() {
        Some("s3") => Route::S3,
        Some(name) if AwsJson::service_named(name).is_some() => Route::AwsJson,
        Some(name) if RestJson::service_named(name).is_some() => Route::RestJson,
        // A signing name of a service oxiam does not serve comes to the Query protocol,
        // whose authentication refuses its credential scope in IAM's words.
        Some(name) => Route::AwsQuery(AwsQuery::service_named(name)),
        None if AwsQuery::claims_unsigned(head) => Route::AwsQuery(None),
        None => Route::S3,
    }
}

pub(crate) fn router(app: App) -> Router {
    Router::new().fallback(handle).with_state(Arc::new(app))
}

/// A request as received: everything later stages read, with the body fully buffered
/// (SigV4 hashes the exact bytes before anything parses them). The request line and headers
/// are kept as hyper parsed them: nothing is copied.
pub(crate) struct Received {
    pub(crate) peer: SocketAddr,
    /// It came over TLS (`aws:SecureTransport`).
    pub(crate) secure: bool,
    head: http::request::Parts,
    pub(crate) body: Bytes,
}

impl Received {
    /// `"POST"`, `"GET"`, … as received.
    pub(crate) fn method(&self) -> &str {
        self.head.method.as_str()
    }

    /// The path as on the wire (still percent-encoded).
    pub(crate) fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The query string without `?`; `""` when there is none.
    pub(crate) fn query(&self) -> &str {
        self.head.uri.query().unwrap_or("")
    }

    /// The first value of the header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&[u8]> {
        self.head.headers.get(name).map(HeaderValue::as_bytes)
    }

    /// The header `name`'s first value as text, if it is valid UTF-8.
    pub(crate) fn header_text(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every header (name, value), in the order SigV4 reads them. HTTP/2 carries the host
    /// as `:authority`, not as a header, and SigV4 signs it as `host`: it is one here.
    pub(crate) fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let authority = if self.head.headers.contains_key(http::header::HOST) {
            None
        } else {
            self.head.uri.authority()
        };
        self.head
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .chain(authority.map(|a| ("host", a.as_str().as_bytes())))
    }

    pub(crate) fn content_type_is_form(&self) -> bool {
        self.header_text("content-type").is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    }
}

fn http_response(encoded: Encoded) -> Response {
    let mut response = Response::new(Body::from(encoded.body));
    *response.status_mut() = StatusCode::from_u16(encoded.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(encoded.content_type),
    );
    for (name, value) in encoded.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

async fn receive(peer: SocketAddr, request: http::Request<Body>) -> Result<Received, ServiceError> {
    let (head, body) = request.into_parts();
    let body = to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ServiceError::new(
            common_errors::VALIDATION_ERROR,
            "The request body is too large or could not be read.",
        )
    })?;
    Ok(Received {
        peer,
        secure: head.extensions.get::<oxiam_core::authz::SecureTransport>().is_some(),
        head,
        body,
    })
}

async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: http::Request<Body>,
) -> Response {
    let (head, body) = request.into_parts();
    // The operations endpoints (health, readiness, metrics, reset) are the one exception to
    // "one record per request": probes every few seconds are not requests of anyone's.
    // moto's reset path, exactly (`POST /moto-api/reset?uploads` is S3's, to a bucket).
    // A host that names a bucket (`BUCKET.localhost`) makes any path one of its keys.
    let moto_reset =
        app.test_mode.is_some() && head.uri.path() == crate::operations::MOTO_RESET && head.uri.query().is_none();
    if (head.uri.path().starts_with(crate::operations::PREFIX) || moto_reset)
        && !crate::admin::serves(head.uri.path())
        && !app.s3.names_bucket_in_host(&head.headers)
    {
        return crate::operations::answer(&app, &head.method, head.uri.path(), peer.ip()).await;
    }
    let mut recorder = Recorder::new(
        app.sinks.clone(),
        app.audit.clone(),
        RequestRecord {
            request_id: ids::request_id(),
            time: app.clock.now(),
            source_ip: Some(peer.ip()),
            ..RequestRecord::default()
        },
    );
    let span = tracing::info_span!("request", id = %recorder.record.request_id);
    // The accounts endpoint is named by its path, as the other operations endpoints are
    // (a host naming a bucket makes the path a key: S3's).
    let route = if crate::admin::serves(head.uri.path()) && !app.s3.names_bucket_in_host(&head.headers) {
        Route::Admin
    } else {
        route(&head)
    };
    let request = http::Request::from_parts(head, body);
    async {
        // While the trail cannot be written, nothing runs: the request is refused, and its
        // own event tries the trail again.
        let trail_failing = app.audit.as_ref().is_some_and(|a| a.failing());
        let mut response = match route {
            _ if trail_failing => audit_failure(route, &mut recorder.record),
            Route::S3 => serve_s3(&app, request, &mut recorder).await,
            Route::AwsQuery(service) => serve(&AwsQuery, &app, request, service, &mut recorder.record).await,
            Route::AwsJson => {
                serve(
                    &AwsJson,
                    &app,
                    request,
                    Some(Service::Organizations),
                    &mut recorder.record,
                )
                .await
            }
            Route::RestJson => {
                serve(
                    &RestJson,
                    &app,
                    request,
                    Some(Service::AccessAnalyzer),
                    &mut recorder.record,
                )
                .await
            }
            Route::Admin => serve_admin(&app, request, &mut recorder.record).await,
        };
        // The audit event is written before the answer goes out; a request that cannot be
        // audited fails rather than go unrecorded.
        if let Some(audit) = &app.audit {
            let queued = audit.enqueue(recorder.settled(response.status().as_u16()));
            // Queued, the event will be written even if this request is abandoned now.
            recorder.audited = queued.is_ok();
            let written = match queued {
                Ok(queued) => queued.written().await,
                Err(error) => Err(error),
            };
            if let Err(error) = written {
                tracing::error!(%error, "a request failed: its audit event could not be written");
                response = audit_failure(route, &mut recorder.record);
            }
        }
        recorder.finish(response.status().as_u16());
        response
    }
    .instrument(span)
    .await
}

/// The error code recorded for a request that failed because its audit event could not be
/// written.
const AUDIT_FAILED: &str = "AuditTrailUnavailable";

/// The 500 of a request whose audit event could not be written, in its protocol's envelope.
/// Notes in `record` why.
fn audit_failure(route: Route, record: &mut RequestRecord) -> Response {
    const MESSAGE: &str = "The request could not be recorded in the audit trail.";
    record.error_code = Some(AUDIT_FAILED.to_owned());
    record.error_message = Some(MESSAGE.to_owned());
    match route {
        Route::S3 => oxiam_s3::internal_error(&record.request_id).map(Body::new),
        Route::AwsQuery(_) => {
            let service = AwsQuery::service_named(record.service).unwrap_or(<AwsQuery as Protocol>::DEFAULT_SERVICE);
            let error = ServiceError::new(common_errors::INTERNAL_FAILURE, MESSAGE);
            http_response(AwsQuery.encode_error(service, &record.request_id, &error))
        }
        Route::AwsJson => {
            let error = ServiceError::new(common_errors::INTERNAL_FAILURE, MESSAGE);
            http_response(AwsJson.encode_error(Service::Organizations, &record.request_id, &error))
        }
        Route::RestJson => {
            let error = ServiceError::new(common_errors::INTERNAL_FAILURE, MESSAGE);
            http_response(RestJson.encode_error(Service::AccessAnalyzer, &record.request_id, &error))
        }
        Route::Admin => {
            let error = ServiceError::new(common_errors::INTERNAL_FAILURE, MESSAGE);
            http_response(crate::admin::error(&record.request_id, &error))
        }
    }
}

/// The record of a request in flight. It goes to the sinks exactly once: when the answer
/// is built, or, should the request be abandoned first (the client went away, the server
/// stopped past its grace), when it is dropped, marked as never answered.
struct Recorder {
    record: RequestRecord,
    /// Where the S3 endpoint fills the record, for an S3 request.
    slot: Option<RecordSlot>,
    sinks: Arc<[Arc<dyn RecordSink>]>,
    /// Written before the answer; here for a request abandoned before it.
    audit: Option<Arc<crate::AuditTrail>>,
    /// Whether the request's event is in the trail's hands (written, or to be).
    audited: bool,
    started: Instant,
    sent: bool,
}

/// The error code of a request abandoned before it was answered (its status is 0).
const ABANDONED: &str = "Abandoned";

impl Recorder {
    fn new(sinks: Arc<[Arc<dyn RecordSink>]>, audit: Option<Arc<crate::AuditTrail>>, record: RequestRecord) -> Self {
        Self {
            record,
            slot: None,
            sinks,
            audit,
            audited: false,
            started: Instant::now(),
            sent: false,
        }
    }

    /// The record as it stands, answered with `status` (for the audit trail).
    fn settled(&mut self, status: u16) -> &RequestRecord {
        self.settle(status);
        &self.record
    }

    /// Sends the record, answered with `status`.
    fn finish(&mut self, status: u16) {
        self.send(status);
    }

    /// Takes back what the S3 endpoint filled, and stamps the answer.
    fn settle(&mut self, status: u16) {
        if let Some(slot) = self.slot.take() {
            self.record = slot.take();
        }
        self.record.status = status;
        self.record.latency_us = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    }

    fn send(&mut self, status: u16) {
        if std::mem::replace(&mut self.sent, true) {
            return;
        }
        self.settle(status);
        for sink in self.sinks.iter() {
            sink.record(&self.record);
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.sent {
            if let Some(slot) = &self.slot {
                slot.update(|r| {
                    r.error_code.get_or_insert_with(|| ABANDONED.to_owned());
                });
            }
            self.record.error_code.get_or_insert_with(|| ABANDONED.to_owned());
            self.settle(0);
            if let Some(audit) = &self.audit
                && !self.audited
                && let Err(error) = audit.write(&self.record)
            {
                tracing::error!(%error, request_id = %self.record.request_id, "an abandoned request could not be audited");
            }
            self.send(0);
        }
    }
}

/// An S3 request: the S3 endpoint answers it, filling its record in flight.
async fn serve_s3(app: &App, mut request: http::Request<Body>, recorder: &mut Recorder) -> Response {
    let peer = recorder.record.source_ip;
    let request_id = recorder.record.request_id.clone();
    let slot = RecordSlot::new(RequestRecord {
        service: "s3",
        ..std::mem::take(&mut recorder.record)
    });
    recorder.slot = Some(slot.clone());
    request.extensions_mut().insert(slot.clone());
    // A panic in s3s or the store is a bug, but the client still gets S3's 500.
    let response = std::panic::AssertUnwindSafe(app.s3.call(request, peer, &request_id))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| oxiam_s3::internal_error(&request_id));
    // The S3 endpoint's errors are small XML documents held in memory: their code and
    // message are read back for the record (a refusal by the gate has already set the
    // code). A HEAD's error has no body, and its record no code.
    if response.status().as_u16() >= 400 {
        let body = response.body().bytes();
        let text = body.as_deref().and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
        let code = oxiam_protocol::xml::element_text(text, "Code");
        let message = oxiam_protocol::xml::element_text(text, "Message");
        slot.update(|r| {
            if r.error_code.is_none() {
                r.error_code = code;
            }
            r.error_message = message;
        });
    }
    response.map(Body::new)
}

/// A request of a protocol the pipeline speaks itself: every stage after routing.
async fn serve<P: Protocol>(
    protocol: &P,
    app: &App,
    request: http::Request<Body>,
    signed_service: Option<Service>,
    record: &mut RequestRecord,
) -> Response {
    let request_id = record.request_id.clone();
    let peer = record
        .source_ip
        .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |ip| SocketAddr::new(ip, 0));
    let received = match receive(peer, request).await {
        Ok(r) => r,
        Err(e) => {
            record.set_error(&e);
            let service = signed_service.unwrap_or(P::DEFAULT_SERVICE);
            return http_response(protocol.encode_error(service, &request_id, &e));
        }
    };
    // A panic is a bug, but the client still gets an answer in the protocol's envelope
    // (InternalFailure, 500) rather than a dropped connection: parsing, every stage and
    // encoding run inside the catch.
    let mut service = signed_service.unwrap_or(P::DEFAULT_SERVICE);
    let outcome = std::panic::AssertUnwindSafe(async {
        record.user_agent = received.header_text("user-agent").map(str::to_owned);
        let parsed = protocol.parse(signed_service, &received);
        service = protocol.service(&parsed);
        record.service = service.signing_name();
        record.operation = protocol.operation(&parsed).map(str::to_owned);
        match run(protocol, app, &received, parsed, record).await {
            Ok(executed) => {
                if app.audit.is_some()
                    && !record
                        .operation
                        .as_deref()
                        .is_some_and(|op| crate::audit::read_only_operation(service, op))
                {
                    record.response_elements = executed.audit_elements();
                }
                protocol.encode(&request_id, &executed)
            }
            Err(e) => {
                record.set_error(&e);
                protocol.encode_error(service, &request_id, &e)
            }
        }
    })
    .catch_unwind()
    .await;
    let encoded = outcome.unwrap_or_else(|_| {
        let e = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.")
            .with_cause(&"panicked while serving the request");
        record.set_error(&e);
        protocol.encode_error(service, &request_id, &e)
    });
    http_response(encoded)
}

/// receive → authenticate → execute for oxiam's own signed endpoints (the operator's
/// accounts, an account's delegation notifications), which decide for themselves who may
/// call them.
async fn serve_admin(app: &App, request: http::Request<Body>, record: &mut RequestRecord) -> Response {
    record.service = crate::admin::SIGNING_NAME;
    let request_id = record.request_id.clone();
    let peer = record
        .source_ip
        .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |ip| SocketAddr::new(ip, 0));
    let now = record.time;
    let outcome = match receive(peer, request).await {
        Err(e) => Err(e),
        Ok(received) => {
            record.user_agent = received.header_text("user-agent").map(str::to_owned);
            record.operation = crate::admin::operation(&received).map(str::to_owned);
            match authenticate_for(&app.oxiam, &received, now, &[crate::admin::SIGNING_NAME]).await {
                Err(e) => Err(e),
                Ok(caller) => {
                    record.set_caller(&caller.principal, &caller.claim.access_key_id);
                    record.region = Some(caller.claim.region.clone());
                    let facts = RequestFacts {
                        now,
                        source_ip: Some(received.peer.ip()),
                        secure_transport: received.secure,
                        region: caller.claim.region.clone(),
                        user_agent: received.header_text("user-agent").map(str::to_owned),
                        referer: received.header_text("referer").map(str::to_owned),
                    };
                    let answer = crate::admin::execute(&app.oxiam, &caller.principal, &received, &facts).await;
                    app.oxiam.record(&caller, now);
                    answer
                }
            }
        }
    };
    match outcome {
        Ok(mut answer) => {
            answer.headers.push(("x-amzn-RequestId", request_id));
            http_response(answer)
        }
        Err(e) => {
            record.set_error(&e);
            http_response(crate::admin::error(&request_id, &e))
        }
    }
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
    if record.service == "sts" && matches!(record.operation.as_deref(), Some(op) if UNSIGNED_OPERATIONS.contains(&op)) {
        return run_unsigned(protocol, app, received, parsed, record).await;
    }
    let caller = match authenticate::<P>(oxiam, received, now).await {
        Ok(caller) => caller,
        Err(e) => {
            // The key the request claimed, for the audit trail (never its secret).
            let authorization = received.header("authorization");
            // Only if it looks like a key id: the value is the client's, and goes on into
            // the log line.
            record.access_key_id = oxiam_sigv4::credential_scope(authorization, received.query())
                .map(|s| s.access_key_id)
                .filter(|id| (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()));
            return Err(e);
        }
    };
    record.set_caller(&caller.principal, &caller.claim.access_key_id);
    record.region = Some(caller.claim.region.clone());
    let audited = app.audit.is_some();
    let outcome = authorize_and_execute(protocol, oxiam, received, &caller, parsed, now, audited, record).await;
    // Last use is noted whatever the answer: the key was used.
    oxiam.record(&caller, now);
    outcome
}

/// The STS operations AWS takes unsigned: the token or assertion they carry is the
/// credential (a signature, if any, is not what authenticates them).
const UNSIGNED_OPERATIONS: &[&str] = &["AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"];

/// decode → decide → execute for an unsigned operation: the token it carries is checked,
/// and the role's trust policy decides, in the operation itself.
async fn run_unsigned<P: Protocol>(
    protocol: &P,
    app: &App,
    received: &Received,
    parsed: P::Parsed,
    record: &mut RequestRecord,
) -> Result<Executed, ServiceError> {
    let now = record.time;
    let facts = RequestFacts {
        now,
        source_ip: Some(received.peer.ip()),
        secure_transport: received.secure,
        region: oxiam_sigv4::DEFAULT_REGION.to_owned(),
        user_agent: received.header_text("user-agent").map(str::to_owned),
        referer: received.header_text("referer").map(str::to_owned),
    };
    let decoded = protocol.decode(parsed)?;
    if app.audit.is_some() {
        record.request_parameters = decoded.audit_parameters();
    }
    match decoded {
        Decoded::Sts(oxiam_protocol::sts::Request::AssumeRoleWithWebIdentity(input)) => {
            record.principal_type = Some("WebIdentityUser");
            let outcome = app
                .oxiam
                .assume_role_with_web_identity(input, now, &facts, app.issuer_keys.as_ref())
                .await;
            match outcome {
                Ok((response, verdicts)) => {
                    record.verdicts.extend(verdicts);
                    Ok(Executed::Sts(oxiam_protocol::sts::Response::AssumeRoleWithWebIdentity(
                        response,
                    )))
                }
                Err(refusal) => {
                    record.verdicts.extend(refusal.verdict.map(|v| *v));
                    Err(refusal.error)
                }
            }
        }
        Decoded::Sts(oxiam_protocol::sts::Request::AssumeRoleWithSAML(input)) => {
            record.principal_type = Some("SAMLUser");
            match app.oxiam.assume_role_with_saml(input, now, &facts).await {
                Ok((response, verdicts)) => {
                    record.verdicts.extend(verdicts);
                    Ok(Executed::Sts(oxiam_protocol::sts::Response::AssumeRoleWithSAML(
                        response,
                    )))
                }
                Err(refusal) => {
                    record.verdicts.extend(refusal.verdict.map(|v| *v));
                    Err(refusal.error)
                }
            }
        }
        other => Err(oxiam_core::errors::not_implemented(&format!(
            "the STS operation {}",
            other.operation_name()
        ))),
    }
}

async fn authenticate<P: Protocol>(
    oxiam: &Oxiam,
    received: &Received,
    now: i64,
) -> Result<Authenticated, ServiceError> {
    authenticate_for(oxiam, received, now, P::SIGNING_NAMES).await
}

/// Authenticates a request signed for one of `signing_names`.
async fn authenticate_for(
    oxiam: &Oxiam,
    received: &Received,
    now: i64,
    signing_names: &[&str],
) -> Result<Authenticated, ServiceError> {
    let headers: Vec<(&str, &[u8])> = received.headers().collect();
    let signed = SignedRequest {
        method: received.method(),
        raw_path: received.path(),
        raw_query: received.query(),
        headers: &headers,
        body: &received.body,
    };
    match oxiam.authenticate(&signed, now, signing_names).await {
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

/// `--lint-policies`: the identity policy an authorized request writes, checked as IAM Access
/// Analyzer's ValidatePolicy checks it before it is executed. The findings go with the
/// request's record (the log and the audit trail); under `deny` an ERROR refuses the write.
/// A document IAM itself refuses is left to the operation, so that IAM's own error (and
/// message) answers it.
async fn lint_written_policy(
    mode: oxiam_core::LintPolicies,
    request: &oxiam_protocol::iam::Request,
    record: &mut RequestRecord,
) -> Result<(), ServiceError> {
    use oxiam_protocol::iam::Request as R;
    if mode == oxiam_core::LintPolicies::Off {
        return Ok(());
    }
    use oxiam_core::documents::{
        GROUP_INLINE_SIZE_QUOTA, MANAGED_POLICY_SIZE_QUOTA, ROLE_INLINE_SIZE_QUOTA, USER_INLINE_SIZE_QUOTA,
    };
    // Each document with the most IAM stores of it in one piece.
    let (document, quota) = match request {
        R::CreatePolicy(i) => (&i.policy_document, MANAGED_POLICY_SIZE_QUOTA),
        // An AWS managed policy gets IAM's AccessDenied, whatever its new version says.
        R::CreatePolicyVersion(i) if !i.policy_arn.starts_with("arn:aws:iam::aws:") => {
            (&i.policy_document, MANAGED_POLICY_SIZE_QUOTA)
        }
        R::PutUserPolicy(i) => (&i.policy_document, USER_INLINE_SIZE_QUOTA),
        R::PutGroupPolicy(i) => (&i.policy_document, GROUP_INLINE_SIZE_QUOTA),
        R::PutRolePolicy(i) => (&i.policy_document, ROLE_INLINE_SIZE_QUOTA),
        _ => return Ok(()),
    };
    // Larger than IAM keeps, or not a policy IAM accepts: IAM's own answer comes first (its
    // LimitExceeded, its MalformedPolicyDocument text), and the checks never run on more than
    // IAM would store.
    if oxiam_policy::size_without_whitespace(document) as i64 > quota
        || oxiam_policy::parse(document, oxiam_policy::PolicyKind::Identity).is_err()
    {
        return Ok(());
    }
    // Milliseconds at worst for what IAM stores, but off the async worker all the same.
    let findings = off_the_async_workers(&CHECK_TURNS.write_lints, || {
        oxiam_lint::validate(document, oxiam_lint::PolicyType::Identity)
    })
    .await;
    for f in &findings {
        tracing::warn!(request_id = %record.request_id, issue_code = f.issue_code, finding_type = f.finding_type.as_str(), details = %f.details, "policy finding");
        record
            .policy_findings
            .push(format!("{} {}: {}", f.finding_type.as_str(), f.issue_code, f.details));
    }
    match findings
        .iter()
        .find(|f| f.finding_type == oxiam_lint::FindingType::Error)
    {
        Some(error) if mode == oxiam_core::LintPolicies::Deny => Err(ServiceError::new(
            oxiam_protocol::iam::errors::MALFORMED_POLICY_DOCUMENT,
            format!("{}: {}", error.issue_code, error.details),
        )),
        _ => Ok(()),
    }
}

/// How many policy checks of each kind run at once: one per core. Each holds a thread while it
/// runs (`block_in_place` hands its worker's place to a new thread), so without a bound a
/// caller allowed to ask for checks could have the runtime start a thread per request in
/// flight; the others wait, holding no thread. Access Analyzer's checks (up to a diff's bound
/// of work each) and `--lint-policies`' checks of IAM writes (linear in a stored document)
/// queue apart, so that a flood of the first does not hold up the writes.
struct CheckTurns {
    analyzer: tokio::sync::Semaphore,
    write_lints: tokio::sync::Semaphore,
}

static CHECK_TURNS: std::sync::LazyLock<CheckTurns> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    CheckTurns {
        analyzer: tokio::sync::Semaphore::new(cores),
        write_lints: tokio::sync::Semaphore::new(cores),
    }
});

/// Runs CPU-bound work (policy checks) where it holds no async worker, as many at a time as
/// `turns` has permits ([`CHECK_TURNS`]): `block_in_place` on the multi-threaded runtime (the
/// server's), inline otherwise (a test's current-thread one).
async fn off_the_async_workers<T>(turns: &tokio::sync::Semaphore, work: impl FnOnce() -> T) -> T {
    // The semaphores are never closed.
    let _turn = turns.acquire().await;
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// decode → authorize → execute, for an authenticated caller; each verdict is kept, and
/// when `audited`, the request's parameters.
#[expect(clippy::too_many_arguments, reason = "the stage's inputs, each named")]
async fn authorize_and_execute<P: Protocol>(
    protocol: &P,
    oxiam: &Oxiam,
    received: &Received,
    caller: &Authenticated,
    parsed: P::Parsed,
    now: i64,
    audited: bool,
    record: &mut RequestRecord,
) -> Result<Executed, ServiceError> {
    let principal = &caller.principal;
    let facts = RequestFacts {
        now,
        source_ip: Some(received.peer.ip()),
        secure_transport: received.secure,
        region: caller.claim.region.clone(),
        user_agent: received.header_text("user-agent").map(str::to_owned),
        referer: received.header_text("referer").map(str::to_owned),
    };
    let keep = |record: &mut RequestRecord, refusal: oxiam_core::authz::Refusal| {
        record.verdicts.extend(refusal.verdict.map(|v| *v));
        refusal.error
    };
    let decoded = protocol.decode(parsed)?;
    if audited {
        record.request_parameters = decoded.audit_parameters();
    }
    match decoded {
        Decoded::Iam(request) => {
            let authorized = oxiam
                .authorize_iam(principal, &request, &facts, &mut record.verdicts)
                .await;
            authorized.map_err(|r| keep(record, r))?;
            lint_written_policy(oxiam.lint_policies(), &request, record).await?;
            Ok(Executed::Iam(
                oxiam.execute_iam_with(principal, request, now, Some(&facts)).await?,
            ))
        }
        Decoded::Sts(request) => {
            let verdicts = oxiam
                .authorize_sts(principal, &request, &facts)
                .await
                .map_err(|r| keep(record, r))?;
            record.verdicts.extend(verdicts);
            Ok(Executed::Sts(oxiam.execute_sts(principal, request, now, &facts).await?))
        }
        Decoded::Organizations(request) => {
            for access in oxiam.organizations_accesses(principal, &request).await? {
                let verdict = oxiam
                    .authorize(principal, &access, &facts, None)
                    .await
                    .map_err(|r| keep(record, r))?;
                record.verdicts.push(verdict);
            }
            Ok(Executed::Organizations(
                oxiam.execute_organizations(principal, request, now).await?,
            ))
        }
        Decoded::AccessAnalyzer(request) => {
            let access = oxiam_core::access_analyzer::access(&request);
            let verdict = oxiam
                .authorize(principal, &access, &facts, None)
                .await
                .map_err(|r| keep(record, r))?;
            record.verdicts.push(verdict);
            // A check is CPU work bounded by the document's size and the checks' own budgets.
            let answer =
                off_the_async_workers(&CHECK_TURNS.analyzer, || oxiam_core::access_analyzer::execute(request)).await;
            Ok(Executed::AccessAnalyzer(answer?))
        }
    }
}
