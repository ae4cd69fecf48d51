//! X.509 certificates against fixtures made by an independent implementation (Python's
//! `cryptography`, `fixtures/x509/generate.py`): validity as it reads it, a chain (an RSA
//! root, a P-384 intermediate, a P-256 leaf) in order, and private keys in each encoding.

use oxiam_core::x509::{Certificate, CertificateKey, Curve, PrivateKeyError};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/x509/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn one(name: &str) -> Certificate {
    let mut all = Certificate::all_from_pem(&fixture(name)).unwrap_or_else(|| panic!("{name} parses"));
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn validity_is_what_cryptography_wrote() {
    let validity: serde_json::Value = serde_json::from_str(&fixture("validity.json")).unwrap();
    for (name, times) in validity.as_object().unwrap() {
        let cert = one(&format!("{name}.pem"));
        assert_eq!(cert.not_before, times[0].as_i64().unwrap(), "{name}");
        assert_eq!(cert.not_after, times[1].as_i64().unwrap(), "{name}");
    }
    let now = 1_800_000_000;
    assert!(one("valid.pem").valid_at(now));
    assert!(!one("expired.pem").valid_at(now));
    assert!(!one("future.pem").valid_at(now));
}

#[test]
fn keys_are_read_with_their_kind() {
    assert!(matches!(one("valid.pem").key, CertificateKey::Rsa { bits: 2048, .. }));
    assert!(matches!(
        one("intermediate.pem").key,
        CertificateKey::Ec { curve: Curve::P384, .. }
    ));
    assert!(matches!(
        one("leaf.pem").key,
        CertificateKey::Ec { curve: Curve::P256, .. }
    ));
}

#[test]
fn a_chain_is_checked_link_by_link() {
    let (root, intermediate, leaf) = (one("root.pem"), one("intermediate.pem"), one("leaf.pem"));
    assert!(leaf.is_signed_by(&intermediate), "ECDSA P-384 with SHA-256");
    assert!(intermediate.is_signed_by(&root), "RSA with SHA-384");
    assert!(root.is_signed_by(&root), "self-signed");
    assert!(!leaf.is_signed_by(&root));
    assert!(!intermediate.is_signed_by(&leaf));
    // Another key under the same name does not sign it.
    let valid = one("valid.pem");
    assert!(valid.is_signed_by(&valid));
    assert!(!one("expired.pem").is_signed_by(&valid));
}

#[test]
fn several_certificates_read_in_order() {
    let chain = format!("{}{}", fixture("intermediate.pem"), fixture("root.pem"));
    let all = Certificate::all_from_pem(&chain).unwrap();
    assert_eq!(all, [one("intermediate.pem"), one("root.pem")]);
    // Nothing but certificates, and nothing outside them.
    assert!(Certificate::all_from_pem(&format!("junk\n{chain}")).is_none());
    assert!(Certificate::all_from_pem(&fixture("valid.pkcs1.key")).is_none());
    assert!(Certificate::all_from_pem("").is_none());
}

#[test]
fn private_keys_match_their_certificate_only() {
    let valid = one("valid.pem");
    assert_eq!(valid.check_private_key(&fixture("valid.pkcs1.key")), Ok(()));
    assert_eq!(valid.check_private_key(&fixture("valid.pkcs8.key")), Ok(()));
    assert_eq!(
        valid.check_private_key(&fixture("other.pkcs1.key")),
        Err(PrivateKeyError::Mismatch)
    );
    assert_eq!(
        valid.check_private_key(&fixture("leaf.sec1.key")),
        Err(PrivateKeyError::Mismatch)
    );
    assert_eq!(
        valid.check_private_key(&fixture("valid.encrypted.key")),
        Err(PrivateKeyError::Unreadable)
    );
    assert_eq!(valid.check_private_key("not a key"), Err(PrivateKeyError::Unreadable));
    let leaf = one("leaf.pem");
    assert_eq!(leaf.check_private_key(&fixture("leaf.sec1.key")), Ok(()));
    assert_eq!(leaf.check_private_key(&fixture("leaf.pkcs8.key")), Ok(()));
    assert_eq!(
        leaf.check_private_key(&fixture("valid.pkcs8.key")),
        Err(PrivateKeyError::Mismatch)
    );
}

#[test]
fn only_versions_1_to_3_are_certificates() {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut der = one("valid.pem").der;
    // [0] EXPLICIT INTEGER 2 (v3), made 3 (a "v4").
    let at = der
        .windows(5)
        .position(|w| w == [0xa0, 0x03, 0x02, 0x01, 0x02])
        .expect("a v3 certificate");
    der[at + 4] = 3;
    let text = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        engine.encode(&der)
    );
    assert!(Certificate::all_from_pem(&text).is_none());
}

proptest! {
    /// Whatever arrives in a CERTIFICATE block, parsing answers (never panics).
    #[test]
    fn parsing_any_certificate_answers(bytes in proptest::collection::vec(any::<u8>(), 0..800)) {
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let _ = Certificate::all_from_pem(&format!("-----BEGIN CERTIFICATE-----\n{encoded}\n-----END CERTIFICATE-----\n"));
    }

    /// A real certificate with one byte changed parses or not, but never panics, and a
    /// changed signed part no longer verifies.
    #[test]
    fn a_changed_certificate_answers(index in 0usize..2000, value in any::<u8>()) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let original = one("valid.pem");
        let mut der = original.der.clone();
        let index = index % der.len();
        prop_assume!(der[index] != value);
        der[index] = value;
        let text = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", engine.encode(&der));
        if let Some(changed) = Certificate::all_from_pem(&text) {
            prop_assert!(!changed[0].is_signed_by(&original));
        }
    }
}
