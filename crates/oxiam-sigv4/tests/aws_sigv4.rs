//! Requests signed by `aws-sigv4`, the signer of the AWS SDK for Rust, must verify.

mod common;

use std::time::Duration;

use aws_sigv4::http_request::{PayloadChecksumKind, SessionTokenMode, SignatureLocation, UriPathNormalizationMode};
use common::{AKID, NOW, SECRET, as_received, sdk_request, sdk_sign, settings};
use oxiam_sigv4::AuthErrorKind;

/// Shaped like an STS session token: needs percent-encoding in a query string.
const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def==";

#[test]
fn sdk_signed_iam_requests_verify() {
    let mut cases = 0;
    for region in ["eu-west-1", "us-east-1"] {
        for token in [None, Some(TOKEN)] {
            for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
                let what = format!("{region} token={} {location:?}", token.is_some());
                let mut req = sdk_request("http://127.0.0.1:4566/");
                sdk_sign(&mut req, "iam", region, token, settings(location));
                let received = as_received(&req);

                let claim = received.parse().unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(claim.access_key_id, AKID, "{what}");
                assert_eq!(claim.region, region, "{what}");
                assert_eq!(claim.service, "iam", "{what}");
                assert_eq!(claim.timestamp, NOW, "{what}");
                assert_eq!(claim.security_token.as_deref(), token, "{what}");
                assert_eq!(claim.presigned, location == SignatureLocation::QueryParams, "{what}");
                for now in [NOW, NOW + 14 * 60, NOW - 14 * 60] {
                    received
                        .check(SECRET, now, &["iam", "sts"])
                        .unwrap_or_else(|e| panic!("{what} at {now}: {e}"));
                }

                let mut tampered = received.clone();
                tampered.body = b"Action=ListUsers&Version=2010-05-09".to_vec();
                let err = tampered.check(SECRET, NOW, &["iam"]).expect_err(&what);
                assert_eq!(err.kind, AuthErrorKind::SignatureDoesNotMatch, "{what}");

                let err = received.check("not-the-secret", NOW, &["iam"]).expect_err(&what);
                assert_eq!(err.kind, AuthErrorKind::SignatureDoesNotMatch, "{what}");

                let err = received.check(SECRET, NOW, &["sts"]).expect_err(&what);
                assert_eq!(
                    err.message, "Credential should be scoped to correct service: 'sts'. ",
                    "{what}"
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 8);
}

#[test]
fn sdk_token_appended_after_signing_verifies() {
    // SessionTokenMode::Exclude: the token is added to the request but not signed (D6).
    for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
        let mut settings = settings(location);
        settings.session_token_mode = SessionTokenMode::Exclude;
        let mut req = sdk_request("http://127.0.0.1:4566/");
        sdk_sign(&mut req, "sts", "us-east-1", Some(TOKEN), settings);
        let received = as_received(&req);
        assert_eq!(received.parse().expect("parse").security_token.as_deref(), Some(TOKEN));
        received
            .check(SECRET, NOW, &["sts"])
            .unwrap_or_else(|e| panic!("{location:?}: {e}"));
    }
}

#[test]
fn sdk_content_sha256_header_verifies_and_binds_body() {
    let mut settings = settings(SignatureLocation::Headers);
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let mut req = sdk_request("http://127.0.0.1:4566/");
    sdk_sign(&mut req, "iam", "us-east-1", None, settings);
    let received = as_received(&req);
    received.check(SECRET, NOW, &["iam"]).expect("verify");

    let mut tampered = received.clone();
    tampered.body.push(b'x');
    let err = tampered.check(SECRET, NOW, &["iam"]).expect_err("tampered");
    assert_eq!(
        err.message,
        "The provided 'x-amz-content-sha256' header does not match what was computed."
    );
}

#[test]
fn sdk_paths_and_queries_verify() {
    // A mount path (E8), a path needing double encoding, and query operation params.
    for uri in [
        "http://127.0.0.1:4566/iam/",
        "http://localhost/a%3Db/@c/",
        "http://127.0.0.1:4566/?Action=ListUsers&Version=2010-05-08&PathPrefix=%2Fdivision%2F&x=a+b",
        "http://127.0.0.1:4566/?Tags=&Marker=a%20b%2Bc",
    ] {
        for location in [SignatureLocation::Headers, SignatureLocation::QueryParams] {
            let mut req = sdk_request(uri);
            sdk_sign(&mut req, "iam", "us-east-1", None, settings(location));
            as_received(&req)
                .check(SECRET, NOW, &["iam"])
                .unwrap_or_else(|e| panic!("{uri} {location:?}: {e}"));
        }
    }
}

#[test]
fn sdk_unnormalized_path_verifies() {
    let mut settings = settings(SignatureLocation::Headers);
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let mut req = sdk_request("http://127.0.0.1:4566/iam//x/../");
    sdk_sign(&mut req, "iam", "us-east-1", None, settings);
    as_received(&req).check(SECRET, NOW, &["iam"]).expect("verify");
}

#[test]
fn presigned_expiry_is_capped_at_15_minutes() {
    // D4: STS honours at most 900 s whatever X-Amz-Expires says, and less when it says less.
    let mut long = settings(SignatureLocation::QueryParams);
    long.expires_in = Some(Duration::from_secs(3600));
    let mut req = sdk_request("http://127.0.0.1:4566/");
    sdk_sign(&mut req, "sts", "us-east-1", None, long);
    let received = as_received(&req);
    received.check(SECRET, NOW + 900, &["sts"]).expect("at 900 s");
    let err = received.check(SECRET, NOW + 901, &["sts"]).expect_err("901 s");
    assert!(err.message.starts_with("Signature expired"), "{err}");

    let mut short = settings(SignatureLocation::QueryParams);
    short.expires_in = Some(Duration::from_secs(60));
    let mut req = sdk_request("http://127.0.0.1:4566/");
    sdk_sign(&mut req, "sts", "us-east-1", None, short);
    let received = as_received(&req);
    received.check(SECRET, NOW + 60, &["sts"]).expect("at 60 s");
    let err = received.check(SECRET, NOW + 61, &["sts"]).expect_err("61 s");
    assert_eq!(
        err.message,
        "Signature expired: 20231114T221320Z is now earlier than 20231114T221321Z \
         (20231114T221421Z - 60 sec.)"
    );
}
