//! Reading the claim out of an `Authorization` header or `X-Amz-*` query parameters (D1).
//!
//! Rule order and message texts follow what AWS "coral" services answer (as recorded in
//! dynalite's AWS error-ordering notes and in scratchstack): key=value syntax, required parts,
//! date format, `host` signed, algorithm, credential shape. Skew and scope are checked later by
//! [`crate::check_claim`], because they need the server clock and configuration.

use std::borrow::Cow;

use crate::canonical::{PARAM_SECURITY_TOKEN, decode_hex_32, form_decode, normalize_signed_headers, query_pairs};
use crate::date::{format_basic, parse_basic, parse_http_date};
use crate::{AuthError, Claim, SignedRequest};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const MAX_EXPIRES: u64 = 604_800;

/// First value of a header, looked up case-insensitively.
pub(crate) fn header<'r>(req: &SignedRequest<'r>, name: &str) -> Option<&'r [u8]> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// A header value as text, trimmed. Non-UTF-8 bytes become U+FFFD: such values can only fail
/// later checks, and lossy text keeps messages printable.
fn header_text<'r>(req: &SignedRequest<'r>, name: &str) -> Option<Cow<'r, str>> {
    header(req, name).map(|v| lossy_text(v.trim_ascii()))
}

/// Bytes as text, non-UTF-8 bytes as U+FFFD. The same as `String::from_utf8_lossy`, but text
/// that is UTF-8 (every signed request's) is checked by `str::from_utf8`, several times
/// faster than the lossy decoder's walk.
fn lossy_text(bytes: &[u8]) -> Cow<'_, str> {
    std::str::from_utf8(bytes).map_or_else(|_| String::from_utf8_lossy(bytes), Cow::Borrowed)
}

/// The percent-decoded query parameters, in order.
fn decoded_query(raw_query: &str) -> Vec<(String, String)> {
    query_pairs(raw_query)
        .map(|(n, v)| {
            (
                String::from_utf8_lossy(&form_decode(n)).into_owned(),
                String::from_utf8_lossy(&form_decode(v)).into_owned(),
            )
        })
        .collect()
}

fn query_param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn bad_date(got: &str) -> AuthError {
    AuthError::incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// The credential's parts. Like the Java `String.split` AWS uses, trailing empty elements are
/// ignored, so `AKID/d/r/s/aws4_request/` is accepted.
fn split_credential(credential: &str) -> Result<[&str; 5], AuthError> {
    let wrong = || {
        AuthError::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        ))
    };
    // Every request's credential: split in place, into no vector.
    let mut parts = credential.trim_end_matches('/').split('/');
    let mut five = [""; 5];
    for part in &mut five {
        *part = parts.next().ok_or_else(wrong)?;
    }
    match parts.next() {
        Some(_) => Err(wrong()),
        None => Ok(five),
    }
}

/// The `host` header must be signed (D1 step 5); HTTP/2 clients may sign `:authority`.
fn check_host_signed(signed_headers: &[String]) -> Result<(), AuthError> {
    if signed_headers.iter().any(|h| h == "host" || h == ":authority") {
        Ok(())
    } else {
        Err(AuthError::mismatch(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ))
    }
}

/// What both auth styles share once their raw fields are extracted.
struct RawClaim<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
    amz_date: String,
    timestamp: i64,
    security_token: Option<String>,
    expires: Option<u64>,
    presigned: bool,
}

/// The checks both styles run last, in AWS order: `host` signed, algorithm, credential shape.
/// `algorithm_error` is what a foreign algorithm yields (it differs between the styles).
fn finish(raw: RawClaim<'_>, algorithm: &str, algorithm_error: impl FnOnce() -> AuthError) -> Result<Claim, AuthError> {
    let signed_headers: Vec<&str> = raw.signed_headers.split(';').collect();
    let signed_headers = normalize_signed_headers(&signed_headers);
    check_host_signed(&signed_headers)?;
    if algorithm != ALGORITHM {
        return Err(algorithm_error());
    }
    let [access_key_id, date, region, service, terminator] = split_credential(raw.credential)?;
    Ok(Claim {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        amz_date: raw.amz_date,
        timestamp: raw.timestamp,
        security_token: raw.security_token,
        presigned: raw.presigned,
        terminator: terminator.to_owned(),
        signed_headers,
        signature: decode_hex_32(raw.signature),
        expires: raw.expires,
    })
}

/// D1 step 2: pick the auth style.
pub(crate) fn parse(req: &SignedRequest<'_>) -> Result<Claim, AuthError> {
    let query = decoded_query(req.raw_query);
    let authorization = header_text(req, "authorization").filter(|h| !h.is_empty());
    let query_algorithm = query_param(&query, "X-Amz-Algorithm");
    match (authorization, query_algorithm) {
        (Some(_), Some(_)) => Err(AuthError::mismatch(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (None, None) => Err(AuthError::missing_authentication_token()),
        (Some(authorization), None) => parse_header_auth(req, &authorization),
        (None, Some(_)) => parse_query_auth(&query),
    }
}

/// D1 step 3: `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
fn parse_header_auth(req: &SignedRequest<'_>, authorization: &str) -> Result<Claim, AuthError> {
    // Something that is not SigV4 at all (Basic, Bearer, SigV2 "AWS AKID:sig") counts as no
    // AWS4 authentication (MissingAuthenticationToken), like AWS does.
    if !authorization.starts_with("AWS4-") {
        return Err(AuthError::missing_authentication_token());
    }
    let (algorithm, rest) = authorization
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((authorization, ""));

    // AWS splits on commas *and* whitespace, so `Credential= AKID…` yields the token `AKID…`
    // without an equal sign (E11). The first such token is the error.
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for token in rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
    {
        let Some((key, value)) = token.split_once('=') else {
            return Err(AuthError::incomplete(format!(
                "'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{authorization}'."
            )));
        };
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        slot.get_or_insert(value);
    }

    // X-Amz-Date always overrides Date (D1 step 6).
    let date = header_text(req, "x-amz-date")
        .filter(|v| !v.is_empty())
        .map(|v| (v, true))
        .or_else(|| header_text(req, "date").filter(|v| !v.is_empty()).map(|v| (v, false)));

    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if date.is_none() {
        missing.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(date), true) =
        (credential, signed_headers, signature, date, missing.is_empty())
    else {
        return Err(AuthError::incomplete(format!("{missing}Authorization={authorization}")));
    };

    let (amz_date, timestamp) = match date {
        (v, true) => {
            let t = parse_basic(&v).ok_or_else(|| bad_date(&v))?;
            (v.into_owned(), t)
        }
        (v, false) => {
            // The string to sign wants basic format even when the client sent an HTTP date.
            let t = parse_http_date(&v).ok_or_else(|| bad_date(&v))?;
            (format_basic(t), t)
        }
    };

    let raw = RawClaim {
        credential,
        signed_headers,
        signature,
        amz_date,
        timestamp,
        security_token: header_text(req, "x-amz-security-token").map(Cow::into_owned),
        expires: None,
        presigned: false,
    };
    // SigV4a (`AWS4-ECDSA-P256-SHA256`) and anything else is not implemented (D1 step 3).
    finish(raw, algorithm, || {
        AuthError::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
        ))
    })
}

/// D1 step 4 and D5: presigned `X-Amz-*` query parameters (already percent-decoded).
fn parse_query_auth(query: &[(String, String)]) -> Result<Claim, AuthError> {
    let get = |name| query_param(query, name).filter(|v| !v.is_empty());
    let mut missing = String::new();
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ] {
        if get(name).is_none() {
            missing.push_str(&format!("AWS query-string parameters must include '{name}'. "));
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) = (
        get("X-Amz-Algorithm"),
        get("X-Amz-Credential"),
        get("X-Amz-Signature"),
        get("X-Amz-SignedHeaders"),
        get("X-Amz-Date"),
    ) else {
        return Err(AuthError::incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    };

    let timestamp = parse_basic(date).ok_or_else(|| bad_date(date))?;

    // STS honours only the 15-minute window (D4), so X-Amz-Expires may be absent; when present
    // it must be sane, and it can only shorten the window.
    let expires = match query_param(query, "X-Amz-Expires") {
        None => None,
        Some(v) => Some(parse_expires(v)?),
    };

    let raw = RawClaim {
        credential,
        signed_headers,
        signature,
        amz_date: date.to_owned(),
        timestamp,
        security_token: query_param(query, PARAM_SECURITY_TOKEN).map(str::to_owned),
        expires,
        presigned: true,
    };
    // D5: a foreign query algorithm means "no SigV4 authentication here".
    finish(raw, algorithm, AuthError::missing_authentication_token)
}

/// D4: `X-Amz-Expires` must be an integer number of seconds in 1..=604800.
fn parse_expires(value: &str) -> Result<u64, AuthError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::incomplete(format!(
            "X-Amz-Expires should be a number, got '{value}'."
        )));
    }
    match value.parse::<u64>() {
        Ok(0) => Err(AuthError::incomplete("X-Amz-Expires must be positive.")),
        Ok(n) if n <= MAX_EXPIRES => Ok(n),
        _ => Err(AuthError::incomplete(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )),
    }
}

/// The credential scope a request claims (`AKID/DATE/REGION/SERVICE/aws4_request`), read
/// from the `Authorization` header or a presigned `X-Amz-Credential`, before anything is
/// verified: it says where a request goes and how to answer it, and is checked again by
/// [`parse`] and [`crate::verify`]. `None` when the request names no SigV4 scope (unsigned,
/// SigV2, or malformed).
pub fn credential_scope(authorization: Option<&[u8]>, raw_query: &str) -> Option<crate::Scope> {
    let from_header = authorization
        .map(|v| lossy_text(v.trim_ascii()))
        .filter(|v| v.starts_with("AWS4-"))
        .and_then(|v| {
            v.split(|c: char| c == ',' || c.is_ascii_whitespace())
                .find_map(|token| token.strip_prefix("Credential="))
                .map(str::to_owned)
        });
    let credential = from_header.or_else(|| {
        let query = decoded_query(raw_query);
        query_param(&query, "X-Amz-Credential").map(str::to_owned)
    })?;
    let [access_key_id, date, region, service, _terminator] = split_credential(&credential).ok()?;
    Some(crate::Scope {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

#[cfg(test)]
mod scope_tests {
    use super::credential_scope;

    #[test]
    fn scope_from_header_and_query() {
        let header =
            b"AWS4-HMAC-SHA256 Credential=AKIA/20250101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=00";
        let scope = credential_scope(Some(header), "").unwrap();
        assert_eq!(
            (
                scope.access_key_id.as_str(),
                scope.date.as_str(),
                scope.region.as_str(),
                scope.service.as_str()
            ),
            ("AKIA", "20250101", "eu-west-1", "s3")
        );
        let query =
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20250101%2Fus-west-2%2Fsts%2Faws4_request";
        let scope = credential_scope(None, query).unwrap();
        assert_eq!((scope.region.as_str(), scope.service.as_str()), ("us-west-2", "sts"));
        assert!(credential_scope(None, "a=b").is_none());
        assert!(
            credential_scope(Some(b"AWS AKIA:sig"), "").is_none(),
            "SigV2 names no scope"
        );
        assert!(credential_scope(Some(b"AWS4-HMAC-SHA256 Credential=AKIA/x/y"), "").is_none());
        // The header wins over the query, as in `parse`.
        let scope = credential_scope(Some(header), query).unwrap();
        assert_eq!(scope.service, "s3");
    }
}

#[cfg(test)]
mod credential_tests {
    use super::split_credential;

    #[test]
    fn a_credential_has_exactly_five_elements_after_trailing_slashes() {
        assert_eq!(split_credential("K/d/r/s/t").ok(), Some(["K", "d", "r", "s", "t"]));
        assert_eq!(split_credential("K/d/r/s/t//").ok(), Some(["K", "d", "r", "s", "t"]));
        // Empty elements inside count, as in Java's `String.split`.
        assert_eq!(split_credential("K//r/s/t").ok(), Some(["K", "", "r", "s", "t"]));
        for wrong in ["", "/", "K/d/r/s", "K/d/r/s/t/u", "K/d/r/s/t/u/", "/K/d/r/s/t"] {
            let error = split_credential(wrong).expect_err(wrong);
            assert!(error.message.contains("exactly 5 slash-delimited elements"), "{wrong}");
            assert!(error.message.ends_with(&format!("got '{wrong}'")), "{wrong}");
        }
    }
}

#[cfg(test)]
mod text_tests {
    proptest::proptest! {
        /// The fast path changes nothing: any bytes read as `from_utf8_lossy` reads them (a
        /// non-UTF-8 header, sent by an attacker, still becomes the same U+FFFD text).
        #[test]
        fn lossy_text_reads_as_from_utf8_lossy(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), text in ".{0,32}") {
            proptest::prop_assert_eq!(super::lossy_text(&bytes), String::from_utf8_lossy(&bytes));
            proptest::prop_assert_eq!(super::lossy_text(text.as_bytes()), String::from_utf8_lossy(text.as_bytes()));
        }
    }
}
