//! The account itself: its alias, what it holds (for GetAccountSummary), and its
//! credential report.

use crate::{Store, StoreError, Subject};

/// How many of each entity an account holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountCounts {
    /// IAM users.
    pub users: i64,
    /// Groups.
    pub groups: i64,
    /// Roles.
    pub roles: i64,
    /// Customer managed policies.
    pub policies: i64,
    /// Managed policy attachments (each attached policy's default version is in use).
    pub attachments: i64,
    /// Access keys of the root.
    pub root_access_keys: i64,
    /// Instance profiles.
    pub instance_profiles: i64,
    /// Identity providers (OpenID Connect).
    pub identity_providers: i64,
    /// Virtual MFA devices.
    pub mfa_devices: i64,
    /// Virtual MFA devices enabled for a user.
    pub mfa_devices_in_use: i64,
    /// Server certificates.
    pub server_certificates: i64,
    /// Signing certificates of the root.
    pub root_signing_certificates: i64,
    /// The version of the global STS endpoint's session tokens (1 or 2).
    pub global_endpoint_token_version: i64,
}

/// An account the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Its 12-digit id.
    pub account_id: String,
    /// When it was created.
    pub created_at: i64,
    /// How it came to be: `bootstrap` (a server's first start) or `operator`
    /// (`oxiam account create`).
    pub origin: String,
}

/// A generated credential report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReportRow {
    /// When it was generated.
    pub generated_at: i64,
    /// The CSV text.
    pub content: String,
}

impl Store {
    /// Creates an account with its root's first access key, in one transaction;
    /// `Conflict` if the account id or the key id is taken.
    pub async fn create_account(
        &self,
        account_id: &str,
        now: i64,
        root_key: &crate::AccessKeyRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO accounts (account_id, created_at, origin, root_access_key_count) \
             VALUES ($1, $2, 'operator', 1)",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::Account, account_id))?;
        self.insert_key(&mut tx, root_key).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every account, the bootstrap account first, then by creation.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT account_id, created_at, origin FROM accounts \
             ORDER BY CASE WHEN origin = 'bootstrap' THEN 0 ELSE 1 END, created_at, account_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account_id, created_at, origin)| AccountRow {
                account_id,
                created_at,
                origin,
            })
            .collect())
    }

    /// Sets the account's alias, replacing any other (an account has at most one);
    /// `Conflict` if another account uses it.
    pub async fn set_account_alias(&self, account_id: &str, alias: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM account_aliases WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO account_aliases (alias, account_id) VALUES ($1, $2)")
            .bind(alias)
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_write(Subject::AccountAlias, alias))?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's aliases (none or one).
    pub async fn account_aliases(&self, account_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT alias FROM account_aliases WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Deletes the alias if it is the account's; `NotFound` otherwise.
    pub async fn delete_account_alias(&self, account_id: &str, alias: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM account_aliases WHERE account_id = $1 AND alias = $2")
            .bind(account_id)
            .bind(alias)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            Err(StoreError::not_found(Subject::AccountAlias, alias))
        } else {
            Ok(())
        }
    }

    /// Counts what the account holds.
    pub async fn account_counts(&self, account_id: &str) -> Result<AccountCounts, StoreError> {
        type Counts = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);
        let (
            users,
            groups,
            roles,
            policies,
            attachments,
            root_access_keys,
            instance_profiles,
            identity_providers,
            mfa_devices,
            mfa_devices_in_use,
            server_certificates,
            root_signing_certificates,
            global_endpoint_token_version,
        ): Counts = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM iam_groups WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM roles WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM policies WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM attachments WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND user_id IS NULL), \
                 (SELECT COUNT(*) FROM instance_profiles WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM mfa_devices WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM mfa_devices WHERE account_id = $1 AND user_id IS NOT NULL), \
                 (SELECT COUNT(*) FROM server_certificates WHERE account_id = $1), \
                 (SELECT COUNT(*) FROM signing_certificates WHERE account_id = $1 AND owner_id = $1), \
                 (SELECT global_endpoint_token_version FROM accounts WHERE account_id = $1)",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(AccountCounts {
            users,
            groups,
            roles,
            policies,
            attachments,
            root_access_keys,
            instance_profiles,
            identity_providers,
            mfa_devices,
            mfa_devices_in_use,
            server_certificates,
            root_signing_certificates,
            global_endpoint_token_version,
        })
    }

    /// SetSecurityTokenServicePreferences: the version (1 or 2) of the session tokens the
    /// account's global STS endpoint issues.
    pub async fn set_global_endpoint_token_version(&self, account_id: &str, version: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE accounts SET global_endpoint_token_version = $2 WHERE account_id = $1")
            .bind(account_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account properties the account has set, by name.
    pub async fn account_properties(&self, account_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT name, value FROM account_properties WHERE account_id = $1 ORDER BY name")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// PutAccountProperties: sets every property given, in one transaction.
    pub async fn put_account_properties(
        &self,
        account_id: &str,
        properties: &[(String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for (name, value) in properties {
            sqlx::query(
                "INSERT INTO account_properties (account_id, name, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value",
            )
            .bind(account_id)
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a freshly generated credential report, replacing the previous one.
    pub async fn save_credential_report(
        &self,
        account_id: &str,
        generated_at: i64,
        content: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM credential_reports WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO credential_reports (account_id, generated_at, content) VALUES ($1, $2, $3)")
            .bind(account_id)
            .bind(generated_at)
            .bind(content)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's latest credential report.
    pub async fn credential_report(&self, account_id: &str) -> Result<Option<CredentialReportRow>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT generated_at, content FROM credential_reports WHERE account_id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(generated_at, content)| CredentialReportRow { generated_at, content }))
    }
}

impl Store {
    /// Wipes the database back to what a new one holds (`oxiam serve --test-mode`'s
    /// reset): every account but the bootstrap account goes, with all it holds and its
    /// keys; of the bootstrap account, its users (with their login profiles), the password policy, groups, roles, instance profiles, OIDC providers, MFA devices, customer managed policies and everything that hangs
    /// off them, sessions, the alias and the credential report go; the account stays, with
    /// its root's keys (only `keep_root_key` if given), which forget their last use. One
    /// transaction, which also moves the policy epoch so that no cached decision survives.
    pub async fn reset_accounts(&self, bootstrap_account: &str, keep_root_key: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Other servers on the same PostgreSQL write meanwhile: their writes wait for the
        // reset, instead of landing between its deletions (SQLite's one writer is this one).
        if self.backend == crate::Backend::Postgres {
            sqlx::query(
                "LOCK TABLE accounts, users, user_tags, access_keys, iam_groups, group_members, roles, role_tags, \
                 policies, policy_versions, policy_tags, attachments, inline_policies, sessions, user_sessions, \
                 account_aliases, credential_reports, instance_profiles, instance_profile_roles, \
                 instance_profile_tags, oidc_providers, oidc_provider_client_ids, oidc_provider_thumbprints, \
                 oidc_provider_tags, mfa_devices, mfa_device_tags, login_profiles, password_history, \
                 password_policies, ssh_public_keys, service_credentials, signing_certificates, \
                 server_certificates, server_certificate_tags, service_linked_role_deletions, saml_providers, \
                 saml_provider_tags, saml_provider_keys, organizations, organization_members, \
                 organization_invitations, outbound_federation, service_last_accessed, access_reports, \
                 account_properties, delegation_requests, delegation_notifications IN EXCLUSIVE MODE",
            )
            .execute(&mut *tx)
            .await?;
        }
        // Organizations first: their rows name accounts about to go.
        for sql in [
            "DELETE FROM organization_invitations",
            "DELETE FROM organization_members",
            "DELETE FROM organizations",
        ] {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        let accounts: Vec<(String,)> = sqlx::query_as("SELECT account_id FROM accounts")
            .fetch_all(&mut *tx)
            .await?;
        for (account_id,) in &accounts {
            let keep = account_id == bootstrap_account;
            for sql in account_wipe() {
                // Only the key deletion names a second parameter.
                let second = sql.contains("$2");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id);
                if second {
                    query = query.bind(keep_root_key);
                }
                query.execute(&mut *tx).await?;
            }
            if !keep {
                for sql in [
                    "DELETE FROM access_keys WHERE account_id = $1",
                    "DELETE FROM accounts WHERE account_id = $1",
                ] {
                    sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The statements that empty one account (`$1`) but for its root keys (only `$2`, if
/// not NULL, stays) and its row, in an order no foreign key objects to.
fn account_wipe() -> Vec<String> {
    let owned = |table: &str, id: &str| format!("SELECT {id} FROM {table} WHERE account_id = $1");
    vec![
        format!(
            "DELETE FROM instance_profile_roles WHERE instance_profile_id IN ({})",
            owned("instance_profiles", "instance_profile_id")
        ),
        format!(
            "DELETE FROM instance_profile_tags WHERE instance_profile_id IN ({})",
            owned("instance_profiles", "instance_profile_id")
        ),
        "DELETE FROM instance_profiles WHERE account_id = $1".to_owned(),
        format!(
            "DELETE FROM oidc_provider_client_ids WHERE arn IN ({})",
            owned("oidc_providers", "arn")
        ),
        format!(
            "DELETE FROM oidc_provider_thumbprints WHERE arn IN ({})",
            owned("oidc_providers", "arn")
        ),
        format!(
            "DELETE FROM oidc_provider_tags WHERE arn IN ({})",
            owned("oidc_providers", "arn")
        ),
        "DELETE FROM oidc_providers WHERE account_id = $1".to_owned(),
        format!(
            "DELETE FROM mfa_device_tags WHERE serial_number IN ({})",
            owned("mfa_devices", "serial_number")
        ),
        "DELETE FROM mfa_devices WHERE account_id = $1".to_owned(),
        format!(
            "DELETE FROM password_history WHERE user_id IN ({})",
            owned("users", "user_id")
        ),
        "DELETE FROM login_profiles WHERE account_id = $1".to_owned(),
        "DELETE FROM password_policies WHERE account_id = $1".to_owned(),
        "DELETE FROM ssh_public_keys WHERE account_id = $1".to_owned(),
        "DELETE FROM service_credentials WHERE account_id = $1".to_owned(),
        "DELETE FROM signing_certificates WHERE account_id = $1".to_owned(),
        format!(
            "DELETE FROM server_certificate_tags WHERE server_certificate_id IN ({})",
            owned("server_certificates", "server_certificate_id")
        ),
        "DELETE FROM server_certificates WHERE account_id = $1".to_owned(),
        "DELETE FROM service_linked_role_deletions WHERE account_id = $1".to_owned(),
        format!(
            "DELETE FROM saml_provider_tags WHERE arn IN ({})",
            owned("saml_providers", "arn")
        ),
        format!(
            "DELETE FROM saml_provider_keys WHERE arn IN ({})",
            owned("saml_providers", "arn")
        ),
        "DELETE FROM saml_providers WHERE account_id = $1".to_owned(),
        "DELETE FROM outbound_federation WHERE account_id = $1".to_owned(),
        "DELETE FROM service_last_accessed WHERE account_id = $1".to_owned(),
        "DELETE FROM access_reports WHERE account_id = $1".to_owned(),
        format!("DELETE FROM user_tags WHERE user_id IN ({})", owned("users", "user_id")),
        format!("DELETE FROM role_tags WHERE role_id IN ({})", owned("roles", "role_id")),
        format!(
            "DELETE FROM policy_tags WHERE policy_id IN ({})",
            owned("policies", "policy_id")
        ),
        format!(
            "DELETE FROM policy_versions WHERE policy_id IN ({})",
            owned("policies", "policy_id")
        ),
        format!(
            "DELETE FROM group_members WHERE group_id IN ({})",
            owned("iam_groups", "group_id")
        ),
        format!(
            "DELETE FROM inline_policies WHERE entity_id IN ({}) OR entity_id IN ({}) OR entity_id IN ({})",
            owned("users", "user_id"),
            owned("roles", "role_id"),
            owned("iam_groups", "group_id")
        ),
        "DELETE FROM attachments WHERE account_id = $1".to_owned(),
        // (A NULL `keep_root_key` keeps every root key: `x <> x` is false.)
        "DELETE FROM access_keys WHERE account_id = $1 \
             AND (user_id IS NOT NULL OR access_key_id <> COALESCE($2, access_key_id))"
            .to_owned(),
        "UPDATE access_keys SET status = 'Active', last_used_at = NULL, last_used_service = NULL, \
             last_used_region = NULL WHERE account_id = $1"
            .to_owned(),
        "DELETE FROM sessions WHERE account_id = $1".to_owned(),
        "DELETE FROM user_sessions WHERE account_id = $1".to_owned(),
        "DELETE FROM users WHERE account_id = $1".to_owned(),
        "DELETE FROM roles WHERE account_id = $1".to_owned(),
        "DELETE FROM iam_groups WHERE account_id = $1".to_owned(),
        "DELETE FROM policies WHERE account_id = $1".to_owned(),
        "DELETE FROM account_aliases WHERE account_id = $1".to_owned(),
        "DELETE FROM credential_reports WHERE account_id = $1".to_owned(),
        "DELETE FROM account_properties WHERE account_id = $1".to_owned(),
        "DELETE FROM delegation_notifications WHERE requestor_account_id = $1".to_owned(),
        "DELETE FROM delegation_requests WHERE requestor_account_id = $1 OR owner_account_id = $1".to_owned(),
        "UPDATE accounts SET root_access_key_count = \
             (SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND user_id IS NULL), \
             policy_epoch = policy_epoch + 1, global_endpoint_token_version = 1 WHERE account_id = $1"
            .to_owned(),
    ]
}
