-- Temporary credentials issued by GetSessionToken: they act as the user (or, with a NULL
-- user_id, the account root) that asked for them. Only the token's SHA-256 is kept.
CREATE TABLE user_sessions (
    access_key_id  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    user_id        TEXT,
    secret_sealed  TEXT NOT NULL,
    token_sha256   TEXT NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
