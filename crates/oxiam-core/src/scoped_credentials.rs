//! STS GetScopedCredentials: a copy of the caller's temporary credentials that acts as the
//! same principal, limited by one more scope-down policy and never outliving them.
//!
//! The copy is a session row of its own (role session or user session, as the caller's),
//! with the caller's columns and the list of scope-down policies grown by one; every
//! policy of the list must allow each request it signs (`PrincipalPolicies::scope_refusal`).
//!
//! STS GetDelegatedAccessToken makes the same kind of copy for a delegation request's
//! requestor: of the identity that accepted the request, scoped by the request's rendered
//! policy, expiring when the delegation does.

use oxiam_protocol::sts::{
    GetDelegatedAccessTokenRequest, GetDelegatedAccessTokenResponse, GetScopedCredentialsRequest,
    GetScopedCredentialsResponse, ScopedSession, errors as sts_errors,
};
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_store::StoreError;

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
        let mut scopes = session.scope_policies.len();
        // (The model bounds `Policy` at 2,048 characters, so one policy always fits.)
        if let Some(policy) = &input.policy {
            crate::documents::validate_session(policy)?;
            if scopes >= MAX_SCOPE_POLICIES {
                return Err(ServiceError::new(
                    sts_errors::PACKED_POLICY_TOO_LARGE,
                    format!(
                        "The credentials already carry {MAX_SCOPE_POLICIES} scope-down policies, the most a chain may hold."
                    ),
                ));
            }
            scopes += 1;
        }
        let issued = self.temporary_credentials(now, duration);
        let copied = self
            .copy_session(&caller.access_key_id, &issued, input.policy.as_deref(), None)
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
            scoped_policies_count: Some(scopes as i32),
            // The copy is the same session: its source identity too.
            source_identity: session.source_identity.clone(),
        })
    }

    /// Stores a copy of the session whose key is `access_key_id` under the new credentials,
    /// its scope-down policies and `scope` after them, marked as delegated credentials of
    /// `delegation` when given. `false` when no session has that key. The
    /// copy keeps its caller's issue time (`aws:TokenIssueTime`): a policy revoking sessions
    /// issued before a moment revokes their copies too.
    pub(crate) async fn copy_session(
        &self,
        access_key_id: &str,
        issued: &crate::sts::IssuedCredentials,
        scope: Option<&str>,
        delegation: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let expires_at = issued.credentials.expiration.0;
        let with_scope = |mut scopes: Vec<String>| {
            scopes.extend(scope.map(str::to_owned));
            scopes
        };
        if let Some((parent, _, _)) = self.store.find_session(access_key_id).await.map_err(errors::store)? {
            let scopes = with_scope(parent.scope_policies.clone());
            let copy = oxiam_store::SessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                secret_sealed: issued.secret_sealed.clone(),
                token_sha256: issued.token_sha256.clone(),
                expires_at,
                scope_policies: scopes,
                delegation_request_id: delegation.map(str::to_owned).or(parent.delegation_request_id.clone()),
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
            let scopes = with_scope(parent.scope_policies.clone());
            let copy = oxiam_store::UserSessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                secret_sealed: issued.secret_sealed.clone(),
                token_sha256: issued.token_sha256.clone(),
                expires_at,
                scope_policies: scopes,
                delegation_request_id: delegation.map(str::to_owned).or(parent.delegation_request_id.clone()),
                ..parent
            };
            self.store.create_user_session(&copy).await.map_err(errors::store)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// STS GetDelegatedAccessToken: credentials of the identity that accepted a delegation
    /// request, for the account that filed it, limited by the request's rendered policy and
    /// expiring when the delegation does (the release plus the request's duration), however
    /// often the token is traded.
    pub(crate) async fn delegated_access_token(
        &self,
        caller: &Principal,
        input: GetDelegatedAccessTokenRequest,
        now: i64,
    ) -> Result<GetDelegatedAccessTokenResponse, ServiceError> {
        // Another account's token is no token to this caller: it learns nothing of it.
        let unknown = || ServiceError::new(crate::sts::INVALID_PARAMETER_VALUE, "The trade-in token is not valid.");
        let Some(request) = self.released_delegation(&input.trade_in_token.0).await? else {
            return Err(unknown());
        };
        if request.requestor_account_id != caller.account_id || request.state != "FINALIZED" {
            return Err(unknown());
        }
        let expired = || {
            ServiceError::new(
                sts_errors::EXPIRED_TRADE_IN_TOKEN,
                "The trade-in token provided in the request has expired and can no longer be exchanged for credentials.",
            )
        };
        let (Some(expires_at), Some(approver), Some(account)) = (
            request.delegation_ends_at,
            &request.approver_id,
            &request.owner_account_id,
        ) else {
            return Err(unknown());
        };
        if now >= expires_at {
            return Err(expired());
        }
        let gone = || {
            ServiceError::new(
                sts_errors::EXPIRED_TRADE_IN_TOKEN,
                "The identity that approved the delegation request no longer exists.",
            )
        };
        let issued = self.temporary_credentials(now, expires_at - now);
        let policy = request.permission_policy.as_str();
        let delegation = Some(request.id.as_str());
        if let Some(session_key) = &request.approver_session_key {
            // The approver's session, copied (its own copy of the approver's role session).
            if !self
                .copy_session(session_key, &issued, Some(policy), delegation)
                .await?
            {
                return Err(gone());
            }
        } else {
            // Long-term keys: a session of the user (or root) that signed, while it exists
            // (the same user: one made again with its name is another).
            if let Some(user_id) = &request.approver_user_id {
                let name = approver.rsplit('/').next().unwrap_or_default();
                match self.store.get_user(account, name).await {
                    Ok(user) if user.user_id == *user_id => {}
                    Ok(_) | Err(StoreError::NotFound { .. }) => return Err(gone()),
                    Err(e) => return Err(errors::store(e)),
                }
            }
            self.store
                .create_user_session(&oxiam_store::UserSessionRow {
                    access_key_id: issued.credentials.access_key_id.clone(),
                    account_id: account.clone(),
                    user_id: request.approver_user_id.clone(),
                    secret_sealed: issued.secret_sealed.clone(),
                    token_sha256: issued.token_sha256.clone(),
                    issued_at: now,
                    expires_at,
                    mfa_at: None,
                    federation: None,
                    root_task_policy: None,
                    scope_policies: vec![policy.to_owned()],
                    delegation_request_id: delegation.map(str::to_owned),
                    source_identity: None,
                    trusted_context: None,
                })
                .await
                .map_err(errors::store)?;
        }
        Ok(GetDelegatedAccessTokenResponse {
            credentials: Some(issued.credentials),
            packed_policy_size: None,
            assumed_principal: Some(approver.clone()),
        })
    }
}
