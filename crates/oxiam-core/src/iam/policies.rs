//! Managed policies: customer managed ones (stored, versioned, at most five versions) and
//! AWS managed ones (the built-in catalogue: readable and attachable, never modifiable).

use oxiam_aws_policies::AwsManagedPolicy;
use oxiam_protocol::iam::{
    CreatePolicyRequest, CreatePolicyResponse, CreatePolicyVersionRequest, CreatePolicyVersionResponse,
    DeletePolicyRequest, DeletePolicyVersionRequest, EntityType, GetPolicyRequest, GetPolicyResponse,
    GetPolicyVersionRequest, GetPolicyVersionResponse, ListEntitiesForPolicyRequest, ListEntitiesForPolicyResponse,
    ListPoliciesRequest, ListPoliciesResponse, ListPolicyTagsRequest, ListPolicyTagsResponse,
    ListPolicyVersionsRequest, ListPolicyVersionsResponse, Policy, PolicyGroup, PolicyRole, PolicyScopeType,
    PolicyUsageType, PolicyUser, PolicyVersion, SetDefaultPolicyVersionRequest, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, NewPolicy, PolicyRow, StoreError};

use super::{page, page_size};
use crate::{Oxiam, Principal, documents, errors, ids};

/// Versions one managed policy may keep.
pub const VERSIONS_PER_POLICY: i64 = 5;

/// A managed policy named by ARN: from the catalogue, or the account's own.
pub(crate) enum ManagedPolicy {
    Aws(&'static AwsManagedPolicy),
    Customer(PolicyRow),
}

impl ManagedPolicy {
    pub(crate) fn name(&self) -> &str {
        match self {
            ManagedPolicy::Aws(p) => p.name,
            ManagedPolicy::Customer(p) => &p.name,
        }
    }
}

fn aws_policy(p: &AwsManagedPolicy, attachment_count: i64, with_description: bool) -> Policy {
    Policy {
        policy_name: Some(p.name.to_owned()),
        policy_id: Some(p.policy_id.to_owned()),
        arn: Some(p.arn.to_owned()),
        path: Some(p.path.to_owned()),
        default_version_id: Some(p.default_version_id.to_owned()),
        attachment_count: Some(attachment_count as i32),
        permissions_boundary_usage_count: Some(0),
        is_attachable: Some(p.is_attachable),
        description: (with_description && !p.description.is_empty()).then(|| p.description.to_owned()),
        create_date: Some(Timestamp(p.create_date)),
        update_date: Some(Timestamp(p.update_date)),
        tags: None,
    }
}

pub(crate) fn customer_policy(p: &PolicyRow, with_details: bool) -> Policy {
    Policy {
        policy_name: Some(p.name.clone()),
        policy_id: Some(p.policy_id.clone()),
        arn: Some(p.arn.clone()),
        path: Some(p.path.clone()),
        default_version_id: Some(ids::version_id(p.default_version)),
        attachment_count: Some(p.attachment_count as i32),
        permissions_boundary_usage_count: Some(0),
        is_attachable: Some(true),
        // ListPolicies leaves out descriptions and tags; GetPolicy has them.
        description: if with_details { p.description.clone() } else { None },
        create_date: Some(Timestamp(p.created_at)),
        update_date: Some(Timestamp(p.updated_at)),
        tags: if with_details {
            crate::tags::to_tags(&p.tags)
        } else {
            None
        },
    }
}

fn aws_managed_is_read_only(caller: &Principal, action: &str, arn: &str) -> ServiceError {
    // AWS refuses changes to its own policies as an authorization failure, even for root.
    ServiceError::new(
        oxiam_protocol::common_errors::ACCESS_DENIED,
        format!(
            "User: {} is not authorized to perform: {action} on resource: policy {arn}",
            caller.arn()
        ),
    )
}

impl Oxiam {
    /// Finds a managed policy by ARN: AWS managed ones in the catalogue, customer managed
    /// ones in the caller's account.
    pub(crate) async fn managed_policy(&self, caller: &Principal, arn: &str) -> Result<ManagedPolicy, ServiceError> {
        self.managed_policy_in(&caller.account_id, arn).await
    }

    /// A managed policy `account_id` can use: its own, or an AWS managed one.
    pub(crate) async fn managed_policy_in(&self, account_id: &str, arn: &str) -> Result<ManagedPolicy, ServiceError> {
        check_policy_arn(arn)?;
        if arn.starts_with(oxiam_aws_policies::ARN_PREFIX) {
            return oxiam_aws_policies::by_arn(arn)
                .map(ManagedPolicy::Aws)
                .ok_or_else(|| errors::no_such_policy(arn));
        }
        match self.store.get_policy(account_id, arn).await {
            Ok(p) => Ok(ManagedPolicy::Customer(p)),
            Err(e) => Err(errors::store(e)),
        }
    }

    fn customer_arn<'a>(&self, caller: &Principal, action: &str, arn: &'a str) -> Result<&'a str, ServiceError> {
        if arn.starts_with(oxiam_aws_policies::ARN_PREFIX) {
            return Err(aws_managed_is_read_only(caller, action, arn));
        }
        Ok(arn)
    }

    pub(super) async fn create_policy(
        &self,
        caller: &Principal,
        input: CreatePolicyRequest,
        now: i64,
    ) -> Result<CreatePolicyResponse, ServiceError> {
        documents::validate_managed(&input.policy_document)?;
        let tags = crate::tags::policy_pairs(input.tags)?;
        let path = input.path.as_deref().unwrap_or("/");
        let policy_id = ids::policy_id();
        let arn = ids::policy_arn(&caller.account_id, path, &input.policy_name);
        let row = self
            .store
            .create_policy(NewPolicy {
                account_id: &caller.account_id,
                policy_id: &policy_id,
                name: &input.policy_name,
                path,
                arn: &arn,
                description: input.description.as_deref(),
                document: &input.policy_document,
                created_at: now,
                tags: &tags,
            })
            .await
            .map_err(errors::store)?;
        Ok(CreatePolicyResponse {
            policy: Some(customer_policy(&row, true)),
        })
    }

    pub(super) async fn get_policy(
        &self,
        caller: &Principal,
        input: GetPolicyRequest,
    ) -> Result<GetPolicyResponse, ServiceError> {
        let policy = match self.managed_policy(caller, &input.policy_arn).await? {
            ManagedPolicy::Aws(p) => {
                let count = self.aws_attachment_count(caller, p.arn).await?;
                aws_policy(p, count, true)
            }
            ManagedPolicy::Customer(p) => customer_policy(&p, true),
        };
        Ok(GetPolicyResponse { policy: Some(policy) })
    }

    async fn aws_attachment_count(&self, caller: &Principal, arn: &str) -> Result<i64, ServiceError> {
        let counts = self
            .store
            .attachment_counts(&caller.account_id)
            .await
            .map_err(errors::store)?;
        Ok(counts.into_iter().find(|(a, _)| a == arn).map_or(0, |(_, n)| n))
    }

    /// Lists AWS managed and/or the account's policies, merged in name order. Customer
    /// managed policies are bounded by their quota and the catalogue is in memory, so the
    /// merge is done here rather than in SQL.
    pub(super) async fn list_policies(
        &self,
        caller: &Principal,
        input: ListPoliciesRequest,
    ) -> Result<ListPoliciesResponse, ServiceError> {
        let scope = input.scope.unwrap_or(PolicyScopeType::All);
        let prefix = input.path_prefix.as_deref().unwrap_or("/");
        let only_attached = input.only_attached.unwrap_or(false);
        let counts = self
            .store
            .attachment_counts(&caller.account_id)
            .await
            .map_err(errors::store)?;
        let used = |count: i64| match input.policy_usage_filter {
            // No policy is used as a permissions boundary yet.
            Some(PolicyUsageType::PermissionsBoundary) => false,
            Some(PolicyUsageType::PermissionsPolicy) => count > 0,
            None => !only_attached || count > 0,
        };
        // Each key starts with its group: the account's own policies (`0`) come before AWS's
        // (`1`), as in AWS, whose first page without a scope shows the account's policies
        // rather than a hundred of its own. Within a group, by name.
        let mut all: Vec<(String, Policy)> = Vec::new();
        if scope != PolicyScopeType::Local {
            for p in oxiam_aws_policies::all().iter().filter(|p| p.path.starts_with(prefix)) {
                let count = counts.iter().find(|(a, _)| a == p.arn).map_or(0, |(_, n)| *n);
                if used(count) && (!only_attached || count > 0) {
                    all.push((
                        format!("1{}\n{}", p.name.to_ascii_lowercase(), p.arn),
                        aws_policy(p, count, false),
                    ));
                }
            }
        }
        if scope != PolicyScopeType::AWS {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .list_policies(&caller.account_id, prefix, only_attached, after.as_deref(), 1000)
                    .await
                    .map_err(errors::store)?;
                for p in &page.items {
                    if used(p.attachment_count) {
                        all.push((
                            format!("0{}\n{}", p.name.to_ascii_lowercase(), p.arn),
                            customer_policy(p, false),
                        ));
                    }
                }
                match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        let (policies, is_truncated, marker) = page(all, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListPoliciesResponse {
            policies: Some(policies),
            is_truncated: Some(is_truncated),
            marker,
        })
    }

    pub(super) async fn delete_policy(
        &self,
        caller: &Principal,
        input: DeletePolicyRequest,
    ) -> Result<(), ServiceError> {
        let arn = self.customer_arn(caller, "iam:DeletePolicy", &input.policy_arn)?;
        self.store
            .delete_policy(&caller.account_id, arn)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn create_policy_version(
        &self,
        caller: &Principal,
        input: CreatePolicyVersionRequest,
        now: i64,
    ) -> Result<CreatePolicyVersionResponse, ServiceError> {
        let arn = self.customer_arn(caller, "iam:CreatePolicyVersion", &input.policy_arn)?;
        documents::validate_managed(&input.policy_document)?;
        let set_default = input.set_as_default.unwrap_or(false);
        let version = self
            .store
            .create_policy_version(&caller.account_id, arn, &input.policy_document, set_default, now, VERSIONS_PER_POLICY)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
                ),
                e => errors::store(e),
            })?;
        Ok(CreatePolicyVersionResponse {
            policy_version: Some(PolicyVersion {
                // CreatePolicyVersion does not echo the document.
                document: None,
                version_id: Some(ids::version_id(version)),
                is_default_version: Some(set_default),
                create_date: Some(Timestamp(now)),
            }),
        })
    }

    pub(super) async fn get_policy_version(
        &self,
        caller: &Principal,
        input: GetPolicyVersionRequest,
    ) -> Result<GetPolicyVersionResponse, ServiceError> {
        let missing = || no_such_version(&input.policy_arn, &input.version_id);
        let version = match self.managed_policy(caller, &input.policy_arn).await? {
            ManagedPolicy::Aws(p) if p.default_version_id == input.version_id => PolicyVersion {
                document: Some(p.document.to_owned()),
                version_id: Some(p.default_version_id.to_owned()),
                is_default_version: Some(true),
                create_date: Some(Timestamp(p.update_date)),
            },
            ManagedPolicy::Aws(_) => return Err(missing()),
            ManagedPolicy::Customer(p) => {
                let n = ids::parse_version_id(&input.version_id).ok_or_else(missing)?;
                let v = self
                    .store
                    .get_policy_version(&caller.account_id, &p.arn, n)
                    .await
                    .map_err(errors::store)?;
                version_of(&v)
            }
        };
        Ok(GetPolicyVersionResponse {
            policy_version: Some(version),
        })
    }

    pub(super) async fn list_policy_versions(
        &self,
        caller: &Principal,
        input: ListPolicyVersionsRequest,
    ) -> Result<ListPolicyVersionsResponse, ServiceError> {
        let versions: Vec<PolicyVersion> = match self.managed_policy(caller, &input.policy_arn).await? {
            // The catalogue keeps only each AWS managed policy's default version.
            ManagedPolicy::Aws(p) => vec![PolicyVersion {
                document: None,
                version_id: Some(p.default_version_id.to_owned()),
                is_default_version: Some(true),
                create_date: Some(Timestamp(p.update_date)),
            }],
            ManagedPolicy::Customer(p) => self
                .store
                .list_policy_versions(&caller.account_id, &p.arn)
                .await
                .map_err(errors::store)?
                .iter()
                .map(|v| PolicyVersion {
                    document: None,
                    ..version_of(v)
                })
                .collect(),
        };
        // Newest first, keyed so that a marker stays valid when versions come and go.
        let keyed = versions
            .into_iter()
            .map(|v| {
                let n = v.version_id.as_deref().and_then(ids::parse_version_id).unwrap_or(0);
                (format!("{:020}", i64::MAX - n), v)
            })
            .collect();
        let (versions, is_truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListPolicyVersionsResponse {
            versions: Some(versions),
            is_truncated: Some(is_truncated),
            marker,
        })
    }

    pub(super) async fn set_default_policy_version(
        &self,
        caller: &Principal,
        input: SetDefaultPolicyVersionRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let arn = self.customer_arn(caller, "iam:SetDefaultPolicyVersion", &input.policy_arn)?;
        let n = ids::parse_version_id(&input.version_id).ok_or_else(|| no_such_version(arn, &input.version_id))?;
        self.store
            .set_default_policy_version(&caller.account_id, arn, n, now)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_policy_version(
        &self,
        caller: &Principal,
        input: DeletePolicyVersionRequest,
    ) -> Result<(), ServiceError> {
        let arn = self.customer_arn(caller, "iam:DeletePolicyVersion", &input.policy_arn)?;
        let n = ids::parse_version_id(&input.version_id).ok_or_else(|| no_such_version(arn, &input.version_id))?;
        self.store
            .delete_policy_version(&caller.account_id, arn, n)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_entities_for_policy(
        &self,
        caller: &Principal,
        input: ListEntitiesForPolicyRequest,
    ) -> Result<ListEntitiesForPolicyResponse, ServiceError> {
        self.managed_policy(caller, &input.policy_arn).await?;
        let prefix = input.path_prefix.as_deref().unwrap_or("/");
        let entities = self
            .store
            .policy_entities(&caller.account_id, &input.policy_arn)
            .await
            .map_err(errors::store)?;
        let wanted = |kind: EntityKind| match input.entity_filter {
            None => true,
            Some(EntityType::User) => kind == EntityKind::User,
            Some(EntityType::Group) => kind == EntityKind::Group,
            Some(EntityType::Role) => kind == EntityKind::Role,
            Some(_) => false,
        };
        let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
        for e in entities
            .into_iter()
            .filter(|e| wanted(e.kind) && e.path.starts_with(prefix))
        {
            match e.kind {
                EntityKind::User => users.push(PolicyUser {
                    user_name: Some(e.name),
                    user_id: Some(e.id),
                }),
                EntityKind::Group => groups.push(PolicyGroup {
                    group_name: Some(e.name),
                    group_id: Some(e.id),
                }),
                EntityKind::Role => roles.push(PolicyRole {
                    role_name: Some(e.name),
                    role_id: Some(e.id),
                }),
            }
        }
        // One listing across the three kinds (users, groups, roles, each by name), paged as
        // a whole, as MaxItems counts entities of any kind.
        let keyed: Vec<(String, Listed)> = users
            .into_iter()
            .map(|u| {
                (
                    format!("1{}", u.user_name.as_deref().unwrap_or_default().to_ascii_lowercase()),
                    Listed::User(u),
                )
            })
            .chain(groups.into_iter().map(|g| {
                (
                    format!("2{}", g.group_name.as_deref().unwrap_or_default().to_ascii_lowercase()),
                    Listed::Group(g),
                )
            }))
            .chain(roles.into_iter().map(|r| {
                (
                    format!("3{}", r.role_name.as_deref().unwrap_or_default().to_ascii_lowercase()),
                    Listed::Role(r),
                )
            }))
            .collect();
        let (entries, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
        for entry in entries {
            match entry {
                Listed::User(u) => users.push(u),
                Listed::Group(g) => groups.push(g),
                Listed::Role(r) => roles.push(r),
            }
        }
        Ok(ListEntitiesForPolicyResponse {
            policy_groups: Some(groups),
            policy_users: Some(users),
            policy_roles: Some(roles),
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn list_policy_tags(
        &self,
        caller: &Principal,
        input: ListPolicyTagsRequest,
    ) -> Result<ListPolicyTagsResponse, ServiceError> {
        let pairs = match self.managed_policy(caller, &input.policy_arn).await? {
            ManagedPolicy::Aws(_) => Vec::new(),
            ManagedPolicy::Customer(p) => p.tags,
        };
        let (tags, truncated, marker) = super::tag_page(&pairs, input.marker.as_deref(), input.max_items)?;
        Ok(ListPolicyTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }
}

/// Whether `arn` is a well-formed policy ARN of this partition (InvalidInput if not).
pub(super) fn check_policy_arn(arn: &str) -> Result<(), ServiceError> {
    errors::iam_arn_scope(arn)?;
    if !is_policy_arn(arn) {
        return Err(ServiceError::new(
            iam_errors::INVALID_INPUT,
            format!("ARN {arn} is not valid."),
        ));
    }
    Ok(())
}

/// `arn:aws:iam::(aws|ACCOUNT):policy/PATH/NAME`, with the model's path and name alphabets.
pub(super) fn is_policy_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws:iam::") else {
        return false;
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return false;
    };
    let account_ok = account == "aws" || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    let Some(path_and_name) = resource.strip_prefix("policy/") else {
        return false;
    };
    account_ok
        && path_and_name.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        })
}

/// One entity of ListEntitiesForPolicy, before it is sorted into its list.
enum Listed {
    User(PolicyUser),
    Group(PolicyGroup),
    Role(PolicyRole),
}

fn version_of(v: &oxiam_store::PolicyVersionRow) -> PolicyVersion {
    PolicyVersion {
        document: Some(v.document.clone()),
        version_id: Some(ids::version_id(v.version)),
        is_default_version: Some(v.is_default),
        create_date: Some(Timestamp(v.created_at)),
    }
}

fn no_such_version(arn: &str, version_id: &str) -> ServiceError {
    ServiceError::new(
        iam_errors::NO_SUCH_ENTITY,
        format!("Policy {arn} version {version_id} does not exist or is not attachable."),
    )
}
