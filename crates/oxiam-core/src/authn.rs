//! Authentication: a SigV4 signature, checked against the secret of the key it names,
//! proves who the caller is.

use oxiam_sigv4::{AuthError, Claim, SignedRequest};
use oxiam_store::KeyWithOwner;

use crate::{Oxiam, Principal, PrincipalKind};

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
        let found = self
            .store
            .find_access_key(&claim.access_key_id)
            .await
            .map_err(AuthFailure::Internal)?;
        // An unknown key, an inactive key, and a session token sent with a long-term key
        // all get the same answer, so the answer does not reveal which keys exist.
        let Some(KeyWithOwner { key, user }) = found else {
            return Err(invalid_token());
        };
        if key.status != "Active" || claim.security_token.is_some() {
            return Err(invalid_token());
        }
        let secret = self.secrets.open(&key.access_key_id, &key.secret_sealed).map_err(|e| {
            tracing::error!(access_key_id = %key.access_key_id, error = %e, "stored secret does not open");
            invalid_token()
        })?;
        oxiam_sigv4::verify(request, &claim, &secret, now, services)
            .map_err(AuthFailure::Rejected)?;
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
        };
        Ok(Authenticated { principal, claim })
    }

    /// Records that the caller's key signed a request now (for GetAccessKeyLastUsed).
    pub async fn record(&self, caller: &Authenticated, now: i64) {
        let claim = &caller.claim;
        if let Err(e) = self
            .store
            .record_key_use(
                &caller.principal.access_key_id,
                now,
                &claim.service,
                &claim.region,
            )
            .await
        {
            tracing::warn!(error = %e, "could not record access key use");
        }
    }
}
