//! The account: its alias, its summary, its credential report, and the authorization
//! details of everything in it.

use oxiam_protocol::iam::{
    CreateAccountAliasRequest, DeleteAccountAliasRequest, GenerateCredentialReportResponse, GetAccountSummaryResponse,
    GetCredentialReportResponse, GlobalEndpointTokenVersion, ListAccountAliasesRequest, ListAccountAliasesResponse,
    PolicyDetail, ReportFormatType, ReportStateType, SetSecurityTokenServicePreferencesRequest, SummaryKeyType,
    errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::EntityRef;

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

/// The four signing-certificate columns of one report row, for up to two certificates in
/// upload order (as the access keys' columns, a certificate's date whatever its status).
fn certificate_columns(certificates: Option<&Vec<(bool, i64)>>) -> Vec<String> {
    let mut out = Vec::with_capacity(4);
    for i in 0..2 {
        match certificates.and_then(|c| c.get(i)) {
            Some(&(active, uploaded_at)) => {
                out.push(active.to_string());
                out.push(report_time(uploaded_at));
            }
            None => out.extend(["false".to_owned(), "N/A".to_owned()]),
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
            .map_err(errors::store)
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
            .map_err(errors::store)?;
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
            .map_err(errors::store)
    }

    /// Records the token version; oxiam's session tokens are valid in every region either
    /// way, so it changes only what GetAccountSummary says.
    pub(super) async fn set_security_token_service_preferences(
        &self,
        caller: &Principal,
        input: SetSecurityTokenServicePreferencesRequest,
    ) -> Result<(), ServiceError> {
        let version = match input.global_endpoint_token_version {
            GlobalEndpointTokenVersion::V1Token => 1,
            GlobalEndpointTokenVersion::V2Token => 2,
        };
        self.store
            .set_global_endpoint_token_version(&caller.account_id, version)
            .await
            .map_err(errors::store)
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
            .map_err(errors::store)?;
        let entries: Vec<(SummaryKeyType, i64)> = vec![
            (K::Users, c.users),
            (K::UsersQuota, 5000),
            (K::Groups, c.groups),
            (K::GroupsQuota, 300),
            (K::ServerCertificates, c.server_certificates),
            (K::ServerCertificatesQuota, 20),
            (K::UserPolicySizeQuota, documents::USER_INLINE_SIZE_QUOTA),
            (K::GroupPolicySizeQuota, documents::GROUP_INLINE_SIZE_QUOTA),
            (K::GroupsPerUserQuota, super::groups::GROUPS_PER_USER),
            (K::SigningCertificatesPerUserQuota, 2),
            (K::AccessKeysPerUserQuota, ACCESS_KEYS_PER_USER),
            (K::MFADevices, c.mfa_devices),
            (K::MFADevicesInUse, c.mfa_devices_in_use),
            (K::AccountMFAEnabled, 0),
            (K::AccountAccessKeysPresent, i64::from(c.root_access_keys > 0)),
            (K::AccountPasswordPresent, 0),
            (
                K::AccountSigningCertificatesPresent,
                i64::from(c.root_signing_certificates > 0),
            ),
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
            (K::GlobalEndpointTokenVersion, c.global_endpoint_token_version),
            (K::AssumeRolePolicySizeQuota, documents::TRUST_POLICY_SIZE_QUOTA),
            (K::InstanceProfiles, c.instance_profiles),
            (K::InstanceProfilesQuota, 1000),
            (K::Providers, c.identity_providers),
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
            .map_err(errors::store)?;
        if existing.is_some_and(|r| now - r.generated_at < REPORT_REUSE_SECONDS) {
            return Ok(GenerateCredentialReportResponse {
                state: Some(ReportStateType::COMPLETE),
                description: None,
            });
        }
        self.flush_usage_before_read().await;
        let content = self.credential_report_csv(caller).await?;
        self.store
            .save_credential_report(&caller.account_id, now, &content)
            .await
            .map_err(errors::store)?;
        Ok(GenerateCredentialReportResponse {
            state: Some(ReportStateType::STARTED),
            description: Some("No report exists. Starting a new report generation task".to_owned()),
        })
    }

    async fn credential_report_csv(&self, caller: &Principal) -> Result<String, ServiceError> {
        let account = &caller.account_id;
        let created = self.store.account_created_at(account).await.map_err(errors::store)?;
        let root_keys = self
            .store
            .list_access_keys(None, account)
            .await
            .map_err(errors::store)?;
        // mfa_active: the users with a device enabled (far fewer than users).
        let with_mfa: std::collections::HashSet<String> = self
            .store
            .list_mfa_devices(account, oxiam_store::AssignmentFilter::Assigned, None)
            .await
            .map_err(errors::store)?
            .into_iter()
            .filter_map(|d| d.user.map(|(user_id, _)| user_id))
            .collect();
        // The password columns: when each user's password was last set, and how long one
        // lasts under the account's policy.
        let passwords: std::collections::HashMap<String, i64> = self
            .store
            .login_profiles(account)
            .await
            .map_err(errors::store)?
            .into_iter()
            .collect();
        let max_age_days = self
            .store
            .password_policy(account)
            .await
            .map_err(errors::store)?
            .and_then(|p| p.max_age_days);
        // The signing certificates, by owner (the root's under the account's id).
        let mut certificates: std::collections::HashMap<String, Vec<(bool, i64)>> = std::collections::HashMap::new();
        for (owner, active, uploaded_at) in self
            .store
            .account_signing_certificates(account)
            .await
            .map_err(errors::store)?
        {
            certificates.entry(owner).or_default().push((active, uploaded_at));
        }
        let mut report = String::from(REPORT_HEADER);
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
        root.extend(certificate_columns(certificates.get(account)));
        push_line(&mut report, &root);
        // A page at a time: a million users make a report of about 150 MB, read once.
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .users_with_keys(account, after.as_deref(), 1000)
                .await
                .map_err(errors::store)?;
            for (user, keys) in page.items {
                let changed = passwords.get(&user.user_id).copied();
                let mut row = vec![
                    user.name.clone(),
                    ids::user_arn(account, &user.path, &user.name),
                    report_time(user.created_at),
                    changed.is_some().to_string(),
                    // oxiam has no console: a password is never used to sign in.
                    changed.map_or("N/A", |_| "no_information").to_owned(),
                    changed.map_or_else(|| "N/A".to_owned(), report_time),
                    match (changed, max_age_days) {
                        (Some(at), Some(days)) if days > 0 => report_time(at + days * 86_400),
                        _ => "N/A".to_owned(),
                    },
                    with_mfa.contains(&user.user_id).to_string(),
                ];
                row.extend(key_columns(&keys));
                row.extend(certificate_columns(certificates.get(&user.user_id)));
                push_line(&mut report, &row);
            }
            match page.next_marker.and_then(|m| oxiam_store::marker::decode(&m)) {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(report)
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
            .map_err(errors::store)?;
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

    pub(super) async fn inline_details(&self, entity: &EntityRef) -> Result<Vec<PolicyDetail>, ServiceError> {
        let policies = self
            .store
            .inline_policies(entity.kind, &entity.id)
            .await
            .map_err(errors::store)?;
        Ok(policies
            .into_iter()
            .map(|p| PolicyDetail {
                policy_name: Some(p.name),
                policy_document: Some(p.document),
            })
            .collect())
    }
}

/// Appends one CSV line (after a newline: the report has none at its end).
fn push_line(report: &mut String, fields: &[String]) {
    report.push('\n');
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            report.push(',');
        }
        report.push_str(field);
    }
}
