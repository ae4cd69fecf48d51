//! SAML 2.0 identity providers: a name, the provider's metadata document (whose
//! certificates sign its responses), and when the metadata stops being valid.

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
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

type ProviderTuple = (String, String, String, String, String, i64, i64);

const PROVIDER_SELECT: &str =
    "SELECT arn, account_id, name, uuid, metadata, valid_until, created_at FROM saml_providers";

fn provider_row((arn, account_id, name, uuid, metadata, valid_until, created_at): ProviderTuple) -> SamlProviderRow {
    SamlProviderRow {
        arn,
        account_id,
        name,
        uuid,
        metadata,
        valid_until,
        created_at,
        tags: Vec::new(),
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
            "INSERT INTO saml_providers (arn, account_id, name, uuid, metadata, valid_until, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&provider.arn)
        .bind(&provider.account_id)
        .bind(&provider.name)
        .bind(&provider.uuid)
        .bind(&provider.metadata)
        .bind(provider.valid_until)
        .bind(provider.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(PROVIDER, &provider.name))?;
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

    /// Replaces a provider's metadata; `NotFound` if there is no such provider.
    pub async fn update_saml_provider(
        &self,
        account_id: &str,
        arn: &str,
        metadata: &str,
        valid_until: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done =
            sqlx::query("UPDATE saml_providers SET metadata = $3, valid_until = $4 WHERE account_id = $1 AND arn = $2")
                .bind(account_id)
                .bind(arn)
                .bind(metadata)
                .bind(valid_until)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(PROVIDER, arn));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a provider and its tags; `NotFound` if there is none.
    pub async fn delete_saml_provider(&self, account_id: &str, arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM saml_providers WHERE account_id = $1 AND arn = $2")
            .bind(account_id)
            .bind(arn)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(PROVIDER, arn));
        }
        sqlx::query("DELETE FROM saml_provider_tags WHERE arn = $1")
            .bind(arn)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
