//! The STS operations: every one of the model (AssumeRoleWithWebIdentity and
//! AssumeRoleWithSAML, unsigned, in `web_identity.rs` and `saml.rs`; GetScopedCredentials and
//! GetDelegatedAccessToken in `scoped_credentials.rs`; GetWebIdentityToken's claims in
//! `outbound_federation.rs`), authorized here.

use std::borrow::Cow;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use oxiam_policy::{Context, PolicyKind, PolicySet};
use oxiam_protocol::sts::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, FederatedUser, GetAccessKeyInfoRequest,
    GetAccessKeyInfoResponse, GetCallerIdentityResponse, GetFederationTokenRequest, GetFederationTokenResponse,
    GetSessionTokenRequest, GetSessionTokenResponse, Operation, PolicyDescriptorType, Request, Response, Tag,
    errors as sts_errors,
};
use oxiam_protocol::{Sensitive, ServiceError, Timestamp, common_errors};
use oxiam_store::{Federation, RoleRow, SessionRow, StoreError, UserSessionRow};

use crate::authz::{Access, Outcome, Refusal, RequestFacts, Verdict};
use crate::{Oxiam, Principal, PrincipalKind, documents, errors, ids};

/// Sessions last an hour unless the request asks otherwise.
pub(crate) const DEFAULT_SESSION_SECONDS: i64 = 3600;
/// A role session that assumes another role gets at most an hour (role chaining).
const CHAINED_SESSION_SECONDS: i64 = 3600;
/// Session policies (inline document and ARNs) are packed into at most this much.
const SESSION_POLICY_SIZE_QUOTA: usize = 2048;

/// Every STS operation oxiam implements, sorted by name: all of the model's (a test checks).
pub const IMPLEMENTED: &[Operation] = &[
    Operation::AssumeRole,
    Operation::AssumeRoleWithSAML,
    Operation::AssumeRoleWithWebIdentity,
    Operation::AssumeRoot,
    Operation::DecodeAuthorizationMessage,
    Operation::GetAccessKeyInfo,
    Operation::GetCallerIdentity,
    Operation::GetDelegatedAccessToken,
    Operation::GetFederationToken,
    Operation::GetScopedCredentials,
    Operation::GetSessionToken,
    Operation::GetWebIdentityToken,
];

/// Lower-case hex SHA-256 of a session token: what is stored and compared.
pub(crate) fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh session token: 64 random bytes, base64 (AWS's are opaque base64 too).
pub(crate) fn session_token() -> String {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// STS's code for a parameter it refuses after the model's checks (transitive tags,
/// duplicate tag keys).
pub(crate) const INVALID_PARAMETER_VALUE: oxiam_protocol::ErrorKind = oxiam_protocol::ErrorKind {
    code: "InvalidParameterValue",
    status: 400,
    sender: true,
};

/// Session tags in order, and the keys of those that are transitive.
pub(crate) type SessionTags = (Vec<(String, String)>, Vec<String>);

/// The session's tags and transitive keys: the caller's transitive tags (role chaining)
/// first, which the request may not override, then the request's tags.
fn session_tags(
    caller: &Principal,
    tags: Option<&[Tag]>,
    transitive_tag_keys: Option<&[String]>,
) -> Result<SessionTags, ServiceError> {
    let invalid = |message: &str| ServiceError::new(INVALID_PARAMETER_VALUE, message);
    let requested = crate::tags::pairs(iam_tags(tags)).map_err(|e| invalid(&e.message))?;
    let requested_keys = transitive_tag_keys.map(<[String]>::to_vec).unwrap_or_default();
    if requested_keys
        .iter()
        .any(|key| !requested.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)))
    {
        return Err(invalid(
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    let (mut tags, mut transitive) = match &caller.kind {
        PrincipalKind::AssumedRole {
            session_tags,
            transitive_tag_keys,
            ..
        } => {
            let inherited: Vec<(String, String)> = session_tags
                .iter()
                .filter(|(k, _)| transitive_tag_keys.iter().any(|t| t.eq_ignore_ascii_case(k)))
                .cloned()
                .collect();
            (inherited, transitive_tag_keys.clone())
        }
        _ => (Vec::new(), Vec::new()),
    };
    for (key, value) in requested {
        if tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(invalid(
                "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
            ));
        }
        tags.push((key, value));
    }
    transitive.extend(requested_keys);
    Ok((tags, transitive))
}

/// STS's tags as IAM's (the same two members), to be checked alike.
pub(crate) fn iam_tags(tags: Option<&[Tag]>) -> Option<Vec<oxiam_protocol::iam::Tag>> {
    tags.map(|tags| {
        tags.iter()
            .map(|t| oxiam_protocol::iam::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect()
    })
}

/// A session tag's key or value as STS takes them (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`).
fn is_tag_text(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
}

/// Session tags an identity provider passes (SAML `PrincipalTag:` attributes, a web identity
/// token's `principal_tags`): one value each, STS's characters and lengths, 50 at most,
/// keys unique regardless of case, transitive keys among them. Refused as the provider's
/// token is (`InvalidIdentityToken`).
pub(crate) fn federated_session_tags(
    tags: Vec<(String, Vec<String>)>,
    transitive: Vec<String>,
) -> Result<SessionTags, ServiceError> {
    let invalid = |message: String| ServiceError::new(sts_errors::INVALID_IDENTITY_TOKEN, message);
    let mut checked: Vec<(String, String)> = Vec::new();
    for (key, values) in tags {
        let [value] = values.as_slice() else {
            return Err(invalid(format!("The session tag {key} must have exactly one value.")));
        };
        if key.is_empty() || key.chars().count() > 128 || !is_tag_text(&key) {
            return Err(invalid(format!("The session tag key {key} is not valid.")));
        }
        if value.chars().count() > 256 || !is_tag_text(value) {
            return Err(invalid(format!("The value of session tag {key} is not valid.")));
        }
        if checked.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key)) {
            return Err(invalid(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".to_owned(),
            ));
        }
        let value = value.clone();
        checked.push((key, value));
    }
    if checked.len() > 50 {
        return Err(invalid("At most 50 session tags may be passed.".to_owned()));
    }
    for key in &transitive {
        if !checked.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            return Err(invalid(format!(
                "Transitive tag key {key} is not among the session tags."
            )));
        }
    }
    Ok((checked, transitive))
}

/// The caller as an AssumeRole that gives `SerialNumber` and `TokenCode` is decided: with
/// MFA at `now` (`aws:MultiFactorAuthPresent` true, `aws:MultiFactorAuthAge` 0). The code
/// itself is checked, and spent, before credentials are issued.
fn with_claimed_mfa<'c>(caller: &'c Principal, input: &AssumeRoleRequest, now: i64) -> Cow<'c, Principal> {
    if input.serial_number.is_some() && input.token_code.is_some() {
        let mut claimed = caller.clone();
        claimed.mfa_at = Some(now);
        Cow::Owned(claimed)
    } else {
        Cow::Borrowed(caller)
    }
}

fn access_denied(caller: &Principal, action: &str, resource: &str) -> ServiceError {
    ServiceError::new(
        common_errors::ACCESS_DENIED,
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource}",
            caller.arn()
        ),
    )
}

/// Whether `arn` has a role ARN's shape, `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, in
/// any partition, with a 12-digit account and a name.
fn is_role_arn(arn: &str) -> bool {
    let Some(["arn", partition, "iam", "", account, resource]) = oxiam_policy::split_arn(arn) else {
        return false;
    };
    !partition.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("role/")
            .and_then(|p| p.rsplit('/').next())
            .is_some_and(|name| !name.is_empty())
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME` → (account, name).
pub(crate) fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    Some((account, path_and_name.rsplit('/').next()?))
}

impl Oxiam {
    /// The time of a verified MFA code, when a request gives `SerialNumber` and
    /// `TokenCode`; `None` when it gives neither. One without the other is refused as AWS
    /// refuses a code it cannot check.
    async fn verify_claimed_mfa(
        &self,
        caller: &Principal,
        serial: Option<&str>,
        code: Option<&str>,
        now: i64,
    ) -> Result<Option<i64>, ServiceError> {
        match (serial, code) {
            (None, None) => Ok(None),
            (Some(serial), Some(code)) => self
                .verify_mfa_code(caller, serial, code, now)
                .await
                .map(|()| Some(now)),
            _ => Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                crate::iam::MFA_UNABLE_TO_VALIDATE,
            )),
        }
    }

    /// Authorizes an STS request. AssumeRole is decided with the role's trust policy as
    /// the resource policy that must allow the caller; the rest like any other request.
    pub async fn authorize_sts(
        &self,
        caller: &Principal,
        request: &Request,
        facts: &RequestFacts,
    ) -> Result<Vec<Verdict>, Refusal> {
        match request {
            // A RoleArn that is no role ARN at all is refused before any authorization.
            Request::AssumeRole(input) if !is_role_arn(&input.role_arn) => {
                Err(ServiceError::new(common_errors::VALIDATION_ERROR, "Request ARN is invalid").into())
            }
            Request::AssumeRole(input) => {
                let caller = with_claimed_mfa(caller, input, facts.now);
                self.authorize_assume_role(&caller, request, input, facts)
                    .await
                    .map(|(_, verdicts)| verdicts)
            }
            // sts:TaskPolicyArn is a member inside a structure, which the planner does not read.
            Request::AssumeRoot(input) => {
                let mut access = self.access(caller, request).await?;
                if let Some(arn) = &input.task_policy_arn.arn {
                    access.keys.push(("sts:TaskPolicyArn".to_owned(), vec![arn.clone()]));
                }
                Ok(vec![self.authorize(caller, &access, facts, None).await?])
            }
            // A federated user's session gets no token, before any policy is read.
            Request::GetWebIdentityToken(_) if !crate::outbound_federation::takes_tokens(caller) => Err(Refusal {
                verdict: Some(Box::new(Verdict::rule(
                    &Access::new("sts:GetWebIdentityToken", self_session(&caller.account_id)),
                    Outcome::ImplicitDeny,
                    "a federated user's session takes no web identity token",
                ))),
                error: ServiceError::new(
                    common_errors::ACCESS_DENIED,
                    "GetWebIdentityToken does not support federated user sessions",
                ),
            }),
            // Authorized on the caller's own session, `arn:aws:sts::ACCOUNT:self`, with the
            // token's lifetime as sts:DurationSeconds even when defaulted; tags need
            // sts:TagGetWebIdentityToken too.
            Request::GetWebIdentityToken(input) => {
                let mut access = self.access(caller, request).await?;
                access.resource = self_session(&caller.account_id);
                access.shown_as = None;
                if input.duration_seconds.is_none() {
                    access.keys.push((
                        "sts:DurationSeconds".to_owned(),
                        vec![crate::outbound_federation::DEFAULT_TOKEN_SECONDS.to_string()],
                    ));
                }
                // sts:SubjectMode, which the API reference documents and the reference's
                // extract lacks; AWSIdentity when not asked.
                let mode = input.subject_mode.map_or("AWSIdentity", |m| m.as_str()).to_owned();
                access.keys.push(("sts:SubjectMode".to_owned(), vec![mode]));
                let mut verdicts = vec![self.authorize(caller, &access, facts, None).await?];
                if input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
                    let tagging = companion_access(&access, "TagGetWebIdentityToken");
                    verdicts.push(self.authorize(caller, &tagging, facts, None).await?);
                }
                // A scope is its own permission, sts:SetWebIdentityTokenScope, decided on the
                // scope values as sts:IdentityTokenScope (both from the API reference).
                if let Some(scope) = &input.scope {
                    let mut scoping = Access::new("sts:SetWebIdentityTokenScope", access.resource.clone());
                    scoping.keys.push((
                        "sts:IdentityTokenScope".to_owned(),
                        scope.split(' ').map(str::to_owned).collect(),
                    ));
                    verdicts.push(self.authorize(caller, &scoping, facts, None).await?);
                }
                Ok(verdicts)
            }
            // Refused for temporary credentials before any policy is read, as AWS does.
            Request::GetFederationToken(input) if caller.session.is_some() => Err(Refusal {
                verdict: Some(Box::new(Verdict::rule(
                    &Access::new(
                        "sts:GetFederationToken",
                        ids::federated_user_arn(&caller.account_id, &input.name),
                    ),
                    Outcome::ImplicitDeny,
                    "temporary credentials ask for no federation token",
                ))),
                error: federation_from_session(),
            }),
            other => {
                let access = self.access(caller, other).await?;
                let mut verdicts = vec![self.authorize(caller, &access, facts, None).await?];
                // A federated user's session tags need sts:TagSession too.
                if let Request::GetFederationToken(input) = other
                    && input.tags.as_ref().is_some_and(|t| !t.is_empty())
                {
                    verdicts.push(self.authorize(caller, &tag_session(&access), facts, None).await?);
                }
                Ok(verdicts)
            }
        }
    }

    /// The role a caller may assume, or AccessDenied (the same answer whether the role is
    /// missing or its trust policy does not allow the caller, as in AWS).
    async fn authorize_assume_role(
        &self,
        caller: &Principal,
        request: &Request,
        input: &AssumeRoleRequest,
        facts: &RequestFacts,
    ) -> Result<(RoleRow, Vec<Verdict>), Refusal> {
        let assume = Access::new("sts:AssumeRole", input.role_arn.clone());
        // Decided here rather than by `authorize` (the trust policy has its say): access
        // advisor counts the attempt all the same, allowed or not.
        self.record_attempt(caller, &assume.action, facts);
        self.within_credential_limits(caller, &assume)?;
        // The same answer whether the role is missing or does not trust the caller; the
        // record says which.
        let denied = |why: &str| Refusal {
            verdict: Some(Box::new(Verdict::rule(&assume, Outcome::ImplicitDeny, why))),
            error: access_denied(caller, "sts:AssumeRole", &input.role_arn),
        };
        if matches!(caller.kind, PrincipalKind::Root) {
            return Err(Refusal {
                verdict: Some(Box::new(Verdict::rule(
                    &assume,
                    Outcome::ImplicitDeny,
                    "the account root assumes no role",
                ))),
                error: ServiceError::new(
                    common_errors::ACCESS_DENIED,
                    "Roles may not be assumed by root accounts.",
                ),
            });
        }
        let (account, name) = parse_role_arn(&input.role_arn).ok_or_else(|| denied("not a role ARN"))?;
        let role = match self.store.get_role(account, name).await {
            Ok(role) => role,
            Err(StoreError::NotFound { .. }) => return Err(denied("no such role")),
            Err(e) => return Err(errors::store(e).into()),
        };
        let role_arn = ids::role_arn(&role.account_id, &role.path, &role.name);
        if role_arn != input.role_arn {
            return Err(denied("no such role at that path"));
        }
        let trust = oxiam_policy::compile(role_arn.clone(), &role.trust_policy, PolicyKind::Trust)
            .map_err(|e| ServiceError::new(sts_errors::MALFORMED_POLICY_DOCUMENT, e.message))?;
        // The request's keys (sts:RoleSessionName, sts:ExternalId, sts:SourceIdentity,
        // sts:TransitiveTagKeys, aws:RequestTag/…, aws:TagKeys) as the catalogue lists them
        // for sts:AssumeRole, and the role's tags as its aws:ResourceTag/… and iam:ResourceTag/….
        let mut plan = crate::access::plan(caller, request);
        plan.add_resource_tags(&role.tags);
        let mut access = plan.access;
        // A source identity the calling session carries is the new session's too: nothing
        // may change it, and it is the request's sts:SourceIdentity as well.
        let carried = caller.session.as_ref().and_then(|s| s.source_identity.as_deref());
        let changes_carried = carried.is_some_and(|c| input.source_identity.as_deref().is_some_and(|asked| asked != c));
        if let (Some(carried), None) = (carried, &input.source_identity) {
            access
                .keys
                .push(("sts:SourceIdentity".to_owned(), vec![carried.to_owned()]));
        }
        let decision = self
            .evaluate_with_trust(caller, &access, facts, &trust, &role.account_id)
            .await?;
        let verdict = Verdict::of(&access, &decision);
        let mut verdicts = vec![if decision.allowed {
            verdict
        } else {
            self.refuse(verdict, access_denied(caller, "sts:AssumeRole", &input.role_arn))?
        }];
        // Only a caller the role trusts learns that its source identity cannot change: before
        // that, every refusal reads alike whether the role exists or not.
        if changes_carried {
            return Err(Refusal {
                verdict: Some(Box::new(Verdict::rule(
                    &assume,
                    Outcome::ImplicitDeny,
                    "the calling session's source identity cannot be changed",
                ))),
                error: access_denied(caller, "sts:SetSourceIdentity", &input.role_arn),
            });
        }
        let trusted = Trusted {
            trust: &trust,
            role_account: &role.account_id,
            role_arn: &input.role_arn,
        };
        // Passing session tags is its own permission, sts:TagSession, which the trust
        // policy must grant too (with the tags as aws:RequestTag/… and aws:TagKeys).
        if input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
            verdicts.push(
                self.companion_verdict(caller, &tag_session(&access), facts, &trusted)
                    .await?,
            );
        }
        // Passing context assertions is sts:SetContext, with their providers as
        // sts:RequestContextProviders.
        if let Some(contexts) = input.provided_contexts.as_ref().filter(|c| !c.is_empty()) {
            let mut context_access = companion_access(&access, "SetContext");
            context_access.keys.push((
                "sts:RequestContextProviders".to_owned(),
                contexts.iter().filter_map(|c| c.provider_arn.clone()).collect(),
            ));
            verdicts.push(self.companion_verdict(caller, &context_access, facts, &trusted).await?);
        }
        // Setting a source identity, or carrying one on, is sts:SetSourceIdentity, which the
        // caller's policies and the trust policy must both grant (IAM User Guide, "Permissions
        // required to set source identity").
        if source_identity(caller, input).is_some() {
            let set_access = companion_access(&access, "SetSourceIdentity");
            verdicts.push(self.companion_verdict(caller, &set_access, facts, &trusted).await?);
        }
        Ok((role, verdicts))
    }

    /// A permission-only action that goes with AssumeRole (sts:TagSession, sts:SetContext,
    /// sts:SetSourceIdentity), decided as AssumeRole is: by the caller's policies and the
    /// role's trust policy together.
    async fn companion_verdict(
        &self,
        caller: &Principal,
        companion: &Access,
        facts: &RequestFacts,
        trusted: &Trusted<'_>,
    ) -> Result<Verdict, Refusal> {
        self.record_attempt(caller, &companion.action, facts);
        let decision = self
            .evaluate_with_trust(caller, companion, facts, trusted.trust, trusted.role_account)
            .await?;
        let verdict = Verdict::of(companion, &decision);
        if decision.allowed {
            Ok(verdict)
        } else {
            self.refuse(verdict, access_denied(caller, &companion.action, trusted.role_arn))
        }
    }

    async fn evaluate_with_trust(
        &self,
        caller: &Principal,
        access: &Access,
        facts: &RequestFacts,
        trust: &oxiam_policy::CompiledPolicy,
        role_account: &str,
    ) -> Result<oxiam_policy::Decision, ServiceError> {
        let (policies, mut context): (_, Context) = self.caller_policies(caller, access, facts).await?;
        // Another account's role: its organization's keys, and its RCPs on sts:AssumeRole.
        let foreign = self.foreign_organization(caller, access, Some(role_account)).await?;
        let foreign_rcps = foreign.map(|f| f.enter(&mut context)).unwrap_or_default();
        let rcps = crate::authz::rcp_levels(caller, access, &policies, Some(role_account), &foreign_rcps);
        let arn = caller.arn();
        let issuer_arn = caller.session_issuer_arn();
        let principal = Self::engine_principal(caller, &arn, issuer_arn.as_deref());
        let request = oxiam_policy::Request::new(principal, &access.action, &access.resource, &context)
            .with_resource_account(role_account);
        let set = PolicySet {
            identity: &policies.identity,
            resource: None,
            boundary: policies.boundary.as_deref(),
            session: policies.session.as_deref(),
            scps: &policies.scp_levels(),
            rcps: &rcps,
            resource_must_allow: true,
        };
        let decision = oxiam_policy::evaluate_trust(&request, trust, &set);
        if decision.allowed
            && let Some(refusal) = policies.scope_refusal(&request)
        {
            return Ok(refusal);
        }
        Ok(decision)
    }

    /// Runs one authorized STS request.
    pub async fn execute_sts(
        &self,
        caller: &Principal,
        request: Request,
        now: i64,
        facts: &RequestFacts,
    ) -> Result<Response, ServiceError> {
        match request {
            Request::GetCallerIdentity(_) => Ok(Response::GetCallerIdentity(GetCallerIdentityResponse {
                user_id: Some(caller.unique_id()),
                account: Some(caller.account_id.clone()),
                arn: Some(caller.arn()),
            })),
            Request::AssumeRole(input) => Ok(Response::AssumeRole(self.assume_role(caller, input, now, facts).await?)),
            Request::GetAccessKeyInfo(input) => Ok(Response::GetAccessKeyInfo(self.access_key_info(input).await?)),
            Request::GetSessionToken(input) => {
                Ok(Response::GetSessionToken(self.session_token(caller, input, now).await?))
            }
            Request::GetScopedCredentials(input) => Ok(Response::GetScopedCredentials(
                self.scoped_credentials(caller, input, now).await?,
            )),
            Request::AssumeRoot(input) => Ok(Response::AssumeRoot(self.assume_root(caller, input, now).await?)),
            Request::GetDelegatedAccessToken(input) => Ok(Response::GetDelegatedAccessToken(
                self.delegated_access_token(caller, input, now).await?,
            )),
            Request::GetFederationToken(input) => Ok(Response::GetFederationToken(
                self.federation_token(caller, input, now).await?,
            )),
            Request::GetWebIdentityToken(input) => Ok(Response::GetWebIdentityToken(
                self.get_web_identity_token(caller, input, facts).await?,
            )),
            // oxiam's AccessDenied messages are never encoded, so no message it could be
            // asked to decode was issued by it.
            Request::DecodeAuthorizationMessage(_) => Err(ServiceError::new(
                sts_errors::INVALID_AUTHORIZATION_MESSAGE,
                "The authorization message is invalid: oxiam issues no encoded authorization messages.",
            )),
            // The unsigned federation calls never get here: the pipeline answers them.
            other => Err(errors::service_failure(&format_args!(
                "the STS operation {} is not executed here",
                other.operation().name()
            ))),
        }
    }

    /// GetSessionToken: temporary credentials that act as the caller (a user or the root),
    /// for 900 s to 36 h (the root: to 1 h), 12 h by default (the root: 1 h).
    async fn session_token(
        &self,
        caller: &Principal,
        input: GetSessionTokenRequest,
        now: i64,
    ) -> Result<GetSessionTokenResponse, ServiceError> {
        if caller.session.is_some() {
            return Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                "Cannot call GetSessionToken with session credentials",
            ));
        }
        let mfa_at = self
            .verify_claimed_mfa(caller, input.serial_number.as_deref(), input.token_code.as_deref(), now)
            .await?;
        let duration = long_term_caller_seconds(caller, input.duration_seconds)?;
        let issued = self.temporary_credentials(now, duration);
        let user_id = match &caller.kind {
            PrincipalKind::User { user_id, .. } => Some(user_id.clone()),
            _ => None,
        };
        self.store
            .create_user_session(&UserSessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                account_id: caller.account_id.clone(),
                user_id,
                secret_sealed: issued.secret_sealed,
                token_sha256: issued.token_sha256,
                issued_at: now,
                expires_at: issued.credentials.expiration.0,
                mfa_at,
                federation: None,
                root_task_policy: None,
                scope_policies: Vec::new(),
                delegation_request_id: None,
                source_identity: None,
                trusted_context: None,
            })
            .await
            .map_err(errors::store)?;
        Ok(GetSessionTokenResponse {
            credentials: Some(issued.credentials),
            session_token_utilization: None,
            session_token_size: None,
        })
    }

    /// GetFederationToken: temporary credentials of a federated user, who may do what both
    /// the calling user (or root) and the session policies allow — nothing without a
    /// session policy — for 900 s to 36 h (the root: to 1 h), 12 h by default (the root: 1 h).
    async fn federation_token(
        &self,
        caller: &Principal,
        input: GetFederationTokenRequest,
        now: i64,
    ) -> Result<GetFederationTokenResponse, ServiceError> {
        let issuer = match &caller.kind {
            _ if caller.session.is_some() => return Err(federation_from_session()),
            PrincipalKind::Root => None,
            PrincipalKind::User { user_id, .. } => Some(user_id.clone()),
            PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. } => {
                return Err(federation_from_session());
            }
        };
        let duration = long_term_caller_seconds(caller, input.duration_seconds)?;
        let (session_tags, _) = session_tags(caller, input.tags.as_deref(), None)?;
        let passed = self
            .passed_policies(&caller.account_id, input.policy, input.policy_arns)
            .await?;
        let issued = self.temporary_credentials(now, duration);
        self.store
            .create_user_session(&UserSessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                account_id: caller.account_id.clone(),
                user_id: issuer,
                secret_sealed: issued.secret_sealed,
                token_sha256: issued.token_sha256,
                issued_at: now,
                expires_at: issued.credentials.expiration.0,
                mfa_at: None,
                federation: Some(Federation {
                    name: input.name.clone(),
                    session_policy: passed.inline,
                    session_policy_arns: passed.arns,
                    session_tags,
                }),
                root_task_policy: None,
                scope_policies: Vec::new(),
                delegation_request_id: None,
                source_identity: None,
                trusted_context: None,
            })
            .await
            .map_err(errors::store)?;
        Ok(GetFederationTokenResponse {
            credentials: Some(issued.credentials),
            federated_user: Some(FederatedUser {
                federated_user_id: format!("{}:{}", caller.account_id, input.name),
                arn: ids::federated_user_arn(&caller.account_id, &input.name),
            }),
            packed_policy_size: passed.packed_percent,
            // Not sent: AWS's answers carry PackedPolicySize alone (recorded).
            session_token_utilization: None,
            session_token_size: None,
        })
    }

    /// The session policies a request passes (`Policy`, `PolicyArns`): the document
    /// checked, each ARN an existing managed policy, and together within the packed room.
    pub(crate) async fn passed_policies(
        &self,
        account_id: &str,
        policy: Option<String>,
        policy_arns: Option<Vec<PolicyDescriptorType>>,
    ) -> Result<PassedPolicies, ServiceError> {
        let arns: Vec<String> = policy_arns
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.arn)
            .collect();
        for arn in &arns {
            self.managed_policy_in(account_id, arn).await.map_err(|_| {
                ServiceError::new(
                    common_errors::VALIDATION_ERROR,
                    format!("Policy {arn} does not exist or is not attachable."),
                )
            })?;
        }
        let packed_percent = match &policy {
            Some(doc) => {
                documents::validate_session(doc)?;
                let size = oxiam_policy::size_without_whitespace(doc) + arns.iter().map(String::len).sum::<usize>();
                let percent = size * 100 / SESSION_POLICY_SIZE_QUOTA;
                if size > SESSION_POLICY_SIZE_QUOTA {
                    return Err(ServiceError::new(
                        sts_errors::PACKED_POLICY_TOO_LARGE,
                        format!("Packed policy consumes {percent}% of allotted space, please use smaller policy."),
                    ));
                }
                Some(percent as i32)
            }
            None => None,
        };
        Ok(PassedPolicies {
            inline: policy,
            arns,
            packed_percent,
        })
    }

    async fn access_key_info(&self, input: GetAccessKeyInfoRequest) -> Result<GetAccessKeyInfoResponse, ServiceError> {
        let id = &input.access_key_id;
        let account = if id.starts_with("ASIA") {
            // A role session's, else GetSessionToken's or GetFederationToken's.
            match self.store.find_session(id).await.map_err(errors::store)? {
                Some((s, _, _)) => Some(s.account_id),
                None => self
                    .store
                    .find_user_session(id)
                    .await
                    .map_err(errors::store)?
                    .map(|(s, _, _)| s.account_id),
            }
        } else {
            self.store
                .find_access_key(id)
                .await
                .map_err(errors::store)?
                .map(|k| k.key.account_id)
        };
        Ok(GetAccessKeyInfoResponse { account })
    }

    async fn assume_role(
        &self,
        caller: &Principal,
        input: AssumeRoleRequest,
        now: i64,
        facts: &RequestFacts,
    ) -> Result<AssumeRoleResponse, ServiceError> {
        // Context assertions are signed and encrypted by the STS of IAM Identity Center's
        // trusted context provider; this STS issues none, so none it is given is one of its
        // trusted providers' (the trust policy allowed sts:SetContext first).
        if input.provided_contexts.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(ServiceError::new(
                sts_errors::INVALID_CONTEXT_ASSERTION,
                "The context assertion is not one of a trusted context provider of this STS.",
            ));
        }
        // The code is spent here, once; authorization only assumed it good.
        let verified = self
            .verify_claimed_mfa(caller, input.serial_number.as_deref(), input.token_code.as_deref(), now)
            .await?;
        // Authorized again here, in the same call that issues the credentials, so the role
        // used is the one the decision was about.
        let (session_tags, transitive_tag_keys) =
            session_tags(caller, input.tags.as_deref(), input.transitive_tag_keys.as_deref())?;
        let request = Request::AssumeRole(input.clone());
        let claimed = with_claimed_mfa(caller, &input, now);
        let (role, _) = self.authorize_assume_role(&claimed, &request, &input, facts).await?;
        let source_identity = source_identity(caller, &input).map(str::to_owned);
        let chained = matches!(caller.kind, PrincipalKind::AssumedRole { .. });
        let duration = input.duration_seconds.map_or(DEFAULT_SESSION_SECONDS, i64::from);
        if chained && duration > CHAINED_SESSION_SECONDS {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ));
        }
        let passed = self
            .passed_policies(&caller.account_id, input.policy.clone(), input.policy_arns.clone())
            .await?;
        let packed = passed.packed_percent;
        let (credentials, assumed_role_user) = self
            .issue_role_session(NewRoleSession {
                role: &role,
                session_name: &input.role_session_name,
                duration,
                session_policy: passed.inline,
                session_policy_arns: passed.arns,
                chained,
                session_tags,
                transitive_tag_keys,
                // A code of this request's, else the MFA behind the calling session (role
                // chaining keeps it).
                mfa_at: verified.or(caller.mfa_at),
                source_identity: source_identity.clone(),
                // Role chaining keeps the calling session's trusted context.
                trusted_context: crate::trusted_context::TrustedContext::of(caller),
                now,
            })
            .await?;
        Ok(AssumeRoleResponse {
            credentials: Some(credentials),
            assumed_role_user: Some(assumed_role_user),
            packed_policy_size: packed,
            source_identity,
            // Not sent: AWS's answers carry PackedPolicySize alone (recorded), though the
            // model has this newer name of the same measure.
            session_token_utilization: None,
            session_token_size: None,
        })
    }
}

/// The source identity of the session AssumeRole would make: the one the calling session
/// carries (role chaining: it cannot change), else the one the request sets.
fn source_identity<'a>(caller: &'a Principal, input: &'a AssumeRoleRequest) -> Option<&'a str> {
    caller
        .session
        .as_ref()
        .and_then(|s| s.source_identity.as_deref())
        .or(input.source_identity.as_deref())
}

/// The caller's own session as a resource, `arn:aws:sts::ACCOUNT:self` (the catalogue's
/// `self-session`): what GetWebIdentityToken is authorized on.
fn self_session(account_id: &str) -> String {
    format!("arn:aws:sts::{account_id}:self")
}

/// Passing session tags is its own permission, sts:TagSession, on the same resource (the
/// role, the federated user), with those of the request's keys the catalogue lists for it
/// (the tags as `aws:RequestTag/…`, `aws:TagKeys`, `sts:TransitiveTagKeys`).
fn tag_session(access: &Access) -> Access {
    companion_access(access, "TagSession")
}

/// The role a trust decision is about: its trust policy, account and ARN as asked.
struct Trusted<'a> {
    trust: &'a oxiam_policy::CompiledPolicy,
    role_account: &'a str,
    role_arn: &'a str,
}

/// `access`'s permission-only companion: the STS action `action` (sts:TagSession,
/// sts:TagGetWebIdentityToken, sts:SetSourceIdentity, sts:SetContext) on the same resource,
/// with those of its keys the catalogue lists for that action.
fn companion_access(access: &Access, action: &str) -> Access {
    let sts = oxiam_catalogue::service("sts").expect("sts is served");
    let entry = sts.action(action).expect("the companion action is in the catalogue");
    let mut tag_access = Access::new(format!("sts:{action}"), access.resource.clone());
    tag_access.keys = access
        .keys
        .iter()
        .filter(|(key, _)| entry.supports_key(key))
        .cloned()
        .collect();
    tag_access
}

/// Where AWS keeps the managed policies an AssumeRoot session may be scoped to (STS API
/// reference); the catalogue of AWS managed policies says which exist.
const ROOT_TASK_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/root-task/";

/// How long a root session lasts at most, and by default (STS API reference, AssumeRoot).
const ROOT_SESSION_SECONDS: i64 = 900;

/// AssumeRoot's `TargetPrincipal`, an account id or that account's root user ARN, as the
/// account id; `None` for anything else.
pub(crate) fn root_target(target: &str) -> Option<&str> {
    let account = target
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(target);
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

impl Oxiam {
    /// AssumeRoot, once authorized: a member account's root session, limited to one root
    /// task policy, for at most 15 minutes. AWS issues one only to a principal of the
    /// organization's management account (or IAM's delegated administrator, which oxiam does
    /// not have) with root sessions enabled (IAM EnableOrganizationsRootSessions), for a
    /// member account; never to root credentials.
    async fn assume_root(
        &self,
        caller: &Principal,
        input: oxiam_protocol::sts::AssumeRootRequest,
        now: i64,
    ) -> Result<oxiam_protocol::sts::AssumeRootResponse, ServiceError> {
        let invalid = |message: String| ServiceError::new(common_errors::VALIDATION_ERROR, message);
        let Some(target) = root_target(&input.target_principal) else {
            return Err(invalid(format!(
                "TargetPrincipal {} is neither an account id nor an account's root user ARN.",
                input.target_principal
            )));
        };
        let task = input.task_policy_arn.arn.as_deref().unwrap_or_default();
        if !task.starts_with(ROOT_TASK_POLICY_PREFIX) || oxiam_aws_policies::by_arn(task).is_none() {
            return Err(invalid(format!(
                "TaskPolicyArn {task} is not a root task policy (arn:aws:iam::aws:policy/root-task/…)."
            )));
        }
        let denied = |message: String| ServiceError::new(common_errors::ACCESS_DENIED, message);
        if matches!(caller.kind, PrincipalKind::Root) {
            return Err(denied("Root user credentials cannot call AssumeRoot.".to_owned()));
        }
        let organization = self
            .organization(&caller.account_id)
            .await?
            .filter(|o| o.management_account_id == caller.account_id)
            .ok_or_else(|| {
                denied(format!(
                    "Account {} is not the management account of an organization: it cannot start root sessions.",
                    caller.account_id
                ))
            })?;
        if !organization.iam_features.iter().any(|f| f == "RootSessions") {
            return Err(denied(format!(
                "Root sessions are not enabled in organization {} (IAM EnableOrganizationsRootSessions).",
                organization.id
            )));
        }
        if target == organization.management_account_id || organization.member(target).is_none() {
            return Err(denied(format!(
                "Account {target} is not a member account of organization {}.",
                organization.id
            )));
        }
        let duration = input.duration_seconds.map_or(ROOT_SESSION_SECONDS, i64::from);
        let issued = self.temporary_credentials(now, duration);
        let carried_source_identity = caller.session.as_ref().and_then(|s| s.source_identity.clone());
        self.store
            .create_user_session(&UserSessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                account_id: target.to_owned(),
                user_id: None,
                secret_sealed: issued.secret_sealed,
                token_sha256: issued.token_sha256,
                issued_at: now,
                expires_at: issued.credentials.expiration.0,
                mfa_at: None,
                federation: None,
                root_task_policy: Some(task.to_owned()),
                scope_policies: Vec::new(),
                delegation_request_id: None,
                // The asking session's source identity and trusted context go with the root
                // session.
                source_identity: carried_source_identity.clone(),
                trusted_context: crate::trusted_context::TrustedContext::of(caller).encode(),
            })
            .await
            .map_err(errors::store)?;
        Ok(oxiam_protocol::sts::AssumeRootResponse {
            credentials: Some(issued.credentials),
            source_identity: carried_source_identity,
            session_token_utilization: None,
            session_token_size: None,
        })
    }
}

/// How long GetSessionToken's or GetFederationToken's credentials last: 900 s to 36 h, 12 h
/// by default, for a user; an hour at most, and by default, for the root.
fn long_term_caller_seconds(caller: &Principal, requested: Option<i32>) -> Result<i64, ServiceError> {
    let (default, max) = match caller.kind {
        PrincipalKind::Root => (3600, 3600),
        _ => (43_200, 129_600),
    };
    let duration = requested.map_or(default, i64::from);
    if duration > max {
        return Err(ServiceError::new(
            common_errors::VALIDATION_ERROR,
            format!("The requested DurationSeconds exceeds the {max} seconds allowed for these credentials."),
        ));
    }
    Ok(duration)
}

/// New temporary credentials, as given to the caller, and what is stored of them.
pub(crate) struct IssuedCredentials {
    pub(crate) credentials: Credentials,
    /// The secret, sealed.
    pub(crate) secret_sealed: String,
    /// Lower-case hex SHA-256 of the session token.
    pub(crate) token_sha256: String,
}

impl Oxiam {
    /// An `ASIA…` key, its secret and a session token, expiring `duration` seconds after
    /// `now`: every STS call that issues credentials makes them here.
    pub(crate) fn temporary_credentials(&self, now: i64, duration: i64) -> IssuedCredentials {
        let access_key_id = format!("ASIA{}", &ids::access_key_id()[4..]);
        let secret = ids::secret_access_key();
        let token = session_token();
        IssuedCredentials {
            secret_sealed: self.secrets.seal(&access_key_id, &secret),
            token_sha256: token_digest(&token),
            credentials: Credentials {
                access_key_id,
                secret_access_key: Sensitive(secret),
                session_token: token,
                expiration: Timestamp(now + duration),
            },
        }
    }
}

/// Session policies as a request passed them, checked.
pub(crate) struct PassedPolicies {
    pub(crate) inline: Option<String>,
    pub(crate) arns: Vec<String>,
    /// How much of the packed room they take, in percent (with an inline document).
    pub(crate) packed_percent: Option<i32>,
}

/// AWS's answer to GetFederationToken called with temporary credentials.
fn federation_from_session() -> ServiceError {
    ServiceError::new(
        common_errors::ACCESS_DENIED,
        "Cannot call GetFederationToken with session credentials",
    )
}

/// A role session to issue (AssumeRole, AssumeRoleWithWebIdentity).
pub(crate) struct NewRoleSession<'a> {
    pub(crate) role: &'a RoleRow,
    pub(crate) session_name: &'a str,
    /// Seconds, checked against the role's maximum.
    pub(crate) duration: i64,
    pub(crate) session_policy: Option<String>,
    pub(crate) session_policy_arns: Vec<String>,
    pub(crate) chained: bool,
    pub(crate) session_tags: Vec<(String, String)>,
    pub(crate) transitive_tag_keys: Vec<String>,
    /// When an MFA code stood behind the session.
    pub(crate) mfa_at: Option<i64>,
    /// The source identity, set now or carried on from the calling session.
    pub(crate) source_identity: Option<String>,
    /// The trusted context keys, from the provider's token or the calling session.
    pub(crate) trusted_context: crate::trusted_context::TrustedContext,
    pub(crate) now: i64,
}

impl Oxiam {
    /// Stores a role session (an `ASIA…` key, its secret sealed, its token's digest) and
    /// answers its credentials and the assumed-role user they act as.
    pub(crate) async fn issue_role_session(
        &self,
        new: NewRoleSession<'_>,
    ) -> Result<(Credentials, AssumedRoleUser), ServiceError> {
        let role = new.role;
        if new.duration > role.max_session_duration {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let issued = self.temporary_credentials(new.now, new.duration);
        self.store
            .create_session(&SessionRow {
                access_key_id: issued.credentials.access_key_id.clone(),
                account_id: role.account_id.clone(),
                secret_sealed: issued.secret_sealed,
                token_sha256: issued.token_sha256,
                role_id: role.role_id.clone(),
                session_name: new.session_name.to_owned(),
                session_policy: new.session_policy,
                session_policy_arns: new.session_policy_arns,
                chained: new.chained,
                session_tags: new.session_tags,
                transitive_tag_keys: new.transitive_tag_keys,
                issued_at: new.now,
                expires_at: issued.credentials.expiration.0,
                mfa_at: new.mfa_at,
                scope_policies: Vec::new(),
                delegation_request_id: None,
                source_identity: new.source_identity,
                trusted_context: new.trusted_context.encode(),
            })
            .await
            .map_err(errors::store)?;
        let user = AssumedRoleUser {
            assumed_role_id: format!("{}:{}", role.role_id, new.session_name),
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                role.account_id, role.name, new.session_name
            ),
        };
        Ok((issued.credentials, user))
    }
}
