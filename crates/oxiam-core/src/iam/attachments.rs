//! What users, groups and roles share: attached managed policies (at most ten each) and
//! inline policies (within an aggregate size per entity). Each operation of the twelve
//! per-kind variants (AttachUserPolicy, PutRolePolicy, …) comes here with its kind.

use oxiam_policy::PolicyKind;
use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::{AttachedPolicy, errors as iam_errors};
use oxiam_store::{EntityKind, EntityRef, StoreError, Subject};

use super::{page, page_size};
use crate::{Oxiam, Principal, documents, errors};

/// Managed policies one user, group or role may have attached.
pub const ATTACHED_POLICIES_PER_ENTITY: i64 = 10;

fn quota_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "PoliciesPerUser",
        EntityKind::Group => "PoliciesPerGroup",
        EntityKind::Role => "PoliciesPerRole",
    }
}

fn inline_quota(kind: EntityKind) -> i64 {
    match kind {
        EntityKind::User => documents::USER_INLINE_SIZE_QUOTA,
        EntityKind::Group => documents::GROUP_INLINE_SIZE_QUOTA,
        EntityKind::Role => documents::ROLE_INLINE_SIZE_QUOTA,
    }
}

impl Oxiam {
    /// The user, group or role `name` in the caller's account.
    pub(crate) async fn entity(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
    ) -> Result<EntityRef, ServiceError> {
        self.store
            .find_entity(&caller.account_id, kind, name)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn attach_policy(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        policy_arn: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        errors::iam_arn_scope(policy_arn)?;
        let entity = self.entity(caller, kind, name).await?;
        let not_attachable = || {
            ServiceError::new(
                iam_errors::NO_SUCH_ENTITY,
                format!("Policy {policy_arn} does not exist or is not attachable."),
            )
        };
        super::policies::check_policy_arn(policy_arn)?;
        // A customer managed policy is not read here: the store's insert checks that it exists
        // in the caller's account, and a NotFound from it is "not attachable" below.
        let customer = !policy_arn.starts_with(oxiam_aws_policies::ARN_PREFIX);
        if !customer {
            let aws = oxiam_aws_policies::by_arn(policy_arn).ok_or_else(not_attachable)?;
            if !aws.is_attachable {
                return Err(ServiceError::new(
                    iam_errors::POLICY_NOT_ATTACHABLE,
                    format!("Policy {policy_arn} is not attachable."),
                ));
            }
            // A service-linked role's policy is attached by AWS to that role alone.
            if aws.path == super::SERVICE_ROLE_PATH {
                return Err(ServiceError::new(
                    iam_errors::POLICY_NOT_ATTACHABLE,
                    "Cannot attach a Service Role Policy to a Customer Role.",
                ));
            }
        }
        self.store
            .attach_policy(
                &caller.account_id,
                &entity,
                policy_arn,
                customer,
                now,
                ATTACHED_POLICIES_PER_ENTITY,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!(
                        "Cannot exceed quota for {}: {ATTACHED_POLICIES_PER_ENTITY}",
                        quota_name(kind)
                    ),
                ),
                StoreError::NotFound {
                    subject: Subject::Policy,
                    ..
                } => not_attachable(),
                e => errors::store(e),
            })
    }

    pub(super) async fn detach_policy(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        policy_arn: &str,
    ) -> Result<(), ServiceError> {
        errors::iam_arn_scope(policy_arn)?;
        let entity = self.entity(caller, kind, name).await?;
        self.store
            .detach_policy(&entity, policy_arn)
            .await
            .map_err(errors::store)
    }

    /// The managed policies attached to an entity (name and ARN), under `path_prefix`.
    pub(crate) async fn attached_policies(
        &self,
        caller: &Principal,
        entity: &EntityRef,
    ) -> Result<Vec<AttachedPolicy>, ServiceError> {
        let arns = self
            .store
            .attached_policies(entity.kind, &entity.id)
            .await
            .map_err(errors::store)?;
        let mut out = Vec::with_capacity(arns.len());
        for arn in arns {
            // A customer policy cannot be deleted while attached, so every ARN resolves.
            let name = match self.managed_policy(caller, &arn).await {
                Ok(p) => p.name().to_owned(),
                Err(_) => arn.rsplit('/').next().unwrap_or(&arn).to_owned(),
            };
            out.push(AttachedPolicy {
                policy_name: Some(name),
                policy_arn: Some(arn),
            });
        }
        Ok(out)
    }

    pub(super) async fn list_attached_policies(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: Option<i32>,
    ) -> Result<(Vec<AttachedPolicy>, bool, Option<String>), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        let prefix = path_prefix.unwrap_or("/");
        let attached = self.attached_policies(caller, &entity).await?;
        let keyed = attached
            .into_iter()
            .filter(|p| policy_path(p.policy_arn.as_deref().unwrap_or("")).starts_with(prefix))
            .map(|p| {
                (
                    format!(
                        "{}\n{}",
                        p.policy_name.as_deref().unwrap_or_default().to_ascii_lowercase(),
                        p.policy_arn.as_deref().unwrap_or_default()
                    ),
                    p,
                )
            })
            .collect();
        page(keyed, marker, page_size(max_items))
    }

    pub(super) async fn put_inline_policy(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), ServiceError> {
        let size = documents::validate(document, PolicyKind::Identity)?;
        let entity = self.entity(caller, kind, name).await?;
        let quota = inline_quota(kind);
        self.store
            .put_inline_policy(&entity, policy_name, document, size, quota)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    match kind {
                        EntityKind::User => {
                            format!("Maximum policy size of {quota} bytes exceeded for user {}", entity.name)
                        }
                        EntityKind::Group => format!(
                            "Maximum policy size of {quota} bytes exceeded for group {}",
                            entity.name
                        ),
                        EntityKind::Role => {
                            format!("Maximum policy size of {quota} bytes exceeded for role {}", entity.name)
                        }
                    },
                ),
                e => errors::store(e),
            })
    }

    pub(super) async fn get_inline_policy(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
    ) -> Result<(EntityRef, oxiam_store::InlinePolicy), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        let policy = self
            .store
            .get_inline_policy(&entity, policy_name)
            .await
            .map_err(errors::store)?;
        Ok((entity, policy))
    }

    pub(super) async fn list_inline_policies(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        marker: Option<&str>,
        max_items: Option<i32>,
    ) -> Result<(Vec<String>, bool, Option<String>), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        let policies = self
            .store
            .inline_policies(kind, &entity.id)
            .await
            .map_err(errors::store)?;
        let keyed = policies
            .into_iter()
            .map(|p| (p.name.to_ascii_lowercase(), p.name))
            .collect();
        page(keyed, marker, page_size(max_items))
    }

    pub(super) async fn delete_inline_policy(
        &self,
        caller: &Principal,
        kind: EntityKind,
        name: &str,
        policy_name: &str,
    ) -> Result<(), ServiceError> {
        let entity = self.entity(caller, kind, name).await?;
        self.store
            .delete_inline_policy(&entity, policy_name)
            .await
            .map_err(errors::store)
    }
}

/// The path of a policy ARN: `/service-role/` of `arn:aws:iam::aws:policy/service-role/X`.
fn policy_path(arn: &str) -> &str {
    let rest = arn.split_once(":policy").map_or("/", |(_, r)| r);
    match rest.rfind('/') {
        Some(i) => &rest[..=i],
        None => "/",
    }
}
