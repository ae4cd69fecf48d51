-- Console passwords that oxiam keeps without a console: one login profile per user, with
-- the password as an argon2id hash (PHC string, parameters included) and never the password,
-- and the wrong old passwords ChangePassword was given since the last right one (and until
-- when it takes none); the hashes of the user's last 24 passwords, numbered
-- (PasswordReusePrevention); the account's password policy. Conventions as in 0001.

CREATE TABLE login_profiles (
    user_id         TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    created_at      BIGINT NOT NULL,
    changed_at      BIGINT NOT NULL,
    reset_required  BIGINT NOT NULL,
    password_hash   TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    blocked_until   BIGINT
);
CREATE INDEX login_profiles_by_account ON login_profiles (account_id);

CREATE TABLE password_history (
    user_id         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    password_hash   TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
);

CREATE TABLE password_policies (
    account_id         TEXT PRIMARY KEY REFERENCES accounts (account_id),
    minimum_length     BIGINT NOT NULL,
    require_symbols    BIGINT NOT NULL,
    require_numbers    BIGINT NOT NULL,
    require_uppercase  BIGINT NOT NULL,
    require_lowercase  BIGINT NOT NULL,
    allow_change       BIGINT NOT NULL,
    max_age_days       BIGINT,
    reuse_prevention   BIGINT,
    hard_expiry        BIGINT
);
