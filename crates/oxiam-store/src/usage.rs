//! Last use of access keys and roles.

use crate::{Store, StoreError};

/// An access key signed a request at `at` for `service` in `region`.
#[derive(Debug, Clone, Copy)]
pub struct KeyUse<'a> {
    /// The key.
    pub access_key_id: &'a str,
    /// When (seconds since the epoch).
    pub at: i64,
    /// The signing name of the service called.
    pub service: &'a str,
    /// The region the request was signed for.
    pub region: &'a str,
}

/// A session of a role made a request at `at` in `region`.
#[derive(Debug, Clone, Copy)]
pub struct RoleUse<'a> {
    /// The role.
    pub role_id: &'a str,
    /// When (seconds since the epoch).
    pub at: i64,
    /// The region the request was signed for.
    pub region: &'a str,
}

impl Store {
    /// Writes last-use times in one transaction. A time older than the one stored is
    /// ignored (servers sharing a database flush independently); a key or role deleted
    /// meanwhile is skipped.
    pub async fn record_uses(&self, keys: &[KeyUse<'_>], roles: &[RoleUse<'_>]) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        for used in keys {
            sqlx::query(
                "UPDATE access_keys SET last_used_at = $1, last_used_service = $2, last_used_region = $3 \
                 WHERE access_key_id = $4 AND (last_used_at IS NULL OR last_used_at <= $1)",
            )
            .bind(used.at)
            .bind(used.service)
            .bind(used.region)
            .bind(used.access_key_id)
            .execute(&mut *tx)
            .await?;
        }
        for used in roles {
            sqlx::query(
                "UPDATE roles SET last_used_at = $1, last_used_region = $2 \
                 WHERE role_id = $3 AND (last_used_at IS NULL OR last_used_at <= $1)",
            )
            .bind(used.at)
            .bind(used.region)
            .bind(used.role_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
