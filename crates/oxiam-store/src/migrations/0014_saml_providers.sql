-- SAML 2.0 identity providers: the provider's metadata document as given (its
-- certificates sign the provider's responses) and when it stops being valid; their tags.
-- Conventions as in 0001.

CREATE TABLE saml_providers (
    arn          TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    name         TEXT NOT NULL,
    uuid         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    valid_until  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE saml_provider_tags (
    arn        TEXT NOT NULL,
    position   BIGINT NOT NULL,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);
