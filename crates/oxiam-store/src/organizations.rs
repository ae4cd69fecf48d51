//! AWS Organizations: each organization one document (`state`, JSON that oxiam-core writes
//! and reads; the store does not look inside), with the account memberships and the
//! invitations other lookups need by key. A change reads the document and writes it back in
//! one transaction that holds the organization's row lock, so two changes never interleave.

use crate::{Store, StoreError, Subject};

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationRow {
    /// `o-…`.
    pub org_id: String,
    /// The account that created it.
    pub management_account_id: String,
    /// The document.
    pub state: String,
}

/// An account an organization makes (CreateAccount), with the role that lets the
/// management account in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedAccount {
    /// Its new id.
    pub account_id: String,
    /// When.
    pub created_at: i64,
    /// The role's id.
    pub role_id: String,
    /// The role's name (`OrganizationAccountAccessRole` unless the request names another).
    pub role_name: String,
    /// Who may assume it: the management account.
    pub trust_policy: String,
    /// The role's inline policy: its name, its document, and the document's size as IAM's
    /// quotas count it.
    pub inline_policy: (String, String, i64),
}

/// What one change to an organization writes, besides its document. An invitation stays
/// for as long as its organization (an accepted one is listed, and answers that it is
/// accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationWrite {
    /// The new document (`None`: unchanged).
    pub state: Option<String>,
    /// The organization goes, with its memberships and invitations.
    pub delete: bool,
    /// Existing accounts that join (an accepted invitation).
    pub joined: Vec<String>,
    /// Accounts made now, which join.
    pub created: Vec<CreatedAccount>,
    /// Accounts that leave (removed, or gone with the organization).
    pub left: Vec<String>,
    /// Invitations sent: (handshake id, invited account id).
    pub invited: Vec<(String, String)>,
}

const ORGANIZATION_SELECT: &str = "SELECT o.org_id, o.management_account_id, o.state FROM organizations o";

impl Store {
    /// The organization `account_id` belongs to, if any.
    pub async fn organization_of(&self, account_id: &str) -> Result<Option<OrganizationRow>, StoreError> {
        self.organization_where(
            "JOIN organization_members m ON m.org_id = o.org_id WHERE m.account_id = $1",
            account_id,
        )
        .await
    }

    /// The organization that sent the invitation `handshake_id`, if it still exists.
    pub async fn organization_inviting(&self, handshake_id: &str) -> Result<Option<OrganizationRow>, StoreError> {
        self.organization_where(
            "JOIN organization_invitations i ON i.org_id = o.org_id WHERE i.handshake_id = $1",
            handshake_id,
        )
        .await
    }

    /// The organizations that invited `account_id`, by id.
    pub async fn organizations_inviting(&self, account_id: &str) -> Result<Vec<OrganizationRow>, StoreError> {
        let sql = format!(
            "{ORGANIZATION_SELECT} WHERE o.org_id IN \
             (SELECT org_id FROM organization_invitations WHERE account_id = $1) ORDER BY o.org_id"
        );
        let rows: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(organization_row).collect())
    }

    async fn organization_where(
        &self,
        condition: &'static str,
        key: &str,
    ) -> Result<Option<OrganizationRow>, StoreError> {
        let sql = format!("{ORGANIZATION_SELECT} {condition}");
        let row: Option<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(organization_row))
    }

    /// Creates an organization managed by `management_account_id`, which becomes its first
    /// member; `Conflict` (`OrganizationMember`) if that account already belongs to one.
    pub async fn create_organization(
        &self,
        org_id: &str,
        management_account_id: &str,
        state: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO organizations (org_id, management_account_id, state, version, created_at) \
             VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(org_id)
        .bind(management_account_id)
        .bind(state)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::OrganizationMember, management_account_id))?;
        sqlx::query("INSERT INTO organization_members (account_id, org_id) VALUES ($1, $2)")
            .bind(management_account_id)
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_write(Subject::OrganizationMember, management_account_id))?;
        tx.bump_policy_epoch(management_account_id);
        tx.commit().await?;
        Ok(())
    }

    /// Changes organization `org_id`: `change` gets its document as it is now, under the
    /// row's write lock, and says what to write (or why nothing is). Every account that is
    /// or was a member has its policy epoch bumped in the same transaction, since what its
    /// principals may do can have changed. `NotFound` (`Organization`) if it is gone;
    /// `Conflict` (`OrganizationMember`) if an account to add belongs to an organization.
    pub async fn change_organization<T, E: From<StoreError>>(
        &self,
        org_id: &str,
        change: impl FnOnce(OrganizationRow) -> Result<(OrganizationWrite, T), E>,
    ) -> Result<T, E> {
        let mut tx = self.write_tx().await?;
        let locked = sqlx::query("UPDATE organizations SET version = version + 1 WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        if locked.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::Organization, org_id).into());
        }
        let sql = format!("{ORGANIZATION_SELECT} WHERE o.org_id = $1");
        let row: (String, String, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let (write, answer) = change(organization_row(row))?;
        for account in &write.created {
            create_member_account(&mut tx, account).await?;
        }
        for account_id in write.joined.iter().chain(write.created.iter().map(|a| &a.account_id)) {
            sqlx::query("INSERT INTO organization_members (account_id, org_id) VALUES ($1, $2)")
                .bind(account_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::on_write(Subject::OrganizationMember, account_id))?;
        }
        for (handshake_id, account_id) in &write.invited {
            sqlx::query("INSERT INTO organization_invitations (handshake_id, org_id, account_id) VALUES ($1, $2, $3)")
                .bind(handshake_id)
                .bind(org_id)
                .bind(account_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        for account_id in &write.left {
            tx.bump_policy_epoch(account_id);
            sqlx::query("DELETE FROM organization_members WHERE account_id = $1 AND org_id = $2")
                .bind(account_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        sqlx::query(
            "UPDATE accounts SET policy_epoch = policy_epoch + 1 \
             WHERE account_id IN (SELECT account_id FROM organization_members WHERE org_id = $1)",
        )
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        match &write.state {
            Some(state) if !write.delete => {
                sqlx::query("UPDATE organizations SET state = $2 WHERE org_id = $1")
                    .bind(org_id)
                    .bind(state)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            None if !write.delete => {}
            _ => {
                for sql in [
                    "DELETE FROM organization_invitations WHERE org_id = $1",
                    "DELETE FROM organization_members WHERE org_id = $1",
                    "DELETE FROM organizations WHERE org_id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(org_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                }
            }
        }
        tx.commit().await?;
        Ok(answer)
    }
}

fn organization_row((org_id, management_account_id, state): (String, String, String)) -> OrganizationRow {
    OrganizationRow {
        org_id,
        management_account_id,
        state,
    }
}

/// An account made by its organization: the account, and its role for the management
/// account with the role's inline policy. It has no root key (AWS gives a created account
/// none; its root signs in after a password reset).
async fn create_member_account(tx: &mut crate::write::WriteTx, account: &CreatedAccount) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO accounts (account_id, created_at, origin, root_access_key_count) \
         VALUES ($1, $2, 'organization', 0)",
    )
    .bind(&account.account_id)
    .bind(account.created_at)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::on_write(Subject::Account, &account.account_id))?;
    sqlx::query(
        "INSERT INTO roles (role_id, account_id, name, name_key, path, trust_policy, description, \
         max_session_duration, created_at, permissions_boundary, service_linked) \
         VALUES ($1, $2, $3, $4, '/', $5, NULL, 3600, $6, NULL, 0)",
    )
    .bind(&account.role_id)
    .bind(&account.account_id)
    .bind(&account.role_name)
    .bind(account.role_name.to_ascii_lowercase())
    .bind(&account.trust_policy)
    .bind(account.created_at)
    .execute(&mut **tx)
    .await?;
    let (name, document, size) = &account.inline_policy;
    sqlx::query(
        "INSERT INTO inline_policies (entity_kind, entity_id, name, name_key, document, size) \
         VALUES ('role', $1, $2, $3, $4, $5)",
    )
    .bind(&account.role_id)
    .bind(name)
    .bind(name.to_ascii_lowercase())
    .bind(document)
    .bind(size)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
