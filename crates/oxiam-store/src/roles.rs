//! Roles: a trust policy saying who may assume them, plus what every entity has.

use sqlx::Row as _;

use crate::entities::{EntityKind, dependents, lock_entity};
use crate::{Page, Store, StoreError, Subject};

const ROLE: Subject = Subject::Entity(EntityKind::Role);

/// A role as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    /// The owning account.
    pub account_id: String,
    /// `AROA…`.
    pub role_id: String,
    /// The name.
    pub name: String,
    /// The path.
    pub path: String,
    /// The trust policy document as given.
    pub trust_policy: String,
    /// The description.
    pub description: Option<String>,
    /// Longest session an AssumeRole may ask for, in seconds.
    pub max_session_duration: i64,
    /// The permissions boundary's ARN.
    pub permissions_boundary: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// When a session of the role last made a request, and in which region.
    pub last_used: Option<(i64, String)>,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
    /// The role template it was created from (AcquireRole), if any.
    pub source_template: Option<SourceTemplate>,
}

/// The role template a role was created from, and with which replacement values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTemplate {
    /// The template's ARN.
    pub arn: String,
    /// Its minor version.
    pub minor_version: i64,
    /// The replacement values, as a canonical text (compared, never parsed here).
    pub values: String,
}

/// What creating a role needs.
#[derive(Debug, Clone)]
pub struct NewRole<'a> {
    /// The owning account.
    pub account_id: &'a str,
    /// The new id.
    pub role_id: &'a str,
    /// The name.
    pub name: &'a str,
    /// The path.
    pub path: &'a str,
    /// The trust policy.
    pub trust_policy: &'a str,
    /// The description.
    pub description: Option<&'a str>,
    /// Longest session, in seconds.
    pub max_session_duration: i64,
    /// Creation time.
    pub created_at: i64,
    /// Tags.
    pub tags: &'a [(String, String)],
    /// The permissions boundary, set in the same transaction.
    pub permissions_boundary: Option<crate::NewBoundary<'a>>,
    /// AWS managed policies (ARNs) attached in the same write (a service-linked role's).
    pub attached_policies: &'a [&'a str],
    /// Whether CreateServiceLinkedRole makes it (then only AWS may change it).
    pub service_linked: bool,
    /// Inline policies (name, document) put in the same write (a role template's).
    pub inline_policies: &'a [(String, String)],
    /// The role template it is created from (AcquireRole).
    pub source_template: Option<&'a SourceTemplate>,
}

const ROLE_SELECT: &str = "SELECT account_id, role_id, name, path, trust_policy, description, max_session_duration, \
     permissions_boundary, created_at, last_used_at, last_used_region, name_key, source_template_arn, \
     source_template_minor, source_template_values FROM roles";

fn role_from(row: &sqlx::any::AnyRow) -> Result<RoleRow, sqlx::Error> {
    let last_at: Option<i64> = row.try_get(9)?;
    let last_region: Option<String> = row.try_get(10)?;
    Ok(RoleRow {
        account_id: row.try_get(0)?,
        role_id: row.try_get(1)?,
        name: row.try_get(2)?,
        path: row.try_get(3)?,
        trust_policy: row.try_get(4)?,
        description: row.try_get(5)?,
        max_session_duration: row.try_get(6)?,
        permissions_boundary: row.try_get(7)?,
        created_at: row.try_get(8)?,
        last_used: last_at.zip(last_region),
        tags: Vec::new(),
        source_template: match row.try_get::<Option<String>, _>(12)? {
            Some(arn) => Some(SourceTemplate {
                arn,
                minor_version: row.try_get::<Option<i64>, _>(13)?.unwrap_or(0),
                values: row.try_get::<Option<String>, _>(14)?.unwrap_or_default(),
            }),
            None => None,
        },
    })
}

impl Store {
    /// Creates a role; `Conflict` if the name (regardless of case) is taken.
    pub async fn create_role(&self, new: NewRole<'_>) -> Result<RoleRow, StoreError> {
        // The role, its tags and its boundary are one write: all of them or none.
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO roles (role_id, account_id, name, name_key, path, trust_policy, description, \
             max_session_duration, created_at, permissions_boundary, service_linked, source_template_arn, \
             source_template_minor, source_template_values) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(new.role_id)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.name.to_ascii_lowercase())
        .bind(new.path)
        .bind(new.trust_policy)
        .bind(new.description)
        .bind(new.max_session_duration)
        .bind(new.created_at)
        .bind(new.permissions_boundary.map(|b| b.arn))
        .bind(i64::from(new.service_linked))
        .bind(new.source_template.map(|t| t.arn.as_str()))
        .bind(new.source_template.map(|t| t.minor_version))
        .bind(new.source_template.map(|t| t.values.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(ROLE, new.name))?;
        crate::tags::insert_tags(&mut tx, crate::TagOwner::Role, new.role_id, new.tags).await?;
        for policy_arn in new.attached_policies {
            sqlx::query(
                "INSERT INTO attachments (account_id, entity_kind, entity_id, policy_arn, attached_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new.account_id)
            .bind(EntityKind::Role.as_str())
            .bind(new.role_id)
            .bind(*policy_arn)
            .bind(new.created_at)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(boundary) = new.permissions_boundary
            && boundary.customer
        {
            crate::entities::lock_customer_policy(&mut tx, new.account_id, boundary.arn).await?;
        }
        for (name, document) in new.inline_policies {
            sqlx::query(
                "INSERT INTO inline_policies (entity_kind, entity_id, name, name_key, document, size) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(EntityKind::Role.as_str())
            .bind(new.role_id)
            .bind(name.as_str())
            .bind(name.to_ascii_lowercase())
            .bind(document.as_str())
            .bind(document.chars().filter(|c| !c.is_whitespace()).count() as i64)
            .execute(&mut *tx)
            .await?;
        }
        if new.permissions_boundary.is_some() || !new.attached_policies.is_empty() || !new.inline_policies.is_empty() {
            tx.bump_policy_epoch_of(EntityKind::Role, new.account_id, new.role_id);
        }
        tx.commit().await?;
        self.get_role(new.account_id, new.name).await
    }

    /// A role by name (regardless of case), with its tags.
    pub async fn get_role(&self, account_id: &str, name: &str) -> Result<RoleRow, StoreError> {
        let sql = format!("{ROLE_SELECT} WHERE account_id = $1 AND name_key = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(name.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::not_found(ROLE, name))?;
        let mut role = role_from(&row)?;
        role.tags = sqlx::query_as("SELECT tag_key, tag_value FROM role_tags WHERE role_id = $1 ORDER BY position")
            .bind(role.role_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        Ok(role)
    }

    /// The roles matching `condition` (SQL over `roles`, with `$1` bound to `id`), by name,
    /// without their tags.
    pub(crate) async fn roles_where(&self, condition: &'static str, id: &str) -> Result<Vec<RoleRow>, StoreError> {
        let sql = format!("{ROLE_SELECT} WHERE {condition} ORDER BY name_key");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(role_from).collect::<Result<Vec<_>, _>>()?)
    }

    /// One page of the account's roles under `path_prefix`, by name.
    pub async fn list_roles(
        &self,
        account_id: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<RoleRow>, StoreError> {
        let sql = format!(
            "{ROLE_SELECT} WHERE account_id = $1 AND name_key > $2 AND substr(path, 1, CAST($3 AS INTEGER)) = $4 \
             ORDER BY name_key LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(after.unwrap_or(""))
            .bind(path_prefix.chars().count() as i64)
            .bind(path_prefix)
            .bind(limit as i64 + 1)
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().take(limit).map(role_from).collect::<Result<Vec<_>, _>>()?;
        let next_marker = if rows.len() > limit {
            let last: String = rows[limit - 1].try_get(11)?;
            Some(crate::marker::encode(&last))
        } else {
            None
        };
        Ok(Page { items, next_marker })
    }

    /// Changes a role's description and/or maximum session duration.
    pub async fn update_role(
        &self,
        account_id: &str,
        name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE roles SET description = COALESCE($3, description), \
             max_session_duration = COALESCE($4, max_session_duration) WHERE account_id = $1 AND name_key = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .bind(description)
        .bind(max_session_duration)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            Err(StoreError::not_found(ROLE, name))
        } else {
            Ok(())
        }
    }

    /// Replaces a role's trust policy.
    pub async fn update_trust_policy(&self, account_id: &str, name: &str, document: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE roles SET trust_policy = $3 WHERE account_id = $1 AND name_key = $2")
            .bind(account_id)
            .bind(name.to_ascii_lowercase())
            .bind(document)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            Err(StoreError::not_found(ROLE, name))
        } else {
            Ok(())
        }
    }

    /// Deletes a role with no attached or inline policies left.
    pub async fn delete_role(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        self.delete_role_recording(account_id, name, None).await
    }

    /// Deletes a service-linked role with the policies AWS attached to it, and records the
    /// deletion task `task_id` as done, in one write; `DeleteConflict` if anything else
    /// still refers to it (an instance profile).
    pub async fn delete_service_linked_role(
        &self,
        account_id: &str,
        name: &str,
        task_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.delete_role_recording(account_id, name, Some((task_id, now))).await
    }

    /// Whether a role of the account (by name, regardless of case) was made by
    /// CreateServiceLinkedRole: `(its name, its path, service-linked)`, or `None` if there
    /// is none.
    pub async fn service_linked(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<(String, String, bool)>, StoreError> {
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT name, path, service_linked FROM roles WHERE account_id = $1 AND name_key = $2")
                .bind(account_id)
                .bind(name.to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(name, path, linked)| (name, path, linked != 0)))
    }

    /// GetServiceLinkedRoleDeletionStatus: the status of one of the account's deletion
    /// tasks, if there is such a task.
    pub async fn service_linked_role_deletion(
        &self,
        account_id: &str,
        task_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT status FROM service_linked_role_deletions WHERE account_id = $1 AND task_id = $2")
                .bind(account_id)
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(status,)| status))
    }

    /// Deletes a role; with a deletion task (a service-linked role's), its attached policies
    /// go with it and the task is recorded as done.
    async fn delete_role_recording(
        &self,
        account_id: &str,
        name: &str,
        task: Option<(&str, i64)>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let found: Option<(String, i64)> =
            sqlx::query_as("SELECT role_id, service_linked FROM roles WHERE account_id = $1 AND name_key = $2")
                .bind(account_id)
                .bind(name.to_ascii_lowercase())
                .fetch_optional(&mut *tx)
                .await?;
        let (role_id, service_linked) = found.ok_or_else(|| StoreError::not_found(ROLE, name))?;
        lock_entity(&mut tx, EntityKind::Role, &role_id, name).await?;
        // (A role swapped in under the name since the caller looked is not the one asked for.)
        if task.is_some() && service_linked == 0 {
            return Err(StoreError::not_found(ROLE, name));
        }
        if let Some((task_id, now)) = task {
            sqlx::query("DELETE FROM attachments WHERE entity_kind = $1 AND entity_id = $2")
                .bind(EntityKind::Role.as_str())
                .bind(role_id.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO service_linked_role_deletions (task_id, account_id, status, created_at) \
                 VALUES ($1, $2, 'SUCCEEDED', $3)",
            )
            .bind(task_id)
            .bind(account_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.bump_policy_epoch(account_id);
        }
        if let Some(dependent) = dependents(&mut tx, EntityKind::Role, &role_id).await? {
            return Err(StoreError::DeleteConflict(dependent));
        }
        sqlx::query("DELETE FROM role_tags WHERE role_id = $1")
            .bind(role_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM roles WHERE role_id = $1")
            .bind(role_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
