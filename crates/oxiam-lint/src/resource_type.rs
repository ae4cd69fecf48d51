//! The checks of a resource policy against the resource it is for (ValidatePolicy's
//! `validatePolicyResourceType`): a bucket policy's actions must be S3's and act on buckets or
//! their objects, its resources must be such ARNs; a role's trust policy names no resource,
//! no `NotPrincipal`, and not `"Principal": "*"`.
//!
//! Which actions and ARNs a type accepts is read from the Service Authorization Reference: the
//! type's service, and the resource types (ARN formats) a policy attached to it governs.

use crate::reference::Service;
use crate::{ActionEntry, Doc, FindingType, Findings, Stmt, wildcard};

/// The resources a resource policy can be validated for (Access Analyzer's
/// `ValidatePolicyResourceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `AWS::S3::Bucket`: a bucket policy.
    S3Bucket,
    /// `AWS::S3::AccessPoint`.
    S3AccessPoint,
    /// `AWS::S3::MultiRegionAccessPoint`.
    S3MultiRegionAccessPoint,
    /// `AWS::S3ObjectLambda::AccessPoint`.
    S3ObjectLambdaAccessPoint,
    /// `AWS::IAM::AssumeRolePolicyDocument`: a role's trust policy.
    RoleTrustPolicy,
    /// `AWS::DynamoDB::Table`.
    DynamoDbTable,
}

impl ResourceType {
    /// From the wire name (`AWS::S3::Bucket`).
    pub fn from_name(name: &str) -> Option<ResourceType> {
        Some(match name {
            "AWS::S3::Bucket" => ResourceType::S3Bucket,
            "AWS::S3::AccessPoint" => ResourceType::S3AccessPoint,
            "AWS::S3::MultiRegionAccessPoint" => ResourceType::S3MultiRegionAccessPoint,
            "AWS::S3ObjectLambda::AccessPoint" => ResourceType::S3ObjectLambdaAccessPoint,
            "AWS::IAM::AssumeRolePolicyDocument" => ResourceType::RoleTrustPolicy,
            "AWS::DynamoDB::Table" => ResourceType::DynamoDbTable,
            _ => return None,
        })
    }

    /// As the findings name it (`S3 Bucket`, as Access Analyzer's do).
    fn display_name(self) -> &'static str {
        match self {
            ResourceType::S3Bucket => "S3 Bucket",
            ResourceType::S3AccessPoint => "S3 Access Point",
            ResourceType::S3MultiRegionAccessPoint => "S3 Multi-Region Access Point",
            ResourceType::S3ObjectLambdaAccessPoint => "S3 Object Lambda Access Point",
            ResourceType::RoleTrustPolicy => "IAM Role Trust Policy",
            ResourceType::DynamoDbTable => "DynamoDB Table",
        }
    }

    /// The service whose actions a policy of this resource may grant, and the reference's
    /// resource types (of that service) it governs. A trust policy governs the role alone: no
    /// resource type, and only STS's actions that take a role.
    fn governs(self) -> (&'static str, &'static [&'static str]) {
        match self {
            ResourceType::S3Bucket => ("s3", &["bucket", "object"]),
            ResourceType::S3AccessPoint => ("s3", &["accesspoint", "accesspointobject"]),
            ResourceType::S3MultiRegionAccessPoint => ("s3", &["multiregionaccesspoint"]),
            ResourceType::S3ObjectLambdaAccessPoint => ("s3-object-lambda", &["objectlambdaaccesspoint"]),
            ResourceType::RoleTrustPolicy => ("sts", &["role"]),
            ResourceType::DynamoDbTable => ("dynamodb", &["table", "index", "stream"]),
        }
    }
}

impl<'a> Doc<'a> {
    /// The statement's findings that depend on the resource the policy is for.
    pub(crate) fn check_resource_type(&self, s: &Stmt<'a>, actions: &[ActionEntry<'a>], out: &mut Findings) {
        let Some(resource_type) = self.resource_type else {
            return;
        };
        if resource_type == ResourceType::RoleTrustPolicy {
            check_trust_elements(s, out);
        } else if s.node.member("Resource").is_none() && s.node.member("NotResource").is_none() {
            out.push(
                "MISSING_RESOURCE",
                FindingType::Error,
                "Add a Resource or NotResource element to the policy statement.".to_owned(),
                vec![s.path.clone().at(s.node)],
            );
        }
        let (service_prefix, governed) = resource_type.governs();
        let Some(service) = self.reference.service(service_prefix) else {
            return;
        };
        for entry in actions {
            // `*` and a wildcard that reaches one supported action are left alone.
            let Some(matched) = &entry.matched else { continue };
            let supported = matched.iter().any(|(svc, action)| {
                svc.prefix == service.prefix && action.resources.iter().any(|t| governed.contains(&t.as_str()))
            });
            if !supported && !matched.is_empty() {
                out.push(
                    "UNSUPPORTED_ACTION_IN_POLICY",
                    FindingType::Error,
                    format!(
                        "The action {} is not supported for the resource-based policy attached to the resource type {}.",
                        entry.text,
                        resource_type.display_name()
                    ),
                    vec![entry.location.clone()],
                );
            }
        }
        if resource_type != ResourceType::RoleTrustPolicy {
            check_resource_arns(s, service, governed, resource_type, out);
        }
    }
}

/// A trust policy's statement: the role is the resource (none may be named), the principal
/// is named (not `NotPrincipal`, not `*`).
fn check_trust_elements(s: &Stmt<'_>, out: &mut Findings) {
    for element in ["Resource", "NotResource"] {
        if let Some((_, node)) = s.node.member(element) {
            out.push(
                "ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE",
                FindingType::Error,
                "Role trust policies apply to the role that they are attached to. You cannot specify a resource. \
                 Remove the Resource or NotResource element."
                    .to_owned(),
                vec![s.path.key(element).at(node)],
            );
        }
    }
    if let Some((_, node)) = s.node.member("NotPrincipal") {
        out.push(
            "ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL",
            FindingType::Error,
            "Role trust policies do not support NotPrincipal. Update the policy to use a Principal element instead."
                .to_owned(),
            vec![s.path.key("NotPrincipal").at(node)],
        );
    }
    if let Some((_, node)) = s.node.member("Principal")
        && node.as_str() == Some("*")
    {
        out.push(
            "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
            FindingType::Error,
            "\"Principal:\" \"*\" is not supported in the principal element of a role trust policy. Replace the \
             wildcard with a valid principal value."
                .to_owned(),
            vec![s.path.key("Principal").at(node)],
        );
    }
}

/// Each `Resource` entry must be able to name a resource the policy governs: `*` cannot
/// (it names everything), nor an ARN that matches none of the governed types' formats.
fn check_resource_arns(
    s: &Stmt<'_>,
    service: &Service,
    governed: &[&str],
    resource_type: ResourceType,
    out: &mut Findings,
) {
    let Some((_, resources)) = s.node.member("Resource") else {
        return;
    };
    let formats: Vec<&str> = governed
        .iter()
        .filter_map(|t| service.resources.get(*t))
        .flat_map(|t| t.patterns.iter().map(String::as_str))
        .collect();
    for (index, node) in resources.items() {
        let Some(text) = node.as_str() else { continue };
        if !names_a_governed_resource(text, &formats) {
            out.push(
                "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                FindingType::Error,
                format!(
                    "The resource ARN is not supported for the resource-based policy attached to the resource type {}.",
                    resource_type.display_name()
                ),
                vec![s.path.key("Resource").index(index).at(node)],
            );
        }
    }
}

/// Whether the `Resource` entry can match an ARN of one of `formats` (lower-case wildcard
/// patterns). `*` alone is refused: a policy attached to one resource cannot grant all.
fn names_a_governed_resource(entry: &str, formats: &[&str]) -> bool {
    if entry == "*" {
        return false;
    }
    let pattern = crate::variables_as_wildcards(entry).to_ascii_lowercase();
    formats.iter().any(|f| wildcard::arns_intersect(&pattern, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_governed_type_is_in_the_reference() {
        let reference = crate::reference::reference();
        for t in [
            ResourceType::S3Bucket,
            ResourceType::S3AccessPoint,
            ResourceType::S3MultiRegionAccessPoint,
            ResourceType::S3ObjectLambdaAccessPoint,
            ResourceType::DynamoDbTable,
        ] {
            let (prefix, governed) = t.governs();
            let service = reference.service(prefix).unwrap();
            for name in governed {
                assert!(service.resources.contains_key(*name), "{prefix}:{name}");
            }
        }
        // The trust policy's one action-bearing type is STS's role.
        let sts = reference.service("sts").unwrap();
        assert!(sts.resources.contains_key("role"));
    }
}
