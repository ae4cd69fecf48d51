-- OpenID Connect identity providers, named by their ARN (the account and the URL without
-- `https://`): the client ids (audiences) and server-certificate thumbprints each keeps,
-- in the order given, and tags. Conventions as in 0001.

CREATE TABLE oidc_providers (
    arn          TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    url          TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (account_id, url)
);

CREATE TABLE oidc_provider_client_ids (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    client_id    TEXT NOT NULL,
    PRIMARY KEY (arn, client_id)
);

CREATE TABLE oidc_provider_thumbprints (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    thumbprint   TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);

CREATE TABLE oidc_provider_tags (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);
