//! Guesses at a secret a caller must prove (an MFA code, an old password), counted before
//! each is looked at: one conditional UPDATE reserves a try, so parallel guesses are all
//! counted, and a row that ran out of tries takes none until its block ends.

use sqlx::AssertSqlSafe;

use crate::{Store, StoreError};

/// What guesses are counted on.
#[derive(Debug, Clone, Copy)]
pub enum Guarded<'a> {
    /// A virtual MFA device, by serial number.
    MfaDevice(&'a str),
    /// A user's login profile, by user id.
    LoginProfile(&'a str),
}

impl Guarded<'_> {
    /// The table, its key column and the key.
    fn row(&self) -> (&'static str, &'static str, &str) {
        match *self {
            Guarded::MfaDevice(serial) => ("mfa_devices", "serial_number", serial),
            Guarded::LoginProfile(user_id) => ("login_profiles", "user_id", user_id),
        }
    }
}

impl Store {
    /// Counts one more guess, unless the row is blocked at `now` or `max_guesses` were made
    /// since the last right one: `false` then, and the guess must not be looked at.
    pub async fn reserve_guess(&self, guarded: Guarded<'_>, now: i64, max_guesses: i64) -> Result<bool, StoreError> {
        let (table, column, key) = guarded.row();
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET failed_attempts = failed_attempts + 1 WHERE {column} = $1 \
             AND (blocked_until IS NULL OR blocked_until <= $2) AND failed_attempts < $3"
        )))
        .bind(key)
        .bind(now)
        .bind(max_guesses)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// After a wrong guess: the row is blocked until `until` once `max_guesses` were made,
    /// and the count starts again for when the block ends.
    pub async fn wrong_guess(&self, guarded: Guarded<'_>, until: i64, max_guesses: i64) -> Result<(), StoreError> {
        let (table, column, key) = guarded.row();
        let mut tx = self.write_tx().await?;
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET blocked_until = $2, failed_attempts = 0 WHERE {column} = $1 AND failed_attempts >= $3"
        )))
        .bind(key)
        .bind(until)
        .bind(max_guesses)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a right guess: the count starts again.
    pub async fn right_guess(&self, guarded: Guarded<'_>) -> Result<(), StoreError> {
        let (table, column, key) = guarded.row();
        let mut tx = self.write_tx().await?;
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET failed_attempts = 0 WHERE {column} = $1"
        )))
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
