//! Canonical request, string to sign and signing key (wire-protocols.md D2, D3).
//!
//! Everything here works on bytes: header values may be Latin-1 and percent-decoded query
//! components need not be UTF-8 (D2). Nothing here can fail or panic.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::SignedRequest;

/// Query parameter carrying the presigned signature; never part of its own canonical query.
pub(crate) const PARAM_SIGNATURE: &str = "X-Amz-Signature";
/// Query parameter carrying the session token (D6).
pub(crate) const PARAM_SECURITY_TOKEN: &str = "X-Amz-Security-Token";

/// How the path becomes the canonical URI (D2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathEncoding {
    /// Every service except S3: take the raw wire path, optionally remove dot segments and
    /// collapse `//` (RFC 3986), then URI-encode it again keeping `/` ("double encoding").
    Double { normalize: bool },
    /// S3: the raw path as sent, neither normalized nor re-encoded.
    Single,
}

/// The knobs that differ between header auth, presigned auth and the D6 retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanonicalOptions {
    pub path: PathEncoding,
    /// Query auth: leave `X-Amz-Signature` out of the canonical query (D2).
    pub presigned: bool,
    /// Leave `X-Amz-Security-Token` out of the canonical query: the D6 retry for clients that
    /// append the token after signing.
    pub omit_security_token: bool,
}

/// RFC 3986 unreserved characters: the only bytes UriEncode leaves alone (D2).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// AWS UriEncode: `%XX` in uppercase hex for everything but unreserved bytes (and `/` when
/// `keep_slash`). Space becomes `%20`, never `+`.
fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form-style percent-decoding (`+` is a space, D2/E4). A `%` not followed by two hex digits
/// is kept literally, as clients' lenient decoders do; rejecting malformed escapes is the query
/// parser's job (`MalformedQueryString`), not the verifier's.
pub(crate) fn form_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = b.get(i + 1).copied().and_then(hex_val);
                let lo = b.get(i + 2).copied().and_then(hex_val);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// The raw `name=value` pieces of a query string, empty pieces dropped, a missing `=` meaning
/// an empty value (D2).
pub(crate) fn query_pairs(raw_query: &str) -> impl Iterator<Item = (&str, &str)> {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
}

/// RFC 3986 section 5.2.4 dot-segment removal plus `//` collapsing, keeping a trailing `/`
/// (D2, E8). Mirrors aws-sigv4 `normalize_uri_path` and botocore `normalize_url_path`.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push('/');
        out.push_str(segment);
    }
    // `/a/b/` keeps its slash, and so do `/a/b/.` and `/a/b/..` (they name a directory).
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if out.is_empty() || trailing {
        out.push('/');
    }
    out
}

/// The CanonicalURI line (D2). An empty path becomes `/`.
pub fn canonical_uri(raw_path: &str, encoding: PathEncoding) -> String {
    let path = if raw_path.is_empty() { "/" } else { raw_path };
    match encoding {
        PathEncoding::Single => path.to_owned(),
        PathEncoding::Double { normalize } => {
            let path = if normalize {
                normalize_path(path)
            } else if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            };
            let mut out = String::with_capacity(path.len() + 8);
            uri_encode_into(&mut out, path.as_bytes(), true);
            out
        }
    }
}

/// The CanonicalQueryString line (D2): decode every name and value, re-encode them, sort by
/// (encoded name, encoded value), always write the `=`.
pub fn canonical_query(raw_query: &str, presigned: bool, omit_security_token: bool) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query)
        .filter_map(|(name, value)| {
            let name = form_decode(name);
            let dropped = (presigned && name == PARAM_SIGNATURE.as_bytes())
                || (omit_security_token && name == PARAM_SECURITY_TOKEN.as_bytes());
            if dropped {
                return None;
            }
            let mut enc_name = String::new();
            uri_encode_into(&mut enc_name, &name, false);
            let mut enc_value = String::new();
            uri_encode_into(&mut enc_value, &form_decode(value), false);
            Some((enc_name, enc_value))
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Trims a header value and collapses runs of spaces to one (D2 "trimall"). Like aws-sigv4
/// and the Go SDK, only the space character is collapsed inside the value; both SP and HTAB
/// are trimmed at the ends (HTTP's optional whitespace).
fn push_trimmed_value(out: &mut Vec<u8>, value: &[u8]) {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !is_ows(b)).map_or(start, |i| i + 1);
    let mut prev_space = false;
    for &b in value.get(start..end).unwrap_or_default() {
        if b == b' ' {
            if !prev_space {
                out.push(b);
            }
            prev_space = true;
        } else {
            out.push(b);
            prev_space = false;
        }
    }
}

/// Lower-cased, sorted, de-duplicated signed header names.
pub(crate) fn normalize_signed_headers<S: AsRef<str>>(names: &[S]) -> Vec<String> {
    let mut names: Vec<String> = names
        .iter()
        .map(|n| n.as_ref().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The full canonical request (D2):
/// `METHOD\nCanonicalURI\nCanonicalQuery\nCanonicalHeaders\n\nSignedHeaders\nPayloadHash`.
///
/// `signed_headers` may be in any order and case; it is lower-cased and sorted here. Only
/// those headers are canonicalized; several headers with one name are comma-joined in arrival
/// order, and a signed header the request lacks contributes an empty value.
pub fn canonical_request<S: AsRef<str>>(
    req: &SignedRequest<'_>,
    signed_headers: &[S],
    payload_hash: &str,
    options: CanonicalOptions,
) -> Vec<u8> {
    let signed = normalize_signed_headers(signed_headers);
    let mut out = Vec::with_capacity(256 + req.raw_query.len());
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(req.raw_path, options.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(req.raw_query, options.presigned, options.omit_security_token).as_bytes());
    out.push(b'\n');
    for name in &signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let values = req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name));
        for (i, (_, value)) in values.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_trimmed_value(&mut out, value);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// Lowercase hex SHA-256, the PayloadHash format (D2).
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&Sha256::digest(data))
}

/// Lowercase hex, the form of a signature and of a payload hash (D2, D3).
pub fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes exactly 64 hex digits (either case) into 32 bytes: a signature, or a payload's
/// SHA-256 as `x-amz-content-sha256` names it.
pub fn decode_hex_32(hex: &str) -> Option<[u8; 32]> {
    let b = hex.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        *slot = hex_val(pair[0])? << 4 | hex_val(pair[1])?;
    }
    Some(out)
}

/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex(SHA256(canonical request))>`, no trailing
/// newline (D3). `credential_scope` is `YYYYMMDD/region/service/aws4_request`.
pub fn string_to_sign(amz_date: &str, credential_scope: &str, canonical_request: &[u8]) -> String {
    // Every verification writes one: joined by hand, not through `format!`.
    [
        "AWS4-HMAC-SHA256",
        amz_date,
        credential_scope,
        &sha256_hex(canonical_request),
    ]
    .join("\n")
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
/// (D3). It depends only on these four inputs, so callers may cache it per day.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret_access_key}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// The raw signature: HMAC(kSigning, StringToSign) (D3).
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> [u8; 32] {
    hmac_sha256(signing_key, string_to_sign.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(raw: &str) -> String {
        canonical_uri(raw, PathEncoding::Double { normalize: true })
    }

    #[test]
    fn path_double_encoding() {
        assert_eq!(double(""), "/");
        assert_eq!(double("/"), "/");
        assert_eq!(
            double("/test/@connections/JBDvjfGEIAMCERw%3D"),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(double("/example space/"), "/example%20space/");
        assert_eq!(double("/\u{1234}"), "/%E1%88%B4");
        assert_eq!(double("/-._~"), "/-._~");
    }

    #[test]
    fn path_normalization() {
        assert_eq!(double("//"), "/");
        assert_eq!(double("//example//"), "/example/");
        assert_eq!(double("/example/.."), "/");
        assert_eq!(double("/example1/example2/../.."), "/");
        assert_eq!(double("/./"), "/");
        assert_eq!(double("/./example"), "/example");
        assert_eq!(double("/example/."), "/example/");
        assert_eq!(double("/a/b/.."), "/a/");
        assert_eq!(double("/../../a"), "/a");
        assert_eq!(double("/a.b/c"), "/a.b/c");
        assert_eq!(double("/a/..b"), "/a/..b");
        assert_eq!(double("/iam/"), "/iam/");
        assert_eq!(double("a/b"), "/a/b");
        let raw = PathEncoding::Double { normalize: false };
        assert_eq!(canonical_uri("/example/..", raw), "/example/..");
        assert_eq!(canonical_uri("a", raw), "/a");
        assert_eq!(canonical_uri("/a%2Fb", PathEncoding::Single), "/a%2Fb");
    }

    #[test]
    fn query_canonicalization() {
        assert_eq!(canonical_query("", false, false), "");
        assert_eq!(canonical_query("&&", false, false), "");
        assert_eq!(canonical_query("b=2&a=1&a=0&c", false, false), "a=0&a=1&b=2&c=");
        // Sorted by (name, value) pairs, not by `name=value` strings (E4).
        assert_eq!(canonical_query("id-type=x&id=y", false, false), "id=y&id-type=x");
        assert_eq!(
            canonical_query("a=x+y%20z&%E1%88%B4=%7e", false, false),
            "%E1%88%B4=~&a=x%20y%20z"
        );
        assert_eq!(canonical_query("a=%zz%4", false, false), "a=%25zz%254");
        assert_eq!(
            canonical_query("X-Amz-Signature=ab&X-Amz-Security-Token=t&k=v", true, false),
            "X-Amz-Security-Token=t&k=v"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=ab&X-Amz-Security-Token=t&k=v", true, true),
            "k=v"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=ab", false, false),
            "X-Amz-Signature=ab"
        );
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers: &[(&str, &[u8])] = &[
            ("Host", b"example.com:8080"),
            ("My-Header", b"  a   b  "),
            ("x-other", b"unsigned"),
            ("my-header", b"\tc\xe9"),
        ];
        let req = SignedRequest {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers,
            body: b"",
        };
        let options = CanonicalOptions {
            path: PathEncoding::Double { normalize: true },
            presigned: false,
            omit_security_token: false,
        };
        let creq = canonical_request(&req, &["my-header", "Host"], "HASH", options);
        assert_eq!(
            creq,
            b"GET\n/\n\nhost:example.com:8080\nmy-header:a b,c\xe9\n\nhost;my-header\nHASH"
        );
    }

    #[test]
    fn signature_hex() {
        let sig = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let bytes = decode_hex_32(sig).expect("valid");
        assert_eq!(hex_lower(&bytes), sig);
        assert!(decode_hex_32(&sig.to_uppercase()).is_some());
        assert!(decode_hex_32(&sig[1..]).is_none());
        assert!(decode_hex_32(&sig.replace('5', "g")).is_none());
        assert!(decode_hex_32(&"é".repeat(32)).is_none());
    }

    #[test]
    fn empty_body_hash() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
