//! AssumeRoleWithWebIdentity end to end: a real OpenID Connect issuer on a loopback port,
//! speaking HTTPS with the test certificates (trusted by the provider's thumbprint, as AWS
//! trusts issuers), publishing a key set; tokens minted here with keys generated per run;
//! the AWS SDK for Rust calling unsigned. Then every refusal: a subject or audience the role
//! does not trust, an expired, altered or foreign token, an unknown issuer, an issuer whose
//! certificate matches no thumbprint; and a key rotation the server follows.

use crate::common;

use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use aws_sdk_sts::error::ProvideErrorMetadata as _;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ACCOUNT, TestServer};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use sha1::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

on_both_backends!(
    a_token_the_role_trusts_gets_a_session,
    the_tokens_tags_claim_passes_session_tags,
    tokens_the_role_must_not_take_are_refused,
    an_issuer_is_trusted_only_by_its_thumbprint,
    a_rotated_key_is_fetched_again,
    an_issuer_that_stalls_or_floods_is_given_up_on,
    an_rcp_on_the_roles_account_refuses_the_token,
);

const SUBJECT: &str = "repo:octo/app:ref:refs/heads/main";
const AUDIENCE: &str = "sts.amazonaws.com";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn certificates(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(fixture(name))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The SHA-1 thumbprint of a certificate, as IAM registers it.
fn thumbprint(cert: &CertificateDer<'_>) -> String {
    sha1::Sha1::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A signing key of the issuer, with its key id.
struct SigningKey {
    kid: String,
    pair: EcdsaKeyPair,
}

impl SigningKey {
    fn new(kid: &str) -> Self {
        SigningKey {
            kid: kid.to_owned(),
            pair: EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    fn jwk(&self) -> serde_json::Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "use": "sig", "kid": self.kid, "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

/// An OpenID Connect issuer on a loopback port: its discovery document and key set over
/// HTTPS, with the certificate chain and key given.
struct Issuer {
    url: String,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
    fetches: Arc<Mutex<usize>>,
    connections: Arc<Mutex<usize>>,
}

impl Issuer {
    async fn start(chain: &str, key: &str, published: &[&SigningKey]) -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certificates(chain), PrivateKeyDer::from_pem_file(fixture(key)).unwrap())
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let keys = Arc::new(Mutex::new(published.iter().map(|k| k.jwk()).collect::<Vec<_>>()));
        let fetches = Arc::new(Mutex::new(0));
        let connections = Arc::new(Mutex::new(0));
        let (served_url, served_keys, counted) = (url.clone(), keys.clone(), fetches.clone());
        let connected = connections.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                *connected.lock().unwrap() += 1;
                let (acceptor, url, keys, counted) = (
                    acceptor.clone(),
                    served_url.clone(),
                    served_keys.clone(),
                    counted.clone(),
                );
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).await.unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head);
                    let path = head.split_whitespace().nth(1).unwrap_or("");
                    let body = match path {
                        "/.well-known/openid-configuration" => {
                            json!({"issuer": url, "jwks_uri": format!("{url}/keys")}).to_string()
                        }
                        "/keys" => {
                            *counted.lock().unwrap() += 1;
                            json!({"keys": *keys.lock().unwrap()}).to_string()
                        }
                        _ => String::new(),
                    };
                    let status = if body.is_empty() { "404 Not Found" } else { "200 OK" };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Issuer {
            url,
            keys,
            fetches,
            connections,
        }
    }

    /// The provider URL without `https://`: also the prefix of its condition keys.
    fn host(&self) -> &str {
        self.url.strip_prefix("https://").unwrap()
    }

    fn claims(&self) -> serde_json::Value {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        json!({"iss": self.url, "sub": SUBJECT, "aud": AUDIENCE, "iat": now, "nbf": now - 5, "exp": now + 600})
    }
}

/// The resource control policies of the role's account govern AssumeRoleWithWebIdentity
/// too: a member account's role, trusted and allowed, is refused once an RCP denies it.
async fn an_rcp_on_the_roles_account_refuses_the_token(server: &TestServer) {
    use aws_sdk_organizations::types::PolicyType;
    let orgs = server.root_organizations();
    orgs.create_organization().send().await.unwrap();
    let root_id = orgs.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned();
    let member = server.create_member_account("federated@example.com", "federated").await;
    let entered = server.enter_member_account(&member).await;
    let member_iam = server.iam_as_session(&entered);

    let key = SigningKey::new("k1");
    let issuer = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    member_iam
        .create_open_id_connect_provider()
        .url(&issuer.url)
        .client_id_list(AUDIENCE)
        .thumbprint_list(thumbprint(&certificates("ca.pem")[0]))
        .send()
        .await
        .unwrap();
    let provider = format!("arn:aws:iam::{member}:oidc-provider/{}", issuer.host());
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
    }]});
    member_iam
        .create_role()
        .role_name("ci")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let role_arn = format!("arn:aws:iam::{member}:role/ci");
    assume(server, &role_arn, &key.sign(&issuer.claims())).await.unwrap();

    orgs.enable_policy_type()
        .root_id(&root_id)
        .policy_type(PolicyType::ResourceControlPolicy)
        .send()
        .await
        .unwrap();
    let rcp = orgs
        .create_policy()
        .name("NoFederation")
        .description("")
        .r#type(PolicyType::ResourceControlPolicy)
        .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let rcp = rcp.policy().unwrap().policy_summary().unwrap().id().unwrap().to_owned();
    orgs.attach_policy()
        .policy_id(&rcp)
        .target_id(&member)
        .send()
        .await
        .unwrap();
    let (code, _) = assume(server, &role_arn, &key.sign(&issuer.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "AccessDenied");
}

/// The provider for `issuer` (with `thumbprint`) and a role trusting its tokens for
/// `SUBJECT`; returns the role's ARN.
async fn trust(server: &TestServer, issuer: &Issuer, thumbprint: &str, role: &str) -> String {
    let iam = server.root_iam();
    iam.create_open_id_connect_provider()
        .url(&issuer.url)
        .client_id_list(AUDIENCE)
        .thumbprint_list(thumbprint)
        .send()
        .await
        .unwrap();
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", issuer.host());
    let host = issuer.host();
    let policy = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {format!("{host}:aud"): AUDIENCE, format!("{host}:sub"): SUBJECT}}
    }]});
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(policy.to_string())
        .send()
        .await
        .unwrap();
    format!("arn:aws:iam::{ACCOUNT}:role/{role}")
}

async fn assume(
    server: &TestServer,
    role_arn: &str,
    token: &str,
) -> Result<aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput, (String, String)> {
    // Without the SDK's retries (it retries IDPCommunicationError), so that each call is one
    // request and the issuer's connection count says what oxiam did.
    let config = server
        .root_sts()
        .config()
        .to_builder()
        .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_sts::Client::from_conf(config)
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name("ci-run")
        .web_identity_token(token)
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            (e.code().unwrap_or("").to_owned(), e.message().unwrap_or("").to_owned())
        })
}

async fn a_token_the_role_trusts_gets_a_session(server: &TestServer) {
    let key = SigningKey::new("k1");
    let issuer = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    let ca = &certificates("ca.pem")[0];
    let role_arn = trust(server, &issuer, &thumbprint(ca), "ci").await;
    let answer = assume(server, &role_arn, &key.sign(&issuer.claims())).await.unwrap();
    assert_eq!(answer.subject_from_web_identity_token(), Some(SUBJECT));
    assert_eq!(answer.audience(), Some(AUDIENCE));
    assert_eq!(answer.provider(), Some(issuer.url.as_str()));
    let user = answer.assumed_role_user().unwrap();
    assert_eq!(user.arn(), format!("arn:aws:sts::{ACCOUNT}:assumed-role/ci/ci-run"));

    // The session acts as the role, as an AssumeRole session does.
    let c = answer.credentials().unwrap();
    let sts = server.sts_as_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(user.arn()));

    // A session policy limits the session to what both it and the role allow.
    server
        .root_iam()
        .put_role_policy()
        .role_name("ci")
        .policy_name("lists")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListRoles","iam:ListUsers"],"Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    let limited = server
        .root_sts()
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("limited")
        .web_identity_token(key.sign(&issuer.claims()))
        .policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();
    #[expect(
        deprecated,
        reason = "AWS answers PackedPolicySize alone; the SDK deprecates it for SessionTokenUtilization"
    )]
    let packed = limited.packed_policy_size();
    assert!(packed.is_some_and(|p| p > 0));
    assert_eq!(limited.session_token_utilization(), None);
    let iam = server.iam_as_session(limited.credentials().unwrap());
    iam.list_roles().send().await.unwrap();
    assert_eq!(
        common::code(&iam.list_users().send().await.unwrap_err()),
        "AccessDenied"
    );
}

/// The `https://aws.amazon.com/tags` claim passes session tags: they need sts:TagSession in
/// the trust policy, decide as `aws:PrincipalTag/…`, and must each have one value.
async fn the_tokens_tags_claim_passes_session_tags(server: &TestServer) {
    let key = SigningKey::new("k1");
    let issuer = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    let ca = &certificates("ca.pem")[0];
    let role_arn = trust(server, &issuer, &thumbprint(ca), "tagged").await;
    let iam = server.root_iam();
    iam.put_role_policy()
        .role_name("tagged")
        .policy_name("red-only")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]}"#)
        .send()
        .await
        .unwrap();
    let tagged = |team: serde_json::Value| {
        let mut claims = issuer.claims();
        claims["https://aws.amazon.com/tags"] =
            json!({"principal_tags": {"team": team}, "transitive_tag_keys": ["team"]});
        key.sign(&claims)
    };
    // Without sts:TagSession in the trust policy: refused.
    let (code, _) = assume(server, &role_arn, &tagged(json!(["red"]))).await.unwrap_err();
    assert_eq!(code, "AccessDenied");
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", issuer.host());
    iam.update_assume_role_policy()
        .role_name("tagged")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Federated": provider},
                "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    for (team, allowed) in [("red", true), ("blue", false)] {
        let answer = assume(server, &role_arn, &tagged(json!([team]))).await.unwrap();
        let listed = server
            .iam_as_session(answer.credentials().unwrap())
            .list_roles()
            .send()
            .await;
        assert_eq!(listed.is_ok(), allowed, "{team}");
    }
    // One value per tag.
    let (code, _) = assume(server, &role_arn, &tagged(json!(["red", "blue"])))
        .await
        .unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");
}

async fn tokens_the_role_must_not_take_are_refused(server: &TestServer) {
    let key = SigningKey::new("k1");
    let issuer = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    let role_arn = trust(server, &issuer, &thumbprint(&certificates("ca.pem")[0]), "ci").await;
    let refused = |code: &str, message: &str| (code.to_owned(), message.to_owned());
    let not_authorized = refused(
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    );

    // Another subject: the trust policy's condition does not hold.
    let mut other_subject = issuer.claims();
    other_subject["sub"] = json!("repo:attacker/app:ref:refs/heads/main");
    assert_eq!(
        assume(server, &role_arn, &key.sign(&other_subject)).await.unwrap_err(),
        not_authorized
    );

    // An audience the provider does not list.
    let mut other_audience = issuer.claims();
    other_audience["aud"] = json!("someone-else");
    assert_eq!(
        assume(server, &role_arn, &key.sign(&other_audience)).await.unwrap_err(),
        refused("InvalidIdentityToken", "Incorrect token audience")
    );

    // Expired.
    let mut expired = issuer.claims();
    expired["exp"] = json!(1_600_000_000);
    let (code, message) = assume(server, &role_arn, &key.sign(&expired)).await.unwrap_err();
    assert_eq!(code, "ExpiredTokenException", "{message}");

    // The trusted subject swapped into a token signed for another: the signature fails.
    let signed_for_other = key.sign(&other_subject);
    let parts: Vec<&str> = signed_for_other.split('.').collect();
    let swapped = format!(
        "{}.{}.{}",
        parts[0],
        b64(issuer.claims().to_string().as_bytes()),
        parts[2]
    );
    let (code, _) = assume(server, &role_arn, &swapped).await.unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");

    // A key of someone else's with the issuer's key id.
    let (code, _) = assume(server, &role_arn, &SigningKey::new("k1").sign(&issuer.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");

    // No signature at all.
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none"}"#),
        b64(issuer.claims().to_string().as_bytes())
    );
    let (code, _) = assume(server, &role_arn, &unsigned).await.unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");

    // An issuer the account has not registered.
    let mut stranger = issuer.claims();
    stranger["iss"] = json!("https://idp.invalid");
    assert_eq!(
        assume(server, &role_arn, &key.sign(&stranger)).await.unwrap_err(),
        refused(
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://idp.invalid"
        )
    );

    // Without a valid token of a registered issuer, whether a role exists is not told.
    let missing = format!("arn:aws:iam::{ACCOUNT}:role/nope");
    assert_eq!(
        assume(server, &missing, &key.sign(&stranger)).await.unwrap_err(),
        assume(server, &role_arn, &key.sign(&stranger)).await.unwrap_err(),
    );
    // With one, a role that does not exist answers as a refusal does.
    assert_eq!(
        assume(server, &missing, &key.sign(&issuer.claims())).await.unwrap_err(),
        not_authorized
    );

    // Issued in the future, or never expiring.
    let mut future = issuer.claims();
    future["iat"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() + 3600);
    let (code, _) = assume(server, &role_arn, &key.sign(&future)).await.unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");
    let mut endless = issuer.claims();
    endless.as_object_mut().unwrap().remove("exp");
    let (code, _) = assume(server, &role_arn, &key.sign(&endless)).await.unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");

    // And the trusted token still works: nothing above left a trace.
    assume(server, &role_arn, &key.sign(&issuer.claims())).await.unwrap();
}

async fn an_issuer_is_trusted_only_by_its_thumbprint(server: &TestServer) {
    let key = SigningKey::new("k1");
    // A one-certificate chain (self-signed): its own thumbprint trusts it.
    let self_signed = Issuer::start("issuer-self-signed.pem", "issuer-self-signed.key", &[&key]).await;
    let pinned = thumbprint(&certificates("issuer-self-signed.pem")[0]);
    let role_arn = trust(server, &self_signed, &pinned, "pinned").await;
    assume(server, &role_arn, &key.sign(&self_signed.claims()))
        .await
        .unwrap();

    // A chain whose top certificate matches no thumbprint is not reached: the leaf's own
    // thumbprint is not the top's.
    let chained = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    let leaf = thumbprint(&certificates("server.pem")[0]);
    let role_arn = trust(server, &chained, &leaf, "wrong-pin").await;
    let (code, _) = assume(server, &role_arn, &key.sign(&chained.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "IDPCommunicationError");
    assert_eq!(*chained.fetches.lock().unwrap(), 0, "no key set was fetched");
    // A failure is remembered too: tokens sent right after it do not reach the issuer.
    for _ in 0..3 {
        let (code, _) = assume(server, &role_arn, &key.sign(&chained.claims()))
            .await
            .unwrap_err();
        assert_eq!(code, "IDPCommunicationError");
    }
    assert_eq!(
        *chained.connections.lock().unwrap(),
        1,
        "one connection for four tokens"
    );

    // Registering the right thumbprint makes it reachable.
    let provider = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{}", chained.host());
    server
        .root_iam()
        .update_open_id_connect_provider_thumbprint()
        .open_id_connect_provider_arn(provider)
        .thumbprint_list(thumbprint(&certificates("ca.pem")[0]))
        .send()
        .await
        .unwrap();
    assume(server, &role_arn, &key.sign(&chained.claims())).await.unwrap();
}

async fn a_rotated_key_is_fetched_again(server: &TestServer) {
    let old = SigningKey::new("2026-01");
    let issuer = Issuer::start("server-chain.pem", "server.key", &[&old]).await;
    let role_arn = trust(server, &issuer, &thumbprint(&certificates("ca.pem")[0]), "rotating").await;
    assume(server, &role_arn, &old.sign(&issuer.claims())).await.unwrap();
    assume(server, &role_arn, &old.sign(&issuer.claims())).await.unwrap();
    assert_eq!(*issuer.fetches.lock().unwrap(), 1, "the key set is kept");

    // An unknown key id asks the issuer again, but not more often than every two seconds:
    // made-up key ids cannot make oxiam flood the issuer.
    let made_up = SigningKey::new("made-up");
    let (code, _) = assume(server, &role_arn, &made_up.sign(&issuer.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "InvalidIdentityToken");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let new = SigningKey::new("2026-02");
    issuer.keys.lock().unwrap().push(new.jwk());
    assume(server, &role_arn, &new.sign(&issuer.claims())).await.unwrap();
    assert_eq!(
        *issuer.fetches.lock().unwrap(),
        2,
        "an unknown key id fetched again once"
    );
}

async fn an_issuer_that_stalls_or_floods_is_given_up_on(server: &TestServer) {
    let key = SigningKey::new("k1");
    let ca = thumbprint(&certificates("ca.pem")[0]);
    // A key set past the 256 KiB oxiam reads.
    let flooding = Issuer::start("server-chain.pem", "server.key", &[&key]).await;
    flooding
        .keys
        .lock()
        .unwrap()
        .push(json!({"kty": "oct", "k": "A".repeat(300 * 1024)}));
    let role_arn = trust(server, &flooding, &ca, "flooded").await;
    let (code, _) = assume(server, &role_arn, &key.sign(&flooding.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "IDPCommunicationError");

    // An issuer that takes the connection and never answers is given up on (the request
    // answers at all only because the fetch has a time limit).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let stalled = Issuer {
        url: format!("https://127.0.0.1:{port}"),
        keys: Arc::default(),
        fetches: Arc::default(),
        connections: Arc::default(),
    };
    let role_arn = trust(server, &stalled, &ca, "stalled").await;
    let (code, _) = assume(server, &role_arn, &key.sign(&stalled.claims()))
        .await
        .unwrap_err();
    assert_eq!(code, "IDPCommunicationError");
}
