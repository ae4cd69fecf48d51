//! Roles: CreateRole, GetRole, ListRoles, UpdateRole, UpdateRoleDescription,
//! UpdateAssumeRolePolicy, DeleteRole, ListRoleTags.

use oxiam_protocol::iam::{
    CreateRoleRequest, CreateRoleResponse, DeleteRoleRequest, GetRoleRequest, GetRoleResponse, ListRoleTagsRequest,
    ListRoleTagsResponse, ListRolesRequest, ListRolesResponse, Role, RoleLastUsed, UpdateAssumeRolePolicyRequest,
    UpdateRoleDescriptionRequest, UpdateRoleDescriptionResponse, UpdateRoleRequest, UpdateRoleResponse,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{NewRole, RoleRow, StoreError, Subject};

use super::{page_size, resume_after};
use crate::{Oxiam, Principal, documents, errors, ids};

/// A role's sessions last an hour unless the role allows longer.
const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// `full`: GetRole's view (tags, last use, boundary); ListRoles leaves those out, as its
/// API reference says ("does not return … PermissionsBoundary, RoleLastUsed, Tags").
pub(crate) fn role_of(row: &RoleRow, full: bool) -> Role {
    Role {
        path: row.path.clone(),
        role_name: row.name.clone(),
        role_id: row.role_id.clone(),
        arn: ids::role_arn(&row.account_id, &row.path, &row.name),
        create_date: Timestamp(row.created_at),
        assume_role_policy_document: Some(row.trust_policy.clone()),
        description: row.description.clone(),
        max_session_duration: Some(row.max_session_duration as i32),
        max_signin_session_duration: None,
        permissions_boundary: if full {
            super::boundaries::attached(row.permissions_boundary.clone())
        } else {
            None
        },
        tags: if full { crate::tags::to_tags(&row.tags) } else { None },
        role_last_used: full.then(|| RoleLastUsed {
            last_used_date: row.last_used.as_ref().map(|(at, _)| Timestamp(*at)),
            region: row.last_used.as_ref().map(|(_, region)| region.clone()),
        }),
        // GetRole's alone: AcquireRole's answer leaves it out, as AWS's does.
        source_role_template: if full {
            row.source_template
                .as_ref()
                .map(|t| oxiam_protocol::iam::SourceRoleTemplate {
                    template_arn: t.arn.clone(),
                    template_minor_version: t.minor_version as i32,
                })
        } else {
            None
        },
    }
}

/// A role as AWS names it inside another answer (an instance profile's roles, AcquireRole's
/// answer): its path, name, id, ARN, creation date and trust policy, nothing of GetRole's extras.
pub(crate) fn named_role(row: &RoleRow) -> Role {
    Role {
        path: row.path.clone(),
        role_name: row.name.clone(),
        role_id: row.role_id.clone(),
        arn: ids::role_arn(&row.account_id, &row.path, &row.name),
        create_date: Timestamp(row.created_at),
        assume_role_policy_document: Some(row.trust_policy.clone()),
        description: None,
        max_session_duration: None,
        max_signin_session_duration: None,
        permissions_boundary: None,
        tags: None,
        role_last_used: None,
        source_role_template: None,
    }
}

/// A role as the answer to creating it or changing its description: AWS leaves out the
/// session duration and last use there (GetRole has them).
fn changed_role(row: &RoleRow) -> Role {
    Role {
        max_session_duration: None,
        role_last_used: None,
        ..role_of(row, true)
    }
}

impl Oxiam {
    pub(super) async fn create_role(
        &self,
        caller: &Principal,
        input: CreateRoleRequest,
        now: i64,
    ) -> Result<CreateRoleResponse, ServiceError> {
        if input
            .path
            .as_deref()
            .is_some_and(|p| p.starts_with(super::SERVICE_ROLE_PATH))
        {
            return Err(ServiceError::new(
                oxiam_protocol::iam::errors::INVALID_INPUT,
                "Path prefix '/aws-service-role/' can only be used for AWS Service linked Roles",
            ));
        }
        // The boundary must name an attachable managed policy; it is set in the same write
        // as the role, so a failure leaves no role behind.
        let boundary = match input.permissions_boundary.as_deref() {
            Some(arn) => Some(self.boundary(caller, arn).await?),
            None => None,
        };
        documents::validate_trust(&input.assume_role_policy_document)?;
        let tags = crate::tags::pairs(input.tags)?;
        let role_id = ids::role_id();
        let row = self
            .store
            .create_role(NewRole {
                account_id: &caller.account_id,
                role_id: &role_id,
                name: &input.role_name,
                path: input.path.as_deref().unwrap_or("/"),
                trust_policy: &input.assume_role_policy_document,
                description: input.description.as_deref(),
                max_session_duration: input
                    .max_session_duration
                    .map_or(DEFAULT_MAX_SESSION_DURATION, i64::from),
                created_at: now,
                tags: &tags,
                permissions_boundary: boundary,
                attached_policies: &[],
                service_linked: false,
                inline_policies: &[],
                source_template: None,
            })
            .await
            .map_err(|e| match (e, boundary) {
                (
                    StoreError::NotFound {
                        subject: Subject::Policy,
                        ..
                    },
                    Some(b),
                ) => super::boundaries::not_attachable(b.arn),
                (e, _) => errors::store(e),
            })?;
        let row = RoleRow {
            permissions_boundary: input.permissions_boundary,
            ..row
        };
        Ok(CreateRoleResponse {
            role: changed_role(&row),
        })
    }

    pub(super) async fn get_role(
        &self,
        caller: &Principal,
        input: GetRoleRequest,
    ) -> Result<GetRoleResponse, ServiceError> {
        self.flush_usage_before_read().await;
        let row = self
            .store
            .get_role(&caller.account_id, &input.role_name)
            .await
            .map_err(errors::store)?;
        Ok(GetRoleResponse {
            role: role_of(&row, true),
        })
    }

    pub(super) async fn list_roles(
        &self,
        caller: &Principal,
        input: ListRolesRequest,
    ) -> Result<ListRolesResponse, ServiceError> {
        let after = resume_after(input.marker.as_deref())?;
        let page = self
            .store
            .list_roles(
                &caller.account_id,
                input.path_prefix.as_deref().unwrap_or("/"),
                after.as_deref(),
                page_size(input.max_items),
            )
            .await
            .map_err(errors::store)?;
        Ok(ListRolesResponse {
            roles: page.items.iter().map(|r| role_of(r, false)).collect(),
            is_truncated: Some(page.next_marker.is_some()),
            marker: page.next_marker,
        })
    }

    pub(super) async fn update_role(
        &self,
        caller: &Principal,
        input: UpdateRoleRequest,
    ) -> Result<UpdateRoleResponse, ServiceError> {
        self.store
            .update_role(
                &caller.account_id,
                &input.role_name,
                input.description.as_deref(),
                input.max_session_duration.map(i64::from),
            )
            .await
            .map_err(errors::store)?;
        Ok(UpdateRoleResponse {})
    }

    pub(super) async fn update_role_description(
        &self,
        caller: &Principal,
        input: UpdateRoleDescriptionRequest,
    ) -> Result<UpdateRoleDescriptionResponse, ServiceError> {
        self.store
            .update_role(&caller.account_id, &input.role_name, Some(&input.description), None)
            .await
            .map_err(errors::store)?;
        let row = self
            .store
            .get_role(&caller.account_id, &input.role_name)
            .await
            .map_err(errors::store)?;
        Ok(UpdateRoleDescriptionResponse {
            role: Some(changed_role(&row)),
        })
    }

    pub(super) async fn update_assume_role_policy(
        &self,
        caller: &Principal,
        input: UpdateAssumeRolePolicyRequest,
    ) -> Result<(), ServiceError> {
        documents::validate_trust(&input.policy_document)?;
        self.store
            .update_trust_policy(&caller.account_id, &input.role_name, &input.policy_document)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_role(&self, caller: &Principal, input: DeleteRoleRequest) -> Result<(), ServiceError> {
        self.store
            .delete_role(&caller.account_id, &input.role_name)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_role_tags(
        &self,
        caller: &Principal,
        input: ListRoleTagsRequest,
    ) -> Result<ListRoleTagsResponse, ServiceError> {
        let row = self
            .store
            .get_role(&caller.account_id, &input.role_name)
            .await
            .map_err(errors::store)?;
        Ok(ListRoleTagsResponse {
            tags: crate::tags::to_tags(&row.tags).unwrap_or_default(),
            is_truncated: Some(false),
            marker: None,
        })
    }
}
