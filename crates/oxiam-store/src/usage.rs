//! Last use of access keys, roles and services; access advisor's reports.

use crate::{IDS_PER_STATEMENT, Store, StoreError, placeholders};

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

/// A user or role attempted an action of a service at `at` in `region` (access advisor).
#[derive(Debug, Clone, Copy)]
pub struct ServiceUse<'a> {
    /// The user's or role's id.
    pub entity_id: &'a str,
    /// Its account.
    pub account_id: &'a str,
    /// The service prefix (`s3`).
    pub service: &'a str,
    /// The action's name (`GetObject`), or `""` for the service as a whole.
    pub action: &'a str,
    /// When (seconds since the epoch).
    pub at: i64,
    /// The region the request was signed for.
    pub region: &'a str,
}

/// When an entity last attempted a service (or one of its actions), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUseRow {
    /// The account.
    pub account_id: String,
    /// The user's or role's id (the account's id for its root).
    pub entity_id: String,
    /// The service prefix.
    pub service: String,
    /// The action's name, or `""` for the service as a whole.
    pub action: String,
    /// When (seconds since the epoch).
    pub at: i64,
    /// The region.
    pub region: String,
}

type UseTuple = (String, String, String, String, i64, String);

fn use_row((account_id, entity_id, service, action, at, region): UseTuple) -> ServiceUseRow {
    ServiceUseRow {
        account_id,
        entity_id,
        service,
        action,
        at,
        region,
    }
}

/// `$first, $first+1, …`: `count` numbered parameters.
/// An access advisor report as stored: who may read it, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReportRow {
    /// The job id (a UUID).
    pub job_id: String,
    /// The account.
    pub account_id: String,
    /// The ARN of the principal that generated it.
    pub owner: String,
    /// When it was generated.
    pub created_at: i64,
    /// The report (JSON, as oxiam-core writes it).
    pub report: String,
}

impl Store {
    /// Writes last-use times in one transaction. A time older than the one stored is
    /// ignored (servers sharing a database flush independently); a key or role deleted
    /// meanwhile is skipped.
    pub async fn record_uses(
        &self,
        keys: &[KeyUse<'_>],
        roles: &[RoleUse<'_>],
        services: &[ServiceUse<'_>],
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Written every second while requests come: were it to drop the read cache, each
        // second would begin with every lookup missing. Nothing cached is read for a last
        // use (GetAccessKeyLastUsed reads the key as stored).
        tx.changes_only(crate::cache::Sections::NONE);
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
        for used in services {
            sqlx::query(
                // Only while the account exists: a use recorded just before a test-mode
                // reset removed its account must not fail the whole batch (and every
                // later one, as failed uses are put back).
                "INSERT INTO service_last_accessed (entity_id, account_id, service, action, last_at, region) \
                 SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM accounts WHERE account_id = $2) \
                 ON CONFLICT (entity_id, service, action) DO UPDATE \
                 SET last_at = excluded.last_at, region = excluded.region \
                 WHERE service_last_accessed.last_at <= excluded.last_at",
            )
            .bind(used.entity_id)
            .bind(used.account_id)
            .bind(used.service)
            .bind(used.action)
            .bind(used.at)
            .bind(used.region)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every recorded use of a service or action by the given users and roles of `account_id`.
    pub async fn service_uses(&self, account_id: &str, entity_ids: &[&str]) -> Result<Vec<ServiceUseRow>, StoreError> {
        let mut out = Vec::new();
        // In chunks: a group or a policy may reach many entities, and a statement's
        // parameters are bounded (SQLite's 32,766).
        for chunk in entity_ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT account_id, entity_id, service, action, last_at, region FROM service_last_accessed \
                 WHERE account_id = $1 AND entity_id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_as::<_, UseTuple>(sqlx::AssertSqlSafe(sql)).bind(account_id);
            for id in chunk {
                query = query.bind(*id);
            }
            out.extend(query.fetch_all(&self.pool).await?.into_iter().map(use_row));
        }
        Ok(out)
    }

    /// Every recorded use of a service as a whole (not per action) in the given accounts, by
    /// any of their users, roles or roots (an organizations access report).
    pub async fn account_service_uses(&self, account_ids: &[&str]) -> Result<Vec<ServiceUseRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in account_ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT account_id, entity_id, service, action, last_at, region FROM service_last_accessed \
                 WHERE action = '' AND account_id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, UseTuple>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            out.extend(query.fetch_all(&self.pool).await?.into_iter().map(use_row));
        }
        Ok(out)
    }

    /// Stores a generated report, and forgets the account's reports generated before
    /// `forget_before` and those beyond its latest `keep`.
    pub async fn insert_access_report(
        &self,
        report: &AccessReportRow,
        forget_before: i64,
        keep: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM access_reports WHERE account_id = $1 AND created_at < $2")
            .bind(&report.account_id)
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO access_reports (job_id, account_id, owner, created_at, report) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&report.job_id)
        .bind(&report.account_id)
        .bind(&report.owner)
        .bind(report.created_at)
        .bind(&report.report)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM access_reports WHERE account_id = $1 AND job_id NOT IN \
             (SELECT job_id FROM access_reports WHERE account_id = $1 \
              ORDER BY created_at DESC, job_id DESC LIMIT $2)",
        )
        .bind(&report.account_id)
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's report `job_id`, if it has one.
    pub async fn access_report(&self, account_id: &str, job_id: &str) -> Result<Option<AccessReportRow>, StoreError> {
        let found: Option<(String, String, String, i64, String)> = sqlx::query_as(
            "SELECT job_id, account_id, owner, created_at, report FROM access_reports \
             WHERE account_id = $1 AND job_id = $2",
        )
        .bind(account_id)
        .bind(job_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            found.map(|(job_id, account_id, owner, created_at, report)| AccessReportRow {
                job_id,
                account_id,
                owner,
                created_at,
                report,
            }),
        )
    }
}
