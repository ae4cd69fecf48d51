//! The account: its alias, its summary, its credential report, and the authorization
//! details of everything in it.

use oxiam_protocol::iam::{
    AttachedPermissionsBoundary, CreateAccountAliasRequest, DeleteAccountAliasRequest, EntityType,
    GenerateCredentialReportResponse, GetAccountAuthorizationDetailsRequest, GetAccountAuthorizationDetailsResponse,
    GetAccountSummaryResponse, GetCredentialReportResponse, GroupDetail, ListAccountAliasesRequest,
    ListAccountAliasesResponse, ManagedPolicyDetail, PolicyDetail, PolicyVersion, ReportFormatType, ReportStateType,
    RoleDetail, SummaryKeyType, UserDetail, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{EntityKind, EntityRef, StoreError};

use super::{page, page_size};
use crate::{ACCESS_KEYS_PER_USER, Oxiam, Principal, documents, errors, ids};

/// A credential report is reused for this long before a new one is generated (AWS: 4 h).
const REPORT_REUSE_SECONDS: i64 = 4 * 3600;

const REPORT_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,\
password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,\
access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,\
access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,\
cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// The report's date format: `2018-06-01T06:55:24+00:00`.
fn report_time(t: i64) -> String {
    Timestamp(t).to_iso8601().replace('Z', "+00:00")
}

/// The ten access-key columns of one report row, for up to two keys.
fn key_columns(keys: &[oxiam_store::AccessKeyRow]) -> Vec<String> {
    let mut out = Vec::with_capacity(10);
    for i in 0..2 {
        match keys.get(i) {
            Some(k) => {
                out.push((k.status == "Active").to_string());
                out.push(report_time(k.created_at));
                match &k.last_used {
                    Some((at, service, region)) => {
                        out.push(report_time(*at));
                        out.push(region.clone());
                        out.push(service.clone());
                    }
                    None => out.extend(["N/A".to_owned(), "N/A".to_owned(), "N/A".to_owned()]),
                }
            }
            None => {
                out.push("false".to_owned());
                out.extend(["N/A".to_owned(), "N/A".to_owned(), "N/A".to_owned(), "N/A".to_owned()]);
            }
        }
    }
    out
}

impl Oxiam {
    pub(super) async fn create_account_alias(
        &self,
        caller: &Principal,
        input: CreateAccountAliasRequest,
    ) -> Result<(), ServiceError> {
        // AWS forbids aliases that read as an account id.
        if input.account_alias.len() == 12 && input.account_alias.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "The account alias cannot be a 12-digit number.",
            ));
        }
        self.store
            .set_account_alias(&caller.account_id, &input.account_alias)
            .await
            .map_err(|e| match e {
                StoreError::Conflict => ServiceError::new(
                    iam_errors::ENTITY_ALREADY_EXISTS,
                    format!("The account alias {} already exists.", input.account_alias),
                ),
                e => errors::internal(e),
            })
    }

    pub(super) async fn list_account_aliases(
        &self,
        caller: &Principal,
        _input: ListAccountAliasesRequest,
    ) -> Result<ListAccountAliasesResponse, ServiceError> {
        let aliases = self
            .store
            .account_aliases(&caller.account_id)
            .await
            .map_err(errors::internal)?;
        Ok(ListAccountAliasesResponse {
            account_aliases: aliases,
            is_truncated: Some(false),
            marker: None,
        })
    }

    pub(super) async fn delete_account_alias(
        &self,
        caller: &Principal,
        input: DeleteAccountAliasRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_account_alias(&caller.account_id, &input.account_alias)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ServiceError::new(
                    iam_errors::NO_SUCH_ENTITY,
                    format!("The account alias {} cannot be found.", input.account_alias),
                ),
                e => errors::internal(e),
            })
    }

    pub(super) async fn get_account_summary(
        &self,
        caller: &Principal,
    ) -> Result<GetAccountSummaryResponse, ServiceError> {
        use SummaryKeyType as K;
        let c = self
            .store
            .account_counts(&caller.account_id)
            .await
            .map_err(errors::internal)?;
        let entries: Vec<(SummaryKeyType, i64)> = vec![
            (K::Users, c.users),
            (K::UsersQuota, 5000),
            (K::Groups, c.groups),
            (K::GroupsQuota, 300),
            (K::ServerCertificates, 0),
            (K::ServerCertificatesQuota, 20),
            (K::UserPolicySizeQuota, documents::USER_INLINE_SIZE_QUOTA),
            (K::GroupPolicySizeQuota, documents::GROUP_INLINE_SIZE_QUOTA),
            (K::GroupsPerUserQuota, super::groups::GROUPS_PER_USER),
            (K::SigningCertificatesPerUserQuota, 2),
            (K::AccessKeysPerUserQuota, ACCESS_KEYS_PER_USER),
            (K::MFADevices, 0),
            (K::MFADevicesInUse, 0),
            (K::AccountMFAEnabled, 0),
            (K::AccountAccessKeysPresent, i64::from(c.root_access_keys > 0)),
            (K::AccountPasswordPresent, 0),
            (K::AccountSigningCertificatesPresent, 0),
            (
                K::AttachedPoliciesPerGroupQuota,
                super::attachments::ATTACHED_POLICIES_PER_ENTITY,
            ),
            (
                K::AttachedPoliciesPerRoleQuota,
                super::attachments::ATTACHED_POLICIES_PER_ENTITY,
            ),
            (
                K::AttachedPoliciesPerUserQuota,
                super::attachments::ATTACHED_POLICIES_PER_ENTITY,
            ),
            (K::Policies, c.policies),
            (K::PoliciesQuota, 1500),
            (K::PolicySizeQuota, documents::MANAGED_POLICY_SIZE_QUOTA),
            (K::PolicyVersionsInUse, c.attachments),
            (K::PolicyVersionsInUseQuota, 10000),
            (K::VersionsPerPolicyQuota, super::policies::VERSIONS_PER_POLICY),
            (K::GlobalEndpointTokenVersion, 1),
            (K::AssumeRolePolicySizeQuota, documents::TRUST_POLICY_SIZE_QUOTA),
            (K::InstanceProfiles, 0),
            (K::InstanceProfilesQuota, 1000),
            (K::Providers, 0),
            (K::RolePolicySizeQuota, documents::ROLE_INLINE_SIZE_QUOTA),
            (K::Roles, c.roles),
            (K::RolesQuota, 1000),
        ];
        Ok(GetAccountSummaryResponse {
            summary_map: Some(entries.into_iter().map(|(k, v)| (k, v as i32)).collect()),
        })
    }

    /// Generates the report synchronously; the first answer is still `STARTED`, as AWS
    /// answers a request that starts a generation, and later ones `COMPLETE`.
    pub(super) async fn generate_credential_report(
        &self,
        caller: &Principal,
        now: i64,
    ) -> Result<GenerateCredentialReportResponse, ServiceError> {
        let existing = self
            .store
            .credential_report(&caller.account_id)
            .await
            .map_err(errors::internal)?;
        if existing.is_some_and(|r| now - r.generated_at < REPORT_REUSE_SECONDS) {
            return Ok(GenerateCredentialReportResponse {
                state: Some(ReportStateType::COMPLETE),
                description: None,
            });
        }
        let content = self.credential_report_csv(caller).await?;
        self.store
            .save_credential_report(&caller.account_id, now, &content)
            .await
            .map_err(errors::internal)?;
        Ok(GenerateCredentialReportResponse {
            state: Some(ReportStateType::STARTED),
            description: Some("No report exists. Starting a new report generation task".to_owned()),
        })
    }

    async fn credential_report_csv(&self, caller: &Principal) -> Result<String, ServiceError> {
        let account = &caller.account_id;
        let created = self.store.account_created_at(account).await.map_err(errors::internal)?;
        let root_keys = self
            .store
            .list_access_keys(None, account)
            .await
            .map_err(errors::internal)?;
        let mut lines = vec![REPORT_HEADER.to_owned()];
        let mut root = vec![
            "<root_account>".to_owned(),
            ids::root_arn(account),
            report_time(created),
            "not_supported".to_owned(),
            "no_information".to_owned(),
            "not_supported".to_owned(),
            "not_supported".to_owned(),
            "false".to_owned(),
        ];
        root.extend(key_columns(&root_keys));
        root.extend(["false", "N/A", "false", "N/A"].map(str::to_owned));
        lines.push(root.join(","));
        for (user, keys) in self.store.users_with_keys(account).await.map_err(errors::internal)? {
            let mut row = vec![
                user.name.clone(),
                ids::user_arn(account, &user.path, &user.name),
                report_time(user.created_at),
                // No login profiles yet: no password to report on.
                "false".to_owned(),
                "N/A".to_owned(),
                "N/A".to_owned(),
                "N/A".to_owned(),
                "false".to_owned(),
            ];
            row.extend(key_columns(&keys));
            row.extend(["false", "N/A", "false", "N/A"].map(str::to_owned));
            lines.push(row.join(","));
        }
        Ok(lines.join("\n"))
    }

    pub(super) async fn get_credential_report(
        &self,
        caller: &Principal,
        now: i64,
    ) -> Result<GetCredentialReportResponse, ServiceError> {
        let report = self
            .store
            .credential_report(&caller.account_id)
            .await
            .map_err(errors::internal)?;
        let Some(report) = report else {
            return Err(ServiceError::new(
                iam_errors::CREDENTIAL_REPORT_NOT_PRESENT,
                "Credential report not present. Call GenerateCredentialReport to generate a new report.",
            ));
        };
        if now - report.generated_at >= REPORT_REUSE_SECONDS {
            return Err(ServiceError::new(
                iam_errors::CREDENTIAL_REPORT_EXPIRED,
                "Credential report is expired. Call GenerateCredentialReport to generate a new report.",
            ));
        }
        Ok(GetCredentialReportResponse {
            content: Some(report.content.into_bytes()),
            report_format: Some(ReportFormatType::TextCsv),
            generated_time: Some(Timestamp(report.generated_at)),
        })
    }

    pub(super) async fn get_account_authorization_details(
        &self,
        caller: &Principal,
        input: GetAccountAuthorizationDetailsRequest,
    ) -> Result<GetAccountAuthorizationDetailsResponse, ServiceError> {
        let filter = input.filter.unwrap_or_default();
        let wants = |t: EntityType| filter.is_empty() || filter.contains(&t);
        let account = &caller.account_id;
        let mut items: Vec<(String, Detail)> = Vec::new();
        if wants(EntityType::User) {
            for user in self
                .store
                .users_with_keys(account)
                .await
                .map_err(errors::internal)?
                .into_iter()
                .map(|(u, _)| u)
            {
                let entity = EntityRef {
                    kind: EntityKind::User,
                    id: user.user_id.clone(),
                    name: user.name.clone(),
                    path: user.path.clone(),
                };
                let full = self
                    .store
                    .get_user(account, &user.name)
                    .await
                    .map_err(errors::internal)?;
                let groups = self
                    .store
                    .groups_for_user(&user.user_id)
                    .await
                    .map_err(errors::internal)?;
                items.push((
                    format!("1{}", user.name.to_ascii_lowercase()),
                    Detail::User(UserDetail {
                        path: Some(user.path.clone()),
                        user_name: Some(user.name.clone()),
                        user_id: Some(user.user_id.clone()),
                        arn: Some(ids::user_arn(account, &user.path, &user.name)),
                        create_date: Some(Timestamp(user.created_at)),
                        user_policy_list: Some(self.inline_details(&entity).await?),
                        group_list: Some(groups.into_iter().map(|g| g.name).collect()),
                        attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
                        permissions_boundary: None::<AttachedPermissionsBoundary>,
                        tags: crate::tags::to_tags(&full.tags),
                    }),
                ));
            }
        }
        if wants(EntityType::Group) {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .list_groups(account, "/", after.as_deref(), 1000)
                    .await
                    .map_err(errors::internal)?;
                for g in &page.items {
                    let entity = EntityRef {
                        kind: EntityKind::Group,
                        id: g.group_id.clone(),
                        name: g.name.clone(),
                        path: g.path.clone(),
                    };
                    items.push((
                        format!("2{}", g.name.to_ascii_lowercase()),
                        Detail::Group(GroupDetail {
                            path: Some(g.path.clone()),
                            group_name: Some(g.name.clone()),
                            group_id: Some(g.group_id.clone()),
                            arn: Some(ids::group_arn(account, &g.path, &g.name)),
                            create_date: Some(Timestamp(g.created_at)),
                            group_policy_list: Some(self.inline_details(&entity).await?),
                            attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
                        }),
                    ));
                }
                match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        if wants(EntityType::Role) {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .list_roles(account, "/", after.as_deref(), 1000)
                    .await
                    .map_err(errors::internal)?;
                for r in &page.items {
                    let entity = EntityRef {
                        kind: EntityKind::Role,
                        id: r.role_id.clone(),
                        name: r.name.clone(),
                        path: r.path.clone(),
                    };
                    let full = self.store.get_role(account, &r.name).await.map_err(errors::internal)?;
                    let role = super::roles::role_of(&full, true);
                    items.push((
                        format!("3{}", r.name.to_ascii_lowercase()),
                        Detail::Role(RoleDetail {
                            path: Some(role.path),
                            role_name: Some(role.role_name),
                            role_id: Some(role.role_id),
                            arn: Some(role.arn),
                            create_date: Some(role.create_date),
                            assume_role_policy_document: role.assume_role_policy_document,
                            instance_profile_list: Some(Vec::new()),
                            role_policy_list: Some(self.inline_details(&entity).await?),
                            attached_managed_policies: Some(self.attached_policies(caller, &entity).await?),
                            permissions_boundary: None,
                            tags: role.tags,
                            role_last_used: role.role_last_used,
                        }),
                    ));
                }
                match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        let counts = self.store.attachment_counts(account).await.map_err(errors::internal)?;
        if wants(EntityType::LocalManagedPolicy) {
            let mut after = None;
            loop {
                let page = self
                    .store
                    .list_policies(account, "/", false, after.as_deref(), 1000)
                    .await
                    .map_err(errors::internal)?;
                for p in &page.items {
                    let versions = self
                        .store
                        .list_policy_versions(account, &p.arn)
                        .await
                        .map_err(errors::internal)?;
                    items.push((
                        format!("4{}", p.name.to_ascii_lowercase()),
                        Detail::Policy(ManagedPolicyDetail {
                            policy_name: Some(p.name.clone()),
                            policy_id: Some(p.policy_id.clone()),
                            arn: Some(p.arn.clone()),
                            path: Some(p.path.clone()),
                            default_version_id: Some(ids::version_id(p.default_version)),
                            attachment_count: Some(p.attachment_count as i32),
                            permissions_boundary_usage_count: Some(0),
                            is_attachable: Some(true),
                            description: p.description.clone(),
                            create_date: Some(Timestamp(p.created_at)),
                            update_date: Some(Timestamp(p.updated_at)),
                            policy_version_list: Some(
                                versions
                                    .iter()
                                    .map(|v| PolicyVersion {
                                        document: Some(v.document.clone()),
                                        version_id: Some(ids::version_id(v.version)),
                                        is_default_version: Some(v.is_default),
                                        create_date: Some(Timestamp(v.created_at)),
                                    })
                                    .collect(),
                            ),
                        }),
                    ));
                }
                match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        if wants(EntityType::AWSManagedPolicy) {
            // Only the AWS managed policies the account uses (see docs/differences.md).
            for (arn, count) in counts
                .iter()
                .filter(|(a, _)| a.starts_with(oxiam_aws_policies::ARN_PREFIX))
            {
                let Some(p) = oxiam_aws_policies::by_arn(arn) else {
                    continue;
                };
                items.push((
                    format!("5{}", p.name.to_ascii_lowercase()),
                    Detail::Policy(ManagedPolicyDetail {
                        policy_name: Some(p.name.to_owned()),
                        policy_id: Some(p.policy_id.to_owned()),
                        arn: Some(p.arn.to_owned()),
                        path: Some(p.path.to_owned()),
                        default_version_id: Some(p.default_version_id.to_owned()),
                        attachment_count: Some(*count as i32),
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
                    }),
                ));
            }
        }
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let (details, truncated, marker) = page(items, input.marker.as_deref(), page_size(input.max_items))?;
        let mut out = GetAccountAuthorizationDetailsResponse {
            user_detail_list: Some(Vec::new()),
            group_detail_list: Some(Vec::new()),
            role_detail_list: Some(Vec::new()),
            policies: Some(Vec::new()),
            is_truncated: Some(truncated),
            marker,
        };
        for detail in details {
            match detail {
                Detail::User(d) => out.user_detail_list.get_or_insert_with(Vec::new).push(d),
                Detail::Group(d) => out.group_detail_list.get_or_insert_with(Vec::new).push(d),
                Detail::Role(d) => out.role_detail_list.get_or_insert_with(Vec::new).push(d),
                Detail::Policy(d) => out.policies.get_or_insert_with(Vec::new).push(d),
            }
        }
        Ok(out)
    }

    async fn inline_details(&self, entity: &EntityRef) -> Result<Vec<PolicyDetail>, ServiceError> {
        let policies = self
            .store
            .inline_policies(entity.kind, &entity.id)
            .await
            .map_err(errors::internal)?;
        Ok(policies
            .into_iter()
            .map(|p| PolicyDetail {
                policy_name: Some(p.name),
                policy_document: Some(p.document),
            })
            .collect())
    }
}

/// One entry of GetAccountAuthorizationDetails, before it is sorted into its list.
enum Detail {
    User(UserDetail),
    Group(GroupDetail),
    Role(RoleDetail),
    Policy(ManagedPolicyDetail),
}
