//! Signature Version 2, as S3 still accepts it from old clients: `Authorization: AWS
//! AKID:SIGNATURE` or a presigned URL with `AWSAccessKeyId`, `Expires` and `Signature`
//! (S3 User Guide, "Signing and authenticating REST requests").
//!
//! oxiam refuses SigV2 unless the operator turns it on (`--allow-sigv2`), and then holds
//! it to AWS's rules: the `Date` (or `x-amz-date`) within 15 minutes of the server's
//! clock, a presigned URL only until its `Expires`, and the signature compared in
//! constant time. Pure: the caller looks up the secret and reads the clock.

use base64::Engine as _;
use hmac013::{Hmac, KeyInit as _, Mac as _};
use subtle::ConstantTimeEq as _;

use crate::SignedRequest;

/// How far a SigV2 request's date may be from the server's clock (S3: 15 minutes).
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The query parameters that are part of the signed resource: the S3 guide's list, the
/// `response-*` overrides, and the sub-resources newer than the guide that clients sign
/// (botocore's `HmacV1Auth`, and s3s, which compares the signature after oxiam). Every
/// other parameter (`prefix`, `max-keys`, …) is not signed.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Where a SigV2 request carries its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V2Form {
    /// `Authorization: AWS AKID:SIGNATURE`, dated by `Date` or `x-amz-date`.
    Header,
    /// A presigned URL, good until `Expires` (Unix seconds).
    Presigned {
        /// The `Expires` parameter.
        expires: i64,
    },
}

/// What a SigV2 request claims; nothing in it is trusted until [`V2Claim::verify`].
#[derive(Clone, PartialEq, Eq)]
pub struct V2Claim {
    /// The access key id it names.
    pub access_key_id: String,
    /// The base64 signature as sent.
    signature: String,
    /// Header or presigned.
    pub form: V2Form,
}

impl std::fmt::Debug for V2Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signature is a credential for as long as the request is valid.
        f.debug_struct("V2Claim")
            .field("access_key_id", &self.access_key_id)
            .field("form", &self.form)
            .finish_non_exhaustive()
    }
}

/// Why a SigV2 request is refused before or instead of its signature being checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Refusal {
    /// The signature's fields are malformed (S3: InvalidArgument / AccessDenied).
    Malformed(&'static str),
    /// Neither `Date` nor `x-amz-date` holds a date (S3: AccessDenied, "AWS authentication
    /// requires a valid Date or x-amz-date header").
    MissingDate,
    /// The request's date is more than 15 minutes from the server's clock (S3:
    /// RequestTimeTooSkewed); the date as the request gave it.
    Skewed(String),
    /// The presigned URL's `Expires` has passed (S3: AccessDenied, "Request has expired").
    Expired(i64),
}

/// The SigV2 claim of a request; `None` if it claims no SigV2 signature.
///
/// A request claims SigV2 as S3 (and s3s, which serves oxiam's S3) reads it: a `Signature`
/// query parameter makes it a presigned URL, whatever its headers say; otherwise an
/// `Authorization` header starting `AWS `. Anything that claims it and is not well formed
/// (a missing `AWSAccessKeyId` or `Expires`, a parameter given twice, a second or
/// undecodable `Authorization` header) is refused here, never passed on.
pub fn parse_v2(req: &SignedRequest<'_>) -> Option<Result<V2Claim, V2Refusal>> {
    let authorizations: Vec<&[u8]> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| *v)
        .collect();
    let pairs: Vec<(String, String)> = query_pairs(req.raw_query).collect();
    let param = |name: &str| -> Result<Option<&str>, V2Refusal> {
        let mut found = pairs.iter().filter(|(n, _)| n == name);
        match (found.next(), found.next()) {
            (Some(_), Some(_)) => Err(V2Refusal::Malformed(
                "a query parameter of the signature is given twice",
            )),
            (first, _) => Ok(first.map(|(_, v)| v.as_str())),
        }
    };
    let presigned = pairs.iter().any(|(n, _)| n == "Signature");
    let v2_header = authorizations
        .iter()
        .any(|v| v.strip_prefix(b"AWS ".as_slice()).is_some());
    if !presigned && !v2_header {
        return None;
    }
    Some((|| {
        if authorizations.len() > 1 || authorizations.iter().any(|v| std::str::from_utf8(v).is_err()) {
            return Err(V2Refusal::Malformed(
                "the Authorization header is given twice or is not text",
            ));
        }
        if presigned {
            let (Some(access_key_id), Some(signature), Some(expires)) =
                (param("AWSAccessKeyId")?, param("Signature")?, param("Expires")?)
            else {
                return Err(V2Refusal::Malformed(
                    "a presigned URL needs AWSAccessKeyId, Expires and Signature",
                ));
            };
            let expires = expires
                .parse::<i64>()
                .map_err(|_| V2Refusal::Malformed("Invalid date (should be seconds since epoch)"))?;
            return Ok(V2Claim {
                access_key_id: access_key_id.to_owned(),
                signature: signature.to_owned(),
                form: V2Form::Presigned { expires },
            });
        }
        let value = header(req, "authorization").unwrap_or_default();
        let rest = value.strip_prefix("AWS ").unwrap_or_default();
        match rest.split_once(':') {
            Some((access_key_id, signature)) if !access_key_id.is_empty() && !signature.is_empty() => Ok(V2Claim {
                access_key_id: access_key_id.to_owned(),
                signature: signature.to_owned(),
                form: V2Form::Header,
            }),
            _ => Err(V2Refusal::Malformed("Authorization header is invalid")),
        }
    })())
}

impl V2Claim {
    /// Whether the request is still within its time: for a header signature, its `Date`
    /// (or `x-amz-date`) within [`MAX_SKEW_SECONDS`] of `now_unix`; for a presigned URL,
    /// `now_unix` not past `Expires`.
    pub fn check_time(&self, req: &SignedRequest<'_>, now_unix: i64) -> Result<(), V2Refusal> {
        match self.form {
            V2Form::Presigned { expires } if now_unix > expires => Err(V2Refusal::Expired(expires)),
            V2Form::Presigned { .. } => Ok(()),
            V2Form::Header => {
                let given = header(req, "x-amz-date").or_else(|| header(req, "date"));
                let date = given.and_then(parse_date).ok_or(V2Refusal::MissingDate)?;
                if (now_unix - date).abs() > MAX_SKEW_SECONDS {
                    return Err(V2Refusal::Skewed(given.unwrap_or_default().to_owned()));
                }
                Ok(())
            }
        }
    }

    /// Whether the signature is the one `secret_access_key` makes for this request,
    /// compared in constant time.
    pub fn verify(&self, req: &SignedRequest<'_>, secret_access_key: &str) -> bool {
        let expected = sign(secret_access_key, &string_to_sign(req, self.form));
        expected.as_bytes().ct_eq(self.signature.as_bytes()).into()
    }
}

/// The base64 HMAC-SHA1 of `string_to_sign` under `secret_access_key`.
pub fn sign(secret_access_key: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret_access_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What a SigV2 signature signs: the verb, `Content-MD5`, `Content-Type`, the date (empty
/// when `x-amz-date` is sent, which is then signed among the amz headers; `Expires` for a
/// presigned URL), the `x-amz-*` headers, and the resource: the path as sent (path-style:
/// it names the bucket) with its sub-resources.
pub fn string_to_sign(req: &SignedRequest<'_>, form: V2Form) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(header(req, "content-md5").unwrap_or_default());
    out.push('\n');
    out.push_str(header(req, "content-type").unwrap_or_default());
    out.push('\n');
    match form {
        V2Form::Header if header(req, "x-amz-date").is_none() => out.push_str(header(req, "date").unwrap_or_default()),
        V2Form::Header => {}
        V2Form::Presigned { expires } => out.push_str(&expires.to_string()),
    }
    out.push('\n');
    // x-amz-* headers: names lower-cased and sorted, repeated ones joined by commas,
    // values trimmed with folded lines unfolded.
    let mut amz: Vec<(String, String)> = req
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let value = std::str::from_utf8(value).ok()?;
            name.starts_with("x-amz-").then(|| (name, unfold(value)))
        })
        .collect();
    amz.sort_by(|a, b| a.0.cmp(&b.0));
    let mut i = 0;
    while i < amz.len() {
        let name = &amz[i].0;
        out.push_str(name);
        out.push(':');
        let mut first = true;
        while i < amz.len() && amz[i].0 == *name {
            if !first {
                out.push(',');
            }
            out.push_str(&amz[i].1);
            first = false;
            i += 1;
        }
        out.push('\n');
    }
    out.push_str(req.raw_path);
    let mut subs: Vec<(String, String)> = query_pairs(req.raw_query)
        .filter(|(name, _)| SUB_RESOURCES.contains(&name.as_str()))
        .collect();
    subs.sort();
    for (i, (name, value)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// A header's value (the first, if repeated) by lower-case name, if valid UTF-8.
fn header<'a>(req: &SignedRequest<'a>, name: &str) -> Option<&'a str> {
    req.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

/// The query's parameters, decoded as a form is (`+` is a space), as S3 and s3s read them.
fn query_pairs(raw_query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw_query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(name), decode(value))
    })
}

/// A header value trimmed, with each folded line break (and the blanks around it) one space.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An HTTP date as SigV2 clients send it: `Tue, 27 Mar 2007 19:36:42 GMT` or with `+0000`.
fn parse_date(value: &str) -> Option<i64> {
    let value = value.trim();
    match value.strip_suffix("+0000") {
        Some(rest) => crate::date::parse_http_date(&format!("{rest}GMT")),
        None => crate::date::parse_http_date(value),
    }
}
