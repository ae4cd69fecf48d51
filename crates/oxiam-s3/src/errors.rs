//! S3's error answers, with the messages S3 itself writes.

use std::borrow::Cow;

use s3s::{S3Error, S3ErrorCode};

/// An error with `message`.
pub fn with_message(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> S3Error {
    S3Error::with_message(code, message)
}

/// 403 AccessDenied.
pub fn access_denied() -> S3Error {
    with_message(S3ErrorCode::AccessDenied, "Access Denied")
}

/// The key is unknown or inactive.
pub fn invalid_access_key_id() -> S3Error {
    with_message(
        S3ErrorCode::InvalidAccessKeyId,
        "The AWS Access Key Id you provided does not exist in our records.",
    )
}

/// A session token came with the request.
pub fn invalid_token() -> S3Error {
    with_message(
        S3ErrorCode::InvalidToken,
        "The provided token is malformed or otherwise invalid.",
    )
}

/// The bucket does not exist.
pub fn no_such_bucket() -> S3Error {
    with_message(S3ErrorCode::NoSuchBucket, "The specified bucket does not exist")
}

/// Something failed inside oxiam: logged here, answered as S3's InternalError.
pub fn internal(what: &str, error: &dyn std::fmt::Display) -> S3Error {
    tracing::error!(%error, "{what}");
    with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// Gives an error from the file store S3's message for its code when it has none.
pub fn with_aws_message(mut e: S3Error) -> S3Error {
    if e.message().is_none() {
        let message = match e.code() {
            S3ErrorCode::NoSuchKey => "The specified key does not exist.",
            S3ErrorCode::NoSuchBucket => "The specified bucket does not exist",
            S3ErrorCode::NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            }
            S3ErrorCode::InvalidPart => {
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            }
            S3ErrorCode::InvalidPartOrder => {
                "The list of parts was not in ascending order. The parts list must be specified in order by part number."
            }
            S3ErrorCode::PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            S3ErrorCode::InvalidRange => "The requested range is not satisfiable",
            S3ErrorCode::BadDigest => "The Content-MD5 you specified did not match what we received.",
            S3ErrorCode::InternalError => "We encountered an internal error. Please try again.",
            _ => return e,
        };
        e.set_message(message);
    }
    e
}
