//! Tag and Untag for users, roles, managed policies, instance profiles, OIDC providers,
//! virtual MFA devices and server certificates,
//! and ListUserTags (the other List…Tags live with their entities).

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{ListUserTagsRequest, ListUserTagsResponse, Tag, errors as iam_errors};
use oxiam_store::{EntityKind, StoreError, TagOwner};

use super::policies::ManagedPolicy;
use crate::{Oxiam, Principal, errors};

/// Tags one user, role, policy, instance profile, OIDC provider, device or server
/// certificate may carry.
const TAGS_PER_RESOURCE: usize = 50;

impl Oxiam {
    /// The id of what carries the tags, or the NoSuchEntity its name deserves.
    async fn tag_owner_id(
        &self,
        caller: &Principal,
        owner: TagOwner,
        name_or_arn: &str,
    ) -> Result<String, ServiceError> {
        match owner {
            TagOwner::User => Ok(self.entity(caller, EntityKind::User, name_or_arn).await?.id),
            TagOwner::Role => Ok(self.entity(caller, EntityKind::Role, name_or_arn).await?.id),
            TagOwner::OidcProvider => Ok(self
                .store
                .get_oidc_provider(&caller.account_id, name_or_arn)
                .await
                .map_err(errors::store)?
                .arn),
            TagOwner::MfaDevice => Ok(self
                .store
                .get_mfa_device(&caller.account_id, name_or_arn)
                .await
                .map_err(errors::store)?
                .serial_number),
            TagOwner::InstanceProfile => Ok(self
                .store
                .get_instance_profile(&caller.account_id, name_or_arn)
                .await
                .map_err(errors::store)?
                .instance_profile_id),
            TagOwner::SamlProvider => Ok(self
                .store
                .get_saml_provider(&caller.account_id, name_or_arn)
                .await
                .map_err(errors::store)?
                .arn),
            TagOwner::ServerCertificate => Ok(self
                .store
                .get_server_certificate(&caller.account_id, name_or_arn)
                .await
                .map_err(errors::store)?
                .server_certificate_id),
            TagOwner::Policy => match self.managed_policy(caller, name_or_arn).await? {
                ManagedPolicy::Customer(p) => Ok(p.policy_id),
                ManagedPolicy::Aws(_) => Err(ServiceError::new(
                    oxiam_protocol::common_errors::ACCESS_DENIED,
                    format!(
                        "User: {} is not authorized to perform: iam:TagPolicy on resource: policy {name_or_arn}",
                        caller.arn()
                    ),
                )),
            },
        }
    }

    pub(super) async fn change_tags(
        &self,
        caller: &Principal,
        owner: TagOwner,
        name_or_arn: &str,
        add: Vec<Tag>,
        remove: Vec<String>,
    ) -> Result<(), ServiceError> {
        let add = match owner {
            TagOwner::Policy => crate::tags::policy_pairs(Some(add))?,
            _ => crate::tags::pairs(Some(add))?,
        };
        let id = self.tag_owner_id(caller, owner, name_or_arn).await?;
        self.store
            .update_tags(&caller.account_id, owner, &id, &add, &remove, TAGS_PER_RESOURCE)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("The number of tags has reached the maximum limit of {TAGS_PER_RESOURCE}."),
                ),
                // Gone since it was resolved, and named by its id: named here as asked.
                StoreError::NotFound { .. } => match owner {
                    TagOwner::User => errors::no_such_user(name_or_arn),
                    TagOwner::Role => errors::no_such_role(name_or_arn),
                    TagOwner::Policy => errors::no_such_policy(name_or_arn),
                    TagOwner::InstanceProfile => errors::no_such_instance_profile(name_or_arn),
                    TagOwner::OidcProvider => errors::no_such_oidc_provider(name_or_arn),
                    TagOwner::MfaDevice => errors::no_such_mfa_device(name_or_arn),
                    TagOwner::SamlProvider => {
                        errors::store(StoreError::not_found(oxiam_store::Subject::SamlProvider, name_or_arn))
                    }
                    TagOwner::ServerCertificate => errors::store(StoreError::not_found(
                        oxiam_store::Subject::ServerCertificate,
                        name_or_arn,
                    )),
                },
                e => errors::store(e),
            })
    }

    pub(super) async fn list_user_tags(
        &self,
        caller: &Principal,
        input: ListUserTagsRequest,
    ) -> Result<ListUserTagsResponse, ServiceError> {
        let user = self
            .store
            .get_user(&caller.account_id, &input.user_name)
            .await
            .map_err(errors::store)?;
        Ok(ListUserTagsResponse {
            tags: crate::tags::to_tags(&user.tags).unwrap_or_default(),
            is_truncated: Some(false),
            marker: None,
        })
    }
}
