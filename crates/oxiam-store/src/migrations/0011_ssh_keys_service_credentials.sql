-- What a user signs in to other services with, besides access keys and a password: SSH
-- public keys (CodeCommit's), kept as uploaded with their MD5 fingerprint (one key once per
-- user), and service-specific credentials (CodeCommit's and Keyspaces' passwords, Bedrock's
-- and CloudWatch's API keys), whose password or key is sealed like secret keys and shown
-- only when made. Conventions as in 0001.

CREATE TABLE ssh_public_keys (
    key_id       TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    body         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    active       BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    UNIQUE (user_id, fingerprint)
);
CREATE INDEX ssh_public_keys_by_account ON ssh_public_keys (account_id);

CREATE TABLE service_credentials (
    credential_id  TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    service_name   TEXT NOT NULL,
    -- ServiceUserName (a password) or ServiceCredentialAlias (an API key).
    login_name     TEXT NOT NULL,
    secret_sealed  TEXT NOT NULL,
    active         BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    -- A login name is the account's for the service, whoever holds it (user names may
    -- hold `+`: `dev+1-at-…` is user dev's second or user dev+1's first).
    UNIQUE (account_id, service_name, login_name)
);
CREATE INDEX service_credentials_by_user ON service_credentials (user_id, service_name);
