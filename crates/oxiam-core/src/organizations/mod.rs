//! AWS Organizations: who may call what, what each request is authorized on, and each
//! operation read from or written to its organization's document (`state.rs`, where the
//! rules are) in one store transaction.
//!
//! An account belongs to at most one organization. Every operation but CreateOrganization
//! and the invited account's own handshake calls acts on the caller's organization; most are
//! for the management account alone, as on AWS (a member gets AccessDeniedException, whatever
//! its IAM policies allow).

pub mod state;

use oxiam_protocol::organizations::{Operation, Request, Response, errors as org_errors};
use oxiam_protocol::{Member, ServiceError, organizations as org};
use oxiam_store::{CreatedAccount, OrganizationRow, OrganizationWrite, StoreError, Subject};

use crate::authz::Access;
use crate::{Oxiam, Principal, errors, ids};
use state::{NOT_PERMITTED, OrgState, error, invalid_input};

/// Every Organizations operation oxiam implements, sorted by name; the rest answer
/// `NotImplemented`.
pub const IMPLEMENTED: &[Operation] = &[
    Operation::AcceptHandshake,
    Operation::AttachPolicy,
    Operation::CreateAccount,
    Operation::CreateOrganization,
    Operation::CreateOrganizationalUnit,
    Operation::CreatePolicy,
    Operation::DeleteOrganization,
    Operation::DeleteOrganizationalUnit,
    Operation::DeletePolicy,
    Operation::DescribeAccount,
    Operation::DescribeCreateAccountStatus,
    Operation::DescribeHandshake,
    Operation::DescribeOrganization,
    Operation::DescribeOrganizationalUnit,
    Operation::DescribePolicy,
    Operation::DetachPolicy,
    Operation::DisableAWSServiceAccess,
    Operation::DisablePolicyType,
    Operation::EnableAWSServiceAccess,
    Operation::EnablePolicyType,
    Operation::InviteAccountToOrganization,
    Operation::LeaveOrganization,
    Operation::ListAWSServiceAccessForOrganization,
    Operation::ListAccounts,
    Operation::ListAccountsForParent,
    Operation::ListChildren,
    Operation::ListCreateAccountStatus,
    Operation::ListHandshakesForAccount,
    Operation::ListHandshakesForOrganization,
    Operation::ListOrganizationalUnitsForParent,
    Operation::ListParents,
    Operation::ListPolicies,
    Operation::ListPoliciesForTarget,
    Operation::ListRoots,
    Operation::ListTagsForResource,
    Operation::ListTargetsForPolicy,
    Operation::MoveAccount,
    Operation::RemoveAccountFromOrganization,
    Operation::TagResource,
    Operation::UntagResource,
    Operation::UpdateOrganizationalUnit,
    Operation::UpdatePolicy,
];

/// The inline policy of the role CreateAccount makes: full administrative permissions.
const ADMINISTRATOR_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The role CreateAccount makes in the new account unless the request names another.
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// A change to an organization failed: in the store, or by Organizations' rules.
pub(crate) enum Failure {
    Store(StoreError),
    Refused(ServiceError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        Failure::Refused(e)
    }
}

impl Failure {
    /// The answer, in Organizations' words.
    pub(crate) fn into_error(self) -> ServiceError {
        match self {
            Failure::Refused(e) => e,
            Failure::Store(StoreError::NotFound {
                subject: Subject::Organization,
                ..
            }) => not_in_use(),
            Failure::Store(e) => errors::internal(e),
        }
    }
}

fn not_in_use() -> ServiceError {
    error(
        org_errors::AWS_ORGANIZATIONS_NOT_IN_USE,
        "Your account is not a member of an organization.",
    )
}

fn not_permitted() -> ServiceError {
    error(org_errors::ACCESS_DENIED, NOT_PERMITTED)
}

/// The email address oxiam gives an account it knows no address for (AWS requires one; an
/// account oxiam's operator made has none): reserved `.invalid`, so never deliverable.
pub fn root_email(account_id: &str) -> String {
    format!("root-{account_id}@oxiam.invalid")
}

pub(crate) fn stored_state(row: &OrganizationRow) -> Result<OrgState, ServiceError> {
    OrgState::from_json(&row.state).map_err(|e| errors::service_failure(&e))
}

/// Who may call an operation: anyone in the organization, or the management account only.
fn management_only(op: Operation) -> bool {
    !matches!(
        op,
        Operation::DescribeOrganization
            | Operation::LeaveOrganization
            | Operation::AcceptHandshake
            | Operation::DeclineHandshake
            | Operation::DescribeHandshake
            | Operation::ListHandshakesForAccount
            | Operation::DescribeEffectivePolicy
    )
}

/// One page of `items` (Organizations pages hold at most 20), and the token of the next.
fn page<T>(
    items: Vec<T>,
    next_token: Option<&str>,
    max_results: Option<i32>,
) -> Result<(Vec<T>, Option<String>), ServiceError> {
    let start = match next_token {
        None => 0,
        Some(token) => token
            .strip_prefix("oxiam-page-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| invalid_input("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken."))?,
    };
    let size = usize::try_from(max_results.unwrap_or(20)).unwrap_or(20).clamp(1, 20);
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("oxiam-page-{end}"));
    Ok((items.into_iter().skip(start).take(size).collect(), next))
}

fn tag_pairs(tags: &Option<Vec<org::Tag>>) -> Vec<(String, String)> {
    tags.iter()
        .flatten()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

impl Oxiam {
    /// The organization `account_id` belongs to, read.
    pub async fn organization(&self, account_id: &str) -> Result<Option<OrgState>, ServiceError> {
        match self.store.organization_of(account_id).await.map_err(errors::internal)? {
            Some(row) => stored_state(&row).map(Some),
            None => Ok(None),
        }
    }

    /// Runs one Organizations operation for `caller`, who has been authorized.
    pub async fn execute_organizations(
        &self,
        caller: &Principal,
        request: Request,
        now: i64,
    ) -> Result<Response, ServiceError> {
        let account = caller.account_id.as_str();
        if !IMPLEMENTED.contains(&request.operation()) {
            return Err(errors::not_implemented(request.operation().name()));
        }
        match request {
            Request::CreateOrganization(i) => return self.create_organization(account, i, now).await,
            Request::AcceptHandshake(i) => return self.accept_handshake(account, &i.handshake_id, now).await,
            Request::ListHandshakesForAccount(i) => return self.handshakes_for_account(account, i, now).await,
            Request::DescribeHandshake(i) => {
                return self.describe_handshake(account, &i.handshake_id, now).await;
            }
            _ => {}
        }
        let row = self
            .store
            .organization_of(account)
            .await
            .map_err(errors::internal)?
            .ok_or_else(not_in_use)?;
        let is_management = row.management_account_id == account;
        let op = request.operation();
        if management_only(op) && !is_management {
            return Err(not_permitted());
        }
        if let Some(answer) = read(&stored_state(&row)?, &request, now)? {
            return Ok(answer);
        }
        if let Request::InviteAccountToOrganization(i) = &request {
            if i.target.r#type != org::HandshakePartyType::Account {
                return Err(invalid_input(
                    "INVALID_PARTY_TYPE_TARGET",
                    "oxiam invites accounts by id: the target's Type must be ACCOUNT.",
                ));
            }
            self.check_invitee(&i.target.id.0).await?;
        }
        let caller_account = account.to_owned();
        self.store
            .change_organization(&row.org_id, |row| {
                let mut state = stored_state(&row)?;
                let mut write = OrganizationWrite::default();
                let answer = change(&mut state, &caller_account, request, now, &mut write)?;
                if !write.delete {
                    write.state = Some(state.to_json());
                }
                Ok::<_, Failure>((write, answer))
            })
            .await
            .map_err(Failure::into_error)
    }

    async fn create_organization(
        &self,
        account: &str,
        input: org::CreateOrganizationRequest,
        now: i64,
    ) -> Result<Response, ServiceError> {
        let feature_set = input.feature_set.map_or("ALL", |f| f.as_str());
        let state = OrgState::new(account, &root_email(account), feature_set, now);
        match self
            .store
            .create_organization(&state.id, account, &state.to_json(), now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => {
                return Err(error(
                    org_errors::ALREADY_IN_ORGANIZATION,
                    "The AWS account is already a member of an organization.",
                ));
            }
            Err(e) => return Err(errors::internal(e)),
        }
        Ok(Response::CreateOrganization(org::CreateOrganizationResponse {
            organization: Some(state.describe()),
        }))
    }

    async fn accept_handshake(&self, account: &str, handshake_id: &str, now: i64) -> Result<Response, ServiceError> {
        let row = self
            .store
            .organization_inviting(handshake_id)
            .await
            .map_err(errors::internal)?
            .ok_or_else(state::handshake_not_found)?;
        let email = root_email(account);
        self.store
            .change_organization(&row.org_id, |row| {
                let mut state = stored_state(&row)?;
                let invitation = state.accept(handshake_id, account, &email, now)?;
                let handshake = state.handshake(&invitation, now);
                let write = OrganizationWrite {
                    state: Some(state.to_json()),
                    joined: vec![account.to_owned()],
                    ..OrganizationWrite::default()
                };
                Ok::<_, Failure>((
                    write,
                    Response::AcceptHandshake(org::AcceptHandshakeResponse {
                        handshake: Some(handshake),
                    }),
                ))
            })
            .await
            .map_err(|failure| match failure {
                Failure::Store(StoreError::Conflict { .. }) => state::already_in_an_organization(),
                other => other.into_error(),
            })
    }

    /// An account can be invited if oxiam holds it and it belongs to no organization (it
    /// could join another meanwhile: accepting then fails, in the store).
    async fn check_invitee(&self, account_id: &str) -> Result<(), ServiceError> {
        match self.store.account_created_at(account_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound { .. }) => {
                return Err(error(
                    org_errors::ACCOUNT_NOT_FOUND,
                    "You specified an account that doesn't exist.",
                ));
            }
            Err(e) => return Err(errors::internal(e)),
        }
        if self
            .store
            .organization_of(account_id)
            .await
            .map_err(errors::internal)?
            .is_some()
        {
            return Err(state::already_in_an_organization());
        }
        Ok(())
    }

    /// DescribeHandshake, by the invited account (in no organization yet, or in this one) or
    /// the management account.
    async fn describe_handshake(&self, account: &str, handshake_id: &str, now: i64) -> Result<Response, ServiceError> {
        let row = self
            .store
            .organization_inviting(handshake_id)
            .await
            .map_err(errors::internal)?
            .ok_or_else(state::handshake_not_found)?;
        let state = stored_state(&row)?;
        let invitation = state.invitation(handshake_id, account)?;
        Ok(Response::DescribeHandshake(org::DescribeHandshakeResponse {
            handshake: Some(state.handshake(invitation, now)),
        }))
    }

    async fn handshakes_for_account(
        &self,
        account: &str,
        input: org::ListHandshakesForAccountRequest,
        now: i64,
    ) -> Result<Response, ServiceError> {
        let mut handshakes = Vec::new();
        for row in self
            .store
            .organizations_inviting(account)
            .await
            .map_err(errors::internal)?
        {
            let state = stored_state(&row)?;
            handshakes.extend(
                state
                    .handshakes
                    .iter()
                    .filter(|h| h.account_id == account)
                    .map(|h| state.handshake(h, now)),
            );
        }
        let (handshakes, next_token) = page(handshakes, input.next_token.as_deref(), input.max_results)?;
        Ok(Response::ListHandshakesForAccount(
            org::ListHandshakesForAccountResponse {
                handshakes: Some(handshakes),
                next_token,
            },
        ))
    }

    /// What an Organizations request is authorized on: `organizations:{Operation}` on each
    /// resource it names (the policy first, then a root, OU, account or handshake), or `*`;
    /// with `organizations:PolicyType`, the request's tags (`aws:RequestTag/…`,
    /// `aws:TagKeys`) and the resource's (`aws:ResourceTag/…`).
    pub async fn organizations_accesses(
        &self,
        caller: &Principal,
        request: &Request,
    ) -> Result<Vec<Access>, ServiceError> {
        let state = self.organization(&caller.account_id).await?;
        let action = format!("organizations:{}", request.operation().name());
        let text = |name: &str| match request.member(name) {
            Some(Member::Text(t)) => Some(t.to_owned()),
            _ => None,
        };
        let mut keys: Vec<(String, Vec<String>)> = Vec::new();
        if let Some(Member::Tags(tags)) = request.member("Tags") {
            for (k, v) in &tags {
                keys.push((format!("aws:RequestTag/{k}"), vec![(*v).to_owned()]));
            }
            keys.push((
                "aws:TagKeys".to_owned(),
                tags.iter().map(|(k, _)| (*k).to_owned()).collect(),
            ));
        }
        if let Some(Member::Texts(tag_keys)) = request.member("TagKeys") {
            keys.push(("aws:TagKeys".to_owned(), tag_keys.to_vec()));
        }
        let mut policy_type = ["Type", "Filter", "PolicyType"].into_iter().find_map(text);
        let mut resources: Vec<(String, Vec<(String, String)>)> = Vec::new();
        if let Some(state) = &state {
            if let Some(policy) = text("PolicyId").and_then(|id| {
                state
                    .policy(&id)
                    .map(|p| (p.policy_type.to_owned(), state.policy_arn(&p), id))
            }) {
                policy_type.get_or_insert(policy.0);
                resources.push((policy.1, state.tags_of(&policy.2).to_vec()));
            }
            for member in [
                "TargetId",
                "ParentId",
                "ChildId",
                "AccountId",
                "OrganizationalUnitId",
                "RootId",
                "ResourceId",
                "SourceParentId",
                "DestinationParentId",
            ] {
                if let Some(id) = text(member) {
                    // A policy named as the resource to tag: its type is the key's value too.
                    let arn = state.node_arn(&id).or_else(|| {
                        state.policy(&id).map(|p| {
                            policy_type.get_or_insert_with(|| p.policy_type.to_owned());
                            state.policy_arn(&p)
                        })
                    });
                    if let Some(arn) = arn {
                        resources.push((arn, state.tags_of(&id).to_vec()));
                    }
                }
            }
            if let Some(id) = text("HandshakeId") {
                resources.push((state.handshake_arn(&id), Vec::new()));
            }
        }
        if let Some(policy_type) = policy_type {
            keys.push(("organizations:PolicyType".to_owned(), vec![policy_type]));
        }
        if resources.is_empty() {
            resources.push(("*".to_owned(), Vec::new()));
        }
        let mut accesses: Vec<Access> = resources
            .into_iter()
            .map(|(arn, tags)| {
                let mut access = Access::new(action.clone(), arn);
                access.keys = keys.clone();
                access
                    .keys
                    .extend(tags.into_iter().map(|(k, v)| (format!("aws:ResourceTag/{k}"), vec![v])));
                access
            })
            .collect();
        // Tags given to what a request creates (CreateAccount, CreateOrganizationalUnit,
        // CreatePolicy, an invitation's handshake) are a tagging too: organizations:TagResource,
        // on what does not exist yet (`*`), with the tags as its request keys.
        if request.operation() != Operation::TagResource
            && matches!(request.member("Tags"), Some(Member::Tags(tags)) if !tags.is_empty())
        {
            let mut tagging = Access::new("organizations:TagResource", "*");
            tagging.keys = keys
                .iter()
                .filter(|(k, _)| k.starts_with("aws:RequestTag/") || k == "aws:TagKeys")
                .cloned()
                .collect();
            accesses.push(tagging);
        }
        Ok(accesses)
    }
}

/// Answers a request that only reads; `None` for one that changes the organization.
fn read(state: &OrgState, request: &Request, now: i64) -> Result<Option<Response>, ServiceError> {
    use Request as R;
    use Response as S;
    Ok(Some(match request {
        R::DescribeOrganization => S::DescribeOrganization(org::DescribeOrganizationResponse {
            organization: Some(state.describe()),
        }),
        R::ListRoots(i) => {
            let (roots, next_token) = page(vec![state.root()], i.next_token.as_deref(), i.max_results)?;
            S::ListRoots(org::ListRootsResponse {
                roots: Some(roots),
                next_token,
            })
        }
        R::DescribeAccount(i) => S::DescribeAccount(org::DescribeAccountResponse {
            account: Some(state.account(state.find_member(&i.account_id)?)),
        }),
        R::ListAccounts(i) => {
            let accounts = state.accounts.iter().map(|a| state.account(a)).collect();
            let (accounts, next_token) = page(accounts, i.next_token.as_deref(), i.max_results)?;
            S::ListAccounts(org::ListAccountsResponse {
                accounts: Some(accounts),
                next_token,
            })
        }
        R::ListAccountsForParent(i) => {
            let (_, members) = state.children(&i.parent_id)?;
            let accounts = members.into_iter().map(|a| state.account(a)).collect();
            let (accounts, next_token) = page(accounts, i.next_token.as_deref(), i.max_results)?;
            S::ListAccountsForParent(org::ListAccountsForParentResponse {
                accounts: Some(accounts),
                next_token,
            })
        }
        R::DescribeCreateAccountStatus(i) => {
            let status = state
                .create_account_statuses
                .iter()
                .find(|s| s.id == i.create_account_request_id)
                .ok_or_else(|| {
                    error(
                        org_errors::CREATE_ACCOUNT_STATUS_NOT_FOUND,
                        "We can't find an create account request with the CreateAccountRequestId that you specified.",
                    )
                })?;
            S::DescribeCreateAccountStatus(org::DescribeCreateAccountStatusResponse {
                create_account_status: Some(OrgState::create_status(status)),
            })
        }
        R::ListCreateAccountStatus(i) => {
            let wanted: Vec<&str> = i.states.iter().flatten().map(|s| s.as_str()).collect();
            let statuses = state
                .create_account_statuses
                .iter()
                .filter(|s| wanted.is_empty() || wanted.contains(&s.state.as_str()))
                .map(OrgState::create_status)
                .collect();
            let (statuses, next_token) = page(statuses, i.next_token.as_deref(), i.max_results)?;
            S::ListCreateAccountStatus(org::ListCreateAccountStatusResponse {
                create_account_statuses: Some(statuses),
                next_token,
            })
        }
        R::DescribeOrganizationalUnit(i) => S::DescribeOrganizationalUnit(org::DescribeOrganizationalUnitResponse {
            organizational_unit: Some(state.organizational_unit(state.find_ou(&i.organizational_unit_id)?)),
        }),
        R::ListOrganizationalUnitsForParent(i) => {
            let (ous, _) = state.children(&i.parent_id)?;
            let ous = ous.into_iter().map(|o| state.organizational_unit(o)).collect();
            let (ous, next_token) = page(ous, i.next_token.as_deref(), i.max_results)?;
            S::ListOrganizationalUnitsForParent(org::ListOrganizationalUnitsForParentResponse {
                organizational_units: Some(ous),
                next_token,
            })
        }
        R::ListChildren(i) => {
            let (ous, accounts) = state.children(&i.parent_id)?;
            let children: Vec<org::Child> = match i.child_type {
                org::ChildType::Account => accounts
                    .into_iter()
                    .map(|a| org::Child {
                        id: Some(a.id.clone()),
                        r#type: Some(org::ChildType::Account),
                    })
                    .collect(),
                org::ChildType::OrganizationalUnit => ous
                    .into_iter()
                    .map(|o| org::Child {
                        id: Some(o.id.clone()),
                        r#type: Some(org::ChildType::OrganizationalUnit),
                    })
                    .collect(),
            };
            let (children, next_token) = page(children, i.next_token.as_deref(), i.max_results)?;
            S::ListChildren(org::ListChildrenResponse {
                children: Some(children),
                next_token,
            })
        }
        R::ListParents(i) => S::ListParents(org::ListParentsResponse {
            parents: Some(vec![state.parent(&i.child_id)?]),
            next_token: None,
        }),
        R::DescribePolicy(i) => S::DescribePolicy(org::DescribePolicyResponse {
            policy: Some(state.full_policy(&state.find_policy(&i.policy_id)?)),
        }),
        R::ListPolicies(i) => {
            let wanted = i.filter.as_str();
            let managed = [state::FULL_AWS_ACCESS, state::RCP_FULL_AWS_ACCESS]
                .into_iter()
                .filter_map(|id| state.policy(id));
            let customer = state.policies.iter().filter_map(|p| state.policy(&p.id));
            let policies = managed
                .chain(customer)
                .filter(|p| p.policy_type == wanted)
                .map(|p| state.summary(&p))
                .collect();
            let (policies, next_token) = page(policies, i.next_token.as_deref(), i.max_results)?;
            S::ListPolicies(org::ListPoliciesResponse {
                policies: Some(policies),
                next_token,
            })
        }
        R::ListPoliciesForTarget(i) => {
            if state.node(&i.target_id).is_none() {
                return Err(error(
                    org_errors::TARGET_NOT_FOUND,
                    "We can't find a root, OU, account, or policy with the TargetId that you specified.",
                ));
            }
            let policies = state
                .attached(&i.target_id, i.filter.as_str())
                .iter()
                .map(|p| state.summary(p))
                .collect();
            let (policies, next_token) = page(policies, i.next_token.as_deref(), i.max_results)?;
            S::ListPoliciesForTarget(org::ListPoliciesForTargetResponse {
                policies: Some(policies),
                next_token,
            })
        }
        R::ListTargetsForPolicy(i) => {
            let (targets, next_token) = page(state.targets_of(&i.policy_id)?, i.next_token.as_deref(), i.max_results)?;
            S::ListTargetsForPolicy(org::ListTargetsForPolicyResponse {
                targets: Some(targets),
                next_token,
            })
        }
        R::ListTagsForResource(i) => {
            let tags = state
                .list_tags(&i.resource_id)?
                .into_iter()
                .map(|(key, value)| org::Tag { key, value })
                .collect();
            let (tags, next_token) = page(tags, i.next_token.as_deref(), None)?;
            S::ListTagsForResource(org::ListTagsForResourceResponse {
                tags: Some(tags),
                next_token,
            })
        }
        R::ListAWSServiceAccessForOrganization(i) => {
            let enabled = state
                .service_access
                .iter()
                .map(|(principal, at)| org::EnabledServicePrincipal {
                    service_principal: Some(principal.clone()),
                    date_enabled: Some(oxiam_protocol::Timestamp(*at)),
                })
                .collect();
            let (enabled, next_token) = page(enabled, i.next_token.as_deref(), i.max_results)?;
            S::ListAWSServiceAccessForOrganization(org::ListAWSServiceAccessForOrganizationResponse {
                enabled_service_principals: Some(enabled),
                next_token,
            })
        }
        R::ListHandshakesForOrganization(i) => {
            let handshakes = state.handshakes.iter().map(|h| state.handshake(h, now)).collect();
            let (handshakes, next_token) = page(handshakes, i.next_token.as_deref(), i.max_results)?;
            S::ListHandshakesForOrganization(org::ListHandshakesForOrganizationResponse {
                handshakes: Some(handshakes),
                next_token,
            })
        }
        _ => return Ok(None),
    }))
}

/// Applies a request that changes the organization, saying in `write` what else the store
/// must do (accounts made, joined or gone).
fn change(
    state: &mut OrgState,
    caller: &str,
    request: Request,
    now: i64,
    write: &mut OrganizationWrite,
) -> Result<Response, ServiceError> {
    use Request as R;
    use Response as S;
    Ok(match request {
        R::DeleteOrganization => {
            state.check_deletable()?;
            write.delete = true;
            write.left.push(state.management_account_id.clone());
            S::DeleteOrganization
        }
        R::CreateAccount(i) => {
            let account_id = ids::account_id();
            let status = state.create_account(&account_id, &i.account_name.0, &i.email.0, &tag_pairs(&i.tags), now)?;
            if status.account_id.is_some() {
                let role_name = i.role_name.as_deref().unwrap_or(ACCESS_ROLE);
                if role_name.starts_with("AWSServiceRoleFor") {
                    return Err(invalid_input(
                        "INVALID_ROLE_NAME",
                        "You provided a role name that isn't valid.",
                    ));
                }
                write.created.push(CreatedAccount {
                    account_id,
                    created_at: now,
                    role_id: ids::role_id(),
                    role_name: role_name.to_owned(),
                    trust_policy: format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
                        state.management_account_id
                    ),
                    inline_policy: (
                        "AdministratorAccess".to_owned(),
                        ADMINISTRATOR_ACCESS.to_owned(),
                        oxiam_policy::size_without_whitespace(ADMINISTRATOR_ACCESS) as i64,
                    ),
                });
            }
            // AWS answers while the account is being made; DescribeCreateAccountStatus
            // tells how it ended (here, at once).
            let mut answered = OrgState::create_status(&status);
            answered.state = Some(org::CreateAccountState::InProgress);
            answered.account_id = None;
            answered.failure_reason = None;
            answered.completed_timestamp = None;
            S::CreateAccount(org::CreateAccountResponse {
                create_account_status: Some(answered),
            })
        }
        R::CreateOrganizationalUnit(i) => S::CreateOrganizationalUnit(org::CreateOrganizationalUnitResponse {
            organizational_unit: Some(state.create_ou(&i.parent_id, &i.name, &tag_pairs(&i.tags))?),
        }),
        R::UpdateOrganizationalUnit(i) => S::UpdateOrganizationalUnit(org::UpdateOrganizationalUnitResponse {
            organizational_unit: Some(state.rename_ou(&i.organizational_unit_id, i.name.as_deref())?),
        }),
        R::DeleteOrganizationalUnit(i) => {
            state.delete_ou(&i.organizational_unit_id)?;
            S::DeleteOrganizationalUnit
        }
        R::MoveAccount(i) => {
            state.move_account(&i.account_id, &i.source_parent_id, &i.destination_parent_id)?;
            S::MoveAccount
        }
        R::EnablePolicyType(i) => S::EnablePolicyType(org::EnablePolicyTypeResponse {
            root: Some(state.enable_policy_type(&i.root_id, i.policy_type.as_str())?),
        }),
        R::DisablePolicyType(i) => S::DisablePolicyType(org::DisablePolicyTypeResponse {
            root: Some(state.disable_policy_type(&i.root_id, i.policy_type.as_str())?),
        }),
        R::CreatePolicy(i) => {
            let created = state.create_policy(
                &i.name,
                &i.description,
                i.r#type.as_str(),
                &i.content,
                &tag_pairs(&i.tags),
            )?;
            let view = state.find_policy(&created.id)?;
            S::CreatePolicy(org::CreatePolicyResponse {
                policy: Some(state.full_policy(&view)),
            })
        }
        R::UpdatePolicy(i) => S::UpdatePolicy(org::UpdatePolicyResponse {
            policy: Some(state.update_policy(
                &i.policy_id,
                i.name.as_deref(),
                i.description.as_deref(),
                i.content.as_deref(),
            )?),
        }),
        R::DeletePolicy(i) => {
            state.delete_policy(&i.policy_id)?;
            S::DeletePolicy
        }
        R::AttachPolicy(i) => {
            state.attach(&i.policy_id, &i.target_id)?;
            S::AttachPolicy
        }
        R::DetachPolicy(i) => {
            state.detach(&i.policy_id, &i.target_id)?;
            S::DetachPolicy
        }
        R::TagResource(i) => {
            state.set_tags(&i.resource_id, &tag_pairs(&Some(i.tags)))?;
            S::TagResource
        }
        R::UntagResource(i) => {
            state.remove_tags(&i.resource_id, &i.tag_keys)?;
            S::UntagResource
        }
        R::InviteAccountToOrganization(i) => {
            // (An account by id: `execute_organizations` checked the target first.)
            let invitation = state.invite(
                &i.target.id.0,
                i.notes.as_ref().map(|n| n.0.as_str()),
                &tag_pairs(&i.tags),
                now,
            )?;
            write
                .invited
                .push((invitation.id.clone(), invitation.account_id.clone()));
            S::InviteAccountToOrganization(org::InviteAccountToOrganizationResponse {
                handshake: Some(state.handshake(&invitation, now)),
            })
        }
        R::EnableAWSServiceAccess(i) => {
            state.enable_service_access(&i.service_principal, now);
            S::EnableAWSServiceAccess
        }
        R::DisableAWSServiceAccess(i) => {
            state.disable_service_access(&i.service_principal);
            S::DisableAWSServiceAccess
        }
        R::RemoveAccountFromOrganization(i) => {
            state.remove_account(&i.account_id)?;
            write.left.push(i.account_id);
            S::RemoveAccountFromOrganization
        }
        R::LeaveOrganization => {
            state.remove_account(caller)?;
            write.left.push(caller.to_owned());
            S::LeaveOrganization
        }
        other => return Err(errors::not_implemented(other.operation().name())),
    })
}
