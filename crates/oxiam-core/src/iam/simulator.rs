//! The policy simulator, backed by the same engine that decides every request:
//! SimulatePrincipalPolicy, SimulateCustomPolicy, GetContextKeysForPrincipalPolicy,
//! GetContextKeysForCustomPolicy.

use std::sync::Arc;

use oxiam_catalogue::AccessLevel;
use oxiam_policy::{CompiledPolicy, Context, Decision, PolicyKind, PolicySet, Reason, StatementRef};
use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    ContextEntry, EvaluationResult, GetContextKeysForCustomPolicyRequest, GetContextKeysForPolicyResponse,
    GetContextKeysForPrincipalPolicyRequest, OrganizationsDecisionDetail, PermissionsBoundaryDecisionDetail,
    PolicyEvaluationDecisionType, PolicySourceType, Position, ResourceSpecificResult, SimulateCustomPolicyRequest,
    SimulatePolicyResponse, SimulatePrincipalPolicyRequest, Statement, errors as iam_errors,
};
use oxiam_store::{EntityKind, StoreError, StoredPolicy};

use super::page_size;
use crate::{Oxiam, Principal, errors};

/// A policy taking part in a simulation, with how the result names its source.
struct Source {
    /// Compiled under an id unique in the simulation (a managed policy's ARN, an inline
    /// policy's holder and name), by which a decision's statement finds its source.
    policy: Arc<CompiledPolicy>,
    parsed: oxiam_policy::Policy,
    kind: Option<PolicySourceType>,
    /// How results name it, as AWS does: a managed policy by its name, an inline policy
    /// as `user_<holder>_<policy>`, an input as `PolicyInputList.N`.
    shown_as: String,
    /// Where each statement sits in the text (`MatchedStatements` positions).
    spans: Vec<oxiam_policy::StatementSpan>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::new(iam_errors::INVALID_INPUT, message)
}

/// A `CallerArn` may name only an IAM user (the simulator API reference: not an assumed
/// role, a federated user or a service principal).
fn check_caller_arn(caller_arn: Option<&str>) -> Result<(), ServiceError> {
    match caller_arn {
        Some(arn) if !is_user_arn(arn) => Err(invalid(format!(
            "Invalid CallerArn {arn}: the simulated caller must be an IAM user."
        ))),
        _ => Ok(()),
    }
}

fn is_user_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", "aws", "iam", "", account, resource]
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && resource.starts_with("user/"))
}

fn source(
    id: String,
    shown_as: String,
    document: &str,
    kind: PolicyKind,
    source_type: Option<PolicySourceType>,
) -> Result<Source, ServiceError> {
    let parsed = oxiam_policy::parse(document, kind)
        .map_err(|e| ServiceError::new(iam_errors::MALFORMED_POLICY_DOCUMENT, e.message))?;
    Ok(Source {
        policy: Arc::new(CompiledPolicy::compile(id, &parsed)),
        parsed,
        kind: source_type,
        shown_as,
        spans: oxiam_policy::statement_spans(document),
    })
}

/// A managed policy's name: the last segment of its ARN.
fn policy_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_owned()
}

/// The request context of a simulation: the context entries as given (each value a
/// string; the engine types it as each condition operator needs).
fn context(entries: &[ContextEntry]) -> Context {
    let mut b = Context::builder();
    for e in entries {
        if let Some(key) = &e.context_key_name {
            b = b.set_all(key, e.context_key_values.iter().flatten().map(String::as_str));
        }
    }
    b.build()
}

/// The condition keys the policies use that the context does not supply and that a
/// request for `action` could carry: the global `aws:` keys, and the service's keys the
/// catalogue lists for the action (all of them for an action it does not know).
fn missing_keys(sources: &[&Source], context: &Context, action: &str) -> Vec<String> {
    let catalogued = oxiam_catalogue::action_named(action);
    let mut missing: Vec<String> = Vec::new();
    for s in sources {
        for key in oxiam_policy::context_keys(&s.parsed) {
            let global = key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"));
            let applies = global || catalogued.is_none_or(|a| a.supports_key(&key));
            if applies && !context.contains_key(&key) && !missing.iter().any(|m| m.eq_ignore_ascii_case(&key)) {
                missing.push(key);
            }
        }
    }
    missing
}

/// A refusal AWS makes whatever the policies say, reported by the simulator (beyond AWS's,
/// which would say "allowed"): AWS managed policies cannot be changed, and service-linked
/// and `aws-reserved` roles only by their service. The name becomes the key of an
/// `EvalDecisionDetails` entry.
fn protection(action: &str, resource: &str) -> Option<&'static str> {
    let (service, name) = action.split_once(':')?;
    if !service.eq_ignore_ascii_case("iam") {
        return None;
    }
    let level = oxiam_catalogue::action("iam", name)?.access_level;
    if matches!(level, AccessLevel::List | AccessLevel::Read) {
        return None;
    }
    if resource.starts_with(oxiam_aws_policies::ARN_PREFIX) {
        return Some("Protection: AWS managed policy");
    }
    let role = resource.strip_prefix("arn:aws:iam::")?.split_once(":role/")?.1;
    // What a service-linked role's own API, its description and its tags may still change
    // (as the server decides: `iam/service_linked_roles.rs`).
    const SERVICE_LINKED_WRITES: &[&str] = &[
        "CreateServiceLinkedRole",
        "DeleteServiceLinkedRole",
        "UpdateRole",
        "UpdateRoleDescription",
        "TagRole",
        "UntagRole",
    ];
    if role.starts_with("aws-service-role/") && !SERVICE_LINKED_WRITES.iter().any(|w| w.eq_ignore_ascii_case(name)) {
        return Some("Protection: service-linked role");
    }
    role.starts_with("aws-reserved/")
        .then_some("Protection: aws-reserved role")
}

fn decision_type(decision: &Decision) -> PolicyEvaluationDecisionType {
    match decision.reason {
        Reason::ExplicitDeny(_) => PolicyEvaluationDecisionType::ExplicitDeny,
        _ if decision.allowed => PolicyEvaluationDecisionType::Allowed,
        _ => PolicyEvaluationDecisionType::ImplicitDeny,
    }
}

fn position(p: oxiam_policy::Position) -> Position {
    Position {
        line: i32::try_from(p.line).ok(),
        column: i32::try_from(p.column).ok(),
    }
}

/// The statement that decided, as the result names it, with where it sits in its document.
fn matched_statement(sources: &[&Source], s: &StatementRef) -> Statement {
    let source = sources.iter().find(|src| src.policy.id() == &*s.policy_id);
    let span = source.and_then(|src| src.spans.get(s.index).copied());
    Statement {
        source_policy_id: Some(source.map_or_else(|| s.policy_id.to_string(), |src| src.shown_as.clone())),
        source_policy_type: source.and_then(|src| src.kind),
        start_position: span.map(|sp| position(sp.start)),
        end_position: span.map(|sp| position(sp.end)),
    }
}

struct Simulation<'a> {
    identity: Vec<Source>,
    boundary: Option<Source>,
    resource_policy: Option<Source>,
    /// The SCPs governing the simulated principal's account, a level per node, when the
    /// account is in an organization (none for its management account).
    organization: Option<ScpLevels>,
    caller_arn: &'a str,
    account: &'a str,
    resource_owner: Option<&'a str>,
    actions: &'a [String],
    resources: Vec<String>,
    context: Context,
}

impl Simulation<'_> {
    fn run(&self, max_items: usize, marker: Option<&str>) -> Result<SimulatePolicyResponse, ServiceError> {
        let identity: Vec<Arc<CompiledPolicy>> = self.identity.iter().map(|s| s.policy.clone()).collect();
        let scps: Vec<&[Arc<CompiledPolicy>]> = self.organization.iter().flatten().map(Vec::as_slice).collect();
        let set = PolicySet {
            identity: &identity,
            resource: self.resource_policy.as_ref().map(|s| s.policy.as_ref()),
            boundary: self.boundary.as_ref().map(|s| s.policy.as_ref()),
            session: None,
            scps: &scps,
            rcps: &[],
            resource_must_allow: false,
        };
        // Each kind of policy alone, for the decision details: what it says on its own,
        // judged as if the resource were the caller's.
        let identity_only = PolicySet {
            identity: &identity,
            ..PolicySet::default()
        };
        let resource_only = self.resource_policy.as_ref().map(|r| PolicySet {
            resource: Some(r.policy.as_ref()),
            ..PolicySet::default()
        });
        // The SCPs alone: what they let an identity allowed everything do.
        let everything = [crate::authz::ROOT_FULL_ACCESS.clone()];
        let organization_only = PolicySet {
            identity: &everything,
            scps: &scps,
            ..PolicySet::default()
        };
        let boundary_policy = self.boundary.as_ref().map(|b| [b.policy.clone()]);
        let boundary_only = boundary_policy.as_ref().map(|identity| PolicySet {
            identity,
            ..PolicySet::default()
        });
        // The simulated caller belongs to the account its ARN names.
        let caller_account = arn_account(self.caller_arn).unwrap_or(self.account);
        let principal = if self.caller_arn.ends_with(":root") {
            oxiam_policy::Principal::root(self.caller_arn, caller_account)
        } else {
            oxiam_policy::Principal::user(self.caller_arn, caller_account)
        };
        let sources: Vec<&Source> = self
            .identity
            .iter()
            .chain(self.boundary.as_ref())
            .chain(self.resource_policy.as_ref())
            .collect();
        let mut results = Vec::new();
        for action in self.actions {
            let missing = missing_keys(&sources, &self.context, action);
            for resource in &self.resources {
                // As AWS's simulator: `*` (no resource given) stands for every resource; a
                // resource belongs to the account its ARN names, else to ResourceOwner,
                // else to the caller's account.
                let options = oxiam_policy::EvalOptions {
                    root_full_access: false,
                    any_resource: true,
                    ..oxiam_policy::EvalOptions::default()
                };
                let owner = arn_account(resource).or(self.resource_owner).unwrap_or(caller_account);
                let request = oxiam_policy::Request::new(principal, action, resource, &self.context)
                    .with_options(options)
                    .with_resource_account(owner);
                let decision = oxiam_policy::evaluate(&request, &set);
                let same_account = request.with_resource_account(caller_account);
                let alone = |policies: &PolicySet<'_>| decision_type(&oxiam_policy::evaluate(&same_account, policies));
                let boundary_detail = boundary_only.as_ref().map(|b| PermissionsBoundaryDecisionDetail {
                    allowed_by_permissions_boundary: Some(alone(b) == PolicyEvaluationDecisionType::Allowed),
                });
                let mut eval_decision = decision_type(&decision);
                let mut matched_statements: Vec<Statement> = match &decision.reason {
                    Reason::Allowed(s) | Reason::ExplicitDeny(s) => vec![matched_statement(&sources, s)],
                    _ => Vec::new(),
                };
                // EvalDecisionDetails, as AWS fills it: each kind of policy's own say for a
                // resource of another account (`*` with another ResourceOwner included);
                // present but empty for a named resource of the caller's own; absent for
                // `*` in the caller's account.
                let cross_account = owner != caller_account;
                let mut details: Vec<(String, PolicyEvaluationDecisionType)> = Vec::new();
                if cross_account {
                    details.push(("IAM Policy".to_owned(), alone(&identity_only)));
                    if let Some(r) = &resource_only {
                        details.push(("Resource Policy".to_owned(), alone(r)));
                    }
                    if let Some(b) = &boundary_only {
                        details.push(("Permissions Boundary Policy".to_owned(), alone(b)));
                    }
                }
                if let Some(protection) = protection(action, resource) {
                    if eval_decision == PolicyEvaluationDecisionType::Allowed {
                        eval_decision = PolicyEvaluationDecisionType::ImplicitDeny;
                        matched_statements.clear();
                    }
                    details.push((protection.to_owned(), PolicyEvaluationDecisionType::ImplicitDeny));
                }
                let any_resource = resource == "*";
                let eval_decision_details = (!any_resource || !details.is_empty()).then(|| details.clone());
                let resource_specific_results = (!any_resource).then(|| {
                    vec![ResourceSpecificResult {
                        eval_resource_name: resource.clone(),
                        eval_resource_decision: eval_decision,
                        matched_statements: Some(matched_statements.clone()),
                        missing_context_values: Some(missing.clone()),
                        // Only for another account's resource (or a protection), as AWS.
                        eval_decision_details: (!details.is_empty()).then(|| details.clone()),
                        permissions_boundary_decision_detail: boundary_detail.clone(),
                    }]
                });
                results.push(EvaluationResult {
                    eval_action_name: action.clone(),
                    eval_resource_name: Some(resource.clone()),
                    eval_decision,
                    matched_statements: Some(matched_statements),
                    missing_context_values: Some(missing.clone()),
                    organizations_decision_detail: self.organization.as_ref().map(|_| OrganizationsDecisionDetail {
                        allowed_by_organizations: Some(
                            alone(&organization_only) == PolicyEvaluationDecisionType::Allowed,
                        ),
                    }),
                    permissions_boundary_decision_detail: boundary_detail,
                    eval_decision_details,
                    resource_specific_results,
                });
            }
        }
        // The simulator keeps the order of the request (actions, then resources); the
        // index makes that the sort order of the paging helper.
        let keyed = results
            .into_iter()
            .enumerate()
            .map(|(i, r)| (format!("{i:08}"), r))
            .collect();
        let (evaluation_results, truncated, marker) = super::page(keyed, marker, max_items)?;
        Ok(SimulatePolicyResponse {
            evaluation_results: Some(evaluation_results),
            is_truncated: Some(truncated),
            marker,
        })
    }
}

impl Oxiam {
    /// The stored identity policies of the user, group or role an ARN names.
    async fn source_policies(
        &self,
        caller: &Principal,
        arn: &str,
        exclusions: &super::simulation_options::Exclusions,
    ) -> Result<(Vec<Source>, Option<Source>), ServiceError> {
        let no_such = ServiceError::new(iam_errors::NO_SUCH_ENTITY, format!("PolicySourceArn {arn} not found"));
        let (kind, entity, stored) = self.policies_of(caller, arn, no_such).await?;
        let mut sources = Vec::with_capacity(stored.len());
        for policy in stored.into_iter().filter(|p| !exclusions.excludes(p)) {
            sources.push(self.stored_source(caller, policy).await?);
        }
        let boundary = match kind {
            EntityKind::Group => None,
            _ if exclusions.excludes_boundary() => None,
            _ => match self
                .store
                .permissions_boundary(kind, &entity.id)
                .await
                .map_err(errors::internal)?
            {
                Some((arn, _)) => {
                    let document = self.managed_document(caller, &arn).await?;
                    // Its own id: the same policy may also be attached.
                    let shown_as = policy_name(&arn);
                    let id = format!("boundary {arn}");
                    Some(source(id, shown_as, &document, PolicyKind::Boundary, None)?)
                }
                None => None,
            },
        };
        Ok((sources, boundary))
    }

    /// The identity policies of the user, group or role `arn` names (a user's groups'
    /// too), managed ones with their documents; `no_such` if the account has no such entity.
    pub(super) async fn policies_of(
        &self,
        caller: &Principal,
        arn: &str,
        no_such: ServiceError,
    ) -> Result<(EntityKind, oxiam_store::EntityRef, Vec<StoredPolicy>), ServiceError> {
        let no_such = || no_such.clone();
        let resource = arn
            .strip_prefix(&format!("arn:aws:iam::{}:", caller.account_id))
            .ok_or_else(|| invalid(format!("Invalid ARN: {arn}")))?;
        let (kind, path_and_name) = if let Some(rest) = resource.strip_prefix("user/") {
            (EntityKind::User, rest)
        } else if let Some(rest) = resource.strip_prefix("group/") {
            (EntityKind::Group, rest)
        } else if let Some(rest) = resource.strip_prefix("role/") {
            (EntityKind::Role, rest)
        } else {
            return Err(invalid(format!("Invalid ARN: {arn}")));
        };
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        let entity = self
            .store
            .find_entity(&caller.account_id, kind, name)
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => no_such(),
                e => errors::store(e),
            })?;
        let stored = match kind {
            EntityKind::Group => {
                let inline = self
                    .store
                    .inline_policies(kind, &entity.id)
                    .await
                    .map_err(errors::store)?;
                let attached = self
                    .store
                    .attached_policies(kind, &entity.id)
                    .await
                    .map_err(errors::store)?;
                let mut out: Vec<StoredPolicy> = inline
                    .into_iter()
                    .map(|p| StoredPolicy::Inline {
                        holder: kind,
                        holder_name: entity.name.clone(),
                        name: p.name,
                        document: p.document,
                    })
                    .collect();
                for arn in attached {
                    let document = self.managed_document(caller, &arn).await?;
                    out.push(StoredPolicy::Managed {
                        arn,
                        document: Some(document),
                    });
                }
                out
            }
            _ => self
                .store
                .identity_policies(kind, &entity.id)
                .await
                .map_err(errors::internal)?,
        };
        Ok((kind, entity, stored))
    }

    pub(super) async fn managed_document(&self, caller: &Principal, arn: &str) -> Result<String, ServiceError> {
        match self.managed_policy(caller, arn).await? {
            super::policies::ManagedPolicy::Aws(p) => Ok(p.document.to_owned()),
            super::policies::ManagedPolicy::Customer(p) => Ok(self
                .store
                .get_policy_version(&caller.account_id, &p.arn, p.default_version)
                .await
                .map_err(errors::store)?
                .document),
        }
    }

    async fn stored_source(&self, caller: &Principal, policy: StoredPolicy) -> Result<Source, ServiceError> {
        match policy {
            StoredPolicy::Inline {
                holder,
                holder_name,
                name,
                document,
            } => {
                let kind = match holder {
                    EntityKind::User => PolicySourceType::User,
                    EntityKind::Group => PolicySourceType::Group,
                    EntityKind::Role => PolicySourceType::Role,
                };
                let id = format!("{}/{holder_name}/{name}", holder.as_str());
                let shown_as = format!("{}_{holder_name}_{name}", holder.as_str());
                source(id, shown_as, &document, PolicyKind::Identity, Some(kind))
            }
            StoredPolicy::Managed { arn, document } => {
                let document = match document {
                    Some(d) => d,
                    None => self.managed_document(caller, &arn).await?,
                };
                let kind = if arn.starts_with(oxiam_aws_policies::ARN_PREFIX) {
                    PolicySourceType::AwsManaged
                } else {
                    PolicySourceType::UserManaged
                };
                let shown_as = policy_name(&arn);
                source(arn, shown_as, &document, PolicyKind::Identity, Some(kind))
            }
        }
    }

    fn inputs(list: &[String], kind: PolicyKind, prefix: &str) -> Result<Vec<Source>, ServiceError> {
        list.iter()
            .enumerate()
            .map(|(i, doc)| {
                let id = format!("{prefix}.{}", i + 1);
                source(id.clone(), id, doc, kind, None)
            })
            .collect()
    }

    pub(super) async fn simulate_principal_policy(
        &self,
        caller: &Principal,
        input: SimulatePrincipalPolicyRequest,
    ) -> Result<SimulatePolicyResponse, ServiceError> {
        check_caller_arn(input.caller_arn.as_deref())?;
        super::simulation_options::check_resource_handling(
            input.resource_handling_option.as_deref(),
            input.resource_arns.as_deref(),
        )?;
        let exclusions =
            super::simulation_options::Exclusions::parse(input.policy_exclusion_list.as_deref().unwrap_or_default())?;
        let (mut identity, mut boundary) = self
            .source_policies(caller, &input.policy_source_arn, &exclusions)
            .await?;
        identity.extend(Self::inputs(
            input.policy_input_list.as_deref().unwrap_or_default(),
            PolicyKind::Identity,
            "PolicyInputList",
        )?);
        if let Some(list) = input.permissions_boundary_policy_input_list.as_deref() {
            boundary = Self::inputs(list, PolicyKind::Boundary, "PermissionsBoundaryPolicyInputList")?
                .into_iter()
                .next();
        }
        let caller_arn = input
            .caller_arn
            .clone()
            .unwrap_or_else(|| input.policy_source_arn.clone());
        // The principal is of the caller's account: its organization's SCPs apply, as
        // AWS's simulator applies them (OrganizationsDecisionDetail).
        // Service-linked roles are exempt, as the server exempts them.
        let service_linked = input.policy_source_arn.contains(":role/aws-service-role/");
        let organization = match self.organization(&caller.account_id).await? {
            // Excluded: simulated as if the account were in no organization.
            Some(_) if exclusions.excludes_scps() => None,
            Some(_) if service_linked => Some(Vec::new()),
            Some(state) => Some(crate::authz::compiled_levels(
                &state,
                &caller.account_id,
                crate::organizations::state::SCP,
            )?),
            None => None,
        };
        simulate(
            identity,
            boundary,
            &caller_arn,
            &caller.account_id,
            Shared {
                organization,
                resource_policy: input.resource_policy.as_deref(),
                resource_owner: input.resource_owner.as_deref(),
                actions: &input.action_names,
                resources: input.resource_arns.as_deref(),
                context_entries: input.context_entries.as_deref(),
                max_items: input.max_items,
                marker: input.marker.as_deref(),
            },
        )
    }

    pub(super) async fn simulate_custom_policy(
        &self,
        caller: &Principal,
        input: SimulateCustomPolicyRequest,
    ) -> Result<SimulatePolicyResponse, ServiceError> {
        check_caller_arn(input.caller_arn.as_deref())?;
        super::simulation_options::check_resource_handling(
            input.resource_handling_option.as_deref(),
            input.resource_arns.as_deref(),
        )?;
        let organization = input
            .ordered_organization_policy_input_list
            .as_deref()
            .map(super::simulation_options::organization_levels)
            .transpose()?;
        if input.resource_policy.is_some() && input.caller_arn.is_none() {
            return Err(invalid(
                "A CallerArn must be provided when a ResourcePolicy is included.",
            ));
        }
        let identity = Self::inputs(&input.policy_input_list, PolicyKind::Identity, "PolicyInputList")?;
        let boundary = Self::inputs(
            input
                .permissions_boundary_policy_input_list
                .as_deref()
                .unwrap_or_default(),
            PolicyKind::Boundary,
            "PermissionsBoundaryPolicyInputList",
        )?
        .into_iter()
        .next();
        // Without a caller, the policies are judged as an IAM user of the caller's account.
        let caller_arn = input
            .caller_arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{}:user/simulated", caller.account_id));
        simulate(
            identity,
            boundary,
            &caller_arn,
            &caller.account_id,
            Shared {
                organization,
                resource_policy: input.resource_policy.as_deref(),
                resource_owner: input.resource_owner.as_deref(),
                actions: &input.action_names,
                resources: input.resource_arns.as_deref(),
                context_entries: input.context_entries.as_deref(),
                max_items: input.max_items,
                marker: input.marker.as_deref(),
            },
        )
    }

    pub(super) async fn context_keys_for_principal(
        &self,
        caller: &Principal,
        input: GetContextKeysForPrincipalPolicyRequest,
    ) -> Result<GetContextKeysForPolicyResponse, ServiceError> {
        let (identity, _) = self
            .source_policies(caller, &input.policy_source_arn, &Default::default())
            .await?;
        let mut extra = Self::inputs(
            input.policy_input_list.as_deref().unwrap_or_default(),
            PolicyKind::Identity,
            "PolicyInputList",
        )?;
        extra.extend(identity);
        Ok(GetContextKeysForPolicyResponse {
            context_key_names: Some(union_keys(&extra)),
        })
    }

    pub(super) fn context_keys_for_custom(
        input: GetContextKeysForCustomPolicyRequest,
    ) -> Result<GetContextKeysForPolicyResponse, ServiceError> {
        let sources = Self::inputs(&input.policy_input_list, PolicyKind::Identity, "PolicyInputList")?;
        Ok(GetContextKeysForPolicyResponse {
            context_key_names: Some(union_keys(&sources)),
        })
    }
}

/// SCPs, one level per node of the organization from the root down.
type ScpLevels = Vec<Vec<Arc<CompiledPolicy>>>;

/// What SimulatePrincipalPolicy and SimulateCustomPolicy share.
struct Shared<'a> {
    /// The simulated principal's organization's SCPs (SimulatePrincipalPolicy only: a
    /// custom policy belongs to no principal of an account).
    organization: Option<ScpLevels>,
    resource_policy: Option<&'a str>,
    resource_owner: Option<&'a str>,
    actions: &'a [String],
    resources: Option<&'a [String]>,
    context_entries: Option<&'a [ContextEntry]>,
    max_items: Option<i32>,
    marker: Option<&'a str>,
}

fn simulate(
    identity: Vec<Source>,
    boundary: Option<Source>,
    caller_arn: &str,
    account: &str,
    shared: Shared<'_>,
) -> Result<SimulatePolicyResponse, ServiceError> {
    let resource_policy = match shared.resource_policy {
        Some(doc) => Some(source(
            "ResourcePolicy".to_owned(),
            "ResourcePolicy".to_owned(),
            doc,
            PolicyKind::Resource,
            Some(PolicySourceType::Resource),
        )?),
        None => None,
    };
    Simulation {
        identity,
        boundary,
        resource_policy,
        organization: shared.organization,
        caller_arn,
        account,
        // `ResourceOwner` is an account ARN (`arn:aws:iam::ACCOUNT:root`): its account part.
        resource_owner: shared.resource_owner.and_then(arn_account),
        actions: shared.actions,
        resources: shared
            .resources
            .map_or_else(|| vec!["*".to_owned()], <[String]>::to_vec),
        context: context(shared.context_entries.unwrap_or_default()),
    }
    .run(page_size(shared.max_items), shared.marker)
}

/// The 12-digit account an ARN names, if it names one.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

fn union_keys(sources: &[Source]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for s in sources {
        for k in oxiam_policy::context_keys(&s.parsed) {
            if !keys.iter().any(|x| x.eq_ignore_ascii_case(&k)) {
                keys.push(k);
            }
        }
    }
    keys
}
