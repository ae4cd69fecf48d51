//! Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
//! GetServiceLinkedRoleDeletionStatus, and what makes such a role AWS's to change.
//!
//! The roles come from a generated catalogue (`oxiam_aws_policies::service_linked_role`):
//! the role's name, the AWS managed policy it carries, and whether a custom suffix is
//! taken. A service-linked role lives under `/aws-service-role/SERVICE/`, trusts the service
//! alone, and only its description can be changed. oxiam's services hold no resources that
//! use such a role, so a deletion is done at once and its task is SUCCEEDED.

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    CreateServiceLinkedRoleRequest, CreateServiceLinkedRoleResponse, DeleteServiceLinkedRoleRequest,
    DeleteServiceLinkedRoleResponse, DeletionTaskStatusType, GetServiceLinkedRoleDeletionStatusRequest,
    GetServiceLinkedRoleDeletionStatusResponse, Request, errors as iam_errors,
};
use oxiam_store::{NewRole, StoreError, Subject};

use crate::{Oxiam, Principal, errors, ids};

/// The path prefix of every service-linked role, which no other role may use.
pub(crate) const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

/// A service-linked role's sessions last an hour, and that cannot be changed.
const MAX_SESSION_DURATION: i64 = 3600;

fn invalid_input(message: impl Into<String>) -> ServiceError {
    ServiceError::new(iam_errors::INVALID_INPUT, message.into())
}

/// AWS's refusal of a change to a role only AWS may change.
fn protected(role_name: &str) -> ServiceError {
    ServiceError::new(
        iam_errors::UNMODIFIABLE_ENTITY,
        format!(
            "Cannot perform the operation on the protected role '{role_name}' - this role is only modifiable by AWS"
        ),
    )
}

/// The role a request would change that only AWS may change on a service-linked role: its
/// trust policy, policies, boundary, session duration, or the role itself.
pub(super) fn protected_role_change(request: &Request) -> Option<&str> {
    use Request as R;
    Some(match request {
        R::UpdateAssumeRolePolicy(i) => &i.role_name,
        R::PutRolePolicy(i) => &i.role_name,
        R::DeleteRolePolicy(i) => &i.role_name,
        R::AttachRolePolicy(i) => &i.role_name,
        R::DetachRolePolicy(i) => &i.role_name,
        R::PutRolePermissionsBoundary(i) => &i.role_name,
        R::DeleteRolePermissionsBoundary(i) => &i.role_name,
        R::DeleteRole(i) => &i.role_name,
        R::UpdateRole(i) if i.max_session_duration.is_some() => &i.role_name,
        R::AddRoleToInstanceProfile(i) => &i.role_name,
        _ => return None,
    })
}

/// The name CreateServiceLinkedRole gives the role of `principal` with `suffix`, if the
/// catalogue knows the service (whether the suffix is allowed is the operation's to say).
pub(crate) fn role_name(principal: &str, suffix: Option<&str>) -> Option<String> {
    let known = oxiam_aws_policies::service_linked_role(principal)?;
    Some(match suffix {
        Some(suffix) => format!("{}_{suffix}", known.role_name),
        None => known.role_name.to_owned(),
    })
}

impl Oxiam {
    /// Refuses a change only AWS may make when `role_name` was made by CreateServiceLinkedRole
    /// (not merely a role under its path, as CreateRole once allowed; a role that does not
    /// exist is the operation's to report).
    pub(super) async fn refuse_service_linked_role(
        &self,
        caller: &Principal,
        role_name: &str,
    ) -> Result<(), ServiceError> {
        match self.store.service_linked(&caller.account_id, role_name).await {
            Ok(Some((name, _, true))) => Err(protected(&name)),
            Ok(_) => Ok(()),
            Err(e) => Err(errors::store(e)),
        }
    }

    pub(super) async fn create_service_linked_role(
        &self,
        caller: &Principal,
        input: CreateServiceLinkedRoleRequest,
        now: i64,
    ) -> Result<CreateServiceLinkedRoleResponse, ServiceError> {
        let principal = input.aws_service_name.as_str();
        let Some(known) = oxiam_aws_policies::service_linked_role(principal) else {
            return Err(invalid_input(format!(
                "Service principal {principal} is not a service that oxiam knows a service-linked role of."
            )));
        };
        if input.custom_suffix.is_some() && !known.custom_suffix_allowed {
            return Err(invalid_input(format!("Custom suffix is not allowed for {principal}")));
        }
        let name = role_name(principal, input.custom_suffix.as_deref()).unwrap_or_default();
        if name.len() > 64 {
            return Err(ServiceError::new(
                oxiam_protocol::common_errors::VALIDATION_ERROR,
                format!(
                    "1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: Member \
                     must have length less than or equal to 64"
                ),
            ));
        }
        let trust = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
        );
        let path = format!("{SERVICE_ROLE_PATH}{principal}/");
        let role_id = ids::role_id();
        let row = self
            .store
            .create_role(NewRole {
                account_id: &caller.account_id,
                role_id: &role_id,
                name: &name,
                path: &path,
                trust_policy: &trust,
                description: input.description.as_deref(),
                max_session_duration: MAX_SESSION_DURATION,
                created_at: now,
                tags: &[],
                permissions_boundary: None,
                attached_policies: known.attached_policies,
                service_linked: true,
                inline_policies: &[],
                source_template: None,
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => invalid_input(format!(
                    "Service role name {name} has been taken in this account, please try a different suffix."
                )),
                e => errors::store(e),
            })?;
        Ok(CreateServiceLinkedRoleResponse {
            role: Some(super::roles::role_of(&row, false)),
        })
    }

    pub(super) async fn delete_service_linked_role(
        &self,
        caller: &Principal,
        input: DeleteServiceLinkedRoleRequest,
        now: i64,
    ) -> Result<DeleteServiceLinkedRoleResponse, ServiceError> {
        let (name, path, linked) = self
            .store
            .service_linked(&caller.account_id, &input.role_name)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| errors::no_such_role(&input.role_name))?;
        let principal = path
            .strip_prefix(SERVICE_ROLE_PATH)
            .and_then(|rest| rest.strip_suffix('/'));
        let (true, Some(principal)) = (linked, principal) else {
            return Err(invalid_input(format!(
                "Role {name} is not a service-linked role: delete it with DeleteRole."
            )));
        };
        let task_id = format!("task{SERVICE_ROLE_PATH}{principal}/{}/{}", name, ids::request_id());
        self.store
            .delete_service_linked_role(&caller.account_id, &name, &task_id, now)
            .await
            .map_err(errors::store)?;
        Ok(DeleteServiceLinkedRoleResponse {
            deletion_task_id: task_id,
        })
    }

    pub(super) async fn get_service_linked_role_deletion_status(
        &self,
        caller: &Principal,
        input: GetServiceLinkedRoleDeletionStatusRequest,
    ) -> Result<GetServiceLinkedRoleDeletionStatusResponse, ServiceError> {
        let id = input.deletion_task_id;
        if !id.starts_with(&format!("task{SERVICE_ROLE_PATH}")) {
            return Err(invalid_input(format!("Invalid deletion task id: {id}")));
        }
        let status = self
            .store
            .service_linked_role_deletion(&caller.account_id, &id)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| errors::store(StoreError::not_found(Subject::ServiceLinkedRoleDeletion, &id)))?;
        Ok(GetServiceLinkedRoleDeletionStatusResponse {
            status: DeletionTaskStatusType::from_wire(&status).unwrap_or(DeletionTaskStatusType::SUCCEEDED),
            reason: None,
        })
    }
}
