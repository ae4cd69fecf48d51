//! Outbound identity federation: per account, whether its principals may get web identity
//! tokens (STS GetWebIdentityToken), the id its issuer URL carries, and its signing keys.

use crate::{Store, StoreError};

/// An account's outbound federation, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundFederationRow {
    /// The account.
    pub account_id: String,
    /// The id in the account's issuer URL (a UUID), the same for the account's lifetime.
    pub issuer_id: String,
    /// Whether tokens may be issued now.
    pub enabled: bool,
    /// The RSA signing key, PKCS#8, sealed.
    pub rsa_key_sealed: String,
    /// The P-384 signing key, PKCS#8, sealed.
    pub ec_key_sealed: String,
    /// When the account first enabled it.
    pub created_at: i64,
}

type RowTuple = (String, String, i64, String, String, i64);

const SELECT: &str = "SELECT account_id, issuer_id, enabled, rsa_key_sealed, ec_key_sealed, created_at \
     FROM outbound_federation";

fn row((account_id, issuer_id, enabled, rsa_key_sealed, ec_key_sealed, created_at): RowTuple) -> OutboundFederationRow {
    OutboundFederationRow {
        account_id,
        issuer_id,
        enabled: enabled != 0,
        rsa_key_sealed,
        ec_key_sealed,
        created_at,
    }
}

impl Store {
    /// The account's outbound federation, if it was ever enabled.
    pub async fn outbound_federation(&self, account_id: &str) -> Result<Option<OutboundFederationRow>, StoreError> {
        let found: Option<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE account_id = $1")))
            .bind(account_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(row))
    }

    /// The outbound federation whose issuer URL carries `issuer_id` (for its published keys).
    pub async fn outbound_federation_by_issuer(
        &self,
        issuer_id: &str,
    ) -> Result<Option<OutboundFederationRow>, StoreError> {
        let found: Option<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE issuer_id = $1")))
            .bind(issuer_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.map(row))
    }

    /// Enables outbound federation: makes `first` the account's row if it has none, else
    /// enables the row it has (keeping its issuer and keys). Returns the row, and whether
    /// it was disabled (or missing) before: `false` means it was already enabled, which
    /// one transaction decides, so of parallel calls exactly one enables.
    pub async fn enable_outbound_federation(
        &self,
        first: &OutboundFederationRow,
    ) -> Result<(OutboundFederationRow, bool), StoreError> {
        let mut tx = self.write_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO outbound_federation \
             (account_id, issuer_id, enabled, rsa_key_sealed, ec_key_sealed, created_at) \
             VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(&first.account_id)
        .bind(&first.issuer_id)
        .bind(&first.rsa_key_sealed)
        .bind(&first.ec_key_sealed)
        .bind(first.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let changed = inserted
            || sqlx::query("UPDATE outbound_federation SET enabled = 1 WHERE account_id = $1 AND enabled = 0")
                .bind(&first.account_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        let stored: RowTuple = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE account_id = $1")))
            .bind(&first.account_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((row(stored), changed))
    }

    /// Disables outbound federation; `false` if it was not enabled.
    pub async fn disable_outbound_federation(&self, account_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let changed = sqlx::query("UPDATE outbound_federation SET enabled = 0 WHERE account_id = $1 AND enabled = 1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(changed)
    }
}
