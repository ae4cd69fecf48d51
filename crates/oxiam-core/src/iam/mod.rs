//! The IAM operations oxiam implements, and the action and resource each one is
//! authorized for. Every other operation of the model answers `NotImplemented`.

mod access_keys;
mod account;
mod attachments;
mod authorization_details;
mod boundaries;
mod groups;
mod policies;
mod roles;
mod simulator;
mod tagging;
mod users;

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    GetGroupPolicyResponse, GetRolePolicyResponse, GetUserPolicyResponse, ListAttachedGroupPoliciesResponse,
    ListAttachedRolePoliciesResponse, ListAttachedUserPoliciesResponse, ListGroupPoliciesResponse,
    ListRolePoliciesResponse, ListUserPoliciesResponse, Request, Response,
};
use oxiam_store::{EntityKind, TagOwner};

use crate::authz::Access;
use crate::{Oxiam, Principal, errors, ids};

/// `MaxItems` when a request gives none, as in AWS.
const DEFAULT_MAX_ITEMS: usize = 100;

/// The action and resource AWS's service authorization reference gives for a request.
pub fn access(principal: &Principal, request: &Request) -> Access {
    let account = &principal.account_id;
    use Request as R;
    // (resource ARN, how AccessDenied names it) for an operation on a named entity.
    let user = |name: Option<&String>| match (name, principal.user_name()) {
        (Some(name), _) => (ids::user_arn(account, "/", name), Some(format!("user {name}"))),
        (None, Some(name)) => (principal.arn(), Some(format!("user {name}"))),
        (None, None) => (ids::root_arn(account), None),
    };
    let role = |name: &str| (ids::role_arn(account, "/", name), Some(format!("role {name}")));
    let group = |name: &str| (ids::group_arn(account, "/", name), Some(format!("group {name}")));
    let policy = |arn: &str| (arn.to_owned(), Some(format!("policy {arn}")));
    let under = |kind: &str, prefix: Option<&String>| {
        (
            format!("arn:aws:iam::{account}:{kind}{}", prefix.map_or("/", String::as_str)),
            None,
        )
    };
    let (resource, shown_as) = match request {
        R::CreateUser(i) => (
            ids::user_arn(account, i.path.as_deref().unwrap_or("/"), &i.user_name),
            None,
        ),
        R::ListUsers(i) => under("user", i.path_prefix.as_ref()),
        R::GetUser(i) => user(i.user_name.as_ref()),
        R::UpdateUser(i) => user(Some(&i.user_name)),
        R::DeleteUser(i) => user(Some(&i.user_name)),
        R::CreateAccessKey(i) => user(i.user_name.as_ref()),
        R::ListAccessKeys(i) => user(i.user_name.as_ref()),
        R::UpdateAccessKey(i) => user(i.user_name.as_ref()),
        R::DeleteAccessKey(i) => user(i.user_name.as_ref()),
        R::GetAccessKeyLastUsed(_) => user(None),
        R::AttachUserPolicy(i) => user(Some(&i.user_name)),
        R::DetachUserPolicy(i) => user(Some(&i.user_name)),
        R::ListAttachedUserPolicies(i) => user(Some(&i.user_name)),
        R::PutUserPolicy(i) => user(Some(&i.user_name)),
        R::PutUserPermissionsBoundary(i) => user(Some(&i.user_name)),
        R::DeleteUserPermissionsBoundary(i) => user(Some(&i.user_name)),
        R::GetUserPolicy(i) => user(Some(&i.user_name)),
        R::ListUserPolicies(i) => user(Some(&i.user_name)),
        R::DeleteUserPolicy(i) => user(Some(&i.user_name)),
        R::ListGroupsForUser(i) => user(Some(&i.user_name)),
        R::TagUser(i) => user(Some(&i.user_name)),
        R::UntagUser(i) => user(Some(&i.user_name)),
        R::ListUserTags(i) => user(Some(&i.user_name)),
        R::CreateRole(i) => (
            ids::role_arn(account, i.path.as_deref().unwrap_or("/"), &i.role_name),
            None,
        ),
        R::ListRoles(i) => under("role", i.path_prefix.as_ref()),
        R::GetRole(i) => role(&i.role_name),
        R::UpdateRole(i) => role(&i.role_name),
        R::UpdateRoleDescription(i) => role(&i.role_name),
        R::UpdateAssumeRolePolicy(i) => role(&i.role_name),
        R::DeleteRole(i) => role(&i.role_name),
        R::ListRoleTags(i) => role(&i.role_name),
        R::TagRole(i) => role(&i.role_name),
        R::UntagRole(i) => role(&i.role_name),
        R::AttachRolePolicy(i) => role(&i.role_name),
        R::DetachRolePolicy(i) => role(&i.role_name),
        R::ListAttachedRolePolicies(i) => role(&i.role_name),
        R::PutRolePolicy(i) => role(&i.role_name),
        R::PutRolePermissionsBoundary(i) => role(&i.role_name),
        R::DeleteRolePermissionsBoundary(i) => role(&i.role_name),
        R::GetRolePolicy(i) => role(&i.role_name),
        R::ListRolePolicies(i) => role(&i.role_name),
        R::DeleteRolePolicy(i) => role(&i.role_name),
        R::CreateGroup(i) => (
            ids::group_arn(account, i.path.as_deref().unwrap_or("/"), &i.group_name),
            None,
        ),
        R::ListGroups(i) => under("group", i.path_prefix.as_ref()),
        R::GetGroup(i) => group(&i.group_name),
        R::UpdateGroup(i) => group(&i.group_name),
        R::DeleteGroup(i) => group(&i.group_name),
        R::AddUserToGroup(i) => group(&i.group_name),
        R::RemoveUserFromGroup(i) => group(&i.group_name),
        R::AttachGroupPolicy(i) => group(&i.group_name),
        R::DetachGroupPolicy(i) => group(&i.group_name),
        R::ListAttachedGroupPolicies(i) => group(&i.group_name),
        R::PutGroupPolicy(i) => group(&i.group_name),
        R::GetGroupPolicy(i) => group(&i.group_name),
        R::ListGroupPolicies(i) => group(&i.group_name),
        R::DeleteGroupPolicy(i) => group(&i.group_name),
        R::CreatePolicy(i) => (
            ids::policy_arn(account, i.path.as_deref().unwrap_or("/"), &i.policy_name),
            None,
        ),
        R::ListPolicies(i) => under("policy", i.path_prefix.as_ref()),
        R::GetPolicy(i) => policy(&i.policy_arn),
        R::DeletePolicy(i) => policy(&i.policy_arn),
        R::CreatePolicyVersion(i) => policy(&i.policy_arn),
        R::GetPolicyVersion(i) => policy(&i.policy_arn),
        R::ListPolicyVersions(i) => policy(&i.policy_arn),
        R::SetDefaultPolicyVersion(i) => policy(&i.policy_arn),
        R::DeletePolicyVersion(i) => policy(&i.policy_arn),
        R::ListEntitiesForPolicy(i) => policy(&i.policy_arn),
        R::ListPolicyTags(i) => policy(&i.policy_arn),
        R::TagPolicy(i) => policy(&i.policy_arn),
        R::UntagPolicy(i) => policy(&i.policy_arn),
        _ => ("*".to_owned(), None),
    };
    Access {
        action: format!("iam:{}", request.operation().name()),
        resource,
        shown_as,
        keys: Vec::new(),
    }
}

impl Oxiam {
    /// The action and resource of a request, with the real path of the user, role or
    /// group it names: `access` writes `user/NAME`, but IAM authorizes
    /// `user/PATH/NAME`, so a policy on `user/team/*` must see the path. One indexed
    /// lookup, only for operations on an existing named entity.
    pub async fn access_with_paths(&self, principal: &Principal, request: &Request) -> Result<Access, ServiceError> {
        let mut access = access(principal, request);
        // The root user may do anything in its account, wherever the entity lives: no
        // policy of its own can tell paths apart, so the lookup would be wasted.
        if matches!(principal.kind, crate::PrincipalKind::Root) {
            return Ok(access);
        }
        let prefix = format!("arn:aws:iam::{}:", principal.account_id);
        let named = access.resource.strip_prefix(&prefix).and_then(|rest| {
            let (kind, name) = rest.split_once('/')?;
            let kind = match kind {
                "user" => EntityKind::User,
                "role" => EntityKind::Role,
                "group" => EntityKind::Group,
                _ => return None,
            };
            // Only the `KIND/NAME` form `access` writes for existing entities; Create*
            // resources already carry the requested path.
            (!name.contains('/')).then(|| (kind, name.to_owned()))
        });
        if let Some((kind, name)) = named {
            match self.store.find_entity(&principal.account_id, kind, &name).await {
                Ok(entity) => {
                    access.resource = format!("{prefix}{}{}{}", kind.as_str(), entity.path, entity.name);
                }
                // A missing entity is the operation's NoSuchEntity to report, after authorization.
                Err(oxiam_store::StoreError::NotFound) => {}
                Err(e) => return Err(errors::internal(e)),
            }
        }
        Ok(access)
    }

    /// Runs one authorized IAM request.
    pub async fn execute_iam(&self, caller: &Principal, request: Request, now: i64) -> Result<Response, ServiceError> {
        use EntityKind::{Group, Role, User};
        use Request as R;
        use Response as S;
        Ok(match request {
            // users and keys
            R::CreateUser(i) => S::CreateUser(self.create_user(caller, i, now).await?),
            R::GetUser(i) => S::GetUser(self.get_user(caller, i).await?),
            R::ListUsers(i) => S::ListUsers(self.list_users(caller, i).await?),
            R::UpdateUser(i) => self.update_user(caller, i).await.map(|()| S::UpdateUser)?,
            R::DeleteUser(i) => self.delete_user(caller, i).await.map(|()| S::DeleteUser)?,
            R::CreateAccessKey(i) => S::CreateAccessKey(self.create_access_key(caller, i, now).await?),
            R::ListAccessKeys(i) => S::ListAccessKeys(self.list_access_keys(caller, i).await?),
            R::UpdateAccessKey(i) => self.update_access_key(caller, i).await.map(|()| S::UpdateAccessKey)?,
            R::DeleteAccessKey(i) => self.delete_access_key(caller, i).await.map(|()| S::DeleteAccessKey)?,
            R::GetAccessKeyLastUsed(i) => S::GetAccessKeyLastUsed(self.get_access_key_last_used(caller, i).await?),
            // managed policies
            R::CreatePolicy(i) => S::CreatePolicy(self.create_policy(caller, i, now).await?),
            R::GetPolicy(i) => S::GetPolicy(self.get_policy(caller, i).await?),
            R::ListPolicies(i) => S::ListPolicies(self.list_policies(caller, i).await?),
            R::DeletePolicy(i) => self.delete_policy(caller, i).await.map(|()| S::DeletePolicy)?,
            R::CreatePolicyVersion(i) => S::CreatePolicyVersion(self.create_policy_version(caller, i, now).await?),
            R::GetPolicyVersion(i) => S::GetPolicyVersion(self.get_policy_version(caller, i).await?),
            R::ListPolicyVersions(i) => S::ListPolicyVersions(self.list_policy_versions(caller, i).await?),
            R::SetDefaultPolicyVersion(i) => self
                .set_default_policy_version(caller, i, now)
                .await
                .map(|()| S::SetDefaultPolicyVersion)?,
            R::DeletePolicyVersion(i) => self
                .delete_policy_version(caller, i)
                .await
                .map(|()| S::DeletePolicyVersion)?,
            R::ListEntitiesForPolicy(i) => S::ListEntitiesForPolicy(self.list_entities_for_policy(caller, i).await?),
            R::ListPolicyTags(i) => S::ListPolicyTags(self.list_policy_tags(caller, i).await?),
            // roles
            R::CreateRole(i) => S::CreateRole(self.create_role(caller, i, now).await?),
            R::GetRole(i) => S::GetRole(self.get_role(caller, i).await?),
            R::ListRoles(i) => S::ListRoles(self.list_roles(caller, i).await?),
            R::UpdateRole(i) => S::UpdateRole(self.update_role(caller, i).await?),
            R::UpdateRoleDescription(i) => S::UpdateRoleDescription(self.update_role_description(caller, i).await?),
            R::UpdateAssumeRolePolicy(i) => self
                .update_assume_role_policy(caller, i)
                .await
                .map(|()| S::UpdateAssumeRolePolicy)?,
            R::DeleteRole(i) => self.delete_role(caller, i).await.map(|()| S::DeleteRole)?,
            R::ListRoleTags(i) => S::ListRoleTags(self.list_role_tags(caller, i).await?),
            // groups
            R::CreateGroup(i) => S::CreateGroup(self.create_group(caller, i, now).await?),
            R::GetGroup(i) => S::GetGroup(self.get_group(caller, i).await?),
            R::ListGroups(i) => S::ListGroups(self.list_groups(caller, i).await?),
            R::ListGroupsForUser(i) => S::ListGroupsForUser(self.list_groups_for_user(caller, i).await?),
            R::AddUserToGroup(i) => self
                .add_user_to_group(caller, i, now)
                .await
                .map(|()| S::AddUserToGroup)?,
            R::RemoveUserFromGroup(i) => self
                .remove_user_from_group(caller, i)
                .await
                .map(|()| S::RemoveUserFromGroup)?,
            R::UpdateGroup(i) => self.update_group(caller, i).await.map(|()| S::UpdateGroup)?,
            R::DeleteGroup(i) => self.delete_group(caller, i).await.map(|()| S::DeleteGroup)?,
            // attached managed policies
            R::AttachUserPolicy(i) => self
                .attach_policy(caller, User, &i.user_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachUserPolicy)?,
            R::AttachGroupPolicy(i) => self
                .attach_policy(caller, Group, &i.group_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachGroupPolicy)?,
            R::AttachRolePolicy(i) => self
                .attach_policy(caller, Role, &i.role_name, &i.policy_arn, now)
                .await
                .map(|()| S::AttachRolePolicy)?,
            R::DetachUserPolicy(i) => self
                .detach_policy(caller, User, &i.user_name, &i.policy_arn)
                .await
                .map(|()| S::DetachUserPolicy)?,
            R::DetachGroupPolicy(i) => self
                .detach_policy(caller, Group, &i.group_name, &i.policy_arn)
                .await
                .map(|()| S::DetachGroupPolicy)?,
            R::DetachRolePolicy(i) => self
                .detach_policy(caller, Role, &i.role_name, &i.policy_arn)
                .await
                .map(|()| S::DetachRolePolicy)?,
            R::ListAttachedUserPolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        User,
                        &i.user_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedUserPolicies(ListAttachedUserPoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListAttachedGroupPolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        Group,
                        &i.group_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedGroupPolicies(ListAttachedGroupPoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListAttachedRolePolicies(i) => {
                let (attached_policies, truncated, marker) = self
                    .list_attached_policies(
                        caller,
                        Role,
                        &i.role_name,
                        i.path_prefix.as_deref(),
                        i.marker.as_deref(),
                        i.max_items,
                    )
                    .await?;
                S::ListAttachedRolePolicies(ListAttachedRolePoliciesResponse {
                    attached_policies: Some(attached_policies),
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            // inline policies
            R::PutUserPolicy(i) => self
                .put_inline_policy(caller, User, &i.user_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutUserPolicy)?,
            R::PutGroupPolicy(i) => self
                .put_inline_policy(caller, Group, &i.group_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutGroupPolicy)?,
            R::PutRolePolicy(i) => self
                .put_inline_policy(caller, Role, &i.role_name, &i.policy_name, &i.policy_document)
                .await
                .map(|()| S::PutRolePolicy)?,
            R::GetUserPolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, User, &i.user_name, &i.policy_name)
                    .await?;
                S::GetUserPolicy(GetUserPolicyResponse {
                    user_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::GetGroupPolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, Group, &i.group_name, &i.policy_name)
                    .await?;
                S::GetGroupPolicy(GetGroupPolicyResponse {
                    group_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::GetRolePolicy(i) => {
                let (entity, policy) = self
                    .get_inline_policy(caller, Role, &i.role_name, &i.policy_name)
                    .await?;
                S::GetRolePolicy(GetRolePolicyResponse {
                    role_name: entity.name,
                    policy_name: policy.name,
                    policy_document: policy.document,
                })
            }
            R::ListUserPolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, User, &i.user_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListUserPolicies(ListUserPoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListGroupPolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, Group, &i.group_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListGroupPolicies(ListGroupPoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::ListRolePolicies(i) => {
                let (policy_names, truncated, marker) = self
                    .list_inline_policies(caller, Role, &i.role_name, i.marker.as_deref(), i.max_items)
                    .await?;
                S::ListRolePolicies(ListRolePoliciesResponse {
                    policy_names,
                    is_truncated: Some(truncated),
                    marker,
                })
            }
            R::DeleteUserPolicy(i) => self
                .delete_inline_policy(caller, User, &i.user_name, &i.policy_name)
                .await
                .map(|()| S::DeleteUserPolicy)?,
            R::DeleteGroupPolicy(i) => self
                .delete_inline_policy(caller, Group, &i.group_name, &i.policy_name)
                .await
                .map(|()| S::DeleteGroupPolicy)?,
            R::DeleteRolePolicy(i) => self
                .delete_inline_policy(caller, Role, &i.role_name, &i.policy_name)
                .await
                .map(|()| S::DeleteRolePolicy)?,
            // permissions boundaries
            R::PutUserPermissionsBoundary(i) => self
                .put_boundary(caller, User, &i.user_name, &i.permissions_boundary)
                .await
                .map(|()| S::PutUserPermissionsBoundary)?,
            R::PutRolePermissionsBoundary(i) => self
                .put_boundary(caller, Role, &i.role_name, &i.permissions_boundary)
                .await
                .map(|()| S::PutRolePermissionsBoundary)?,
            R::DeleteUserPermissionsBoundary(i) => self
                .delete_boundary(caller, User, &i.user_name)
                .await
                .map(|()| S::DeleteUserPermissionsBoundary)?,
            R::DeleteRolePermissionsBoundary(i) => self
                .delete_boundary(caller, Role, &i.role_name)
                .await
                .map(|()| S::DeleteRolePermissionsBoundary)?,
            // tags
            R::TagUser(i) => self
                .change_tags(caller, TagOwner::User, &i.user_name, i.tags, Vec::new())
                .await
                .map(|()| S::TagUser)?,
            R::UntagUser(i) => self
                .change_tags(caller, TagOwner::User, &i.user_name, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagUser)?,
            R::TagRole(i) => self
                .change_tags(caller, TagOwner::Role, &i.role_name, i.tags, Vec::new())
                .await
                .map(|()| S::TagRole)?,
            R::UntagRole(i) => self
                .change_tags(caller, TagOwner::Role, &i.role_name, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagRole)?,
            R::TagPolicy(i) => self
                .change_tags(caller, TagOwner::Policy, &i.policy_arn, i.tags, Vec::new())
                .await
                .map(|()| S::TagPolicy)?,
            R::UntagPolicy(i) => self
                .change_tags(caller, TagOwner::Policy, &i.policy_arn, Vec::new(), i.tag_keys)
                .await
                .map(|()| S::UntagPolicy)?,
            R::ListUserTags(i) => S::ListUserTags(self.list_user_tags(caller, i).await?),
            // the policy simulator
            R::SimulatePrincipalPolicy(i) => {
                S::SimulatePrincipalPolicy(self.simulate_principal_policy(caller, i).await?)
            }
            R::SimulateCustomPolicy(i) => S::SimulateCustomPolicy(self.simulate_custom_policy(caller, i).await?),
            R::GetContextKeysForPrincipalPolicy(i) => {
                S::GetContextKeysForPrincipalPolicy(self.context_keys_for_principal(caller, i).await?)
            }
            R::GetContextKeysForCustomPolicy(i) => S::GetContextKeysForCustomPolicy(Self::context_keys_for_custom(i)?),
            // the account
            R::CreateAccountAlias(i) => self
                .create_account_alias(caller, i)
                .await
                .map(|()| S::CreateAccountAlias)?,
            R::ListAccountAliases(i) => S::ListAccountAliases(self.list_account_aliases(caller, i).await?),
            R::DeleteAccountAlias(i) => self
                .delete_account_alias(caller, i)
                .await
                .map(|()| S::DeleteAccountAlias)?,
            R::GetAccountSummary => S::GetAccountSummary(self.get_account_summary(caller).await?),
            R::GenerateCredentialReport => {
                S::GenerateCredentialReport(self.generate_credential_report(caller, now).await?)
            }
            R::GetCredentialReport => S::GetCredentialReport(self.get_credential_report(caller, now).await?),
            R::GetAccountAuthorizationDetails(i) => {
                S::GetAccountAuthorizationDetails(self.get_account_authorization_details(caller, i).await?)
            }
            other => {
                return Err(errors::not_implemented(&format!(
                    "the IAM operation {}",
                    other.operation().name()
                )));
            }
        })
    }
}

/// `MaxItems`, defaulted.
fn page_size(max_items: Option<i32>) -> usize {
    max_items.map_or(DEFAULT_MAX_ITEMS, |n| n.max(1) as usize)
}

/// The sort key a `Marker` resumes after; a marker oxiam did not issue is a bad request.
fn resume_after(marker: Option<&str>) -> Result<Option<String>, ServiceError> {
    marker
        .map(|m| oxiam_store::marker::decode(m).ok_or_else(invalid_marker))
        .transpose()
}

fn invalid_marker() -> ServiceError {
    ServiceError::new(oxiam_protocol::iam::errors::INVALID_INPUT, "Invalid Marker.")
}

/// One page of an in-memory listing: the items whose key sorts after the marker's key,
/// whether more follow, and the marker for the next page. Sorting here (not trusting the
/// caller's order) is what keeps each item on exactly one page. Used where the whole list
/// is small by quota (a user's keys, an entity's policies, a group's members).
fn page<T>(
    mut keyed: Vec<(String, T)>,
    marker: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, bool, Option<String>), ServiceError> {
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let after = resume_after(marker)?;
    let mut rest = keyed
        .into_iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|a| key > a))
        .peekable();
    let mut items = Vec::new();
    let mut last = None;
    while items.len() < size {
        match rest.next() {
            Some((key, item)) => {
                last = Some(key);
                items.push(item);
            }
            None => break,
        }
    }
    let truncated = rest.peek().is_some();
    Ok((
        items,
        truncated,
        if truncated {
            last.map(|k| oxiam_store::marker::encode(&k))
        } else {
            None
        },
    ))
}
