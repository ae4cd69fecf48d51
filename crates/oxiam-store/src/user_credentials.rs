//! What a user signs in to other services with, besides access keys and a password: SSH
//! public keys and service-specific credentials. Each quota is counted in the transaction
//! that adds, under the user's row lock, so parallel uploads cannot both take the last place.

use crate::entities::lock_entity;
use crate::{EntityKind, Store, StoreError, Subject};

/// An SSH public key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshPublicKeyRow {
    /// `APKA…`.
    pub key_id: String,
    /// The owner's user id.
    pub user_id: String,
    /// The body as uploaded.
    pub body: String,
    /// The MD5 fingerprint of the key.
    pub fingerprint: String,
    /// Whether it is Active (else Inactive).
    pub active: bool,
    /// Upload time.
    pub uploaded_at: i64,
}

/// A service-specific credential as stored. (Its `Debug` leaves the secret out.)
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceCredentialRow {
    /// `ACCA…`.
    pub credential_id: String,
    /// The owner's user id.
    pub user_id: String,
    /// The owner's name (filled in by reads; ignored on insert).
    pub user_name: String,
    /// `codecommit.amazonaws.com`, …
    pub service_name: String,
    /// The ServiceUserName (a password) or ServiceCredentialAlias (an API key).
    pub login_name: String,
    /// The password or API key, sealed.
    pub secret_sealed: String,
    /// Whether it is Active (else Inactive).
    pub active: bool,
    /// Creation time.
    pub created_at: i64,
    /// When it stops working, if it was made to.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for ServiceCredentialRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCredentialRow")
            .field("credential_id", &self.credential_id)
            .field("user_name", &self.user_name)
            .field("service_name", &self.service_name)
            .field("login_name", &self.login_name)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

type SshRow = (String, String, String, String, i64, i64);

fn ssh_row((key_id, user_id, body, fingerprint, active, uploaded_at): SshRow) -> SshPublicKeyRow {
    SshPublicKeyRow {
        key_id,
        user_id,
        body,
        fingerprint,
        active: active != 0,
        uploaded_at,
    }
}

const SSH_COLUMNS: &str = "key_id, user_id, body, fingerprint, active, uploaded_at";

type CredentialRow = (String, String, String, String, String, String, i64, i64, Option<i64>);

fn credential_row(
    (credential_id, user_id, user_name, service_name, login_name, secret_sealed, active, created_at, expires_at): CredentialRow,
) -> ServiceCredentialRow {
    ServiceCredentialRow {
        credential_id,
        user_id,
        user_name,
        service_name,
        login_name,
        secret_sealed,
        active: active != 0,
        created_at,
        expires_at,
    }
}

const CREDENTIAL_COLUMNS: &str = "c.credential_id, c.user_id, u.name, c.service_name, c.login_name, \
     c.secret_sealed, c.active, c.created_at, c.expires_at";

impl Store {
    /// Stores a user's SSH public key: `LimitExceeded` if the user has `quota` already,
    /// `Conflict` (named by the fingerprint) if it has this key, `NotFound` if the user is
    /// gone.
    pub async fn add_ssh_public_key(
        &self,
        user_name: &str,
        key: &SshPublicKeyRow,
        account_id: &str,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::User, &key.user_id, user_name).await?;
        let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM ssh_public_keys WHERE user_id = $1")
            .bind(&key.user_id)
            .fetch_one(&mut *tx)
            .await?;
        if held >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO ssh_public_keys (key_id, user_id, account_id, body, fingerprint, active, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.key_id)
        .bind(&key.user_id)
        .bind(account_id)
        .bind(&key.body)
        .bind(&key.fingerprint)
        .bind(i64::from(key.active))
        .bind(key.uploaded_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::SshPublicKey, &key.fingerprint))?;
        tx.commit().await?;
        Ok(())
    }

    /// One of a user's SSH public keys; `NotFound` (named by the key id) if the user has no
    /// such key.
    pub async fn get_ssh_public_key(&self, user_id: &str, key_id: &str) -> Result<SshPublicKeyRow, StoreError> {
        let sql = format!("SELECT {SSH_COLUMNS} FROM ssh_public_keys WHERE user_id = $1 AND key_id = $2");
        let row: Option<SshRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(ssh_row)
            .ok_or_else(|| StoreError::not_found(Subject::SshPublicKey, key_id))
    }

    /// A user's SSH public keys, by key id.
    pub async fn list_ssh_public_keys(&self, user_id: &str) -> Result<Vec<SshPublicKeyRow>, StoreError> {
        let sql = format!("SELECT {SSH_COLUMNS} FROM ssh_public_keys WHERE user_id = $1 ORDER BY key_id");
        let rows: Vec<SshRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(ssh_row).collect())
    }

    /// Sets a key Active or Inactive; `NotFound` if the user has no such key.
    pub async fn set_ssh_public_key_active(&self, user_id: &str, key_id: &str, active: bool) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE ssh_public_keys SET active = $3 WHERE user_id = $1 AND key_id = $2")
            .bind(user_id)
            .bind(key_id)
            .bind(i64::from(active))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::SshPublicKey, key_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a key; `NotFound` if the user has no such key.
    pub async fn delete_ssh_public_key(&self, user_id: &str, key_id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM ssh_public_keys WHERE user_id = $1 AND key_id = $2")
            .bind(user_id)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::SshPublicKey, key_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a service-specific credential whose login name is the first `login_name(n)`,
    /// `n` = 0, 1, …, no one in the account holds for the service (`alice-at-…`, then
    /// `alice+1-at-…`): `LimitExceeded` if the user holds `quota` for the service already,
    /// `NotFound` if the user is gone, `Conflict` if another user's credential took the
    /// name meanwhile. Returns the login name given.
    pub async fn add_service_credential(
        &self,
        user_name: &str,
        credential: &ServiceCredentialRow,
        account_id: &str,
        quota: i64,
        login_name: impl Fn(i64) -> String + Send,
    ) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::User, &credential.user_id, user_name).await?;
        let taken: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, login_name FROM service_credentials WHERE account_id = $1 AND service_name = $2",
        )
        .bind(account_id)
        .bind(&credential.service_name)
        .fetch_all(&mut *tx)
        .await?;
        let held = taken.iter().filter(|(user, _)| *user == credential.user_id).count();
        if i64::try_from(held).unwrap_or(i64::MAX) >= quota {
            return Err(StoreError::LimitExceeded);
        }
        // The first name no one holds (after a deletion, the freed one): of taken + 1
        // candidates, one is free.
        let name = (0..=i64::try_from(taken.len()).unwrap_or(i64::MAX))
            .map(&login_name)
            .find(|n| !taken.iter().any(|(_, t)| t == n))
            .unwrap_or_else(|| login_name(0));
        sqlx::query(
            "INSERT INTO service_credentials (credential_id, user_id, account_id, service_name, login_name, \
             secret_sealed, active, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&credential.credential_id)
        .bind(&credential.user_id)
        .bind(account_id)
        .bind(&credential.service_name)
        .bind(&name)
        .bind(&credential.secret_sealed)
        .bind(i64::from(credential.active))
        .bind(credential.created_at)
        .bind(credential.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::ServiceCredential, &name))?;
        tx.commit().await?;
        Ok(name)
    }

    /// A service-specific credential of the account by id; `NotFound` if there is none.
    pub async fn get_service_credential(
        &self,
        account_id: &str,
        credential_id: &str,
    ) -> Result<ServiceCredentialRow, StoreError> {
        let sql = format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM service_credentials c JOIN users u ON u.user_id = c.user_id \
             WHERE c.account_id = $1 AND c.credential_id = $2"
        );
        let row: Option<CredentialRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(credential_row)
            .ok_or_else(|| StoreError::not_found(Subject::ServiceCredential, credential_id))
    }

    /// The account's service-specific credentials, of one user (`user_id`) or all, of one
    /// service or all, oldest first.
    pub async fn list_service_credentials(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        service_name: Option<&str>,
    ) -> Result<Vec<ServiceCredentialRow>, StoreError> {
        let sql = format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM service_credentials c JOIN users u ON u.user_id = c.user_id \
             WHERE c.account_id = $1 AND ($2 IS NULL OR c.user_id = $2) AND ($3 IS NULL OR c.service_name = $3) \
             ORDER BY c.created_at, c.credential_id"
        );
        let rows: Vec<CredentialRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(user_id)
            .bind(service_name)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(credential_row).collect())
    }

    /// Changes one of a user's credentials: a new sealed secret and/or its status;
    /// `NotFound` if the user has no such credential.
    pub async fn update_service_credential(
        &self,
        user_id: &str,
        credential_id: &str,
        secret_sealed: Option<&str>,
        active: Option<bool>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE service_credentials SET secret_sealed = COALESCE($3, secret_sealed), \
             active = COALESCE($4, active) WHERE user_id = $1 AND credential_id = $2",
        )
        .bind(user_id)
        .bind(credential_id)
        .bind(secret_sealed)
        .bind(active.map(i64::from))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::ServiceCredential, credential_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes one of a user's credentials; `NotFound` if the user has no such credential.
    pub async fn delete_service_credential(&self, user_id: &str, credential_id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM service_credentials WHERE user_id = $1 AND credential_id = $2")
            .bind(user_id)
            .bind(credential_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::ServiceCredential, credential_id));
        }
        tx.commit().await?;
        Ok(())
    }
}
