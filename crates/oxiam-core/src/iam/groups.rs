//! Groups: CreateGroup, GetGroup (with members), ListGroups, ListGroupsForUser,
//! AddUserToGroup, RemoveUserFromGroup, UpdateGroup, DeleteGroup.

use oxiam_protocol::iam::{
    AddUserToGroupRequest, CreateGroupRequest, CreateGroupResponse, DeleteGroupRequest, GetGroupRequest,
    GetGroupResponse, Group, ListGroupsForUserRequest, ListGroupsForUserResponse, ListGroupsRequest,
    ListGroupsResponse, RemoveUserFromGroupRequest, UpdateGroupRequest, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, GroupRow, StoreError};

use super::users::user_of;
use super::{page, page_size, resume_after};
use crate::{Oxiam, Principal, errors, ids};

/// Groups one user may be in.
pub const GROUPS_PER_USER: i64 = 10;

pub(crate) fn group_of(row: &GroupRow) -> Group {
    Group {
        path: row.path.clone(),
        group_name: row.name.clone(),
        group_id: row.group_id.clone(),
        arn: ids::group_arn(&row.account_id, &row.path, &row.name),
        create_date: Timestamp(row.created_at),
    }
}

impl Oxiam {
    pub(super) async fn create_group(
        &self,
        caller: &Principal,
        input: CreateGroupRequest,
        now: i64,
    ) -> Result<CreateGroupResponse, ServiceError> {
        let row = self
            .store
            .create_group(
                &caller.account_id,
                &ids::group_id(),
                &input.group_name,
                input.path.as_deref().unwrap_or("/"),
                now,
            )
            .await
            .map_err(errors::store)?;
        Ok(CreateGroupResponse { group: group_of(&row) })
    }

    pub(super) async fn get_group(
        &self,
        caller: &Principal,
        input: GetGroupRequest,
    ) -> Result<GetGroupResponse, ServiceError> {
        let row = self
            .store
            .get_group(&caller.account_id, &input.group_name)
            .await
            .map_err(errors::store)?;
        let members = self.store.group_members(&row.group_id).await.map_err(errors::store)?;
        let keyed = members
            .iter()
            .map(|u| (u.name.to_ascii_lowercase(), user_of(u, false)))
            .collect();
        let (users, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(GetGroupResponse {
            group: group_of(&row),
            users,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn list_groups(
        &self,
        caller: &Principal,
        input: ListGroupsRequest,
    ) -> Result<ListGroupsResponse, ServiceError> {
        let after = resume_after(input.marker.as_deref())?;
        let page = self
            .store
            .list_groups(
                &caller.account_id,
                input.path_prefix.as_deref().unwrap_or("/"),
                after.as_deref(),
                page_size(input.max_items),
            )
            .await
            .map_err(errors::store)?;
        Ok(ListGroupsResponse {
            groups: page.items.iter().map(group_of).collect(),
            is_truncated: Some(page.next_marker.is_some()),
            marker: page.next_marker,
        })
    }

    pub(super) async fn list_groups_for_user(
        &self,
        caller: &Principal,
        input: ListGroupsForUserRequest,
    ) -> Result<ListGroupsForUserResponse, ServiceError> {
        let user = self.entity(caller, EntityKind::User, &input.user_name).await?;
        let groups = self.store.groups_for_user(&user.id).await.map_err(errors::store)?;
        let keyed = groups
            .iter()
            .map(|g| (g.name.to_ascii_lowercase(), group_of(g)))
            .collect();
        let (groups, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListGroupsForUserResponse {
            groups,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn add_user_to_group(
        &self,
        caller: &Principal,
        input: AddUserToGroupRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let group = self.entity(caller, EntityKind::Group, &input.group_name).await?;
        let user = self.entity(caller, EntityKind::User, &input.user_name).await?;
        self.store
            .add_user_to_group(&group, &user, now, GROUPS_PER_USER)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}"),
                ),
                e => errors::store(e),
            })
    }

    pub(super) async fn remove_user_from_group(
        &self,
        caller: &Principal,
        input: RemoveUserFromGroupRequest,
    ) -> Result<(), ServiceError> {
        let group = self.entity(caller, EntityKind::Group, &input.group_name).await?;
        let user = self.entity(caller, EntityKind::User, &input.user_name).await?;
        // A user who is not a member is removed without complaint, as AWS answers.
        self.store
            .remove_user_from_group(&group, &user)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn update_group(&self, caller: &Principal, input: UpdateGroupRequest) -> Result<(), ServiceError> {
        self.store
            .update_group(
                &caller.account_id,
                &input.group_name,
                input.new_group_name.as_deref(),
                input.new_path.as_deref(),
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_group(&self, caller: &Principal, input: DeleteGroupRequest) -> Result<(), ServiceError> {
        self.store
            .delete_group(&caller.account_id, &input.group_name)
            .await
            .map_err(errors::store)
    }
}
