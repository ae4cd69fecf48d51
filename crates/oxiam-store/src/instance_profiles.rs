//! Instance profiles: a name and a path holding at most one role, which EC2 hands to an
//! instance. A role cannot be deleted while a profile holds it, nor a profile while it holds
//! a role.

use sqlx::AssertSqlSafe;

use crate::entities::{EntityKind, EntityRef, lock_entity};
use crate::{Page, RoleRow, Store, StoreError, Subject, TagOwner};

const PROFILE: Subject = Subject::InstanceProfile;

/// An instance profile as stored, with its role (at most one) and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfileRow {
    /// The owning account.
    pub account_id: String,
    /// `AIPA…`.
    pub instance_profile_id: String,
    /// The name.
    pub name: String,
    /// The path.
    pub path: String,
    /// Creation time.
    pub created_at: i64,
    /// The role it holds: none or one.
    pub roles: Vec<RoleRow>,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

/// What creating an instance profile needs.
#[derive(Debug, Clone)]
pub struct NewInstanceProfile<'a> {
    /// The owning account.
    pub account_id: &'a str,
    /// The new id.
    pub instance_profile_id: &'a str,
    /// The name.
    pub name: &'a str,
    /// The path.
    pub path: &'a str,
    /// Creation time.
    pub created_at: i64,
    /// Tags.
    pub tags: &'a [(String, String)],
}

type ProfileTuple = (String, String, String, String, i64, String);

const PROFILE_SELECT: &str =
    "SELECT account_id, instance_profile_id, name, path, created_at, name_key FROM instance_profiles";

impl Store {
    /// Creates an instance profile with its tags if the account holds fewer than `quota`;
    /// `Conflict` if the name (regardless of case) is taken. The account's row is locked
    /// first, so parallel creations are counted one after the other.
    pub async fn create_instance_profile(
        &self,
        new: NewInstanceProfile<'_>,
        quota: i64,
    ) -> Result<InstanceProfileRow, StoreError> {
        let mut tx = self.write_tx().await?;
        crate::entities::lock_account(&mut tx, new.account_id).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM instance_profiles WHERE account_id = $1")
            .bind(new.account_id)
            .fetch_one(&mut *tx)
            .await?;
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO instance_profiles (instance_profile_id, account_id, name, name_key, path, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.instance_profile_id)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.name.to_ascii_lowercase())
        .bind(new.path)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(PROFILE, new.name))?;
        crate::tags::insert_tags(&mut tx, TagOwner::InstanceProfile, new.instance_profile_id, new.tags).await?;
        tx.commit().await?;
        Ok(InstanceProfileRow {
            account_id: new.account_id.to_owned(),
            instance_profile_id: new.instance_profile_id.to_owned(),
            name: new.name.to_owned(),
            path: new.path.to_owned(),
            created_at: new.created_at,
            roles: Vec::new(),
            tags: new.tags.to_vec(),
        })
    }

    /// An instance profile by name (regardless of case), with its role and tags.
    pub async fn get_instance_profile(&self, account_id: &str, name: &str) -> Result<InstanceProfileRow, StoreError> {
        let row: Option<ProfileTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "{PROFILE_SELECT} WHERE account_id = $1 AND name_key = $2"
        )))
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or_else(|| StoreError::not_found(PROFILE, name))?;
        self.complete_profile(row).await
    }

    /// One page of the account's instance profiles under `path_prefix`, by name.
    pub async fn list_instance_profiles(
        &self,
        account_id: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<InstanceProfileRow>, StoreError> {
        let rows: Vec<ProfileTuple> = sqlx::query_as(AssertSqlSafe(format!(
            "{PROFILE_SELECT} WHERE account_id = $1 AND name_key > $2 \
             AND substr(path, 1, CAST($3 AS INTEGER)) = $4 ORDER BY name_key LIMIT $5"
        )))
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(path_prefix.chars().count() as i64)
        .bind(path_prefix)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let next_marker = (rows.len() > limit).then(|| crate::marker::encode(&rows[limit - 1].5));
        let mut items = Vec::with_capacity(rows.len().min(limit));
        for row in rows.into_iter().take(limit) {
            items.push(self.complete_profile(row).await?);
        }
        Ok(Page { items, next_marker })
    }

    /// The instance profiles holding a role, by name.
    pub async fn instance_profiles_for_role(&self, role_id: &str) -> Result<Vec<InstanceProfileRow>, StoreError> {
        let rows: Vec<ProfileTuple> = sqlx::query_as(
            "SELECT p.account_id, p.instance_profile_id, p.name, p.path, p.created_at, p.name_key \
             FROM instance_profiles p JOIN instance_profile_roles r ON r.instance_profile_id = p.instance_profile_id \
             WHERE r.role_id = $1 ORDER BY p.name_key",
        )
        .bind(role_id)
        .fetch_all(&self.pool)
        .await?;
        let mut profiles = Vec::with_capacity(rows.len());
        for row in rows {
            profiles.push(self.complete_profile(row).await?);
        }
        Ok(profiles)
    }

    /// A profile's row, with its role and tags read.
    async fn complete_profile(
        &self,
        (account_id, instance_profile_id, name, path, created_at, _): ProfileTuple,
    ) -> Result<InstanceProfileRow, StoreError> {
        let roles = self.roles_where(
            "role_id IN (SELECT role_id FROM instance_profile_roles WHERE instance_profile_id = $1)",
            &instance_profile_id,
        );
        let tags = sqlx::query_as(
            "SELECT tag_key, tag_value FROM instance_profile_tags WHERE instance_profile_id = $1 ORDER BY position",
        )
        .bind(instance_profile_id.as_str())
        .fetch_all(&self.pool);
        let (roles, tags) = (roles.await?, tags.await?);
        Ok(InstanceProfileRow {
            account_id,
            instance_profile_id,
            name,
            path,
            created_at,
            roles,
            tags,
        })
    }

    /// Puts a role in an instance profile. Both rows are locked, so neither can be deleted
    /// meanwhile; `LimitExceeded` if the profile holds a role already (this one included).
    pub async fn add_role_to_instance_profile(
        &self,
        profile: &InstanceProfileRow,
        role: &EntityRef,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_profile(&mut tx, &profile.instance_profile_id, &profile.name).await?;
        lock_entity(&mut tx, EntityKind::Role, &role.id, &role.name).await?;
        let added = sqlx::query(
            "INSERT INTO instance_profile_roles (instance_profile_id, role_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(profile.instance_profile_id.as_str())
        .bind(role.id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if added.rows_affected() == 0 {
            return Err(StoreError::LimitExceeded);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes a role out of an instance profile; `NotFound` (the role, by name) if the
    /// profile does not hold it.
    pub async fn remove_role_from_instance_profile(
        &self,
        profile: &InstanceProfileRow,
        role: &EntityRef,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let removed = sqlx::query("DELETE FROM instance_profile_roles WHERE instance_profile_id = $1 AND role_id = $2")
            .bind(profile.instance_profile_id.as_str())
            .bind(role.id.as_str())
            .execute(&mut *tx)
            .await?;
        if removed.rows_affected() == 0 {
            return Err(StoreError::not_found(
                Subject::Entity(EntityKind::Role),
                role.name.as_str(),
            ));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an instance profile that holds no role.
    pub async fn delete_instance_profile(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let found: Option<(String,)> =
            sqlx::query_as("SELECT instance_profile_id FROM instance_profiles WHERE account_id = $1 AND name_key = $2")
                .bind(account_id)
                .bind(name.to_ascii_lowercase())
                .fetch_optional(&mut *tx)
                .await?;
        let (id,) = found.ok_or_else(|| StoreError::not_found(PROFILE, name))?;
        lock_profile(&mut tx, &id, name).await?;
        let (roles,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM instance_profile_roles WHERE instance_profile_id = $1")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        if roles > 0 {
            return Err(StoreError::DeleteConflict(crate::Dependent::InstanceProfileRoles));
        }
        for table in ["instance_profile_tags", "instance_profiles"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE instance_profile_id = $1"
            )))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Takes the write lock on a profile's row for the rest of the transaction (as
/// `lock_entity` does for users, groups and roles); `NotFound` (by `name`) if it is gone.
async fn lock_profile(tx: &mut crate::write::WriteTx, id: &str, name: &str) -> Result<(), StoreError> {
    let locked = sqlx::query("UPDATE instance_profiles SET name = name WHERE instance_profile_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if locked.rows_affected() == 0 {
        Err(StoreError::not_found(PROFILE, name))
    } else {
        Ok(())
    }
}
