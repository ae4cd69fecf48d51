//! Rejections: the right code, status and AWS message text for each D1/D4/D7 rule.

mod common;

use common::{AKID, Req, SECRET, Signer, T0, T0_BASIC, enc};
use oxiam_sigv4::{
    AuthError, AuthErrorKind, CanonicalOptions, PathEncoding, canonical_request, signature, signing_key, string_to_sign,
};

const SCOPE: &str = "20150830/us-east-1/iam/aws4_request";
const FAKE_SIG: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn iam_req() -> Req {
    Req::iam_list_users()
}

/// An IAM request carrying a hand-written Authorization header (and X-Amz-Date).
fn with_authorization(value: &str) -> Req {
    let mut req = iam_req();
    req.header("X-Amz-Date", T0_BASIC);
    req.header("Authorization", value);
    req
}

fn signed() -> Req {
    let mut req = iam_req();
    Signer::default().sign_headers(&mut req);
    req
}

fn presigned(query: &str, signer: &Signer<'_>) -> Req {
    let mut req = Req::new("GET", "/", query);
    req.header("Host", "127.0.0.1:4566");
    signer.presign(&mut req, 900);
    req
}

#[track_caller]
fn assert_err(result: Result<impl std::fmt::Debug, AuthError>, kind: AuthErrorKind, message: &str) {
    let err = result.expect_err("must be rejected");
    assert_eq!((err.kind, err.message.as_str()), (kind, message));
}

#[test]
fn kinds_have_aws_codes_and_statuses() {
    use AuthErrorKind::*;
    let table = [
        (MissingAuthenticationToken, "MissingAuthenticationToken", 403),
        (IncompleteSignature, "IncompleteSignature", 400),
        (SignatureDoesNotMatch, "SignatureDoesNotMatch", 403),
        (InvalidClientTokenId, "InvalidClientTokenId", 403),
        (ExpiredToken, "ExpiredToken", 403),
    ];
    for (kind, code, status) in table {
        assert_eq!((kind.code(), kind.http_status()), (code, status));
    }
    assert_eq!(
        AuthError::invalid_client_token_id().to_string(),
        "InvalidClientTokenId: The security token included in the request is invalid"
    );
    assert_eq!(
        AuthError::expired_token().message,
        "The security token included in the request is expired"
    );
}

#[test]
fn sanity_signed_requests_verify() {
    signed().check(SECRET, T0, &["iam"]).expect("header auth");
    presigned("Action=GetCallerIdentity&Version=2011-06-15", &Signer::default())
        .check(SECRET, T0, &["iam"])
        .expect("query auth");
}

#[test]
fn missing_authentication() {
    let missing = "Request is missing Authentication Token";
    let kind = AuthErrorKind::MissingAuthenticationToken;
    assert_err(iam_req().parse(), kind, missing);
    assert_err(with_authorization("").parse(), kind, missing);
    // Not SigV4 at all.
    assert_err(with_authorization("Bearer abc").parse(), kind, missing);
    assert_err(with_authorization("AWS AKID:c2ln").parse(), kind, missing);
    // D5: a foreign query algorithm.
    let mut req = presigned("", &Signer::default());
    req.query = req.query.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    assert_err(req.parse(), kind, missing);
}

#[test]
fn both_auth_styles() {
    let mut req = signed();
    req.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    assert_err(
        req.parse(),
        AuthErrorKind::SignatureDoesNotMatch,
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    );
}

#[test]
fn stray_whitespace_in_credential() {
    // E11: `Credential= AKID…` and `Credential=AKID /…`.
    for (auth, token) in [
        (
            format!("AWS4-HMAC-SHA256 Credential= {AKID}/{SCOPE}, SignedHeaders=host, Signature={FAKE_SIG}"),
            format!("{AKID}/{SCOPE}"),
        ),
        (
            format!("AWS4-HMAC-SHA256 Credential={AKID} /{SCOPE}, SignedHeaders=host, Signature={FAKE_SIG}"),
            format!("/{SCOPE}"),
        ),
    ] {
        let message =
            format!("'{token}' not a valid key=value pair (missing equal-sign) in Authorization header: '{auth}'.");
        assert_err(
            with_authorization(&auth).parse(),
            AuthErrorKind::IncompleteSignature,
            &message,
        );
    }
}

#[test]
fn missing_header_parts() {
    let auth = format!("AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE}");
    let mut req = iam_req();
    req.header("Authorization", &auth);
    assert_err(
        req.parse(),
        AuthErrorKind::IncompleteSignature,
        &format!(
            "Authorization header requires 'Signature' parameter. \
             Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
             Authorization={auth}"
        ),
    );
    // An empty value counts as missing.
    let auth = format!("AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature={FAKE_SIG}");
    assert_err(
        with_authorization(&auth).parse(),
        AuthErrorKind::IncompleteSignature,
        &format!("Authorization header requires 'Credential' parameter. Authorization={auth}"),
    );
}

#[test]
fn missing_query_params() {
    let query = format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={T0_BASIC}&X-Amz-SignedHeaders=host");
    let mut req = Req::new("GET", "/", &query);
    req.header("Host", "h");
    assert_err(
        req.parse(),
        AuthErrorKind::IncompleteSignature,
        "AWS query-string parameters must include 'X-Amz-Credential'. \
         AWS query-string parameters must include 'X-Amz-Signature'. \
         Re-examine the query-string parameters.",
    );
}

#[test]
fn bad_dates() {
    let mut req = iam_req();
    req.header("X-Amz-Date", "2015-08-30T12:36:00Z");
    req.header(
        "Authorization",
        &format!("AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE}, SignedHeaders=host, Signature={FAKE_SIG}"),
    );
    assert_err(
        req.parse(),
        AuthErrorKind::IncompleteSignature,
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
    let mut req = presigned("", &Signer::default());
    req.query = req.query.replace(T0_BASIC, "20150830");
    assert_eq!(
        req.parse().expect_err("bad date").kind,
        AuthErrorKind::IncompleteSignature
    );
}

#[test]
fn date_header_instead_of_x_amz_date() {
    // D1 step 6: without X-Amz-Date the Date header counts, converted to basic format.
    let mut req = iam_req();
    req.header("Date", "Sun, 30 Aug 2015 12:36:00 GMT");
    Signer::default().sign_headers(&mut req);
    let claim = req.parse().expect("parse");
    assert_eq!((claim.amz_date.as_str(), claim.timestamp), (T0_BASIC, T0));
    req.check(SECRET, T0, &["iam"]).expect("verify");

    // X-Amz-Date wins over Date.
    let mut req = signed();
    req.header("Date", "Mon, 31 Aug 2015 00:00:00 GMT");
    assert_eq!(req.parse().expect("parse").amz_date, T0_BASIC);
    req.check(SECRET, T0, &["iam"]).expect("verify");
}

#[test]
fn host_must_be_signed() {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE}, SignedHeaders=content-type;x-amz-date, Signature={FAKE_SIG}"
    );
    assert_err(
        with_authorization(&auth).parse(),
        AuthErrorKind::SignatureDoesNotMatch,
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn sigv4a_header_algorithm_is_unsupported() {
    let auth = format!(
        "AWS4-ECDSA-P256-SHA256 Credential={AKID}/20150830/iam/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature={FAKE_SIG}"
    );
    assert_err(
        with_authorization(&auth).parse(),
        AuthErrorKind::IncompleteSignature,
        "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). ",
    );
}

#[test]
fn credential_must_have_five_parts() {
    let auth =
        format!("AWS4-HMAC-SHA256 Credential={AKID}/20150830/us-east-1/iam, SignedHeaders=host, Signature={FAKE_SIG}");
    assert_err(
        with_authorization(&auth).parse(),
        AuthErrorKind::IncompleteSignature,
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/iam'",
    );
}

#[test]
fn clock_skew_messages() {
    // The D4 example, verbatim.
    let signer = Signer {
        amz_date: "20160609T184512Z",
        ..Signer::default()
    };
    let mut req = iam_req();
    signer.sign_headers(&mut req);
    req.check(SECRET, 1_465_497_912, &["iam"]).expect("in time");
    assert_err(
        req.check(SECRET, 1_465_523_108, &["iam"]),
        AuthErrorKind::SignatureDoesNotMatch,
        "Signature expired: 20160609T184512Z is now earlier than 20160610T013008Z (20160610T014508Z - 15 min.)",
    );
    assert_err(
        signed().check(SECRET, T0 - 901, &["iam"]),
        AuthErrorKind::SignatureDoesNotMatch,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)",
    );
    // Exactly 15 minutes either way is still fine.
    signed().check(SECRET, T0 + 900, &["iam"]).expect("+15 min");
    signed().check(SECRET, T0 - 900, &["iam"]).expect("-15 min");
    // Absurd clocks do not overflow.
    for now in [i64::MIN, i64::MAX] {
        assert_eq!(
            signed().check(SECRET, now, &["iam"]).expect_err("absurd").kind,
            AuthErrorKind::SignatureDoesNotMatch
        );
    }
}

#[test]
fn scope_checks() {
    let mismatch = AuthErrorKind::SignatureDoesNotMatch;
    // Any well-formed region is fine (E1); the service must be allowed.
    for region in ["eu-west-1", "us-east-1", "local"] {
        let mut req = iam_req();
        Signer {
            region,
            ..Signer::default()
        }
        .sign_headers(&mut req);
        req.check(SECRET, T0, &["iam"]).expect(region);
    }
    assert_err(
        signed().check(SECRET, T0, &["sts"]),
        mismatch,
        "Credential should be scoped to correct service: 'sts'. ",
    );
    signed().check(SECRET, T0, &["sts", "iam"]).expect("iam allowed");

    // Every scope problem at once, in AWS's order.
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/20150831/us_east!/s3/aws5_request, SignedHeaders=host, Signature={FAKE_SIG}"
    );
    assert_err(
        with_authorization(&auth).check(SECRET, T0, &["iam"]),
        mismatch,
        "Credential should be scoped to a valid region, not 'us_east!'. \
         Credential should be scoped to correct service: 'iam'. \
         Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. \
         Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
    );
}

#[test]
fn signature_mismatch_cases() {
    let standard = "The request signature we calculated does not match the signature you provided. \
                    Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
    let mismatch = AuthErrorKind::SignatureDoesNotMatch;
    assert_err(signed().check("wrong", T0, &["iam"]), mismatch, standard);

    // Any signed byte changed.
    let mut req = signed();
    req.body.push(b' ');
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);
    let mut req = signed();
    req.query = "Action=DeleteUser".into();
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);
    let mut req = signed();
    req.method = "PUT".into();
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);
    let mut req = signed();
    req.path = "/x".into();
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);
    let mut req = signed();
    req.headers[0].1 = b"127.0.0.1:4567".to_vec();
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);

    // A signed header that is not there.
    let mut req = signed();
    req.remove_header("content-type");
    assert_err(req.check(SECRET, T0, &["iam"]), mismatch, standard);

    // A signature that is not 64 hex digits.
    for sig in ["abc", &"g".repeat(64), &"é".repeat(32)] {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{SCOPE}, SignedHeaders=content-type;host;x-amz-date, Signature={sig}"
        );
        assert_err(
            with_authorization(&auth).check(SECRET, T0, &["iam"]),
            mismatch,
            standard,
        );
    }

    // Header order and name case do not matter; an extra unsigned header does not either.
    let mut req = signed();
    req.headers.reverse();
    for (name, _) in &mut req.headers {
        *name = name.to_ascii_uppercase();
    }
    req.header("User-Agent", "test");
    req.check(SECRET, T0, &["iam"]).expect("reordered");
}

#[test]
fn payload_hash_rules() {
    let with_sha = |value: &str| {
        let mut req = iam_req();
        req.header("X-Amz-Content-Sha256", value);
        Signer::default().sign_headers(&mut req);
        req
    };
    let body_hash = oxiam_sigv4::sha256_hex(&iam_req().body);
    with_sha(&body_hash).check(SECRET, T0, &["iam"]).expect("matching hash");
    with_sha(&body_hash.to_uppercase())
        .check(SECRET, T0, &["iam"])
        .expect_err("the client signed its own spelling, our signer hashed lowercase");
    assert_err(
        with_sha(&oxiam_sigv4::sha256_hex(b"other")).check(SECRET, T0, &["iam"]),
        AuthErrorKind::SignatureDoesNotMatch,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
    for value in ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"] {
        assert_err(
            with_sha(value).check(SECRET, T0, &["iam"]),
            AuthErrorKind::SignatureDoesNotMatch,
            &format!("x-amz-content-sha256 '{value}' is not supported for service 'iam'."),
        );
    }
}

#[test]
fn s3_single_encoding_and_unsigned_payload() {
    // D2: S3 signs the path as sent and may sign UNSIGNED-PAYLOAD.
    let mut req = Req::new("PUT", "/bucket/a%20b/../c", "");
    req.header("Host", "s3.local");
    req.header("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    req.header("X-Amz-Date", T0_BASIC);
    req.body = b"data".to_vec();
    let signed_headers = ["host", "x-amz-content-sha256", "x-amz-date"];
    let scope = "20150830/us-east-1/s3/aws4_request";
    let options = CanonicalOptions {
        path: PathEncoding::Single,
        presigned: false,
        omit_security_token: false,
    };
    let creq = req.with(|r| canonical_request(r, &signed_headers, "UNSIGNED-PAYLOAD", options));
    assert!(creq.starts_with(b"PUT\n/bucket/a%20b/../c\n\n"));
    let key = signing_key(SECRET, "20150830", "us-east-1", "s3");
    let sig: String = signature(&key, &string_to_sign(T0_BASIC, scope, &creq))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    req.header(
        "Authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders={}, Signature={sig}",
            signed_headers.join(";")
        ),
    );
    req.check(SECRET, T0, &["s3"]).expect("s3 verifies");
    assert_eq!(
        req.check(SECRET, T0, &["iam"]).expect_err("not iam").kind,
        AuthErrorKind::SignatureDoesNotMatch
    );
}

#[test]
fn presigned_specifics() {
    let signer = Signer {
        token: Some("tok/en+=="),
        ..Signer::default()
    };
    let req = presigned("Action=GetCallerIdentity&Version=2011-06-15", &signer);
    let claim = req.parse().expect("parse");
    assert!(claim.presigned);
    assert_eq!(claim.security_token.as_deref(), Some("tok/en+=="));
    assert_eq!(claim.expires(), Some(900));
    assert_eq!(claim.signed_headers(), ["host".to_owned()]);
    req.check(SECRET, T0, &["iam"]).expect("verify");

    // The token is bound when it was signed: changing it breaks the signature.
    let mut changed = req.clone();
    changed.query = changed.query.replace(&enc("tok/en+=="), "other");
    assert_eq!(
        changed.check(SECRET, T0, &["iam"]).expect_err("token changed").kind,
        AuthErrorKind::SignatureDoesNotMatch
    );

    // Without X-Amz-Expires the 15-minute window applies (D4: STS ignores it anyway).
    let mut no_expires = req.clone();
    no_expires.query = no_expires.query.replace("&X-Amz-Expires=900", "");
    assert_eq!(no_expires.parse().expect("parse").expires(), None);

    for (bad, message) in [
        ("abc", "X-Amz-Expires should be a number, got 'abc'."),
        ("-5", "X-Amz-Expires should be a number, got '-5'."),
        ("0", "X-Amz-Expires must be positive."),
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
        (
            "99999999999999999999999",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ),
    ] {
        let mut r = req.clone();
        r.query = r.query.replace("X-Amz-Expires=900", &format!("X-Amz-Expires={bad}"));
        assert_err(r.parse(), AuthErrorKind::IncompleteSignature, message);
    }
}

#[test]
fn session_token_header_is_reported_and_redacted() {
    let signer = Signer {
        token: Some("secret-session-token"),
        ..Signer::default()
    };
    let mut req = iam_req();
    signer.sign_headers(&mut req);
    let claim = req.parse().expect("parse");
    assert_eq!(claim.security_token.as_deref(), Some("secret-session-token"));
    assert!(claim.signed_headers().contains(&"x-amz-security-token".to_owned()));
    req.check(SECRET, T0, &["iam"]).expect("verify");
    let debug = format!("{claim:?}");
    assert!(!debug.contains("secret-session-token"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}
