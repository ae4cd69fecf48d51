-- Virtual MFA devices, named by their serial number (their ARN): the TOTP seed, sealed like
-- secret keys; the user a device is enabled for, if any; the latest time step whose code was
-- accepted (a code is good once: a replayed one is refused); the clock drift found by a
-- resync, in steps; the codes tried since the last good one, and until when the device takes
-- no more (guessing a 6-digit code must not be a matter of sending enough requests).
-- Conventions as in 0001.

CREATE TABLE mfa_devices (
    serial_number  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    name           TEXT NOT NULL,
    path           TEXT NOT NULL,
    seed_sealed    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    user_id        TEXT,
    enabled_at     BIGINT,
    last_step      BIGINT,
    drift_steps    BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    blocked_until  BIGINT,
    UNIQUE (account_id, name)
);
CREATE INDEX mfa_devices_by_user ON mfa_devices (user_id);

CREATE TABLE mfa_device_tags (
    serial_number  TEXT NOT NULL REFERENCES mfa_devices (serial_number) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    tag_key        TEXT NOT NULL,
    tag_value      TEXT NOT NULL,
    PRIMARY KEY (serial_number, position)
);

-- When temporary credentials were issued with a verified MFA code (NULL: without MFA):
-- `aws:MultiFactorAuthPresent` and `aws:MultiFactorAuthAge` of their requests.
ALTER TABLE sessions ADD COLUMN mfa_at BIGINT;
ALTER TABLE user_sessions ADD COLUMN mfa_at BIGINT;
