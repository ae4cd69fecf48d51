//! Authentication errors, with the codes, statuses and texts IAM/STS use (wire-protocols.md D7).

use std::fmt;

/// The awsQuery error codes an authentication failure maps to (D7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthErrorKind {
    /// No `Authorization` header and no `X-Amz-Algorithm` query parameter.
    MissingAuthenticationToken,
    /// Malformed `Authorization` header / query parameters, bad date, bad scope shape.
    IncompleteSignature,
    /// Bad signature, clock skew, wrong scope, unsigned host, both auth styles present.
    SignatureDoesNotMatch,
    /// Unknown access key, or a missing/invalid session token (raised by the caller).
    InvalidClientTokenId,
    /// Expired session token (raised by the caller).
    ExpiredToken,
}

impl AuthErrorKind {
    /// The awsQuery `<Code>` value.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationToken",
            Self::IncompleteSignature => "IncompleteSignature",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::ExpiredToken => "ExpiredToken",
        }
    }

    /// The HTTP status IAM/STS answer with (D7: only `IncompleteSignature` is a 400).
    pub fn http_status(self) -> u16 {
        match self {
            Self::IncompleteSignature => 400,
            Self::MissingAuthenticationToken
            | Self::SignatureDoesNotMatch
            | Self::InvalidClientTokenId
            | Self::ExpiredToken => 403,
        }
    }
}

/// An authentication failure: a code plus the message to put in the error envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub kind: AuthErrorKind,
    pub message: String,
}

/// D7 text for a signature that does not verify.
pub(crate) const MSG_SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. \
     Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

impl AuthError {
    pub fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// `MissingAuthenticationToken` "Request is missing Authentication Token" (D7).
    pub fn missing_authentication_token() -> Self {
        Self::new(
            AuthErrorKind::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        )
    }

    /// `SignatureDoesNotMatch` with the standard D7 text.
    pub fn signature_does_not_match() -> Self {
        Self::new(AuthErrorKind::SignatureDoesNotMatch, MSG_SIGNATURE_MISMATCH)
    }

    /// `InvalidClientTokenId` for an unknown access key or a bad session token (D6).
    /// Text as captured from STS (no trailing period).
    pub fn invalid_client_token_id() -> Self {
        Self::new(
            AuthErrorKind::InvalidClientTokenId,
            "The security token included in the request is invalid",
        )
    }

    /// `ExpiredToken` for an expired session token (D6).
    pub fn expired_token() -> Self {
        Self::new(
            AuthErrorKind::ExpiredToken,
            "The security token included in the request is expired",
        )
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::IncompleteSignature, message)
    }

    pub(crate) fn mismatch(message: impl Into<String>) -> Self {
        Self::new(AuthErrorKind::SignatureDoesNotMatch, message)
    }

    /// Shorthand for `self.kind.code()`.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Shorthand for `self.kind.http_status()`.
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for AuthError {}
