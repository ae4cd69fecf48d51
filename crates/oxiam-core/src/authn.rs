//! Authentication: a SigV4 signature, checked against the secret of the key it names,
//! proves who the caller is.

use oxiam_sigv4::{AuthError, Claim, SignedRequest};
use oxiam_store::KeyWithOwner;

use crate::{IssuingUser, Oxiam, Principal, PrincipalKind, Session, SessionIssuer};

/// A request whose signature checked out.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Who signed it.
    pub principal: Principal,
    /// What the signature claimed (service, region, time).
    pub claim: Claim,
}

/// Why a request is not authenticated.
#[derive(Debug)]
pub enum AuthFailure {
    /// The signature, key or token is wrong: answered with AWS's auth error.
    Rejected(AuthError),
    /// oxiam could not look the key up.
    Internal(oxiam_store::StoreError),
}

fn invalid_token() -> AuthFailure {
    AuthFailure::Rejected(AuthError::invalid_client_token_id())
}

impl Oxiam {
    /// Verifies the request's signature; `services` are the signing names accepted here.
    pub async fn authenticate(
        &self,
        request: &SignedRequest<'_>,
        now: i64,
        services: &[&str],
    ) -> Result<Authenticated, AuthFailure> {
        let claim = oxiam_sigv4::parse(request).map_err(AuthFailure::Rejected)?;
        // Clock skew and credential scope are judged before the key is looked up, in the
        // order AWS reports them.
        oxiam_sigv4::check_claim(&claim, now, services).map_err(AuthFailure::Rejected)?;
        // An unknown key, an inactive key, a wrong or missing session token, and a token
        // sent with a long-term key all get the same answer, so the answer does not reveal
        // which keys exist.
        let found = self
            .stored_credentials(&claim.access_key_id)
            .await
            .map_err(AuthFailure::Internal)?;
        let Some((sealed, principal)) = found else {
            return Err(invalid_token());
        };
        self.check_session_token(&principal, claim.security_token.as_deref(), now)?;
        let scope = crate::signing_keys::Scope {
            access_key_id: &principal.access_key_id,
            date: &claim.date,
            region: &claim.region,
            service: &claim.service,
        };
        self.signing_keys.check(
            &scope,
            &sealed,
            || {
                self.open_secret(&principal.access_key_id, &sealed)
                    .ok_or_else(invalid_token)
            },
            |signing_key| {
                oxiam_sigv4::verify_with_signing_key(request, &claim, signing_key, now, services)
                    .map_err(AuthFailure::Rejected)
            },
        )?;
        let mut claim = claim;
        if claim.region.is_empty() {
            // Signed for no region (as some S3-compatible clients sign): the default one.
            oxiam_sigv4::DEFAULT_REGION.clone_into(&mut claim.region);
        }
        Ok(Authenticated { principal, claim })
    }

    /// The secret of an access key and the principal it signs for: an active long-term
    /// key (`AKIA…`) or the temporary key of a role session (`ASIA…`, whose token the
    /// caller must still check with [`Oxiam::check_session_token`]). Front ends whose
    /// protocol library verifies signatures itself (s3s for S3) use this directly.
    /// `None` for an unknown or inactive key.
    pub async fn credentials(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Principal)>, oxiam_store::StoreError> {
        let Some((sealed, principal)) = self.stored_credentials(access_key_id).await? else {
            return Ok(None);
        };
        Ok(self
            .open_secret(&principal.access_key_id, &sealed)
            .map(|secret| (secret, principal)))
    }

    /// A sealed secret, unsealed; `None` (and an error logged) if it does not open.
    fn open_secret(&self, access_key_id: &str, sealed: &str) -> Option<String> {
        let opened = self.secrets.open(access_key_id, sealed);
        if opened.is_err() {
            tracing::error!(%access_key_id, "stored secret does not open");
        }
        opened.ok()
    }

    /// What [`Oxiam::credentials`] answers, with the secret still sealed (for the key id
    /// the principal names).
    async fn stored_credentials(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Principal)>, oxiam_store::StoreError> {
        if access_key_id.starts_with("ASIA") {
            return self.session_credentials(access_key_id).await;
        }
        let Some(KeyWithOwner {
            key,
            user,
            policy_epoch,
        }) = self.store.find_access_key(access_key_id).await?
        else {
            return Ok(None);
        };
        if key.status != "Active" {
            return Ok(None);
        }
        let kind = match user {
            None => PrincipalKind::Root,
            Some(u) => PrincipalKind::User {
                user_id: u.user_id,
                name: u.name,
                path: u.path,
            },
        };
        let principal = Principal {
            account_id: key.account_id,
            kind,
            access_key_id: key.access_key_id,
            policy_epoch,
            session: None,
            mfa_at: None,
        };
        Ok(Some((key.secret_sealed, principal)))
    }

    async fn session_credentials(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Principal)>, oxiam_store::StoreError> {
        let Some((session, role, policy_epoch)) = self.store.find_session(access_key_id).await? else {
            return self.user_session_credentials(access_key_id).await;
        };
        // A session whose trusted context does not read is no session: its keys are part of
        // every decision about it.
        let Some(trusted_context) = crate::trusted_context::TrustedContext::decode(session.trusted_context.as_deref())
        else {
            tracing::error!(access_key_id = %session.access_key_id, "stored trusted context does not read");
            return Ok(None);
        };
        let principal = Principal {
            account_id: session.account_id,
            kind: PrincipalKind::AssumedRole {
                role_id: role.role_id,
                role_name: role.name,
                role_path: role.path,
                session_name: session.session_name,
                session_policy: session.session_policy,
                session_policy_arns: session.session_policy_arns,
                session_tags: session.session_tags,
                transitive_tag_keys: session.transitive_tag_keys,
            },
            access_key_id: session.access_key_id,
            policy_epoch,
            session: Some(Session {
                token_sha256: session.token_sha256,
                issued_at: session.issued_at,
                expires_at: session.expires_at,
                issued_by: SessionIssuer::AssumeRole,
                scope_policies: session.scope_policies,
                trusted_context: trusted_context.0,
                source_identity: session.source_identity,
                delegated: session.delegation_request_id.is_some(),
            }),
            mfa_at: session.mfa_at,
        };
        Ok(Some((session.secret_sealed, principal)))
    }

    /// Credentials from GetSessionToken, which act as the user (or root) that asked, or from
    /// GetFederationToken, which act as a federated user limited by its session policies.
    async fn user_session_credentials(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Principal)>, oxiam_store::StoreError> {
        let Some((session, user, policy_epoch)) = self.store.find_user_session(access_key_id).await? else {
            return Ok(None);
        };
        let (kind, issued_by) = match (session.federation, user) {
            (None, None) => match session.root_task_policy {
                Some(task_policy_arn) => (PrincipalKind::Root, SessionIssuer::AssumeRoot { task_policy_arn }),
                None => (PrincipalKind::Root, SessionIssuer::GetSessionToken),
            },
            (None, Some(u)) => (
                PrincipalKind::User {
                    user_id: u.user_id,
                    name: u.name,
                    path: u.path,
                },
                SessionIssuer::GetSessionToken,
            ),
            (Some(federation), user) => (
                PrincipalKind::FederatedUser {
                    name: federation.name,
                    issuer: user.map(|u| IssuingUser {
                        user_id: u.user_id,
                        name: u.name,
                        path: u.path,
                    }),
                    session_policy: federation.session_policy,
                    session_policy_arns: federation.session_policy_arns,
                    session_tags: federation.session_tags,
                },
                SessionIssuer::GetFederationToken,
            ),
        };
        let Some(trusted_context) = crate::trusted_context::TrustedContext::decode(session.trusted_context.as_deref())
        else {
            tracing::error!(access_key_id = %session.access_key_id, "stored trusted context does not read");
            return Ok(None);
        };
        let principal = Principal {
            account_id: session.account_id,
            kind,
            access_key_id: session.access_key_id,
            policy_epoch,
            session: Some(Session {
                token_sha256: session.token_sha256,
                issued_at: session.issued_at,
                expires_at: session.expires_at,
                issued_by,
                scope_policies: session.scope_policies,
                source_identity: session.source_identity,
                trusted_context: trusted_context.0,
                delegated: session.delegation_request_id.is_some(),
            }),
            mfa_at: session.mfa_at,
        };
        Ok(Some((session.secret_sealed, principal)))
    }

    /// Checks the session token a request carries (`X-Amz-Security-Token`): a role
    /// session needs the very token issued with its key (compared by hash, in constant
    /// time) before its expiry; a long-term key must come without one.
    pub fn check_session_token(&self, principal: &Principal, token: Option<&str>, now: i64) -> Result<(), AuthFailure> {
        let Some(session) = &principal.session else {
            return if token.is_some() { Err(invalid_token()) } else { Ok(()) };
        };
        let Some(token) = token else {
            return Err(invalid_token());
        };
        let presented = crate::sts::token_digest(token);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            presented.as_bytes(),
            session.token_sha256.as_bytes(),
        )) {
            return Err(invalid_token());
        }
        if now >= session.expires_at {
            return Err(AuthFailure::Rejected(AuthError::expired_token()));
        }
        Ok(())
    }

    /// Records that the caller's key signed a request now (for GetAccessKeyLastUsed).
    pub fn record(&self, caller: &Authenticated, now: i64) {
        self.record_use(&caller.principal, now, &caller.claim.service, &caller.claim.region)
    }

    /// Records a request by `principal` for `service` in `region`: a long-term key's last
    /// use, or for a role session the role's (GetRole's RoleLastUsed). Kept in memory
    /// until the next [`Oxiam::flush_usage`].
    pub fn record_use(&self, principal: &Principal, now: i64, service: &str, region: &str) {
        match &principal.kind {
            PrincipalKind::AssumedRole { role_id, .. } => self.usage.role_used(role_id, now, region),
            _ => self.usage.key_used(&principal.access_key_id, now, service, region),
        }
    }
}
