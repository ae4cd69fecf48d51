//! Delegation requests (IAM temporary delegation) and the notifications they would have
//! published. A request belongs to two accounts (its requestor's and its owner's), so it is
//! keyed by its id alone; every change is a compare-and-set on its `version`.

use crate::{Store, StoreError, Subject};

/// A delegation request, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRequestRow {
    /// The request's id.
    pub id: String,
    /// The account that filed it.
    pub requestor_account_id: String,
    /// The requestor's own id for it, unique per requestor.
    pub requestor_workflow_id: String,
    /// The account it targets (given, or the associating caller's).
    pub owner_account_id: Option<String>,
    /// The ARN of the identity that associated it.
    pub owner_id: Option<String>,
    /// The ARN of the identity that accepted it.
    pub approver_id: Option<String>,
    /// The session key the acceptance was signed with (temporary credentials).
    pub approver_session_key: Option<String>,
    /// The user that accepted with long-term keys (`None` with no session key: the root).
    pub approver_user_id: Option<String>,
    /// The requestor's description.
    pub description: String,
    /// The requestor's message.
    pub request_message: Option<String>,
    /// `DelegationPermission` as given, JSON.
    pub permissions: String,
    /// The policy the template rendered to.
    pub permission_policy: String,
    /// Where the console would send the customer back.
    pub redirect_url: Option<String>,
    /// The requestor's notification channel.
    pub notification_channel: String,
    /// Seconds the delegated credentials last once the token is released.
    pub session_duration: i64,
    /// Whether only the owner may release the token.
    pub only_send_by_owner: bool,
    /// The state, as last written (`EXPIRED` is read from `expires_at`, never written).
    pub state: String,
    /// UpdateDelegationRequest's notes.
    pub notes: Option<String>,
    /// RejectDelegationRequest's notes.
    pub rejection_reason: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When the current state lapses.
    pub expires_at: i64,
    /// SHA-256 (hex) of the exchange token, once released.
    pub token_sha256: Option<String>,
    /// When the delegation ends, once released.
    pub delegation_ends_at: Option<i64>,
    /// Bumped by every change.
    pub version: i64,
}

/// A notification that would have been published to a request's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationNotificationRow {
    /// Its id.
    pub id: String,
    /// The account it is for (the requestor's).
    pub requestor_account_id: String,
    /// The channel it was for.
    pub channel: String,
    /// When.
    pub created_at: i64,
    /// The message, sealed under its id.
    pub message_sealed: String,
}

const COLUMNS: &str = "id, requestor_account_id, requestor_workflow_id, owner_account_id, owner_id, approver_id, \
     approver_session_key, approver_user_id, description, request_message, permissions, permission_policy, \
     redirect_url, notification_channel, session_duration, only_send_by_owner, state, notes, rejection_reason, \
     created_at, updated_at, expires_at, token_sha256, delegation_ends_at, version";

fn from_row(row: &sqlx::any::AnyRow) -> Result<DelegationRequestRow, sqlx::Error> {
    use sqlx::Row;
    let only_send_by_owner: i64 = row.try_get(15)?;
    Ok(DelegationRequestRow {
        id: row.try_get(0)?,
        requestor_account_id: row.try_get(1)?,
        requestor_workflow_id: row.try_get(2)?,
        owner_account_id: row.try_get(3)?,
        owner_id: row.try_get(4)?,
        approver_id: row.try_get(5)?,
        approver_session_key: row.try_get(6)?,
        approver_user_id: row.try_get(7)?,
        description: row.try_get(8)?,
        request_message: row.try_get(9)?,
        permissions: row.try_get(10)?,
        permission_policy: row.try_get(11)?,
        redirect_url: row.try_get(12)?,
        notification_channel: row.try_get(13)?,
        session_duration: row.try_get(14)?,
        only_send_by_owner: only_send_by_owner != 0,
        state: row.try_get(16)?,
        notes: row.try_get(17)?,
        rejection_reason: row.try_get(18)?,
        created_at: row.try_get(19)?,
        updated_at: row.try_get(20)?,
        expires_at: row.try_get(21)?,
        token_sha256: row.try_get(22)?,
        delegation_ends_at: row.try_get(23)?,
        version: row.try_get(24)?,
    })
}

impl Store {
    /// Files a new request; a requestor's workflow id names one request only (`Conflict`).
    pub async fn create_delegation_request(&self, row: &DelegationRequestRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO delegation_requests ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
             $24, $25)"
        )))
        .bind(&row.id)
        .bind(&row.requestor_account_id)
        .bind(&row.requestor_workflow_id)
        .bind(&row.owner_account_id)
        .bind(&row.owner_id)
        .bind(&row.approver_id)
        .bind(&row.approver_session_key)
        .bind(&row.approver_user_id)
        .bind(&row.description)
        .bind(&row.request_message)
        .bind(&row.permissions)
        .bind(&row.permission_policy)
        .bind(&row.redirect_url)
        .bind(&row.notification_channel)
        .bind(row.session_duration)
        .bind(i64::from(row.only_send_by_owner))
        .bind(&row.state)
        .bind(&row.notes)
        .bind(&row.rejection_reason)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.expires_at)
        .bind(&row.token_sha256)
        .bind(row.delegation_ends_at)
        .bind(row.version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(
            Subject::DelegationRequest,
            &row.requestor_workflow_id,
        ))?;
        tx.commit().await?;
        Ok(())
    }

    /// A request by id (`NotFound` when there is none).
    pub async fn delegation_request(&self, id: &str) -> Result<DelegationRequestRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM delegation_requests WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => Ok(from_row(&row)?),
            None => Err(StoreError::not_found(Subject::DelegationRequest, id)),
        }
    }

    /// The request whose released exchange token has this digest, if one has.
    pub async fn delegation_request_by_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<DelegationRequestRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM delegation_requests WHERE token_sha256 = $1"
        )))
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| from_row(&r)).transpose()?)
    }

    /// The owned requests of an account (those with an owner), optionally of one owner.
    pub async fn owned_delegation_requests(
        &self,
        owner_account_id: &str,
        owner_id: Option<&str>,
    ) -> Result<Vec<DelegationRequestRow>, StoreError> {
        let of_owner = if owner_id.is_some() {
            "owner_id = $2"
        } else {
            "owner_id IS NOT NULL"
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM delegation_requests WHERE owner_account_id = $1 AND {of_owner} \
             ORDER BY created_at, id"
        )))
        .bind(owner_account_id);
        if let Some(owner_id) = owner_id {
            query = query.bind(owner_id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Replaces a request with `changed` (whose `version` is one more than the stored one's)
    /// and files `notifications`, in one transaction; `false`, with nothing written, when
    /// the stored request is no longer at `changed.version - 1` (another change came first).
    pub async fn change_delegation_request(
        &self,
        changed: &DelegationRequestRow,
        notifications: &[DelegationNotificationRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let updated = sqlx::query(
            "UPDATE delegation_requests SET owner_account_id = $1, owner_id = $2, approver_id = $3, \
             approver_session_key = $4, approver_user_id = $5, state = $6, notes = $7, rejection_reason = $8, \
             updated_at = $9, expires_at = $10, token_sha256 = $11, delegation_ends_at = $12, version = $13 \
             WHERE id = $14 AND version = $15",
        )
        .bind(&changed.owner_account_id)
        .bind(&changed.owner_id)
        .bind(&changed.approver_id)
        .bind(&changed.approver_session_key)
        .bind(&changed.approver_user_id)
        .bind(&changed.state)
        .bind(&changed.notes)
        .bind(&changed.rejection_reason)
        .bind(changed.updated_at)
        .bind(changed.expires_at)
        .bind(&changed.token_sha256)
        .bind(changed.delegation_ends_at)
        .bind(changed.version)
        .bind(&changed.id)
        .bind(changed.version - 1)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        for n in notifications {
            sqlx::query(
                "INSERT INTO delegation_notifications (id, requestor_account_id, channel, created_at, message_sealed) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&n.id)
            .bind(&n.requestor_account_id)
            .bind(&n.channel)
            .bind(n.created_at)
            .bind(&n.message_sealed)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The notifications filed for a requestor's account since `since`, oldest first.
    pub async fn delegation_notifications(
        &self,
        requestor_account_id: &str,
        since: i64,
    ) -> Result<Vec<DelegationNotificationRow>, StoreError> {
        let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(
            "SELECT id, requestor_account_id, channel, created_at, message_sealed FROM delegation_notifications \
             WHERE requestor_account_id = $1 AND created_at >= $2 ORDER BY created_at, id",
        )
        .bind(requestor_account_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, requestor_account_id, channel, created_at, message_sealed)| DelegationNotificationRow {
                    id,
                    requestor_account_id,
                    channel,
                    created_at,
                    message_sealed,
                },
            )
            .collect())
    }
}
