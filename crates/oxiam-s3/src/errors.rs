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

/// The key (or the version asked for) does not exist.
pub fn no_such_key() -> S3Error {
    with_message(S3ErrorCode::NoSuchKey, "The specified key does not exist.")
}

/// The version id names no version of the key.
pub fn no_such_version() -> S3Error {
    with_message(S3ErrorCode::NoSuchVersion, "The specified version does not exist.")
}

/// A request parameter holding NUL.
pub fn nul_in_request() -> S3Error {
    let mut e = with_message(
        S3ErrorCode::InvalidArgument,
        "Request parameters may not contain the NUL character.",
    );
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// S3's 503 that clients retry: here, for a read whose authorized version went between
/// its authorization and its read (the retry is authorized afresh).
pub fn slow_down() -> S3Error {
    let mut e = with_message(S3ErrorCode::SlowDown, "Please reduce your request rate.");
    e.set_status_code(http::StatusCode::SERVICE_UNAVAILABLE);
    e
}

/// The multipart upload is not in progress (never started, completed or aborted).
pub fn no_such_upload() -> S3Error {
    with_message(
        S3ErrorCode::NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
}

/// A condition of the request (If-Match, If-None-Match, …) did not hold.
pub fn precondition_failed() -> S3Error {
    with_message(
        S3ErrorCode::PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold",
    )
}

/// An XML body S3 would not accept.
pub fn malformed_xml() -> S3Error {
    with_message(
        S3ErrorCode::MalformedXML,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// What S3 answers for a delete marker: as a missing key when read as the current
/// version, MethodNotAllowed (405) when asked for by its version id; both say
/// `x-amz-delete-marker: true` (and the marker's version id).
pub fn delete_marker(marker: &oxiam_store::ObjectRow, by_version: bool) -> S3Error {
    let mut e = if by_version {
        let mut e = with_message(
            S3ErrorCode::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        );
        e.set_status_code(http::StatusCode::METHOD_NOT_ALLOWED);
        e
    } else {
        no_such_key()
    };
    let mut headers = http::HeaderMap::new();
    headers.insert("x-amz-delete-marker", http::HeaderValue::from_static("true"));
    if let Ok(version) = http::HeaderValue::from_str(&marker.version_id) {
        headers.insert("x-amz-version-id", version);
    }
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(marker.modified_ms).unwrap_or(0));
    let mut date = Vec::new();
    if s3s::dto::Timestamp::from(at)
        .format(s3s::dto::TimestampFormat::HttpDate, &mut date)
        .is_ok()
        && let Ok(date) = http::HeaderValue::from_bytes(&date)
    {
        headers.insert(http::header::LAST_MODIFIED, date);
    }
    e.set_headers(headers);
    e
}

/// 304 for a read whose If-None-Match or If-Modified-Since held: no body, the object's
/// ETag and Last-Modified in headers.
pub fn not_modified(row: &oxiam_store::ObjectRow) -> S3Error {
    let mut e = S3Error::new(S3ErrorCode::NotModified);
    e.set_status_code(http::StatusCode::NOT_MODIFIED);
    let mut headers = http::HeaderMap::new();
    if let Ok(etag) = http::HeaderValue::from_str(&format!("\"{}\"", row.etag)) {
        headers.insert(http::header::ETAG, etag);
    }
    e.set_headers(headers);
    e
}

/// A request body that failed while it was read: one that is not what its signed
/// `x-amz-content-sha256` says is S3's XAmzContentSHA256Mismatch; anything else (the
/// client stopped short, a chunk's signature was wrong) is the client's error too.
pub fn body_failed(e: &(dyn std::error::Error + 'static)) -> S3Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        let text = err.to_string();
        if text.contains("Sha256Mismatch") {
            let mut mismatch = with_message(
                S3ErrorCode::Custom("XAmzContentSHA256Mismatch".into()),
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            );
            mismatch.set_status_code(http::StatusCode::BAD_REQUEST);
            return mismatch;
        }
        if text.contains("SignatureDoesNotMatch") || text.contains("signature") {
            return with_message(
                S3ErrorCode::SignatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            );
        }
        source = err.source();
    }
    tracing::debug!(error = %e, "an S3 request body failed");
    let mut incomplete = with_message(
        S3ErrorCode::IncompleteBody,
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    );
    incomplete.set_status_code(http::StatusCode::BAD_REQUEST);
    incomplete
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

/// An `x-amz-tagging` header that repeats a key (regardless of case: condition keys are
/// matched regardless of case, so a policy would see only one of `team` and `Team`), in
/// S3's words for a header.
pub fn duplicate_tag_keys_in_header() -> S3Error {
    let mut e = with_message(
        S3ErrorCode::InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
    );
    e.set_status_code(http::StatusCode::BAD_REQUEST);
    e
}

/// A tag set that repeats a key, in S3's words for a body.
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
