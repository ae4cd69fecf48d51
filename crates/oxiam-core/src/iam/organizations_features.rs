//! IAM's centralized root access for an organization: ListOrganizationsFeatures and
//! Enable/Disable of `RootCredentialsManagement` and `RootSessions`, kept in the
//! organization's document. Each needs what AWS's API reference lists: an organization with
//! all features, the management account as the caller, and IAM's trusted access
//! (Organizations' EnableAWSServiceAccess for `iam.amazonaws.com`).

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{self as iam, FeatureType, Operation, Response, errors};
use oxiam_store::OrganizationWrite;

use crate::organizations::state::{IAM_SERVICE_PRINCIPAL, OrgState};
use crate::organizations::{Failure, stored_state};
use crate::{Oxiam, Principal};

/// What a request does to the features: nothing (the listing), or turn one on or off.
pub(crate) type FeatureChange = Option<(FeatureType, bool)>;

/// The organization's id and its enabled features, as every one of these operations answers.
pub(crate) type Features = (String, Vec<FeatureType>);

impl Oxiam {
    /// ListOrganizationsFeatures, Enable/DisableOrganizationsRootCredentialsManagement,
    /// Enable/DisableOrganizationsRootSessions: each answers the organization's id and
    /// what is enabled after it.
    pub(crate) async fn root_access_features(
        &self,
        caller: &Principal,
        op: Operation,
    ) -> Result<Response, ServiceError> {
        use FeatureType::{RootCredentialsManagement as Credentials, RootSessions as Sessions};
        let change = match op {
            Operation::EnableOrganizationsRootCredentialsManagement => Some((Credentials, true)),
            Operation::DisableOrganizationsRootCredentialsManagement => Some((Credentials, false)),
            Operation::EnableOrganizationsRootSessions => Some((Sessions, true)),
            Operation::DisableOrganizationsRootSessions => Some((Sessions, false)),
            _ => None,
        };
        let (id, features) = self.organizations_features(caller, change).await?;
        let (organization_id, enabled_features) = (Some(id), Some(features));
        Ok(match op {
            Operation::EnableOrganizationsRootCredentialsManagement => {
                Response::EnableOrganizationsRootCredentialsManagement(
                    iam::EnableOrganizationsRootCredentialsManagementResponse {
                        organization_id,
                        enabled_features,
                    },
                )
            }
            Operation::DisableOrganizationsRootCredentialsManagement => {
                Response::DisableOrganizationsRootCredentialsManagement(
                    iam::DisableOrganizationsRootCredentialsManagementResponse {
                        organization_id,
                        enabled_features,
                    },
                )
            }
            Operation::EnableOrganizationsRootSessions => {
                Response::EnableOrganizationsRootSessions(iam::EnableOrganizationsRootSessionsResponse {
                    organization_id,
                    enabled_features,
                })
            }
            Operation::DisableOrganizationsRootSessions => {
                Response::DisableOrganizationsRootSessions(iam::DisableOrganizationsRootSessionsResponse {
                    organization_id,
                    enabled_features,
                })
            }
            _ => Response::ListOrganizationsFeatures(iam::ListOrganizationsFeaturesResponse {
                organization_id,
                enabled_features,
            }),
        })
    }

    /// Reads, or changes then reads, the organization's root access features.
    async fn organizations_features(
        &self,
        caller: &Principal,
        change: FeatureChange,
    ) -> Result<Features, ServiceError> {
        let row = self
            .store
            .organization_of(&caller.account_id)
            .await
            .map_err(crate::errors::internal)?
            .ok_or_else(organization_not_found)?;
        let check = |state: &OrgState| -> Result<(), ServiceError> {
            if state.feature_set != "ALL" {
                return Err(ServiceError::new(
                    errors::ORGANIZATION_NOT_IN_ALL_FEATURES_MODE,
                    "The request was rejected because your organization does not have All features enabled.",
                ));
            }
            if state.management_account_id != caller.account_id {
                return Err(match change {
                    Some((_, true)) => ServiceError::new(
                        errors::CALLER_IS_NOT_MANAGEMENT_ACCOUNT,
                        "The request was rejected because the account making the request is not the management account for the organization.",
                    ),
                    _ => ServiceError::new(
                        errors::ACCOUNT_NOT_MANAGEMENT_OR_DELEGATED_ADMINISTRATOR,
                        "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.",
                    ),
                });
            }
            if !state.service_access_enabled(IAM_SERVICE_PRINCIPAL) {
                return Err(ServiceError::new(
                    errors::SERVICE_ACCESS_NOT_ENABLED,
                    "The request was rejected because trusted access for IAM is not enabled in AWS Organizations.",
                ));
            }
            Ok(())
        };
        let features = |state: &OrgState| -> Features {
            let enabled = state
                .iam_features
                .iter()
                .filter_map(|f| FeatureType::from_wire(f))
                .collect();
            (state.id.clone(), enabled)
        };
        let Some((feature, enable)) = change else {
            let state = stored_state(&row)?;
            check(&state)?;
            return Ok(features(&state));
        };
        self.store
            .change_organization(&row.org_id, |row| {
                let mut state = stored_state(&row)?;
                check(&state).map_err(Failure::Refused)?;
                let name = feature.as_str();
                let present = state.iam_features.iter().any(|f| f == name);
                if enable && !present {
                    state.iam_features.push(name.to_owned());
                } else if !enable {
                    state.iam_features.retain(|f| f != name);
                }
                let answer = features(&state);
                let write = OrganizationWrite {
                    state: Some(state.to_json()),
                    ..OrganizationWrite::default()
                };
                Ok::<_, Failure>((write, answer))
            })
            .await
            .map_err(|failure| match failure {
                // Deleted meanwhile: no organization, in IAM's words.
                Failure::Store(oxiam_store::StoreError::NotFound { .. }) => organization_not_found(),
                other => other.into_error(),
            })
    }
}

fn organization_not_found() -> ServiceError {
    ServiceError::new(
        errors::ORGANIZATION_NOT_FOUND,
        "The request was rejected because no organization is associated with your account.",
    )
}
