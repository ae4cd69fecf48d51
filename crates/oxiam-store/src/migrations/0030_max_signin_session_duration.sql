-- A login profile's maximum sign-in session duration (Create/UpdateLoginProfile's
-- MaxSigninSessionDuration, seconds). NULL: unset.

ALTER TABLE login_profiles ADD COLUMN max_signin_session_duration BIGINT;
