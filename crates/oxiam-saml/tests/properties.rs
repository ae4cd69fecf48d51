//! Properties of the reader over changed input: nothing panics, and no change to a signed
//! response that still verifies changes what it says (the subject, the roles, the issuer).

use oxiam_saml::{RsaPublicKey, read};
use proptest::prelude::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn idp() -> RsaPublicKey {
    RsaPublicKey(
        std::fs::read(format!(
            "{}/tests/fixtures/keys/idp.pub.der",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = read(&text, &[idp()]);
    }

    #[test]
    fn a_changed_response_never_says_something_else(
        name in prop::sample::select(vec![
            "valid_assertion_signed_pretty.xml",
            "valid_response_signed.xml",
            "valid_default_namespace.xml",
            "valid_both_signed.xml",
        ]),
        at in any::<prop::sample::Index>(),
        len in 0usize..8,
        insert in prop::sample::select(vec![
            "", " ", "\n", "<!---->", "x", "&amp;", "<a/>", "\"", "'", "evil", "ID=\"_x\" ",
        ]),
    ) {
        let original = fixture(name);
        let keys = [idp()];
        let said = read(&original, &keys).unwrap();
        let mut bytes = original.into_bytes();
        let start = at.index(bytes.len());
        let end = (start + len).min(bytes.len());
        bytes.splice(start..end, insert.bytes());
        let Ok(changed) = String::from_utf8(bytes) else { return Ok(()) };
        if let Ok(now) = read(&changed, &keys) {
            prop_assert_eq!(&now.name_id, &said.name_id);
            prop_assert_eq!(&now.issuer, &said.issuer);
            prop_assert_eq!(&now.attributes, &said.attributes);
            prop_assert_eq!(&now.confirmations, &said.confirmations);
            prop_assert_eq!(&now.audience_restrictions, &said.audience_restrictions);
        }
    }
}
