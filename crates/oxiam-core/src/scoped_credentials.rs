//! STS GetScopedCredentials: a copy of the caller's temporary credentials that acts as the
//! same principal, limited by one more scope-down policy and never outliving them.
//!
//! The copy is a session row of its own (role session or user session, as the caller's),
//! with the caller's columns and the list of scope-down policies grown by one; every
//! policy of the list must allow each request it signs (`PrincipalPolicies::scope_refusal`).

use oxiam_protocol::sts::{
    GetScopedCredentialsRequest, GetScopedCredentialsResponse, ScopedSession, errors as sts_errors,
};
use oxiam_protocol::{ServiceError, common_errors};

use crate::{Oxiam, Principal, errors};

/// The most scope-down policies a chain holds (AWS documents no bound; each is compiled
/// whenever the copy's policies are, so one is needed).
const MAX_SCOPE_POLICIES: usize = 10;

impl Oxiam {
    pub(crate) async fn scoped_credentials(
        &self,
        caller: &Principal,
        input: GetScopedCredentialsRequest,
        now: i64,
    ) -> Result<GetScopedCredentialsResponse, ServiceError> {
        // Long-term keys have no session to scope (the API reference: "You cannot call it with
        // IAM user credentials or root credentials"); which error AWS gives is not documented.
        let Some(session) = &caller.session else {
            return Err(ServiceError::new(
                sts_errors::INVALID_SUBJECT_CREDENTIALS,
                "GetScopedCredentials must be called with temporary security credentials.",
            ));
        };
        if input.policy.is_none() && input.duration_seconds.is_none() {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "At least one of Policy or DurationSeconds must be specified.",
            ));
        }
        let remaining = session.expires_at - now;
        let duration = match input.duration_seconds {
            Some(seconds) if i64::from(seconds) > remaining => {
                return Err(ServiceError::new(
                    sts_errors::INSUFFICIENT_SESSION_LIFETIME,
                    format!(
                        "The requested DurationSeconds ({seconds}) exceeds the remaining lifetime of the calling session ({remaining} seconds)."
                    ),
                ));
            }
            Some(seconds) => i64::from(seconds),
            // Without a duration the copy expires with the caller's credentials.
            None => remaining,
        };
        let mut scopes = session.scope_policies.clone();
        // (The model bounds `Policy` at 2,048 characters, so one policy always fits.)
        if let Some(policy) = &input.policy {
            crate::documents::validate_session(policy)?;
            if scopes.len() >= MAX_SCOPE_POLICIES {
                return Err(ServiceError::new(
                    sts_errors::PACKED_POLICY_TOO_LARGE,
                    format!(
                        "The credentials already carry {MAX_SCOPE_POLICIES} scope-down policies, the most a chain may hold."
                    ),
                ));
            }
            scopes.push(policy.clone());
        }
        let issued = self.temporary_credentials(now, duration);
        let copied = self
            .copy_session(&caller.access_key_id, &issued, scopes.clone())
            .await?;
        if !copied {
            return Err(ServiceError::new(
                sts_errors::INVALID_SUBJECT_CREDENTIALS,
                "The calling session could not be resolved.",
            ));
        }
        Ok(GetScopedCredentialsResponse {
            credentials: Some(issued.credentials),
            session_info: Some(ScopedSession {
                // The principal the copy acts as, as GetCallerIdentity's UserId names it.
                scoped_session_id: caller.unique_id(),
                arn: caller.arn(),
            }),
            session_token_utilization: None,
            session_token_size: None,
            scoped_policies_count: Some(scopes.len() as i32),
            source_identity: None,
        })
    }

    /// Stores a copy of the session whose key is `access_key_id` under the new credentials,
    /// with `scopes` as its scope-down policies. `false` when no session has that key. The
    /// copy keeps its caller's issue time (`aws:TokenIssueTime`): a policy revoking sessions
    /// issued before a moment revokes their copies too.
    pub(crate) async fn copy_session(
        &self,
        access_key_id: &str,
        issued: &crate::sts::IssuedCredentials,
        scopes: Vec<String>,
    ) -> Result<bool, ServiceError> {
        let expires_at = issued.credentials.expiration.0;
        if let Some((parent, _, _)) = self.store.find_session(access_key_id).await.map_err(errors::store)? {
            let copy = oxiam_store::SessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                secret_sealed: issued.secret_sealed.clone(),
                token_sha256: issued.token_sha256.clone(),
                expires_at,
                scope_policies: scopes,
                ..parent
            };
            self.store.create_session(&copy).await.map_err(errors::store)?;
            return Ok(true);
        }
        if let Some((parent, _, _)) = self
            .store
            .find_user_session(access_key_id)
            .await
            .map_err(errors::store)?
        {
            let copy = oxiam_store::UserSessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                secret_sealed: issued.secret_sealed.clone(),
                token_sha256: issued.token_sha256.clone(),
                expires_at,
                scope_policies: scopes,
                ..parent
            };
            self.store.create_user_session(&copy).await.map_err(errors::store)?;
            return Ok(true);
        }
        Ok(false)
    }
}
