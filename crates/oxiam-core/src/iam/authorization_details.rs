//! GetAccountAuthorizationDetails: every user, group, role and policy of the account with
//! what is attached to it, in pages.
//!
//! The listing is ordered by section (users, groups, roles, customer managed policies, AWS
//! managed policies) and within one by name regardless of case; a marker is the sort key
//! of the last entry returned (the section's digit, then the lower-cased name). A page
//! walks each section's name index from the marker and reads the details of the entries
//! it returns only, so a page costs the same whether the account holds ten users or a
//! million.

use oxiam_protocol::iam::{
    EntityType, GetAccountAuthorizationDetailsRequest, GetAccountAuthorizationDetailsResponse, GroupDetail,
    ManagedPolicyDetail, PolicyVersion, RoleDetail, UserDetail,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, EntityRef, GroupRow, PolicyRow, RoleRow, StoreError, UserRow};

use super::{page_size, resume_after};
use crate::{Oxiam, Principal, errors, ids};

/// The sections, in the order AWS lists them, with the digit that starts their sort keys.
const SECTIONS: [(EntityType, char); 5] = [
    (EntityType::User, '1'),
    (EntityType::Group, '2'),
    (EntityType::Role, '3'),
    (EntityType::LocalManagedPolicy, '4'),
    (EntityType::AWSManagedPolicy, '5'),
];

/// An entry of the page, before its details are read.
enum Entry {
    User(UserRow),
    Group(GroupRow),
    Role(RoleRow),
    Local(PolicyRow),
    Aws(&'static oxiam_aws_policies::AwsManagedPolicy, i64),
}

impl Oxiam {
    pub(super) async fn get_account_authorization_details(
        &self,
        caller: &Principal,
        input: GetAccountAuthorizationDetailsRequest,
    ) -> Result<GetAccountAuthorizationDetailsResponse, ServiceError> {
        self.flush_usage_before_read().await;
        let filter = input.filter.unwrap_or_default();
        let size = page_size(input.max_items);
        let after = resume_after(input.marker.as_deref())?;
        // One entry more than the page holds tells whether the listing is truncated.
        let mut entries: Vec<(String, Entry)> = Vec::new();
        for (section, digit) in SECTIONS {
            let wanted = size + 1 - entries.len();
            if wanted == 0 {
                break;
            }
            if !(filter.is_empty() || filter.contains(&section)) {
                continue;
            }
            // Where this section starts: after the marker's name if the marker is in it,
            // from its first entry if the marker is in an earlier section; a section
            // before the marker's is done.
            let start = match after.as_deref().map(|a| (a.chars().next(), a)) {
                Some((Some(first), a)) if first == digit => Some(&a[first.len_utf8()..]),
                Some((Some(first), _)) if first > digit => continue,
                _ => None,
            };
            let found = self.section(caller, &section, start, wanted).await?;
            entries.extend(
                found
                    .into_iter()
                    .map(|(name_key, entry)| (format!("{digit}{name_key}"), entry)),
            );
        }
        let truncated = entries.len() > size;
        entries.truncate(size);
        let marker = truncated
            .then(|| entries.last().map(|(key, _)| oxiam_store::marker::encode(key)))
            .flatten();
        let mut out = GetAccountAuthorizationDetailsResponse {
            user_detail_list: Some(Vec::new()),
            group_detail_list: Some(Vec::new()),
            role_detail_list: Some(Vec::new()),
            policies: Some(Vec::new()),
            is_truncated: Some(truncated),
            marker,
        };
        // An entity deleted between the listing and its details is left out of the page
        // (its `None`), as if the page had been read a moment later.
        for (_, entry) in entries {
            match entry {
                Entry::User(u) => out
                    .user_detail_list
                    .get_or_insert_default()
                    .extend(self.user_detail(caller, u).await?),
                Entry::Group(g) => out
                    .group_detail_list
                    .get_or_insert_default()
                    .push(self.group_detail(caller, g).await?),
                Entry::Role(r) => out
                    .role_detail_list
                    .get_or_insert_default()
                    .extend(self.role_detail(caller, r).await?),
                Entry::Local(p) => out
                    .policies
                    .get_or_insert_default()
                    .extend(self.local_policy_detail(caller, p).await?),
                Entry::Aws(p, count) => out.policies.get_or_insert_default().push(aws_policy_detail(p, count)),
            }
        }
        Ok(out)
    }

    /// Up to `limit` entries of one section after `start` (a lower-cased name), each with
    /// its lower-cased name.
    async fn section(
        &self,
        caller: &Principal,
        section: &EntityType,
        start: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Entry)>, ServiceError> {
        let account = &caller.account_id;
        let store = &self.store;
        let key = |name: &str| name.to_ascii_lowercase();
        Ok(match section {
            EntityType::User => store
                .list_users(account, "/", start, limit)
                .await
                .map_err(errors::store)?
                .items
                .into_iter()
                .map(|u| (key(&u.name), Entry::User(u)))
                .collect(),
            EntityType::Group => store
                .list_groups(account, "/", start, limit)
                .await
                .map_err(errors::store)?
                .items
                .into_iter()
                .map(|g| (key(&g.name), Entry::Group(g)))
                .collect(),
            EntityType::Role => store
                .list_roles(account, "/", start, limit)
                .await
                .map_err(errors::store)?
                .items
                .into_iter()
                .map(|r| (key(&r.name), Entry::Role(r)))
                .collect(),
            EntityType::LocalManagedPolicy => store
                .list_policies(account, "/", false, start, limit)
                .await
                .map_err(errors::store)?
                .items
                .into_iter()
                .map(|p| (key(&p.name), Entry::Local(p)))
                .collect(),
            EntityType::AWSManagedPolicy => {
                // Only the AWS managed policies the account uses (see docs/differences.md):
                // a handful, sorted here.
                let counts = store.attachment_counts(account).await.map_err(errors::store)?;
                let mut used: Vec<(String, Entry)> = counts
                    .iter()
                    .filter_map(|(arn, count)| Some((oxiam_aws_policies::by_arn(arn)?, *count)))
                    .map(|(p, count)| (key(p.name), Entry::Aws(p, count)))
                    .filter(|(name_key, _)| start.is_none_or(|s| name_key.as_str() > s))
                    .collect();
                used.sort_by(|a, b| a.0.cmp(&b.0));
                used.truncate(limit);
                used
            }
        })
    }

    async fn user_detail(&self, caller: &Principal, user: UserRow) -> Result<Option<UserDetail>, ServiceError> {
        let account = &caller.account_id;
        let entity = EntityRef {
            account_id: caller.account_id.clone(),
            kind: EntityKind::User,
            id: user.user_id.clone(),
            name: user.name.clone(),
            path: user.path.clone(),
        };
        // The listing carries no tags; the user's own row does.
        let full = match self.store.get_user(account, &user.name).await {
            Ok(full) => full,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(errors::store(e)),
        };
        let groups = self.store.groups_for_user(&user.user_id).await.map_err(errors::store)?;
        let boundary = match self.store.permissions_boundary(EntityKind::User, &user.user_id).await {
            Ok(boundary) => boundary.map(|(arn, _)| arn),
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(errors::store(e)),
        };
        Ok(Some(UserDetail {
            arn: Some(ids::user_arn(account, &user.path, &user.name)),
            path: Some(user.path),
            user_name: Some(user.name),
            user_id: Some(user.user_id),
            create_date: Some(Timestamp(user.created_at)),
            // Left out when empty, while Tags is always there (empty too): as AWS answers.
            user_policy_list: Some(self.inline_details(&entity).await?).filter(|list| !list.is_empty()),
            group_list: Some(groups.into_iter().map(|g| g.name).collect()),
            attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
            permissions_boundary: super::boundaries::attached(boundary),
            tags: Some(crate::tags::to_tags(&full.tags).unwrap_or_default()),
        }))
    }

    async fn group_detail(&self, caller: &Principal, group: GroupRow) -> Result<GroupDetail, ServiceError> {
        let entity = EntityRef {
            account_id: caller.account_id.clone(),
            kind: EntityKind::Group,
            id: group.group_id.clone(),
            name: group.name.clone(),
            path: group.path.clone(),
        };
        Ok(GroupDetail {
            arn: Some(ids::group_arn(&caller.account_id, &group.path, &group.name)),
            path: Some(group.path),
            group_name: Some(group.name),
            group_id: Some(group.group_id),
            create_date: Some(Timestamp(group.created_at)),
            group_policy_list: Some(self.inline_details(&entity).await?),
            attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
        })
    }

    async fn role_detail(&self, caller: &Principal, role: RoleRow) -> Result<Option<RoleDetail>, ServiceError> {
        let entity = EntityRef {
            account_id: caller.account_id.clone(),
            kind: EntityKind::Role,
            id: role.role_id.clone(),
            name: role.name.clone(),
            path: role.path.clone(),
        };
        // The listing carries no tags or last use; the role's own row does.
        let full = match self.store.get_role(&caller.account_id, &role.name).await {
            Ok(full) => full,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(errors::store(e)),
        };
        let role = super::roles::role_of(&full, true);
        Ok(Some(RoleDetail {
            path: Some(role.path),
            role_name: Some(role.role_name),
            role_id: Some(role.role_id),
            arn: Some(role.arn),
            create_date: Some(role.create_date),
            assume_role_policy_document: role.assume_role_policy_document,
            instance_profile_list: Some(
                self.store
                    .instance_profiles_for_role(&entity.id)
                    .await
                    .map_err(errors::store)?
                    .iter()
                    .map(|p| super::instance_profiles::instance_profile_of(p, false))
                    .collect(),
            ),
            role_policy_list: Some(self.inline_details(&entity).await?),
            attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
            permissions_boundary: role.permissions_boundary,
            tags: Some(role.tags.unwrap_or_default()),
            role_last_used: role.role_last_used,
        }))
    }

    async fn local_policy_detail(
        &self,
        caller: &Principal,
        p: PolicyRow,
    ) -> Result<Option<ManagedPolicyDetail>, ServiceError> {
        let versions = match self.store.list_policy_versions(&caller.account_id, &p.arn).await {
            Ok(versions) => versions,
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(errors::store(e)),
        };
        Ok(Some(ManagedPolicyDetail {
            policy_name: Some(p.name),
            policy_id: Some(p.policy_id),
            arn: Some(p.arn),
            path: Some(p.path),
            default_version_id: Some(ids::version_id(p.default_version)),
            attachment_count: Some(p.attachment_count as i32),
            permissions_boundary_usage_count: Some(0),
            is_attachable: Some(true),
            description: p.description,
            create_date: Some(Timestamp(p.created_at)),
            update_date: Some(Timestamp(p.updated_at)),
            policy_version_list: Some(
                versions
                    .into_iter()
                    .map(|v| PolicyVersion {
                        version_id: Some(ids::version_id(v.version)),
                        document: Some(v.document),
                        is_default_version: Some(v.is_default),
                        create_date: Some(Timestamp(v.created_at)),
                    })
                    .collect(),
            ),
        }))
    }
}

fn aws_policy_detail(p: &oxiam_aws_policies::AwsManagedPolicy, count: i64) -> ManagedPolicyDetail {
    ManagedPolicyDetail {
        policy_name: Some(p.name.to_owned()),
        policy_id: Some(p.policy_id.to_owned()),
        arn: Some(p.arn.to_owned()),
        path: Some(p.path.to_owned()),
        default_version_id: Some(p.default_version_id.to_owned()),
        attachment_count: Some(count as i32),
        permissions_boundary_usage_count: Some(0),
        is_attachable: Some(p.is_attachable),
        description: (!p.description.is_empty()).then(|| p.description.to_owned()),
        create_date: Some(Timestamp(p.create_date)),
        update_date: Some(Timestamp(p.update_date)),
        policy_version_list: Some(vec![PolicyVersion {
            document: Some(p.document.to_owned()),
            version_id: Some(p.default_version_id.to_owned()),
            is_default_version: Some(true),
            create_date: Some(Timestamp(p.update_date)),
        }]),
    }
}
