-- AWS Organizations. An organization is small (AWS caps it at thousands of accounts and OUs)
-- and every change to it is checked against the whole of it (OU depth, attachment counts,
-- names unique under a parent), so it is kept as one document, `state` (JSON written and
-- read by oxiam-core), changed in one transaction that locks its row. What other lookups
-- need by key is kept beside it: which organization an account belongs to (at most one:
-- the primary key), and which organization invited an account (a handshake).
-- Conventions as in 0001.

CREATE TABLE organizations (
    org_id                 TEXT PRIMARY KEY,
    management_account_id  TEXT NOT NULL UNIQUE REFERENCES accounts (account_id),
    state                  TEXT NOT NULL,
    -- Bumped by every change: taking the row's write lock.
    version                BIGINT NOT NULL,
    created_at             BIGINT NOT NULL
);

CREATE TABLE organization_members (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (account_id),
    org_id      TEXT NOT NULL REFERENCES organizations (org_id)
);
CREATE INDEX organization_members_by_org ON organization_members (org_id);

CREATE TABLE organization_invitations (
    handshake_id  TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (org_id),
    account_id    TEXT NOT NULL
);
CREATE INDEX organization_invitations_by_account ON organization_invitations (account_id);
