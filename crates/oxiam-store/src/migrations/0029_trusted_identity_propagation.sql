-- Trusted identity propagation: an OpenID Connect provider's context provider (how the
-- subject and trusted context keys are read off its tokens; oxiam-core's JSON, NULL: none),
-- and the trusted context a role session was given from it (its keys and values, as a JSON
-- array of pairs), which nothing the caller does changes; a member account's root session
-- (AssumeRoot) keeps the asking role session's.

ALTER TABLE oidc_providers ADD COLUMN context_provider TEXT;
ALTER TABLE sessions ADD COLUMN trusted_context TEXT;
ALTER TABLE user_sessions ADD COLUMN trusted_context TEXT;
