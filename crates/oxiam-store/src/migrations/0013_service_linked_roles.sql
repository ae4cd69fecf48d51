-- The deletions of service-linked roles (DeleteServiceLinkedRole answers a task id, which
-- GetServiceLinkedRoleDeletionStatus reads back). oxiam's services hold no resources that
-- use such a role, so a deletion is done when asked: every task is SUCCEEDED. The roles
-- themselves are roles (path /aws-service-role/SERVICE/) marked as made by
-- CreateServiceLinkedRole: only such a role is AWS's alone to change, whatever the path of a
-- role made before this migration. Conventions as in 0001.

ALTER TABLE roles ADD COLUMN service_linked BIGINT NOT NULL DEFAULT 0;

CREATE TABLE service_linked_role_deletions (
    task_id     TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX service_linked_role_deletions_by_account ON service_linked_role_deletions (account_id);
