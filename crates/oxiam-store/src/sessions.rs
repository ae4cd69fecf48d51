//! Temporary credentials of role sessions.

use crate::{RoleRow, Store, StoreError};

/// A role session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The account of the role.
    pub account_id: String,
    /// The sealed secret.
    pub secret_sealed: String,
    /// Lower-case hex SHA-256 of the session token.
    pub token_sha256: String,
    /// The assumed role's id.
    pub role_id: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// The inline session policy.
    pub session_policy: Option<String>,
    /// Managed session policy ARNs.
    pub session_policy_arns: Vec<String>,
    /// Whether a role session assumed it (role chaining).
    pub chained: bool,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry time.
    pub expires_at: i64,
}

impl Store {
    /// Stores a new session.
    pub async fn create_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (access_key_id, account_id, secret_sealed, token_sha256, role_id, session_name, \
             session_policy, session_policy_arns, chained, issued_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(s.access_key_id.as_str())
        .bind(s.account_id.as_str())
        .bind(s.secret_sealed.as_str())
        .bind(s.token_sha256.as_str())
        .bind(s.role_id.as_str())
        .bind(s.session_name.as_str())
        .bind(s.session_policy.as_deref())
        .bind(s.session_policy_arns.join("\n"))
        .bind(i64::from(s.chained))
        .bind(s.issued_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    /// A session with its role (`None` if the key is unknown or its role is gone).
    pub async fn find_session(&self, access_key_id: &str) -> Result<Option<(SessionRow, RoleRow, i64)>, StoreError> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            i64,
            i64,
            i64,
            String,
            i64,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT s.access_key_id, s.account_id, s.secret_sealed, s.token_sha256, s.role_id, s.session_name, \
             s.session_policy, s.session_policy_arns, s.chained, s.issued_at, s.expires_at, r.name, a.policy_epoch \
             FROM sessions s JOIN roles r ON r.role_id = s.role_id JOIN accounts a ON a.account_id = s.account_id \
             WHERE s.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((
            id,
            account_id,
            secret,
            token,
            role_id,
            name,
            policy,
            arns,
            chained,
            issued,
            expires,
            role_name,
            epoch,
        )) = row
        else {
            return Ok(None);
        };
        let role = self.get_role(&account_id, &role_name).await?;
        let session = SessionRow {
            access_key_id: id,
            account_id,
            secret_sealed: secret,
            token_sha256: token,
            role_id,
            session_name: name,
            session_policy: policy,
            session_policy_arns: arns.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect(),
            chained: chained != 0,
            issued_at: issued,
            expires_at: expires,
        };
        Ok(Some((session, role, epoch)))
    }

    /// Records that a session of the role made a request (GetRole's RoleLastUsed).
    pub async fn record_role_use(&self, role_id: &str, at: i64, region: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE roles SET last_used_at = $2, last_used_region = $3 WHERE role_id = $1")
            .bind(role_id)
            .bind(at)
            .bind(region)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
