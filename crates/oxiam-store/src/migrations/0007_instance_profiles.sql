-- Instance profiles: named containers that hand one role to an EC2 instance. Conventions as
-- in 0001.

CREATE TABLE instance_profiles (
    instance_profile_id  TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    name                 TEXT NOT NULL,
    name_key             SORT_KEY NOT NULL,
    path                 TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);

-- The role a profile holds. The primary key is the quota: a profile holds at most one
-- role (AWS: "this quota cannot be increased").
CREATE TABLE instance_profile_roles (
    instance_profile_id  TEXT PRIMARY KEY REFERENCES instance_profiles (instance_profile_id),
    role_id              TEXT NOT NULL REFERENCES roles (role_id),
    added_at             BIGINT NOT NULL
);
CREATE INDEX instance_profile_roles_by_role ON instance_profile_roles (role_id);

CREATE TABLE instance_profile_tags (
    instance_profile_id  TEXT NOT NULL REFERENCES instance_profiles (instance_profile_id) ON DELETE CASCADE,
    position             BIGINT NOT NULL,
    tag_key              TEXT NOT NULL,
    tag_value            TEXT NOT NULL,
    PRIMARY KEY (instance_profile_id, position)
);
