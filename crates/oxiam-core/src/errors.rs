//! The wording of IAM's errors, in one place.

use oxiam_protocol::iam::errors;
use oxiam_protocol::{ServiceError, common_errors};
use oxiam_store::{EntityKind, StoreError, Subject};

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

/// The one conversion from what the store could not do to IAM's answer, worded as AWS
/// words it for the subject the store names. A call needing other wording (a boundary
/// policy that is "not attachable", a role STS may not reveal) matches its case first and
/// passes the rest here.
pub fn store(e: StoreError) -> ServiceError {
    match e {
        StoreError::NotFound { subject, name } => {
            not_found(&subject, &name).unwrap_or_else(|| internal(StoreError::NotFound { subject, name }))
        }
        StoreError::Conflict { subject, name } => {
            already_exists(&subject, &name).unwrap_or_else(|| internal(StoreError::Conflict { subject, name }))
        }
        StoreError::DeleteConflict(dependent) => delete_conflict(dependent),
        e => internal(e),
    }
}

fn not_found(subject: &Subject, name: &str) -> Option<ServiceError> {
    let message = match subject {
        Subject::Entity(EntityKind::User) => return Some(no_such_user(name)),
        Subject::Entity(EntityKind::Group) => return Some(no_such_group(name)),
        Subject::Entity(EntityKind::Role) => return Some(no_such_role(name)),
        Subject::Policy | Subject::Attachment => return Some(no_such_policy(name)),
        Subject::AccessKey => return Some(no_such_access_key(name)),
        Subject::PolicyVersion(version) => {
            format!("Policy {name} version v{version} does not exist or is not attachable.")
        }
        Subject::InlinePolicy(kind) => format!("The {} policy with name {name} cannot be found.", kind.as_str()),
        Subject::AccountAlias => format!("The account alias {name} cannot be found."),
        Subject::InstanceProfile => return Some(no_such_instance_profile(name)),
        Subject::OidcProvider => return Some(no_such_oidc_provider(name)),
        Subject::MfaDevice => return Some(no_such_mfa_device(name)),
        Subject::LoginProfile => format!("Login Profile for User {name} cannot be found."),
        Subject::PasswordPolicy => "The account policy with name PasswordPolicy cannot be found.".to_owned(),
        Subject::SshPublicKey => format!("The Public Key with id {name} cannot be found."),
        Subject::ServiceCredential => format!("No such credential {name} exists"),
        Subject::SigningCertificate => format!("The Certificate with id {name} cannot be found."),
        Subject::ServerCertificate => format!("The Server Certificate with name {name} cannot be found."),
        Subject::ServiceLinkedRoleDeletion => format!("The deletion task {name} cannot be found."),
        Subject::SamlProvider => format!("Manifest not found for arn {name}"),
        Subject::DelegationRequest => format!("Delegation request {name} cannot be found."),
        // The account is the caller's own: its absence is the server's fault. Organizations
        // word their own absences (`organizations`).
        Subject::Account | Subject::Organization | Subject::OrganizationMember => return None,
        // S3 words its own (oxiam-s3).
        Subject::S3Bucket | Subject::S3Object | Subject::S3Upload => return None,
    };
    Some(ServiceError::new(errors::NO_SUCH_ENTITY, message))
}

fn already_exists(subject: &Subject, name: &str) -> Option<ServiceError> {
    let message = match subject {
        Subject::Entity(EntityKind::User) => return Some(user_exists(name)),
        Subject::Entity(EntityKind::Group) => format!("Group with name {name} already exists."),
        Subject::Entity(EntityKind::Role) => format!("Role with name {name} already exists."),
        Subject::Policy => format!("A policy called {name} already exists. Duplicate names are not allowed."),
        Subject::AccountAlias => format!("The account alias {name} already exists."),
        Subject::InstanceProfile => format!("Instance Profile {name} already exists."),
        Subject::OidcProvider => format!("Provider with url https://{name} already exists."),
        Subject::MfaDevice => "MFADevice entity at the same path and name already exists.".to_owned(),
        Subject::LoginProfile => format!("Login Profile for user {name} already exists."),
        Subject::ServerCertificate => format!("The Server Certificate with name {name} already exists."),
        Subject::SamlProvider => format!("SAMLProvider {name} already exists."),
        Subject::DelegationRequest => {
            format!("A delegation request with RequestorWorkflowId {name} already exists.")
        }
        // Generated ids that collide, or rows only the server creates: its fault.
        _ => return None,
    };
    Some(ServiceError::new(errors::ENTITY_ALREADY_EXISTS, message))
}

/// IAM's InvalidInput (400), with oxiam's text.
pub(crate) fn invalid_input(message: impl Into<String>) -> ServiceError {
    ServiceError::new(errors::INVALID_INPUT, message)
}

/// A failure of the server's own (the database, a row that must exist): the client reads
/// ServiceFailure; the cause travels with the error, to be logged once with the request's
/// record.
pub fn internal(e: StoreError) -> ServiceError {
    service_failure(&e)
}

/// ServiceFailure, for any fault of the server's own (a stored secret that does not open, a
/// task that did not finish): the cause travels with the error, as with [`internal`].
pub fn service_failure(cause: &dyn std::fmt::Display) -> ServiceError {
    ServiceError::new(
        errors::SERVICE_FAILURE,
        "The request processing has failed because of an unknown error, exception or failure.",
    )
    .with_cause(cause)
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
        Dependent::InstanceProfileRoles => "Cannot delete entity, must remove roles from instance profile first.",
        Dependent::MfaDevices => "Cannot delete entity, must delete MFA device first.",
        Dependent::LoginProfile => "Cannot delete entity, must delete login profile first.",
        // AWS's words when SSH public keys or service-specific credentials remain.
        Dependent::ReferencedObjects => "Cannot delete entity, must remove referenced objects first.",
        Dependent::Certificates => "Cannot delete entity, must delete certificates first.",
    };
    ServiceError::new(errors::DELETE_CONFLICT, message)
}

/// IAM's check of an ARN passed as a parameter for an IAM resource, before anything else
/// about it: since 2024 IAM refuses another partition or another service with a
/// ValidationError ("Invalid ARN partition", "Invalid service in ARN", as real answers read).
/// Text that is no ARN at all is left to the operation's own check.
pub fn iam_arn_scope(arn: &str) -> Result<(), ServiceError> {
    let validation = |message: &str| ServiceError::new(oxiam_protocol::common_errors::VALIDATION_ERROR, message);
    match oxiam_policy::split_arn(arn) {
        Some([_, partition, ..]) if partition != "aws" => Err(validation("Invalid ARN partition")),
        Some([_, _, service, ..]) if service != "iam" => Err(validation("Invalid service in ARN")),
        _ => Ok(()),
    }
}

/// `NoSuchEntity` for a managed policy.
pub fn no_such_policy(arn: &str) -> ServiceError {
    ServiceError::new(errors::NO_SUCH_ENTITY, format!("Policy {arn} was not found."))
}

/// `NoSuchEntity` for an instance profile.
pub fn no_such_instance_profile(name: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("Instance Profile {name} cannot be found."),
    )
}

/// `NoSuchEntity` for an OpenID Connect provider, by ARN.
pub fn no_such_oidc_provider(arn: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("OpenIDConnect Provider not found for arn {arn}"),
    )
}

/// `NoSuchEntity` for a virtual MFA device, by serial number.
pub fn no_such_mfa_device(serial_number: &str) -> ServiceError {
    ServiceError::new(
        errors::NO_SUCH_ENTITY,
        format!("VirtualMFADevice with serial number {serial_number} doesn't exist."),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(e: StoreError) -> (&'static str, String) {
        let e = store(e);
        (e.kind.code, e.message)
    }

    #[test]
    fn each_subject_is_worded_as_aws_words_it() {
        let cases = [
            (
                StoreError::not_found(Subject::Entity(EntityKind::User), "bob"),
                "NoSuchEntity",
                "The user with name bob cannot be found.",
            ),
            (
                StoreError::not_found(Subject::InlinePolicy(EntityKind::Role), "p"),
                "NoSuchEntity",
                "The role policy with name p cannot be found.",
            ),
            (
                StoreError::not_found(Subject::PolicyVersion(3), "arn:aws:iam::123456789012:policy/p"),
                "NoSuchEntity",
                "Policy arn:aws:iam::123456789012:policy/p version v3 does not exist or is not attachable.",
            ),
            (
                StoreError::conflict(Subject::Entity(EntityKind::Group), "g"),
                "EntityAlreadyExists",
                "Group with name g already exists.",
            ),
            (
                StoreError::conflict(Subject::Policy, "p"),
                "EntityAlreadyExists",
                "A policy called p already exists. Duplicate names are not allowed.",
            ),
        ];
        for (e, code, message) in cases {
            assert_eq!(answer(e), (code, message.to_owned()));
        }
    }

    #[test]
    fn a_server_fault_keeps_its_cause_and_tells_the_client_nothing_of_it() {
        // The account is the caller's own: its absence is no client's error.
        let e = store(StoreError::not_found(Subject::Account, "123456789012"));
        assert_eq!(e.kind.code, "ServiceFailure");
        assert!(!e.message.contains("123456789012"), "{}", e.message);
        assert_eq!(e.cause.as_deref(), Some("account 123456789012 not found"));
        // A generated key id that collides is the server's to retry, not the caller's.
        let e = store(StoreError::conflict(Subject::AccessKey, "AKIAEXAMPLE"));
        assert_eq!(e.kind.code, "ServiceFailure");
        assert!(e.cause.is_some());
    }
}
