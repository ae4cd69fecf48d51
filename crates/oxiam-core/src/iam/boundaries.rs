//! Permissions boundaries of users and roles: Put/Delete{User,Role}PermissionsBoundary and
//! the PermissionsBoundary parameter of CreateUser and CreateRole.

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{AttachedPermissionsBoundary, PermissionsBoundaryAttachmentType, errors as iam_errors};
use oxiam_store::{EntityKind, EntityRef, NewBoundary, StoreError, Subject};

use super::policies::ManagedPolicy;
use crate::{Oxiam, Principal, errors};

/// The `PermissionsBoundary` element of a user or role.
pub(crate) fn attached(arn: Option<String>) -> Option<AttachedPermissionsBoundary> {
    arn.map(|arn| AttachedPermissionsBoundary {
        permissions_boundary_type: Some(PermissionsBoundaryAttachmentType::PermissionsBoundaryPolicy),
        permissions_boundary_arn: Some(arn),
    })
}

/// IAM's answer when a boundary names no attachable managed policy.
pub(super) fn not_attachable(arn: &str) -> ServiceError {
    ServiceError::new(
        iam_errors::NO_SUCH_ENTITY,
        format!("Policy {arn} does not exist or is not attachable."),
    )
}

impl Oxiam {
    /// A boundary to set: the policy must be a managed policy that exists and is
    /// attachable. Whether it is a customer's decides if the write locks it.
    pub(super) async fn boundary<'a>(&self, caller: &Principal, arn: &'a str) -> Result<NewBoundary<'a>, ServiceError> {
        // What is no policy ARN at all is refused as such, not looked up.
        if !super::policies::is_policy_arn(arn) {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                format!("Scope ARN: {arn} is not valid."),
            ));
        }
        let customer = match self
            .managed_policy(caller, arn)
            .await
            .map_err(|_| not_attachable(arn))?
        {
            ManagedPolicy::Aws(p) if !p.is_attachable => return Err(not_attachable(arn)),
            ManagedPolicy::Aws(_) => false,
            ManagedPolicy::Customer(_) => true,
        };
        Ok(NewBoundary { arn, customer })
    }

    /// Sets (or with `None` removes) an entity's boundary.
    pub(super) async fn set_boundary(
        &self,
        caller: &Principal,
        entity: &EntityRef,
        arn: Option<&str>,
    ) -> Result<(), ServiceError> {
        let customer = match arn {
            Some(arn) => self.boundary(caller, arn).await?.customer,
            None => false,
        };
        self.store
            .set_permissions_boundary(&caller.account_id, entity, arn, customer)
            .await
            .map_err(|e| match e {
                StoreError::NotFound {
                    subject: Subject::Policy,
                    ..
                } => not_attachable(arn.unwrap_or_default()),
                e => errors::store(e),
            })
    }

    pub(super) async fn put_boundary(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        arn: &str,
    ) -> Result<(), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        self.set_boundary(caller, &entity, Some(arn)).await
    }

    pub(super) async fn delete_boundary(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
    ) -> Result<(), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        // AWS answers NoSuchEntity when there is no boundary to delete.
        if self
            .store
            .permissions_boundary(kind, &entity.id)
            .await
            .map_err(errors::store)?
            .is_none()
        {
            return Err(ServiceError::new(
                iam_errors::NO_SUCH_ENTITY,
                format!(
                    "The {} with name {name} does not have a permissions boundary.",
                    kind.as_str()
                ),
            ));
        }
        self.set_boundary(caller, &entity, None).await
    }

    /// The boundary ARN of a user or role, for Get/List responses.
    pub(crate) async fn boundary_of(&self, kind: EntityKind, id: &str) -> Result<Option<String>, ServiceError> {
        Ok(self
            .store
            .permissions_boundary(kind, id)
            .await
            // Read by id after the entity was found: its absence is a race, not the caller's.
            .map_err(errors::internal)?
            .map(|(arn, _)| arn))
    }
}
