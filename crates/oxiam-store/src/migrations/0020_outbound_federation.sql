-- Outbound identity federation (IAM EnableOutboundWebIdentityFederation; STS
-- GetWebIdentityToken): whether an account's principals may get tokens, the id in its
-- issuer URL, and its two signing keys (PKCS#8, sealed). A row, once made, stays: a
-- disabled account keeps its issuer and keys, as AWS's does, so tokens issued before still
-- verify and re-enabling changes nothing a verifier trusts. Conventions as in 0001.

CREATE TABLE outbound_federation (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (account_id),
    issuer_id     TEXT NOT NULL UNIQUE,
    -- 1 enabled, 0 disabled.
    enabled       BIGINT NOT NULL,
    rsa_key_sealed TEXT NOT NULL,
    ec_key_sealed  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
