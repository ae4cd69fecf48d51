//! The policy simulator's options beyond the policies themselves: PolicyExclusionList (what
//! SimulatePrincipalPolicy leaves out of the principal's policies), ResourceHandlingOption
//! (the EC2 scenarios and the resources each needs) and SimulateCustomPolicy's
//! OrderedOrganizationPolicyInputList (an SCP hierarchy to simulate). Pure.

use std::sync::Arc;

use oxiam_policy::{CompiledPolicy, PolicyKind};
use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    AttachmentType, OrderedOrganizationPolicyType, PolicyIdentifier, PolicyIdentifierPolicyType, errors as iam_errors,
};
use oxiam_store::{EntityKind, StoredPolicy};

use crate::errors::invalid_input as invalid;

/// Whether `text` matches `pattern`, in which `*` stands for any run of characters (none
/// included) and `?` for one.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // At most one `*`: the part before it, then the part after it at the end.
    match p.iter().position(|c| *c == '*') {
        None => p.len() == t.len() && p.iter().zip(&t).all(|(a, b)| *a == '?' || a == b),
        Some(star) => {
            let (head, tail) = (&p[..star], &p[star + 1..]);
            t.len() >= head.len() + tail.len()
                && head.iter().zip(&t).all(|(a, b)| *a == '?' || a == b)
                && tail.iter().rev().zip(t.iter().rev()).all(|(a, b)| *a == '?' || a == b)
        }
    }
}

/// One identifier of a PolicyExclusionList.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exclusion {
    /// Every policy of a type.
    Type(PolicyIdentifierPolicyType),
    /// Managed policies whose ARN matches.
    Arn(String),
    /// Inline policies of that name, of entities of that kind whose name matches.
    Inline {
        name: String,
        holder: EntityKind,
        holder_pattern: String,
    },
}

/// What a simulation leaves out of the principal's policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Exclusions(Vec<Exclusion>);

impl Exclusions {
    /// The identifiers of a request, checked: each names exactly one way of identifying,
    /// an ARN is a managed policy's with wildcards (at most one `*`) only in its name.
    pub(crate) fn parse(identifiers: &[PolicyIdentifier]) -> Result<Self, ServiceError> {
        let mut out = Vec::with_capacity(identifiers.len());
        for (i, id) in identifiers.iter().enumerate() {
            let given = [
                id.policy_type.is_some(),
                id.policy_arn.is_some(),
                id.inline_policy_identifier.is_some(),
            ];
            if given.iter().filter(|g| **g).count() != 1 {
                return Err(invalid(format!(
                    "PolicyExclusionList entry {} must specify exactly one of PolicyType, PolicyArn and InlinePolicyIdentifier.",
                    i + 1
                )));
            }
            if let Some(kind) = id.policy_type {
                out.push(Exclusion::Type(kind));
            } else if let Some(arn) = &id.policy_arn {
                let (head, name) = arn.rsplit_once('/').unwrap_or(("", ""));
                let managed = head.starts_with("arn:aws:iam::")
                    && head.split(':').nth(5).is_some_and(|r| r.starts_with("policy"));
                if !managed || name.is_empty() || head.contains(['*', '?']) || name.matches('*').count() > 1 {
                    return Err(invalid(format!(
                        "PolicyExclusionList entry {}: {arn} is not a managed policy ARN (wildcards, at most one *, only in its name).",
                        i + 1
                    )));
                }
                out.push(Exclusion::Arn(arn.clone()));
            } else if let Some(inline) = &id.inline_policy_identifier {
                if inline.attachment_name.matches('*').count() > 1 {
                    return Err(invalid(format!(
                        "PolicyExclusionList entry {}: at most one * in AttachmentName.",
                        i + 1
                    )));
                }
                out.push(Exclusion::Inline {
                    name: inline.policy_name.clone(),
                    holder: match inline.attachment_type {
                        AttachmentType::User => EntityKind::User,
                        AttachmentType::Group => EntityKind::Group,
                        AttachmentType::Role => EntityKind::Role,
                    },
                    holder_pattern: inline.attachment_name.clone(),
                });
            }
        }
        Ok(Self(out))
    }

    fn has_type(&self, kind: PolicyIdentifierPolicyType) -> bool {
        self.0.contains(&Exclusion::Type(kind))
    }

    /// Whether an identity policy of the principal is left out.
    pub(crate) fn excludes(&self, policy: &StoredPolicy) -> bool {
        match policy {
            StoredPolicy::Inline {
                holder,
                holder_name,
                name,
                ..
            } => {
                self.has_type(PolicyIdentifierPolicyType::Inline)
                    || self.0.iter().any(|e| {
                        // IAM names are told apart regardless of case.
                        matches!(e, Exclusion::Inline { name: n, holder: h, holder_pattern }
                            if n.eq_ignore_ascii_case(name)
                                && h == holder
                                && glob(&holder_pattern.to_ascii_lowercase(), &holder_name.to_ascii_lowercase()))
                    })
            }
            StoredPolicy::Managed { arn, .. } => {
                let aws = arn.starts_with(oxiam_aws_policies::ARN_PREFIX);
                (aws && self.has_type(PolicyIdentifierPolicyType::AwsManaged))
                    || (!aws && self.has_type(PolicyIdentifierPolicyType::UserManaged))
                    || self
                        .0
                        .iter()
                        .any(|e| matches!(e, Exclusion::Arn(pattern) if glob(pattern, arn)))
            }
        }
    }

    /// Whether the principal's permissions boundary is left out.
    pub(crate) fn excludes_boundary(&self) -> bool {
        self.has_type(PolicyIdentifierPolicyType::PermissionBoundary)
    }

    /// Whether the organization's SCPs are left out (as if the account were in none).
    pub(crate) fn excludes_scps(&self) -> bool {
        self.has_type(PolicyIdentifierPolicyType::Scp)
    }
}

/// The resources each EC2 scenario of ResourceHandlingOption needs among ResourceArns
/// (the simulator's API reference).
const SCENARIOS: &[(&str, &[&str])] = &[
    (
        "EC2-VPC-InstanceStore",
        &["instance", "image", "security-group", "network-interface"],
    ),
    (
        "EC2-VPC-InstanceStore-Subnet",
        &["instance", "image", "security-group", "network-interface", "subnet"],
    ),
    (
        "EC2-VPC-EBS",
        &["instance", "image", "security-group", "network-interface", "volume"],
    ),
    (
        "EC2-VPC-EBS-Subnet",
        &[
            "instance",
            "image",
            "security-group",
            "network-interface",
            "subnet",
            "volume",
        ],
    ),
];

/// A ResourceHandlingOption is one of the scenarios, and ResourceArns has every kind of
/// resource it needs.
pub(crate) fn check_resource_handling(option: Option<&str>, resources: Option<&[String]>) -> Result<(), ServiceError> {
    let Some(option) = option else { return Ok(()) };
    let Some((_, needed)) = SCENARIOS.iter().find(|(name, _)| name.eq_ignore_ascii_case(option)) else {
        return Err(invalid(format!(
            "Invalid ResourceHandlingOption {option}: one of {} is expected.",
            SCENARIOS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )));
    };
    let kind_of = |arn: &str| -> Option<String> {
        let rest = arn.strip_prefix("arn:aws:ec2:")?;
        let resource = rest.splitn(3, ':').nth(2)?;
        Some(resource.split('/').next()?.to_owned())
    };
    let kinds: Vec<String> = resources
        .unwrap_or_default()
        .iter()
        .filter_map(|a| kind_of(a))
        .collect();
    let lacking: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|n| !kinds.iter().any(|k| k == n))
        .collect();
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(invalid(format!(
            "ResourceHandlingOption {option} needs ResourceArns of these EC2 resources: {}.",
            lacking.join(", ")
        )))
    }
}

/// SimulateCustomPolicy's SCP hierarchy, compiled: one level per element, the root first.
pub(crate) fn organization_levels(
    levels: &[OrderedOrganizationPolicyType],
) -> Result<Vec<Vec<Arc<CompiledPolicy>>>, ServiceError> {
    levels
        .iter()
        .enumerate()
        .map(|(level, policies)| {
            // Every node of an organization has an SCP: a level of none would allow nothing
            // anyway, and is more likely a mistake than a simulation.
            if policies
                .service_control_policy_input_list
                .as_ref()
                .is_none_or(Vec::is_empty)
            {
                return Err(invalid(format!(
                    "OrderedOrganizationPolicyInputList entry {} has no service control policy.",
                    level + 1
                )));
            }
            policies
                .service_control_policy_input_list
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, document)| {
                    let id = format!("OrderedOrganizationPolicyInputList.{}.{}", level + 1, i + 1);
                    let parsed = oxiam_policy::parse(document, PolicyKind::Scp)
                        .map_err(|e| ServiceError::new(iam_errors::MALFORMED_POLICY_DOCUMENT, e.message))?;
                    Ok(Arc::new(CompiledPolicy::compile(id, &parsed)))
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_has_one_star_and_any_question_marks() {
        assert!(glob(
            "arn:aws:iam::aws:policy/Amazon*Access",
            "arn:aws:iam::aws:policy/AmazonS3FullAccess"
        ));
        assert!(glob("Admin?", "Admins"));
        assert!(!glob("Admin?", "Admin"));
        assert!(glob("a*", "a"));
        assert!(!glob("ab*ba", "aba"), "the parts do not overlap");
    }

    #[test]
    fn scenarios_need_their_resources() {
        let all: Vec<String> = [
            "instance/i-1",
            "image/ami-1",
            "security-group/sg-1",
            "network-interface/eni-1",
        ]
        .iter()
        .map(|r| format!("arn:aws:ec2:us-east-1:123456789012:{r}"))
        .collect();
        assert!(check_resource_handling(Some("EC2-VPC-InstanceStore"), Some(&all)).is_ok());
        assert!(check_resource_handling(Some("EC2-VPC-EBS"), Some(&all)).is_err());
        assert!(check_resource_handling(Some("EC2-Classic"), Some(&all)).is_err());
        assert!(check_resource_handling(None, None).is_ok());
    }
}
