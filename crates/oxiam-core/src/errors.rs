//! The wording of IAM's errors, in one place.

use oxiam_protocol::iam::errors;
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_store::StoreError;

/// `NoSuchEntity` for a user.
pub fn no_such_user(name: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("The user with name {name} cannot be found."),
    )
}

/// `NoSuchEntity` for an access key.
pub fn no_such_access_key(id: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("The Access Key with id {id} cannot be found."),
    )
}

/// `EntityAlreadyExists` for a user.
pub fn user_exists(name: &str) -> ServiceError {
    ServiceError::new(
        errors::ENTITY_ALREADY_EXISTS,
        format!("User with name {name} already exists."),
    )
}

/// A parameter or feature that exists in AWS but not (yet) in oxiam: said plainly,
/// never answered with a fake success.
pub fn not_implemented(what: &str) -> ServiceError {
    ServiceError::new(
        common_errors::NOT_IMPLEMENTED,
        format!("oxiam does not implement {what} yet."),
    )
}

/// A database failure: logged here with its cause, reported to the client without it.
pub fn internal(e: StoreError) -> ServiceError {
    tracing::error!(error = %e, "storage failure");
    ServiceError::new(
        errors::SERVICE_FAILURE,
        "The request processing has failed because of an unknown error, exception or failure.",
    )
}

/// Maps the store's outcome for an operation on the user `name`.
pub fn for_user(name: &str) -> impl FnOnce(StoreError) -> ServiceError + '_ {
    move |e| match e {
        StoreError::NotFound => no_such_user(name),
        StoreError::Conflict => user_exists(name),
        e => internal(e),
    }
}

/// `DeleteConflict`, worded for what is still in the way.
pub fn delete_conflict(dependent: oxiam_store::Dependent) -> ServiceError {
    use oxiam_store::Dependent;
    let message = match dependent {
        Dependent::AccessKeys => "Cannot delete entity, must delete access keys first.",
        Dependent::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
        Dependent::InlinePolicies => "Cannot delete entity, must delete policies first.",
        Dependent::Memberships => "Cannot delete entity, must remove users from group first.",
        Dependent::PolicyAttached => "Cannot delete a policy attached to entities.",
        Dependent::PolicyVersions => {
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. \
             The default version is deleted with the policy."
        }
        Dependent::DefaultVersion => "Cannot delete the default version of a policy.",
    };
    ServiceError::new(errors::DELETE_CONFLICT, message)
}

/// `NoSuchEntity` for a managed policy.
pub fn no_such_policy(arn: &str) -> ServiceError {
    ServiceError::new(errors::NO_SUCH_ENTITY, format!("Policy {arn} was not found."))
}

/// `NoSuchEntity` for a role.
pub fn no_such_role(name: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("The role with name {name} cannot be found."),
    )
}

/// `NoSuchEntity` for a group.
pub fn no_such_group(name: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("The group with name {name} cannot be found."),
    )
}

/// A user operation without `UserName`, called by a role session (which has no user).
pub fn user_name_required() -> ServiceError {
    ServiceError::new(
        oxiam_protocol::common_errors::VALIDATION_ERROR,
        "Must specify userName when calling with non-User credentials",
    )
}
