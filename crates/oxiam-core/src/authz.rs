//! Authorization, in one place, denying by default.
//!
//! The account root may do anything in its own account. Everyone else needs an identity
//! policy that allows the action; until policies are stored (issue #3) and evaluated
//! (issue #4), an IAM user has none, and is denied exactly as AWS denies a user without
//! policies. `sts:GetCallerIdentity` needs no permission, as in AWS.

use oxiam_protocol::{ServiceError, common_errors};

use crate::{Oxiam, Principal, PrincipalKind};

/// What a request asks to do: the IAM action and the resource it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// E.g. `iam:CreateUser`.
    pub action: String,
    /// E.g. `arn:aws:iam::123456789012:user/alice`, or `*`.
    pub resource: String,
}

impl Oxiam {
    /// Allows or denies `access` for `principal`.
    pub fn authorize(&self, principal: &Principal, access: &Access) -> Result<(), ServiceError> {
        if access.action == "sts:GetCallerIdentity" {
            return Ok(());
        }
        match principal.kind {
            PrincipalKind::Root => Ok(()),
            PrincipalKind::User { .. } => Err(ServiceError::new(
                common_errors::ACCESS_DENIED,
                format!(
                    "User: {} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
                    principal.arn(),
                    access.action,
                    access.resource,
                    access.action
                ),
            )),
        }
    }
}
