-- A user's and a role's own policy epoch: bumped by every transaction that changes what
-- that one principal may do (its attachments, inline policies, permissions boundary, tags,
-- and for a user its group memberships). A principal's compiled policies are stale when
-- the sum of its account's epoch (changes that reach many principals: a policy's default
-- version, a group's policies, the organization) and its own has moved; both only grow, so
-- any bump moves the sum. A change to one user no longer recompiles every principal of the
-- account.
ALTER TABLE users ADD COLUMN policy_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE roles ADD COLUMN policy_epoch BIGINT NOT NULL DEFAULT 0;
