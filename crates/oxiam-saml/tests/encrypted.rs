//! Encrypted assertions made with xmlsec1 (and by hand, each checked with xmlsec):
//! `fixtures/encrypted/manifest.json` (from `fixtures/encrypted/generate.py`). Every valid
//! one decrypts with the service provider's key and reads as signed; every other is refused
//! for its reason; none yields the evil subject.

use base64::Engine as _;
use oxiam_saml::{DecryptionError, DecryptionKey, ResponseError, RsaPublicKey, SignatureError, read_with};
use serde_json::Value;

fn dir() -> String {
    format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

fn decryption_key(name: &str) -> DecryptionKey {
    let pem = std::fs::read_to_string(format!("{}/encrypted/{name}", dir())).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    DecryptionKey::from_pkcs8(&der).unwrap()
}

fn class(error: &ResponseError) -> &'static str {
    match error {
        ResponseError::InEncrypted(inner) => class(inner),
        ResponseError::Decryption(DecryptionError::NoKey) => "wrong_key",
        ResponseError::Decryption(DecryptionError::UnsupportedAlgorithm) => "unsupported_algorithm",
        ResponseError::Decryption(DecryptionError::Malformed) => "malformed",
        ResponseError::NotWellFormed | ResponseError::Malformed(_) => "malformed",
        ResponseError::Wrapping(_) | ResponseError::Signature(SignatureError::ReferencesAnotherElement) => "wrapping",
        ResponseError::Unsigned => "unsigned",
        ResponseError::Signature(SignatureError::BadSignature) => "bad_signature",
        ResponseError::Signature(SignatureError::BadDigest) => "bad_digest",
        ResponseError::Signature(_) => "malformed",
        ResponseError::Status(_) => "status",
        ResponseError::Encrypted => "encrypted",
    }
}

#[test]
fn every_encrypted_fixture_decrypts_or_is_refused_as_the_manifest_says() {
    let manifest: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{}/encrypted/manifest.json", dir())).unwrap()).unwrap();
    let signing = [RsaPublicKey(
        std::fs::read(format!("{}/keys/idp.pub.der", dir())).unwrap(),
    )];
    let decryption = [decryption_key("sp.key.pem")];
    let mut failures = Vec::new();
    for case in &manifest {
        let file = case["file"].as_str().unwrap();
        let xml = std::fs::read_to_string(format!("{}/encrypted/{file}", dir())).unwrap();
        let expect = case["expect"].as_str().unwrap();
        let also: Vec<&str> = case
            .get("accept_also")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let outcome = read_with(&xml, &signing, &decryption);
        if let Ok(a) = &outcome {
            assert_ne!(
                a.name_id.as_deref(),
                Some("mallory@evil.test"),
                "{file}: the evil assertion was read"
            );
        }
        match (&outcome, expect) {
            (Ok(a), "valid") => {
                let roles: Vec<String> = case["roles"]
                    .as_array()
                    .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default();
                if !a.encrypted
                    || a.name_id.as_deref() != case["name_id"].as_str()
                    || a.attribute("https://aws.amazon.com/SAML/Attributes/Role") != roles.as_slice()
                {
                    failures.push(format!("{file}: read {a:?}"));
                }
            }
            (Err(e), _) if class(e) == expect || also.contains(&class(e)) => {}
            // A tampered ciphertext either fails to decrypt or decrypts to what no signature covers.
            (Err(e), "tampered") if matches!(class(e), "wrong_key" | "malformed" | "bad_digest") => {}
            (Err(e), "bad_signature") if class(e) == "bad_signature" || class(e) == "bad_digest" => {}
            (outcome, _) => failures.push(format!("{file}: expected {expect} {also:?}, got {outcome:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The same key in PKCS #1 reads as the PKCS #8 one does (as oxiam-core takes both), and
/// another service provider's key decrypts nothing.
#[test]
fn only_the_service_providers_key_decrypts() {
    let xml = std::fs::read_to_string(format!("{}/encrypted/valid_aes256gcm_rsaoaepmgf1p.xml", dir())).unwrap();
    let signing = [RsaPublicKey(
        std::fs::read(format!("{}/keys/idp.pub.der", dir())).unwrap(),
    )];
    assert!(read_with(&xml, &signing, &[decryption_key("sp.key.pem")]).is_ok());
    assert_eq!(
        read_with(&xml, &signing, &[decryption_key("other_sp.key.pem")]),
        Err(ResponseError::InEncrypted(Box::new(ResponseError::Decryption(
            DecryptionError::NoKey
        ))))
    );
    assert_eq!(
        read_with(&xml, &signing, &[]),
        Err(ResponseError::Encrypted),
        "no key given: refused as encrypted"
    );
}
