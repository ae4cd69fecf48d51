//! SAML 2.0 identity provider metadata as IAM takes it: what AWS was recorded accepting and
//! refusing (an `EntitiesDescriptor` around the provider, no `md:` prefix, no signing key at
//! all; no identity provider, no `entityID`, a certificate that does not parse), and no DTD.

use oxiam_core::saml_metadata::{MetadataError, parse};
use proptest::prelude::*;

fn fixture() -> String {
    let path = format!("{}/tests/fixtures/saml/idp.xml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn an_identity_providers_metadata_is_read() {
    let metadata = parse(&fixture()).unwrap();
    assert_eq!(metadata.entity_id, "https://idp.example.com/saml");
    assert_eq!(metadata.signing_certificates.len(), 1);
}

#[test]
fn what_aws_accepts_is_accepted() {
    let wrapped = fixture()
        .replacen(
            "<md:EntityDescriptor",
            "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"><md:EntityDescriptor",
            1,
        )
        .replacen(
            "</md:EntityDescriptor>",
            "</md:EntityDescriptor></md:EntitiesDescriptor>",
            1,
        );
    assert_eq!(parse(&wrapped).unwrap().entity_id, "https://idp.example.com/saml");
    let unprefixed = fixture().replace("md:", "").replace("xmlns:md=", "xmlns=");
    assert_eq!(parse(&unprefixed).unwrap().signing_certificates.len(), 1);
    let encryption_only = fixture().replace("use=\"signing\"", "use=\"encryption\"");
    assert!(parse(&encryption_only).unwrap().signing_certificates.is_empty());
    let no_key = r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><IDPSSODescriptor/></EntityDescriptor>"#;
    assert!(parse(no_key).unwrap().signing_certificates.is_empty());
}

#[test]
fn what_aws_refuses_is_refused_with_its_reason() {
    let no_issuer = r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><SPSSODescriptor/></EntityDescriptor>"#;
    assert_eq!(parse(no_issuer), Err(MetadataError::NoIssuer));
    assert_eq!(
        MetadataError::NoIssuer.to_string(),
        "SAML Providers must reference at least one SAML assertion issuer."
    );
    for unparsable in [
        fixture().replace(" entityID=\"https://idp.example.com/saml\"", ""),
        fixture().replace("EntityDescriptor", "SomethingElse"),
        fixture().replacen("<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1),
        fixture().replace("</md:EntityDescriptor>", ""),
        "not xml".to_owned(),
        String::new(),
    ] {
        assert_eq!(parse(&unparsable), Err(MetadataError::Unparsable), "{unparsable}");
    }
    assert_eq!(MetadataError::Unparsable.to_string(), "Could not parse metadata");
}

#[test]
fn no_dtd_is_taken() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><EntityDescriptor entityID="&lol2;"><IDPSSODescriptor/></EntityDescriptor>"#;
    assert_eq!(parse(laughs), Err(MetadataError::Unparsable));
    // A DTD that defines nothing is refused too: none is taken.
    let declared =
        r#"<!DOCTYPE EntityDescriptor><EntityDescriptor entityID="x"><IDPSSODescriptor/></EntityDescriptor>"#;
    assert_eq!(parse(declared), Err(MetadataError::Unparsable));
    let entity = r#"<EntityDescriptor entityID="x"><IDPSSODescriptor>&external;</IDPSSODescriptor></EntityDescriptor>"#;
    assert_eq!(parse(entity), Err(MetadataError::Unparsable));
}

#[test]
fn xml_is_read_as_xml() {
    // XML's own entities and character references, and CDATA, are text like any other.
    let named = fixture().replace("NameIDFormat>urn", "NameIDFormat>AT&amp;T urn");
    assert!(parse(&named).is_ok());
    let wrapped = fixture().replacen("<ds:X509Certificate>\n", "<ds:X509Certificate>&#13;\n", 1);
    assert_eq!(parse(&wrapped).unwrap().signing_certificates.len(), 1);
    let cdata = fixture()
        .replacen("<ds:X509Certificate>", "<ds:X509Certificate><![CDATA[", 1)
        .replacen("</ds:X509Certificate>", "]]></ds:X509Certificate>", 1);
    assert_eq!(parse(&cdata).unwrap().signing_certificates.len(), 1);
}

#[test]
fn what_is_not_one_well_formed_document_is_refused() {
    let doc = fixture();
    let root_end = "</md:EntityDescriptor>";
    for bad in [
        format!("junk{doc}"),
        format!("{doc}<md:EntityDescriptor entityID=\"y\"/>"),
        format!("{doc}trailing text"),
        format!("{doc}<!DOCTYPE x>"),
        doc.replacen(root_end, "", 1),
        // Certificates must be certificates: no text or element beside the base64.
        doc.replacen("</ds:X509Certificate>", "<![CDATA[junk]]></ds:X509Certificate>", 1),
        doc.replacen("</ds:X509Certificate>", "<ds:X509Certificate/></ds:X509Certificate>", 1),
        // An entity no DTD defined.
        doc.replace("NameIDFormat>urn", "NameIDFormat>&custom; urn"),
    ] {
        assert_eq!(parse(&bad), Err(MetadataError::Unparsable), "{bad}");
    }
    // Comments and processing instructions around the root are fine.
    assert!(parse(&format!("<!-- exported -->{doc}<?done?>\n")).is_ok());
}

#[test]
fn nesting_is_bounded() {
    let deep = format!(
        "<EntityDescriptor entityID=\"x\"><IDPSSODescriptor>{}{}</IDPSSODescriptor></EntityDescriptor>",
        "<a>".repeat(100_000),
        "</a>".repeat(100_000)
    );
    assert_eq!(parse(&deep), Err(MetadataError::Unparsable));
}

#[test]
fn the_described_entity_is_the_one_checked() {
    // An identity provider in a second entity does not make the first one a provider.
    let certificate: String = fixture()
        .split("<ds:X509Certificate>")
        .nth(1)
        .and_then(|rest| rest.split("</ds:X509Certificate>").next())
        .unwrap()
        .to_owned();
    let two = format!(
        r#"<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntityDescriptor entityID="sp"><SPSSODescriptor/></EntityDescriptor><EntityDescriptor entityID="idp"><IDPSSODescriptor><KeyDescriptor><KeyInfo><X509Data><X509Certificate>{certificate}</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor></EntityDescriptor></EntitiesDescriptor>"#
    );
    assert_eq!(parse(&two), Err(MetadataError::NoIssuer));
    // A prefixed attribute is not SAML's `entityID`.
    let prefixed = fixture().replacen("entityID=", "xmlns:x=\"urn:x\" x:entityID=\"evil\" entityID=", 1);
    assert_eq!(parse(&prefixed).unwrap().entity_id, "https://idp.example.com/saml");
}

proptest! {
    /// Whatever arrives, parsing answers (never panics).
    #[test]
    fn parsing_any_text_answers(body in ".{0,400}") {
        let _ = parse(&body);
    }

    /// Metadata with any one character changed answers too.
    #[test]
    fn a_changed_document_answers(index in 0usize..3000, c in any::<char>()) {
        let mut text: Vec<char> = fixture().chars().collect();
        let index = index % text.len();
        text[index] = c;
        let _ = parse(&text.into_iter().collect::<String>());
    }
}
