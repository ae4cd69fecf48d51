-- Federated-user sessions (GetFederationToken) are user sessions with a name of their own,
-- the session policies the request passed and its session tags: a NULL federated_name is a
-- GetSessionToken session, which has none of them. Lists are stored as in 0005
-- (session_policy_arns one per line, session_tags "key<TAB>value" lines).
-- Conventions as in 0001.

ALTER TABLE user_sessions ADD COLUMN federated_name TEXT;
ALTER TABLE user_sessions ADD COLUMN session_policy TEXT;
ALTER TABLE user_sessions ADD COLUMN session_policy_arns TEXT NOT NULL DEFAULT '';
ALTER TABLE user_sessions ADD COLUMN session_tags TEXT NOT NULL DEFAULT '';
