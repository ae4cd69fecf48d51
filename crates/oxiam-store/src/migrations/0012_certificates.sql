-- X.509 certificates: a user's (or the root's) signing certificates, named by a digest of
-- their DER, so that one certificate is held once in an account; and the account's server
-- certificates, with their private key sealed like secret keys (never returned), their chain
-- and their expiry. Conventions as in 0001.

CREATE TABLE signing_certificates (
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    certificate_id  TEXT NOT NULL,
    -- The user's id, or the account's for the root's own certificates.
    owner_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    active          BIGINT NOT NULL,
    uploaded_at     BIGINT NOT NULL,
    PRIMARY KEY (account_id, certificate_id)
);
CREATE INDEX signing_certificates_by_owner ON signing_certificates (owner_id);

CREATE TABLE server_certificates (
    server_certificate_id  TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (account_id),
    name                   TEXT NOT NULL,
    path                   TEXT NOT NULL,
    body                   TEXT NOT NULL,
    chain                  TEXT,
    private_key_sealed     TEXT NOT NULL,
    expires_at             BIGINT NOT NULL,
    uploaded_at            BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE server_certificate_tags (
    server_certificate_id  TEXT NOT NULL REFERENCES server_certificates (server_certificate_id) ON DELETE CASCADE,
    position               BIGINT NOT NULL,
    tag_key                TEXT NOT NULL,
    tag_value              TEXT NOT NULL,
    PRIMARY KEY (server_certificate_id, position)
);
