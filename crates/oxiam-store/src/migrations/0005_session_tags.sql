-- Session tags of role sessions (AssumeRole Tags) and which of them are transitive
-- (carried into sessions this session assumes). One `key<TAB>value` per line; tag keys and
-- values cannot contain tabs or line breaks.
ALTER TABLE sessions ADD COLUMN session_tags TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN transitive_tag_keys TEXT NOT NULL DEFAULT '';
