//! TLS on the server's one port (`serve --tls-cert FILE --tls-key FILE`): rustls, with the
//! aws-lc-rs provider the AWS SDK builds already. With it, every connection must start
//! with a TLS handshake; without it, the port speaks plain HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The certificate chain and private key to serve with, both PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate, then any intermediates.
    pub cert: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {path}: {message}")]
pub struct TlsError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub message: String,
}

/// The acceptor for `files`, after reading and checking both.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, TlsError> {
    let fail = |path: &Path, message: String| TlsError {
        path: path.to_owned(),
        message,
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| fail(path, e.to_string()));
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(&files.cert, format!("not a PEM certificate chain ({e})")))?;
    if chain.is_empty() {
        return Err(fail(&files.cert, "holds no certificate".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|e| fail(&files.key, format!("not a PEM private key ({e})")))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail(&files.cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => fail(&files.key, format!("does not go with the certificate ({e})")),
            rustls::Error::InvalidCertificate(_) => fail(&files.cert, format!("not a usable certificate ({e})")),
            e => fail(
                &files.key,
                format!(
                    "the key and certificate cannot be used ({e}); the key must be unencrypted RSA, ECDSA or Ed25519"
                ),
            ),
        })?;
    // The front door speaks HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
