//! Login profiles and the account password policy: CreateLoginProfile, GetLoginProfile,
//! UpdateLoginProfile, DeleteLoginProfile, ChangePassword, UpdateAccountPasswordPolicy,
//! GetAccountPasswordPolicy, DeleteAccountPasswordPolicy.
//!
//! oxiam has no console to sign in to: a password is kept (as an argon2id hash, never
//! itself) so that tools that manage passwords work and the policy is enforced on every
//! password set, but nothing signs in with it, so `password_last_used` is never set and
//! expiry, HardExpiry and PasswordResetRequired refuse no API call (as on AWS, where they
//! are the console's).

use oxiam_protocol::iam::{
    ChangePasswordRequest, CreateLoginProfileRequest, CreateLoginProfileResponse, DeleteLoginProfileRequest,
    GetAccountPasswordPolicyResponse, GetLoginProfileRequest, GetLoginProfileResponse, LoginProfile, PasswordPolicy,
    UpdateAccountPasswordPolicyRequest, UpdateLoginProfileRequest, errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp, common_errors};
use oxiam_store::{Guarded, LoginProfileRow, PasswordPolicyRow, StoreError};

use super::users::UserOrRoot;
use super::{BLOCK_SECONDS, GUESSES_BEFORE_BLOCK};
use crate::{Oxiam, Principal, PrincipalKind, errors, passwords};

/// The policy's minimum length when UpdateAccountPasswordPolicy gives none.
const DEFAULT_MINIMUM_LENGTH: i64 = 6;

/// What AWS answers for a password that was used before (PasswordReusePrevention).
const REUSED: &str = "Password does not conform to the account password policy.";

/// Password hashes computed at once: each is ~20 ms of a core and 19 MiB, so they run off
/// the request threads, one per core at most, and a flood of password requests waits its
/// turn instead of stalling every other request.
fn hashing() -> &'static tokio::sync::Semaphore {
    static HASHING: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    HASHING.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        tokio::sync::Semaphore::new(cores)
    })
}

/// Runs `work` (hashing or verifying passwords) on a blocking thread, under [`hashing`].
async fn off_the_request_threads<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    let _permit = hashing().acquire().await.map_err(|e| errors::service_failure(&e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| errors::service_failure(&e))
}

fn violation(message: impl Into<String>) -> ServiceError {
    ServiceError::new(iam_errors::PASSWORD_POLICY_VIOLATION, message.into())
}

fn profile_of(user_name: String, row: &LoginProfileRow) -> LoginProfile {
    LoginProfile {
        user_name,
        create_date: Timestamp(row.created_at),
        password_reset_required: Some(row.reset_required),
        max_signin_session_duration: row.max_signin_session_duration.and_then(|d| i32::try_from(d).ok()),
    }
}

impl Oxiam {
    /// The user a request names, else the calling user: `(user_id, name)`. (Only an
    /// AssumeRoot session, not served, may name no user as the root.)
    async fn password_user(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
    ) -> Result<(String, String), ServiceError> {
        match self.user_or_caller(caller, user_name).await? {
            UserOrRoot::User(id, name) => Ok((id, name)),
            UserOrRoot::Root => Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null",
            )),
        }
    }

    /// A new password's hash, once the account's policy (or AWS's default one) and its
    /// reuse prevention allow it for `user_id`.
    async fn acceptable_password(
        &self,
        caller: &Principal,
        user_id: &str,
        password: &str,
    ) -> Result<String, ServiceError> {
        let policy = self
            .store
            .password_policy(&caller.account_id)
            .await
            .map_err(errors::store)?;
        if let Some(message) = passwords::violation(policy.as_ref(), password) {
            return Err(violation(message));
        }
        let earlier = match policy.as_ref().and_then(|p| p.reuse_prevention) {
            Some(remembered) => self
                .store
                .recent_password_hashes(user_id, remembered)
                .await
                .map_err(errors::store)?,
            None => Vec::new(),
        };
        let password = password.to_owned();
        let hashed = off_the_request_threads(move || {
            let reused = earlier.iter().any(|phc| passwords::verify(&password, phc));
            (!reused).then(|| passwords::hash(&password))
        })
        .await?;
        hashed.ok_or_else(|| violation(REUSED))
    }

    pub(super) async fn create_login_profile(
        &self,
        caller: &Principal,
        input: CreateLoginProfileRequest,
        now: i64,
    ) -> Result<CreateLoginProfileResponse, ServiceError> {
        let (user_id, user_name) = self.password_user(caller, input.user_name.as_deref()).await?;
        // A user with a profile already is told so before any hashing.
        match self.store.get_login_profile(&user_id, &user_name).await {
            Ok(_) => {
                return Err(errors::store(oxiam_store::StoreError::Conflict {
                    subject: oxiam_store::Subject::LoginProfile,
                    name: user_name,
                }));
            }
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(errors::store(e)),
        }
        let Some(password) = input.password else {
            return Err(ServiceError::new(
                common_errors::VALIDATION_ERROR,
                "1 validation error detected: Value null at 'password' failed to satisfy constraint: Member must not be null",
            ));
        };
        let password_hash = self.acceptable_password(caller, &user_id, &password.0).await?;
        let row = LoginProfileRow {
            user_id: user_id.clone(),
            created_at: now,
            changed_at: now,
            reset_required: input.password_reset_required.unwrap_or(false),
            password_hash,
            max_signin_session_duration: input.max_signin_session_duration.map(i64::from),
        };
        self.store
            .create_login_profile(&caller.account_id, (&user_id, &user_name), &row)
            .await
            .map_err(errors::store)?;
        Ok(CreateLoginProfileResponse {
            login_profile: profile_of(user_name, &row),
        })
    }

    pub(super) async fn get_login_profile(
        &self,
        caller: &Principal,
        input: GetLoginProfileRequest,
    ) -> Result<GetLoginProfileResponse, ServiceError> {
        let (user_id, user_name) = self.password_user(caller, input.user_name.as_deref()).await?;
        let row = self
            .store
            .get_login_profile(&user_id, &user_name)
            .await
            .map_err(errors::store)?;
        Ok(GetLoginProfileResponse {
            login_profile: profile_of(user_name, &row),
        })
    }

    pub(super) async fn update_login_profile(
        &self,
        caller: &Principal,
        input: UpdateLoginProfileRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let reset_duration = input.reset_max_signin_session_duration == Some(true);
        if input.max_signin_session_duration.is_some() && reset_duration {
            return Err(ServiceError::new(
                iam_errors::INVALID_INPUT,
                "MaxSigninSessionDuration cannot be specified with ResetMaxSigninSessionDuration set to true.",
            ));
        }
        let duration = match (input.max_signin_session_duration, reset_duration) {
            (Some(seconds), _) => Some(Some(i64::from(seconds))),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let (user_id, user_name) = self.password_user(caller, Some(&input.user_name)).await?;
        // The profile must exist before a password is weighed for it.
        self.store
            .get_login_profile(&user_id, &user_name)
            .await
            .map_err(errors::store)?;
        let hash = match &input.password {
            Some(password) => Some(self.acceptable_password(caller, &user_id, &password.0).await?),
            None => None,
        };
        self.store
            .update_login_profile(
                (&user_id, &user_name),
                hash.as_deref().map(|h| (h, now)),
                input.password_reset_required,
                duration,
                None,
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_login_profile(
        &self,
        caller: &Principal,
        input: DeleteLoginProfileRequest,
    ) -> Result<(), ServiceError> {
        let (user_id, user_name) = self.password_user(caller, input.user_name.as_deref()).await?;
        self.store
            .delete_login_profile(&user_id, &user_name)
            .await
            .map_err(errors::store)
    }

    /// ChangePassword: the calling IAM user's own password, given the old one. A new
    /// password clears PasswordResetRequired.
    pub(super) async fn change_password(
        &self,
        caller: &Principal,
        input: ChangePasswordRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let PrincipalKind::User { user_id, name, .. } = &caller.kind else {
            return Err(ServiceError::new(
                iam_errors::INVALID_USER_TYPE,
                "Only an IAM user can change its own password with ChangePassword.",
            ));
        };
        let current = self
            .store
            .get_login_profile(user_id, name)
            .await
            .map_err(errors::store)?;
        let wrong_old = || {
            ServiceError::new(
                common_errors::ACCESS_DENIED,
                "The old password is not the user's current password.",
            )
        };
        // Counted before the old password is looked at, so that parallel guesses count too.
        let guarded = Guarded::LoginProfile(user_id);
        let may_try = self
            .store
            .reserve_guess(guarded, now, GUESSES_BEFORE_BLOCK)
            .await
            .map_err(errors::store)?;
        if !may_try {
            return Err(wrong_old().with_cause(&"the login profile is blocked after too many wrong old passwords"));
        }
        let (old, phc) = (input.old_password.0.clone(), current.password_hash.clone());
        let right = off_the_request_threads(move || passwords::verify(&old, &phc)).await?;
        let settled = if right {
            self.store.right_guess(guarded).await
        } else {
            self.store
                .wrong_guess(guarded, now + BLOCK_SECONDS, GUESSES_BEFORE_BLOCK)
                .await
        };
        settled.map_err(errors::store)?;
        if !right {
            return Err(wrong_old());
        }
        let hash = self.acceptable_password(caller, user_id, &input.new_password.0).await?;
        self.store
            .update_login_profile(
                (user_id, name),
                Some((&hash, now)),
                Some(false),
                None,
                Some(&current.password_hash),
            )
            .await
            .map_err(|e| match e {
                // Changed by another request since the old password was checked.
                StoreError::Conflict { .. } => ServiceError::new(
                    iam_errors::ENTITY_TEMPORARILY_UNMODIFIABLE,
                    "The password was changed by another request meanwhile. Try again.",
                ),
                e => errors::store(e),
            })
    }

    /// UpdateAccountPasswordPolicy replaces the whole policy: a member left out takes its
    /// default (and MaxPasswordAge, PasswordReusePrevention, HardExpiry stay unset).
    pub(super) async fn update_password_policy(
        &self,
        caller: &Principal,
        input: UpdateAccountPasswordPolicyRequest,
    ) -> Result<(), ServiceError> {
        let policy = PasswordPolicyRow {
            minimum_length: input.minimum_password_length.map_or(DEFAULT_MINIMUM_LENGTH, i64::from),
            require_symbols: input.require_symbols.unwrap_or(false),
            require_numbers: input.require_numbers.unwrap_or(false),
            require_uppercase: input.require_uppercase_characters.unwrap_or(false),
            require_lowercase: input.require_lowercase_characters.unwrap_or(false),
            allow_change: input.allow_users_to_change_password.unwrap_or(false),
            max_age_days: input.max_password_age.map(i64::from),
            reuse_prevention: input.password_reuse_prevention.map(i64::from),
            hard_expiry: input.hard_expiry,
        };
        self.store
            .set_password_policy(&caller.account_id, &policy)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn get_password_policy(
        &self,
        caller: &Principal,
    ) -> Result<GetAccountPasswordPolicyResponse, ServiceError> {
        let policy = self
            .store
            .password_policy(&caller.account_id)
            .await
            .map_err(errors::store)?
            .ok_or_else(|| {
                ServiceError::new(
                    iam_errors::NO_SUCH_ENTITY,
                    format!(
                        "The Password Policy with domain name {} cannot be found.",
                        caller.account_id
                    ),
                )
            })?;
        let small = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(GetAccountPasswordPolicyResponse {
            password_policy: PasswordPolicy {
                minimum_password_length: Some(small(policy.minimum_length)),
                require_symbols: Some(policy.require_symbols),
                require_numbers: Some(policy.require_numbers),
                require_uppercase_characters: Some(policy.require_uppercase),
                require_lowercase_characters: Some(policy.require_lowercase),
                allow_users_to_change_password: Some(policy.allow_change),
                expire_passwords: Some(policy.max_age_days.is_some_and(|d| d > 0)),
                max_password_age: policy.max_age_days.map(small),
                password_reuse_prevention: policy.reuse_prevention.map(small),
                hard_expiry: policy.hard_expiry,
            },
        })
    }

    pub(super) async fn delete_password_policy(&self, caller: &Principal) -> Result<(), ServiceError> {
        self.store
            .delete_password_policy(&caller.account_id)
            .await
            .map_err(errors::store)
    }
}
