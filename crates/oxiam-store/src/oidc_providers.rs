//! OpenID Connect identity providers: a URL trusted to sign web identity tokens, the client
//! ids (audiences) it may sign them for, and the thumbprints of its servers' certificates.

use sqlx::AssertSqlSafe;

use crate::{Store, StoreError, Subject, TagOwner};

const PROVIDER: Subject = Subject::OidcProvider;

/// An OIDC provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProviderRow {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/URL` (the URL without `https://`).
    pub arn: String,
    /// The owning account.
    pub account_id: String,
    /// The URL without `https://`, as IAM shows it.
    pub url: String,
    /// Creation time.
    pub created_at: i64,
    /// The client ids, in the order added.
    pub client_ids: Vec<String>,
    /// The thumbprints, in the order given.
    pub thumbprints: Vec<String>,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
    /// Its context provider (trusted identity propagation), as oxiam-core's JSON.
    pub context_provider: Option<String>,
}

/// What creating an OIDC provider needs.
#[derive(Debug, Clone)]
pub struct NewOidcProvider<'a> {
    /// Its ARN.
    pub arn: &'a str,
    /// The owning account.
    pub account_id: &'a str,
    /// The URL without `https://`.
    pub url: &'a str,
    /// Creation time.
    pub created_at: i64,
    /// Client ids, without repeats.
    pub client_ids: &'a [String],
    /// Thumbprints.
    pub thumbprints: &'a [String],
    /// Tags.
    pub tags: &'a [(String, String)],
    /// Its context provider, as oxiam-core's JSON.
    pub context_provider: Option<&'a str>,
}

impl Store {
    /// Creates a provider if the account holds fewer than `quota`; `Conflict` (by URL) if
    /// the account has one for the URL already. The account's row is locked first, so
    /// parallel creations are counted one after the other.
    pub async fn create_oidc_provider(&self, new: NewOidcProvider<'_>, quota: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        crate::entities::lock_account(&mut tx, new.account_id).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM oidc_providers WHERE account_id = $1")
            .bind(new.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO oidc_providers (arn, account_id, url, created_at, context_provider) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.arn)
        .bind(new.account_id)
        .bind(new.url)
        .bind(new.created_at)
        .bind(new.context_provider)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_write(PROVIDER, new.url))?;
        for (position, client_id) in new.client_ids.iter().enumerate() {
            insert_client_id(&mut tx, new.arn, position as i64, client_id).await?;
        }
        insert_thumbprints(&mut tx, new.arn, new.thumbprints).await?;
        crate::tags::insert_tags(&mut tx, TagOwner::OidcProvider, new.arn, new.tags).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A provider of the account by ARN, with its client ids, thumbprints and tags.
    pub async fn get_oidc_provider(&self, account_id: &str, arn: &str) -> Result<OidcProviderRow, StoreError> {
        let row: Option<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT arn, account_id, url, created_at, context_provider FROM oidc_providers \
             WHERE account_id = $1 AND arn = $2",
        )
        .bind(account_id)
        .bind(arn)
        .fetch_optional(&self.pool)
        .await?;
        let (arn, account_id, url, created_at, context_provider) =
            row.ok_or_else(|| StoreError::not_found(PROVIDER, arn))?;
        let column =
            |table: &str, column: &str| format!("SELECT {column} FROM {table} WHERE arn = $1 ORDER BY position");
        let client_ids: Vec<(String,)> = sqlx::query_as(AssertSqlSafe(column("oidc_provider_client_ids", "client_id")))
            .bind(arn.as_str())
            .fetch_all(&self.pool)
            .await?;
        let thumbprints: Vec<(String,)> =
            sqlx::query_as(AssertSqlSafe(column("oidc_provider_thumbprints", "thumbprint")))
                .bind(arn.as_str())
                .fetch_all(&self.pool)
                .await?;
        let tags = sqlx::query_as(AssertSqlSafe(column("oidc_provider_tags", "tag_key, tag_value")))
            .bind(arn.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(OidcProviderRow {
            arn,
            account_id,
            url,
            created_at,
            client_ids: client_ids.into_iter().map(|(c,)| c).collect(),
            thumbprints: thumbprints.into_iter().map(|(t,)| t).collect(),
            tags,
            context_provider,
        })
    }

    /// The ARNs of the account's providers, in order.
    pub async fn list_oidc_providers(&self, account_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT arn FROM oidc_providers WHERE account_id = $1")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        // Sorted here, by bytes, the same on both databases.
        let mut arns: Vec<String> = rows.into_iter().map(|(arn,)| arn).collect();
        arns.sort_unstable();
        Ok(arns)
    }

    /// Deletes a provider; deleting one that does not exist changes nothing.
    pub async fn delete_oidc_provider(&self, account_id: &str, arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let found = match lock_provider(&mut tx, account_id, arn).await {
            Ok(()) => true,
            Err(StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e),
        };
        if found {
            for table in [
                "oidc_provider_client_ids",
                "oidc_provider_thumbprints",
                "oidc_provider_tags",
                "oidc_providers",
            ] {
                sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE arn = $1")))
                    .bind(arn)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a client id (a no-op if the provider has it) if the provider has fewer than
    /// `quota`; `NotFound` if the provider does not exist.
    pub async fn add_oidc_client_id(
        &self,
        account_id: &str,
        arn: &str,
        client_id: &str,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_provider(&mut tx, account_id, arn).await?;
        let (count, present, last): (i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN client_id = $2 THEN 1 ELSE 0 END), 0), COALESCE(MAX(position), -1) \
             FROM oidc_provider_client_ids WHERE arn = $1",
        )
        .bind(arn)
        .bind(client_id)
        .fetch_one(&mut *tx)
        .await?;
        if present == 0 {
            if count >= quota {
                return Err(StoreError::LimitExceeded);
            }
            insert_client_id(&mut tx, arn, last + 1, client_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes a client id (a no-op if the provider does not have it); `NotFound` if the
    /// provider does not exist.
    pub async fn remove_oidc_client_id(&self, account_id: &str, arn: &str, client_id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_provider(&mut tx, account_id, arn).await?;
        sqlx::query("DELETE FROM oidc_provider_client_ids WHERE arn = $1 AND client_id = $2")
            .bind(arn)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets (or with `None`, removes) a provider's context provider; `NotFound` if the
    /// provider does not exist.
    pub async fn set_oidc_context_provider(
        &self,
        account_id: &str,
        arn: &str,
        context_provider: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query("UPDATE oidc_providers SET context_provider = $1 WHERE account_id = $2 AND arn = $3")
            .bind(context_provider)
            .bind(account_id)
            .bind(arn)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::not_found(PROVIDER, arn));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a provider's thumbprints; `NotFound` if the provider does not exist.
    pub async fn replace_oidc_thumbprints(
        &self,
        account_id: &str,
        arn: &str,
        thumbprints: &[String],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_provider(&mut tx, account_id, arn).await?;
        sqlx::query("DELETE FROM oidc_provider_thumbprints WHERE arn = $1")
            .bind(arn)
            .execute(&mut *tx)
            .await?;
        insert_thumbprints(&mut tx, arn, thumbprints).await?;
        tx.commit().await?;
        Ok(())
    }
}

type Tx = crate::write::WriteTx;

/// Takes the write lock on a provider's row for the rest of the transaction; `NotFound` if
/// the account has no such provider.
async fn lock_provider(tx: &mut Tx, account_id: &str, arn: &str) -> Result<(), StoreError> {
    let locked = sqlx::query("UPDATE oidc_providers SET url = url WHERE account_id = $1 AND arn = $2")
        .bind(account_id)
        .bind(arn)
        .execute(&mut **tx)
        .await?;
    if locked.rows_affected() == 0 {
        Err(StoreError::not_found(PROVIDER, arn))
    } else {
        Ok(())
    }
}

async fn insert_client_id(tx: &mut Tx, arn: &str, position: i64, client_id: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO oidc_provider_client_ids (arn, position, client_id) VALUES ($1, $2, $3)")
        .bind(arn)
        .bind(position)
        .bind(client_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_thumbprints(tx: &mut Tx, arn: &str, thumbprints: &[String]) -> Result<(), StoreError> {
    for (position, thumbprint) in thumbprints.iter().enumerate() {
        sqlx::query("INSERT INTO oidc_provider_thumbprints (arn, position, thumbprint) VALUES ($1, $2, $3)")
            .bind(arn)
            .bind(position as i64)
            .bind(thumbprint.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
