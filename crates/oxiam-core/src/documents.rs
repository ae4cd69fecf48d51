//! Policy documents on write: validated as IAM validates them, and measured as IAM's size
//! quotas count them (without whitespace).

use oxiam_policy::PolicyKind;
use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::errors;

/// Managed policy documents: at most this many characters without whitespace.
pub const MANAGED_POLICY_SIZE_QUOTA: i64 = 6144;
/// Trust policies: at most this many characters without whitespace.
pub const TRUST_POLICY_SIZE_QUOTA: i64 = 2048;
/// Users' inline policies, all together.
pub const USER_INLINE_SIZE_QUOTA: i64 = 2048;
/// Groups' inline policies, all together.
pub const GROUP_INLINE_SIZE_QUOTA: i64 = 5120;
/// Roles' inline policies, all together.
pub const ROLE_INLINE_SIZE_QUOTA: i64 = 10240;

/// Checks a document of `kind`; returns its size without whitespace.
pub fn validate(document: &str, kind: PolicyKind) -> Result<i64, ServiceError> {
    oxiam_policy::parse(document, kind).map_err(|e| ServiceError::new(errors::MALFORMED_POLICY_DOCUMENT, e.message))?;
    Ok(oxiam_policy::size_without_whitespace(document) as i64)
}

/// Checks a managed policy document and its size quota.
pub fn validate_managed(document: &str) -> Result<(), ServiceError> {
    let size = validate(document, PolicyKind::Identity)?;
    if size > MANAGED_POLICY_SIZE_QUOTA {
        return Err(ServiceError::new(
            errors::LIMIT_EXCEEDED,
            format!("Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE_QUOTA}"),
        ));
    }
    Ok(())
}

/// Checks a role's trust policy and its size quota.
pub fn validate_trust(document: &str) -> Result<(), ServiceError> {
    let size = validate(document, PolicyKind::Trust)?;
    if size > TRUST_POLICY_SIZE_QUOTA {
        return Err(ServiceError::new(
            errors::LIMIT_EXCEEDED,
            format!("Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE_QUOTA}"),
        ));
    }
    Ok(())
}

/// Checks a session policy passed to AssumeRole.
pub fn validate_session(document: &str) -> Result<(), ServiceError> {
    oxiam_policy::parse(document, PolicyKind::Session)
        .map(|_| ())
        .map_err(|e| ServiceError::new(oxiam_protocol::sts::errors::MALFORMED_POLICY_DOCUMENT, e.message))
}
