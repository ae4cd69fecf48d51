-- Access advisor (IAM GenerateServiceLastAccessedDetails and the reports read from it).
-- service_last_accessed: when each user or role last attempted an action of a service, and
-- from which region; one row per (entity, service) with action '' for the service as a
-- whole, and one per tracked action. Written in batches with the keys' last use (never per
-- request); an older time never overwrites a newer one. The account's root is noted under
-- the account's id. Rows of a deleted user or role stay: service reports start from the
-- entities that exist, and organizations reports count every attempt made in an account.
-- access_reports: a report as generated (a snapshot, as AWS's are), readable only by the
-- principal that generated it. Conventions as in 0001.

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
