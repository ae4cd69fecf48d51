//! Server-side verification of AWS Signature Version 4 for IAM/STS Query requests: header
//! auth and presigned (query) auth. Pure and synchronous: no I/O, no clock, no key store.
//!
//! The rules, and the section numbers cited in comments (D1–D8, E), are those of
//! `wire-protocols.md` ("awsQuery + SigV4 — server-side implementer's digest").
//!
//! Typical use (D1):
//! 1. buffer the raw body, then [`parse`] the request into a [`Claim`] (no secret needed);
//! 2. optionally [`check_claim`] (skew and scope) before touching the key store, which is the
//!    order AWS reports errors in;
//! 3. look up `claim.access_key_id` (unknown → [`AuthError::invalid_client_token_id`]) and
//!    validate `claim.security_token` for temporary keys (D6);
//! 4. [`verify`] with the secret and the server clock.
//!
//! Note for HTTP/2: there may be no `host` header; pass the `:authority` as a `host` header.

mod canonical;
mod date;
mod error;
mod parse;
pub mod v2;

use std::fmt;

use subtle::ConstantTimeEq;

pub use canonical::{
    CanonicalOptions, PathEncoding, canonical_query, canonical_request, canonical_uri, decode_hex_32, hex_lower,
    sha256_hex, signature, signing_key, string_to_sign,
};
pub use error::{AuthError, AuthErrorKind};

pub use parse::credential_scope;

/// The credential scope of a SigV4 request, as claimed (see [`credential_scope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The access key id.
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The region signed for.
    pub region: String,
    /// The signing name: `iam`, `sts`, `s3`, …
    pub service: String,
}

/// Unix seconds of an `X-Amz-Date` value (ISO 8601 basic format, `20150830T123600Z`).
pub fn parse_amz_date(value: &str) -> Option<i64> {
    date::parse_basic(value)
}

/// The `X-Amz-Date` value of a time in Unix seconds (`20150830T123600Z`).
pub fn format_amz_date(t: i64) -> String {
    date::format_basic(t)
}

/// Skew IAM/STS tolerate in either direction, and the cap on presigned validity (D4).
const MAX_SKEW_SECS: i64 = 15 * 60;
const TERMINATOR: &str = "aws4_request";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A request as received, before any body parsing.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `"POST"`, `"GET"`, … exactly as received.
    pub method: &'a str,
    /// The path exactly as on the wire (still percent-encoded as sent), e.g. `"/"`.
    pub raw_path: &'a str,
    /// The raw query string without `?`; may be `""`.
    pub raw_query: &'a str,
    /// Header (name, value) pairs in arrival order; names in any case.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The raw body bytes (de-chunked, still compressed: E5).
    pub body: &'a [u8],
}

/// What the `Authorization` header or the `X-Amz-*` query parameters claim. Produced by
/// [`parse`] without any secret; nothing in it is trusted until [`verify`] succeeds.
#[derive(Clone, PartialEq, Eq)]
pub struct Claim {
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    pub region: String,
    /// e.g. `"iam"`, `"sts"`, `"s3"`.
    pub service: String,
    /// The basic-format timestamp used in the string to sign (from `X-Amz-Date`, or converted
    /// from `Date`).
    pub amz_date: String,
    /// Unix seconds of `amz_date`.
    pub timestamp: i64,
    /// `X-Amz-Security-Token`: the header for header auth, the query parameter for query auth.
    pub security_token: Option<String>,
    /// True for query (presigned) auth.
    pub presigned: bool,
    terminator: String,
    /// Lower-cased, sorted, de-duplicated.
    signed_headers: Vec<String>,
    /// `None` when the provided signature is not 64 hex digits; such a claim never verifies.
    signature: Option<[u8; 32]>,
    expires: Option<u64>,
}

impl Claim {
    /// `YYYYMMDD/region/service/terminator`, as it goes into the string to sign.
    pub fn credential_scope(&self) -> String {
        // Every verification writes it: joined by hand, not through `format!`.
        [self.date.as_str(), &self.region, &self.service, &self.terminator].join("/")
    }

    /// The signed header names: lower-cased, sorted, de-duplicated.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// `X-Amz-Expires` of a presigned request, if it was given.
    pub fn expires(&self) -> Option<u64> {
        self.expires
    }
}

// Hand-written so that the session token never lands in logs.
impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("access_key_id", &self.access_key_id)
            .field("credential_scope", &self.credential_scope())
            .field("amz_date", &self.amz_date)
            .field("timestamp", &self.timestamp)
            .field("security_token", &self.security_token.as_ref().map(|_| "<redacted>"))
            .field("presigned", &self.presigned)
            .field("signed_headers", &self.signed_headers)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// Extracts the claim from a request (D1 steps 2–6 and the credential shape of step 8).
///
/// Errors: `MissingAuthenticationToken` (no SigV4 auth at all), `IncompleteSignature`
/// (malformed header or parameters, bad date, credential not 5 parts, unsupported header
/// algorithm such as SigV4a), `SignatureDoesNotMatch` (both auth styles present, `host` not
/// signed).
pub fn parse(req: &SignedRequest<'_>) -> Result<Claim, AuthError> {
    parse::parse(req)
}

/// Clock and scope checks (D1 steps 7–8), which need no secret. [`verify`] runs them too;
/// call this first if you want AWS's error order (skew/scope before unknown-key).
///
/// - ±15 min skew against `now_unix`; a presigned request is also dead once
///   `now > timestamp + min(X-Amz-Expires, 900)` (D4).
/// - Scope: date equal to the date of `amz_date`; any well-formed region (E1); service one of
///   `allowed_services`; terminator `aws4_request`. All scope failures are reported together,
///   as AWS does.
pub fn check_claim(claim: &Claim, now_unix: i64, allowed_services: &[&str]) -> Result<(), AuthError> {
    check_time(claim, now_unix)?;
    check_scope(claim, allowed_services)
}

fn check_time(claim: &Claim, now: i64) -> Result<(), AuthError> {
    let fmt = date::format_basic;
    // STS ignores X-Amz-Expires beyond the skew window (D4), so it can only shorten it.
    let window = match claim.expires {
        Some(e) if claim.presigned => i64::try_from(e).unwrap_or(i64::MAX).min(MAX_SKEW_SECS),
        _ => MAX_SKEW_SECS,
    };
    let earliest = now.saturating_sub(window);
    if claim.timestamp < earliest {
        let span = if window == MAX_SKEW_SECS {
            "15 min".to_owned()
        } else {
            format!("{window} sec")
        };
        return Err(AuthError::mismatch(format!(
            "Signature expired: {} is now earlier than {} ({} - {span}.)",
            claim.amz_date,
            fmt(earliest),
            fmt(now)
        )));
    }
    let latest = now.saturating_add(MAX_SKEW_SECS);
    if claim.timestamp > latest {
        return Err(AuthError::mismatch(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            claim.amz_date,
            fmt(latest),
            fmt(now)
        )));
    }
    Ok(())
}

/// The region a request signed with an empty one is taken to be for.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Region names look like `us-east-1`; custom endpoints use whatever the client is configured
/// with (E1), so accept any short run of ASCII letters, digits and `-`. An empty region is
/// accepted too, unlike AWS: clients written for S3-compatible stores (Ceph's, MinIO's) sign
/// with one; the request is then for [`DEFAULT_REGION`] (the signature is still checked
/// over the scope as sent).
fn is_well_formed_region(region: &str) -> bool {
    region.len() <= 64 && region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn check_scope(claim: &Claim, allowed_services: &[&str]) -> Result<(), AuthError> {
    let mut message = String::new();
    if !is_well_formed_region(&claim.region) {
        message.push_str(&format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            claim.region
        ));
    }
    if !allowed_services.contains(&claim.service.as_str()) {
        // AWS names the one service the endpoint serves; with several, name the first.
        let expected = allowed_services.first().copied().unwrap_or_default();
        message.push_str(&format!(
            "Credential should be scoped to correct service: '{expected}'. "
        ));
    }
    if claim.terminator != TERMINATOR {
        message.push_str(&format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'. ",
            claim.terminator
        ));
    }
    let http_date = claim.amz_date.get(..8).unwrap_or_default();
    if claim.date != http_date {
        message.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{http_date}', from '{}'.",
            claim.date, claim.amz_date
        ));
    }
    if message.is_empty() {
        Ok(())
    } else {
        Err(AuthError::mismatch(message))
    }
}

/// The PayloadHash line (D2): the body hash, or the `x-amz-content-sha256` value, which must
/// then match the body. `UNSIGNED-PAYLOAD` is S3-only; `STREAMING-*` (aws-chunked with
/// per-chunk signatures) is not implemented here and always rejected.
fn payload_hash(req: &SignedRequest<'_>, claim: &Claim) -> Result<String, AuthError> {
    let is_s3 = claim.service == "s3";
    let declared =
        parse::header(req, "x-amz-content-sha256").map(|v| String::from_utf8_lossy(v.trim_ascii()).into_owned());
    match declared {
        Some(v) if v == UNSIGNED_PAYLOAD || v.starts_with("STREAMING-") => {
            if is_s3 && v == UNSIGNED_PAYLOAD {
                Ok(v)
            } else {
                Err(AuthError::mismatch(format!(
                    "x-amz-content-sha256 '{v}' is not supported for service '{}'.",
                    claim.service
                )))
            }
        }
        Some(v) => {
            // Compare against our own hash; the client's spelling goes into the canonical
            // request, as clients put the header value there verbatim.
            if v.eq_ignore_ascii_case(&sha256_hex(req.body)) {
                Ok(v)
            } else {
                Err(AuthError::mismatch(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ))
            }
        }
        // D2: presigned S3 URLs sign UNSIGNED-PAYLOAD; everything else hashes the body.
        None if is_s3 && claim.presigned => Ok(UNSIGNED_PAYLOAD.to_owned()),
        None => Ok(sha256_hex(req.body)),
    }
}

/// The canonicalizations worth trying, most likely first. All of them bind the same request
/// bytes, so accepting any of them is no weaker than accepting the first.
fn candidates(req: &SignedRequest<'_>, claim: &Claim) -> Vec<CanonicalOptions> {
    let paths = if claim.service == "s3" {
        vec![PathEncoding::Single]
    } else {
        let normalized = PathEncoding::Double { normalize: true };
        let as_sent = PathEncoding::Double { normalize: false };
        // Clients that sign without path normalization (aws-sigv4
        // `UriPathNormalizationMode::Disabled`, the CRT suite's `*-unnormalized` vectors) sign
        // the exact wire path. Only worth a second try when normalization changed something.
        if canonical_uri(req.raw_path, normalized) == canonical_uri(req.raw_path, as_sent) {
            vec![normalized]
        } else {
            vec![normalized, as_sent]
        }
    };
    // D6: a token in the query may have been appended after signing; retry without it.
    let token_variants: &[bool] = if claim.presigned && claim.security_token.is_some() {
        &[false, true]
    } else {
        &[false]
    };
    paths
        .iter()
        .flat_map(|&path| {
            token_variants.iter().map(move |&omit_security_token| CanonicalOptions {
                path,
                presigned: claim.presigned,
                omit_security_token,
            })
        })
        .collect()
}

/// Verifies a parsed claim against the request with the caller's secret (D1 steps 7–10):
/// [`verify_with_signing_key`] with the signing key derived from `secret_access_key` for
/// the claim's date, region and service.
pub fn verify(
    req: &SignedRequest<'_>,
    claim: &Claim,
    secret_access_key: &str,
    now_unix: i64,
    allowed_services: &[&str],
) -> Result<(), AuthError> {
    let key = signing_key(secret_access_key, &claim.date, &claim.region, &claim.service);
    verify_with_signing_key(req, claim, &key, now_unix, allowed_services)
}

/// Verifies a parsed claim against the request with the signing key of the caller's secret
/// for the claim's scope (what [`signing_key`] derives from the secret, the claim's date,
/// region and service; a caller that keeps it saves the four HMACs per request).
///
/// Runs [`check_claim`], checks every signed header is present, checks the payload hash, then
/// recomputes the signature (D2, D3) and compares the 32 raw bytes in constant time. For query
/// auth carrying `X-Amz-Security-Token`, also tries the canonical query without the token (D6).
/// It does not judge the session token itself; that is the caller's job (D6).
pub fn verify_with_signing_key(
    req: &SignedRequest<'_>,
    claim: &Claim,
    signing_key: &[u8; 32],
    now_unix: i64,
    allowed_services: &[&str],
) -> Result<(), AuthError> {
    check_claim(claim, now_unix, allowed_services)?;
    // A client cannot have signed a header it did not send.
    let all_present = claim
        .signed_headers
        .iter()
        .all(|name| req.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
    if !all_present {
        return Err(AuthError::signature_does_not_match());
    }
    let payload = payload_hash(req, claim)?;
    let Some(provided) = claim.signature else {
        return Err(AuthError::signature_does_not_match());
    };
    let scope = claim.credential_scope();
    for options in candidates(req, claim) {
        let creq = canonical_request(req, &claim.signed_headers, &payload, options);
        let computed = signature(signing_key, &string_to_sign(&claim.amz_date, &scope, &creq));
        if bool::from(computed.ct_eq(&provided)) {
            return Ok(());
        }
    }
    Err(AuthError::signature_does_not_match())
}
