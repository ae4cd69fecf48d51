//! Property tests: no input makes `parse`/`verify` panic, and whatever aws-sigv4 signs verifies.

mod common;

use aws_sigv4::http_request::SignatureLocation;
use common::{NOW, Req, SECRET, Signer, as_received, enc, sdk_sign, settings};
use oxiam_sigv4::{AuthErrorKind, CanonicalOptions, PathEncoding, canonical_request, check_claim, parse, verify};
use proptest::prelude::*;

/// Header names that steer the parser, plus arbitrary ones.
fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Authorization".to_owned()),
        Just("authorization".to_owned()),
        Just("X-Amz-Date".to_owned()),
        Just("Date".to_owned()),
        Just("Host".to_owned()),
        Just("X-Amz-Security-Token".to_owned()),
        Just("X-Amz-Content-Sha256".to_owned()),
        ".{0,12}",
    ]
}

/// Header values: arbitrary bytes, or text shaped like what the parser looks for.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        "AWS4-[A-Z0-9-]{0,20}( [A-Za-z]{0,12}=[ -~]{0,30}[, ]{0,3}){0,4}".prop_map(String::into_bytes),
        "AWS4-HMAC-SHA256 Credential=[A-Z]{0,4}(/[0-9a-z_-]{0,10}){0,7}, SignedHeaders=[a-z;:-]{0,20}, Signature=[0-9a-fé]{0,66}"
            .prop_map(String::into_bytes),
        "[0-9]{8}T[0-9]{6}Z".prop_map(String::into_bytes),
        "[A-Z][a-z]{2}, [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
            .prop_map(String::into_bytes),
        ".{0,30}".prop_map(String::into_bytes),
    ]
}

/// Query strings: arbitrary text or X-Amz-* parameters with junk values.
fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,60}",
        "(X-Amz-(Algorithm|Credential|Date|Expires|SignedHeaders|Signature|Security-Token)=[%A-Za-z0-9/+;=é.-]{0,24}&?){0,8}",
    ]
}

fn arbitrary_request() -> impl Strategy<Value = Req> {
    (
        ".{0,8}",
        prop_oneof![".{0,40}", "(/(\\.|\\.\\.|[a-z%0-9é]{0,4})){0,8}"],
        query(),
        proptest::collection::vec((header_name(), header_value()), 0..8),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(method, path, query, headers, body)| Req {
            method,
            path,
            query,
            headers,
            body,
        })
}

fn services() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(vec!["iam", "sts", "s3", "service"], 0..=4)
}

/// Runs every public entry point; only panics matter here.
fn exercise(req: &Req, now: i64, allowed: &[&str]) {
    req.with(|r| {
        if let Ok(claim) = parse(r) {
            let _ = format!("{claim:?}");
            let _ = check_claim(&claim, now, allowed);
            let _ = verify(r, &claim, SECRET, now, allowed);
            let _ = verify(r, &claim, SECRET, claim.timestamp, &[claim.service.as_str()]);
        }
        for path in [
            PathEncoding::Single,
            PathEncoding::Double { normalize: true },
            PathEncoding::Double { normalize: false },
        ] {
            let options = CanonicalOptions {
                path,
                presigned: true,
                omit_security_token: true,
            };
            let _ = canonical_request(r, &["host", "X-Amz-Date", ""], "hash", options);
        }
    });
}

proptest! {
    #[test]
    fn parse_and_verify_never_panic(
        req in arbitrary_request(),
        now in any::<i64>(),
        allowed in services(),
    ) {
        exercise(&req, now, &allowed);
    }

    /// Valid requests with random damage go deeper into `verify` than random noise does.
    #[test]
    fn damaged_signed_requests_never_panic(
        presign in any::<bool>(),
        target in 0usize..3,
        index in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        now_offset in -2000i64..2000,
    ) {
        let mut req = Req::iam_list_users();
        if presign {
            Signer::default().presign(&mut req, 900);
        } else {
            Signer::default().sign_headers(&mut req);
        }
        let replace = |bytes: &mut Vec<u8>| {
            if !bytes.is_empty() {
                let at = index.index(bytes.len());
                bytes[at] = byte;
            }
        };
        match target {
            0 => {
                let mut q = req.query.clone().into_bytes();
                replace(&mut q);
                req.query = String::from_utf8_lossy(&q).into_owned();
            }
            1 => {
                let at = index.index(req.headers.len());
                replace(&mut req.headers[at].1);
            }
            _ => replace(&mut req.body),
        }
        exercise(&req, common::T0 + now_offset, &["iam"]);
    }

    /// aws-sigv4 signs, we verify: random bodies, query params, headers, paths, tokens, regions.
    #[test]
    fn sdk_signed_requests_always_verify(
        body in proptest::collection::vec(any::<u8>(), 0..200),
        params in proptest::collection::vec((".{0,8}", ".{0,12}"), 0..5),
        headers in proptest::collection::vec(("x-test-[a-c]", "[ -~]{0,16}"), 0..4),
        segments in proptest::collection::vec(
            prop_oneof!["[A-Za-z0-9._~-]{0,6}", Just("..".to_owned()), Just("%3D@".to_owned())],
            0..4,
        ),
        trailing_slash in any::<bool>(),
        // Real tokens are base64-like. Spaces are left out on purpose: aws-sigv4 does not
        // trim/collapse the token header it adds itself, while botocore (and we) do.
        token in proptest::option::of("[!-~]{1,40}"),
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        service in prop_oneof![Just("iam"), Just("sts")],
        presign in any::<bool>(),
        skew in -900i64..=900,
    ) {
        let mut path = String::new();
        for segment in &segments {
            path.push('/');
            path.push_str(segment);
        }
        if trailing_slash || path.is_empty() {
            path.push('/');
        }
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        let mut uri = format!("http://127.0.0.1:4566{path}");
        if !query.is_empty() {
            uri.push('?');
            uri.push_str(&query.join("&"));
        }
        let mut builder = http::Request::builder().method("POST").uri(&uri);
        for (name, value) in &headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let mut req = builder.body(body).expect("request");
        let location = if presign {
            SignatureLocation::QueryParams
        } else {
            SignatureLocation::Headers
        };
        sdk_sign(&mut req, service, &region, token.as_deref(), settings(location));
        let received = as_received(&req);

        let claim = received.parse().map_err(|e| TestCaseError::fail(format!("{uri}: {e}")))?;
        prop_assert_eq!(claim.security_token.as_deref(), token.as_deref());
        // Presigned requests live at most 900 s after signing, so skew only backwards for them.
        let now = if presign { NOW + skew.abs() } else { NOW + skew };
        if let Err(e) = received.check(SECRET, now, &[service]) {
            return Err(TestCaseError::fail(format!("{uri}: {e}")));
        }

        let mut tampered = received.clone();
        tampered.body.push(b'!');
        let err = tampered.check(SECRET, now, &[service]).expect_err("tampered body");
        prop_assert_eq!(err.kind, AuthErrorKind::SignatureDoesNotMatch);
    }
}
