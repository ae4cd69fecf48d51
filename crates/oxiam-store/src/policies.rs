//! Customer managed policies and their versions (at most a quota of versions each, one of
//! them the default).

use sqlx::Row as _;

use crate::entities::Dependent;
use crate::{Page, Store, StoreError, Subject};

/// A customer managed policy as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRow {
    /// `ANPA…`.
    pub policy_id: String,
    /// The owning account.
    pub account_id: String,
    /// The name.
    pub name: String,
    /// The path.
    pub path: String,
    /// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
    pub arn: String,
    /// The description given at creation.
    pub description: Option<String>,
    /// The default version's number (`v3` is 3).
    pub default_version: i64,
    /// How many users, groups and roles it is attached to.
    pub attachment_count: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change of its versions.
    pub updated_at: i64,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRow {
    /// The version number (`v3` is 3).
    pub version: i64,
    /// The document as given.
    pub document: String,
    /// Whether it is the policy's default.
    pub is_default: bool,
    /// Creation time.
    pub created_at: i64,
}

/// What creating a policy needs.
#[derive(Debug, Clone)]
pub struct NewPolicy<'a> {
    /// The owning account.
    pub account_id: &'a str,
    /// The new id.
    pub policy_id: &'a str,
    /// The name.
    pub name: &'a str,
    /// The path.
    pub path: &'a str,
    /// The ARN.
    pub arn: &'a str,
    /// The description.
    pub description: Option<&'a str>,
    /// The first version's document.
    pub document: &'a str,
    /// Creation time.
    pub created_at: i64,
    /// Tags.
    pub tags: &'a [(String, String)],
}

const POLICY_SELECT: &str = "SELECT p.policy_id, p.account_id, p.name, p.path, p.arn, p.description, p.default_version, \
     (SELECT COUNT(*) FROM attachments a WHERE a.account_id = p.account_id AND a.policy_arn = p.arn), \
     p.created_at, p.updated_at, p.name_key FROM policies p";

fn policy_from(row: &sqlx::any::AnyRow) -> Result<PolicyRow, sqlx::Error> {
    Ok(PolicyRow {
        policy_id: row.try_get(0)?,
        account_id: row.try_get(1)?,
        name: row.try_get(2)?,
        path: row.try_get(3)?,
        arn: row.try_get(4)?,
        description: row.try_get(5)?,
        default_version: row.try_get(6)?,
        attachment_count: row.try_get(7)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        tags: Vec::new(),
    })
}

type Tx = crate::write::WriteTx;

/// Locks a policy's row for the transaction; returns its id and default version.
async fn lock_policy(tx: &mut Tx, account_id: &str, arn: &str) -> Result<(String, i64), StoreError> {
    let done = sqlx::query("UPDATE policies SET name = name WHERE account_id = $1 AND arn = $2")
        .bind(account_id)
        .bind(arn)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found(Subject::Policy, arn));
    }
    let row: (String, i64) = sqlx::query_as("SELECT policy_id, default_version FROM policies WHERE arn = $1")
        .bind(arn)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row)
}

impl Store {
    /// Creates a policy with its first version (`v1`, the default); `Conflict` if the
    /// name is taken in the account (regardless of case and path).
    pub async fn create_policy(&self, new: NewPolicy<'_>) -> Result<PolicyRow, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO policies (policy_id, account_id, name, name_key, path, arn, description, default_version, \
             next_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 2, $8, $8)",
        )
        .bind(new.policy_id)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.name.to_ascii_lowercase())
        .bind(new.path)
        .bind(new.arn)
        .bind(new.description)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::Policy, new.name))?;
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES ($1, 1, $2, $3)")
            .bind(new.policy_id)
            .bind(new.document)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
        crate::tags::insert_tags(&mut tx, crate::TagOwner::Policy, new.policy_id, new.tags).await?;
        tx.commit().await?;
        Ok(PolicyRow {
            policy_id: new.policy_id.to_owned(),
            account_id: new.account_id.to_owned(),
            name: new.name.to_owned(),
            path: new.path.to_owned(),
            arn: new.arn.to_owned(),
            description: new.description.map(str::to_owned),
            default_version: 1,
            attachment_count: 0,
            created_at: new.created_at,
            updated_at: new.created_at,
            tags: new.tags.to_vec(),
        })
    }

    /// A customer managed policy of the account by ARN, with its tags.
    pub async fn get_policy(&self, account_id: &str, arn: &str) -> Result<PolicyRow, StoreError> {
        let sql = format!("{POLICY_SELECT} WHERE p.account_id = $1 AND p.arn = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(arn)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(Subject::Policy, arn))?;
        let mut policy = policy_from(&row)?;
        policy.tags =
            sqlx::query_as("SELECT tag_key, tag_value FROM policy_tags WHERE policy_id = $1 ORDER BY position")
                .bind(policy.policy_id.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(policy)
    }

    /// One page of the account's customer managed policies by name, under `path_prefix`,
    /// optionally only those attached to something.
    pub async fn list_policies(
        &self,
        account_id: &str,
        path_prefix: &str,
        only_attached: bool,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<PolicyRow>, StoreError> {
        let attached = if only_attached {
            " AND EXISTS (SELECT 1 FROM attachments a WHERE a.account_id = p.account_id AND a.policy_arn = p.arn)"
        } else {
            ""
        };
        let sql = format!(
            "{POLICY_SELECT} WHERE p.account_id = $1 AND p.name_key > $2 \
             AND substr(p.path, 1, CAST($3 AS INTEGER)) = $4{attached} ORDER BY p.name_key LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(path_prefix.chars().count() as i64)
            .bind(path_prefix)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        for row in rows.iter().take(limit) {
            items.push(policy_from(row)?);
        }
        let next_marker = if rows.len() > limit {
            let last: String = rows[limit - 1].try_get(10)?;
            Some(crate::marker::encode(&last))
        } else {
            None
        };
        Ok(Page { items, next_marker })
    }

    /// Adds a version (optionally making it the default), if the policy has fewer than
    /// `quota` versions; returns the new version's number.
    pub async fn create_policy_version(
        &self,
        account_id: &str,
        arn: &str,
        document: &str,
        set_default: bool,
        now: i64,
        quota: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        let (policy_id, _) = lock_policy(&mut tx, account_id, arn).await?;
        let (count, next): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1), next_version FROM policies WHERE policy_id = $1",
        )
        .bind(policy_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query("INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES ($1, $2, $3, $4)")
            .bind(policy_id.as_str())
            .bind(next)
            .bind(document)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE policies SET next_version = next_version + 1, updated_at = $2, \
             default_version = CASE WHEN $3 = 1 THEN next_version ELSE default_version END WHERE policy_id = $1",
        )
        .bind(policy_id.as_str())
        .bind(now)
        .bind(i64::from(set_default))
        .execute(&mut *tx)
        .await?;
        if set_default {
            tx.bump_policy_epoch(account_id);
        }
        tx.commit().await?;
        Ok(next)
    }

    /// One version of a policy.
    pub async fn get_policy_version(
        &self,
        account_id: &str,
        arn: &str,
        version: i64,
    ) -> Result<PolicyVersionRow, StoreError> {
        let row: Option<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT v.version, v.document, p.default_version, v.created_at FROM policy_versions v \
             JOIN policies p ON p.policy_id = v.policy_id WHERE p.account_id = $1 AND p.arn = $2 AND v.version = $3",
        )
        .bind(account_id)
        .bind(arn)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?;
        let (version, document, default, created_at) =
            row.ok_or_else(|| StoreError::not_found(Subject::PolicyVersion(version), arn))?;
        Ok(PolicyVersionRow {
            version,
            document,
            is_default: version == default,
            created_at,
        })
    }

    /// Every version of a policy, newest first (as IAM lists them).
    pub async fn list_policy_versions(&self, account_id: &str, arn: &str) -> Result<Vec<PolicyVersionRow>, StoreError> {
        // Checked separately so that a policy with no match is NotFound, not an empty list.
        self.get_policy(account_id, arn).await?;
        let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT v.version, v.document, p.default_version, v.created_at FROM policy_versions v \
             JOIN policies p ON p.policy_id = v.policy_id WHERE p.account_id = $1 AND p.arn = $2 ORDER BY v.version DESC",
        )
        .bind(account_id)
        .bind(arn)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, document, default, created_at)| PolicyVersionRow {
                version,
                document,
                is_default: version == default,
                created_at,
            })
            .collect())
    }

    /// Makes an existing version the default.
    pub async fn set_default_policy_version(
        &self,
        account_id: &str,
        arn: &str,
        version: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let (policy_id, _) = lock_policy(&mut tx, account_id, arn).await?;
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT version FROM policy_versions WHERE policy_id = $1 AND version = $2")
                .bind(policy_id.as_str())
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Err(StoreError::not_found(Subject::PolicyVersion(version), arn));
        }
        sqlx::query("UPDATE policies SET default_version = $2, updated_at = $3 WHERE policy_id = $1")
            .bind(policy_id.as_str())
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.bump_policy_epoch(account_id);
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a version that is not the default.
    pub async fn delete_policy_version(&self, account_id: &str, arn: &str, version: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let (policy_id, default) = lock_policy(&mut tx, account_id, arn).await?;
        if version == default {
            return Err(StoreError::DeleteConflict(Dependent::DefaultVersion));
        }
        let done = sqlx::query("DELETE FROM policy_versions WHERE policy_id = $1 AND version = $2")
            .bind(policy_id.as_str())
            .bind(version)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::PolicyVersion(version), arn));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a policy that is attached to nothing and has only its default version.
    pub async fn delete_policy(&self, account_id: &str, arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let (policy_id, _) = lock_policy(&mut tx, account_id, arn).await?;
        // Attached to entities, or used as a permissions boundary: either way in use.
        let (attached,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM attachments WHERE account_id = $1 AND policy_arn = $2) \
             + (SELECT COUNT(*) FROM users WHERE account_id = $1 AND permissions_boundary = $2) \
             + (SELECT COUNT(*) FROM roles WHERE account_id = $1 AND permissions_boundary = $2)",
        )
        .bind(account_id)
        .bind(arn)
        .fetch_one(&mut *tx)
        .await?;
        if attached > 0 {
            return Err(StoreError::DeleteConflict(Dependent::PolicyAttached));
        }
        let (versions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM policy_versions WHERE policy_id = $1")
            .bind(policy_id.as_str())
            .fetch_one(&mut *tx)
            .await?;
        if versions > 1 {
            return Err(StoreError::DeleteConflict(Dependent::PolicyVersions));
        }
        for sql in [
            "DELETE FROM policy_versions WHERE policy_id = $1",
            "DELETE FROM policy_tags WHERE policy_id = $1",
            "DELETE FROM policies WHERE policy_id = $1",
        ] {
            sqlx::query(sql).bind(policy_id.as_str()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The default version's document of every customer managed policy in `arns`.
    pub async fn default_documents(&self, account_id: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.arn, v.document FROM policies p JOIN policy_versions v \
             ON v.policy_id = p.policy_id AND v.version = p.default_version WHERE p.account_id = $1 ORDER BY p.name_key",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }
}
