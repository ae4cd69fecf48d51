//! Groups and their members.

use crate::entities::{EntityKind, EntityRef, dependents, lock_entity};
use crate::{Page, Store, StoreError, Subject, UserRow};

const GROUP: Subject = Subject::Entity(EntityKind::Group);

/// A group as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// The owning account.
    pub account_id: String,
    /// `AGPA…`.
    pub group_id: String,
    /// The name.
    pub name: String,
    /// The path.
    pub path: String,
    /// Creation time.
    pub created_at: i64,
}

type GroupTuple = (String, String, String, String, i64, String);

fn group_from((account_id, group_id, name, path, created_at, _): GroupTuple) -> GroupRow {
    GroupRow {
        account_id,
        group_id,
        name,
        path,
        created_at,
    }
}

impl Store {
    /// Creates a group; `Conflict` if the name (regardless of case) is taken.
    pub async fn create_group(
        &self,
        account_id: &str,
        group_id: &str,
        name: &str,
        path: &str,
        now: i64,
    ) -> Result<GroupRow, StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO iam_groups (group_id, account_id, name, name_key, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(group_id)
        .bind(account_id)
        .bind(name)
        .bind(name.to_ascii_lowercase())
        .bind(path)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(GROUP, name))?;
        tx.commit().await?;
        Ok(GroupRow {
            account_id: account_id.to_owned(),
            group_id: group_id.to_owned(),
            name: name.to_owned(),
            path: path.to_owned(),
            created_at: now,
        })
    }

    /// A group by name (regardless of case).
    pub async fn get_group(&self, account_id: &str, name: &str) -> Result<GroupRow, StoreError> {
        let row: Option<GroupTuple> = sqlx::query_as(
            "SELECT account_id, group_id, name, path, created_at, name_key FROM iam_groups WHERE account_id = $1 AND name_key = $2",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.map(group_from).ok_or_else(|| StoreError::not_found(GROUP, name))
    }

    /// One page of the account's groups under `path_prefix`, by name.
    pub async fn list_groups(
        &self,
        account_id: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<GroupRow>, StoreError> {
        let rows: Vec<GroupTuple> = sqlx::query_as(
            "SELECT account_id, group_id, name, path, created_at, name_key FROM iam_groups \
             WHERE account_id = $1 AND name_key > $2 AND substr(path, 1, CAST($3 AS INTEGER)) = $4 ORDER BY name_key LIMIT $5",
        )
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(path_prefix.chars().count() as i64)
        .bind(path_prefix)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let next_marker = (rows.len() > limit).then(|| crate::marker::encode(&rows[limit - 1].5));
        Ok(Page {
            items: rows.into_iter().take(limit).map(group_from).collect(),
            next_marker,
        })
    }

    /// The groups a user is in, by name.
    pub async fn groups_for_user(&self, user_id: &str) -> Result<Vec<GroupRow>, StoreError> {
        let rows: Vec<GroupTuple> = sqlx::query_as(
            "SELECT g.account_id, g.group_id, g.name, g.path, g.created_at, g.name_key FROM iam_groups g \
             JOIN group_members m ON m.group_id = g.group_id WHERE m.user_id = $1 ORDER BY g.name_key",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(group_from).collect())
    }

    /// The members of a group, by name.
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<UserRow>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT u.account_id, u.user_id, u.name, u.path, u.created_at FROM users u \
             JOIN group_members m ON m.user_id = u.user_id WHERE m.group_id = $1 ORDER BY u.name_key",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account_id, user_id, name, path, created_at)| UserRow {
                account_id,
                user_id,
                name,
                path,
                created_at,
                tags: Vec::new(),
            })
            .collect())
    }

    /// Adds a user to a group (a no-op if already a member) if the user is in fewer than
    /// `quota` groups; both rows are locked, so neither can be deleted meanwhile and
    /// parallel additions of one user are counted one after the other.
    pub async fn add_user_to_group(
        &self,
        group: &EntityRef,
        user: &EntityRef,
        now: i64,
        quota: i64,
    ) -> Result<(), StoreError> {
        let (group_id, user_id) = (group.id.as_str(), user.id.as_str());
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::Group, group_id, &group.name).await?;
        lock_entity(&mut tx, EntityKind::User, user_id, &user.name).await?;
        let (count, member): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN group_id = $2 THEN 1 ELSE 0 END), 0) FROM group_members WHERE user_id = $1",
        )
        .bind(user_id)
        .bind(group_id)
        .fetch_one(&mut *tx)
        .await?;
        if member == 0 && count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.bump_policy_epoch_of(EntityKind::User, &user.account_id, &user.id);
        tx.commit().await?;
        Ok(())
    }

    /// Removes a user from a group; removing a user who is not a member changes nothing.
    pub async fn remove_user_from_group(&self, group: &EntityRef, user: &EntityRef) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group.id.as_str())
            .bind(user.id.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            tx.bump_policy_epoch_of(EntityKind::User, &user.account_id, &user.id);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Renames and/or moves a group.
    pub async fn update_group(
        &self,
        account_id: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<(), StoreError> {
        let group = self.get_group(account_id, name).await?;
        let name = new_name.unwrap_or(&group.name);
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE iam_groups SET name = $2, name_key = $3, path = $4 WHERE group_id = $1")
            .bind(group.group_id.as_str())
            .bind(name)
            .bind(name.to_ascii_lowercase())
            .bind(new_path.unwrap_or(&group.path))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_write(GROUP, name))?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            Err(StoreError::not_found(GROUP, group.name))
        } else {
            Ok(())
        }
    }

    /// Deletes a group with no members and no policies left.
    pub async fn delete_group(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let group = self.get_group(account_id, name).await?;
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::Group, &group.group_id, &group.name).await?;
        if let Some(dependent) = dependents(&mut tx, EntityKind::Group, &group.group_id).await? {
            return Err(StoreError::DeleteConflict(dependent));
        }
        sqlx::query("DELETE FROM iam_groups WHERE group_id = $1")
            .bind(group.group_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
