//! What AssumeRoleWithWebIdentity and AssumeRoleWithSAML share once the provider's token or
//! response is checked: the role asked for (the same answer whether it is missing or does
//! not trust the caller), decided by its trust policy with the provider as the `Federated`
//! principal, the request's global keys, the provider's own keys, the role's tags and the
//! session tags; session tags need sts:TagSession there too, and a source identity
//! sts:SetSourceIdentity.

use oxiam_policy::{Context, ContextBuilder, PolicyKind, PolicySet, Principal as EnginePrincipal, Value};
use oxiam_protocol::ServiceError;
use oxiam_protocol::sts::errors as sts_errors;
use oxiam_store::{RoleRow, StoreError};

use crate::authz::{Access, Outcome, Refusal, RequestFacts, Verdict};
use crate::{Oxiam, errors, ids};

/// Whether a source identity is one AWS takes: 2 to 64 characters of letters, digits and
/// `_+=,.@-` (which leaves out the reserved `aws:` prefix).
pub(crate) fn is_source_identity(value: &str) -> bool {
    (2..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// A federated caller's request for a role.
pub(crate) struct FederatedRequest<'a> {
    /// `sts:AssumeRoleWith…` on the role ARN as asked.
    pub(crate) assume: &'a Access,
    /// The role's account and name, from that ARN.
    pub(crate) account: &'a str,
    pub(crate) role_name: &'a str,
    /// The provider (`arn:aws:iam::ACCOUNT:oidc-provider/…`, `…:saml-provider/…`).
    pub(crate) provider_arn: &'a str,
    /// `sts:RoleSessionName`.
    pub(crate) session_name: &'a str,
    /// Session tags, and the keys of the transitive ones.
    pub(crate) tags: &'a [(String, String)],
    pub(crate) transitive_tag_keys: &'a [String],
    /// The source identity the provider sets (`sts:SourceIdentity`), which needs
    /// sts:SetSourceIdentity there too.
    pub(crate) source_identity: Option<&'a str>,
    /// AWS's answer when the role is missing or does not trust the caller.
    pub(crate) not_authorized: fn() -> ServiceError,
}

impl Oxiam {
    /// The role, once its trust policy allows the provider (and sts:TagSession when tags
    /// are passed), with the verdicts; `provider_keys` adds the provider's own keys
    /// (`PROVIDER:aud`, `saml:sub`, …) to the context.
    pub(crate) async fn federated_trust(
        &self,
        request: FederatedRequest<'_>,
        facts: &RequestFacts,
        provider_keys: impl FnOnce(ContextBuilder) -> ContextBuilder,
    ) -> Result<(RoleRow, Vec<Verdict>), Refusal> {
        let refuse = |verdict: Verdict| Refusal {
            verdict: Some(Box::new(verdict)),
            error: (request.not_authorized)(),
        };
        let denied = |why: &str| refuse(Verdict::rule(request.assume, Outcome::ImplicitDeny, why));
        let role = match self.store.get_role(request.account, request.role_name).await {
            Ok(role) => role,
            Err(StoreError::NotFound { .. }) => return Err(denied("no such role")),
            Err(e) => return Err(errors::store(e).into()),
        };
        let role_arn = ids::role_arn(&role.account_id, &role.path, &role.name);
        if role_arn != request.assume.resource {
            return Err(denied("no such role at that path"));
        }
        let trust = oxiam_policy::compile(role_arn, &role.trust_policy, PolicyKind::Trust)
            .map_err(|e| ServiceError::new(sts_errors::MALFORMED_POLICY_DOCUMENT, e.message))?;
        let mut context = Context::builder()
            .set("aws:CurrentTime", Value::date_epoch_seconds(facts.now))
            .set("aws:EpochTime", facts.now)
            .set("aws:SecureTransport", facts.secure_transport)
            .set("aws:RequestedRegion", facts.region.as_str())
            .set("aws:FederatedProvider", request.provider_arn)
            .set("aws:ResourceAccount", role.account_id.as_str())
            .set("aws:ViaAWSService", false)
            .set_opt("aws:SourceIp", facts.source_ip)
            .set_opt("aws:UserAgent", facts.user_agent.as_deref())
            .set("sts:RoleSessionName", request.session_name)
            .set_opt("sts:SourceIdentity", request.source_identity);
        context = provider_keys(context);
        for (key, value) in &role.tags {
            context = context
                .set(&format!("aws:ResourceTag/{key}"), value.as_str())
                .set(&format!("iam:ResourceTag/{key}"), value.as_str());
        }
        if !request.tags.is_empty() {
            for (key, value) in request.tags {
                context = context.set(&format!("aws:RequestTag/{key}"), value.as_str());
            }
            context = context.set_all("aws:TagKeys", request.tags.iter().map(|(k, _)| k.as_str()));
        }
        if !request.transitive_tag_keys.is_empty() {
            context = context.set_all(
                "sts:TransitiveTagKeys",
                request.transitive_tag_keys.iter().map(String::as_str),
            );
        }
        let mut context = context.build();
        // The role's organization: its keys, and its RCPs on the federated AssumeRole*.
        let rcp_levels = match self.resource_organization(&role.account_id).await? {
            Some(org) => org.enter(&mut context),
            None => Vec::new(),
        };
        let rcps: Vec<&[std::sync::Arc<oxiam_policy::CompiledPolicy>]> = rcp_levels.iter().map(Vec::as_slice).collect();
        let set = PolicySet {
            identity: &[],
            resource: None,
            boundary: None,
            session: None,
            scps: &[],
            rcps: &rcps,
            resource_must_allow: true,
        };
        let decide = |action: &Access| {
            let engine_request = oxiam_policy::Request::new(
                EnginePrincipal::federated(request.provider_arn),
                &action.action,
                &action.resource,
                &context,
            )
            .with_resource_account(&role.account_id);
            let decision = oxiam_policy::evaluate_trust(&engine_request, &trust, &set);
            (decision.allowed, Verdict::of(action, &decision))
        };
        let (allowed, verdict) = decide(request.assume);
        if !allowed {
            return Err(refuse(verdict));
        }
        let mut verdicts = vec![verdict];
        // The permission-only actions that go with it, each the trust policy's to grant.
        let companions = [
            (!request.tags.is_empty()).then_some("sts:TagSession"),
            request.source_identity.map(|_| "sts:SetSourceIdentity"),
        ];
        for action in companions.into_iter().flatten() {
            let (allowed, verdict) = decide(&Access::new(action, request.assume.resource.clone()));
            if !allowed {
                return Err(refuse(verdict));
            }
            verdicts.push(verdict);
        }
        Ok((role, verdicts))
    }
}
