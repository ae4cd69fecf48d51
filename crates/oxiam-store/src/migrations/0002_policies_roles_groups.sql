-- Managed policies and their versions, roles, groups, attachments, inline policies, the
-- account alias and the credential report. Conventions as in 0001.

CREATE TABLE policies (
    policy_id        TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (account_id),
    name             TEXT NOT NULL,
    name_key         SORT_KEY NOT NULL,
    path             TEXT NOT NULL,
    arn              TEXT NOT NULL UNIQUE,
    description      TEXT,
    -- Version numbers: "v3" is 3. next_version only grows, as in AWS (v1, v2, … never reused).
    default_version  BIGINT NOT NULL,
    next_version     BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE policy_versions (
    policy_id   TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version)
);

CREATE TABLE policy_tags (
    policy_id    TEXT NOT NULL REFERENCES policies (policy_id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (policy_id, position)
);

CREATE TABLE roles (
    role_id              TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    name                 TEXT NOT NULL,
    name_key             SORT_KEY NOT NULL,
    path                 TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration BIGINT NOT NULL,
    permissions_boundary TEXT,
    created_at           BIGINT NOT NULL,
    last_used_at         BIGINT,
    last_used_region     TEXT,
    UNIQUE (account_id, name_key)
);

CREATE TABLE role_tags (
    role_id      TEXT NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (role_id, position)
);

CREATE TABLE iam_groups (
    group_id     TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    name         TEXT NOT NULL,
    name_key     SORT_KEY NOT NULL,
    path         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

CREATE TABLE group_members (
    group_id     TEXT NOT NULL REFERENCES iam_groups (group_id),
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members (user_id);

-- Managed policies attached to users, groups and roles, by policy ARN (AWS managed
-- policies live in the built-in catalogue, not in `policies`).
CREATE TABLE attachments (
    account_id   TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    policy_arn   TEXT NOT NULL,
    attached_at  BIGINT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id, policy_arn)
);
CREATE INDEX attachments_by_policy ON attachments (account_id, policy_arn);

CREATE TABLE inline_policies (
    entity_kind  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    name_key     SORT_KEY NOT NULL,
    document     TEXT NOT NULL,
    -- The document's size without whitespace, which IAM's aggregate quotas count.
    size         BIGINT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id, name_key)
);

ALTER TABLE users ADD COLUMN permissions_boundary TEXT;

CREATE TABLE account_aliases (
    alias        TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL UNIQUE REFERENCES accounts (account_id)
);

CREATE TABLE credential_reports (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (account_id),
    generated_at  BIGINT NOT NULL,
    content       TEXT NOT NULL
);
