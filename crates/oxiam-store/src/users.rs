//! Users and their access keys (and the root's keys, which have no user).

use crate::cache::Sections;
use crate::{Dependent, EntityKind, Store, StoreError, Subject};
use sqlx::Row as _;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// The account the user belongs to.
    pub account_id: String,
    /// The stable id (`AIDA…`); survives renames.
    pub user_id: String,
    /// The name as given (case preserved).
    pub name: String,
    /// The path, `/` by default.
    pub path: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

/// What creating a user needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// The owning account.
    pub account_id: &'a str,
    /// The new id.
    pub user_id: &'a str,
    /// The name.
    pub name: &'a str,
    /// The path.
    pub path: &'a str,
    /// Creation time.
    pub created_at: i64,
    /// Tags.
    pub tags: &'a [(String, String)],
    /// The permissions boundary, set in the same transaction.
    pub permissions_boundary: Option<crate::NewBoundary<'a>>,
}

/// An access key as stored (its secret still sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRow {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The owning account.
    pub account_id: String,
    /// The owning user, or `None` for the account root.
    pub user_id: Option<String>,
    /// The sealed secret.
    pub secret_sealed: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Creation time.
    pub created_at: i64,
    /// When it last signed a request, and for which service and region.
    pub last_used: Option<(i64, String, String)>,
}

/// A key with the user that owns it (none for root keys).
#[derive(Debug, Clone)]
pub struct KeyWithOwner {
    /// The key.
    pub key: AccessKeyRow,
    /// Its user.
    pub user: Option<UserRow>,
    /// The policy epoch of the account (migration 0003) plus, for a user's key, the user's
    /// own (0031): read in the same query, it moves with any change to what the key may do.
    pub policy_epoch: i64,
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The marker of the next page, if there is one.
    pub next_marker: Option<String>,
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        account_id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        name: row.try_get(2)?,
        path: row.try_get(3)?,
        created_at: row.try_get(4)?,
        tags: Vec::new(),
    })
}

fn key_from(row: &sqlx::any::AnyRow, at: usize) -> Result<AccessKeyRow, sqlx::Error> {
    let last_at: Option<i64> = row.try_get(at + 6)?;
    let service: Option<String> = row.try_get(at + 7)?;
    let region: Option<String> = row.try_get(at + 8)?;
    Ok(AccessKeyRow {
        access_key_id: row.try_get(at)?,
        account_id: row.try_get(at + 1)?,
        user_id: row.try_get(at + 2)?,
        secret_sealed: row.try_get(at + 3)?,
        status: row.try_get(at + 4)?,
        created_at: row.try_get(at + 5)?,
        last_used: match (last_at, service, region) {
            (Some(t), Some(s), Some(r)) => Some((t, s, r)),
            _ => None,
        },
    })
}

impl Store {
    /// Creates a user; `Conflict` if the name (regardless of case) is taken in the account.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<UserRow, StoreError> {
        // The user, its tags and its boundary are one write: all of them or none.
        let mut tx = self.write_tx().await?;
        // Lookups by name and listings may change; no key is the new user's yet.
        tx.changes_only(
            Sections::USERS
                .union(Sections::ENTITIES)
                .union(Sections::BOUNDARIES)
                .union(Sections::USER_PAGES),
        );
        sqlx::query(
            "INSERT INTO users (user_id, account_id, name, name_key, path, created_at, permissions_boundary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.user_id)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.name.to_ascii_lowercase())
        .bind(new.path)
        .bind(new.created_at)
        .bind(new.permissions_boundary.map(|b| b.arn))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(Subject::Entity(EntityKind::User), new.name))?;
        crate::tags::insert_tags(&mut tx, crate::TagOwner::User, new.user_id, new.tags).await?;
        if let Some(boundary) = new.permissions_boundary {
            if boundary.customer {
                crate::entities::lock_customer_policy(&mut tx, new.account_id, boundary.arn).await?;
            }
            tx.bump_policy_epoch_of(EntityKind::User, new.account_id, new.user_id);
        }
        tx.commit().await?;
        Ok(UserRow {
            account_id: new.account_id.to_owned(),
            user_id: new.user_id.to_owned(),
            name: new.name.to_owned(),
            path: new.path.to_owned(),
            created_at: new.created_at,
            tags: new.tags.to_vec(),
        })
    }

    /// A user by name (regardless of case), with its tags.
    pub async fn get_user(&self, account_id: &str, name: &str) -> Result<UserRow, StoreError> {
        let cache_key = (account_id.to_owned(), name.to_ascii_lowercase());
        let cached = self.cache_generation();
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.users.get(&cache_key, generation)
        {
            return Ok(hit);
        }
        let user = self.get_user_as_stored(account_id, name).await?;
        if let Some((cache, generation)) = cached {
            cache.users.put(cache_key, generation, user.clone());
        }
        Ok(user)
    }

    /// A user by name (regardless of case), with its tags, from the database (never the read
    /// cache): what authorization compiles a user's policies from (see `oxiam-core`'s authz).
    pub async fn get_user_as_stored(&self, account_id: &str, name: &str) -> Result<UserRow, StoreError> {
        // One round trip: a row per tag (or one row with NULL tag columns).
        let rows = sqlx::query(
            "SELECT u.account_id, u.user_id, u.name, u.path, u.created_at, t.tag_key, t.tag_value \
             FROM users u LEFT JOIN user_tags t ON t.user_id = u.user_id \
             WHERE u.account_id = $1 AND u.name_key = $2 ORDER BY t.position",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_all(&self.pool)
        .await?;
        let first = rows
            .first()
            .ok_or_else(|| StoreError::not_found(Subject::Entity(EntityKind::User), name))?;
        let mut user = user_from(first)?;
        for row in &rows {
            let key: Option<String> = row.try_get(5)?;
            let value: Option<String> = row.try_get(6)?;
            if let (Some(key), Some(value)) = (key, value) {
                user.tags.push((key, value));
            }
        }
        Ok(user)
    }

    /// One page of an account's users whose path starts with `path_prefix`, ordered by
    /// name regardless of case. The query walks the `(account_id, name_key)` index from
    /// the marker, so a page costs the same however many users the account holds.
    pub async fn list_users(
        &self,
        account_id: &str,
        path_prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<UserRow>, StoreError> {
        let cached = self.cache_generation();
        let cache_key = (
            account_id.to_owned(),
            path_prefix.to_owned(),
            after.unwrap_or_default().to_owned(),
            limit,
        );
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.user_pages.get(&cache_key, generation)
        {
            return Ok(hit);
        }
        let rows = sqlx::query(
            "SELECT account_id, user_id, name, path, created_at, name_key FROM users \
             WHERE account_id = $1 AND name_key > $2 AND substr(path, 1, CAST($3 AS INTEGER)) = $4 \
             ORDER BY name_key LIMIT $5",
        )
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(path_prefix.chars().count() as i64)
        .bind(path_prefix)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = Vec::with_capacity(rows.len().min(limit));
        let mut next_marker = None;
        for (i, row) in rows.iter().enumerate() {
            if i == limit {
                let last: String = rows[i - 1].try_get(5)?;
                next_marker = Some(crate::marker::encode(&last));
                break;
            }
            items.push(user_from(row)?);
        }
        let page = Page { items, next_marker };
        if let Some((cache, generation)) = cached {
            cache.user_pages.put(cache_key, generation, page.clone());
        }
        Ok(page)
    }

    /// Renames and/or moves a user; its id, keys and everything else stay.
    pub async fn update_user(
        &self,
        account_id: &str,
        name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let current: Option<(String, String, String)> =
            sqlx::query_as("SELECT user_id, name, path FROM users WHERE account_id = $1 AND name_key = $2")
                .bind(account_id)
                .bind(name.to_ascii_lowercase())
                .fetch_optional(&mut *tx)
                .await?;
        let (user_id, old_name, old_path) =
            current.ok_or_else(|| StoreError::not_found(Subject::Entity(EntityKind::User), name))?;
        let name = new_name.unwrap_or(&old_name);
        let path = new_path.unwrap_or(&old_path);
        sqlx::query("UPDATE users SET name = $1, name_key = $2, path = $3 WHERE user_id = $4")
            .bind(name)
            .bind(name.to_ascii_lowercase())
            .bind(path)
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::on_write(Subject::Entity(EntityKind::User), name))?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a user that has nothing left hanging off it: access keys, attached or
    /// inline policies, group memberships (`DeleteConflict` naming the first found). The
    /// user's row is locked first, so nothing can be added between check and delete.
    pub async fn delete_user(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Found and locked in one statement; the key count it returns is the row's latest
        // (PostgreSQL re-reads a row it waited to lock), so a key made meanwhile is seen.
        let found: Option<(String, i64)> = sqlx::query_as(
            "UPDATE users SET name = name WHERE account_id = $1 AND name_key = $2 \
             RETURNING user_id, access_key_count",
        )
        .bind(account_id)
        .bind(name.to_ascii_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, keys) = found.ok_or_else(|| StoreError::not_found(Subject::Entity(EntityKind::User), name))?;
        if keys > 0 {
            return Err(StoreError::DeleteConflict(Dependent::AccessKeys));
        }
        if let Some(dependent) = crate::entities::dependents(&mut tx, EntityKind::User, &user_id).await? {
            return Err(StoreError::DeleteConflict(dependent));
        }
        // The user's tags go with it (ON DELETE CASCADE); its old password hashes do not.
        sqlx::query("DELETE FROM password_history WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a new key if its owner (a user, or the account root when `key.user_id` is
    /// `None`) holds fewer than `quota` keys.
    ///
    /// The conditional UPDATE of the owner's key count is the quota: PostgreSQL re-checks
    /// its WHERE clause after waiting on a concurrent writer's row lock, and SQLite runs one
    /// writer at a time, so parallel requests cannot both see "one key left".
    pub async fn create_access_key(&self, key: &AccessKeyRow, quota: i64) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let counted = match key.user_id.as_deref() {
            Some(user_id) => sqlx::query(
                "UPDATE users SET access_key_count = access_key_count + 1 \
                 WHERE user_id = $1 AND access_key_count < $2",
            )
            .bind(user_id),
            None => sqlx::query(
                "UPDATE accounts SET root_access_key_count = root_access_key_count + 1 \
                 WHERE account_id = $1 AND root_access_key_count < $2",
            )
            .bind(key.account_id.as_str()),
        }
        .bind(quota)
        .execute(&mut *tx)
        .await?;
        if counted.rows_affected() == 0 {
            let owner_exists: Option<(i64,)> = match key.user_id.as_deref() {
                Some(user_id) => sqlx::query_as("SELECT 1 FROM users WHERE user_id = $1").bind(user_id),
                None => sqlx::query_as("SELECT 1 FROM accounts WHERE account_id = $1").bind(key.account_id.as_str()),
            }
            .fetch_optional(&mut *tx)
            .await?;
            // The owner is gone: named by its id, the only name known here.
            return Err(if owner_exists.is_some() {
                StoreError::LimitExceeded
            } else {
                match key.user_id.as_deref() {
                    Some(user_id) => StoreError::not_found(Subject::Entity(EntityKind::User), user_id),
                    None => StoreError::not_found(Subject::Account, key.account_id.as_str()),
                }
            });
        }
        self.insert_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_key(
        &self,
        tx: &mut crate::write::WriteTx,
        key: &AccessKeyRow,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, account_id, user_id, secret_sealed, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.access_key_id.as_str())
        .bind(key.account_id.as_str())
        .bind(key.user_id.as_deref())
        .bind(key.secret_sealed.as_str())
        .bind(key.status.as_str())
        .bind(key.created_at)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::on_write(Subject::AccessKey, &key.access_key_id))?;
        Ok(())
    }

    /// A user's keys, oldest first.
    pub async fn list_access_keys(
        &self,
        user_id: Option<&str>,
        account_id: &str,
    ) -> Result<Vec<AccessKeyRow>, StoreError> {
        let rows = match user_id {
            Some(user_id) => {
                sqlx::query("SELECT access_key_id, account_id, user_id, secret_sealed, status, created_at, last_used_at, last_used_service, last_used_region FROM access_keys WHERE user_id = $1 ORDER BY created_at, access_key_id")
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT access_key_id, account_id, user_id, secret_sealed, status, created_at, last_used_at, last_used_service, last_used_region FROM access_keys WHERE account_id = $1 AND user_id IS NULL ORDER BY created_at, access_key_id")
                    .bind(account_id)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(|r| key_from(r, 0).map_err(StoreError::from)).collect()
    }

    /// Sets a key's status; `NotFound` unless the key belongs to `user_id` (root: `None`).
    pub async fn set_access_key_status(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        access_key_id: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE access_keys SET status = $1 WHERE access_key_id = $2 AND account_id = $3 \
             AND COALESCE(user_id, '') = $4",
        )
        .bind(status)
        .bind(access_key_id)
        .bind(account_id)
        .bind(user_id.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done.rows_affected() == 0 {
            Err(StoreError::not_found(Subject::AccessKey, access_key_id))
        } else {
            Ok(())
        }
    }

    /// Deletes a key; `NotFound` unless it belongs to `user_id` (root: `None`).
    pub async fn delete_access_key(
        &self,
        account_id: &str,
        user_id: Option<&str>,
        access_key_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "DELETE FROM access_keys WHERE access_key_id = $1 AND account_id = $2 AND COALESCE(user_id, '') = $3",
        )
        .bind(access_key_id)
        .bind(account_id)
        .bind(user_id.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::AccessKey, access_key_id));
        }
        match user_id {
            Some(user_id) => {
                sqlx::query("UPDATE users SET access_key_count = access_key_count - 1 WHERE user_id = $1").bind(user_id)
            }
            None => sqlx::query(
                "UPDATE accounts SET root_access_key_count = root_access_key_count - 1 WHERE account_id = $1",
            )
            .bind(account_id),
        }
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A key by id with its owner, in any account: what authentication looks up. Its
    /// `last_used` may be older than the last-use records (which leave the read cache as it
    /// is): [`Store::find_access_key_as_stored`] reads it.
    pub async fn find_access_key(&self, access_key_id: &str) -> Result<Option<KeyWithOwner>, StoreError> {
        let cached = self.cache_generation();
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.keys.get(access_key_id, generation)
        {
            return Ok(Some(hit));
        }
        let found = self.find_access_key_as_stored(access_key_id).await?;
        if let (Some((cache, generation)), Some(found)) = (cached, &found) {
            cache.keys.put(access_key_id.to_owned(), generation, found.clone());
        }
        Ok(found)
    }

    /// A key by id with its owner, from the database (never the read cache): with its last
    /// use as recorded.
    pub async fn find_access_key_as_stored(&self, access_key_id: &str) -> Result<Option<KeyWithOwner>, StoreError> {
        let row = sqlx::query(
            "SELECT k.access_key_id, k.account_id, k.user_id, k.secret_sealed, k.status, k.created_at, \
             k.last_used_at, k.last_used_service, k.last_used_region, \
             u.account_id, u.user_id, u.name, u.path, u.created_at, a.policy_epoch + COALESCE(u.policy_epoch, 0) \
             FROM access_keys k JOIN accounts a ON a.account_id = k.account_id \
             LEFT JOIN users u ON u.user_id = k.user_id WHERE k.access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key = key_from(&row, 0)?;
        let user = match key.user_id {
            Some(_) => Some(UserRow {
                account_id: row.try_get(9)?,
                user_id: row.try_get(10)?,
                name: row.try_get(11)?,
                path: row.try_get(12)?,
                created_at: row.try_get(13)?,
                tags: Vec::new(),
            }),
            None => None,
        };
        Ok(Some(KeyWithOwner {
            key,
            user,
            policy_epoch: row.try_get(14)?,
        }))
    }

    /// One page of the account's users with their access keys (oldest first), by name:
    /// what the credential report lists. Two queries a page, whatever its size.
    pub async fn users_with_keys(
        &self,
        account_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<(UserRow, Vec<AccessKeyRow>)>, StoreError> {
        let users = self.list_users(account_id, "/", after, limit).await?;
        let Some(last) = users.items.last() else {
            return Ok(Page {
                items: Vec::new(),
                next_marker: None,
            });
        };
        let rows = sqlx::query(
            "SELECT k.access_key_id, k.account_id, k.user_id, k.secret_sealed, k.status, k.created_at, \
             k.last_used_at, k.last_used_service, k.last_used_region FROM access_keys k \
             JOIN users u ON u.user_id = k.user_id \
             WHERE u.account_id = $1 AND u.name_key > $2 AND u.name_key <= $3 \
             ORDER BY k.user_id, k.created_at, k.access_key_id",
        )
        .bind(account_id)
        .bind(after.unwrap_or(""))
        .bind(last.name.to_ascii_lowercase())
        .fetch_all(&self.pool)
        .await?;
        let mut keys: std::collections::HashMap<String, Vec<AccessKeyRow>> = std::collections::HashMap::new();
        for row in &rows {
            let key = key_from(row, 0)?;
            keys.entry(key.user_id.clone().unwrap_or_default())
                .or_default()
                .push(key);
        }
        Ok(Page {
            items: users
                .items
                .into_iter()
                .map(|u| {
                    let owned = keys.remove(&u.user_id).unwrap_or_default();
                    (u, owned)
                })
                .collect(),
            next_marker: users.next_marker,
        })
    }

    /// A key by id (for GetAccessKeyLastUsed), with the name of the user that owns it.
    pub async fn get_access_key(&self, access_key_id: &str) -> Result<KeyWithOwner, StoreError> {
        self.find_access_key(access_key_id)
            .await?
            .ok_or_else(|| StoreError::not_found(Subject::AccessKey, access_key_id))
    }
}
