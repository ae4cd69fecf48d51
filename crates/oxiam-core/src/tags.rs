//! Tags on users, roles, policies, instance profiles and OIDC providers.

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{Tag, errors};

/// Checks tags as IAM does (keys unique regardless of case) and turns them into pairs.
pub fn pairs(tags: Option<Vec<Tag>>) -> Result<Vec<(String, String)>, ServiceError> {
    let tags = tags.unwrap_or_default();
    let mut keys: Vec<String> = tags.iter().map(|t| t.key.to_lowercase()).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(ServiceError::new(
            errors::INVALID_INPUT,
            "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
        ));
    }
    Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
}

/// Checks a managed policy's tags as IAM does: there, keys differing in case are distinct
/// tags (only the same key twice is refused).
pub fn policy_pairs(tags: Option<Vec<Tag>>) -> Result<Vec<(String, String)>, ServiceError> {
    let tags = tags.unwrap_or_default();
    let mut keys: Vec<&str> = tags.iter().map(|t| t.key.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(ServiceError::new(errors::INVALID_INPUT, "Duplicate tag keys found."));
    }
    Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
}

/// Stored pairs back into tags; `None` when there are none (IAM then omits `Tags`).
pub fn to_tags(pairs: &[(String, String)]) -> Option<Vec<Tag>> {
    (!pairs.is_empty()).then(|| {
        pairs
            .iter()
            .map(|(key, value)| Tag {
                key: key.clone(),
                value: value.clone(),
            })
            .collect()
    })
}
