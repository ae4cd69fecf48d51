-- Root sessions (STS AssumeRoot): temporary credentials of a member account's root user,
-- limited to one root task policy (an AWS managed policy under `policy/root-task/`). They are
-- user_sessions rows with no user (the root) and this column set; GetSessionToken's root
-- credentials leave it NULL.

ALTER TABLE user_sessions ADD COLUMN root_task_policy TEXT;
