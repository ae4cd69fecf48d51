-- oxiam's schema on SQLite after migration 31: what the migrations leave (without
-- oxiam_schema), run in one step by a new database. Generated, not edited: after adding a
-- migration, run `WRITE_SQLITE_SCHEMA=1 cargo test -p oxiam-store --lib sqlite_schema`.
CREATE TABLE accounts (
    account_id   TEXT PRIMARY KEY,
    created_at   BIGINT NOT NULL,
    -- The root's own keys, counted like a user's (see users.access_key_count).
    root_access_key_count BIGINT NOT NULL DEFAULT 0
, policy_epoch BIGINT NOT NULL DEFAULT 0, global_endpoint_token_version BIGINT NOT NULL DEFAULT 1, origin TEXT NOT NULL DEFAULT 'bootstrap');
CREATE TABLE users (
    user_id      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    name         TEXT NOT NULL,
    -- lower(name): IAM names are unique regardless of case, and list in this order.
    name_key     TEXT NOT NULL,
    path         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- Kept in step with access_keys by the same transaction; the conditional UPDATE on it
    -- is what makes the 2-keys quota hold under parallel requests on both databases.
    access_key_count BIGINT NOT NULL DEFAULT 0, permissions_boundary TEXT, policy_epoch BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, name_key)
);
CREATE TABLE user_tags (
    user_id      TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES accounts (account_id),
    -- NULL for the account root's keys.
    user_id           TEXT REFERENCES users (user_id),
    -- The secret, sealed with the server's master key (base64 of nonce || ciphertext).
    secret_sealed     TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    last_used_at      BIGINT,
    last_used_service TEXT,
    last_used_region  TEXT
);
CREATE INDEX access_keys_by_user ON access_keys (user_id, created_at);
CREATE TABLE policies (
    policy_id        TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (account_id),
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL,
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
    name_key             TEXT NOT NULL,
    path                 TEXT NOT NULL,
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration BIGINT NOT NULL,
    permissions_boundary TEXT,
    created_at           BIGINT NOT NULL,
    last_used_at         BIGINT,
    last_used_region     TEXT, service_linked BIGINT NOT NULL DEFAULT 0, source_template_arn TEXT, source_template_minor BIGINT, source_template_values TEXT, policy_epoch BIGINT NOT NULL DEFAULT 0,
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
    name_key     TEXT NOT NULL,
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
    name_key     TEXT NOT NULL,
    document     TEXT NOT NULL,
    -- The document's size without whitespace, which IAM's aggregate quotas count.
    size         BIGINT NOT NULL,
    PRIMARY KEY (entity_kind, entity_id, name_key)
);
CREATE TABLE account_aliases (
    alias        TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL UNIQUE REFERENCES accounts (account_id)
);
CREATE TABLE credential_reports (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (account_id),
    generated_at  BIGINT NOT NULL,
    content       TEXT NOT NULL
);
CREATE TABLE sessions (
    access_key_id        TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    secret_sealed        TEXT NOT NULL,
    token_sha256         TEXT NOT NULL,
    role_id              TEXT NOT NULL,
    session_name         TEXT NOT NULL,
    -- Session policies: an inline document and/or managed policy ARNs (newline-separated).
    session_policy       TEXT,
    session_policy_arns  TEXT NOT NULL,
    -- 1 when the session was assumed by another role session (role chaining).
    chained              BIGINT NOT NULL,
    issued_at            BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL
, session_tags TEXT NOT NULL DEFAULT '', transitive_tag_keys TEXT NOT NULL DEFAULT '', mfa_at BIGINT, scope_policies TEXT, delegation_request_id TEXT, source_identity TEXT, trusted_context TEXT);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE TABLE user_sessions (
    access_key_id  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    user_id        TEXT,
    secret_sealed  TEXT NOT NULL,
    token_sha256   TEXT NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
, mfa_at BIGINT, federated_name TEXT, session_policy TEXT, session_policy_arns TEXT NOT NULL DEFAULT '', session_tags TEXT NOT NULL DEFAULT '', root_task_policy TEXT, scope_policies TEXT, delegation_request_id TEXT, source_identity TEXT, trusted_context TEXT);
CREATE TABLE instance_profiles (
    instance_profile_id  TEXT PRIMARY KEY,
    account_id           TEXT NOT NULL REFERENCES accounts (account_id),
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    path                 TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);
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
CREATE TABLE oidc_providers (
    arn          TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    url          TEXT NOT NULL,
    created_at   BIGINT NOT NULL, context_provider TEXT,
    UNIQUE (account_id, url)
);
CREATE TABLE oidc_provider_client_ids (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    client_id    TEXT NOT NULL,
    PRIMARY KEY (arn, client_id)
);
CREATE TABLE oidc_provider_thumbprints (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    thumbprint   TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);
CREATE TABLE oidc_provider_tags (
    arn          TEXT NOT NULL REFERENCES oidc_providers (arn) ON DELETE CASCADE,
    position     BIGINT NOT NULL,
    tag_key      TEXT NOT NULL,
    tag_value    TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);
CREATE TABLE mfa_devices (
    serial_number  TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    name           TEXT NOT NULL,
    path           TEXT NOT NULL,
    seed_sealed    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    user_id        TEXT,
    enabled_at     BIGINT,
    last_step      BIGINT,
    drift_steps    BIGINT NOT NULL DEFAULT 0,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    blocked_until  BIGINT,
    UNIQUE (account_id, name)
);
CREATE INDEX mfa_devices_by_user ON mfa_devices (user_id);
CREATE TABLE mfa_device_tags (
    serial_number  TEXT NOT NULL REFERENCES mfa_devices (serial_number) ON DELETE CASCADE,
    position       BIGINT NOT NULL,
    tag_key        TEXT NOT NULL,
    tag_value      TEXT NOT NULL,
    PRIMARY KEY (serial_number, position)
);
CREATE TABLE login_profiles (
    user_id         TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    created_at      BIGINT NOT NULL,
    changed_at      BIGINT NOT NULL,
    reset_required  BIGINT NOT NULL,
    password_hash   TEXT NOT NULL,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    blocked_until   BIGINT
, max_signin_session_duration BIGINT);
CREATE INDEX login_profiles_by_account ON login_profiles (account_id);
CREATE TABLE password_history (
    user_id         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    password_hash   TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE TABLE password_policies (
    account_id         TEXT PRIMARY KEY REFERENCES accounts (account_id),
    minimum_length     BIGINT NOT NULL,
    require_symbols    BIGINT NOT NULL,
    require_numbers    BIGINT NOT NULL,
    require_uppercase  BIGINT NOT NULL,
    require_lowercase  BIGINT NOT NULL,
    allow_change       BIGINT NOT NULL,
    max_age_days       BIGINT,
    reuse_prevention   BIGINT,
    hard_expiry        BIGINT
);
CREATE TABLE ssh_public_keys (
    key_id       TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    body         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    active       BIGINT NOT NULL,
    uploaded_at  BIGINT NOT NULL,
    UNIQUE (user_id, fingerprint)
);
CREATE INDEX ssh_public_keys_by_account ON ssh_public_keys (account_id);
CREATE TABLE service_credentials (
    credential_id  TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (account_id),
    service_name   TEXT NOT NULL,
    -- ServiceUserName (a password) or ServiceCredentialAlias (an API key).
    login_name     TEXT NOT NULL,
    secret_sealed  TEXT NOT NULL,
    active         BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT,
    -- A login name is the account's for the service, whoever holds it (user names may
    -- hold `+`: `dev+1-at-…` is user dev's second or user dev+1's first).
    UNIQUE (account_id, service_name, login_name)
);
CREATE INDEX service_credentials_by_user ON service_credentials (user_id, service_name);
CREATE TABLE signing_certificates (
    account_id      TEXT NOT NULL REFERENCES accounts (account_id),
    certificate_id  TEXT NOT NULL,
    -- The user's id, or the account's for the root's own certificates.
    owner_id        TEXT NOT NULL,
    body            TEXT NOT NULL,
    active          BIGINT NOT NULL,
    uploaded_at     BIGINT NOT NULL,
    PRIMARY KEY (account_id, certificate_id)
);
CREATE INDEX signing_certificates_by_owner ON signing_certificates (owner_id);
CREATE TABLE server_certificates (
    server_certificate_id  TEXT PRIMARY KEY,
    account_id             TEXT NOT NULL REFERENCES accounts (account_id),
    name                   TEXT NOT NULL,
    path                   TEXT NOT NULL,
    body                   TEXT NOT NULL,
    chain                  TEXT,
    private_key_sealed     TEXT NOT NULL,
    expires_at             BIGINT NOT NULL,
    uploaded_at            BIGINT NOT NULL,
    UNIQUE (account_id, name)
);
CREATE TABLE server_certificate_tags (
    server_certificate_id  TEXT NOT NULL REFERENCES server_certificates (server_certificate_id) ON DELETE CASCADE,
    position               BIGINT NOT NULL,
    tag_key                TEXT NOT NULL,
    tag_value              TEXT NOT NULL,
    PRIMARY KEY (server_certificate_id, position)
);
CREATE TABLE service_linked_role_deletions (
    task_id     TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (account_id),
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX service_linked_role_deletions_by_account ON service_linked_role_deletions (account_id);
CREATE TABLE saml_providers (
    arn          TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    name         TEXT NOT NULL,
    uuid         TEXT NOT NULL,
    metadata     TEXT NOT NULL,
    valid_until  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL, assertion_encryption_mode TEXT NOT NULL DEFAULT 'Allowed',
    UNIQUE (account_id, name)
);
CREATE TABLE saml_provider_tags (
    arn        TEXT NOT NULL,
    position   BIGINT NOT NULL,
    tag_key    TEXT NOT NULL,
    tag_value  TEXT NOT NULL,
    PRIMARY KEY (arn, position)
);
CREATE TABLE saml_provider_keys (
    arn          TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    key_sealed   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (arn, key_id)
);
CREATE UNIQUE INDEX accounts_one_bootstrap ON accounts (origin) WHERE origin = 'bootstrap';
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
CREATE TABLE outbound_federation (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (account_id),
    issuer_id     TEXT NOT NULL UNIQUE,
    -- 1 enabled, 0 disabled.
    enabled       BIGINT NOT NULL,
    rsa_key_sealed TEXT NOT NULL,
    ec_key_sealed  TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE TABLE service_last_accessed (
    entity_id  TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    service    TEXT NOT NULL,
    action     TEXT NOT NULL,
    last_at    BIGINT NOT NULL,
    region     TEXT NOT NULL,
    PRIMARY KEY (entity_id, service, action)
);
CREATE INDEX service_last_accessed_account ON service_last_accessed (account_id);
CREATE TABLE access_reports (
    job_id     TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    -- The ARN of the principal that generated it (a role session's ARN for a session).
    owner      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- The report, as oxiam-core writes it (JSON).
    report     TEXT NOT NULL
);
CREATE INDEX access_reports_account ON access_reports (account_id, created_at);
CREATE TABLE s3_buckets (
    name          TEXT PRIMARY KEY,
    owner_account TEXT NOT NULL,
    region        TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    -- The bucket policy, as the owner put it.
    policy        TEXT,
    -- '' (never versioned), 'Enabled' or 'Suspended'.
    versioning    TEXT NOT NULL DEFAULT '',
    -- The bucket's tag set as JSON ([[key, value], …]); NULL when none is set.
    tags          TEXT
);
CREATE INDEX s3_buckets_owner ON s3_buckets (owner_account, name);
CREATE TABLE s3_objects (
    bucket        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    -- 'null' for the version a bucket without versioning (or suspended) writes.
    version_id    TEXT NOT NULL,
    -- The versions of one key in the order they were written: higher is newer.
    seq           BIGINT NOT NULL,
    -- 1 for the key's current version (at most one per key), else 0.
    is_latest     BIGINT NOT NULL,
    delete_marker BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   BIGINT NOT NULL,
    owner_account TEXT NOT NULL,
    -- The file holding the bytes; NULL for a delete marker.
    blob          TEXT,
    -- Content headers, user metadata and checksums, as oxiam-s3 writes them (JSON).
    attributes    TEXT NOT NULL,
    -- The object's tag set as JSON ([[key, value], …]).
    tags          TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key, version_id)
);
CREATE INDEX s3_objects_listing ON s3_objects (bucket, is_latest, object_key);
CREATE INDEX s3_objects_versions ON s3_objects (bucket, object_key, seq);
CREATE TABLE s3_uploads (
    -- Compared in listings (ListMultipartUploads' upload id marker), so byte by byte.
    upload_id     TEXT PRIMARY KEY,
    bucket        TEXT NOT NULL,
    object_key    TEXT NOT NULL,
    initiated_ms  BIGINT NOT NULL,
    owner_account TEXT NOT NULL,
    -- The ARN of the principal that started the upload (ListMultipartUploads' Initiator).
    initiator     TEXT NOT NULL,
    attributes    TEXT NOT NULL,
    tags          TEXT NOT NULL
);
CREATE INDEX s3_uploads_listing ON s3_uploads (bucket, object_key, initiated_ms);
CREATE TABLE s3_parts (
    upload_id     TEXT NOT NULL,
    part_number   BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    modified_ms   BIGINT NOT NULL,
    blob          TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE account_properties (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE delegation_requests (
    id                     TEXT PRIMARY KEY,
    requestor_account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    requestor_workflow_id  TEXT NOT NULL,
    -- The target account: given at creation, or the associating caller's.
    owner_account_id       TEXT,
    -- The ARN of the identity that associated the request with its account.
    owner_id               TEXT,
    -- The ARN of the identity that accepted, the identity the delegated credentials act as:
    -- the session it signed with (temporary credentials), or the user (long-term keys; NULL
    -- with no session: the account's root).
    approver_id            TEXT,
    approver_session_key   TEXT,
    approver_user_id       TEXT,
    description            TEXT NOT NULL,
    request_message        TEXT,
    -- DelegationPermission as given (JSON), and the policy its template renders to.
    permissions            TEXT NOT NULL,
    permission_policy      TEXT NOT NULL,
    redirect_url           TEXT,
    notification_channel   TEXT NOT NULL,
    session_duration       BIGINT NOT NULL,
    only_send_by_owner     BIGINT NOT NULL,
    state                  TEXT NOT NULL,
    notes                  TEXT,
    rejection_reason       TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    -- When the current state lapses (the request is EXPIRED from then on).
    expires_at             BIGINT NOT NULL,
    -- SHA-256 (hex) of the exchange token, from FINALIZED on; the token is never stored.
    token_sha256           TEXT UNIQUE,
    -- When the delegation ends (the release plus the session duration), from FINALIZED on.
    delegation_ends_at     BIGINT,
    -- Bumped by every change: a change made from a stale read is refused.
    version                BIGINT NOT NULL,
    UNIQUE (requestor_account_id, requestor_workflow_id)
);
CREATE INDEX delegation_requests_by_owner ON delegation_requests (owner_account_id, owner_id);
CREATE TABLE delegation_notifications (
    id                     TEXT PRIMARY KEY,
    requestor_account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    channel                TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    message_sealed         TEXT NOT NULL
);
CREATE INDEX delegation_notifications_by_account ON delegation_notifications (requestor_account_id, created_at);
