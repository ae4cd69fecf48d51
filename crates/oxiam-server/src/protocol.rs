//! Wire protocols: how a request's bytes become a typed operation of a service, and how an
//! answer or an error goes back. The pipeline picks one per request, from the signing name,
//! and names none itself. S3 speaks its REST protocol through s3s and is not one of these.
//!
//! Three are here: [`AwsQuery`] (IAM, STS), [`AwsJson`] (Organizations) and [`RestJson`]
//! (Access Analyzer's policy checks, in `rest_json.rs`). A new protocol is one more
//! implementation of [`Protocol`] over its generated operations.

use oxiam_core::Service;
use oxiam_protocol::query::QueryParams;
use oxiam_protocol::validate::{Constraint, ValidationError};
use oxiam_protocol::{
    ServiceError, accessanalyzer, common_errors, encode_error, encode_json_error, encode_response, iam, organizations,
    sts,
};

use crate::pipeline::Received;

mod rest_json;
pub(crate) use rest_json::RestJson;

/// A typed request of one of the services the pipeline executes.
pub(crate) enum Decoded {
    Iam(iam::Request),
    Sts(sts::Request),
    Organizations(organizations::Request),
    AccessAnalyzer(accessanalyzer::Request),
}

impl Decoded {
    /// The request's parameters for the audit trail (JSON, sensitive values hidden).
    pub(crate) fn audit_parameters(&self) -> Option<String> {
        match self {
            Decoded::Iam(request) => request.audit_parameters(),
            Decoded::Sts(request) => request.audit_parameters(),
            Decoded::Organizations(request) => request.audit_parameters(),
            Decoded::AccessAnalyzer(request) => request.audit_parameters(),
        }
    }

    /// The operation's name.
    pub(crate) fn operation_name(&self) -> &'static str {
        match self {
            Decoded::Iam(request) => request.operation().name(),
            Decoded::Sts(request) => request.operation().name(),
            Decoded::Organizations(request) => request.operation().name(),
            Decoded::AccessAnalyzer(request) => request.operation().name(),
        }
    }
}

/// A typed answer of one of those services.
pub(crate) enum Executed {
    Iam(iam::Response),
    Sts(sts::Response),
    Organizations(organizations::Response),
    AccessAnalyzer(accessanalyzer::Response),
}

impl Executed {
    /// The answer's elements for the audit trail (JSON, sensitive values hidden).
    pub(crate) fn audit_elements(&self) -> Option<String> {
        match self {
            Executed::Iam(response) => response.audit_elements(),
            Executed::Sts(response) => response.audit_elements(),
            Executed::Organizations(response) => response.audit_elements(),
            Executed::AccessAnalyzer(response) => response.audit_elements(),
        }
    }
}

/// An answer on the wire.
pub(crate) struct Encoded {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    /// Headers the protocol adds (the request id, under the name its clients read).
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

/// One wire protocol. Pure: no I/O, no clock, no store.
pub(crate) trait Protocol {
    /// What the request asks for, read before anyone is authenticated and not yet
    /// validated: enough to name the service and the operation, and to answer in the
    /// service's envelope whatever happens next.
    type Parsed;

    /// The signing names of the services the protocol answers for.
    const SIGNING_NAMES: &'static [&'static str];

    /// The service a request is answered as before it says which.
    const DEFAULT_SERVICE: Service;

    /// Reads the request. `signed_service` is the signing name's service, if it names one.
    fn parse(&self, signed_service: Option<Service>, received: &Received) -> Self::Parsed;

    /// The service the request is for, as far as it says.
    fn service(&self, parsed: &Self::Parsed) -> Service;

    /// The operation the request names, if it is one of the service's: never text the
    /// client chose, which goes on into logs and metrics.
    fn operation(&self, parsed: &Self::Parsed) -> Option<&'static str>;

    /// The typed, validated operation (decoding errors are answered after
    /// authentication, as AWS does).
    fn decode(&self, parsed: Self::Parsed) -> Result<Decoded, ServiceError>;

    /// A successful answer.
    fn encode(&self, request_id: &str, executed: &Executed) -> Encoded;

    /// A failed one, in `service`'s envelope.
    fn encode_error(&self, service: Service, request_id: &str, error: &ServiceError) -> Encoded;
}

/// The AWS Query protocol of IAM and STS: form-encoded parameters in the body or the
/// query string, XML answers.
pub(crate) struct AwsQuery;

/// A Query request, parsed: its service and its parameters (or why they could not be read).
pub(crate) struct QueryRequest {
    service: Service,
    params: Result<QueryParams, ServiceError>,
}

impl AwsQuery {
    /// The service a signing name is, if it is one of this protocol's.
    pub(crate) fn service_named(signing_name: &str) -> Option<Service> {
        match signing_name {
            "iam" => Some(Service::Iam),
            "sts" => Some(Service::Sts),
            _ => None,
        }
    }

    /// Whether an unsigned request (no credential scope) is a Query request: a form POST,
    /// or a GET with `?Action=`, to `/`. Anything else unsigned is S3's to answer.
    pub(crate) fn claims_unsigned(head: &http::request::Parts) -> bool {
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
        head.uri.path() == "/" && (form || query_action)
    }

    fn encoded(status: u16, request_id: &str, body: String) -> Encoded {
        Encoded {
            status,
            content_type: "text/xml",
            headers: vec![("x-amzn-RequestId", request_id.to_owned())],
            body,
        }
    }
}

impl Protocol for AwsQuery {
    type Parsed = QueryRequest;

    const SIGNING_NAMES: &'static [&'static str] = &["iam", "sts"];

    const DEFAULT_SERVICE: Service = Service::Iam;

    fn parse(&self, signed_service: Option<Service>, received: &Received) -> QueryRequest {
        let form_body = if received.content_type_is_form() || received.method() == "POST" {
            std::str::from_utf8(&received.body).ok()
        } else {
            None
        };
        let forms: Vec<&str> = [Some(received.query()), form_body].into_iter().flatten().collect();
        let params = QueryParams::parse(&forms);
        // The service the signature names, else the one whose API version `Version` gives
        // (IAM and STS share no action names, but do share this endpoint).
        let service = signed_service.unwrap_or(match params.as_ref().ok().and_then(|p| p.get("Version")) {
            Some(sts::API_VERSION) => Service::Sts,
            _ => Service::Iam,
        });
        QueryRequest { service, params }
    }

    fn service(&self, parsed: &QueryRequest) -> Service {
        parsed.service
    }

    fn operation(&self, parsed: &QueryRequest) -> Option<&'static str> {
        let action = parsed.params.as_ref().ok()?.get("Action")?;
        match parsed.service {
            Service::Iam => iam::Operation::from_action(action).map(|op| op.name()),
            Service::Sts => sts::Operation::from_action(action).map(|op| op.name()),
            Service::Organizations | Service::AccessAnalyzer => None,
        }
    }

    /// Form pairs → the operation `Action` names → its typed, validated input.
    fn decode(&self, parsed: QueryRequest) -> Result<Decoded, ServiceError> {
        let params = parsed.params?;
        let action = params
            .get("Action")
            .ok_or_else(|| ServiceError::new(common_errors::MISSING_ACTION, "Missing Action"))?;
        let version = match parsed.service {
            Service::Iam => iam::API_VERSION,
            Service::Sts => sts::API_VERSION,
            Service::Organizations | Service::AccessAnalyzer => return Err(unknown_operation()),
        };
        let asked_version = params.get("Version").unwrap_or(version);
        let unknown = || {
            ServiceError::new(
                common_errors::INVALID_ACTION,
                format!("Could not find operation {action} for version {asked_version}"),
            )
        };
        if asked_version != version {
            return Err(unknown());
        }
        Ok(match parsed.service {
            Service::Iam => {
                let op = iam::Operation::from_action(action).ok_or_else(unknown)?;
                Decoded::Iam(iam::decode(op, &params)?)
            }
            Service::Sts => {
                let op = sts::Operation::from_action(action).ok_or_else(unknown)?;
                Decoded::Sts(sts::decode(op, &params)?)
            }
            Service::Organizations | Service::AccessAnalyzer => return Err(unknown_operation()),
        })
    }

    fn encode(&self, request_id: &str, executed: &Executed) -> Encoded {
        let body = match executed {
            Executed::Iam(response) => {
                let op = response.operation();
                encode_response(iam::XML_NAMESPACE, op.name(), op.has_output(), request_id, |w| {
                    response.write_result(w)
                })
            }
            Executed::Sts(response) => {
                let op = response.operation();
                encode_response(sts::XML_NAMESPACE, op.name(), op.has_output(), request_id, |w| {
                    response.write_result(w)
                })
            }
            Executed::Organizations(_) | Executed::AccessAnalyzer(_) => {
                let e = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.")
                    .with_cause(&"a JSON answer reached the Query encoder");
                return self.encode_error(Service::Iam, request_id, &e);
            }
        };
        Self::encoded(200, request_id, body)
    }

    fn encode_error(&self, service: Service, request_id: &str, error: &ServiceError) -> Encoded {
        let namespace = match service {
            Service::Sts => sts::XML_NAMESPACE,
            Service::Iam | Service::Organizations | Service::AccessAnalyzer => iam::XML_NAMESPACE,
        };
        Self::encoded(
            error.kind.status,
            request_id,
            encode_error(namespace, error, request_id),
        )
    }
}

/// The headers a request's signature says it covers: `SignedHeaders=` in its
/// `Authorization` header, else `X-Amz-SignedHeaders` in its query (presigned). Read here
/// only to refuse what is not covered; authentication verifies the signature itself.
fn signed_headers(received: &Received) -> impl Iterator<Item = &str> {
    let from_header = received
        .header_text("authorization")
        .and_then(|v| v.split("SignedHeaders=").nth(1))
        .and_then(|v| v.split([',', ' ']).next());
    let from_query = received
        .query()
        .split('&')
        .find_map(|pair| pair.strip_prefix("X-Amz-SignedHeaders="));
    from_header
        .or(from_query)
        .unwrap_or("")
        .split([';'])
        .flat_map(|h| h.split("%3B").flat_map(|h| h.split("%3b")))
}

/// Authentication and authorization speak IAM's codes; JSON services name the same
/// failures so.
fn json_service_code(code: &'static str) -> &'static str {
    match code {
        "InvalidClientTokenId" => "UnrecognizedClientException",
        "SignatureDoesNotMatch" => "InvalidSignatureException",
        "AccessDenied" => "AccessDeniedException",
        _ => code,
    }
}

/// A request that names no operation of the service.
fn unknown_operation() -> ServiceError {
    ServiceError::new(
        oxiam_protocol::ErrorKind {
            code: "UnknownOperationException",
            status: 400,
            sender: true,
        },
        "The requested operation is not recognized by the service.",
    )
}

/// The awsJson 1.1 protocol of Organizations: `POST /` with `X-Amz-Target:
/// AWSOrganizationsV20161128.{Operation}` and a JSON body; JSON answers, and errors as
/// `{"__type","Message"}` (with `Reason` where the model's error has one).
pub(crate) struct AwsJson;

/// An awsJson request, parsed: the operation its target names, and its members (or why
/// they could not be read).
pub(crate) struct JsonRequest {
    operation: Option<organizations::Operation>,
    params: Result<QueryParams, ServiceError>,
    /// Whether the signature covers `X-Amz-Target`: it names the operation, so a
    /// signature that does not could be replayed as any other operation.
    target_signed: bool,
}

impl AwsJson {
    /// The service a signing name is, if it is one of this protocol's.
    pub(crate) fn service_named(signing_name: &str) -> Option<Service> {
        (signing_name == organizations::SIGNING_NAME).then_some(Service::Organizations)
    }

    fn encoded(status: u16, request_id: &str, body: String) -> Encoded {
        Encoded {
            status,
            content_type: "application/x-amz-json-1.1",
            headers: vec![("x-amzn-RequestId", request_id.to_owned())],
            body,
        }
    }

    /// A model constraint broken: Organizations answers `InvalidInputException`, its
    /// `Reason` saying which kind of constraint.
    fn invalid_input(e: ValidationError) -> ServiceError {
        let reason = match e.first {
            Some(Constraint::Required) => "INPUT_REQUIRED",
            Some(Constraint::MinLength) => "MIN_LENGTH_EXCEEDED",
            Some(Constraint::MaxLength) => "MAX_LENGTH_EXCEEDED",
            Some(Constraint::MinValue) => "MIN_VALUE_EXCEEDED",
            Some(Constraint::MaxValue) => "MAX_VALUE_EXCEEDED",
            Some(Constraint::Enum) => "INVALID_ENUM",
            Some(Constraint::Pattern | Constraint::Malformed) | None => "INVALID_PATTERN",
        };
        ServiceError::new(organizations::errors::INVALID_INPUT, e.message).with_reason(reason)
    }
}

impl Protocol for AwsJson {
    type Parsed = JsonRequest;

    const SIGNING_NAMES: &'static [&'static str] = &[organizations::SIGNING_NAME];

    const DEFAULT_SERVICE: Service = Service::Organizations;

    fn parse(&self, _signed_service: Option<Service>, received: &Received) -> JsonRequest {
        let operation = received
            .header_text("x-amz-target")
            .and_then(|target| target.strip_prefix(organizations::TARGET_PREFIX)?.strip_prefix('.'))
            .and_then(organizations::Operation::from_action);
        JsonRequest {
            operation,
            params: QueryParams::from_json(&received.body),
            target_signed: signed_headers(received).any(|h| h.eq_ignore_ascii_case("x-amz-target")),
        }
    }

    fn service(&self, _parsed: &JsonRequest) -> Service {
        Service::Organizations
    }

    fn operation(&self, parsed: &JsonRequest) -> Option<&'static str> {
        parsed.operation.map(organizations::Operation::name)
    }

    fn decode(&self, parsed: JsonRequest) -> Result<Decoded, ServiceError> {
        if !parsed.target_signed {
            return Err(ServiceError::new(
                oxiam_protocol::ErrorKind {
                    code: "IncompleteSignatureException",
                    status: 400,
                    sender: true,
                },
                "The request signature does not cover the X-Amz-Target header, which names the operation.",
            ));
        }
        let op = parsed.operation.ok_or_else(unknown_operation)?;
        let params = parsed.params?;
        organizations::decode(op, &params)
            .map(Decoded::Organizations)
            .map_err(Self::invalid_input)
    }

    fn encode(&self, request_id: &str, executed: &Executed) -> Encoded {
        match executed {
            Executed::Organizations(response) => Self::encoded(200, request_id, response.write_body()),
            Executed::Iam(_) | Executed::Sts(_) | Executed::AccessAnalyzer(_) => {
                let e = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.")
                    .with_cause(&"another protocol's answer reached the awsJson encoder");
                self.encode_error(Service::Organizations, request_id, &e)
            }
        }
    }

    fn encode_error(&self, _service: Service, request_id: &str, error: &ServiceError) -> Encoded {
        // The model gives its errors no status but 400 (500 for a server fault).
        let (body, status) = match json_service_code(error.kind.code) {
            code if code != error.kind.code => {
                let mut e = error.clone();
                e.kind.code = code;
                (encode_json_error(&e), 400)
            }
            _ => (encode_json_error(error), error.kind.status),
        };
        Self::encoded(status, request_id, body)
    }
}
