-- The version of the session tokens the account's global STS endpoint issues
-- (SetSecurityTokenServicePreferences; GetAccountSummary's GlobalEndpointTokenVersion).
-- Conventions as in 0001.

ALTER TABLE accounts ADD COLUMN global_endpoint_token_version BIGINT NOT NULL DEFAULT 1;
