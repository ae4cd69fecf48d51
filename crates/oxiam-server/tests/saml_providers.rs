//! End to end: SAML identity providers with the AWS SDK for Rust — metadata checked as AWS
//! checks it (with its texts), the fields AWS answers (a `SAMLSP…` id, `ValidUntil` 100 years
//! on whatever the metadata says, tags by key), updates, tags, deletion, and what is not
//! served yet said so.

use crate::common;

use aws_sdk_iam::types::{AssertionEncryptionModeType, Tag};
use common::{ACCOUNT, TestServer, code, message};

on_both_backends!(
    a_saml_provider_lives_and_dies_as_on_aws,
    private_keys_are_two_at_most_and_required_needs_one
);

fn key(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../oxiam-saml/tests/fixtures/keys/{name}.key.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

async fn private_keys_are_two_at_most_and_required_needs_one(s: &TestServer) {
    let root = s.root_iam();
    let arn = root
        .create_saml_provider()
        .name("encrypting")
        .saml_metadata_document(metadata())
        .add_private_key(key("idp"))
        .assertion_encryption_mode(AssertionEncryptionModeType::Required)
        .send()
        .await
        .unwrap()
        .saml_provider_arn
        .unwrap();
    let got = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert_eq!(
        got.assertion_encryption_mode(),
        Some(&AssertionEncryptionModeType::Required)
    );
    let keys = got.private_key_list();
    assert_eq!(keys.len(), 1);
    let first = keys[0].key_id().unwrap().to_owned();
    assert!(
        (22..=64).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{first}"
    );
    assert!(keys[0].timestamp().is_some());

    let update = || root.update_saml_provider().saml_provider_arn(&arn);
    update().add_private_key(key("attacker")).send().await.unwrap();
    assert_eq!(
        root.get_saml_provider()
            .saml_provider_arn(&arn)
            .send()
            .await
            .unwrap()
            .private_key_list()
            .len(),
        2
    );
    // A third is one too many; nothing is kept of the refused request.
    let e = update()
        .add_private_key(key("idp"))
        .saml_metadata_document(metadata().replace("idp.example.com/sso", "idp.example.com/refused"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "LimitExceeded");
    let got = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert!(!got.saml_metadata_document().unwrap().contains("refused"));
    let e = update()
        .remove_private_key("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchEntity");
    update().remove_private_key(&first).send().await.unwrap();
    let left = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert_eq!(left.private_key_list().len(), 1);
    // Required keeps its last key.
    let last = left.private_key_list()[0].key_id().unwrap().to_owned();
    let e = update().remove_private_key(&last).send().await.unwrap_err();
    assert_eq!(
        message(&e),
        "Failed to set assertion encryption mode to Required because no private key is present."
    );
    update()
        .remove_private_key(&last)
        .assertion_encryption_mode(AssertionEncryptionModeType::Allowed)
        .send()
        .await
        .unwrap();
    let got = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert!(got.private_key_list().is_empty());
    assert_eq!(
        got.assertion_encryption_mode(),
        Some(&AssertionEncryptionModeType::Allowed)
    );
}

fn metadata() -> String {
    let path = format!(
        "{}/../oxiam-core/tests/fixtures/saml/idp.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

async fn a_saml_provider_lives_and_dies_as_on_aws(s: &TestServer) {
    let root = s.root_iam();
    assert!(
        root.list_saml_providers()
            .send()
            .await
            .unwrap()
            .saml_provider_list()
            .is_empty()
    );

    let created = root
        .create_saml_provider()
        .name("corp-idp")
        .saml_metadata_document(metadata())
        .tags(tag("z", "1"))
        .tags(tag("A", "2"))
        .send()
        .await
        .unwrap();
    let arn = created.saml_provider_arn().unwrap().to_owned();
    assert_eq!(arn, format!("arn:aws:iam::{ACCOUNT}:saml-provider/corp-idp"));
    let keys: Vec<_> = created.tags().iter().map(Tag::key).collect();
    assert_eq!(keys, ["z", "A"], "as given");

    let got = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert_eq!(got.saml_metadata_document(), Some(metadata().as_str()));
    let uuid = got.saml_provider_uuid().unwrap();
    assert!(uuid.starts_with("SAMLSP") && uuid.len() == 22, "{uuid}");
    let created_at = got.create_date().unwrap().secs();
    // 100 years on, whatever the metadata's own validUntil (2030) says.
    let years = (got.valid_until().unwrap().secs() - created_at) as f64 / (365.2425 * 86_400.0);
    assert!((years - 100.0).abs() < 0.01, "{years}");
    let keys: Vec<_> = got.tags().iter().map(Tag::key).collect();
    assert_eq!(keys, ["A", "z"], "by key");
    assert_eq!(
        got.assertion_encryption_mode(),
        Some(&AssertionEncryptionModeType::Allowed)
    );
    let listed = root.list_saml_providers().send().await.unwrap();
    assert_eq!(listed.saml_provider_list()[0].arn(), Some(arn.as_str()));

    // AWS's refusals.
    let e = root
        .create_saml_provider()
        .name("corp-idp")
        .saml_metadata_document(metadata())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityAlreadyExists");
    let no_issuer = metadata().replace("IDPSSODescriptor", "SPSSODescriptor");
    let e = root
        .create_saml_provider()
        .name("sp-only")
        .saml_metadata_document(no_issuer)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput");
    assert_eq!(
        message(&e),
        "SAML Providers must reference at least one SAML assertion issuer."
    );
    let e = root
        .create_saml_provider()
        .name("broken")
        .saml_metadata_document(metadata().replace("</md:EntityDescriptor>", "</md:Other>"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), "Could not parse metadata");
    let e = root
        .create_saml_provider()
        .name("encrypted")
        .saml_metadata_document(metadata())
        .assertion_encryption_mode(AssertionEncryptionModeType::Required)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
    let e = root
        .create_saml_provider()
        .name("keyed")
        .saml_metadata_document(metadata())
        .add_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidInput", "not a private key");

    // Updates: new metadata, or nothing (refused).
    root.update_saml_provider()
        .saml_provider_arn(&arn)
        .saml_metadata_document(metadata().replace("idp.example.com/sso", "idp.example.com/sso2"))
        .send()
        .await
        .unwrap();
    let got = root.get_saml_provider().saml_provider_arn(&arn).send().await.unwrap();
    assert!(got.saml_metadata_document().unwrap().contains("sso2"));
    assert_eq!(got.saml_provider_uuid(), Some(uuid), "the id stays");
    let e = root
        .update_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
    let e = root
        .update_saml_provider()
        .saml_provider_arn(&arn)
        .assertion_encryption_mode(AssertionEncryptionModeType::Required)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        message(&e),
        "Failed to set assertion encryption mode to Required because no private key is present."
    );

    // Tags.
    root.untag_saml_provider()
        .saml_provider_arn(&arn)
        .tag_keys("z")
        .send()
        .await
        .unwrap();
    root.tag_saml_provider()
        .saml_provider_arn(&arn)
        .tags(tag("b", "3"))
        .send()
        .await
        .unwrap();
    let tags = root
        .list_saml_provider_tags()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(Tag::key).collect();
    assert_eq!(keys, ["A", "b"]);

    root.delete_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = format!("Manifest not found for arn {arn}");
    let e = root
        .get_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e), message(&e)), ("NoSuchEntity".to_owned(), gone.clone()));
    let e = root
        .delete_saml_provider()
        .saml_provider_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!((code(&e), message(&e)), ("NoSuchEntity".to_owned(), gone));
}
