//! Authorization, in one place, denying by default.
//!
//! Every request of every service comes here with the action and resource it acts on.
//! The caller's identity policies (inline and managed, its groups' too), its permissions
//! boundary, and the resource's own policy if any are evaluated by `oxiam-policy` with
//! AWS's logic; the account root may do anything in its own account. Compiled policy sets
//! are cached per principal and known stale when its policy epoch moves: the account's, moved
//! by changes that reach many principals (a policy's default version, a group's policies, the
//! organization), plus the user's or role's own, moved by changes to it alone (attachments,
//! inline policies, boundary, tags, memberships). Each moves in the transaction of its change,
//! so a cache never serves a decision older than the database, on any replica.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use oxiam_policy::{CompiledPolicy, Context, PolicyKind, PolicySet, Request, Value};
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_store::{EntityKind, StoredPolicy};

use crate::{Oxiam, Principal, PrincipalKind, errors};

/// What a request asks to do: the IAM action and the resource it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// E.g. `iam:CreateUser`.
    pub action: String,
    /// E.g. `arn:aws:iam::123456789012:user/alice`, or `*`.
    pub resource: String,
    /// How IAM names the resource in an AccessDenied message when that differs from
    /// the ARN: `user alice`, `role admin`, `policy arn:…` for operations on a named
    /// entity (as real IAM error messages read).
    pub shown_as: Option<String>,
    /// The condition keys the action defines, with their values in this request
    /// (`iam:PolicyARN`, `s3:prefix`, `aws:RequestTag/team`, `aws:TagKeys`, …).
    pub keys: Vec<(String, Vec<String>)>,
    /// `resource` is a prefix standing for every resource under it: the question is
    /// whether the action may be allowed on some of them (`oxiam_policy::EvalOptions::
    /// resource_prefix`), asked before the resources themselves are known.
    pub resource_is_prefix: bool,
}

impl Access {
    /// `action` on `resource`, with no service condition keys.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            resource: resource.into(),
            shown_as: None,
            keys: Vec::new(),
            resource_is_prefix: false,
        }
    }
}

/// A request extension the front door puts on a request that came over TLS
/// (`aws:SecureTransport` is true for it, on every service).
#[derive(Debug, Clone, Copy)]
pub struct SecureTransport;

/// What is true of the request itself, whatever the service: the global condition keys
/// that do not come from the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// Unix seconds now (`aws:CurrentTime`, `aws:EpochTime`).
    pub now: i64,
    /// The client's address (`aws:SourceIp`).
    pub source_ip: Option<IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The region the request was signed for (`aws:RequestedRegion`).
    pub region: String,
    /// The `User-Agent` header (`aws:UserAgent`).
    pub user_agent: Option<String>,
    /// The `Referer` header (`aws:Referer`).
    pub referer: Option<String>,
}

/// How one access was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allowed,
    /// Denied because nothing allowed it.
    ImplicitDeny,
    /// Denied by a `Deny` statement.
    ExplicitDeny,
}

impl Outcome {
    /// `Allowed`, `ImplicitDeny`, `ExplicitDeny` (the simulator's words).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "Allowed",
            Outcome::ImplicitDeny => "ImplicitDeny",
            Outcome::ExplicitDeny => "ExplicitDeny",
        }
    }
}

/// What authorization decided for one access, kept for the request's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The action asked.
    pub action: String,
    /// The resource it was asked on.
    pub resource: String,
    /// Allowed or denied, and how.
    pub outcome: Outcome,
    /// What decided: `POLICY#SID` or `POLICY statement N` for a statement, `account root`,
    /// or the rule that answered before any policy (`no permission required`, …).
    pub decided_by: String,
    /// `false` for a denial let through by `--enforcement log`: it would have been refused.
    pub enforced: bool,
    /// The statement that decided, when one did (an Allow, or a Deny).
    pub statement: Option<DecidingStatement>,
}

/// The policy statement that decided an access, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidingStatement {
    /// The policy: a managed policy's ARN, or an inline policy as `user/NAME/POLICY`
    /// (`group/…`, `role/…`), or the resource-based, boundary or session policy's id.
    pub policy: String,
    /// The statement's `Sid`, if it has one.
    pub sid: Option<String>,
    /// Its index in the policy's `Statement` list, from 0.
    pub index: usize,
    /// The condition keys its `Condition` block tested.
    pub condition_keys: Vec<String>,
}

impl DecidingStatement {
    fn of(s: &oxiam_policy::StatementRef) -> Self {
        Self {
            policy: s.policy_id.to_string(),
            sid: s.sid.as_deref().map(str::to_owned),
            index: s.index,
            condition_keys: s.condition_keys.iter().map(|k| k.to_string()).collect(),
        }
    }
}

impl Verdict {
    fn new(access: &Access, outcome: Outcome, decided_by: impl Into<String>) -> Self {
        Self {
            action: access.action.clone(),
            resource: access.resource.clone(),
            outcome,
            decided_by: decided_by.into(),
            enforced: true,
            statement: None,
        }
    }

    /// A verdict reached by a rule before any policy was read.
    pub fn rule(access: &Access, outcome: Outcome, rule: &str) -> Self {
        Self::new(access, outcome, rule)
    }

    /// The verdict of an engine decision.
    pub(crate) fn of(access: &Access, decision: &oxiam_policy::Decision) -> Self {
        use oxiam_policy::Reason;
        let statement = |s: &oxiam_policy::StatementRef| match &s.sid {
            Some(sid) => format!("{}#{sid}", s.policy_id),
            None => format!("{} statement {}", s.policy_id, s.index + 1),
        };
        let by = |outcome, s: &oxiam_policy::StatementRef| Self {
            statement: Some(DecidingStatement::of(s)),
            ..Self::new(access, outcome, statement(s))
        };
        match &decision.reason {
            Reason::Allowed(s) => by(Outcome::Allowed, s),
            Reason::ExplicitDeny(s) => by(Outcome::ExplicitDeny, s),
            Reason::RootAccount => Self::new(access, Outcome::Allowed, "account root"),
            Reason::NoAllow { missing } => Self::new(
                access,
                Outcome::ImplicitDeny,
                format!("no Allow in the {} policies", kind_name(*missing)),
            ),
        }
    }
}

fn kind_name(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Identity => "identity-based",
        PolicyKind::Resource => "resource-based",
        PolicyKind::Trust => "trust",
        PolicyKind::Boundary => "permissions boundary",
        PolicyKind::Session => "session",
        PolicyKind::Scp => "service control",
        PolicyKind::Rcp => "resource control",
    }
}

/// A refused access: the error the caller gets, and the verdict when a decision was made
/// (none when authorization itself failed).
#[derive(Debug, Clone)]
pub struct Refusal {
    /// What was decided, if anything was (boxed: a refusal travels up through `?`).
    pub verdict: Option<Box<Verdict>>,
    /// The answer.
    pub error: ServiceError,
}

impl Oxiam {
    /// A denial, enforced or (in `--enforcement log` mode) let through and recorded as
    /// what it would have been.
    pub fn refuse(&self, mut verdict: Verdict, error: ServiceError) -> Result<Verdict, Refusal> {
        match self.enforcement {
            crate::Enforcement::Enforce => Err(Refusal {
                verdict: Some(Box::new(verdict)),
                error,
            }),
            crate::Enforcement::Log => {
                tracing::warn!(
                    action = %verdict.action,
                    resource = %verdict.resource,
                    decision = verdict.outcome.as_str(),
                    decided_by = %verdict.decided_by,
                    "would have been denied (--enforcement log)"
                );
                verdict.enforced = false;
                Ok(verdict)
            }
        }
    }
}

impl From<ServiceError> for Refusal {
    fn from(error: ServiceError) -> Self {
        Self { verdict: None, error }
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        refusal.error
    }
}

/// A resource-based policy that applies to the request (a bucket policy, a trust policy).
#[derive(Debug, Clone, Copy)]
pub struct ResourcePolicy<'a> {
    /// The policy document.
    pub document: &'a str,
    /// The account that owns the resource.
    pub owner_account: &'a str,
}

/// A principal's compiled policies, as of one policy epoch.
#[derive(Debug)]
pub(crate) struct PrincipalPolicies {
    epoch: i64,
    pub(crate) identity: Vec<Arc<CompiledPolicy>>,
    pub(crate) boundary: Option<Arc<CompiledPolicy>>,
    pub(crate) session: Option<Vec<Arc<CompiledPolicy>>>,
    /// Scope-down policies of scoped credentials (GetScopedCredentials, delegated access):
    /// each must allow on its own, after everything else has.
    scopes: Vec<Arc<CompiledPolicy>>,
    tags: Vec<(String, String)>,
    /// The organization of the principal's account, if it is in one.
    org: Option<OrgView>,
}

impl PrincipalPolicies {
    /// The SCPs that govern the principal, one slice per level (none if exempt).
    pub(crate) fn scp_levels(&self) -> Vec<&[Arc<CompiledPolicy>]> {
        self.org.iter().flat_map(|o| o.scps.iter().map(Vec::as_slice)).collect()
    }

    /// The decision of the first scope-down policy that does not allow `request`, if one
    /// does not. A scope-down policy grants nothing: it is a session policy laid over
    /// everything the credentials could do without it (STS GetScopedCredentials: "the
    /// intersection of the caller's effective permissions, this policy, and all earlier
    /// scope-down policies").
    pub(crate) fn scope_refusal(&self, request: &Request<'_>) -> Option<oxiam_policy::Decision> {
        // The scope is asked on its own, as if the resource were the caller's: whose resource
        // it is (another account's bucket or role) was decided already, with its policy.
        let mut request = Request {
            resource_account: None,
            ..*request
        };
        // The root's full access in its own account must not answer for the scope: the
        // identity side here is already everything, and the scope alone decides.
        request.options.root_full_access = false;
        self.scopes.iter().find_map(|scope| {
            let full_access = [ROOT_FULL_ACCESS.clone()];
            let only = [scope.clone()];
            let set = PolicySet {
                identity: &full_access,
                resource: None,
                boundary: None,
                session: Some(&only),
                scps: &[],
                rcps: &[],
                resource_must_allow: false,
            };
            let decision = oxiam_policy::evaluate(&request, &set);
            (!decision.allowed).then_some(decision)
        })
    }
}

/// A principal's tags, and its organization's id with the account's paths in it.
pub(crate) type PrincipalClaims = (Vec<(String, String)>, Option<(String, Vec<String>)>);

/// An account's organization, as authorization reads it. Every change to an organization
/// bumps the policy epoch of each of its accounts, so a view is as fresh as the cache entry
/// that holds it.
#[derive(Debug)]
struct OrgView {
    /// `aws:PrincipalOrgID` (or `aws:ResourceOrgID`).
    org_id: String,
    /// `aws:PrincipalOrgPaths` (or `aws:ResourceOrgPaths`): the account's path.
    paths: Vec<String>,
    /// The SCPs on the path from the root to the account, one level per node; empty when
    /// they do not apply (the management account, SCPs disabled).
    scps: Vec<Vec<Arc<CompiledPolicy>>>,
    /// The RCPs on the same path, which govern the account's resources; empty when they
    /// do not apply (the management account's resources, RCPs disabled).
    rcps: Vec<Vec<Arc<CompiledPolicy>>>,
}

/// The organization of a resource's account when that is not the caller's: its keys and the
/// RCPs governing the resource.
pub(crate) struct ResourceOrganization {
    org_id: String,
    paths: Vec<String>,
    rcps: Vec<Vec<Arc<CompiledPolicy>>>,
}

impl ResourceOrganization {
    /// Sets `aws:ResourceOrgID` and `aws:ResourceOrgPaths` in `context`; the RCPs.
    pub(crate) fn enter(self, context: &mut Context) -> Vec<Vec<Arc<CompiledPolicy>>> {
        context.insert("aws:ResourceOrgID", vec![Value::from(self.org_id.as_str())]);
        context.insert(
            "aws:ResourceOrgPaths",
            self.paths.iter().map(|p| Value::from(p.as_str())).collect(),
        );
        self.rcps
    }
}

/// The services of oxiam whose resources RCPs govern (AWS Organizations User Guide,
/// "Resource control policies": S3 and STS among them, IAM not).
fn governed_by_rcps(action: &str) -> bool {
    let service = action.split(':').next().unwrap_or("");
    service.eq_ignore_ascii_case("s3") || service.eq_ignore_ascii_case("sts")
}

/// The policies of `policy_type` governing `account_id`, compiled, one level per node from
/// the root down; none when the type is off, the account is not a member, or it is the
/// management account (which neither SCPs nor RCPs restrict).
pub(crate) fn compiled_levels(
    state: &crate::organizations::state::OrgState,
    account_id: &str,
    policy_type: &str,
) -> Result<Vec<Vec<Arc<CompiledPolicy>>>, ServiceError> {
    use crate::organizations::state::SCP;
    if state.management_account_id == account_id {
        return Ok(Vec::new());
    }
    let kind = match policy_type {
        SCP => PolicyKind::Scp,
        crate::organizations::state::RCP => PolicyKind::Rcp,
        // Other policy types are kept, not enforced.
        _ => return Ok(Vec::new()),
    };
    let mut compiled_levels = Vec::new();
    for level in state.levels(account_id, policy_type).unwrap_or_default() {
        let compiled = level
            .iter()
            .map(|p| {
                let arn = state.policy_arn(p);
                oxiam_policy::compile(arn.clone(), p.content, kind)
                    .map(Arc::new)
                    .map_err(|e| policy_fault(format!("{arn}: {}", e.message)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        compiled_levels.push(compiled);
    }
    Ok(compiled_levels)
}

/// Compiled policy sets by principal id. Bounded: cleared when it grows past `CACHE_LIMIT`
/// (a rebuild costs one store round trip per principal, so simplicity wins over LRU).
#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    sets: RwLock<HashMap<String, Arc<PrincipalPolicies>>>,
}

const CACHE_LIMIT: usize = 10_000;

/// What the account root may do, as a policy: the identity side of the root's federated
/// users, whose session policies then say what they may do.
pub(crate) static ROOT_FULL_ACCESS: std::sync::LazyLock<Arc<CompiledPolicy>> = std::sync::LazyLock::new(|| {
    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    Arc::new(oxiam_policy::compile("root", document, PolicyKind::Identity).expect("a valid policy"))
});

impl PolicyCache {
    /// Forgets every compiled set.
    pub(crate) fn clear(&self) {
        self.sets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

fn compile_stored(policy: &StoredPolicy) -> Result<Arc<CompiledPolicy>, String> {
    let (id, document) = match policy {
        StoredPolicy::Managed { arn, document: Some(d) } => (arn.clone(), d.as_str()),
        StoredPolicy::Managed { arn, document: None } => match oxiam_aws_policies::by_arn(arn) {
            Some(p) => (arn.clone(), p.document),
            None => return Err(format!("attached policy {arn} is neither stored nor built in")),
        },
        StoredPolicy::Inline {
            holder,
            holder_name,
            name,
            document,
        } => (format!("{}/{holder_name}/{name}", holder.as_str()), document.as_str()),
    };
    oxiam_policy::compile(id.clone(), document, PolicyKind::Identity)
        .map(Arc::new)
        .map_err(|e| format!("{id}: {}", e.message))
}

impl Oxiam {
    /// What a web identity token says of its principal besides its name: the tags
    /// `aws:PrincipalTag/…` reads, and the organization's id and the account's path in it.
    pub(crate) async fn principal_claims(&self, principal: &Principal) -> Result<PrincipalClaims, ServiceError> {
        let policies = self.principal_policies(principal).await?;
        Ok((
            policies.tags.clone(),
            policies.org.as_ref().map(|o| (o.org_id.clone(), o.paths.clone())),
        ))
    }

    /// The principal's compiled identity policies and boundary, from the cache when its
    /// epoch is current.
    async fn principal_policies(&self, principal: &Principal) -> Result<Arc<PrincipalPolicies>, ServiceError> {
        // Users are cached by user id; sessions by access key, since each session carries
        // its own session policies. The entity whose policies apply: the user, the role, the
        // user behind a federated-user session; none for the root (nor its federated users).
        // The root has no policies of its own but its organization's, cached by account.
        // A root session (AssumeRoot) is limited by its task policy: its own entry.
        let root_task = principal.session.as_ref().and_then(|s| match &s.issued_by {
            crate::SessionIssuer::AssumeRoot { task_policy_arn } => Some(task_policy_arn),
            _ => None,
        });
        // Scoped credentials carry their own scope-down policies: their own entry too.
        let scoped = principal.session.as_ref().is_some_and(|s| !s.scope_policies.is_empty());
        let (entity, cache_key) = match &principal.kind {
            PrincipalKind::Root if root_task.is_some() || scoped => (None, &principal.access_key_id),
            PrincipalKind::Root => (None, &principal.account_id),
            PrincipalKind::User { user_id, .. } if scoped => {
                (Some((EntityKind::User, user_id)), &principal.access_key_id)
            }
            PrincipalKind::User { user_id, .. } => (Some((EntityKind::User, user_id)), user_id),
            PrincipalKind::AssumedRole { role_id, .. } => (Some((EntityKind::Role, role_id)), &principal.access_key_id),
            PrincipalKind::FederatedUser { issuer, .. } => (
                issuer.as_ref().map(|u| (EntityKind::User, &u.user_id)),
                &principal.access_key_id,
            ),
        };
        if let Some(hit) = self.policy_cache.sets.read().expect("policy cache lock").get(cache_key)
            && hit.epoch == principal.policy_epoch
        {
            return Ok(hit.clone());
        }
        // Everything the set holds is read from the database below, after the epoch it is
        // kept under was read: never from the read cache, whose rows may predate a change
        // whose epoch authentication has already seen (on another server, until its
        // notification arrives). A set is then never older than its epoch.
        let (identity, boundary) = match (entity, &principal.kind) {
            (Some((kind, entity_id)), _) => self.entity_policies(kind, entity_id).await?,
            // A root session's task policy is a list of Deny statements (everything but the
            // task): the root keeps its full access but for what they deny, which is how an
            // identity policy of the root acts in the engine.
            (None, PrincipalKind::Root) => match root_task {
                Some(task) => (vec![root_task_policy(task)?], None),
                None => (Vec::new(), None),
            },
            // The root's federated users: the root may do anything, so their session
            // policies alone say what they may do.
            (None, _) => (vec![ROOT_FULL_ACCESS.clone()], None),
        };
        let (tags, session) = match &principal.kind {
            PrincipalKind::AssumedRole {
                role_name,
                session_policy,
                session_policy_arns,
                session_tags,
                ..
            } => {
                // Session tags win over the role's tags of the same key (case-insensitive).
                let mut tags = self
                    .store
                    .get_role(&principal.account_id, role_name)
                    .await
                    .map_err(errors::internal)?
                    .tags;
                tags.retain(|(k, _)| !session_tags.iter().any(|(s, _)| s.eq_ignore_ascii_case(k)));
                tags.extend(session_tags.iter().cloned());
                (
                    tags,
                    self.session_policies(principal, session_policy.as_deref(), session_policy_arns)
                        .await?,
                )
            }
            PrincipalKind::User { name, .. } => (
                self.store
                    .get_user_as_stored(&principal.account_id, name)
                    .await
                    .map_err(errors::internal)?
                    .tags,
                None,
            ),
            PrincipalKind::FederatedUser {
                issuer,
                session_policy,
                session_policy_arns,
                session_tags,
                ..
            } => {
                // Session tags win over the user's tags of the same key (case-insensitive).
                let mut tags = match issuer {
                    Some(user) => {
                        self.store
                            .get_user_as_stored(&principal.account_id, &user.name)
                            .await
                            .map_err(errors::internal)?
                            .tags
                    }
                    None => Vec::new(),
                };
                tags.retain(|(k, _)| !session_tags.iter().any(|(s, _)| s.eq_ignore_ascii_case(k)));
                tags.extend(session_tags.iter().cloned());
                // No session policy: `None`, which the engine reads for a federated user
                // as no permissions at all.
                (
                    tags,
                    self.session_policies(principal, session_policy.as_deref(), session_policy_arns)
                        .await?,
                )
            }
            PrincipalKind::Root => (Vec::new(), None),
        };
        let scopes = match &principal.session {
            Some(s) => s
                .scope_policies
                .iter()
                .map(|doc| {
                    oxiam_policy::compile("scope", doc, PolicyKind::Session)
                        .map(Arc::new)
                        .map_err(|e| policy_fault(e.message))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        let set = Arc::new(PrincipalPolicies {
            epoch: principal.policy_epoch,
            identity,
            boundary,
            session,
            scopes,
            tags,
            org: self.org_view(principal).await?,
        });
        let mut sets = self.policy_cache.sets.write().expect("policy cache lock");
        if sets.len() >= CACHE_LIMIT {
            sets.clear();
        }
        sets.insert(cache_key.clone(), set.clone());
        Ok(set)
    }

    /// The organization of the account owning the resource of `access`, when that is another
    /// account than the principal's and it is in one.
    pub(crate) async fn foreign_organization(
        &self,
        principal: &Principal,
        access: &Access,
        resource_account: Option<&str>,
    ) -> Result<Option<ResourceOrganization>, ServiceError> {
        match resource_owner(access, resource_account) {
            Some(owner) if owner != principal.account_id => self.resource_organization(owner).await,
            _ => Ok(None),
        }
    }

    /// The organization of the account `owner`, with the RCPs governing its resources
    /// compiled, if it is in one.
    pub(crate) async fn resource_organization(
        &self,
        owner: &str,
    ) -> Result<Option<ResourceOrganization>, ServiceError> {
        let Some(state) = self.organization(owner).await? else {
            return Ok(None);
        };
        Ok(Some(ResourceOrganization {
            org_id: state.id.clone(),
            paths: vec![state.org_path_of_account(owner)],
            rcps: compiled_levels(&state, owner, crate::organizations::state::RCP)?,
        }))
    }

    /// The principal's organization, with the SCPs that govern it compiled: none for the
    /// management account, nor for a service-linked role (SCPs do not restrict either).
    async fn org_view(&self, principal: &Principal) -> Result<Option<OrgView>, ServiceError> {
        let Some(state) = self.organization(&principal.account_id).await? else {
            return Ok(None);
        };
        use crate::organizations::state::{RCP, SCP};
        let scps = if principal.is_service_linked() {
            Vec::new()
        } else {
            compiled_levels(&state, &principal.account_id, SCP)?
        };
        Ok(Some(OrgView {
            org_id: state.id.clone(),
            paths: vec![state.org_path_of_account(&principal.account_id)],
            scps,
            rcps: compiled_levels(&state, &principal.account_id, RCP)?,
        }))
    }

    /// A user's or role's compiled identity policies (its groups' too) and boundary.
    async fn entity_policies(
        &self,
        kind: EntityKind,
        entity_id: &str,
    ) -> Result<(Vec<Arc<CompiledPolicy>>, Option<Arc<CompiledPolicy>>), ServiceError> {
        let stored = self
            .store
            .identity_policies(kind, entity_id)
            .await
            .map_err(errors::internal)?;
        // Documents are validated on write; one that no longer compiles is a fault to
        // report, never a statement to skip (skipping a Deny would widen access).
        let identity = stored
            .iter()
            .map(compile_stored)
            .collect::<Result<Vec<_>, _>>()
            .map_err(policy_fault)?;
        let boundary = match self
            .store
            .permissions_boundary_as_stored(kind, entity_id)
            .await
            .map_err(errors::internal)?
        {
            Some((arn, document)) => {
                Some(compile_stored(&StoredPolicy::Managed { arn, document }).map_err(policy_fault)?)
            }
            None => None,
        };
        Ok((identity, boundary))
    }

    /// A session's policies, compiled (`None` when it has none: then only the role's
    /// policies apply; a federated user has none at all).
    async fn session_policies(
        &self,
        principal: &Principal,
        inline: Option<&str>,
        arns: &[String],
    ) -> Result<Option<Vec<Arc<CompiledPolicy>>>, ServiceError> {
        if inline.is_none() && arns.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        if let Some(doc) = inline {
            out.push(Arc::new(
                oxiam_policy::compile("session", doc, PolicyKind::Session).map_err(|e| policy_fault(e.message))?,
            ));
        }
        for arn in arns {
            let document = match oxiam_aws_policies::by_arn(arn) {
                Some(p) => p.document.to_owned(),
                None => {
                    let p = self
                        .store
                        .get_policy(&principal.account_id, arn)
                        .await
                        .map_err(errors::internal)?;
                    self.store
                        .get_policy_version(&principal.account_id, arn, p.default_version)
                        .await
                        .map_err(errors::internal)?
                        .document
                }
            };
            out.push(Arc::new(
                oxiam_policy::compile(arn.clone(), &document, PolicyKind::Session)
                    .map_err(|e| policy_fault(e.message))?,
            ));
        }
        Ok(Some(out))
    }

    /// The engine's view of a principal.
    /// `issuer_arn` is [`Principal::session_issuer_arn`].
    pub(crate) fn engine_principal<'a>(
        principal: &'a Principal,
        arn: &'a str,
        issuer_arn: Option<&'a str>,
    ) -> oxiam_policy::Principal<'a> {
        match (&principal.kind, issuer_arn) {
            (PrincipalKind::User { user_id, .. }, _) => {
                oxiam_policy::Principal::user(arn, &principal.account_id).with_unique_id(user_id)
            }
            (PrincipalKind::AssumedRole { role_id, .. }, Some(role_arn)) => {
                oxiam_policy::Principal::assumed_role(arn, role_arn, &principal.account_id).with_unique_id(role_id)
            }
            (PrincipalKind::FederatedUser { .. }, issuer_arn) => {
                oxiam_policy::Principal::federated_user(arn, issuer_arn, &principal.account_id)
            }
            _ => oxiam_policy::Principal::root(arn, &principal.account_id),
        }
    }

    /// The caller's compiled identity policies, boundary and session policies, with the
    /// request context, for decisions that combine them with another policy (trust).
    pub(crate) async fn caller_policies(
        &self,
        principal: &Principal,
        access: &Access,
        facts: &RequestFacts,
    ) -> Result<(Arc<PrincipalPolicies>, Context), ServiceError> {
        let p = self.principal_policies(principal).await?;
        let context = request_context(principal, facts, access, &p, None);
        Ok((p, context))
    }

    /// Allows or denies `access` for `principal`, given the request's facts and the
    /// resource's own policy if it has one.
    pub async fn authorize(
        &self,
        principal: &Principal,
        access: &Access,
        facts: &RequestFacts,
        resource_policy: Option<ResourcePolicy<'_>>,
    ) -> Result<Verdict, Refusal> {
        // Access advisor counts attempts, allowed or not.
        self.record_attempt(principal, &access.action, facts);
        self.decide(principal, access, facts, resource_policy).await
    }

    /// [`Oxiam::authorize`], for a check that is no attempt at the action itself (reading
    /// what only those allowed an action may read): access advisor does not count it.
    pub(crate) async fn decide(
        &self,
        principal: &Principal,
        access: &Access,
        facts: &RequestFacts,
        resource_policy: Option<ResourcePolicy<'_>>,
    ) -> Result<Verdict, Refusal> {
        // Some calls ask for no permission at all (`NO_PERMISSION_REQUIRED`).
        if NO_PERMISSION_REQUIRED.contains(&access.action.as_str()) {
            return Ok(Verdict::new(access, Outcome::Allowed, "no permission required"));
        }
        self.within_credential_limits(principal, access)?;
        let policies = self.principal_policies(principal).await?;
        let resource_account = resource_policy.map(|rp| rp.owner_account);
        let mut context = request_context(principal, facts, access, &policies, resource_account);
        let foreign = self.foreign_organization(principal, access, resource_account).await?;
        let foreign_rcps = foreign.map(|f| f.enter(&mut context)).unwrap_or_default();
        let rcps = rcp_levels(principal, access, &policies, resource_account, &foreign_rcps);
        let arn = principal.arn();
        let issuer_arn = principal.session_issuer_arn();
        let engine_principal = Self::engine_principal(principal, &arn, issuer_arn.as_deref());
        let resource = match resource_policy {
            Some(rp) => Some(
                oxiam_policy::compile("resource", rp.document, PolicyKind::Resource)
                    .map_err(|e| policy_fault(format!("resource policy: {}", e.message)))?,
            ),
            None => None,
        };
        let mut request = Request::new(engine_principal, &access.action, &access.resource, &context);
        if let Some(rp) = resource_policy {
            request = request.with_resource_account(rp.owner_account);
        }
        request.options.resource_prefix = access.resource_is_prefix;
        let set = PolicySet {
            identity: &policies.identity,
            resource: resource.as_ref(),
            boundary: policies.boundary.as_deref(),
            session: policies.session.as_deref(),
            scps: &policies.scp_levels(),
            rcps: &rcps,
            resource_must_allow: false,
        };
        let mut decision = oxiam_policy::evaluate(&request, &set);
        if decision.allowed
            && let Some(refusal) = policies.scope_refusal(&request)
        {
            decision = refusal;
        }
        let verdict = Verdict::of(access, &decision);
        if decision.allowed {
            return Ok(verdict);
        }
        // The account's grant stands in for a missing Allow, never for a boundary's.
        if verdict.outcome == Outcome::ImplicitDeny
            && policies.boundary.is_none()
            && self.users_may_change_their_password(principal, access).await?
        {
            return Ok(Verdict::rule(
                access,
                Outcome::Allowed,
                "the account's password policy lets users change their own password",
            ));
        }
        let shown = access.shown_as.as_deref().unwrap_or(&access.resource);
        let mut message = decision.denial_message(&arn, &access.action, shown).unwrap_or_default();
        // Since 2026 AWS names the SCP (or RCP) that denied, within the organization.
        if let oxiam_policy::Reason::ExplicitDeny(statement) = &decision.reason
            && matches!(statement.kind, PolicyKind::Scp | PolicyKind::Rcp)
        {
            message.push_str(": ");
            message.push_str(&statement.policy_id);
        }
        self.refuse(verdict, ServiceError::new(common_errors::ACCESS_DENIED, message))
    }
}

impl Oxiam {
    /// Allows or denies every access an IAM request needs ([`Oxiam::iam_accesses`]), each
    /// weighed with the default permissions of the delegation request it acts on, if it
    /// acts on one ([`crate::iam::DefaultGrant`]); each allowed access's verdict is kept in
    /// `verdicts` as it is decided (a refusal carries its own).
    pub async fn authorize_iam(
        &self,
        principal: &Principal,
        request: &oxiam_protocol::iam::Request,
        facts: &RequestFacts,
        verdicts: &mut Vec<Verdict>,
    ) -> Result<(), Refusal> {
        let grant = self.delegation_grant(principal, request).await?;
        for mut access in self.iam_accesses(principal, request).await? {
            if let Some(grant) = &grant {
                grant.apply(principal, &mut access);
            }
            let policy = grant.as_ref().map(crate::iam::DefaultGrant::policy);
            verdicts.push(self.authorize(principal, &access, facts, policy).await?);
        }
        Ok(())
    }
}

/// The actions any authenticated caller may take, whatever its policies say: AWS answers
/// GetCallerIdentity and GetSessionToken for anyone ("no permissions are required", STS API
/// reference). GetScopedCredentials is no action of the Service Authorization Reference at
/// all, and only narrows the caller's own credentials (docs/differences.md).
pub const NO_PERMISSION_REQUIRED: &[&str] = &[
    "sts:GetCallerIdentity",
    "sts:GetSessionToken",
    "sts:GetScopedCredentials",
];

impl Oxiam {
    /// What temporary credentials may call at all, whatever their policies say (IAM User
    /// Guide, "Comparing AWS STS credentials"): GetSessionToken's call no STS operation but
    /// AssumeRole (and GetCallerIdentity), and IAM only when issued with MFA; a federated
    /// user's call no IAM operation and no STS operation but GetCallerIdentity. Every
    /// decision about a signed caller passes here, role trust decisions included.
    pub(crate) fn within_credential_limits(&self, principal: &Principal, access: &Access) -> Result<(), Refusal> {
        /// STS actions (lower-case) GetSessionToken's credentials may ask for.
        const SESSION_TOKEN_STS_ACTIONS: &[&str] = &[
            "sts:assumerole",
            "sts:getwebidentitytoken",
            "sts:taggetwebidentitytoken",
        ];
        let Some(session) = &principal.session else {
            return Ok(());
        };
        let action = access.action.to_ascii_lowercase();
        let (iam, sts) = (action.starts_with("iam:"), action.starts_with("sts:"));

        // The STS calls GetSessionToken's credentials may make, MFA or not (GetCallerIdentity
        // needs no permission at all): STS API reference, GetSessionToken.
        let session_token_may = SESSION_TOKEN_STS_ACTIONS.contains(&action.as_str());
        let refused = match session.issued_by {
            // Delegated credentials act within their delegation: no STS call makes credentials
            // of them that would outlive it or leave its policy behind (docs/differences.md).
            _ if session.delegated => sts.then_some((
                "delegated credentials call no STS operation that asks a permission",
                "delegated credentials",
            )),
            // A root session's limits are its task policy, which the engine applies.
            crate::SessionIssuer::AssumeRole | crate::SessionIssuer::AssumeRoot { .. } => None,
            crate::SessionIssuer::GetSessionToken if principal.mfa_at.is_none() => ((iam || sts) && !session_token_may)
                .then_some((
                    "credentials from GetSessionToken without MFA",
                    "credentials from GetSessionToken that carry no MFA",
                )),
            crate::SessionIssuer::GetSessionToken => (sts && !session_token_may).then_some((
                "credentials from GetSessionToken call no STS operation but AssumeRole and GetWebIdentityToken",
                "credentials from GetSessionToken",
            )),
            crate::SessionIssuer::GetFederationToken => (iam || sts).then_some((
                "federated users call no IAM or STS operation but GetCallerIdentity",
                "credentials from GetFederationToken",
            )),
        };
        match refused {
            None => Ok(()),
            Some((rule, credentials)) => self
                .refuse(
                    Verdict::new(access, Outcome::ImplicitDeny, rule),
                    ServiceError::new(
                        common_errors::ACCESS_DENIED,
                        format!(
                            "User: {} is not authorized to perform: {} with {credentials}",
                            principal.arn(),
                            access.action
                        ),
                    ),
                )
                .map(|_| ()),
        }
    }

    /// Whether `access` is one that the account password policy's
    /// `AllowUsersToChangePassword` grants every IAM user at the account level, where no
    /// policy of theirs denies it: `iam:ChangePassword` on their own user and
    /// `iam:GetAccountPasswordPolicy`. (A user with a permissions boundary gets the grant
    /// only through the boundary: AWS documents no interplay, and this one fails closed.)
    async fn users_may_change_their_password(&self, principal: &Principal, access: &Access) -> Result<bool, Refusal> {
        if !matches!(principal.kind, PrincipalKind::User { .. }) {
            return Ok(false);
        }
        let own_password =
            access.action.eq_ignore_ascii_case("iam:ChangePassword") && access.resource == principal.arn();
        if !own_password && !access.action.eq_ignore_ascii_case("iam:GetAccountPasswordPolicy") {
            return Ok(false);
        }
        let policy = self
            .store
            .password_policy(&principal.account_id)
            .await
            .map_err(crate::errors::store)?;
        Ok(policy.is_some_and(|p| p.allow_change))
    }
}

/// A root task policy (an AWS managed policy), compiled as the root session's own policy.
fn root_task_policy(arn: &str) -> Result<Arc<CompiledPolicy>, ServiceError> {
    let policy = oxiam_aws_policies::by_arn(arn).ok_or_else(|| policy_fault(format!("{arn} is not built in")))?;
    oxiam_policy::compile(arn, policy.document, PolicyKind::Identity)
        .map(Arc::new)
        .map_err(|e| policy_fault(e.message))
}

fn policy_fault(detail: String) -> ServiceError {
    ServiceError::new(
        oxiam_protocol::iam::errors::SERVICE_FAILURE,
        "A stored policy could not be evaluated.",
    )
    .with_cause(&format_args!("a stored policy does not compile: {detail}"))
}

/// The account that owns the resource of `access`: the resource policy's owner, else the
/// `aws:ResourceAccount` the request carries (S3's), else the account in its ARN.
fn resource_owner<'a>(access: &'a Access, resource_account: Option<&'a str>) -> Option<&'a str> {
    resource_account
        .or_else(|| {
            access
                .keys
                .iter()
                .find(|(k, _)| k == "aws:ResourceAccount")
                .and_then(|(_, v)| v.first().map(String::as_str))
        })
        .or_else(|| arn_account(&access.resource))
}

/// The RCP levels that govern the resource of `access`: its owner's (the principal's own
/// from the cached view, another account's as given), for the services RCPs apply to, never
/// for a service-linked role.
pub(crate) fn rcp_levels<'a>(
    principal: &Principal,
    access: &Access,
    policies: &'a PrincipalPolicies,
    resource_account: Option<&str>,
    foreign: &'a [Vec<Arc<CompiledPolicy>>],
) -> Vec<&'a [Arc<CompiledPolicy>]> {
    if !governed_by_rcps(&access.action) || principal.is_service_linked() {
        return Vec::new();
    }
    match resource_owner(access, resource_account) {
        Some(owner) if owner != principal.account_id => foreign.iter().map(Vec::as_slice).collect(),
        _ => policies
            .org
            .iter()
            .flat_map(|o| o.rcps.iter().map(Vec::as_slice))
            .collect(),
    }
}

/// The account in an ARN (IAM's, STS's; S3 ARNs carry none).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// The global condition keys of a request, plus the action's own keys (which come last, so
/// a service that knows better — S3 naming its bucket's owner — has the final word).
fn request_context(
    principal: &Principal,
    facts: &RequestFacts,
    access: &Access,
    policies: &PrincipalPolicies,
    resource_account: Option<&str>,
) -> Context {
    // aws:ResourceAccount: the owner of the resource policy's resource, else the account in
    // the resource's ARN (IAM's, STS's); S3 supplies it itself.
    let owner = resource_account.or_else(|| arn_account(&access.resource));
    let mut b = Context::builder()
        .set_opt("aws:ResourceAccount", owner)
        .set_opt("aws:UserAgent", facts.user_agent.as_deref())
        .set_opt("aws:Referer", facts.referer.as_deref())
        .set("aws:CurrentTime", Value::date_epoch_seconds(facts.now))
        .set("aws:EpochTime", facts.now)
        .set("aws:SecureTransport", facts.secure_transport)
        .set("aws:PrincipalArn", principal.arn())
        .set("aws:PrincipalAccount", principal.account_id.as_str())
        .set("aws:userid", principal.unique_id())
        .set("aws:RequestedRegion", facts.region.as_str())
        .set("aws:ViaAWSService", false)
        // Only a service principal (`cloudtrail.amazonaws.com`) calling directly is one.
        .set("aws:PrincipalIsAWSService", false)
        .set_opt("aws:SourceIp", facts.source_ip);
    // Temporary credentials carry their issue time and whether MFA stood behind them;
    // long-term keys carry neither key, as in AWS, unless the request itself proves a code
    // (AssumeRole with SerialNumber and TokenCode). The age is only there with MFA.
    if let Some(session) = &principal.session {
        b = b.set("aws:TokenIssueTime", Value::date_epoch_seconds(session.issued_at));
        // A role session's source identity is in every request it makes.
        b = b.set_opt("aws:SourceIdentity", session.source_identity.as_deref());
        // And its trusted context (aws:OriginIdentity/…, aws:TransactionContext/…).
        for (key, value) in &session.trusted_context {
            b = b.set(key, value.as_str());
        }
    }
    if principal.session.is_some() || principal.mfa_at.is_some() {
        b = b.set("aws:MultiFactorAuthPresent", principal.mfa_at.is_some());
    }
    if let Some(at) = principal.mfa_at {
        b = b.set("aws:MultiFactorAuthAge", (facts.now - at).max(0));
    }
    b = match &principal.kind {
        PrincipalKind::Root => b.set("aws:PrincipalType", "Account"),
        PrincipalKind::User { name, .. } => b.set("aws:PrincipalType", "User").set("aws:username", name.as_str()),
        // For a role session, aws:PrincipalArn is the role's ARN, not the session's.
        PrincipalKind::AssumedRole { .. } => b
            .set("aws:PrincipalType", "AssumedRole")
            .set_opt("aws:PrincipalArn", principal.role_arn()),
        // aws:PrincipalArn is the federated user's own (`…:federated-user/NAME`).
        PrincipalKind::FederatedUser { .. } => b.set("aws:PrincipalType", "FederatedUser"),
    };
    for (key, value) in &policies.tags {
        b = b.set(&format!("aws:PrincipalTag/{key}"), value.as_str());
    }
    // The organization keys: the principal's, and the resource's when it is in the same
    // account (another account's are added by the caller, which looks its organization up).
    if let Some(org) = &policies.org {
        b = b
            .set("aws:PrincipalOrgID", org.org_id.as_str())
            .set_all("aws:PrincipalOrgPaths", org.paths.iter().map(String::as_str));
        if resource_owner(access, resource_account).is_none_or(|o| o == principal.account_id) {
            b = b
                .set("aws:ResourceOrgID", org.org_id.as_str())
                .set_all("aws:ResourceOrgPaths", org.paths.iter().map(String::as_str));
        }
    }
    for (key, values) in &access.keys {
        b = b.set_all(key, values.iter().map(String::as_str));
    }
    b.build()
}
