//! AssumeRoleWithWebIdentity: a role's credentials for whoever presents an OpenID Connect ID
//! token that the role's account trusts. The call is unsigned, as on AWS: the token is the
//! credential. It must name a provider the role's account registered (its `iss`), one of
//! that provider's client ids (its `aud`), be within its times, and carry a signature the
//! issuer's published keys verify; then the role's trust policy decides, with the provider
//! as the `Federated` principal and the token's claims as `PROVIDER:aud`, `:sub` and `:amr`.
//!
//! Fetching the issuer's keys is I/O and lives at the edge ([`IssuerKeys`], implemented by
//! the server); checking the token is `oxiam-jwt`'s.

use std::future::Future;
use std::pin::Pin;

use oxiam_jwt::{Error as TokenError, Key};
use oxiam_protocol::sts::{AssumeRoleWithWebIdentityRequest, AssumeRoleWithWebIdentityResponse, errors as sts_errors};
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_store::StoreError;

use crate::authz::{Access, Outcome, Refusal, RequestFacts, Verdict};
use crate::federation::FederatedRequest;
use crate::sts::{DEFAULT_SESSION_SECONDS, NewRoleSession, parse_role_arn};
use crate::{Oxiam, errors};

/// How far in the future a token's `iat` or `nbf` may be (clock differences).
const CLOCK_SKEW_SECONDS: i64 = 300;

/// Why an issuer's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFetchError(pub String);

/// Where an issuer's signing keys come from: the server fetches them over HTTPS from the
/// issuer's discovery document, trusting its certificate by the provider's thumbprints.
pub trait IssuerKeys: Send + Sync {
    /// The keys of the issuer at `issuer_url` (`https://…`); `fresh` asks past any cache
    /// (a token names a key the cached set lacks: the issuer may have rotated).
    fn keys<'a>(
        &'a self,
        issuer_url: &'a str,
        thumbprints: &'a [String],
        fresh: bool,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Key>, KeyFetchError>> + Send + 'a>>;
}

fn invalid_token(message: impl Into<String>) -> Refusal {
    ServiceError::new(sts_errors::INVALID_IDENTITY_TOKEN, message).into()
}

/// AWS's answer when the role is missing or its trust policy refuses the token.
fn not_authorized() -> ServiceError {
    ServiceError::new(
        common_errors::ACCESS_DENIED,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
}

impl Oxiam {
    /// Checks the token, decides with the role's trust policy, and issues the session.
    /// Returns the verdict of the trust policy along with the answer.
    pub async fn assume_role_with_web_identity(
        &self,
        input: AssumeRoleWithWebIdentityRequest,
        now: i64,
        facts: &RequestFacts,
        issuer_keys: &dyn IssuerKeys,
    ) -> Result<(AssumeRoleWithWebIdentityResponse, Vec<Verdict>), Refusal> {
        if input.provider_id.is_some() {
            return Err(
                errors::not_implemented("ProviderId (OAuth 2.0 access tokens) on AssumeRoleWithWebIdentity").into(),
            );
        }
        let token = oxiam_jwt::decode(&input.web_identity_token.0).map_err(|_| {
            invalid_token(
                "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
            )
        })?;
        let claims = &token.claims;
        let assume = Access::new("sts:AssumeRoleWithWebIdentity", input.role_arn.clone());
        let denied = |why: &str| Refusal {
            verdict: Some(Box::new(Verdict::rule(&assume, Outcome::ImplicitDeny, why))),
            error: not_authorized(),
        };
        let (account, role_name) = parse_role_arn(&input.role_arn).ok_or_else(|| denied("not a role ARN"))?;
        // The token is checked before the role is looked at: a caller without a valid token
        // of a registered provider learns nothing about the account's roles.
        // The provider: the role's account must have registered the token's issuer.
        let provider_url = claims.issuer.strip_prefix("https://").unwrap_or(&claims.issuer);
        let provider_arn = crate::iam::oidc_provider_arn(account, provider_url);
        let provider = match self.store.get_oidc_provider(account, &provider_arn).await {
            Ok(provider) => provider,
            Err(StoreError::NotFound { .. }) => {
                return Err(invalid_token(format!(
                    "No OpenIDConnect provider found in your account for {}",
                    claims.issuer
                )));
            }
            Err(e) => return Err(errors::store(e).into()),
        };
        let Some(audience) = claims
            .audiences
            .iter()
            .find(|aud| provider.client_ids.contains(aud))
            .cloned()
        else {
            return Err(invalid_token("Incorrect token audience"));
        };
        let Some(expires_at) = claims.expires_at else {
            return Err(invalid_token("The token has no expiration time (exp)."));
        };
        if expires_at <= now {
            return Err(ServiceError::new(
                sts_errors::EXPIRED_TOKEN,
                format!("Token expired: current date/time {now} must be before the expiration date/time {expires_at}"),
            )
            .into());
        }
        if claims.not_before.is_some_and(|t| t > now + CLOCK_SKEW_SECONDS)
            || claims.issued_at.is_some_and(|t| t > now + CLOCK_SKEW_SECONDS)
        {
            return Err(invalid_token(
                "The token is not valid yet (nbf or iat is in the future).",
            ));
        }

        // The signature, with the issuer's keys; a key id the cached keys lack is asked
        // for again once, as issuers rotate keys.
        let issuer_url = format!("https://{provider_url}");
        let communication = |e: KeyFetchError| {
            Refusal::from(
                ServiceError::new(
                    sts_errors::IDP_COMMUNICATION_ERROR,
                    "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
                )
                .with_cause(&e.0),
            )
        };
        let keys = issuer_keys
            .keys(&issuer_url, &provider.thumbprints, false)
            .await
            .map_err(communication)?;
        let checked = match token.verify(&keys) {
            Err(TokenError::NoKey) => {
                let keys = issuer_keys
                    .keys(&issuer_url, &provider.thumbprints, true)
                    .await
                    .map_err(communication)?;
                token.verify(&keys)
            }
            other => other,
        };
        if checked.is_err() {
            return Err(invalid_token(
                "The signature of the web identity token could not be verified.",
            ));
        }

        // The source identity the issuer sets, checked as AssumeRole's parameter is.
        if claims
            .source_identity
            .as_deref()
            .is_some_and(|s| !crate::federation::is_source_identity(s))
        {
            return Err(invalid_token(
                "The source identity in the web identity token must be 2 to 64 characters of letters, digits and _+=,.@-.",
            ));
        }
        // Trusted identity propagation: the provider's context provider reads the subject and
        // the trusted context keys off the token, and the session keeps them.
        let trusted_context =
            match crate::trusted_context::ContextProviderConfig::decode(provider.context_provider.as_deref())? {
                Some(config) => config
                    .trusted_context(|name| claim_text(claims, name), &claims.issuer, &provider_arn)
                    .map_err(invalid_token)?,
                None => crate::trusted_context::TrustedContext::default(),
            };
        // Session tags the issuer passes (the `https://aws.amazon.com/tags` claim).
        let (tags, transitive_tag_keys) = match &claims.session_tags {
            Some(t) => crate::sts::federated_session_tags(t.principal_tags.clone(), t.transitive_tag_keys.clone())?,
            None => (Vec::new(), Vec::new()),
        };

        let (role, verdicts) = self
            .federated_trust(
                FederatedRequest {
                    assume: &assume,
                    account,
                    role_name,
                    provider_arn: &provider_arn,
                    session_name: &input.role_session_name,
                    tags: &tags,
                    transitive_tag_keys: &transitive_tag_keys,
                    source_identity: claims.source_identity.as_deref(),
                    not_authorized,
                },
                facts,
                |context| {
                    let mut context = context
                        .set(&format!("{provider_url}:aud"), audience.as_str())
                        .set_opt(&format!("{provider_url}:sub"), claims.subject.as_deref());
                    // The trusted context is the trust policy's to decide on too.
                    for (key, value) in &trusted_context.0 {
                        context = context.set(key, value.as_str());
                    }
                    if claims.amr.is_empty() {
                        context
                    } else {
                        context.set_all(&format!("{provider_url}:amr"), claims.amr.iter().map(String::as_str))
                    }
                },
            )
            .await?;

        let passed = self
            .passed_policies(&role.account_id, input.policy.clone(), input.policy_arns.clone())
            .await?;
        let (credentials, assumed_role_user) = self
            .issue_role_session(NewRoleSession {
                role: &role,
                session_name: &input.role_session_name,
                duration: input.duration_seconds.map_or(DEFAULT_SESSION_SECONDS, i64::from),
                session_policy: passed.inline,
                session_policy_arns: passed.arns,
                chained: false,
                session_tags: tags,
                transitive_tag_keys,
                mfa_at: None,
                source_identity: claims.source_identity.clone(),
                trusted_context: trusted_context.clone(),
                now,
            })
            .await?;
        let response = AssumeRoleWithWebIdentityResponse {
            credentials: Some(credentials),
            subject_from_web_identity_token: claims.subject.clone(),
            assumed_role_user: Some(assumed_role_user),
            packed_policy_size: passed.packed_percent,
            provider: Some(claims.issuer.clone()),
            audience: Some(audience),
            source_identity: claims.source_identity.clone(),
            // Not sent, as AWS's answers show (PackedPolicySize alone).
            session_token_utilization: None,
            session_token_size: None,
            trusted_identity_propagation_context: trusted_context.to_wire(),
        };
        Ok((response, verdicts))
    }
}

/// A claim as text, for a context provider: a string as it is, a number or boolean as JSON
/// writes it; `None` for a claim that is missing or is an array, object or null.
fn claim_text(claims: &oxiam_jwt::Claims, name: &str) -> Option<String> {
    match claims.all.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
