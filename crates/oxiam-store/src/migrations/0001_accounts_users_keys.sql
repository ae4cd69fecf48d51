-- One schema for SQLite and PostgreSQL: only TEXT and BIGINT columns, so both databases
-- (and sqlx's Any driver, which knows only a few types) read them alike. Times are Unix
-- seconds. Every row carries its account id. SORT_KEY is a text column compared byte by
-- byte on both databases (PostgreSQL would otherwise sort by locale), so that listings
-- come out in the same order everywhere.

CREATE TABLE accounts (
    account_id   TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL,
    -- The root's own keys, counted like a user's (see users.access_key_count).
    root_access_key_count BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    name         TEXT NOT NULL,
    -- lower(name): IAM names are unique regardless of case, and list in this order.
    name_key     SORT_KEY NOT NULL,
    path         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- Kept in step with access_keys by the same transaction; the conditional UPDATE on it
    -- is what makes the 2-keys quota hold under parallel requests on both databases.
    access_key_count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, name_key)
);

CREATE TABLE user_tags (
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (account_id),
    -- NULL for the account root's keys.
    user_id           TEXT REFERENCES users (user_id),
    -- The secret, sealed with the server's master key (base64 of nonce || ciphertext).
    secret_sealed     TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT,
    last_used_service TEXT,
    last_used_region  TEXT
);

CREATE INDEX access_keys_by_user ON access_keys (user_id, created_at);
