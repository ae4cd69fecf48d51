//! X.509 certificates: signing certificates (a user's or the root's) and the account's
//! server certificates. Quotas are counted in the transaction that adds, under the owner's
//! row lock (the user's, or the account's), so parallel uploads cannot both take the last
//! place.

use sqlx::AssertSqlSafe;

use crate::entities::lock_entity;
use crate::{EntityKind, Store, StoreError, Subject, TagOwner};

/// A signing certificate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificateRow {
    /// Its id (a digest of its DER).
    pub certificate_id: String,
    /// The user's id, or the account's for the root.
    pub owner_id: String,
    /// The PEM as uploaded.
    pub body: String,
    /// Whether it is Active (else Inactive).
    pub active: bool,
    /// Upload time.
    pub uploaded_at: i64,
}

/// A server certificate as stored. (Its `Debug` leaves the private key out.)
#[derive(Clone, PartialEq, Eq)]
pub struct ServerCertificateRow {
    /// `ASCA…`.
    pub server_certificate_id: String,
    /// The owning account.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The certificate, PEM.
    pub body: String,
    /// The chain, PEM, if one was given.
    pub chain: Option<String>,
    /// The private key, sealed.
    pub private_key_sealed: String,
    /// The certificate's NotAfter.
    pub expires_at: i64,
    /// Upload time.
    pub uploaded_at: i64,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

impl std::fmt::Debug for ServerCertificateRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerCertificateRow")
            .field("server_certificate_id", &self.server_certificate_id)
            .field("name", &self.name)
            .field("path", &self.path)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

type SigningTuple = (String, String, String, i64, i64);

fn signing_row((certificate_id, owner_id, body, active, uploaded_at): SigningTuple) -> SigningCertificateRow {
    SigningCertificateRow {
        certificate_id,
        owner_id,
        body,
        active: active != 0,
        uploaded_at,
    }
}

const SIGNING_SELECT: &str = "SELECT certificate_id, owner_id, body, active, uploaded_at FROM signing_certificates";

type ServerTuple = (String, String, String, String, String, Option<String>, String, i64, i64);

const SERVER_SELECT: &str = "SELECT server_certificate_id, account_id, name, path, body, chain, private_key_sealed, \
     expires_at, uploaded_at FROM server_certificates";

fn server_row(
    (server_certificate_id, account_id, name, path, body, chain, private_key_sealed, expires_at, uploaded_at): ServerTuple,
) -> ServerCertificateRow {
    ServerCertificateRow {
        server_certificate_id,
        account_id,
        name,
        path,
        body,
        chain,
        private_key_sealed,
        expires_at,
        uploaded_at,
        tags: Vec::new(),
    }
}

impl Store {
    /// Stores a signing certificate for its owner (a user named `user_name`, or the root
    /// when `owner_id` is the account's id): `LimitExceeded` if the owner has `quota`
    /// already, `Conflict` if the account holds this certificate, `NotFound` if the user is
    /// gone.
    pub async fn add_signing_certificate(
        &self,
        account_id: &str,
        user_name: Option<&str>,
        certificate: &SigningCertificateRow,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        match user_name {
            Some(name) => lock_entity(&mut tx, EntityKind::User, &certificate.owner_id, name).await?,
            None => crate::entities::lock_account(&mut tx, account_id).await?,
        }
        let (held,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM signing_certificates WHERE owner_id = $1")
            .bind(&certificate.owner_id)
            .fetch_one(&mut *tx)
            .await?;
        if held >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO signing_certificates (account_id, certificate_id, owner_id, body, active, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account_id)
        .bind(&certificate.certificate_id)
        .bind(&certificate.owner_id)
        .bind(&certificate.body)
        .bind(i64::from(certificate.active))
        .bind(certificate.uploaded_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(
            Subject::SigningCertificate,
            &certificate.certificate_id,
        ))?;
        tx.commit().await?;
        Ok(())
    }

    /// The signing certificates of one owner, oldest first.
    pub async fn list_signing_certificates(&self, owner_id: &str) -> Result<Vec<SigningCertificateRow>, StoreError> {
        let sql = format!("{SIGNING_SELECT} WHERE owner_id = $1 ORDER BY uploaded_at, certificate_id");
        let rows: Vec<SigningTuple> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(owner_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(signing_row).collect())
    }

    /// Every signing certificate of the account as the credential report shows it: `(owner
    /// id, active, upload time)`, by owner and oldest first (no bodies: an account may hold
    /// many).
    pub async fn account_signing_certificates(&self, account_id: &str) -> Result<Vec<(String, bool, i64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT owner_id, active, uploaded_at FROM signing_certificates WHERE account_id = $1 \
             ORDER BY owner_id, uploaded_at, certificate_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(owner, active, at)| (owner, active != 0, at))
            .collect())
    }

    /// Sets one of an owner's certificates Active or Inactive; `NotFound` if it has none
    /// such.
    pub async fn set_signing_certificate_active(
        &self,
        owner_id: &str,
        certificate_id: &str,
        active: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE signing_certificates SET active = $3 WHERE owner_id = $1 AND certificate_id = $2")
                .bind(owner_id)
                .bind(certificate_id)
                .bind(i64::from(active))
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::SigningCertificate, certificate_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes one of an owner's certificates; `NotFound` if it has none such.
    pub async fn delete_signing_certificate(&self, owner_id: &str, certificate_id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM signing_certificates WHERE owner_id = $1 AND certificate_id = $2")
            .bind(owner_id)
            .bind(certificate_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::SigningCertificate, certificate_id));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stores a server certificate with its tags if the account holds fewer than `quota`;
    /// `Conflict` if the name is taken. The account's row is locked first, so parallel
    /// uploads are counted one after the other.
    pub async fn create_server_certificate(
        &self,
        certificate: &ServerCertificateRow,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        crate::entities::lock_account(&mut tx, &certificate.account_id).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM server_certificates WHERE account_id = $1")
            .bind(&certificate.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO server_certificates (server_certificate_id, account_id, name, path, body, chain, \
             private_key_sealed, expires_at, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&certificate.server_certificate_id)
        .bind(&certificate.account_id)
        .bind(&certificate.name)
        .bind(&certificate.path)
        .bind(&certificate.body)
        .bind(certificate.chain.as_deref())
        .bind(&certificate.private_key_sealed)
        .bind(certificate.expires_at)
        .bind(certificate.uploaded_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::ServerCertificate, &certificate.name))?;
        crate::tags::insert_tags(
            &mut tx,
            TagOwner::ServerCertificate,
            &certificate.server_certificate_id,
            &certificate.tags,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A server certificate by name, with its tags; `NotFound` if there is none.
    pub async fn get_server_certificate(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<ServerCertificateRow, StoreError> {
        let sql = format!("{SERVER_SELECT} WHERE account_id = $1 AND name = $2");
        let row: Option<ServerTuple> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        let mut row = server_row(row.ok_or_else(|| StoreError::not_found(Subject::ServerCertificate, name))?);
        row.tags = sqlx::query_as(
            "SELECT tag_key, tag_value FROM server_certificate_tags WHERE server_certificate_id = $1 ORDER BY position",
        )
        .bind(&row.server_certificate_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(row)
    }

    /// The account's server certificates under `path_prefix`, by name (without tags).
    pub async fn list_server_certificates(
        &self,
        account_id: &str,
        path_prefix: &str,
    ) -> Result<Vec<ServerCertificateRow>, StoreError> {
        let sql = format!(
            "{SERVER_SELECT} WHERE account_id = $1 AND substr(path, 1, CAST($2 AS INTEGER)) = $3 ORDER BY name"
        );
        let rows: Vec<ServerTuple> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(path_prefix.chars().count() as i64)
            .bind(path_prefix)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(server_row).collect())
    }

    /// Renames and/or moves a server certificate; `NotFound` if there is none, `Conflict`
    /// if the new name is taken.
    pub async fn update_server_certificate(
        &self,
        account_id: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE server_certificates SET name = COALESCE($3, name), path = COALESCE($4, path) \
             WHERE account_id = $1 AND name = $2",
        )
        .bind(account_id)
        .bind(name)
        .bind(new_name)
        .bind(new_path)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(
            Subject::ServerCertificate,
            new_name.unwrap_or(name),
        ))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::ServerCertificate, name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a server certificate and its tags; `NotFound` if there is none.
    pub async fn delete_server_certificate(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "DELETE FROM server_certificate_tags WHERE server_certificate_id IN \
             (SELECT server_certificate_id FROM server_certificates WHERE account_id = $1 AND name = $2)",
        )
        .bind(account_id)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM server_certificates WHERE account_id = $1 AND name = $2")
            .bind(account_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::ServerCertificate, name));
        }
        tx.commit().await?;
        Ok(())
    }
}
