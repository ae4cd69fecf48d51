//! End to end: AssumeRoleWithSAML with the AWS SDK for Rust, with SAML responses minted here
//! and signed by a key the test holds (the identity provider's of
//! `oxiam-saml/tests/fixtures/keys`, whose metadata the provider is created with). A good
//! response assumes the role; tampered, expired, misaddressed, wrongly signed and wrapped
//! ones are refused with AWS's errors; the trust policy decides on the `saml:*` keys; and
//! `PrincipalTag` attributes become session tags (with sts:TagSession).

use crate::common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{ACCOUNT, TestServer};
use oxiam_saml::c14n::canonicalize;
use oxiam_saml::xml::Document;

const ISSUER: &str = "https://idp.example.test/saml";
const AWS: &str = "https://signin.aws.amazon.com/saml";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../oxiam-saml/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn key_pair(name: &str) -> RsaKeyPair {
    let pem = fixture(&format!("keys/{name}.key.pem"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn iso(t: i64) -> String {
    oxiam_protocol::Timestamp(t).to_iso8601()
}

fn provider_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:saml-provider/ExampleIdP")
}

fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

/// What a minted response says.
#[derive(Clone)]
struct Claims {
    issuer: String,
    name_id: String,
    roles: Vec<String>,
    session_name: Option<String>,
    recipient: String,
    audience: String,
    issued: i64,
    lasts: i64,
    session_not_on_or_after: Option<i64>,
    attributes: Vec<(String, String)>,
    /// The SubjectConfirmation's method, and how many there are.
    confirmation_method: String,
    confirmations: usize,
}

impl Claims {
    fn for_role(role: &str) -> Claims {
        Claims {
            issuer: ISSUER.to_owned(),
            name_id: "alice@example.test".to_owned(),
            roles: vec![format!("{},{}", role_arn(role), provider_arn())],
            session_name: Some("alice".to_owned()),
            recipient: AWS.to_owned(),
            audience: AWS.to_owned(),
            issued: now(),
            lasts: 300,
            session_not_on_or_after: None,
            attributes: Vec::new(),
            confirmation_method: "urn:oasis:names:tc:SAML:2.0:cm:bearer".to_owned(),
            confirmations: 1,
        }
    }
}

fn attribute(name: &str, values: &[&str]) -> String {
    let values: String = values
        .iter()
        .map(|v| format!("<saml:AttributeValue>{v}</saml:AttributeValue>"))
        .collect();
    format!("<saml:Attribute Name=\"{name}\">{values}</saml:Attribute>")
}

/// A response whose assertion is signed by `signer` (enveloped, exclusive canonicalization,
/// RSA-SHA256), as an identity provider writes one.
fn mint(c: &Claims, signer: &RsaKeyPair) -> String {
    let assertion_id = format!("_a{}", c.issued);
    let mut attributes = String::new();
    if !c.roles.is_empty() {
        let roles: Vec<&str> = c.roles.iter().map(String::as_str).collect();
        attributes.push_str(&attribute("https://aws.amazon.com/SAML/Attributes/Role", &roles));
    }
    if let Some(name) = &c.session_name {
        attributes.push_str(&attribute(
            "https://aws.amazon.com/SAML/Attributes/RoleSessionName",
            &[name],
        ));
    }
    for (name, value) in &c.attributes {
        attributes.push_str(&attribute(name, &[value]));
    }
    let session_end = c
        .session_not_on_or_after
        .map(|t| format!(" SessionNotOnOrAfter=\"{}\"", iso(t)))
        .unwrap_or_default();
    let unsigned = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r{issued}" Version="2.0" IssueInstant="{at}" Destination="{recipient}">
  <saml:Issuer>{issuer}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="{at}">
    <saml:Issuer>{issuer}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID>
      {confirmations}
    </saml:Subject>
    <saml:Conditions NotBefore="{from}" NotOnOrAfter="{until}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{at}"{session_end}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
    <saml:AttributeStatement>{attributes}</saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"#,
        confirmations = format!(
            r#"<saml:SubjectConfirmation Method="{}"><saml:SubjectConfirmationData NotOnOrAfter="{}" Recipient="{}"/></saml:SubjectConfirmation>"#,
            c.confirmation_method,
            iso(c.issued + c.lasts),
            c.recipient
        )
        .repeat(c.confirmations),
        issued = c.issued,
        at = iso(c.issued),
        from = iso(c.issued - 60),
        until = iso(c.issued + c.lasts),
        recipient = c.recipient,
        issuer = c.issuer,
        name_id = c.name_id,
        audience = c.audience,
    );
    // The digest of the assertion as it is without its signature.
    let doc = Document::parse(&unsigned).unwrap();
    let assertion = doc.elements().find(|(_, e)| e.local == "Assertion").unwrap().0;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &canonicalize(&doc, assertion, None, &[]));
    let exc = "http://www.w3.org/2001/10/xml-exc-c14n#";
    let signed_info = format!(
        r##"<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{exc}"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{assertion_id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{exc}"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference></ds:SignedInfo>"##,
        STANDARD.encode(digest.as_ref())
    );
    // SignedInfo canonicalized where it will sit, then signed.
    let placed = format!(r#"<ds:Signature xmlns:ds="{DSIG}">{signed_info}</ds:Signature>"#);
    let info_doc = Document::parse(&placed).unwrap();
    let info = info_doc.child_elements(info_doc.root()).next().unwrap().0;
    let mut signature = vec![0; signer.public_modulus_len()];
    signer
        .sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            &canonicalize(&info_doc, info, None, &[]),
            &mut signature,
        )
        .unwrap();
    let signature_xml = format!(
        r#"<ds:Signature xmlns:ds="{DSIG}">{signed_info}<ds:SignatureValue>{}</ds:SignatureValue></ds:Signature>"#,
        STANDARD.encode(&signature)
    );
    let issuer_line = format!("<saml:Issuer>{}</saml:Issuer>\n    <saml:Subject>", c.issuer);
    unsigned.replacen(
        &issuer_line,
        &format!(
            "<saml:Issuer>{}</saml:Issuer>{signature_xml}\n    <saml:Subject>",
            c.issuer
        ),
        1,
    )
}

/// `response` with its assertion encrypted for `recipient_key` (a PKCS #8 PEM): AES-256-GCM
/// content, the key wrapped with RSA-OAEP (MGF1-SHA-1), the EncryptedKey in the KeyInfo.
fn encrypt_assertion(response: &str, recipient_key: &str) -> String {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PrivateDecryptingKey};
    let start = response.find("<saml:Assertion").unwrap();
    let end = response.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    // Standalone: the assertion declares the namespace it had from the response.
    let plaintext = response[start..end].replacen(
        "<saml:Assertion",
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
        1,
    );
    let mut content_key = [0u8; 32];
    let mut iv = [0u8; 12];
    aws_lc_rs::rand::fill(&mut content_key).unwrap();
    aws_lc_rs::rand::fill(&mut iv).unwrap();
    let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &content_key).unwrap());
    let mut sealed = plaintext.into_bytes();
    sealing
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut sealed)
        .unwrap();
    let body: String = recipient_key.lines().filter(|l| !l.starts_with("-----")).collect();
    let private = PrivateDecryptingKey::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap();
    let public = OaepPublicEncryptingKey::new(private.public_key()).unwrap();
    let mut wrapped = vec![0u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(&OAEP_SHA1_MGF1SHA1, &content_key, &mut wrapped, None)
        .unwrap()
        .to_vec();
    let encrypted = format!(
        r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/><ds:KeyInfo xmlns:ds="{DSIG}"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#,
        STANDARD.encode(&wrapped),
        STANDARD.encode([iv.as_slice(), &sealed].concat())
    );
    format!("{}{encrypted}{}", &response[..start], &response[end..])
}

async fn an_encrypted_assertion_is_decrypted_with_the_providers_key(s: &TestServer) {
    use aws_sdk_iam::types::AssertionEncryptionModeType;
    let service_provider = fixture("encrypted/sp.key.pem");
    s.root_iam()
        .create_saml_provider()
        .name("ExampleIdP")
        .saml_metadata_document(fixture("keys/metadata.xml"))
        .add_private_key(&service_provider)
        .assertion_encryption_mode(AssertionEncryptionModeType::Required)
        .send()
        .await
        .unwrap();
    setup(s, "SamlRole", "").await;
    let idp = key_pair("idp");
    let claims = Claims::for_role("SamlRole");
    let plain = mint(&claims, &idp);
    let out = assume(s, "SamlRole", &encrypt_assertion(&plain, &service_provider))
        .await
        .unwrap();
    assert_eq!(out.subject(), Some("alice@example.test"));
    // Required: a plain assertion is refused, as is one for another key.
    assert_eq!(
        assume(s, "SamlRole", &plain).await.unwrap_err().0,
        "InvalidIdentityToken"
    );
    // Every failure from decryption on is the same answer (no oracle on the ciphertext):
    // another key's, and (below) a decrypted assertion whose signature does not hold.
    let other = fixture("encrypted/other_sp.key.pem");
    assert_eq!(
        assume(s, "SamlRole", &encrypt_assertion(&plain, &other))
            .await
            .unwrap_err(),
        (
            "InvalidIdentityToken".to_owned(),
            "Response signature invalid".to_owned()
        )
    );
    // Encrypted after a change: the signature inside no longer holds.
    let changed = plain.replace("alice@example.test</saml:NameID>", "admin@example.test</saml:NameID>");
    assert_eq!(
        assume(s, "SamlRole", &encrypt_assertion(&changed, &service_provider))
            .await
            .unwrap_err(),
        (
            "InvalidIdentityToken".to_owned(),
            "Response signature invalid".to_owned()
        )
    );
}

async fn setup(s: &TestServer, role: &str, trust_condition: &str) {
    let iam = s.root_iam();
    if iam
        .get_saml_provider()
        .saml_provider_arn(provider_arn())
        .send()
        .await
        .is_err()
    {
        iam.create_saml_provider()
            .name("ExampleIdP")
            .saml_metadata_document(fixture("keys/metadata.xml"))
            .send()
            .await
            .unwrap();
    }
    iam.create_role()
        .role_name(role)
        .assume_role_policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithSAML","Condition":{{"StringEquals":{{"saml:aud":"{AWS}"{trust_condition}}}}}}}]}}"#,
            provider_arn()
        ))
        .send()
        .await
        .unwrap();
}

async fn assume(
    s: &TestServer,
    role: &str,
    response: &str,
) -> Result<aws_sdk_sts::operation::assume_role_with_saml::AssumeRoleWithSamlOutput, (String, String)> {
    s.root_sts()
        .assume_role_with_saml()
        .role_arn(role_arn(role))
        .principal_arn(provider_arn())
        .saml_assertion(STANDARD.encode(response))
        .send()
        .await
        .map_err(|e| {
            let e = e.as_service_error().map(|e| {
                use aws_sdk_sts::error::ProvideErrorMetadata as _;
                (e.code().unwrap_or("").to_owned(), e.message().unwrap_or("").to_owned())
            });
            e.unwrap_or_default()
        })
}

on_both_backends!(
    an_encrypted_assertion_is_decrypted_with_the_providers_key,
    a_signed_response_assumes_the_role,
    responses_that_are_not_good_are_refused,
    the_trust_policy_decides_on_the_assertion,
    principal_tags_become_session_tags,
    the_assertions_shape_is_checked,
);

/// What AWS requires of an assertion besides its signature, each tried once: a bearer
/// confirmation, one of them, a session not already over, a SessionDuration in range, tags
/// AWS takes, and a provider of the role's own account.
async fn the_assertions_shape_is_checked(s: &TestServer) {
    setup(s, "SamlRole", "").await;
    let idp = key_pair("idp");
    let good = Claims::for_role("SamlRole");
    assume(s, "SamlRole", &mint(&good, &idp)).await.unwrap();
    let invalid = |message: &str| ("InvalidIdentityToken".to_owned(), message.to_owned());
    let tag = |key: &str, value: &str| {
        (
            format!("https://aws.amazon.com/SAML/Attributes/{key}"),
            value.to_owned(),
        )
    };
    for (claims, refusal) in [
        (
            Claims {
                confirmation_method: "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key".to_owned(),
                ..good.clone()
            },
            invalid("The SubjectConfirmation method must be bearer."),
        ),
        (
            Claims {
                confirmations: 2,
                ..good.clone()
            },
            invalid("The SAML assertion must have exactly one SubjectConfirmation."),
        ),
        (
            Claims {
                session_not_on_or_after: Some(now() - 1),
                ..good.clone()
            },
            ("ExpiredTokenException".to_owned(), "Response has expired".to_owned()),
        ),
        (
            Claims {
                attributes: vec![tag("SessionDuration", "60")],
                ..good.clone()
            },
            invalid("SessionDuration in AuthnResponse must be from 900 to 43200 seconds."),
        ),
        (
            Claims {
                attributes: vec![tag("PrincipalTag:team", "red"), tag("PrincipalTag:TEAM", "blue")],
                ..good.clone()
            },
            invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive."),
        ),
        (
            Claims {
                attributes: vec![tag("PrincipalTag:team", "red"), tag("TransitiveTagKeys", "project")],
                ..good.clone()
            },
            invalid("Transitive tag key project is not among the session tags."),
        ),
    ] {
        assert_eq!(assume(s, "SamlRole", &mint(&claims, &idp)).await.unwrap_err(), refusal);
    }
    // A provider of another account, paired with the role in the assertion: not the role's.
    let foreign = "arn:aws:iam::210987654321:saml-provider/ExampleIdP";
    let claims = Claims {
        roles: vec![format!("{},{foreign}", role_arn("SamlRole"))],
        ..good.clone()
    };
    let err = s
        .root_sts()
        .assume_role_with_saml()
        .role_arn(role_arn("SamlRole"))
        .principal_arn(foreign)
        .saml_assertion(STANDARD.encode(mint(&claims, &idp)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Specified provider doesn't exist.")
    );
}

async fn a_signed_response_assumes_the_role(s: &TestServer) {
    setup(s, "SamlRole", "").await;
    let idp = key_pair("idp");
    let claims = Claims {
        session_not_on_or_after: Some(now() + 1200),
        ..Claims::for_role("SamlRole")
    };
    let out = assume(s, "SamlRole", &mint(&claims, &idp)).await.unwrap();
    assert_eq!(out.subject(), Some("alice@example.test"));
    assert_eq!(out.subject_type(), Some("persistent"));
    assert_eq!(out.issuer(), Some(ISSUER));
    assert_eq!(out.audience(), Some(AWS));
    // base64(sha1(issuer + account + "/" + provider name)).
    let qualifier = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{ISSUER}{ACCOUNT}/ExampleIdP").as_bytes(),
    );
    assert_eq!(out.name_qualifier(), Some(STANDARD.encode(qualifier.as_ref()).as_str()));
    let user = out.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/SamlRole/alice")
    );
    let creds = out.credentials().unwrap();
    // An hour was asked (the default); the assertion's SessionNotOnOrAfter ends it sooner.
    let lasts = creds.expiration().secs() - now();
    assert!((1190..=1200).contains(&lasts), "{lasts}");
    let me = s
        .sts_as_session(creds.access_key_id(), creds.secret_access_key(), creds.session_token())
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(me.arn(), Some(user.arn()));
    // The same response again is taken, as AWS takes it within its validity.
    assume(s, "SamlRole", &mint(&claims, &idp)).await.unwrap();
    // The role pair in either order, and a regional recipient and audience.
    let reversed = Claims {
        roles: vec![format!("{},{}", provider_arn(), role_arn("SamlRole"))],
        recipient: "https://eu-west-1.signin.aws.amazon.com/saml".to_owned(),
        audience: "urn:amazon:webservices".to_owned(),
        ..Claims::for_role("SamlRole")
    };
    let err = assume(s, "SamlRole", &mint(&reversed, &idp)).await.unwrap_err();
    assert_eq!(
        err.0, "AccessDenied",
        "the trust policy asks for saml:aud = the global endpoint"
    );
    setup(s, "Regional", r#","saml:iss":"https://idp.example.test/saml""#).await;
    let regional = Claims {
        roles: vec![format!("{},{}", provider_arn(), role_arn("Regional"))],
        recipient: "https://eu-west-1.signin.aws.amazon.com/saml".to_owned(),
        audience: "urn:amazon:webservices".to_owned(),
        ..Claims::for_role("Regional")
    };
    s.root_iam()
        .update_assume_role_policy()
        .role_name("Regional")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":"sts:AssumeRoleWithSAML"}}]}}"#,
            provider_arn()
        ))
        .send()
        .await
        .unwrap();
    let out = assume(s, "Regional", &mint(&regional, &idp)).await.unwrap();
    assert_eq!(out.audience(), Some("https://eu-west-1.signin.aws.amazon.com/saml"));
}

async fn responses_that_are_not_good_are_refused(s: &TestServer) {
    setup(s, "SamlRole", "").await;
    let idp = key_pair("idp");
    let good = Claims::for_role("SamlRole");
    let invalid = |message: &str| ("InvalidIdentityToken".to_owned(), message.to_owned());
    let signature_invalid = invalid("Response signature invalid");

    // Changed after signing: another role, another subject.
    let minted = mint(&good, &idp);
    let tampered = minted.replace("alice@example.test</saml:NameID>", "admin@example.test</saml:NameID>");
    assert_ne!(tampered, minted);
    assert_eq!(assume(s, "SamlRole", &tampered).await.unwrap_err(), signature_invalid);
    // Signed by another key (whatever KeyInfo says), or not signed.
    assert_eq!(
        assume(s, "SamlRole", &mint(&good, &key_pair("attacker")))
            .await
            .unwrap_err(),
        signature_invalid
    );
    let unsigned =
        minted.split("<ds:Signature").next().unwrap().to_owned() + minted.split("</ds:Signature>").nth(1).unwrap();
    assert_eq!(assume(s, "SamlRole", &unsigned).await.unwrap_err(), signature_invalid);
    // Wrapped: the signed assertion kept, an evil one placed first.
    let assertion_start = minted.find("<saml:Assertion").unwrap();
    let evil = minted[assertion_start..]
        .split("</saml:Assertion>")
        .next()
        .unwrap()
        .replace("ID=\"_a", "ID=\"_evil")
        .replace("alice@example.test", "mallory@example.test")
        + "</saml:Assertion>";
    let evil = evil.split("<ds:Signature").next().unwrap().to_owned() + evil.split("</ds:Signature>").nth(1).unwrap();
    let wrapped = format!("{}{evil}{}", &minted[..assertion_start], &minted[assertion_start..]);
    assert_eq!(assume(s, "SamlRole", &wrapped).await.unwrap_err(), signature_invalid);

    // Old, expired, not yet valid.
    let stale = Claims {
        issued: now() - 600,
        lasts: 3600,
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&stale, &idp)).await.unwrap_err(),
        (
            "ExpiredTokenException".to_owned(),
            "Token must be redeemed within 5 minutes of issuance".to_owned()
        )
    );
    let expired = Claims {
        issued: now() - 120,
        lasts: 60,
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&expired, &idp)).await.unwrap_err(),
        ("ExpiredTokenException".to_owned(), "Response has expired".to_owned())
    );
    let future = Claims {
        issued: now() + 3600,
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&future, &idp)).await.unwrap_err().0,
        "InvalidIdentityToken"
    );

    // Addressed elsewhere, from elsewhere.
    for claims in [
        Claims {
            audience: "https://sp.evil.test/saml".to_owned(),
            ..good.clone()
        },
        Claims {
            recipient: "https://sp.evil.test/saml".to_owned(),
            ..good.clone()
        },
    ] {
        assert_eq!(
            assume(s, "SamlRole", &mint(&claims, &idp)).await.unwrap_err().0,
            "InvalidIdentityToken"
        );
    }
    let other_issuer = Claims {
        issuer: "https://other.example.test/saml".to_owned(),
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&other_issuer, &idp)).await.unwrap_err(),
        invalid("Issuer not present in specified provider")
    );

    // The role must be in the assertion, paired with this provider.
    let other_role = Claims {
        roles: vec![format!("{},{}", role_arn("Admin"), provider_arn())],
        ..good.clone()
    };
    let denied = (
        "AccessDenied".to_owned(),
        "Not authorized to perform sts:AssumeRoleWithSAML".to_owned(),
    );
    assert_eq!(
        assume(s, "SamlRole", &mint(&other_role, &idp)).await.unwrap_err(),
        denied
    );
    let other_provider = Claims {
        roles: vec![format!(
            "{},arn:aws:iam::{ACCOUNT}:saml-provider/Other",
            role_arn("SamlRole")
        )],
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&other_provider, &idp)).await.unwrap_err(),
        denied
    );
    // A role that does not exist is the same answer.
    let missing = Claims::for_role("Missing");
    assert_eq!(assume(s, "Missing", &mint(&missing, &idp)).await.unwrap_err(), denied);

    // The session name is required, and AWS's shape.
    let nameless = Claims {
        session_name: None,
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&nameless, &idp)).await.unwrap_err(),
        invalid("RoleSessionName is required in AuthnResponse")
    );
    let spaced = Claims {
        session_name: Some("alice smith".to_owned()),
        ..good.clone()
    };
    assert_eq!(
        assume(s, "SamlRole", &mint(&spaced, &idp)).await.unwrap_err(),
        invalid("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
    );

    // Not base64; a provider that does not exist.
    let err = s
        .root_sts()
        .assume_role_with_saml()
        .role_arn(role_arn("SamlRole"))
        .principal_arn(provider_arn())
        .saml_assertion("!!!! not base64 !!!!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().map(|e| e.meta().code()),
        Some(Some("InvalidIdentityToken"))
    );
    let err = s
        .root_sts()
        .assume_role_with_saml()
        .role_arn(role_arn("SamlRole"))
        .principal_arn(format!("arn:aws:iam::{ACCOUNT}:saml-provider/Nobody"))
        .saml_assertion(STANDARD.encode(mint(&good, &idp)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().message()),
        Some("Specified provider doesn't exist.")
    );
    // Longer than the role allows.
    let err = s
        .root_sts()
        .assume_role_with_saml()
        .role_arn(role_arn("SamlRole"))
        .principal_arn(provider_arn())
        .saml_assertion(STANDARD.encode(mint(&good, &idp)))
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.as_service_error().map(|e| e.meta().code()),
        Some(Some("ValidationError"))
    );
}

async fn the_trust_policy_decides_on_the_assertion(s: &TestServer) {
    // Only alice, by subject and by an eduPerson affiliation.
    setup(
        s,
        "Staff",
        r#","saml:sub":"alice@example.test","saml:sub_type":"persistent","saml:edupersonaffiliation":"staff""#,
    )
    .await;
    let idp = key_pair("idp");
    let affiliation = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1".to_owned();
    let alice = Claims {
        attributes: vec![(affiliation.clone(), "staff".to_owned())],
        ..Claims::for_role("Staff")
    };
    assume(s, "Staff", &mint(&alice, &idp)).await.unwrap();
    let bob = Claims {
        name_id: "bob@example.test".to_owned(),
        ..alice.clone()
    };
    assert_eq!(
        assume(s, "Staff", &mint(&bob, &idp)).await.unwrap_err().0,
        "AccessDenied"
    );
    let student = Claims {
        attributes: vec![(affiliation, "student".to_owned())],
        ..alice.clone()
    };
    assert_eq!(
        assume(s, "Staff", &mint(&student, &idp)).await.unwrap_err().0,
        "AccessDenied"
    );
}

async fn principal_tags_become_session_tags(s: &TestServer) {
    setup(s, "Tagged", "").await;
    let idp = key_pair("idp");
    s.root_iam()
        .put_role_policy()
        .role_name("Tagged")
        .policy_name("red-only")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListRoles","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}]}"#)
        .send()
        .await
        .unwrap();
    let tag = |team: &str| Claims {
        attributes: vec![(
            "https://aws.amazon.com/SAML/Attributes/PrincipalTag:team".to_owned(),
            team.to_owned(),
        )],
        ..Claims::for_role("Tagged")
    };
    // The trust policy must allow sts:TagSession too.
    assert_eq!(
        assume(s, "Tagged", &mint(&tag("red"), &idp)).await.unwrap_err().0,
        "AccessDenied"
    );
    s.root_iam()
        .update_assume_role_policy()
        .role_name("Tagged")
        .policy_document(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{}"}},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"]}}]}}"#,
            provider_arn()
        ))
        .send()
        .await
        .unwrap();
    for (team, allowed) in [("red", true), ("blue", false)] {
        let out = assume(s, "Tagged", &mint(&tag(team), &idp)).await.unwrap();
        let listed = s.iam_as_session(out.credentials().unwrap()).list_roles().send().await;
        assert_eq!(listed.is_ok(), allowed, "{team}");
    }
}
