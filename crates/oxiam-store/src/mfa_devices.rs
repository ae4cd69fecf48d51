//! Virtual MFA devices: a TOTP seed (sealed by the caller), the user it is enabled for, and
//! what keeps each code good once (the latest time step accepted).

use sqlx::Row as _;

use crate::entities::lock_entity;
use crate::{EntityKind, Store, StoreError, Subject, TagOwner};

const DEVICE: Subject = Subject::MfaDevice;

/// A virtual MFA device as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaDeviceRow {
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`.
    pub serial_number: String,
    /// The owning account.
    pub account_id: String,
    /// Its name.
    pub name: String,
    /// Its path.
    pub path: String,
    /// The seed, sealed.
    pub seed_sealed: String,
    /// Creation time.
    pub created_at: i64,
    /// The user it is enabled for (`user_id`, name), if any.
    pub user: Option<(String, String)>,
    /// When it was enabled.
    pub enabled_at: Option<i64>,
    /// The latest TOTP time step whose code was accepted.
    pub last_step: Option<i64>,
    /// The device's clock drift, in steps, found by the last resync.
    pub drift_steps: i64,
    /// Tags in the order given.
    pub tags: Vec<(String, String)>,
}

/// What creating a device needs.
#[derive(Debug, Clone)]
pub struct NewMfaDevice<'a> {
    /// Its serial number (ARN).
    pub serial_number: &'a str,
    /// The owning account.
    pub account_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its path.
    pub path: &'a str,
    /// The seed, sealed.
    pub seed_sealed: &'a str,
    /// Creation time.
    pub created_at: i64,
    /// Tags.
    pub tags: &'a [(String, String)],
}

/// Which devices a listing wants, by whether a user has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignmentFilter {
    /// Enabled for a user.
    Assigned,
    /// Enabled for nobody.
    Unassigned,
    /// All.
    Any,
}

const SELECT: &str = "SELECT d.serial_number, d.account_id, d.name, d.path, d.seed_sealed, d.created_at, d.user_id, \
                      u.name, d.enabled_at, d.last_step, d.drift_steps FROM mfa_devices d \
                      LEFT JOIN users u ON u.user_id = d.user_id";

fn device_row(row: &sqlx::any::AnyRow) -> Result<MfaDeviceRow, StoreError> {
    let user_id: Option<String> = row.try_get(6)?;
    let user_name: Option<String> = row.try_get(7)?;
    Ok(MfaDeviceRow {
        serial_number: row.try_get(0)?,
        account_id: row.try_get(1)?,
        name: row.try_get(2)?,
        path: row.try_get(3)?,
        seed_sealed: row.try_get(4)?,
        created_at: row.try_get(5)?,
        user: user_id.zip(user_name),
        enabled_at: row.try_get(8)?,
        last_step: row.try_get(9)?,
        drift_steps: row.try_get(10)?,
        tags: Vec::new(),
    })
}

impl Store {
    /// Creates a device; `Conflict` (by name) if the account has one of that name.
    pub async fn create_mfa_device(&self, new: NewMfaDevice<'_>) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO mfa_devices (serial_number, account_id, name, path, seed_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new.serial_number)
        .bind(new.account_id)
        .bind(new.name)
        .bind(new.path)
        .bind(new.seed_sealed)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(DEVICE, new.name))?;
        crate::tags::insert_tags(&mut tx, TagOwner::MfaDevice, new.serial_number, new.tags).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A device of the account by serial number, with its tags.
    pub async fn get_mfa_device(&self, account_id: &str, serial_number: &str) -> Result<MfaDeviceRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE d.account_id = $1 AND d.serial_number = $2"
        )))
        .bind(account_id)
        .bind(serial_number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::not_found(DEVICE, serial_number))?;
        let mut device = device_row(&row)?;
        device.tags =
            sqlx::query_as("SELECT tag_key, tag_value FROM mfa_device_tags WHERE serial_number = $1 ORDER BY position")
                .bind(serial_number)
                .fetch_all(&self.pool)
                .await?;
        Ok(device)
    }

    /// The account's devices (without tags), sorted by serial number; only those enabled
    /// for `user_id` when it is given.
    pub async fn list_mfa_devices(
        &self,
        account_id: &str,
        filter: AssignmentFilter,
        user_id: Option<&str>,
    ) -> Result<Vec<MfaDeviceRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE d.account_id = $1")))
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?;
        let mut devices = rows.iter().map(device_row).collect::<Result<Vec<_>, _>>()?;
        devices.retain(|d| {
            let assigned = d.user.is_some();
            let wanted = match filter {
                AssignmentFilter::Assigned => assigned,
                AssignmentFilter::Unassigned => !assigned,
                AssignmentFilter::Any => true,
            };
            wanted && user_id.is_none_or(|id| d.user.as_ref().is_some_and(|(u, _)| u == id))
        });
        // Sorted here, by bytes, the same on both databases.
        devices.sort_unstable_by(|a, b| a.serial_number.cmp(&b.serial_number));
        Ok(devices)
    }

    /// Enables an unassigned device for a user who has fewer than `quota`, its codes good
    /// from after `step` on. `NotFound` for a missing device or user; `Conflict` if the
    /// device is enabled already (for anyone); `LimitExceeded` past the quota. The user's
    /// row is locked first, so parallel enables are counted one after the other.
    pub async fn enable_mfa_device(
        &self,
        account_id: &str,
        serial_number: &str,
        (user_id, user_name): (&str, &str),
        enabled_at: i64,
        step: i64,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::User, user_id, user_name).await?;
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM mfa_devices WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
        let enabled = sqlx::query(
            "UPDATE mfa_devices SET user_id = $3, enabled_at = $4, last_step = $5, drift_steps = 0, \
             failed_attempts = 0, blocked_until = NULL \
             WHERE account_id = $1 AND serial_number = $2 AND user_id IS NULL",
        )
        .bind(account_id)
        .bind(serial_number)
        .bind(user_id)
        .bind(enabled_at)
        .bind(step)
        .execute(&mut *tx)
        .await?;
        if enabled.rows_affected() == 0 {
            let exists: Option<(i64,)> =
                sqlx::query_as("SELECT 1 FROM mfa_devices WHERE account_id = $1 AND serial_number = $2")
                    .bind(account_id)
                    .bind(serial_number)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict {
                    subject: DEVICE,
                    name: serial_number.to_owned(),
                },
                None => StoreError::not_found(DEVICE, serial_number),
            });
        }
        if count >= quota {
            return Err(StoreError::LimitExceeded);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes a device away from the user it is enabled for, leaving it unassigned in the
    /// account; `NotFound` unless it is enabled for that user.
    pub async fn deactivate_mfa_device(
        &self,
        account_id: &str,
        serial_number: &str,
        user_id: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE mfa_devices SET user_id = NULL, enabled_at = NULL, last_step = NULL, drift_steps = 0, \
             failed_attempts = 0, blocked_until = NULL \
             WHERE account_id = $1 AND serial_number = $2 AND user_id = $3",
        )
        .bind(account_id)
        .bind(serial_number)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(DEVICE, serial_number));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes an unassigned device; `DeleteConflict` while it is enabled for a user.
    pub async fn delete_mfa_device(&self, account_id: &str, serial_number: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let found: Option<(Option<String>,)> =
            sqlx::query_as("SELECT user_id FROM mfa_devices WHERE account_id = $1 AND serial_number = $2")
                .bind(account_id)
                .bind(serial_number)
                .fetch_optional(&mut *tx)
                .await?;
        match found {
            None => return Err(StoreError::not_found(DEVICE, serial_number)),
            Some((Some(_),)) => return Err(StoreError::DeleteConflict(crate::Dependent::MfaDevices)),
            Some((None,)) => {}
        }
        for table in ["mfa_device_tags", "mfa_devices"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE serial_number = $1"
            )))
            .bind(serial_number)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a code of time step `step` for the device enabled for `user_id` if no code
    /// of that step or a later one was accepted before, and records it (with `drift_steps`,
    /// after a resync), forgetting the codes tried before it. `false` if the step was used
    /// already: a replayed code. Decided by one conditional UPDATE, so two requests racing
    /// with the same code cannot both pass.
    pub async fn accept_mfa_step(
        &self,
        serial_number: &str,
        user_id: &str,
        step: i64,
        drift_steps: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE mfa_devices SET last_step = $3, drift_steps = COALESCE($4, drift_steps), failed_attempts = 0 \
             WHERE serial_number = $1 AND user_id = $2 AND (last_step IS NULL OR last_step < $3)",
        )
        .bind(serial_number)
        .bind(user_id)
        .bind(step)
        .bind(drift_steps)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
