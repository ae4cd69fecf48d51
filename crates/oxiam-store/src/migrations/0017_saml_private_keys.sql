-- Encrypted SAML assertions: whether a provider's assertions must come encrypted
-- ('Required') or may ('Allowed'), and the private keys (at most two, sealed) they are
-- decrypted with. Conventions as in 0001.

ALTER TABLE saml_providers ADD COLUMN assertion_encryption_mode TEXT NOT NULL DEFAULT 'Allowed';

CREATE TABLE saml_provider_keys (
    arn          TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    key_sealed   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (arn, key_id)
);
