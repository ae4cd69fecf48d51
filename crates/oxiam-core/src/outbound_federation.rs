//! Outbound identity federation: oxiam as an OpenID Connect issuer. IAM's
//! Enable/Disable/GetOutboundWebIdentityFederation(Info) turn an account's issuer on and
//! off; STS GetWebIdentityToken signs a token about the caller with the account's keys;
//! the server publishes each issuer's discovery document and key set, unauthenticated, at
//! `PUBLIC_URL/_oxiam/oidc/ISSUER_ID/.well-known/…`.
//!
//! The claims are those AWS's tokens carry (IAM User Guide, "Outbound identity
//! federation": token claims): `iss`, `sub` (the caller's ARN; for a role session, the
//! role's; with `SubjectMode` `OriginIdentity`, the session's origin subject), `aud` (a string for one audience, an array for several), `iat`, `exp`, `jti`,
//! and under `https://sts.amazonaws.com/` the account, region, principal, organization,
//! principal tags, request tags and, for a role session, when it ends. An account's
//! issuer and keys outlive a Disable, as AWS's do: tokens issued before still verify.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use oxiam_jwt::issuing::{SigningAlgorithm, SigningKeys};
use oxiam_protocol::iam::{
    EnableOutboundWebIdentityFederationResponse, GetOutboundWebIdentityFederationInfoResponse, errors as iam_errors,
};
use oxiam_protocol::sts::{
    GetWebIdentityTokenRequest, GetWebIdentityTokenResponse, WebIdentityTokenSubjectModeType, errors as sts_errors,
};
use oxiam_protocol::{Sensitive, ServiceError, Timestamp, common_errors};
use oxiam_store::OutboundFederationRow;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::authz::RequestFacts;
use crate::{Oxiam, Principal, PrincipalKind, errors, ids};

/// Where issuers live on the server: `PUBLIC_URL` + this + the issuer's id.
pub const ISSUER_PATH: &str = "/_oxiam/oidc/";

/// A token lasts this long unless the request asks otherwise (GetWebIdentityToken).
pub(crate) const DEFAULT_TOKEN_SECONDS: i64 = 300;

/// The most a token's payload may hold, in bytes of JSON (as measured against AWS).
const PAYLOAD_QUOTA: usize = 14_984;

/// The namespace of AWS's own claims.
const AWS_CLAIMS: &str = "https://sts.amazonaws.com/";

/// Issuers' documents as published, by issuer id and document. Bounded by the number of
/// accounts that enabled outbound federation; emptied by a reset (another replica's
/// reset leaves this one's until it restarts: it then publishes the keys of an issuer that
/// is gone, whose tokens no longer name any account).
#[derive(Debug, Default)]
pub(crate) struct PublishedDocuments(Mutex<HashMap<(String, IssuerDocument), Value>>);

impl PublishedDocuments {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, IssuerDocument), Value>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

/// The two documents an issuer publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssuerDocument {
    /// `.well-known/openid-configuration`.
    Discovery,
    /// `.well-known/jwks.json`.
    KeySet,
}

impl IssuerDocument {
    /// The document a path under an issuer names (`.well-known/…`), if any.
    pub fn named(path: &str) -> Option<Self> {
        match path {
            ".well-known/openid-configuration" => Some(IssuerDocument::Discovery),
            ".well-known/jwks.json" => Some(IssuerDocument::KeySet),
            _ => None,
        }
    }
}

/// What seals an account's signing keys: the AEAD's associated data names the account
/// and the key's kind, so a sealed key moved to another row does not open.
fn sealing_label(account_id: &str, kind: &str) -> String {
    format!("outbound-federation/{account_id}/{kind}")
}

impl Oxiam {
    /// The issuer URL of an issuer id.
    pub(crate) fn issuer_url(&self, issuer_id: &str) -> String {
        format!("{}{ISSUER_PATH}{issuer_id}", self.public_url)
    }

    /// EnableOutboundWebIdentityFederation: the first time, a new issuer id and new keys.
    pub(crate) async fn enable_outbound_web_identity_federation(
        &self,
        caller: &Principal,
        now: i64,
    ) -> Result<EnableOutboundWebIdentityFederationResponse, ServiceError> {
        let account = &caller.account_id;
        let already = || {
            ServiceError::new(
                iam_errors::FEATURE_ENABLED,
                format!("Outbound identity federation is already enabled for account {account}"),
            )
        };
        let existing = self.store.outbound_federation(account).await.map_err(errors::store)?;
        let first = match existing {
            Some(row) if row.enabled => return Err(already()),
            Some(row) => row,
            None => {
                // RSA key generation takes a while: off the request threads.
                let keys = tokio::task::spawn_blocking(SigningKeys::generate)
                    .await
                    .map_err(|e| errors::service_failure(&e))?
                    .map_err(|e| errors::service_failure(&e))?;
                let (rsa, ec) = keys.to_pkcs8().map_err(|e| errors::service_failure(&e))?;
                OutboundFederationRow {
                    account_id: account.clone(),
                    issuer_id: ids::uuid(),
                    enabled: true,
                    rsa_key_sealed: self.secrets.seal(&sealing_label(account, "rsa"), &STANDARD.encode(rsa)),
                    ec_key_sealed: self.secrets.seal(&sealing_label(account, "ec"), &STANDARD.encode(ec)),
                    created_at: now,
                }
            }
        };
        let (row, enabled_now) = self
            .store
            .enable_outbound_federation(&first)
            .await
            .map_err(errors::store)?;
        if !enabled_now {
            return Err(already());
        }
        Ok(EnableOutboundWebIdentityFederationResponse {
            issuer_identifier: Some(self.issuer_url(&row.issuer_id)),
        })
    }

    /// DisableOutboundWebIdentityFederation: the issuer and its keys stay.
    pub(crate) async fn disable_outbound_web_identity_federation(
        &self,
        caller: &Principal,
    ) -> Result<(), ServiceError> {
        let account = &caller.account_id;
        if self
            .store
            .disable_outbound_federation(account)
            .await
            .map_err(errors::store)?
        {
            Ok(())
        } else {
            Err(ServiceError::new(
                iam_errors::FEATURE_DISABLED,
                format!("Outbound identity federation is already disabled for account {account}"),
            ))
        }
    }

    /// GetOutboundWebIdentityFederationInfo: FeatureDisabled while it is off, as AWS
    /// answers (never `JwtVendingEnabled` false).
    pub(crate) async fn get_outbound_web_identity_federation_info(
        &self,
        caller: &Principal,
    ) -> Result<GetOutboundWebIdentityFederationInfoResponse, ServiceError> {
        let account = &caller.account_id;
        match self.store.outbound_federation(account).await.map_err(errors::store)? {
            Some(row) if row.enabled => Ok(GetOutboundWebIdentityFederationInfoResponse {
                issuer_identifier: Some(self.issuer_url(&row.issuer_id)),
                jwt_vending_enabled: Some(true),
            }),
            _ => Err(ServiceError::new(
                iam_errors::FEATURE_DISABLED,
                format!("Outbound identity federation is disabled for account {account}"),
            )),
        }
    }

    /// STS GetWebIdentityToken, once authorized: a token about the caller, signed with
    /// the account's key for the algorithm asked.
    pub(crate) async fn get_web_identity_token(
        &self,
        caller: &Principal,
        input: GetWebIdentityTokenRequest,
        facts: &RequestFacts,
    ) -> Result<GetWebIdentityTokenResponse, ServiceError> {
        let now = facts.now;
        let algorithm = SigningAlgorithm::named(&input.signing_algorithm).ok_or_else(|| {
            ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "Requested SigningAlgorithm is not supported. See the GetWebIdentityToken documentation for supported algorithms",
            )
        })?;
        let origin_subject = if input.subject_mode == Some(WebIdentityTokenSubjectModeType::OriginIdentity) {
            Some(origin_subject(caller)?)
        } else {
            None
        };
        if let Some(scope) = &input.scope {
            if origin_subject.is_none() || input.audience.len() != 1 {
                return Err(ServiceError::new(
                    common_errors::VALIDATION_ERROR,
                    "Scope can be specified only with SubjectMode OriginIdentity and exactly one Audience.",
                ));
            }
            check_scope(scope)?;
        }
        let request_tags = crate::tags::pairs(crate::sts::iam_tags(input.tags.as_deref()))
            .map_err(|e| ServiceError::new(crate::sts::INVALID_PARAMETER_VALUE, e.message))?;
        let duration = input.duration_seconds.map_or(DEFAULT_TOKEN_SECONDS, i64::from);
        let expires_at = now + duration;
        if let Some(session) = &caller.session
            && expires_at > session.expires_at
        {
            return Err(ServiceError::new(
                sts_errors::SESSION_DURATION_ESCALATION,
                "Requested token expiry time must be before the original session's expiry time.",
            ));
        }
        let row = match self
            .store
            .outbound_federation(&caller.account_id)
            .await
            .map_err(errors::store)?
        {
            Some(row) if row.enabled => row,
            _ => {
                return Err(ServiceError::new(
                    sts_errors::OUTBOUND_WEB_IDENTITY_FEDERATION_DISABLED,
                    "OutboundWebIdentityFederation is disabled.",
                ));
            }
        };
        let keys = self.signing_keys(&row)?;
        // principal_id names the caller whichever identity `sub` names.
        let subject = token_subject(caller);
        let mut aws = Map::new();
        aws.insert("aws_account".to_owned(), json!(caller.account_id));
        if !facts.region.is_empty() {
            aws.insert("source_region".to_owned(), json!(facts.region));
        }
        aws.insert("principal_id".to_owned(), json!(subject));
        if let Some(source_identity) = caller.session.as_ref().and_then(|s| s.source_identity.as_deref()) {
            aws.insert("source_identity".to_owned(), json!(source_identity));
        }
        let (principal_tags, organization) = self.principal_claims(caller).await?;
        if let Some((org_id, paths)) = organization {
            aws.insert("org_id".to_owned(), json!(org_id));
            aws.insert("ou_path".to_owned(), json!(paths));
        }
        if !principal_tags.is_empty() {
            aws.insert("principal_tags".to_owned(), tag_object(&principal_tags));
        }
        if !request_tags.is_empty() {
            aws.insert("request_tags".to_owned(), tag_object(&request_tags));
        }
        if let (PrincipalKind::AssumedRole { .. }, Some(session)) = (&caller.kind, &caller.session) {
            aws.insert(
                "original_session_exp".to_owned(),
                json!(Timestamp(session.expires_at).to_iso8601()),
            );
        }
        let audience = match input.audience.as_slice() {
            [one] => json!(one),
            many => json!(many),
        };
        let mut claims = json!({
            "iss": self.issuer_url(&row.issuer_id),
            "sub": origin_subject.as_deref().unwrap_or(&subject),
            "aud": audience,
            "iat": now,
            "exp": expires_at,
            "jti": ids::uuid(),
            AWS_CLAIMS: aws,
        });
        if origin_subject.is_some() {
            claims["subject_mode"] = json!("OriginIdentity");
        }
        if let Some(scope) = &input.scope {
            claims["scope"] = json!(scope);
        }
        if claims.to_string().len() > PAYLOAD_QUOTA {
            return Err(ServiceError::new(
                sts_errors::JWT_PAYLOAD_SIZE_EXCEEDED,
                "The JWT payload size exceeds the maximum allowed size. Reduce the number of request tags.",
            ));
        }
        let token = keys.sign(algorithm, &claims).map_err(|e| errors::service_failure(&e))?;
        Ok(GetWebIdentityTokenResponse {
            web_identity_token: Some(Sensitive(token)),
            expiration: Some(Timestamp(expires_at)),
        })
    }

    /// An issuer's discovery document or key set, for the server's unauthenticated
    /// endpoint; `None` for an issuer id no account has. A disabled account's issuer still
    /// answers: tokens it issued stay verifiable until they expire.
    pub async fn issuer_document(
        &self,
        issuer_id: &str,
        document: IssuerDocument,
    ) -> Result<Option<Value>, ServiceError> {
        let key = (issuer_id.to_owned(), document);
        if let Some(published) = self.issuer_documents.lock().get(&key) {
            return Ok(Some(published.clone()));
        }
        let Some(row) = self
            .store
            .outbound_federation_by_issuer(issuer_id)
            .await
            .map_err(errors::store)?
        else {
            return Ok(None);
        };
        let issuer = self.issuer_url(&row.issuer_id);
        let published = match document {
            IssuerDocument::Discovery => json!({
                "issuer": issuer,
                "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": SigningAlgorithm::ALL.map(SigningAlgorithm::name),
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "jti", AWS_CLAIMS],
            }),
            IssuerDocument::KeySet => self
                .signing_keys(&row)?
                .key_set()
                .map_err(|e| errors::service_failure(&e))?,
        };
        self.issuer_documents.lock().insert(key, published.clone());
        Ok(Some(published))
    }

    /// An account's signing keys, unsealed.
    fn signing_keys(&self, row: &OutboundFederationRow) -> Result<SigningKeys, ServiceError> {
        let open = |kind: &str, sealed: &str| -> Result<Vec<u8>, ServiceError> {
            let text = self
                .secrets
                .open(&sealing_label(&row.account_id, kind), sealed)
                .map_err(|_| errors::service_failure(&format!("the {kind} signing key of an issuer does not open")))?;
            STANDARD
                .decode(text)
                .map_err(|_| errors::service_failure(&format!("the {kind} signing key of an issuer is not base64")))
        };
        SigningKeys::from_pkcs8(&open("rsa", &row.rsa_key_sealed)?, &open("ec", &row.ec_key_sealed)?)
            .map_err(|e| errors::service_failure(&e))
    }
}

/// The origin subject of the caller's session (trusted identity propagation), for
/// `SubjectMode` `OriginIdentity`: a ValidationError when the session has none (or no
/// issuer with it, or a blank one), and a refusal when it could pass for an AWS principal
/// (`arn:…`) or has edge spaces, control, format or separator characters other than a space
/// (STS API reference, GetWebIdentityToken).
fn origin_subject(caller: &Principal) -> Result<String, ServiceError> {
    let context = crate::trusted_context::TrustedContext::of(caller);
    let get = |key: &str| context.get(key);
    let subject = get("aws:OriginIdentity/Subject").filter(|s| !s.trim().is_empty());
    let issued = get("aws:OriginIdentity/Issuer").is_some() || get("aws:OriginIdentity/FederatedProviderArn").is_some();
    let Some(subject) = subject.filter(|_| issued) else {
        return Err(ServiceError::new(
            common_errors::VALIDATION_ERROR,
            "SubjectMode OriginIdentity requires a session whose trusted identity propagation context has an \
             origin subject and issuer.",
        ));
    };
    let looks_like_arn = subject.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:"));
    let odd = subject.starts_with(' ')
        || subject.ends_with(' ')
        || subject
            .chars()
            .any(|c| c != ' ' && (c.is_control() || c.is_whitespace() || is_format_char(c)));
    if looks_like_arn || odd {
        return Err(ServiceError::new(
            common_errors::ACCESS_DENIED,
            "The origin subject of the calling session cannot be the subject of a web identity token.",
        ));
    }
    Ok(subject.to_owned())
}

/// Unicode format characters (category Cf) a subject may not hide: the zero-width and
/// bidirectional controls, the byte order mark, the soft hyphen.
fn is_format_char(c: char) -> bool {
    matches!(
        c,
        '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}'
    )
}

/// A Scope as the API reference admits it: values of printable ASCII but space, `"`, `,` and
/// `\`, separated by single spaces, none repeated.
fn check_scope(scope: &str) -> Result<(), ServiceError> {
    let invalid = |why: &str| ServiceError::new(common_errors::VALIDATION_ERROR, format!("Scope is not valid: {why}."));
    let values: Vec<&str> = scope.split(' ').collect();
    if values.iter().any(|v| v.is_empty()) {
        return Err(invalid(
            "values are separated by single spaces, with none at either end",
        ));
    }
    let admitted = |c: char| ('!'..='~').contains(&c) && !matches!(c, '"' | ',' | '\\');
    if !values.iter().all(|v| v.chars().all(admitted)) {
        return Err(invalid(
            "a value has a character other than printable ASCII but space, quote, comma and backslash",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    if !values.iter().all(|v| seen.insert(*v)) {
        return Err(invalid("a value is repeated"));
    }
    Ok(())
}

/// The token's `sub` and `principal_id`: the caller's ARN; for a role session, the role's.
fn token_subject(caller: &Principal) -> String {
    let account = &caller.account_id;
    match &caller.kind {
        PrincipalKind::Root => format!("arn:aws:iam::{account}:root"),
        PrincipalKind::User { name, path, .. } => ids::user_arn(account, path, name),
        PrincipalKind::AssumedRole {
            role_name, role_path, ..
        } => ids::role_arn(account, role_path, role_name),
        // Refused before (GetWebIdentityToken takes no federated-user session).
        PrincipalKind::FederatedUser { name, .. } => ids::federated_user_arn(account, name),
    }
}

/// Tags as a JSON object, key → value.
fn tag_object(tags: &[(String, String)]) -> Value {
    Value::Object(tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// Whether a caller may get tokens at all: a federated user's session may not.
pub(crate) fn takes_tokens(caller: &Principal) -> bool {
    !matches!(caller.kind, PrincipalKind::FederatedUser { .. })
}
