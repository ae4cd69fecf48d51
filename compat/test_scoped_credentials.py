"""STS GetScopedCredentials through boto3: a copy of the caller's temporary credentials that
acts as the same principal, may do only what every scope-down policy of its chain allows,
never outlives the caller's credentials, and narrows nothing but itself."""

import json
import time

from expect import error_code, fails, ok

EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
PUT_ONLY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:PutObject", "sts:AssumeRole"], "Resource": "*"}]})


def not_key(bucket, key):
    """Allows everything but a put of `key`."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{key}"}]})


def clients(client_for, c):
    args = (c["AccessKeyId"], c["SecretAccessKey"])
    return client_for("sts", *args, token=c["SessionToken"]), client_for("s3", *args, token=c["SessionToken"])


def role_session(iam, new_role, user_with_key, client_for, account_id):
    """A session of a role allowed everything, assumed by a user allowed everything."""
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}]})
    role = new_role(trust=trust)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=EVERYTHING)
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="all", PolicyDocument=EVERYTHING)
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    answer = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="job")
    return role, answer["Credentials"], answer["AssumedRoleUser"]


def test_a_scoped_role_session_acts_as_the_session_within_every_scope(
        iam, new_role, user_with_key, client_for, account_id, new_bucket):
    bucket = new_bucket()
    role, session, assumed = role_session(iam, new_role, user_with_key, client_for, account_id)
    session_sts, session_s3 = clients(client_for, session)

    answer = ok(session_sts.get_scoped_credentials(Policy=PUT_ONLY))
    assert set(answer) == {"Credentials", "SessionInfo", "ScopedPoliciesCount"}
    assert answer["ScopedPoliciesCount"] == 1
    assert answer["SessionInfo"] == {"ScopedSessionId": assumed["AssumedRoleId"], "Arn": assumed["Arn"]}
    scoped = answer["Credentials"]
    assert scoped["Expiration"] == session["Expiration"], "it expires with the caller's credentials"
    assert scoped["AccessKeyId"].startswith("ASIA") and scoped["AccessKeyId"] != session["AccessKeyId"]
    narrow_sts, narrow_s3 = clients(client_for, scoped)
    assert narrow_sts.get_caller_identity()["Arn"] == assumed["Arn"], "the same principal"

    narrow_s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    assert error_code(narrow_s3.get_object, Bucket=bucket, Key="a") == "AccessDenied"
    session_s3.get_object(Bucket=bucket, Key="a")  # the caller's own credentials keep everything

    # A scope of the scoped credentials: every scope of the chain must allow.
    chained = narrow_sts.get_scoped_credentials(Policy=not_key(bucket, "b"))
    assert chained["ScopedPoliciesCount"] == 2
    _, narrower_s3 = clients(client_for, chained["Credentials"])
    narrower_s3.put_object(Bucket=bucket, Key="c", Body=b"x")
    assert error_code(narrower_s3.put_object, Bucket=bucket, Key="b", Body=b"x") == "AccessDenied"
    assert error_code(narrower_s3.get_object, Bucket=bucket, Key="c") == "AccessDenied", "the first scope binds"
    narrow_s3.put_object(Bucket=bucket, Key="b", Body=b"x")

    # Scopes never widen: the role stops allowing puts, and the scoped copy at once with it.
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert error_code(narrow_s3.put_object, Bucket=bucket, Key="d", Body=b"x") == "AccessDenied"


def test_duration_and_input_rules(iam, sts, new_role, user_with_key, client_for, account_id):
    _, session, _ = role_session(iam, new_role, user_with_key, client_for, account_id)
    session_sts, _ = clients(client_for, session)
    fails(session_sts.get_scoped_credentials, code="ValidationError", status=400)
    fails(session_sts.get_scoped_credentials, DurationSeconds=3 * 3600,
          code="InsufficientSessionLifetime", status=400)
    short = session_sts.get_scoped_credentials(DurationSeconds=60)
    assert short["ScopedPoliciesCount"] == 0, "a duration alone adds no scope"
    left = short["Credentials"]["Expiration"].timestamp() - time.time()
    assert 50 <= left <= 61, left
    fails(session_sts.get_scoped_credentials, Policy='{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}',
          code="MalformedPolicyDocument", status=400)
    fails(session_sts.get_scoped_credentials, Policy="x" * 2049, code="ValidationError", status=400)
    # Long-term keys have no session to scope: the root's, a user's.
    fails(sts.get_scoped_credentials, DurationSeconds=60, code="InvalidSubjectCredentials", status=400)
    user, key = user_with_key()
    user_sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    fails(user_sts.get_scoped_credentials, DurationSeconds=60, code="InvalidSubjectCredentials", status=400)


def test_a_users_scoped_session_binds_only_itself(iam, user_with_key, client_for, account_id, new_bucket):
    """GetSessionToken's credentials act as the user; their scoped copy is limited apart from
    the user, whichever is used first."""
    bucket = new_bucket()
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="all", PolicyDocument=EVERYTHING)
    user_s3 = client_for("s3", key["AccessKeyId"], key["SecretAccessKey"])
    user_s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    user_s3.get_object(Bucket=bucket, Key="a")
    token = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_session_token()["Credentials"]
    token_sts, token_s3 = clients(client_for, token)
    answer = token_sts.get_scoped_credentials(Policy=PUT_ONLY)
    assert answer["SessionInfo"]["Arn"] == user["Arn"]
    _, narrow_s3 = clients(client_for, answer["Credentials"])
    narrow_s3.put_object(Bucket=bucket, Key="b", Body=b"x")
    assert error_code(narrow_s3.get_object, Bucket=bucket, Key="a") == "AccessDenied"
    user_s3.get_object(Bucket=bucket, Key="a")
    token_s3.get_object(Bucket=bucket, Key="a")


def test_role_assumption_from_scoped_credentials_passes_the_scopes(
        iam, new_role, user_with_key, client_for, account_id):
    role, session, _ = role_session(iam, new_role, user_with_key, client_for, account_id)
    session_sts, _ = clients(client_for, session)
    no_assume = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    scoped = session_sts.get_scoped_credentials(Policy=no_assume)["Credentials"]
    scoped_sts, _ = clients(client_for, scoped)
    fails(scoped_sts.assume_role, RoleArn=role["Arn"], RoleSessionName="chained", code="AccessDenied", status=403)
    allowed = session_sts.get_scoped_credentials(Policy=PUT_ONLY)["Credentials"]
    allowed_sts, _ = clients(client_for, allowed)
    allowed_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="chained")


def test_a_scoped_root_session_is_bound_by_its_scope(sts, client_for, new_bucket):
    """The root may do anything in its account; its scoped copy only what the scope allows."""
    bucket = new_bucket()
    token = sts.get_session_token()["Credentials"]
    token_sts, token_s3 = clients(client_for, token)
    scoped = token_sts.get_scoped_credentials(Policy=PUT_ONLY)["Credentials"]
    _, narrow_s3 = clients(client_for, scoped)
    narrow_s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    assert error_code(narrow_s3.get_object, Bucket=bucket, Key="a") == "AccessDenied"
    assert error_code(narrow_s3.delete_object, Bucket=bucket, Key="a") == "AccessDenied"
    token_s3.get_object(Bucket=bucket, Key="a")


def test_revoking_older_sessions_revokes_their_copies(iam, new_role, user_with_key, client_for, account_id,
                                                       new_bucket):
    """AWS's "revoke active sessions": a Deny on aws:TokenIssueTime before a moment. A copy made
    after the revocation keeps its caller's issue time, so it is revoked with it."""
    bucket = new_bucket()
    role, session, _ = role_session(iam, new_role, user_with_key, client_for, account_id)
    session_sts, session_s3 = clients(client_for, session)
    session_s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    time.sleep(1.1)
    revoked_before = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="revoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                       "Condition": {"DateLessThan": {"aws:TokenIssueTime": revoked_before}}}]}))
    time.sleep(1.1)
    assert error_code(session_s3.get_object, Bucket=bucket, Key="a") == "AccessDenied"
    copy = session_sts.get_scoped_credentials(DurationSeconds=600)["Credentials"]
    _, copy_s3 = clients(client_for, copy)
    assert error_code(copy_s3.get_object, Bucket=bucket, Key="a") == "AccessDenied"


def test_a_chain_holds_at_most_ten_scope_down_policies(iam, new_role, user_with_key, client_for, account_id):
    _, creds, _ = role_session(iam, new_role, user_with_key, client_for, account_id)
    for depth in range(1, 11):
        answer = clients(client_for, creds)[0].get_scoped_credentials(Policy=EVERYTHING)
        assert answer["ScopedPoliciesCount"] == depth
        creds = answer["Credentials"]
    last_sts, _ = clients(client_for, creds)
    fails(last_sts.get_scoped_credentials, Policy=EVERYTHING, code="PackedPolicyTooLarge", status=400)
    # A shorter lifetime adds no policy, so it is still given.
    assert last_sts.get_scoped_credentials(DurationSeconds=60)["ScopedPoliciesCount"] == 10
