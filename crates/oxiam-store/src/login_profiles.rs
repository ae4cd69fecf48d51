//! Login profiles (a user's console password, kept as a hash), the hashes of earlier
//! passwords, and the account's password policy.

use crate::entities::lock_entity;
use crate::{EntityKind, Store, StoreError, Subject};

const PROFILE: Subject = Subject::LoginProfile;

/// A login profile as stored. (Its `Debug` leaves the hash out.)
#[derive(Clone, PartialEq, Eq)]
pub struct LoginProfileRow {
    /// The user's id.
    pub user_id: String,
    /// When the profile was created (the first password).
    pub created_at: i64,
    /// When the password was last set.
    pub changed_at: i64,
    /// Whether the user must set a new password at the next sign-in.
    pub reset_required: bool,
    /// The password's argon2id hash (PHC string).
    pub password_hash: String,
    /// The longest sign-in session, in seconds; `None`: unset.
    pub max_signin_session_duration: Option<i64>,
}

impl std::fmt::Debug for LoginProfileRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProfileRow")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("changed_at", &self.changed_at)
            .field("reset_required", &self.reset_required)
            .field("max_signin_session_duration", &self.max_signin_session_duration)
            .finish_non_exhaustive()
    }
}

/// The most earlier passwords kept per user: PasswordReusePrevention's largest value.
const HISTORY_KEPT: i64 = 24;

/// The account's password policy as stored; `None` members were not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PasswordPolicyRow {
    /// Minimum length.
    pub minimum_length: i64,
    /// At least one symbol.
    pub require_symbols: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one upper-case letter.
    pub require_uppercase: bool,
    /// At least one lower-case letter.
    pub require_lowercase: bool,
    /// Users may change their own password.
    pub allow_change: bool,
    /// Days a password lasts.
    pub max_age_days: Option<i64>,
    /// Earlier passwords that may not come back.
    pub reuse_prevention: Option<i64>,
    /// An expired password needs an administrator.
    pub hard_expiry: Option<bool>,
}

type Tx = crate::write::WriteTx;

/// Adds a password to the user's history, numbered after the last (two set in one second
/// still have an order), and forgets what falls out of the newest [`HISTORY_KEPT`].
async fn record_history(tx: &mut Tx, user_id: &str, hash: &str) -> Result<(), StoreError> {
    let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM password_history WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query("INSERT INTO password_history (user_id, seq, password_hash) VALUES ($1, $2, $3)")
        .bind(user_id)
        .bind(last + 1)
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM password_history WHERE user_id = $1 AND seq <= $2")
        .bind(user_id)
        .bind(last + 1 - HISTORY_KEPT)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Creates a user's login profile; `Conflict` if it has one, `NotFound` if the user is
    /// gone (its row is locked first, so a deletion cannot cross the creation).
    pub async fn create_login_profile(
        &self,
        account_id: &str,
        (user_id, user_name): (&str, &str),
        profile: &LoginProfileRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, EntityKind::User, user_id, user_name).await?;
        sqlx::query(
            "INSERT INTO login_profiles (user_id, account_id, created_at, changed_at, reset_required, password_hash, \
             max_signin_session_duration) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user_id)
        .bind(account_id)
        .bind(profile.created_at)
        .bind(profile.changed_at)
        .bind(i64::from(profile.reset_required))
        .bind(profile.password_hash.as_str())
        .bind(profile.max_signin_session_duration)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::on_write(PROFILE, user_name))?;
        record_history(&mut tx, user_id, &profile.password_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A user's login profile; `NotFound` (named by `user_name`) if it has none.
    pub async fn get_login_profile(&self, user_id: &str, user_name: &str) -> Result<LoginProfileRow, StoreError> {
        let row: Option<(i64, i64, i64, String, Option<i64>)> = sqlx::query_as(
            "SELECT created_at, changed_at, reset_required, password_hash, max_signin_session_duration \
             FROM login_profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let (created_at, changed_at, reset_required, password_hash, max_signin_session_duration) =
            row.ok_or_else(|| StoreError::not_found(PROFILE, user_name))?;
        Ok(LoginProfileRow {
            user_id: user_id.to_owned(),
            created_at,
            changed_at,
            reset_required: reset_required != 0,
            password_hash,
            max_signin_session_duration,
        })
    }

    /// The hashes of the user's passwords, newest first, at most `count` (the current one
    /// included).
    pub async fn recent_password_hashes(&self, user_id: &str, count: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY seq DESC LIMIT $2")
                .bind(user_id)
                .bind(count)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(h,)| h).collect())
    }

    /// Sets a new password (`Some((hash, at))`), the reset flag and/or the longest sign-in
    /// session (`Some(None)` unsets it) of an existing profile; `NotFound` if the user has
    /// none. With `expected_hash`, only if the password
    /// is still that one (ChangePassword checked the old password against it): `Conflict`
    /// otherwise. One conditional UPDATE decides, so a change racing another (or an
    /// administrator's reset) cannot overwrite it unseen.
    pub async fn update_login_profile(
        &self,
        (user_id, user_name): (&str, &str),
        password: Option<(&str, i64)>,
        reset_required: Option<bool>,
        max_signin_session_duration: Option<Option<i64>>,
        expected_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let (hash, at) = password.map_or((None, None), |(h, at)| (Some(h), Some(at)));
        let guard = if expected_hash.is_some() {
            " AND password_hash = $7"
        } else {
            ""
        };
        // $5 says whether to set the duration, $6 is the value (NULL: unset).
        let sql = format!(
            "UPDATE login_profiles SET password_hash = COALESCE($2, password_hash), \
             changed_at = COALESCE($3, changed_at), reset_required = COALESCE($4, reset_required), \
             max_signin_session_duration = CASE WHEN $5 = 1 THEN $6 ELSE max_signin_session_duration END \
             WHERE user_id = $1{guard}"
        );
        let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(hash)
            .bind(at)
            .bind(reset_required.map(i64::from))
            .bind(i64::from(max_signin_session_duration.is_some()))
            .bind(max_signin_session_duration.flatten());
        if let Some(expected) = expected_hash {
            update = update.bind(expected);
        }
        if update.execute(&mut *tx).await?.rows_affected() == 0 {
            let exists: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM login_profiles WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match exists {
                Some(_) => StoreError::Conflict {
                    subject: PROFILE,
                    name: user_name.to_owned(),
                },
                None => StoreError::not_found(PROFILE, user_name),
            });
        }
        if let Some(hash) = hash {
            record_history(&mut tx, user_id, hash).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a user's login profile; `NotFound` if it has none.
    pub async fn delete_login_profile(&self, user_id: &str, user_name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM login_profiles WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(PROFILE, user_name));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The login profiles of the account: user id → (when the password was last set).
    pub async fn login_profiles(&self, account_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT user_id, changed_at FROM login_profiles WHERE account_id = $1")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The account's password policy, if one was set.
    pub async fn password_policy(&self, account_id: &str) -> Result<Option<PasswordPolicyRow>, StoreError> {
        type Row = (i64, i64, i64, i64, i64, i64, Option<i64>, Option<i64>, Option<i64>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT minimum_length, require_symbols, require_numbers, require_uppercase, require_lowercase, \
             allow_change, max_age_days, reuse_prevention, hard_expiry FROM password_policies WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| PasswordPolicyRow {
            minimum_length: r.0,
            require_symbols: r.1 != 0,
            require_numbers: r.2 != 0,
            require_uppercase: r.3 != 0,
            require_lowercase: r.4 != 0,
            allow_change: r.5 != 0,
            max_age_days: r.6,
            reuse_prevention: r.7,
            hard_expiry: r.8.map(|h| h != 0),
        }))
    }

    /// Replaces the account's password policy whole. (Whether users may change their own
    /// password is read from it on each such request: nothing compiled depends on it.)
    pub async fn set_password_policy(&self, account_id: &str, policy: &PasswordPolicyRow) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_policies (account_id, minimum_length, require_symbols, require_numbers, \
             require_uppercase, require_lowercase, allow_change, max_age_days, reuse_prevention, hard_expiry) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(account_id)
        .bind(policy.minimum_length)
        .bind(i64::from(policy.require_symbols))
        .bind(i64::from(policy.require_numbers))
        .bind(i64::from(policy.require_uppercase))
        .bind(i64::from(policy.require_lowercase))
        .bind(i64::from(policy.allow_change))
        .bind(policy.max_age_days)
        .bind(policy.reuse_prevention)
        .bind(policy.hard_expiry.map(i64::from))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the account's password policy; `NotFound` if none was set.
    pub async fn delete_password_policy(&self, account_id: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("DELETE FROM password_policies WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::PasswordPolicy, account_id));
        }
        tx.commit().await?;
        Ok(())
    }
}
