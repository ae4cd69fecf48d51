//! SAML responses signed by signxml (and a few by hand, each verified by signxml), tampered
//! with and wrapped (`fixtures/responses/manifest.json`, made by `fixtures/generate.py`):
//! every valid one reads as the manifest says, every other is refused for its reason, and
//! no refused one ever yields the evil assertion's subject or role.

use oxiam_saml::{ResponseError, RsaPublicKey, SignatureError, read};
use serde_json::Value;

fn key(name: &str) -> RsaPublicKey {
    let path = format!("{}/tests/fixtures/keys/{name}.pub.der", env!("CARGO_MANIFEST_DIR"));
    RsaPublicKey(std::fs::read(path).unwrap())
}

/// The manifest's name for a refusal. A signature no trusted key verifies is one answer
/// whether the key is another's or the bytes were changed.
fn class(error: &ResponseError) -> &'static str {
    match error {
        ResponseError::NotWellFormed | ResponseError::Malformed(_) => "malformed",
        ResponseError::Status(_) => "status_not_success",
        ResponseError::Encrypted => "encrypted",
        ResponseError::Decryption(_) | ResponseError::InEncrypted(_) => "decryption",
        ResponseError::Unsigned => "unsigned",
        ResponseError::Wrapping(_) => "wrapping",
        ResponseError::Signature(SignatureError::Unsigned) => "unsigned",
        ResponseError::Signature(SignatureError::Malformed) => "malformed",
        ResponseError::Signature(SignatureError::ReferencesAnotherElement) => "wrapping",
        ResponseError::Signature(SignatureError::UnsupportedAlgorithm) => "unsupported_algorithm",
        ResponseError::Signature(SignatureError::BadDigest) => "bad_digest",
        ResponseError::Signature(SignatureError::BadSignature) => "bad_signature",
    }
}

fn time(v: &Value) -> Option<i64> {
    v.as_str().map(|t| oxiam_saml::response::date_time(t).unwrap())
}

#[test]
fn every_fixture_reads_or_is_refused_as_the_manifest_says() {
    let manifest: Vec<Value> = serde_json::from_str(include_str!("fixtures/responses/manifest.json")).unwrap();
    let keys = [key("idp")];
    let mut failures = Vec::new();
    for case in &manifest {
        let file = case["file"].as_str().unwrap();
        let path = format!("{}/tests/fixtures/responses/{file}", env!("CARGO_MANIFEST_DIR"));
        let xml = std::fs::read_to_string(&path).unwrap();
        let expect = case["expect"].as_str().unwrap();
        let also: Vec<&str> = case
            .get("accept_also")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let outcome = read(&xml, &keys);
        match (&outcome, expect) {
            (Ok(a), "valid") => {
                let checks = [
                    (
                        "issuer",
                        Some(a.issuer.clone()) == case["issuer"].as_str().map(str::to_owned),
                    ),
                    ("name_id", a.name_id.as_deref() == case["name_id"].as_str()),
                    (
                        "name_id_format",
                        a.name_id_format.as_deref() == case["name_id_format"].as_str(),
                    ),
                    ("not_on_or_after", a.not_on_or_after == time(&case["not_on_or_after"])),
                    ("not_before", a.not_before == time(&case["not_before"])),
                    ("issue_instant", Some(a.issue_instant) == time(&case["issue_instant"])),
                    (
                        "recipient",
                        a.confirmations.first().and_then(|c| c.recipient.as_deref()) == case["recipient"].as_str(),
                    ),
                    (
                        "subject_not_on_or_after",
                        a.confirmations.first().and_then(|c| c.not_on_or_after)
                            == time(&case["subject_not_on_or_after"]),
                    ),
                    (
                        "audiences",
                        a.audience_restrictions.concat()
                            == case["audiences"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|v| v.as_str().unwrap().to_owned())
                                .collect::<Vec<_>>(),
                    ),
                    (
                        "attributes",
                        case["attributes"].as_object().unwrap().iter().all(|(name, values)| {
                            a.attribute(name)
                                == values
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|v| v.as_str().unwrap().to_owned())
                                    .collect::<Vec<_>>()
                        }) && a.attributes.len() == case["attributes"].as_object().unwrap().len(),
                    ),
                ];
                for (what, ok) in checks {
                    if !ok {
                        failures.push(format!("{file}: {what} differs: {a:?}"));
                    }
                }
            }
            (Ok(a), _) if also.contains(&"valid") => {
                if a.name_id.as_deref() != Some("alice@example.test") {
                    failures.push(format!("{file}: read another subject: {a:?}"));
                }
            }
            (Ok(a), _) => failures.push(format!("{file}: expected {expect}, read {a:?}")),
            (Err(e), _) if class(e) == expect || also.contains(&class(e)) => {}
            // One answer for another's key and changed bytes.
            (Err(e), "untrusted_key") if class(e) == "bad_signature" => {}
            (Err(e), _) => failures.push(format!("{file}: expected {expect} {also:?}, refused as {e:?}")),
        }
        if let Ok(a) = &outcome {
            let evil = a.name_id.as_deref() == Some("mallory@evil.test")
                || a.attributes
                    .iter()
                    .any(|(_, v)| v.iter().any(|v| v.contains("role/Admin")));
            assert!(!evil, "{file}: the evil assertion was read");
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The attacker's key verifies nothing the identity provider is trusted for, and the
/// identity provider's fixtures verify with nothing but its key.
#[test]
fn only_the_trusted_key_verifies() {
    let path = format!(
        "{}/tests/fixtures/responses/valid_assertion_signed_pretty.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let xml = std::fs::read_to_string(path).unwrap();
    assert!(read(&xml, &[key("idp")]).is_ok());
    assert_eq!(
        read(&xml, &[key("attacker")]),
        Err(ResponseError::Signature(SignatureError::BadSignature))
    );
    assert_eq!(
        read(&xml, &[]),
        Err(ResponseError::Signature(SignatureError::BadSignature))
    );
    assert!(
        read(&xml, &[key("attacker"), key("idp")]).is_ok(),
        "any trusted key will do"
    );
}
