//! ListPoliciesGrantingServiceAccess: which of a user's, group's or role's identity policies
//! (a user's groups' too) allow some action of each service asked about. An Allow statement
//! whose actions reach the service counts, whatever its resources and conditions; Deny
//! statements, boundaries and resource policies are not looked at, as AWS documents.

use oxiam_policy::PolicyKind;
use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{
    ListPoliciesGrantingServiceAccessEntry, ListPoliciesGrantingServiceAccessRequest,
    ListPoliciesGrantingServiceAccessResponse, PolicyGrantingServiceAccess, PolicyOwnerEntityType, PolicyType,
    errors as iam_errors,
};
use oxiam_store::{EntityKind, StoredPolicy};

use crate::{Oxiam, Principal, errors};

impl Oxiam {
    pub(super) async fn list_policies_granting_service_access(
        &self,
        caller: &Principal,
        input: ListPoliciesGrantingServiceAccessRequest,
    ) -> Result<ListPoliciesGrantingServiceAccessResponse, ServiceError> {
        let no_such = ServiceError::new(
            iam_errors::NO_SUCH_ENTITY,
            format!("The entity with ARN {} cannot be found.", input.arn),
        );
        let (_, _, stored) = self.policies_of(caller, &input.arn, no_such).await?;
        // Each policy once: its entry, and what it was parsed to.
        let mut policies = Vec::with_capacity(stored.len());
        for policy in stored {
            let (entry, document) = match policy {
                StoredPolicy::Inline {
                    holder,
                    holder_name,
                    name,
                    document,
                } => (
                    PolicyGrantingServiceAccess {
                        policy_name: name,
                        policy_type: PolicyType::INLINE,
                        policy_arn: None,
                        entity_type: Some(match holder {
                            EntityKind::User => PolicyOwnerEntityType::USER,
                            EntityKind::Group => PolicyOwnerEntityType::GROUP,
                            EntityKind::Role => PolicyOwnerEntityType::ROLE,
                        }),
                        entity_name: Some(holder_name),
                    },
                    document,
                ),
                StoredPolicy::Managed { arn, document } => {
                    let document = match document {
                        Some(d) => d,
                        None => oxiam_aws_policies::by_arn(&arn)
                            .map(|p| p.document.to_owned())
                            .ok_or_else(|| {
                                errors::service_failure(&format_args!("{arn} is neither stored nor built in"))
                            })?,
                    };
                    (
                        PolicyGrantingServiceAccess {
                            policy_name: arn.rsplit('/').next().unwrap_or(&arn).to_owned(),
                            policy_type: PolicyType::MANAGED,
                            policy_arn: Some(arn),
                            entity_type: None,
                            entity_name: None,
                        },
                        document,
                    )
                }
            };
            // Documents are validated on write: one that no longer parses is a fault.
            let parsed = oxiam_policy::parse(&document, PolicyKind::Identity)
                .map_err(|e| errors::service_failure(&format_args!("a stored policy does not parse: {}", e.message)))?;
            policies.push((entry, parsed));
        }
        let entries = input
            .service_namespaces
            .iter()
            .map(|namespace| ListPoliciesGrantingServiceAccessEntry {
                service_namespace: Some(namespace.clone()),
                policies: Some(
                    policies
                        .iter()
                        .filter(|(_, parsed)| oxiam_policy::allows_service(parsed, namespace))
                        .map(|(entry, _)| entry.clone())
                        .collect(),
                ),
            })
            .collect();
        Ok(ListPoliciesGrantingServiceAccessResponse {
            policies_granting_service_access: entries,
            is_truncated: Some(false),
            marker: None,
        })
    }
}
