//! Instance profiles: CreateInstanceProfile, GetInstanceProfile, ListInstanceProfiles,
//! ListInstanceProfilesForRole, AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile,
//! DeleteInstanceProfile, ListInstanceProfileTags (Tag and Untag live with the other tags).

use oxiam_protocol::iam::{
    AddRoleToInstanceProfileRequest, CreateInstanceProfileRequest, CreateInstanceProfileResponse,
    DeleteInstanceProfileRequest, GetInstanceProfileRequest, GetInstanceProfileResponse, InstanceProfile,
    ListInstanceProfileTagsRequest, ListInstanceProfileTagsResponse, ListInstanceProfilesForRoleRequest,
    ListInstanceProfilesForRoleResponse, ListInstanceProfilesRequest, ListInstanceProfilesResponse,
    RemoveRoleFromInstanceProfileRequest, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, InstanceProfileRow, NewInstanceProfile, StoreError};

use super::{page, page_size, resume_after};
use crate::{Oxiam, Principal, errors, ids};

/// Instance profiles one account may hold (AWS's default quota).
pub const INSTANCE_PROFILES_PER_ACCOUNT: i64 = 1000;

/// Roles one instance profile may hold (a quota AWS does not raise).
const ROLES_PER_INSTANCE_PROFILE: i64 = 1;

/// A profile as IAM shows it. Its role is shown as AWS shows roles inside a profile: path,
/// name, id, ARN, creation date and trust policy, nothing of GetRole's extras. `with_tags`:
/// the profile's own tags (GetInstanceProfile, CreateInstanceProfile with tags).
pub(crate) fn instance_profile_of(row: &InstanceProfileRow, with_tags: bool) -> InstanceProfile {
    InstanceProfile {
        path: row.path.clone(),
        instance_profile_name: row.name.clone(),
        instance_profile_id: row.instance_profile_id.clone(),
        arn: ids::instance_profile_arn(&row.account_id, &row.path, &row.name),
        create_date: Timestamp(row.created_at),
        roles: row.roles.iter().map(super::roles::named_role).collect(),
        tags: if with_tags {
            crate::tags::to_tags(&row.tags)
        } else {
            None
        },
    }
}

impl Oxiam {
    pub(super) async fn create_instance_profile(
        &self,
        caller: &Principal,
        input: CreateInstanceProfileRequest,
        now: i64,
    ) -> Result<CreateInstanceProfileResponse, ServiceError> {
        let tags = crate::tags::pairs(input.tags)?;
        let row = self
            .store
            .create_instance_profile(
                NewInstanceProfile {
                    account_id: &caller.account_id,
                    instance_profile_id: &ids::instance_profile_id(),
                    name: &input.instance_profile_name,
                    path: input.path.as_deref().unwrap_or("/"),
                    created_at: now,
                    tags: &tags,
                },
                INSTANCE_PROFILES_PER_ACCOUNT,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for InstanceProfilesPerAccount: {INSTANCE_PROFILES_PER_ACCOUNT}"),
                ),
                e => errors::store(e),
            })?;
        Ok(CreateInstanceProfileResponse {
            instance_profile: instance_profile_of(&row, true),
        })
    }

    pub(super) async fn get_instance_profile(
        &self,
        caller: &Principal,
        input: GetInstanceProfileRequest,
    ) -> Result<GetInstanceProfileResponse, ServiceError> {
        let row = self.instance_profile(caller, &input.instance_profile_name).await?;
        Ok(GetInstanceProfileResponse {
            instance_profile: instance_profile_of(&row, true),
        })
    }

    pub(super) async fn list_instance_profiles(
        &self,
        caller: &Principal,
        input: ListInstanceProfilesRequest,
    ) -> Result<ListInstanceProfilesResponse, ServiceError> {
        let after = resume_after(input.marker.as_deref())?;
        let page = self
            .store
            .list_instance_profiles(
                &caller.account_id,
                input.path_prefix.as_deref().unwrap_or("/"),
                after.as_deref(),
                page_size(input.max_items),
            )
            .await
            .map_err(errors::store)?;
        Ok(ListInstanceProfilesResponse {
            instance_profiles: page.items.iter().map(|p| instance_profile_of(p, false)).collect(),
            is_truncated: Some(page.next_marker.is_some()),
            marker: page.next_marker,
        })
    }

    pub(super) async fn list_instance_profiles_for_role(
        &self,
        caller: &Principal,
        input: ListInstanceProfilesForRoleRequest,
    ) -> Result<ListInstanceProfilesForRoleResponse, ServiceError> {
        let role = self.entity(caller, EntityKind::Role, &input.role_name).await?;
        let profiles = self
            .store
            .instance_profiles_for_role(&role.id)
            .await
            .map_err(errors::store)?;
        let keyed = profiles
            .iter()
            .map(|p| (p.name.to_ascii_lowercase(), instance_profile_of(p, false)))
            .collect();
        let (instance_profiles, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListInstanceProfilesForRoleResponse {
            instance_profiles,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn add_role_to_instance_profile(
        &self,
        caller: &Principal,
        input: AddRoleToInstanceProfileRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let profile = self.instance_profile(caller, &input.instance_profile_name).await?;
        let role = self.entity(caller, EntityKind::Role, &input.role_name).await?;
        self.store
            .add_role_to_instance_profile(&profile, &role, now)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for InstanceSessionsPerInstanceProfile: {ROLES_PER_INSTANCE_PROFILE}"),
                ),
                e => errors::store(e),
            })
    }

    pub(super) async fn remove_role_from_instance_profile(
        &self,
        caller: &Principal,
        input: RemoveRoleFromInstanceProfileRequest,
    ) -> Result<(), ServiceError> {
        let profile = self.instance_profile(caller, &input.instance_profile_name).await?;
        let role = self.entity(caller, EntityKind::Role, &input.role_name).await?;
        self.store
            .remove_role_from_instance_profile(&profile, &role)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_instance_profile(
        &self,
        caller: &Principal,
        input: DeleteInstanceProfileRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_instance_profile(&caller.account_id, &input.instance_profile_name)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_instance_profile_tags(
        &self,
        caller: &Principal,
        input: ListInstanceProfileTagsRequest,
    ) -> Result<ListInstanceProfileTagsResponse, ServiceError> {
        let row = self.instance_profile(caller, &input.instance_profile_name).await?;
        let (tags, truncated, marker) = super::tag_page(&row.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListInstanceProfileTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }

    /// The instance profile `name` in the caller's account.
    async fn instance_profile(&self, caller: &Principal, name: &str) -> Result<InstanceProfileRow, ServiceError> {
        self.store
            .get_instance_profile(&caller.account_id, name)
            .await
            .map_err(errors::store)
    }
}
