//! AssumeRoleWithSAML: a role's credentials for whoever presents a SAML 2.0 response that an
//! identity provider of the role's account signed. The call is unsigned, as on AWS: the
//! response is the credential. It must be signed (the response or its one assertion) by a
//! certificate of the provider's metadata (`oxiam-saml` checks that, and reads the one
//! assertion the signature covers); then, as AWS documents it, the assertion's issuer must be
//! the provider's, it must be addressed to AWS (audience and recipient), within its times
//! and redeemed within five minutes of issue, and its Role attribute must pair the requested
//! role with the provider; then the role's trust policy decides, with the provider as the
//! `Federated` principal and the assertion as the `saml:*` keys.

use aws_lc_rs::digest;
use base64::Engine as _;

use oxiam_protocol::sts::{AssumeRoleWithSAMLRequest, AssumeRoleWithSAMLResponse, errors as sts_errors};
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_saml::{Assertion, ResponseError, RsaPublicKey};
use oxiam_store::StoreError;

use crate::authz::{Access, Outcome, Refusal, RequestFacts, Verdict};
use crate::federation::FederatedRequest;
use crate::sts::{DEFAULT_SESSION_SECONDS, NewRoleSession, SessionTags, parse_role_arn};
use crate::x509::CertificateKey;
use crate::{Oxiam, errors};

/// How far clocks may differ: a response issued, or valid from, this far in the future is
/// taken; one issued this long ago is no longer redeemed (AWS: "Token must be redeemed
/// within 5 minutes of issuance").
const CLOCK_SKEW_SECONDS: i64 = 300;
const REDEEM_WITHIN_SECONDS: i64 = 300;

/// The SAML attributes AWS reads (IAM User Guide, "Configuring SAML assertions for the
/// authentication response").
const ROLE: &str = "https://aws.amazon.com/SAML/Attributes/Role";
const ROLE_SESSION_NAME: &str = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
const SESSION_DURATION: &str = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
const SOURCE_IDENTITY: &str = "https://aws.amazon.com/SAML/Attributes/SourceIdentity";
const PRINCIPAL_TAG: &str = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:";
const TRANSITIVE_TAG_KEYS: &str = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys";

/// The audiences that name AWS (besides `https://REGION.signin.aws.amazon.com/saml`).
const AWS_AUDIENCES: &[&str] = &["https://signin.aws.amazon.com/saml", "urn:amazon:webservices"];

/// The assertion attributes the other `saml:*` keys come from, by attribute name (the IAM
/// User Guide's table of SAML keys: eduPerson and eduOrg OIDs, X.500 OIDs, and the claims
/// Active Directory Federation Services writes).
const ATTRIBUTE_KEYS: &[(&str, &str)] = &[
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.1", "saml:edupersonaffiliation"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.2", "saml:edupersonnickname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.3", "saml:edupersonorgdn"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.4", "saml:edupersonorgunitdn"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.5", "saml:edupersonprimaryaffiliation"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "saml:edupersonprincipalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.7", "saml:edupersonentitlement"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.8", "saml:edupersonprimaryorgunitdn"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.9", "saml:edupersonscopedaffiliation"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.10", "saml:edupersontargetedid"),
    ("urn:oid:1.3.6.1.4.1.5923.1.1.1.11", "saml:edupersonassurance"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.2", "saml:eduorghomepageuri"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.3", "saml:eduorgidentityauthnpolicyuri"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.4", "saml:eduorglegalname"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.5", "saml:eduorgsuperioruri"),
    ("urn:oid:1.3.6.1.4.1.5923.1.2.1.6", "saml:eduorgwhitepagesuri"),
    ("urn:oid:2.5.4.3", "saml:cn"),
    ("http://schemas.xmlsoap.org/claims/CommonName", "saml:commonName"),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "saml:givenName",
    ),
    ("urn:oid:2.5.4.42", "saml:givenName"),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "saml:surname",
    ),
    ("urn:oid:2.5.4.4", "saml:surname"),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "saml:mail",
    ),
    ("urn:oid:0.9.2342.19200300.100.1.3", "saml:mail"),
    (
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "saml:name",
    ),
    ("urn:oid:0.9.2342.19200300.100.1.1", "saml:uid"),
    (
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarygroupsid",
        "saml:primaryGroupSID",
    ),
    ("urn:oid:2.5.4.45", "saml:x500UniqueIdentifier"),
    ("urn:oid:0.9.2342.19200300.100.1.45", "saml:organizationStatus"),
];

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new(sts_errors::INVALID_IDENTITY_TOKEN, message)
}

fn expired(message: &str) -> ServiceError {
    ServiceError::new(sts_errors::EXPIRED_TOKEN, message)
}

/// AWS's answer when the role is missing, not in the assertion, or its trust policy refuses.
fn not_authorized() -> ServiceError {
    ServiceError::new(
        common_errors::ACCESS_DENIED,
        "Not authorized to perform sts:AssumeRoleWithSAML",
    )
}

/// AWS's answer for a response whose signature does not check out, whatever the reason
/// (the record keeps the reason).
fn signature_invalid(why: &ResponseError) -> ServiceError {
    invalid("Response signature invalid").with_cause(&format_args!("{why}"))
}

/// `arn:aws:iam::ACCOUNT:saml-provider/NAME` → (account, name).
fn parse_provider_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, name) = rest.split_once(":saml-provider/")?;
    (!name.is_empty() && !name.contains('/')).then_some((account, name))
}

/// `https://signin.aws.amazon.com/saml` or a regional `https://REGION.signin.aws.amazon.com/saml`.
fn is_aws_sign_in(url: &str) -> bool {
    url == "https://signin.aws.amazon.com/saml"
        || url == "https://signin.aws.amazon.com/static/saml"
        || url
            .strip_prefix("https://")
            .and_then(|u| u.strip_suffix(".signin.aws.amazon.com/saml"))
            .is_some_and(|region| {
                !region.is_empty()
                    && region
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
}

/// The Role attribute's pairs, as (role ARN, provider ARN): each value names both, in
/// either order.
fn role_pairs(assertion: &Assertion) -> Vec<(String, String)> {
    assertion
        .attribute(ROLE)
        .iter()
        .filter_map(|value| {
            let (a, b) = value.split_once(',')?;
            let (a, b) = (a.trim(), b.trim());
            if a.contains(":saml-provider/") {
                Some((b.to_owned(), a.to_owned()))
            } else {
                Some((a.to_owned(), b.to_owned()))
            }
        })
        .collect()
}

/// A session name or source identity as AWS takes them from an assertion: 2 to 64 of
/// `[a-zA-Z_0-9+=,.@-]`.
fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// The session tags the assertion passes (`PrincipalTag:KEY` attributes, one value each) and
/// the keys it marks transitive.
fn session_tags(assertion: &Assertion) -> Result<SessionTags, ServiceError> {
    let tags = assertion
        .attributes
        .iter()
        .filter_map(|(name, values)| Some((name.strip_prefix(PRINCIPAL_TAG)?.to_owned(), values.clone())))
        .collect();
    crate::sts::federated_session_tags(tags, assertion.attribute(TRANSITIVE_TAG_KEYS).to_vec())
}

/// AWS's NameQualifier: base64 of the SHA-1 of the issuer, the account id, `/` and the
/// provider's name.
fn name_qualifier(issuer: &str, account: &str, provider: &str) -> String {
    let input = format!("{issuer}{account}/{provider}");
    let hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, input.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(hash.as_ref())
}

/// `persistent` and `transient` (and the rest of SAML 2.0's formats) without their
/// `urn:oasis:names:tc:SAML:2.0:nameid-format:` prefix; any other format whole.
fn subject_type(format: Option<&str>) -> String {
    let format = format.unwrap_or("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified");
    format
        .strip_prefix("urn:oasis:names:tc:SAML:2.0:nameid-format:")
        .unwrap_or(format)
        .to_owned()
}

/// The assertion's times against `now`.
fn check_times(a: &Assertion, now: i64) -> Result<(), ServiceError> {
    let ends = [a.not_on_or_after]
        .into_iter()
        .chain(a.confirmations.iter().map(|c| c.not_on_or_after))
        .flatten();
    if ends.into_iter().any(|end| now >= end) {
        return Err(expired("Response has expired"));
    }
    if now > a.issue_instant + REDEEM_WITHIN_SECONDS {
        return Err(expired("Token must be redeemed within 5 minutes of issuance"));
    }
    let starts = [Some(a.issue_instant), a.not_before]
        .into_iter()
        .chain(a.confirmations.iter().map(|c| c.not_before))
        .flatten();
    if starts.into_iter().any(|start| start > now + CLOCK_SKEW_SECONDS) {
        return Err(invalid("The SAML response is not valid yet."));
    }
    Ok(())
}

/// The recipient the assertion is addressed to: exactly one bearer confirmation, with a
/// recipient and an expiry, naming AWS's sign-in endpoint; and AWS among the audiences of
/// every audience restriction (and one restriction at least).
fn addressed_to_aws(a: &Assertion) -> Result<String, ServiceError> {
    let [confirmation] = a.confirmations.as_slice() else {
        return Err(invalid("The SAML assertion must have exactly one SubjectConfirmation."));
    };
    let (Some(recipient), Some(_)) = (&confirmation.recipient, confirmation.not_on_or_after) else {
        return Err(invalid(
            "The SubjectConfirmationData must have both NotOnOrAfter and Recipient.",
        ));
    };
    if confirmation.method.as_deref() != Some("urn:oasis:names:tc:SAML:2.0:cm:bearer") {
        return Err(invalid("The SubjectConfirmation method must be bearer."));
    }
    if !is_aws_sign_in(recipient) {
        return Err(invalid(format!("Invalid recipient: {recipient}")));
    }
    let for_aws = |audience: &String| AWS_AUDIENCES.contains(&audience.as_str()) || is_aws_sign_in(audience);
    if a.audience_restrictions.is_empty() || !a.audience_restrictions.iter().all(|r| r.iter().any(for_aws)) {
        return Err(invalid("The SAML assertion's audience is not AWS."));
    }
    Ok(recipient.clone())
}

impl Oxiam {
    /// Checks the response, decides with the role's trust policy, and issues the session.
    /// Returns the verdicts (the trust policy's, and sts:TagSession's when tags are passed)
    /// along with the answer.
    pub async fn assume_role_with_saml(
        &self,
        input: AssumeRoleWithSAMLRequest,
        now: i64,
        facts: &RequestFacts,
    ) -> Result<(AssumeRoleWithSAMLResponse, Vec<Verdict>), Refusal> {
        let assume = Access::new("sts:AssumeRoleWithSAML", input.role_arn.clone());
        let denied = |why: &str| Refusal {
            verdict: Some(Box::new(Verdict::rule(&assume, Outcome::ImplicitDeny, why))),
            error: not_authorized(),
        };
        let (account, role_name) = parse_role_arn(&input.role_arn).ok_or_else(|| denied("not a role ARN"))?;
        // The response is checked before the role is looked at: a caller without one its
        // provider signed learns nothing about the account's roles.
        let compact: String = input
            .saml_assertion
            .0
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let xml = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| invalid("Invalid base64 SAMLResponse"))?;
        let provider = match parse_provider_arn(&input.principal_arn) {
            // The provider must be the role's account's.
            Some((provider_account, _)) if provider_account == account => {
                match self.store.get_saml_provider(account, &input.principal_arn).await {
                    Ok(provider) => Some(provider),
                    Err(StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(errors::store(e).into()),
                }
            }
            _ => None,
        };
        let provider = provider.ok_or_else(|| invalid("Specified provider doesn't exist."))?;
        let metadata = crate::saml_metadata::parse(&provider.metadata).map_err(|e| {
            errors::service_failure(&format_args!("stored metadata of {} does not parse: {e}", provider.arn))
        })?;
        let keys: Vec<RsaPublicKey> = metadata
            .signing_certificates
            .iter()
            .filter_map(|c| match &c.key {
                CertificateKey::Rsa { pkcs1, .. } => Some(RsaPublicKey(pkcs1.clone())),
                _ => None,
            })
            .collect();
        // The provider's private keys decrypt an encrypted assertion.
        let mut decryption = Vec::new();
        for key in &provider.private_keys {
            let pem = self.secrets.open(&key.key_id, &key.key_sealed).map_err(|_| {
                errors::service_failure(&format_args!("a private key of {} does not open", provider.arn))
            })?;
            let key = crate::iam::saml_decryption_key(&pem).ok_or_else(|| {
                errors::service_failure(&format_args!("a private key of {} does not read", provider.arn))
            })?;
            decryption.push(key);
        }
        let assertion = match oxiam_saml::read_with(&xml, &keys, &decryption) {
            Ok(assertion) => assertion,
            // One answer for everything from decryption on (the record keeps which): AES-CBC's
            // padding must not become an oracle on a captured assertion.
            Err(e @ (ResponseError::Encrypted | ResponseError::Decryption(_) | ResponseError::InEncrypted(_))) => {
                return Err(signature_invalid(&e).into());
            }
            Err(e @ ResponseError::Status(_)) => {
                return Err(invalid("The SAML response's status is not Success.")
                    .with_cause(&format_args!("{e}"))
                    .into());
            }
            Err(e @ (ResponseError::NotWellFormed | ResponseError::Malformed(_))) => {
                return Err(invalid("Invalid SAML response").with_cause(&format_args!("{e}")).into());
            }
            Err(e) => return Err(signature_invalid(&e).into()),
        };
        if provider.assertion_encryption_mode == "Required" && !assertion.encrypted {
            return Err(invalid("The SAML provider requires encrypted assertions.").into());
        }
        if assertion.issuer != metadata.entity_id {
            return Err(invalid("Issuer not present in specified provider").into());
        }
        check_times(&assertion, now)?;
        let recipient = addressed_to_aws(&assertion)?;
        let Some(subject) = assertion.name_id.clone() else {
            return Err(denied("the assertion has no Subject NameID"));
        };
        if !role_pairs(&assertion)
            .iter()
            .any(|(role, provider)| *role == input.role_arn && *provider == input.principal_arn)
        {
            return Err(denied(
                "the assertion's Role attribute does not pair the role with the provider",
            ));
        }
        let session_name = match assertion.attribute(ROLE_SESSION_NAME) {
            [] => return Err(invalid("RoleSessionName is required in AuthnResponse").into()),
            [name] if is_session_name(name) => name.clone(),
            _ => {
                return Err(invalid("RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}").into());
            }
        };
        match assertion.attribute(SESSION_DURATION) {
            [] => {}
            [d] if d.parse::<i64>().is_ok_and(|d| (900..=43_200).contains(&d)) => {}
            _ => return Err(invalid("SessionDuration in AuthnResponse must be from 900 to 43200 seconds.").into()),
        }
        let source_identity = match assertion.attribute(SOURCE_IDENTITY) {
            [] => None,
            [value] if crate::federation::is_source_identity(value) => Some(value.clone()),
            _ => {
                return Err(invalid(
                    "SourceIdentity in AuthnResponse must be one value of 2 to 64 characters of letters, digits and _+=,.@-",
                )
                .into());
            }
        };
        let (tags, transitive_tag_keys) = session_tags(&assertion)?;

        let (_, provider_name) = parse_provider_arn(&provider.arn).expect("a stored provider's ARN");
        let qualifier = name_qualifier(&assertion.issuer, account, provider_name);
        let sub_type = subject_type(assertion.name_id_format.as_deref());
        let (role, verdicts) = self
            .federated_trust(
                FederatedRequest {
                    assume: &assume,
                    account,
                    role_name,
                    provider_arn: &provider.arn,
                    session_name: &session_name,
                    tags: &tags,
                    transitive_tag_keys: &transitive_tag_keys,
                    source_identity: source_identity.as_deref(),
                    not_authorized,
                },
                facts,
                |mut context| {
                    context = context
                        .set("saml:aud", recipient.as_str())
                        .set("saml:iss", assertion.issuer.as_str())
                        .set("saml:sub", subject.as_str())
                        .set("saml:sub_type", sub_type.as_str())
                        .set("saml:namequalifier", qualifier.as_str())
                        .set("saml:doc", format!("{account}/{provider_name}").as_str());
                    for (attribute, key) in ATTRIBUTE_KEYS {
                        let values = assertion.attribute(attribute);
                        if !values.is_empty() {
                            context = context.set_all(key, values.iter().map(String::as_str));
                        }
                    }
                    context
                },
            )
            .await?;

        // The session lasts as asked, within the role's maximum, and ends no later than
        // the assertion's SessionNotOnOrAfter.
        let requested = input.duration_seconds.map_or(DEFAULT_SESSION_SECONDS, i64::from);
        if requested > role.max_session_duration {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
            .into());
        }
        let duration = match assertion.session_not_on_or_after {
            Some(end) if end <= now => return Err(expired("Response has expired").into()),
            Some(end) => requested.min(end - now),
            None => requested,
        };
        let passed = self
            .passed_policies(&role.account_id, input.policy.clone(), input.policy_arns.clone())
            .await?;
        let (credentials, assumed_role_user) = self
            .issue_role_session(NewRoleSession {
                role: &role,
                session_name: &session_name,
                duration,
                session_policy: passed.inline,
                session_policy_arns: passed.arns,
                chained: false,
                session_tags: tags,
                transitive_tag_keys,
                mfa_at: None,
                source_identity: source_identity.clone(),
                trusted_context: crate::trusted_context::TrustedContext::default(),
                now,
            })
            .await?;
        let response = AssumeRoleWithSAMLResponse {
            credentials: Some(credentials),
            assumed_role_user: Some(assumed_role_user),
            packed_policy_size: passed.packed_percent,
            subject: Some(subject),
            subject_type: Some(sub_type),
            issuer: Some(assertion.issuer.clone()),
            audience: Some(recipient),
            name_qualifier: Some(qualifier),
            source_identity,
            // Not sent, as AWS's answers show (PackedPolicySize alone).
            session_token_utilization: None,
            session_token_size: None,
            trusted_identity_propagation_context: None,
        };
        Ok((response, verdicts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_qualifier_is_awss_formula() {
        // base64(sha1("https://example.com/saml" + "123456789012" + "/MySAMLIdP")).
        assert_eq!(
            name_qualifier("https://example.com/saml", "123456789012", "MySAMLIdP"),
            "1uAJanUnBc2XeUkHURMht+xam2c="
        );
    }

    #[test]
    fn subject_types() {
        assert_eq!(
            subject_type(Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")),
            "persistent"
        );
        assert_eq!(
            subject_type(Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")),
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
        );
    }

    #[test]
    fn aws_sign_in_endpoints() {
        for good in [
            "https://signin.aws.amazon.com/saml",
            "https://us-east-1.signin.aws.amazon.com/saml",
        ] {
            assert!(is_aws_sign_in(good), "{good}");
        }
        for bad in [
            "https://evil.test/saml",
            "https://signin.aws.amazon.com.evil.test/saml",
            "https://x.y.signin.aws.amazon.com/saml",
            "http://signin.aws.amazon.com/saml",
        ] {
            assert!(!is_aws_sign_in(bad), "{bad}");
        }
    }
}
