//! The wire formats of the services oxiam answers itself, generated from the official
//! service models under `models/`: the AWS Query protocol (IAM, STS), awsJson 1.1
//! (Organizations) and restJson1 (Access Analyzer's policy checks).
//!
//! The request path uses this crate twice: [`query::QueryParams::parse`] (or
//! [`query::QueryParams::from_json`]) then a service's `decode` turn a body into a typed
//! request, and [`encode_response`] / [`encode_error`] (or a JSON service's `write_body` and
//! [`encode_json_error`] / [`encode_rest_json_error`]) turn a typed response or an error into
//! the envelope clients expect.
//! The audit trail reads the same typed values as JSON ([`json`]), sensitive members hidden.
//! Nothing here does I/O; `generated/` is written by `codegen/generate.py`.

pub mod json;
pub mod query;
pub mod validate;
pub mod xml;

mod generated {
    pub mod accessanalyzer;
    pub mod iam;
    pub mod organizations;
    pub mod sts;
}
pub use generated::{accessanalyzer, iam, organizations, sts};

use std::fmt;
use std::sync::Arc;

/// A value the model marks `sensitive` (passwords, secret keys): never printed by `Debug`,
/// so a logged request or response cannot leak it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive<T>(pub T);

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("*** Sensitive Data Redacted ***")
    }
}

impl<T: xml::XmlText> xml::XmlText for Sensitive<T> {
    fn write_text(&self, out: &mut xml::XmlWriter) {
        self.0.write_text(out)
    }
}

/// A request member's value as authorization reads it, to build the resource a request acts
/// on and the condition keys it carries (`Request::member` of each service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member<'a> {
    /// A string or an enum's wire value.
    Text(&'a str),
    /// A list of strings.
    Texts(&'a [String]),
    /// An integer.
    Number(i64),
    /// A boolean.
    Flag(bool),
    /// A list of `Key`/`Value` tags, in request order.
    Tags(Vec<(&'a str, &'a str)>),
}

/// A point in time, in whole seconds since the Unix epoch (IAM's dates have no fraction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// ISO-8601 in UTC with whole seconds, as IAM writes dates: `2024-01-02T03:04:05Z`.
    pub fn to_iso8601(self) -> String {
        let dt = time::OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        // Most responses carry a date or two: written digit by digit, a tenth of what
        // `format!`'s padding costs. A year outside 0–9999 (`time` reaches -9999) takes
        // `format!`.
        let Ok(year @ 0..=9999) = u16::try_from(dt.year()) else {
            return formatted(dt);
        };
        let mut text = String::with_capacity(20);
        let mut push = |n: u16, width: u32, then: char| {
            for place in (0..width).rev() {
                let digit = n / 10_u16.pow(place) % 10;
                text.push(char::from(b'0' + digit as u8));
            }
            text.push(then);
        };
        push(year, 4, '-');
        push(u16::from(u8::from(dt.month())), 2, '-');
        push(u16::from(dt.day()), 2, 'T');
        push(u16::from(dt.hour()), 2, ':');
        push(u16::from(dt.minute()), 2, ':');
        push(u16::from(dt.second()), 2, 'Z');
        text
    }
}

/// A date-time written by `format!`: any year `time` reaches, at least four digits.
fn formatted(dt: time::OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// An error's identity on the wire: its code, HTTP status and fault side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    /// The `<Code>` clients match on, e.g. `NoSuchEntity`.
    pub code: &'static str,
    /// The HTTP status of the response.
    pub status: u16,
    /// `true` for `<Type>Sender</Type>`, `false` for `Receiver`.
    pub sender: bool,
}

/// Errors IAM and STS return that the models do not declare.
pub mod common_errors {
    use crate::ErrorKind;
    /// A request parameter broke a model constraint.
    pub const VALIDATION_ERROR: ErrorKind = ErrorKind {
        code: "ValidationError",
        status: 400,
        sender: true,
    };
    /// The caller is not allowed to do this.
    pub const ACCESS_DENIED: ErrorKind = ErrorKind {
        code: "AccessDenied",
        status: 403,
        sender: true,
    };
    /// `Action` names no operation of the service.
    pub const INVALID_ACTION: ErrorKind = ErrorKind {
        code: "InvalidAction",
        status: 400,
        sender: true,
    };
    /// The request carries no `Action`.
    pub const MISSING_ACTION: ErrorKind = ErrorKind {
        code: "MissingAction",
        status: 400,
        sender: true,
    };
    /// A parameter value is malformed (bad percent-encoding, repeated key).
    pub const MALFORMED_QUERY_STRING: ErrorKind = ErrorKind {
        code: "MalformedQueryString",
        status: 400,
        sender: true,
    };
    /// An awsJson body is not a JSON object, or a member is given twice.
    pub const SERIALIZATION: ErrorKind = ErrorKind {
        code: "SerializationException",
        status: 400,
        sender: true,
    };
    /// The operation exists in the model but oxiam does not implement it yet.
    pub const NOT_IMPLEMENTED: ErrorKind = ErrorKind {
        code: "NotImplemented",
        status: 501,
        sender: false,
    };
    /// Something failed inside oxiam.
    pub const INTERNAL_FAILURE: ErrorKind = ErrorKind {
        code: "InternalFailure",
        status: 500,
        sender: false,
    };
}

/// An error answer: which error, and the message the caller reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The error's code, status and fault side.
    pub kind: ErrorKind,
    /// The human-readable `<Message>`.
    pub message: String,
    /// For a server fault, what went wrong inside: logged once with the request's record,
    /// never sent to the client.
    pub cause: Option<Arc<str>>,
    /// The `Reason` some awsJson errors carry beside their message (Organizations'
    /// `ConstraintViolationException`, `InvalidInputException`, …): a value of the model's
    /// enum for that error.
    pub reason: Option<&'static str>,
}

impl ServiceError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            cause: None,
            reason: None,
        }
    }

    /// The same error, with the `Reason` an awsJson error carries.
    #[must_use]
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The same error, remembering what caused it (for the server's log only).
    #[must_use]
    pub fn with_cause(mut self, cause: &dyn fmt::Display) -> Self {
        self.cause = Some(cause.to_string().into());
        self
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code, self.message)
    }
}

impl std::error::Error for ServiceError {}

impl From<validate::ValidationError> for ServiceError {
    fn from(e: validate::ValidationError) -> Self {
        Self::new(common_errors::VALIDATION_ERROR, e.message)
    }
}

/// The success envelope: `<{Op}Response xmlns><{Op}Result>…</{Op}Result><ResponseMetadata>…`.
///
/// The Rust SDK needs `{Op}Result` as the first child; botocore needs it present whenever
/// the model has an output, even if empty. Output-less operations get only the metadata,
/// never an empty body (botocore cannot parse one).
pub fn encode_response(
    namespace: &str,
    operation: &str,
    has_output: bool,
    request_id: &str,
    write_result: impl FnOnce(&mut xml::XmlWriter),
) -> String {
    let mut out = xml::XmlWriter::new();
    let response = format!("{operation}Response");
    out.start_with_namespace(&response, namespace);
    if has_output {
        let result = format!("{operation}Result");
        out.start(&result);
        write_result(&mut out);
        out.end(&result);
    }
    out.start("ResponseMetadata");
    out.scalar("RequestId", request_id);
    out.end("ResponseMetadata");
    out.end(&response);
    out.finish()
}

/// An awsJson error body: `{"__type":"Code","Message":"…"}`, with `Reason` when the error
/// carries one. botocore and the Rust SDK read the code from `__type`.
pub fn encode_json_error(error: &ServiceError) -> String {
    let mut out = json::JsonWriter::default();
    out.begin_object();
    out.key("__type");
    out.string(error.kind.code);
    out.key("Message");
    out.string(&error.message);
    if let Some(reason) = error.reason {
        out.key("Reason");
        out.string(reason);
    }
    out.end_object();
    out.finish()
}

/// A restJson1 error body: `{"message":"…"}`, with `reason` when the error carries one
/// (the code travels in the `x-amzn-ErrorType` header, where botocore and the Rust SDK
/// read it first).
pub fn encode_rest_json_error(error: &ServiceError) -> String {
    let mut out = json::JsonWriter::default();
    out.begin_object();
    out.key("message");
    out.string(&error.message);
    if let Some(reason) = error.reason {
        out.key("reason");
        out.string(reason);
    }
    out.end_object();
    out.finish()
}

/// The error envelope: `<ErrorResponse xmlns><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn encode_error(namespace: &str, error: &ServiceError, request_id: &str) -> String {
    let mut out = xml::XmlWriter::new();
    out.start_with_namespace("ErrorResponse", namespace);
    out.start("Error");
    out.scalar("Type", if error.kind.sender { "Sender" } else { "Receiver" });
    out.scalar("Code", error.kind.code);
    out.scalar("Message", error.message.as_str());
    out.end("Error");
    out.scalar("RequestId", request_id);
    out.end("ErrorResponse");
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    proptest::proptest! {
        /// The digit-by-digit text is what `format!` writes of `time`'s fields, over the whole
        /// range `time` reaches (years -9999 to 9999) and past it (written as the epoch).
        #[test]
        fn iso8601_writes_what_format_writes(secs in -400_000_000_000i64..400_000_000_000) {
            let dt = time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            proptest::prop_assert_eq!(Timestamp(secs).to_iso8601(), super::formatted(dt));
        }
    }

    #[test]
    fn iso8601_of_known_times() {
        assert_eq!(Timestamp(0).to_iso8601(), "1970-01-01T00:00:00Z");
        assert_eq!(Timestamp(1_561_987_215).to_iso8601(), "2019-07-01T13:20:15Z");
        assert_eq!(Timestamp(253_402_300_799).to_iso8601(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp(-62_167_219_200).to_iso8601(), "0000-01-01T00:00:00Z");
        assert_eq!(Timestamp(-62_167_219_201).to_iso8601(), "-001-12-31T23:59:59Z");
    }
}
