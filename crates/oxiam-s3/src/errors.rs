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
    server_fault()
}

/// S3's 500, for a fault already logged where it happened.
pub fn server_fault() -> S3Error {
    with_message(
        S3ErrorCode::InternalError,
        "We encountered an internal error. Please try again.",
    )
}

/// The credentials of a session that has ended.
pub fn expired_token() -> S3Error {
    let mut e = with_message(S3ErrorCode::ExpiredToken, "The provided token has expired.");
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// A signature version oxiam does not accept (SigV2: it carries no credential scope and,
/// as s3s checks it, no limit on the age of a signed Date, so a captured request could be
/// replayed forever). S3's own answer in the regions that accept only SigV4.
pub fn sigv2_refused() -> S3Error {
    let mut e = with_message(
        S3ErrorCode::InvalidRequest,
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    );
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// An `x-amz-*` header the signature does not cover: whoever holds a signed request (a
/// presigned URL) could otherwise add one, and with it a condition key's value.
pub fn headers_not_signed(names: &[String]) -> S3Error {
    with_message(
        S3ErrorCode::AccessDenied,
        format!(
            "There were headers present in the request which were not signed: {}",
            names.join(", ")
        ),
    )
}

/// Tags that repeat a key (regardless of case: condition keys are matched regardless of
/// case, so `team` and `Team` would be one key with two values).
pub fn duplicate_tag_keys() -> S3Error {
    with_message(
        S3ErrorCode::InvalidTag,
        "Cannot provide multiple Tags with the same key",
    )
}

/// A presigned URL valid for longer than S3 allows.
pub fn presigned_too_long() -> S3Error {
    let mut e = with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
    );
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// An XML request body larger than oxiam reads.
pub fn body_too_large() -> S3Error {
    let mut e = with_message(S3ErrorCode::MaxMessageLengthExceeded, "Your request was too big.");
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// A body of unknown length where S3 needs one.
pub fn missing_content_length() -> S3Error {
    let mut e = with_message(
        S3ErrorCode::MissingContentLength,
        "You must provide the Content-Length HTTP header.",
    );
    e.set_status_code(http::StatusCode::LENGTH_REQUIRED);
    e
}

/// Whether an error came from a body whose SHA-256 is not the signed
/// `x-amz-content-sha256` (s3s notices while the object store reads the body).
fn is_content_sha256_mismatch(e: &S3Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.source().map(|s| s as _);
    while let Some(err) = source {
        if err.to_string().contains("Sha256Mismatch") {
            return true;
        }
        source = err.source();
    }
    false
}

/// Gives an error from the file store S3's message for its code when it has none, and
/// S3's own error where the store saw a body that does not match its signed hash.
pub fn with_aws_message(mut e: S3Error) -> S3Error {
    if is_content_sha256_mismatch(&e) {
        let mut mismatch = with_message(
            S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        );
        mismatch.set_status_code(http::StatusCode::BAD_REQUEST);
        return mismatch;
    }
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

/// A SigV2 signature that is not the key's for this request.
pub fn signature_does_not_match() -> S3Error {
    with_message(
        S3ErrorCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

/// A SigV2 request refused before its signature is checked, with S3's codes and texts.
pub fn sigv2(refusal: &oxiam_sigv4::v2::V2Refusal, now: i64) -> S3Error {
    use oxiam_sigv4::v2::V2Refusal;
    match refusal {
        V2Refusal::Malformed(why) => with_message(S3ErrorCode::InvalidArgument, *why),
        V2Refusal::MissingDate => with_message(
            S3ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        ),
        V2Refusal::Skewed(request_time) => with_message(
            S3ErrorCode::RequestTimeTooSkewed,
            format!(
                "The difference between the request time and the current time is too large. RequestTime: {request_time}, ServerTime: {}, MaxAllowedSkewMilliseconds: {}",
                oxiam_sigv4::format_amz_date(now),
                oxiam_sigv4::v2::MAX_SKEW_SECONDS * 1000
            ),
        ),
        V2Refusal::Expired(expires) => with_message(
            S3ErrorCode::AccessDenied,
            format!(
                "Request has expired. Expires: {}, ServerTime: {}",
                oxiam_sigv4::format_amz_date(*expires),
                oxiam_sigv4::format_amz_date(now)
            ),
        ),
    }
}
