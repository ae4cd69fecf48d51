-- Scope-down policies of temporary credentials (STS GetScopedCredentials, and the delegated
-- credentials of a delegation request): the policy documents, each of which must allow every
-- request the credentials make, joined by U+0001 (a character no policy document may hold).
-- NULL: none. A scoped copy of a session is a row of its own, with the caller's columns.

ALTER TABLE sessions ADD COLUMN scope_policies TEXT;
ALTER TABLE user_sessions ADD COLUMN scope_policies TEXT;
