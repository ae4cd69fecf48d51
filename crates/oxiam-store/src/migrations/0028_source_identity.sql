-- The source identity of a role session (AssumeRole's SourceIdentity, the SAML attribute or
-- the web identity claim), which role chaining carries on and nothing may change. NULL: none.

ALTER TABLE sessions ADD COLUMN source_identity TEXT;
-- A member account's root session (AssumeRoot) keeps the source identity of the role
-- session that asked for it.
ALTER TABLE user_sessions ADD COLUMN source_identity TEXT;
