-- A counter bumped by every transaction that changes what any principal of the account
-- is allowed to do (attachments, inline policies, default versions, group membership,
-- permissions boundaries). Authentication reads it with the access key, so a compiled
-- policy set cached by any server is known stale on the next request, across replicas.
ALTER TABLE accounts ADD COLUMN policy_epoch BIGINT NOT NULL DEFAULT 0;
