//! SAML 2.0 identity providers: a name, the provider's metadata document (whose
//! certificates sign its responses), when the metadata stops being valid, and the private
//! keys (sealed) its encrypted assertions are decrypted with.

use sqlx::AssertSqlSafe;

use crate::{Store, StoreError, Subject, TagOwner};

const PROVIDER: Subject = Subject::SamlProvider;

/// A SAML provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlProviderRow {
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub arn: String,
    /// The owning account.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Its id (`SAMLProviderUUID`).
    pub uuid: String,
    /// The metadata document as given.
    pub metadata: String,
    /// When the metadata stops being valid.
    pub valid_until: i64,
    /// Creation time.
    pub created_at: i64,
    /// `Required` or `Allowed`: whether assertions must come encrypted.
    pub assertion_encryption_mode: String,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
    /// Its private keys, oldest first (read with the provider by ARN).
    pub private_keys: Vec<SamlPrivateKeyRow>,
}

/// A private key of a SAML provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlPrivateKeyRow {
    /// Its id (`KeyId`).
    pub key_id: String,
    /// The key's PEM, sealed.
    pub key_sealed: String,
    /// When it was added.
    pub created_at: i64,
}

/// How UpdateSAMLProvider changes a provider, in one transaction.
#[derive(Debug, Clone, Default)]
pub struct SamlProviderChange {
    /// New metadata and its validity.
    pub metadata: Option<(String, i64)>,
    /// A new encryption mode.
    pub assertion_encryption_mode: Option<String>,
    /// A key to add.
    pub add_key: Option<SamlPrivateKeyRow>,
    /// The id of a key to remove.
    pub remove_key: Option<String>,
}

/// Why a change to a provider's keys is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamlKeyRefusal {
    /// The provider would hold more than its quota of keys.
    TooMany,
    /// No key of the provider has that id.
    NoSuchKey,
    /// Assertions would have to be encrypted with no key to decrypt them.
    RequiredWithoutKey,
}

type ProviderTuple = (String, String, String, String, String, i64, i64, String);

const PROVIDER_SELECT: &str = "SELECT arn, account_id, name, uuid, metadata, valid_until, created_at, \
     assertion_encryption_mode FROM saml_providers";

fn provider_row(
    (arn, account_id, name, uuid, metadata, valid_until, created_at, assertion_encryption_mode): ProviderTuple,
) -> SamlProviderRow {
    SamlProviderRow {
        arn,
        account_id,
        name,
        uuid,
        metadata,
        valid_until,
        created_at,
        assertion_encryption_mode,
        tags: Vec::new(),
        private_keys: Vec::new(),
    }
}

impl Store {
    /// Stores a provider with its tags if the account holds fewer than `quota`;
    /// `Conflict` (by name) if the name is taken. The account's row is locked first, so
    /// parallel creations are counted one after the other.
    pub async fn create_saml_provider(&self, provider: &SamlProviderRow, quota: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        crate::entities::lock_account(&mut tx, &provider.account_id).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM saml_providers WHERE account_id = $1")
            .bind(&provider.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO saml_providers (arn, account_id, name, uuid, metadata, valid_until, created_at, \
             assertion_encryption_mode) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&provider.arn)
        .bind(&provider.account_id)
        .bind(&provider.name)
        .bind(&provider.uuid)
        .bind(&provider.metadata)
        .bind(provider.valid_until)
        .bind(provider.created_at)
        .bind(&provider.assertion_encryption_mode)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(PROVIDER, &provider.name))?;
        for key in &provider.private_keys {
            insert_key(&mut tx, &provider.arn, key).await?;
        }
        crate::tags::insert_tags(&mut tx, TagOwner::SamlProvider, &provider.arn, &provider.tags).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A provider of the account by ARN, with its tags; `NotFound` if there is none.
    pub async fn get_saml_provider(&self, account_id: &str, arn: &str) -> Result<SamlProviderRow, StoreError> {
        let sql = format!("{PROVIDER_SELECT} WHERE account_id = $1 AND arn = $2");
        let row: Option<ProviderTuple> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(arn)
            .fetch_optional(&self.pool)
            .await?;
        let mut row = provider_row(row.ok_or_else(|| StoreError::not_found(PROVIDER, arn))?);
        row.tags = sqlx::query_as("SELECT tag_key, tag_value FROM saml_provider_tags WHERE arn = $1 ORDER BY position")
            .bind(arn)
            .fetch_all(&self.pool)
            .await?;
        let keys: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT key_id, key_sealed, created_at FROM saml_provider_keys WHERE arn = $1 ORDER BY created_at, key_id",
        )
        .bind(arn)
        .fetch_all(&self.pool)
        .await?;
        row.private_keys = keys
            .into_iter()
            .map(|(key_id, key_sealed, created_at)| SamlPrivateKeyRow {
                key_id,
                key_sealed,
                created_at,
            })
            .collect();
        Ok(row)
    }

    /// The account's providers, by ARN (without their tags).
    pub async fn list_saml_providers(&self, account_id: &str) -> Result<Vec<SamlProviderRow>, StoreError> {
        let sql = format!("{PROVIDER_SELECT} WHERE account_id = $1 ORDER BY arn");
        let rows: Vec<ProviderTuple> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(provider_row).collect())
    }

    /// Changes a provider (metadata, encryption mode, a key added or removed) in one
    /// transaction, under the account's lock: `NotFound` if there is no such provider;
    /// `Ok(Err(…))`, nothing changed, if its keys would number more than `key_quota`, the key
    /// to remove is not its, or assertions would be required encrypted with no key left.
    pub async fn update_saml_provider(
        &self,
        account_id: &str,
        arn: &str,
        change: &SamlProviderChange,
        key_quota: i64,
    ) -> Result<Result<(), SamlKeyRefusal>, StoreError> {
        let mut tx = self.write_tx().await?;
        crate::entities::lock_account(&mut tx, account_id).await?;
        let mode: Option<(String,)> =
            sqlx::query_as("SELECT assertion_encryption_mode FROM saml_providers WHERE account_id = $1 AND arn = $2")
                .bind(account_id)
                .bind(arn)
                .fetch_optional(&mut *tx)
                .await?;
        let (mode,) = mode.ok_or_else(|| StoreError::not_found(PROVIDER, arn))?;
        if let Some((metadata, valid_until)) = &change.metadata {
            sqlx::query("UPDATE saml_providers SET metadata = $2, valid_until = $3 WHERE arn = $1")
                .bind(arn)
                .bind(metadata)
                .bind(valid_until)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(key_id) = &change.remove_key {
            let done = sqlx::query("DELETE FROM saml_provider_keys WHERE arn = $1 AND key_id = $2")
                .bind(arn)
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Ok(Err(SamlKeyRefusal::NoSuchKey));
            }
        }
        if let Some(key) = &change.add_key {
            insert_key(&mut tx, arn, key).await?;
        }
        let (keys,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM saml_provider_keys WHERE arn = $1")
            .bind(arn)
            .fetch_one(&mut *tx)
            .await?;
        if keys > key_quota {
            return Ok(Err(SamlKeyRefusal::TooMany));
        }
        let mode = change.assertion_encryption_mode.as_deref().unwrap_or(&mode);
        if mode == "Required" && keys == 0 {
            return Ok(Err(SamlKeyRefusal::RequiredWithoutKey));
        }
        sqlx::query("UPDATE saml_providers SET assertion_encryption_mode = $2 WHERE arn = $1")
            .bind(arn)
            .bind(mode)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Deletes a provider and its tags; `NotFound` if there is none.
    pub async fn delete_saml_provider(&self, account_id: &str, arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // After any key change in flight (which holds the same lock): no key outlives it.
        crate::entities::lock_account(&mut tx, account_id).await?;
        let done = sqlx::query("DELETE FROM saml_providers WHERE account_id = $1 AND arn = $2")
            .bind(account_id)
            .bind(arn)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(PROVIDER, arn));
        }
        for table in ["saml_provider_tags", "saml_provider_keys"] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE arn = $1")))
                .bind(arn)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_key(tx: &mut crate::write::WriteTx, arn: &str, key: &SamlPrivateKeyRow) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO saml_provider_keys (arn, key_id, key_sealed, created_at) VALUES ($1, $2, $3, $4)")
        .bind(arn)
        .bind(&key.key_id)
        .bind(&key.key_sealed)
        .bind(key.created_at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
