-- Temporary credentials issued by STS (AssumeRole): an ASIA… key, its sealed secret, and
-- the SHA-256 of its session token (the token is a bearer credential: only its hash is
-- kept). A session acts as a role, narrowed by its session policies.
CREATE TABLE sessions (
    access_key_id        TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    secret_sealed        TEXT NOT NULL,
    token_sha256         TEXT NOT NULL,
    role_id              TEXT NOT NULL,
    session_name         TEXT NOT NULL,
    -- Session policies: an inline document and/or managed policy ARNs (newline-separated).
    session_policy       TEXT,
    session_policy_arns  TEXT NOT NULL,
    -- 1 when the session was assumed by another role session (role chaining).
    chained              BIGINT NOT NULL,
    issued_at            BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
