//! Outbound identity federation end to end, on a server speaking TLS (an issuer is HTTPS):
//! IAM's Enable/Disable/GetOutboundWebIdentityFederation(Info), STS GetWebIdentityToken
//! through the AWS SDK for Rust, the issuer's discovery document and key set fetched from
//! the server's port, every token's signature checked against them, the guards on the
//! token request (each condition key, tags, a federated user, a session's end), and a
//! second account's role taken with a token of the first: federation between two oxiam
//! accounts with no outside service.

use crate::common;

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use aws_sdk_iam::error::ProvideErrorMetadata as _;
use aws_sdk_sts::types::Tag;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ACCOUNT, Backend, TestServer};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use sha1::Digest as _;

per_backend!(
    the_feature_is_off_until_enabled_and_keeps_its_issuer,
    tokens_verify_against_the_published_keys,
    each_condition_key_of_the_token_request_decides,
    sessions_get_tokens_that_end_with_them,
    another_account_takes_a_role_with_the_issuers_token,
);

/// Every STS action on the caller's own session (where GetWebIdentityToken is authorized).
const MAY_GET_TOKENS: &str = r#"{"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Action":["sts:GetWebIdentityToken","sts:TagGetWebIdentityToken"],"Resource":"*"}]}"#;

async fn enable(server: &TestServer) -> String {
    let enabled = server
        .root_iam()
        .enable_outbound_web_identity_federation()
        .send()
        .await
        .unwrap();
    enabled.issuer_identifier().unwrap().to_owned()
}

/// A GET of one of the issuer's documents over TLS: its status and JSON.
async fn fetch(server: &TestServer, issuer: &str, document: &str) -> (u16, Value) {
    let path = issuer
        .split_once("/_oxiam/")
        .map(|(_, p)| format!("/_oxiam/{p}"))
        .unwrap();
    let reply = common::raw::send_tls(server, "GET", &format!("{path}/.well-known/{document}"), &[], "").await;
    (reply.status, serde_json::from_str(&reply.body).unwrap_or(Value::Null))
}

/// A GetWebIdentityToken request for one audience.
fn ask(
    sts: &aws_sdk_sts::Client,
    audience: &str,
    algorithm: &str,
) -> aws_sdk_sts::operation::get_web_identity_token::builders::GetWebIdentityTokenFluentBuilder {
    sts.get_web_identity_token()
        .audience(audience)
        .signing_algorithm(algorithm)
}

/// A token's header and claims, unchecked.
fn parts(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let mut next = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

/// Checks a token's signature with the key the issuer publishes under its `kid`.
fn verify(token: &str, key_set: &Value) {
    let (header, _) = parts(token);
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let key = key_set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's key is published");
    let field = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    match header["alg"].as_str().unwrap() {
        "RS256" => signature::RsaPublicKeyComponents {
            n: field("n"),
            e: field("e"),
        }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &signature)
        .unwrap(),
        "ES384" => {
            let point = [vec![4], field("x"), field("y")].concat();
            UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, &point)
                .verify(input.as_bytes(), &signature)
                .unwrap()
        }
        other => panic!("unexpected algorithm {other}"),
    }
}

fn code<E: aws_sdk_iam::error::ProvideErrorMetadata, R>(err: &aws_sdk_iam::error::SdkError<E, R>) -> String {
    err.as_service_error().and_then(|e| e.code()).unwrap_or("").to_owned()
}

fn status<E, R: std::fmt::Debug>(
    err: &aws_sdk_iam::error::SdkError<E, aws_smithy_runtime_api::http::Response<R>>,
) -> u16 {
    err.raw_response().unwrap().status().as_u16()
}

/// Off at first (FeatureDisabled, 404, and no token: 403); on once (a second Enable is
/// FeatureEnabled, 409); off again, the issuer stays published; on again, the same issuer.
async fn the_feature_is_off_until_enabled_and_keeps_its_issuer(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let iam = server.root_iam();
    let err = iam
        .get_outbound_web_identity_federation_info()
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&err), status(&err)), ("FeatureDisabled".to_owned(), 404));
    assert_eq!(
        err.message(),
        Some(format!("Outbound identity federation is disabled for account {ACCOUNT}").as_str())
    );
    let err = iam.disable_outbound_web_identity_federation().send().await.unwrap_err();
    assert_eq!(code(&err), "FeatureDisabled");
    let (key, secret) = server.user_with_inline_policy("app", Some(MAY_GET_TOKENS)).await;
    let sts = server.sts_as(&key, &secret, "eu-west-1");
    let err = ask(&sts, "https://api.example.com", "RS256").send().await.unwrap_err();
    assert_eq!(
        (code(&err), status(&err)),
        ("OutboundWebIdentityFederationDisabledException".to_owned(), 403)
    );

    let issuer = enable(&server).await;
    let prefix = format!("{}/_oxiam/oidc/", server.endpoint());
    let id = issuer
        .strip_prefix(&prefix)
        .expect("the issuer is on the server's own URL");
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let err = iam.enable_outbound_web_identity_federation().send().await.unwrap_err();
    assert_eq!((code(&err), status(&err)), ("FeatureEnabled".to_owned(), 409));
    let info = iam.get_outbound_web_identity_federation_info().send().await.unwrap();
    assert_eq!(info.issuer_identifier(), Some(issuer.as_str()));
    assert!(info.jwt_vending_enabled());

    let token = ask(&sts, "https://api.example.com", "RS256").send().await.unwrap();
    iam.disable_outbound_web_identity_federation().send().await.unwrap();
    let err = ask(&sts, "https://api.example.com", "RS256").send().await.unwrap_err();
    assert_eq!(code(&err), "OutboundWebIdentityFederationDisabledException");
    // A token issued before still verifies: the keys stay published.
    let (status, keys) = fetch(&server, &issuer, "jwks.json").await;
    assert_eq!(status, 200);
    verify(token.web_identity_token().unwrap(), &keys);
    assert_eq!(enable(&server).await, issuer, "re-enabled, the same issuer");
    // An issuer no account has is not found.
    let unknown = format!("{prefix}00000000-0000-4000-8000-000000000000");
    assert_eq!(fetch(&server, &unknown, "jwks.json").await.0, 404);
    // Nor is a document an issuer does not publish.
    assert_eq!(fetch(&server, &issuer, "other.json").await.0, 404);
    server.stop().await;
}

/// Tokens of both algorithms, for one audience and for several, carry AWS's claims and
/// verify with the key the discovery document's key set publishes under their `kid`.
async fn tokens_verify_against_the_published_keys(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let issuer = enable(&server).await;
    let (status, discovery) = fetch(&server, &issuer, "openid-configuration").await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer);
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES384"])
    );
    let (_, keys) = fetch(&server, &issuer, "jwks.json").await;
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["RSA_0", "EC384_0"]);

    let iam = server.root_iam();
    iam.create_user()
        .user_name("app")
        .path("/workloads/")
        .send()
        .await
        .unwrap();
    iam.tag_user()
        .user_name("app")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("data")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    iam.put_user_policy()
        .user_name("app")
        .policy_name("p")
        .policy_document(MAY_GET_TOKENS)
        .send()
        .await
        .unwrap();
    let key = iam.create_access_key().user_name("app").send().await.unwrap();
    let key = key.access_key().unwrap();
    let sts = server.sts_as(key.access_key_id(), key.secret_access_key(), "eu-west-1");
    let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/workloads/app");
    for algorithm in ["RS256", "ES384"] {
        let before = time::OffsetDateTime::now_utc().unix_timestamp();
        let got = ask(&sts, "https://api.example.com", algorithm)
            .tags(Tag::builder().key("purpose").value("upload").build().unwrap())
            .send()
            .await
            .unwrap();
        let token = got.web_identity_token().unwrap();
        verify(token, &keys);
        let (header, claims) = parts(token);
        assert_eq!(header["alg"], algorithm);
        assert_eq!(header["typ"], "JWT");
        assert_eq!(claims["iss"], issuer);
        assert_eq!(claims["sub"], user_arn);
        assert_eq!(claims["aud"], "https://api.example.com", "one audience: a string");
        let (iat, exp) = (claims["iat"].as_i64().unwrap(), claims["exp"].as_i64().unwrap());
        assert!(iat >= before - 1 && iat <= before + 5);
        assert_eq!(exp - iat, 300, "five minutes unless asked");
        assert_eq!(got.expiration().unwrap().secs(), exp);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
        assert!(claims.get("nbf").is_none());
        let aws = &claims["https://sts.amazonaws.com/"];
        assert_eq!(aws["aws_account"], ACCOUNT);
        assert_eq!(aws["source_region"], "eu-west-1");
        assert_eq!(aws["principal_id"], user_arn);
        assert_eq!(aws["principal_tags"], json!({"team": "data"}));
        assert_eq!(aws["request_tags"], json!({"purpose": "upload"}));
        assert!(aws.get("original_session_exp").is_none());
        // Altered, it verifies no more.
        let (input, signature) = token.rsplit_once('.').unwrap();
        let forged_claims =
            URL_SAFE_NO_PAD.encode(claims.to_string().replace(&user_arn, "arn:aws:iam::123456789012:root"));
        let forged = format!("{}.{forged_claims}.{signature}", input.split('.').next().unwrap());
        assert!(std::panic::catch_unwind(|| verify(&forged, &keys)).is_err());
    }
    let several = sts
        .get_web_identity_token()
        .audience("a")
        .audience("b")
        .signing_algorithm("ES384")
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let (_, claims) = parts(several.web_identity_token().unwrap());
    assert_eq!(claims["aud"], json!(["a", "b"]));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    // What the model and STS refuse: a payload over AWS's quota (50 tags of the longest
    // keys and values), bad algorithms, durations, audiences, tags.
    let mut oversized = ask(&sts, "a", "RS256");
    for n in 0..50 {
        let key = format!("{n:02}{}", "k".repeat(126));
        oversized = oversized.tags(Tag::builder().key(key).value("v".repeat(256)).build().unwrap());
    }
    for (request, wanted) in [
        (oversized, "JWTPayloadSizeExceededException"),
        (ask(&sts, "a", "HS256"), "ValidationError"),
        (ask(&sts, "a", "RS256").duration_seconds(59), "ValidationError"),
        (ask(&sts, "a", "RS256").duration_seconds(3601), "ValidationError"),
        (
            sts.get_web_identity_token().signing_algorithm("RS256"),
            "ValidationError",
        ),
        (
            ask(&sts, "a", "RS256")
                .tags(Tag::builder().key("k").value("1").build().unwrap())
                .tags(Tag::builder().key("K").value("2").build().unwrap()),
            "InvalidParameterValue",
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), wanted, "{err:?}");
    }
    server.stop().await;
}

/// A Deny on each of the request's condition keys refuses exactly the tokens it names;
/// tags need sts:TagGetWebIdentityToken; the resource is the caller's own session.
async fn each_condition_key_of_the_token_request_decides(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    enable(&server).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetWebIdentityToken", "Resource": format!("arn:aws:sts::{ACCOUNT}:self")},
        {"Effect": "Allow", "Action": "sts:TagGetWebIdentityToken", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/stage": ["dev", "prod"]}}},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/stage": "prod"}}},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "secret"}}},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"sts:IdentityTokenAudience": "https://evil.example"}}},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"sts:DurationSeconds": "600"}}},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"StringEquals": {"sts:SigningAlgorithm": "ES384"}}},
    ]});
    let (key, secret) = server.user_with_inline_policy("app", Some(&policy.to_string())).await;
    let sts = server.sts_as(&key, &secret, "us-east-1");
    let token = |audiences: &[&str], algorithm: &str, duration: Option<i32>| {
        let mut request = sts
            .get_web_identity_token()
            .signing_algorithm(algorithm)
            .set_duration_seconds(duration);
        for audience in audiences {
            request = request.audience(*audience);
        }
        request
    };
    token(&["https://api.example.com"], "RS256", None).send().await.unwrap();
    token(&["https://api.example.com"], "RS256", Some(600))
        .send()
        .await
        .unwrap();
    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build().unwrap();
    token(&["https://api.example.com"], "RS256", None)
        .tags(tag("stage", "dev"))
        .send()
        .await
        .unwrap();
    for (request, action) in [
        (
            token(&["https://api.example.com"], "RS256", None).tags(tag("stage", "prod")),
            "sts:GetWebIdentityToken",
        ),
        (
            token(&["https://api.example.com"], "RS256", None)
                .tags(tag("stage", "dev"))
                .tags(tag("secret", "x")),
            "sts:GetWebIdentityToken",
        ),
        (
            token(&["https://api.example.com"], "RS256", None).tags(tag("stage", "test")),
            "sts:TagGetWebIdentityToken",
        ),
        (
            token(&["https://api.example.com", "https://evil.example"], "RS256", None),
            "sts:GetWebIdentityToken",
        ),
        (
            token(&["https://api.example.com"], "RS256", Some(601)),
            "sts:GetWebIdentityToken",
        ),
        (
            token(&["https://api.example.com"], "ES384", None),
            "sts:GetWebIdentityToken",
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(code(&err), "AccessDenied");
        let message = err.message().unwrap();
        assert!(
            message.contains(&format!("perform: {action} on resource: arn:aws:sts::{ACCOUNT}:self")),
            "{message}"
        );
    }
    // sts:DurationSeconds is the default's when the request names none: a Deny above 200
    // refuses a token asked for with no duration.
    let strict = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetWebIdentityToken", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:GetWebIdentityToken", "Resource": "*",
         "Condition": {"NumericGreaterThan": {"sts:DurationSeconds": "200"}}}]});
    let (key, secret) = server
        .user_with_inline_policy("strict", Some(&strict.to_string()))
        .await;
    let strict = server.sts_as(&key, &secret, "us-east-1");
    let err = ask(&strict, "a", "RS256").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    ask(&strict, "a", "RS256").duration_seconds(200).send().await.unwrap();
    // No policy, no token.
    let (key, secret) = server.user_with_inline_policy("nobody", None).await;
    let nobody = server.sts_as(&key, &secret, "us-east-1");
    let err = ask(&nobody, "a", "RS256").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    server.stop().await;
}

/// A role session's token names the role and when the session ends, and may not outlive
/// it; a federated user's session gets none.
async fn sessions_get_tokens_that_end_with_them(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    let issuer = enable(&server).await;
    let iam = server.root_iam();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name("worker")
        .path("/jobs/")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("worker")
        .policy_name("p")
        .policy_document(MAY_GET_TOKENS)
        .send()
        .await
        .unwrap();
    let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let (key, secret) = server.user_with_inline_policy("operator", Some(admin)).await;
    let operator = server.sts_as(&key, &secret, "us-east-1");
    let session = operator
        .assume_role()
        .role_arn(format!("arn:aws:iam::{ACCOUNT}:role/jobs/worker"))
        .role_session_name("nightly")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = session.credentials().unwrap();
    let sts = server.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    let got = ask(&sts, "a", "RS256").send().await.unwrap();
    let (_, claims) = parts(got.web_identity_token().unwrap());
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/jobs/worker");
    assert_eq!(claims["sub"], role_arn, "the role, not the session");
    assert_eq!(claims["iss"], issuer);
    let aws = &claims["https://sts.amazonaws.com/"];
    assert_eq!(aws["principal_id"], role_arn);
    let ends = time::OffsetDateTime::from_unix_timestamp(c.expiration().secs()).unwrap();
    let ends = ends.format(&time::format_description::well_known::Rfc3339).unwrap();
    assert_eq!(aws["original_session_exp"], ends);
    let err = ask(&sts, "a", "RS256").duration_seconds(3600).send().await.unwrap_err();
    assert_eq!(
        (code(&err), status(&err)),
        ("SessionDurationEscalationException".to_owned(), 403)
    );

    let federated = operator
        .get_federation_token()
        .name("visitor")
        .policy(admin)
        .send()
        .await
        .unwrap();
    let c = federated.credentials().unwrap();
    let visitor = server.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    let err = ask(&visitor, "a", "RS256").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert_eq!(
        err.message(),
        Some("GetWebIdentityToken does not support federated user sessions")
    );

    // A GetSessionToken session acts as its user, and its tokens end with it too.
    let session = operator.get_session_token().duration_seconds(900).send().await.unwrap();
    let c = session.credentials().unwrap();
    let as_user = server.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    let got = ask(&as_user, "a", "RS256").send().await.unwrap();
    let (_, claims) = parts(got.web_identity_token().unwrap());
    assert_eq!(claims["sub"], format!("arn:aws:iam::{ACCOUNT}:user/operator"));
    let err = ask(&as_user, "a", "RS256")
        .duration_seconds(3600)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "SessionDurationEscalationException");

    // A permissions boundary that leaves sts:GetWebIdentityToken out refuses it to an
    // administrator.
    let boundary = iam
        .create_policy()
        .policy_name("iam-only")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    iam.put_user_permissions_boundary()
        .user_name("operator")
        .permissions_boundary(boundary.policy().unwrap().arn().unwrap())
        .send()
        .await
        .unwrap();
    let err = ask(&operator, "a", "RS256").send().await.unwrap_err();
    assert_eq!(code(&err), "AccessDenied");
    assert!(err.message().unwrap().contains("permissions boundary"), "{err:?}");
    server.stop().await;
}

/// The SHA-1 thumbprint of the certificate the server presents (`tests/fixtures/tls`).
fn server_thumbprint() -> String {
    let pem = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls/server.pem");
    let cert = CertificateDer::pem_file_iter(pem).unwrap().next().unwrap().unwrap();
    sha1::Sha1::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A member account registers the management account's issuer as an OpenID Connect
/// provider and lets a role be taken with its tokens for one audience and one subject:
/// the management account's workload gets a session in the member account; a token for
/// another audience, from another principal, or altered, does not.
async fn another_account_takes_a_role_with_the_issuers_token(backend: Backend) {
    let server = TestServer::start_with_tls(backend).await;
    server.root_organizations().create_organization().send().await.unwrap();
    let member = server.create_member_account("ci@example.com", "ci").await;
    let inside = server.enter_member_account(&member).await;
    let member_iam = server.iam_as_session(&inside);

    let issuer = enable(&server).await;
    let provider_url = issuer.strip_prefix("https://").unwrap();
    member_iam
        .create_open_id_connect_provider()
        .url(&issuer)
        .client_id_list("ci.example")
        .thumbprint_list(server_thumbprint())
        .send()
        .await
        .unwrap();
    let workload_arn = format!("arn:aws:iam::{ACCOUNT}:user/builder");
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": format!("arn:aws:iam::{member}:oidc-provider/{provider_url}")},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{provider_url}:aud"): "ci.example", format!("{provider_url}:sub"): workload_arn}}
    }]});
    member_iam
        .create_role()
        .role_name("deploy")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = format!("arn:aws:iam::{member}:role/deploy");

    let (key, secret) = server.user_with_inline_policy("builder", Some(MAY_GET_TOKENS)).await;
    let (other_key, other_secret) = server.user_with_inline_policy("intruder", Some(MAY_GET_TOKENS)).await;
    let token_of = |key: String, secret: String, audience: &'static str| {
        let sts = server.sts_as(&key, &secret, "us-east-1");
        async move {
            let got = ask(&sts, audience, "RS256").send().await.unwrap();
            got.web_identity_token().unwrap().to_owned()
        }
    };
    let take = |token: String| {
        let sts = server.root_sts();
        let role_arn = role_arn.clone();
        async move {
            sts.assume_role_with_web_identity()
                .role_arn(role_arn)
                .role_session_name("deploy-run")
                .web_identity_token(token)
                .send()
                .await
        }
    };
    let token = token_of(key.clone(), secret.clone(), "ci.example").await;
    let session = take(token.clone()).await.unwrap();
    assert_eq!(session.subject_from_web_identity_token(), Some(workload_arn.as_str()));
    // For an OpenID Connect token, STS's Provider is the token's `iss`.
    assert_eq!(session.provider(), Some(issuer.as_str()));
    let c = session.credentials().unwrap();
    let me = server
        .sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:sts::{member}:assumed-role/deploy/deploy-run").as_str())
    );

    // Another audience, another principal of the issuer's account, an altered token.
    for refused in [
        token_of(key.clone(), secret.clone(), "elsewhere.example").await,
        token_of(other_key, other_secret, "ci.example").await,
        {
            let (head, rest) = token.split_once('.').unwrap();
            let (_, signature) = rest.split_once('.').unwrap();
            let (_, mut claims) = parts(&token);
            claims["sub"] = json!(workload_arn.replace("builder", "builder2"));
            format!("{head}.{}.{signature}", URL_SAFE_NO_PAD.encode(claims.to_string()))
        },
    ] {
        let err = take(refused).await.unwrap_err();
        let err = err.into_service_error();
        assert!(
            matches!(err.code(), Some("AccessDenied") | Some("InvalidIdentityToken")),
            "{err:?}"
        );
    }
    server.stop().await;
}
