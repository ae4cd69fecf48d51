//! CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser.

use oxiam_protocol::iam::{
    CreateUserRequest, CreateUserResponse, DeleteUserRequest, GetUserRequest, GetUserResponse, ListUsersRequest,
    ListUsersResponse, UpdateUserRequest, User,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{NewUser, Subject, UserRow};

use super::{page_size, resume_after};
use crate::{Oxiam, Principal, PrincipalKind, errors, ids};

pub(crate) fn user_of(row: &UserRow, with_tags: bool) -> User {
    User {
        path: row.path.clone(),
        user_name: row.name.clone(),
        user_id: row.user_id.clone(),
        arn: ids::user_arn(&row.account_id, &row.path, &row.name),
        create_date: Timestamp(row.created_at),
        password_last_used: None,
        permissions_boundary: None,
        tags: if with_tags {
            crate::tags::to_tags(&row.tags)
        } else {
            None
        },
    }
}

/// Whom an operation "on the user named, else on the caller" acts on (ListAccessKeys,
/// ListMFADevices, GetLoginProfile, …): each operation decides what the root means.
pub(super) enum UserOrRoot {
    /// An IAM user: `(user_id, name)`.
    User(String, String),
    /// The account root, naming no user.
    Root,
}

impl Oxiam {
    /// The user a request names, else the calling user (or the root); a role session,
    /// which is no user, must name one.
    pub(super) async fn user_or_caller(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
    ) -> Result<UserOrRoot, ServiceError> {
        match (user_name, &caller.kind) {
            (Some(name), _) => {
                let user = self
                    .store
                    .get_user(&caller.account_id, name)
                    .await
                    .map_err(errors::store)?;
                Ok(UserOrRoot::User(user.user_id, user.name))
            }
            (None, PrincipalKind::User { user_id, name, .. }) => Ok(UserOrRoot::User(user_id.clone(), name.clone())),
            (None, PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. }) => {
                Err(errors::user_name_required())
            }
            (None, PrincipalKind::Root) => Ok(UserOrRoot::Root),
        }
    }

    pub(super) async fn create_user(
        &self,
        caller: &Principal,
        input: CreateUserRequest,
        now: i64,
    ) -> Result<CreateUserResponse, ServiceError> {
        // The boundary must name an attachable managed policy; it is set in the same write
        // as the user, so a failure leaves no user behind.
        let boundary = match input.permissions_boundary.as_deref() {
            Some(arn) => Some(self.boundary(caller, arn).await?),
            None => None,
        };
        let tags = crate::tags::pairs(input.tags)?;
        let user_id = ids::user_id();
        let row = self
            .store
            .create_user(NewUser {
                account_id: &caller.account_id,
                user_id: &user_id,
                name: &input.user_name,
                path: input.path.as_deref().unwrap_or("/"),
                created_at: now,
                tags: &tags,
                permissions_boundary: boundary,
            })
            .await
            .map_err(|e| match (e, boundary) {
                (
                    oxiam_store::StoreError::NotFound {
                        subject: Subject::Policy,
                        ..
                    },
                    Some(b),
                ) => super::boundaries::not_attachable(b.arn),
                (e, _) => errors::store(e),
            })?;
        let mut user = user_of(&row, true);
        user.permissions_boundary = super::boundaries::attached(input.permissions_boundary.clone());
        Ok(CreateUserResponse { user: Some(user) })
    }

    pub(super) async fn get_user(
        &self,
        caller: &Principal,
        input: GetUserRequest,
    ) -> Result<GetUserResponse, ServiceError> {
        let name = match (&input.user_name, &caller.kind) {
            (Some(name), _) => name.as_str(),
            (None, PrincipalKind::User { name, .. }) => name.as_str(),
            (None, PrincipalKind::Root) => return self.get_root_user(caller).await,
            (None, PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser { .. }) => {
                return Err(errors::user_name_required());
            }
        };
        let row = self
            .store
            .get_user(&caller.account_id, name)
            .await
            .map_err(errors::store)?;
        let mut user = user_of(&row, true);
        user.permissions_boundary =
            super::boundaries::attached(self.boundary_of(oxiam_store::EntityKind::User, &row.user_id).await?);
        Ok(GetUserResponse { user })
    }

    /// GetUser without a name, called by the root: the root "user" (its id is the
    /// account id). AWS leaves out UserName and Path here; the model marks them required,
    /// so oxiam sends them empty (see docs/differences.md).
    async fn get_root_user(&self, caller: &Principal) -> Result<GetUserResponse, ServiceError> {
        let created = self
            .store
            .account_created_at(&caller.account_id)
            .await
            .map_err(errors::store)?;
        Ok(GetUserResponse {
            user: User {
                path: String::new(),
                user_name: String::new(),
                user_id: caller.account_id.clone(),
                arn: ids::root_arn(&caller.account_id),
                create_date: Timestamp(created),
                password_last_used: None,
                permissions_boundary: None,
                tags: None,
            },
        })
    }

    pub(super) async fn list_users(
        &self,
        caller: &Principal,
        input: ListUsersRequest,
    ) -> Result<ListUsersResponse, ServiceError> {
        let after = resume_after(input.marker.as_deref())?;
        let page = self
            .store
            .list_users(
                &caller.account_id,
                input.path_prefix.as_deref().unwrap_or("/"),
                after.as_deref(),
                page_size(input.max_items),
            )
            .await
            .map_err(errors::store)?;
        Ok(ListUsersResponse {
            // ListUsers does not return tags (AWS documents this; GetUser does).
            users: page.items.iter().map(|row| user_of(row, false)).collect(),
            is_truncated: Some(page.next_marker.is_some()),
            marker: page.next_marker,
        })
    }

    pub(super) async fn update_user(&self, caller: &Principal, input: UpdateUserRequest) -> Result<(), ServiceError> {
        self.store
            .update_user(
                &caller.account_id,
                &input.user_name,
                input.new_user_name.as_deref(),
                input.new_path.as_deref(),
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_user(&self, caller: &Principal, input: DeleteUserRequest) -> Result<(), ServiceError> {
        self.store
            .delete_user(&caller.account_id, &input.user_name)
            .await
            .map_err(errors::store)
    }
}
