-- IAM delegation requests (temporary delegation): a request an account (the requestor, a
-- partner) files for permissions in another account (the owner), its state, and, once the
-- owner released it, the digest of the exchange token the requestor trades for credentials
-- (STS GetDelegatedAccessToken). A request is no account's alone, so it is keyed by its id.

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

-- What would have been published to a request's notification channel (an SNS topic, which
-- oxiam does not have): kept for the requestor's account to read, sealed (an exchange token
-- is in some).
CREATE TABLE delegation_notifications (
    id                     TEXT PRIMARY KEY,
    requestor_account_id   TEXT NOT NULL REFERENCES accounts (account_id),
    channel                TEXT NOT NULL,
    created_at             BIGINT NOT NULL,
    message_sealed         TEXT NOT NULL
);

CREATE INDEX delegation_notifications_by_account ON delegation_notifications (requestor_account_id, created_at);

-- Delegated credentials (GetDelegatedAccessToken) are sessions of their approver, marked
-- with the request they came from: they call no STS operation that asks a permission.
ALTER TABLE sessions ADD COLUMN delegation_request_id TEXT;
ALTER TABLE user_sessions ADD COLUMN delegation_request_id TEXT;
