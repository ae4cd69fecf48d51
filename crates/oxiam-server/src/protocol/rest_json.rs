//! restJson1, the protocol of IAM Access Analyzer: the operation is named by the method and
//! path (`POST /policy/validation`), its members travel in a JSON body (a few in the query
//! string), answers are JSON, and an error's code travels in `x-amzn-ErrorType` beside a
//! `{"message"}` body.

use oxiam_core::Service;
use oxiam_protocol::accessanalyzer;
use oxiam_protocol::query::QueryParams;
use oxiam_protocol::validate::ValidationError;
use oxiam_protocol::{ServiceError, common_errors, encode_rest_json_error};

use super::{Decoded, Encoded, Executed, Protocol, json_service_code, unknown_operation};
use crate::pipeline::Received;

pub(crate) struct RestJson;

/// A restJson1 request, parsed: the operation its method and path name, and its members
/// (or why they could not be read).
pub(crate) struct RestJsonRequest {
    operation: Option<accessanalyzer::Operation>,
    params: Result<QueryParams, ServiceError>,
}

impl RestJson {
    /// The service a signing name is, if it is one of this protocol's.
    pub(crate) fn service_named(signing_name: &str) -> Option<Service> {
        (signing_name == accessanalyzer::SIGNING_NAME).then_some(Service::AccessAnalyzer)
    }

    fn encoded(status: u16, request_id: &str, body: String, error_code: Option<&str>) -> Encoded {
        let mut headers = vec![("x-amzn-RequestId", request_id.to_owned())];
        headers.extend(error_code.map(|code| ("x-amzn-ErrorType", code.to_owned())));
        Encoded {
            status,
            content_type: "application/json",
            headers,
            body,
        }
    }

    /// A model constraint broken: Access Analyzer's ValidationException, whose `reason`
    /// says a field failed its validation.
    fn invalid(e: ValidationError) -> ServiceError {
        oxiam_core::access_analyzer::validation(&e.message)
    }
}

impl Protocol for RestJson {
    type Parsed = RestJsonRequest;

    const SIGNING_NAMES: &'static [&'static str] = &[accessanalyzer::SIGNING_NAME];

    const DEFAULT_SERVICE: Service = Service::AccessAnalyzer;

    fn parse(&self, _signed_service: Option<Service>, received: &Received) -> RestJsonRequest {
        let operation = accessanalyzer::Operation::from_route(received.method(), received.path());
        let params = QueryParams::from_json(&received.body).and_then(|mut params| {
            let Some(op) = operation else {
                return Ok(params);
            };
            // A member bound to the query string is read there only, whatever the body says.
            let query = QueryParams::parse(&[received.query()])?;
            for (parameter, member) in op.query_string_members() {
                params.set(member, query.get(parameter).map(str::to_owned));
            }
            Ok(params)
        });
        RestJsonRequest { operation, params }
    }

    fn service(&self, _parsed: &RestJsonRequest) -> Service {
        Service::AccessAnalyzer
    }

    fn operation(&self, parsed: &RestJsonRequest) -> Option<&'static str> {
        parsed.operation.map(accessanalyzer::Operation::name)
    }

    fn decode(&self, parsed: RestJsonRequest) -> Result<Decoded, ServiceError> {
        let op = parsed.operation.ok_or_else(unknown_operation)?;
        let params = parsed.params?;
        let request = accessanalyzer::decode(op, &params).map_err(Self::invalid)?;
        oxiam_core::access_analyzer::check_sizes(&request)?;
        Ok(Decoded::AccessAnalyzer(request))
    }

    fn encode(&self, request_id: &str, executed: &Executed) -> Encoded {
        match executed {
            Executed::AccessAnalyzer(response) => Self::encoded(200, request_id, response.write_body(), None),
            Executed::Iam(_) | Executed::Sts(_) | Executed::Organizations(_) => {
                let e = ServiceError::new(common_errors::INTERNAL_FAILURE, "An internal error occurred.")
                    .with_cause(&"another protocol's answer reached the restJson1 encoder");
                self.encode_error(Service::AccessAnalyzer, request_id, &e)
            }
        }
    }

    fn encode_error(&self, _service: Service, request_id: &str, error: &ServiceError) -> Encoded {
        let mut error = error.clone();
        // The pipeline's own failures (a body too large, a fault) in the model's words.
        error.kind.code = match json_service_code(error.kind.code) {
            "ValidationError" => {
                error.reason = Some("other");
                accessanalyzer::errors::VALIDATION.code
            }
            "InternalFailure" => accessanalyzer::errors::INTERNAL_SERVER.code,
            code => code,
        };
        Self::encoded(
            error.kind.status,
            request_id,
            encode_rest_json_error(&error),
            Some(error.kind.code),
        )
    }
}
