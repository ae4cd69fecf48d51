//! Shared test helpers: an owned request type and a small reference signer built from the
//! crate's public building blocks (client side of D2/D3).
#![allow(dead_code, reason = "each test crate uses part of the shared helpers")]

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use oxiam_sigv4::{
    CanonicalOptions, PathEncoding, SignedRequest, canonical_request, sha256_hex, signature, signing_key,
    string_to_sign,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the test suite's timestamp.
pub const T0: i64 = 1_440_938_160;
pub const T0_BASIC: &str = "20150830T123600Z";

/// Everything but RFC 3986 unreserved characters gets percent-encoded.
pub const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, QUERY_ENCODE).to_string()
}

/// An owned request; [`Req::with`] lends it out as a [`SignedRequest`].
#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn new(method: &str, path: &str, query: &str) -> Self {
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            ..Self::default()
        }
    }

    /// The IAM Query POST SDKs send (A1).
    pub fn iam_list_users() -> Self {
        let mut req = Self::new("POST", "/", "");
        req.header("Host", "127.0.0.1:4566");
        req.header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        req.body = b"Action=ListUsers&Version=2010-05-08".to_vec();
        req
    }

    pub fn header(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.push((name.to_owned(), value.as_bytes().to_vec()));
        self
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn with<R>(&self, f: impl FnOnce(&SignedRequest<'_>) -> R) -> R {
        let headers: Vec<(&str, &[u8])> = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        f(&SignedRequest {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    pub fn parse(&self) -> Result<oxiam_sigv4::Claim, oxiam_sigv4::AuthError> {
        self.with(oxiam_sigv4::parse)
    }

    /// parse + verify in one go.
    pub fn check(&self, secret: &str, now: i64, services: &[&str]) -> Result<(), oxiam_sigv4::AuthError> {
        self.with(|r| {
            let claim = oxiam_sigv4::parse(r)?;
            oxiam_sigv4::verify(r, &claim, secret, now, services)
        })
    }

    fn signature_hex(&self, signed: &[String], scope: &str, amz_date: &str, secret: &str, presigned: bool) -> String {
        let parts: Vec<&str> = scope.split('/').collect();
        let key = signing_key(secret, parts[0], parts[1], parts[2]);
        let options = CanonicalOptions {
            path: PathEncoding::Double { normalize: true },
            presigned,
            omit_security_token: false,
        };
        let creq = self.with(|r| canonical_request(r, signed, &sha256_hex(&self.body), options));
        let sig = signature(&key, &string_to_sign(amz_date, scope, &creq));
        sig.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Signing parameters for the reference signer.
#[derive(Debug, Clone)]
pub struct Signer<'a> {
    pub akid: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub amz_date: &'a str,
    pub token: Option<&'a str>,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Self {
            akid: AKID,
            secret: SECRET,
            region: "us-east-1",
            service: "iam",
            amz_date: T0_BASIC,
            token: None,
        }
    }
}

impl Signer<'_> {
    fn scope(&self) -> String {
        let date = self.amz_date.get(..8).unwrap_or_default();
        format!("{date}/{}/{}/aws4_request", self.region, self.service)
    }

    /// Header auth the way botocore does it: add X-Amz-Date (unless the request carries a
    /// `Date` header already) and the token, sign every header.
    pub fn sign_headers(&self, req: &mut Req) {
        if !req.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("date")) {
            req.header("X-Amz-Date", self.amz_date);
        }
        if let Some(token) = self.token {
            req.header("X-Amz-Security-Token", token);
        }
        let mut signed: Vec<String> = req.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
        signed.sort();
        signed.dedup();
        let scope = self.scope();
        let sig = req.signature_hex(&signed, &scope, self.amz_date, self.secret, false);
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            self.akid,
            signed.join(";")
        );
        req.header("Authorization", &auth);
    }

    /// Query auth the way botocore presigns: X-Amz-* params appended, only `host` signed.
    pub fn presign(&self, req: &mut Req, expires: u64) {
        let scope = self.scope();
        let mut params = vec![
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
            ("X-Amz-Credential", format!("{}/{scope}", self.akid)),
            ("X-Amz-Date", self.amz_date.to_owned()),
            ("X-Amz-Expires", expires.to_string()),
            ("X-Amz-SignedHeaders", "host".to_owned()),
        ];
        if let Some(token) = self.token {
            params.push(("X-Amz-Security-Token", token.to_owned()));
        }
        for (name, value) in params {
            if !req.query.is_empty() {
                req.query.push('&');
            }
            req.query.push_str(&format!("{name}={}", enc(&value)));
        }
        let sig = req.signature_hex(&["host".to_owned()], &scope, self.amz_date, self.secret, true);
        req.query.push_str(&format!("&X-Amz-Signature={sig}"));
    }
}

/// Replaces the first hex digit of the signature with a different one.
pub fn flip_signature(text: &str) -> String {
    let marker = if text.contains("X-Amz-Signature=") {
        "X-Amz-Signature="
    } else {
        "Signature="
    };
    let at = text.find(marker).expect("signed request has a signature") + marker.len();
    let old = &text[at..at + 1];
    let new = if old == "0" { "1" } else { "0" };
    format!("{}{new}{}", &text[..at], &text[at + 1..])
}

// ---- aws-sigv4, the AWS SDK for Rust's signer, as the reference client ----

/// 2023-11-14T22:13:20Z, the signing time of the aws-sigv4 tests.
pub const NOW: i64 = 1_700_000_000;

pub fn sdk_request(uri: &str) -> http::Request<Vec<u8>> {
    http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"Action=ListUsers&Version=2010-05-08".to_vec())
        .expect("request")
}

/// Signs like the SDK: `settings` tweaked by the caller, time fixed at `NOW`.
pub fn sdk_sign(
    req: &mut http::Request<Vec<u8>>,
    service: &str,
    region: &str,
    token: Option<&str>,
    settings: SigningSettings,
) {
    let identity: Identity = Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test").into();
    let time = UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs());
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let uri = req.uri().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().expect("ascii").to_owned()))
        .collect();
    let signable = SignableRequest::new(
        req.method().as_str(),
        uri,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(req.body()),
    )
    .expect("signable");
    let (instructions, _signature) = sign(signable, &params).expect("sign").into_parts();
    instructions.apply_to_request_http1x(req);
}

/// What the server sees: hyper adds `Host` from the URI when the client did not set one.
pub fn as_received(req: &http::Request<Vec<u8>>) -> Req {
    let uri = req.uri();
    let mut out = Req::new(req.method().as_str(), uri.path(), uri.query().unwrap_or_default());
    if !req.headers().contains_key(http::header::HOST) {
        let authority = uri.authority().expect("authority").as_str();
        out.header("host", authority);
    }
    for (name, value) in req.headers() {
        out.headers.push((name.as_str().to_owned(), value.as_bytes().to_vec()));
    }
    out.body = req.body().clone();
    out
}

pub fn settings(location: SignatureLocation) -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.signature_location = location;
    if location == SignatureLocation::QueryParams {
        settings.expires_in = Some(Duration::from_secs(900));
    }
    settings
}
