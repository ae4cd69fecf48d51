//! An OpenID Connect issuer's signing keys, fetched over HTTPS for AssumeRoleWithWebIdentity:
//! the discovery document (`ISSUER/.well-known/openid-configuration`), then the key set at
//! its `jwks_uri`. Kept for ten minutes per issuer; a token naming a key the kept set lacks
//! asks again (the issuer may have rotated), but not within two seconds of the last fetch,
//! failed or not: the callers are unauthenticated, and a stream of made-up key ids, or of
//! tokens naming an issuer that does not answer, must not turn oxiam into a stream of
//! requests to the issuer.
//!
//! Whose certificate is trusted is AWS's documented rule: the SHA-1 thumbprint of the top
//! certificate of the chain the server presents must be one the provider registered. That
//! certificate then anchors the usual checks of the chain and of the host name; a chain of
//! one certificate (a self-signed issuer) is trusted as that very certificate, whose key
//! the handshake proves the server holds. A provider with no thumbprints is not reached:
//! oxiam has no list of public CAs to fall back on.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use oxiam_core::web_identity::{IssuerKeys, KeyFetchError};
use oxiam_jwt::Key;
use rustls::DigitallySignedStruct;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use sha1::Digest as _;

/// How long fetched keys are used before being fetched again.
const KEEP_KEYS: Duration = Duration::from_secs(600);
/// The least time between two fetches of one issuer's keys.
const MIN_REFETCH: Duration = Duration::from_secs(2);
/// The longest a fetch may take, connection and answer included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest discovery document or key set read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// What one fetch of an issuer's keys came to.
type Fetched = Result<Vec<Key>, KeyFetchError>;

/// Fetches and keeps issuers' keys.
#[derive(Default)]
pub struct IssuerKeyFetcher {
    /// Per issuer (and thumbprints): when it was last asked, and what came of it.
    kept: Mutex<HashMap<String, (Instant, Fetched)>>,
}

impl IssuerKeys for IssuerKeyFetcher {
    fn keys<'a>(
        &'a self,
        issuer_url: &'a str,
        thumbprints: &'a [String],
        fresh: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Key>, KeyFetchError>> + Send + 'a>> {
        Box::pin(async move {
            // Kept keys are per issuer and per set of thumbprints: keys fetched under one
            // provider's trust are not handed to another's.
            let kept_as = format!("{issuer_url} {}", thumbprints.join(","));
            if let Some((at, outcome)) = self.kept.lock().unwrap_or_else(|e| e.into_inner()).get(&kept_as) {
                let age = at.elapsed();
                if age < MIN_REFETCH || (!fresh && outcome.is_ok() && age < KEEP_KEYS) {
                    return outcome.clone();
                }
            }
            let outcome = tokio::time::timeout(FETCH_TIMEOUT, fetch_keys(issuer_url, thumbprints))
                .await
                .unwrap_or_else(|_| {
                    Err(KeyFetchError(format!(
                        "{issuer_url} did not answer within {FETCH_TIMEOUT:?}"
                    )))
                });
            self.kept
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(kept_as, (Instant::now(), outcome.clone()));
            outcome
        })
    }
}

async fn fetch_keys(issuer_url: &str, thumbprints: &[String]) -> Result<Vec<Key>, KeyFetchError> {
    if thumbprints.is_empty() {
        return Err(KeyFetchError(
            "the provider has no thumbprints, and oxiam trusts an issuer's certificate only by them".into(),
        ));
    }
    let discovery = format!("{}/.well-known/openid-configuration", issuer_url.trim_end_matches('/'));
    let document = get(&discovery, thumbprints).await?;
    let document: serde_json::Value =
        serde_json::from_slice(&document).map_err(|e| KeyFetchError(format!("{discovery}: not JSON: {e}")))?;
    let jwks_uri = document
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .filter(|u| u.starts_with("https://"))
        .ok_or_else(|| KeyFetchError(format!("{discovery}: no https jwks_uri")))?;
    let set = get(jwks_uri, thumbprints).await?;
    oxiam_jwt::parse_key_set(&set).map_err(|e| KeyFetchError(format!("{jwks_uri}: {e}")))
}

/// `GET url` over TLS trusted by `thumbprints`; the body of a 200 answer.
async fn get(url: &str, thumbprints: &[String]) -> Result<Vec<u8>, KeyFetchError> {
    let fail = |what: String| KeyFetchError(format!("{url}: {what}"));
    let rest = url.strip_prefix("https://").ok_or_else(|| fail("not https".into()))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !authority.ends_with(']') => {
            (host, port.parse::<u16>().map_err(|_| fail("bad port".into()))?)
        }
        _ => (authority, 443),
    };
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let server_name = ServerName::try_from(bare_host.to_owned()).map_err(|_| fail("bad host".into()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = ThumbprintVerifier::new(thumbprints, provider.clone()).map_err(fail)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect((bare_host, port))
        .await
        .map_err(|e| fail(format!("cannot connect: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| fail(format!("TLS: {e}")))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| fail(e.to_string()))?;
    tokio::spawn(connection);
    let request = http::Request::get(path)
        .header(http::header::HOST, authority)
        .header(http::header::ACCEPT, "application/json")
        .body(Full::new(bytes::Bytes::new()))
        .map_err(|e| fail(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| fail(e.to_string()))?;
    if response.status() != http::StatusCode::OK {
        return Err(fail(format!("answered {}", response.status())));
    }
    let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
        .collect()
        .await
        .map_err(|e| fail(format!("reading the answer: {e}")))?;
    Ok(body.to_bytes().to_vec())
}

/// Trusts a server whose chain's top certificate has one of the registered thumbprints.
#[derive(Debug)]
struct ThumbprintVerifier {
    thumbprints: Vec<[u8; 20]>,
    provider: Arc<CryptoProvider>,
}

impl ThumbprintVerifier {
    fn new(thumbprints: &[String], provider: Arc<CryptoProvider>) -> Result<Self, String> {
        let thumbprints = thumbprints
            .iter()
            .map(|t| decode_thumbprint(t).ok_or_else(|| format!("thumbprint {t} is not 40 hex digits")))
            .collect::<Result<_, _>>()?;
        Ok(Self { thumbprints, provider })
    }
}

fn decode_thumbprint(text: &str) -> Option<[u8; 20]> {
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()?;
    }
    Some(out)
}

impl ServerCertVerifier for ThumbprintVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let top = intermediates.last().unwrap_or(end_entity);
        let thumbprint: [u8; 20] = sha1::Sha1::digest(top.as_ref()).into();
        if !self.thumbprints.contains(&thumbprint) {
            return Err(rustls::Error::General(
                "the certificate chain's top certificate matches none of the provider's thumbprints".into(),
            ));
        }
        let Some((_, below)) = intermediates.split_last() else {
            // One certificate, the pinned one itself.
            return Ok(ServerCertVerified::assertion());
        };
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(top.clone())
            .map_err(|e| rustls::Error::General(format!("the top certificate cannot anchor the chain: {e}")))?;
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?
            .verify_server_cert(end_entity, below, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
