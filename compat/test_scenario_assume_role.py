"""Scenario 6, "Create a user and assume a role", run the way the SDK example
(iam_basics/scenario_create_user_assume_role.py) runs it: boto3 resources (iam.create_user,
User.create_access_key_pair(), iam.create_role with a trust policy naming the user's ARN,
iam.create_policy allowing s3:ListAllMyBuckets, Role.attach_policy, User.create_policy
(PutUserPolicy) allowing sts:AssumeRole on the role), S3 ListBuckets with the user's key
(AccessDenied), STS AssumeRole, ListBuckets with the temporary credentials, and the
example's teardown. The example sleeps twice "for AWS to propagate"; oxiam needs no wait.

Then what the temporary credentials are (GetCallerIdentity, session policies, session
tokens) and how AssumeRole refuses (untrusted callers, the root, durations, missing roles).
AWS's rules are those of the STS AssumeRole documentation (botocore's model): a role in the
same account may be assumed by a user named in its trust policy without any identity
policy, or by a user whose identity policy allows sts:AssumeRole when the trust policy
trusts the account; the root may not assume roles; role chaining limits sessions to 1 hour.
"""

import datetime
import json
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError

import expect
from expect import fails, ok

SESSION = "AssumeRoleDemoSession"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(principal_arn):
    return document({"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"})


LIST_BUCKETS = allow("s3:ListAllMyBuckets", "arn:aws:s3:::*")


def expires_in(credentials, seconds):
    """The Expiration is `seconds` from now (to the second, within a minute of slack)."""
    expiration = credentials["Expiration"]
    expect.recent(expiration - datetime.timedelta(seconds=seconds))


def check_assume_role(answer, *, account_id, role, session, seconds=3600):
    """An AssumeRole answer without session policies: exactly Credentials and
    AssumedRoleUser."""
    body = ok(answer)
    assert set(body) == {"Credentials", "AssumedRoleUser"}, sorted(body)
    assert body["AssumedRoleUser"] == {
        "AssumedRoleId": f"{role['RoleId']}:{session}",
        "Arn": expect.assumed_role_arn(account_id, role["RoleName"], session),
    }
    creds = body["Credentials"]
    assert set(creds) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert expect.ASIA_KEY_ID.match(creds["AccessKeyId"]), creds["AccessKeyId"]
    assert expect.SECRET_ACCESS_KEY.match(creds["SecretAccessKey"])
    assert creds["SessionToken"] and creds["SessionToken"].isascii() and " " not in creds["SessionToken"]
    expires_in(creds, seconds)
    return creds


def test_scenario_create_user_and_assume_role(server, iam, s3, resource_for, client_for, account_id,
                                              cleanup_users, cleanup_roles, cleanup_policies, new_bucket):
    existing_bucket = new_bucket()
    iam_resource = resource_for("iam", server.root_key_id, server.root_secret)
    calls = []
    iam_resource.meta.client.meta.events.register(
        "after-call", lambda http_response, model, **_: calls.append((model.name, http_response.status_code)))

    # Set-up: a user with a key and no permissions.
    user = iam_resource.create_user(UserName=f"demo-user-{uuid4()}")
    cleanup_users.append(user.name)
    user_key = user.create_access_key_pair()
    assert expect.ACCESS_KEY_ID.match(user_key.id) and user_key.user_name == user.name

    # A role whose trust policy names the user, with a policy allowing s3:ListAllMyBuckets.
    role = iam_resource.create_role(RoleName=f"demo-role-{uuid4()}", AssumeRolePolicyDocument=trust(user.arn))
    cleanup_roles.append(role.name)
    assert role.arn == expect.role_arn(account_id, role.name)
    assert role.assume_role_policy_document == json.loads(trust(user.arn))
    policy = iam_resource.create_policy(PolicyName=f"demo-policy-{uuid4()}", PolicyDocument=document(LIST_BUCKETS))
    cleanup_policies.append(policy.arn)
    role.attach_policy(PolicyArn=policy.arn)
    assert [p.arn for p in role.attached_policies.all()] == [policy.arn]

    # The user's inline policy allowing sts:AssumeRole on the role.
    user_policy_name = f"demo-user-policy-{uuid4()}"
    user_policy = user.create_policy(PolicyName=user_policy_name,
                                     PolicyDocument=document(allow("sts:AssumeRole", role.arn)))
    assert user_policy.policy_name == user_policy_name
    assert [p.name for p in user.policies.all()] == [user_policy_name]

    # Without the role, listing buckets is refused.
    s3_denied = resource_for("s3", user_key.id, user_key.secret)
    with pytest.raises(ClientError) as denied:
        list(s3_denied.buckets.all())
    expect.check_s3_error(denied.value.response, **expect.s3_denied(user.arn, "s3:ListAllMyBuckets"))

    # AssumeRole: temporary credentials (ASIA key id, secret, session token, expiration).
    sts = client_for("sts", user_key.id, user_key.secret)
    answer = sts.assume_role(RoleArn=role.arn, RoleSessionName=SESSION)
    temp = check_assume_role(answer, account_id=account_id, session=SESSION,
                             role={"RoleId": role.role_id, "RoleName": role.name})

    # With them, ListBuckets lists the account's buckets.
    s3_role = resource_for("s3", temp["AccessKeyId"], temp["SecretAccessKey"], token=temp["SessionToken"])
    names = [bucket.name for bucket in s3_role.buckets.all()]
    assert existing_bucket in names
    assert names == [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # Teardown, the example's order.
    del calls[:]
    for attached in role.attached_policies.all():
        role.detach_policy(PolicyArn=attached.arn)
        attached.delete()
    role.delete()
    for user_pol in user.policies.all():
        user_pol.delete()
    for key in user.access_keys.all():
        key.delete()
    user.delete()
    assert calls == [
        ("ListAttachedRolePolicies", 200), ("DetachRolePolicy", 200), ("DeletePolicy", 200), ("DeleteRole", 200),
        ("ListUserPolicies", 200), ("DeleteUserPolicy", 200), ("ListAccessKeys", 200), ("DeleteAccessKey", 200),
        ("DeleteUser", 200),
    ]
    fails(iam.get_role, RoleName=role.name, **expect.no_such_role(role.name))
    fails(iam.get_policy, PolicyArn=policy.arn, **expect.no_such_policy(policy.arn))
    fails(iam.get_user, UserName=user.name, **expect.no_such_user(user.name))


# --- what the temporary credentials are -----------------------------------------------------------

@pytest.fixture
def assumable(iam, new_user, new_role):
    """assumable(role_statements, trust_principal=None) -> (user, key, role): a user with a
    key whose ARN the role's trust policy names (or `trust_principal`), the role with an
    inline policy of `role_statements`."""

    def make(*role_statements, trust_principal=None, **role_kwargs):
        user = new_user()
        key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
        role = new_role(trust=trust(trust_principal or user["Arn"]), **role_kwargs)
        if role_statements:
            iam.put_role_policy(RoleName=role["RoleName"], PolicyName="role-policy",
                                PolicyDocument=document(*role_statements))
        return user, key, role

    return make


def assume(client_for, key, role, session="session", **kwargs):
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    return ok(sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session, **kwargs))["Credentials"]


def with_session(client_for, service, creds, region="us-east-1"):
    return client_for(service, creds["AccessKeyId"], creds["SecretAccessKey"], region, token=creds["SessionToken"])


def test_get_caller_identity_with_temporary_credentials_is_the_assumed_role(client_for, account_id, assumable):
    _, key, role = assumable()
    creds = assume(client_for, key, role, session="who-am-i")
    for region in ("us-east-1", "eu-west-1"):
        assert ok(with_session(client_for, "sts", creds, region).get_caller_identity()) == {
            "UserId": f"{role['RoleId']}:who-am-i",
            "Account": account_id,
            "Arn": expect.assumed_role_arn(account_id, role["RoleName"], "who-am-i"),
        }


def test_user_named_in_the_trust_policy_needs_no_identity_policy(client_for, account_id, assumable):
    """STS AssumeRole documentation: adding the user as a principal directly in the role's
    trust policy is enough within the account."""
    user, key, role = assumable()
    answer = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
        RoleArn=role["Arn"], RoleSessionName="named")
    check_assume_role(answer, account_id=account_id, role=role, session="named")


def test_trust_in_the_account_needs_the_users_identity_policy(iam, client_for, account_id, assumable):
    """A trust policy naming the account delegates to it: the user also needs an identity
    policy allowing sts:AssumeRole; then the role may be assumed."""
    user, key, role = assumable(trust_principal=f"arn:aws:iam::{account_id}:root")
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    fails(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="delegated", code="AccessDenied", status=403,
          message=f"User: {user['Arn']} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}")
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume",
                        PolicyDocument=document(allow("sts:AssumeRole", role["Arn"])))
    check_assume_role(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="delegated"), account_id=account_id,
                      role=role, session="delegated")


def test_duration_seconds_sets_the_expiration(client_for, account_id, assumable):
    _, key, role = assumable(MaxSessionDuration=7200)
    for seconds in (900, 7200):
        answer = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role(
            RoleArn=role["Arn"], RoleSessionName="timed", DurationSeconds=seconds)
        check_assume_role(answer, account_id=account_id, role=role, session="timed", seconds=seconds)


def test_session_policy_narrows_the_roles_permissions(iam, client_for, account_id, assumable, new_bucket):
    bucket = new_bucket()
    _, key, role = assumable(allow(["s3:ListAllMyBuckets", "s3:ListBucket", "iam:GetRole"]))
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    answer = ok(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="narrow",
                                Policy=document(allow("s3:ListAllMyBuckets"))))
    # As AWS answers: PackedPolicySize, and not the model's newer SessionTokenUtilization.
    assert set(answer) == {"Credentials", "AssumedRoleUser", "PackedPolicySize"}
    assert 0 <= answer["PackedPolicySize"] <= 100
    creds = answer["Credentials"]
    session_arn = expect.assumed_role_arn(account_id, role["RoleName"], "narrow")

    assert bucket in [b["Name"] for b in expect.s3_ok(with_session(client_for, "s3", creds).list_buckets())["Buckets"]]
    expect.s3_fails(with_session(client_for, "s3", creds).list_objects_v2, Bucket=bucket,
                    **expect.s3_denied(session_arn, "s3:ListBucket", f"arn:aws:s3:::{bucket}",
                                       because="no session policy"))
    fails(with_session(client_for, "iam", creds).get_role, RoleName=role["RoleName"],
          **expect.iam_denied(session_arn, "GetRole", f"role {role['RoleName']}", because="no session policy"))
    # The same role without a session policy may do all three.
    plain = assume(client_for, key, role, session="plain")
    assert ok(with_session(client_for, "iam", plain).get_role(RoleName=role["RoleName"]))["Role"]["Arn"] == role["Arn"]
    expect.s3_ok(with_session(client_for, "s3", plain).list_objects_v2(Bucket=bucket))


def test_managed_session_policy_narrows_and_never_widens(iam, client_for, account_id, assumable, new_policy):
    _, key, role = assumable(allow(["iam:GetRole", "s3:ListAllMyBuckets"]))
    session_policy = new_policy(document=document(allow(["iam:GetRole", "iam:ListRoles"])))
    creds = assume(client_for, key, role, session="managed", PolicyArns=[{"arn": session_policy["Arn"]}])
    session_arn = expect.assumed_role_arn(account_id, role["RoleName"], "managed")
    session_iam = with_session(client_for, "iam", creds)
    assert ok(session_iam.get_role(RoleName=role["RoleName"]))["Role"]["RoleId"] == role["RoleId"]
    # The session policy allows iam:ListRoles, the role does not: still denied.
    fails(session_iam.list_roles, **expect.iam_denied(session_arn, "ListRoles",
                                                      f"arn:aws:iam::{account_id}:role/"))
    # The role allows s3:ListAllMyBuckets, the session policy does not.
    expect.s3_fails(with_session(client_for, "s3", creds).list_buckets,
                    **expect.s3_denied(session_arn, "s3:ListAllMyBuckets", because="no session policy"))


# --- session tokens ---------------------------------------------------------------------------------

def test_wrong_session_token_is_invalid_client_token_id_on_iam_and_sts(client_for, assumable):
    _, key, role = assumable(allow("iam:GetRole"))
    creds = dict(assume(client_for, key, role))
    wrong = dict(creds, SessionToken=creds["SessionToken"][:-8] + "AAAAAAA=")
    expect.invalid_token(fails(with_session(client_for, "sts", wrong).get_caller_identity,
                               code="InvalidClientTokenId", status=403))
    expect.invalid_token(fails(with_session(client_for, "iam", wrong).get_role, RoleName=role["RoleName"],
                               code="InvalidClientTokenId", status=403))
    # The right token still works.
    assert ok(with_session(client_for, "iam", creds).get_role(RoleName=role["RoleName"]))["Role"]["Arn"] == role["Arn"]


def test_wrong_session_token_is_invalid_token_on_s3(client_for, assumable):
    """S3 answers a session token it cannot accept with InvalidToken, HTTP 400, "The provided
    token is malformed or otherwise invalid." (S3 error code list)."""
    _, key, role = assumable(LIST_BUCKETS)
    creds = assume(client_for, key, role)
    wrong = dict(creds, SessionToken=creds["SessionToken"][:-8] + "AAAAAAA=")
    expect.s3_fails(with_session(client_for, "s3", wrong).list_buckets, **expect.S3_INVALID_TOKEN)
    expect.s3_ok(with_session(client_for, "s3", creds).list_buckets())


def test_temporary_key_without_its_session_token_is_invalid_client_token_id(client_for, assumable):
    _, key, role = assumable(allow("iam:GetRole"))
    creds = assume(client_for, key, role)
    no_token = client_for("iam", creds["AccessKeyId"], creds["SecretAccessKey"])
    expect.invalid_token(fails(no_token.get_role, RoleName=role["RoleName"], code="InvalidClientTokenId",
                               status=403))
    expect.invalid_token(fails(client_for("sts", creds["AccessKeyId"], creds["SecretAccessKey"]).get_caller_identity,
                               code="InvalidClientTokenId", status=403))


def test_long_term_key_with_a_session_token_is_refused(client_for, user_with_key):
    _, key = user_with_key()
    token = "FwoGZXIvYXdzEBogus" + "A" * 70
    for service in ("iam", "sts"):
        client = client_for(service, key["AccessKeyId"], key["SecretAccessKey"], token=token)
        call = client.get_user if service == "iam" else client.get_caller_identity
        expect.invalid_token(fails(call, code="InvalidClientTokenId", status=403))
    expect.s3_fails(client_for("s3", key["AccessKeyId"], key["SecretAccessKey"], token=token).list_buckets,
                    **expect.S3_INVALID_TOKEN)


# --- AssumeRole refused -------------------------------------------------------------------------------

def test_assume_role_by_an_untrusted_user_is_access_denied(iam, client_for, assumable, user_with_key):
    """An identity policy allowing sts:AssumeRole is not enough: the trust policy names
    someone else."""
    _, _, role = assumable()
    stranger, key = user_with_key()
    iam.put_user_policy(UserName=stranger["UserName"], PolicyName="assume-anything",
                        PolicyDocument=document(allow("sts:AssumeRole")))
    fails(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role,
          RoleArn=role["Arn"], RoleSessionName="intruder", code="AccessDenied", status=403,
          message=f"User: {stranger['Arn']} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}")


def test_assume_role_by_the_root_is_access_denied(sts, account_id, new_role):
    role = new_role(trust=trust(f"arn:aws:iam::{account_id}:root"))
    fails(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="root-session", code="AccessDenied", status=403,
          message="Roles may not be assumed by root accounts.")


def test_assume_role_longer_than_the_roles_max_session_duration_is_a_validation_error(client_for, assumable):
    _, key, role = assumable()
    fails(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role,
          RoleArn=role["Arn"], RoleSessionName="too-long", DurationSeconds=3601, code="ValidationError", status=400,
          message="The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")


def test_assume_role_of_a_missing_role_is_access_denied(client_for, account_id, user_with_key, iam, unique_name):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume-anything",
                        PolicyDocument=document(allow("sts:AssumeRole")))
    missing = expect.role_arn(account_id, unique_name("missing"))
    fails(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).assume_role,
          RoleArn=missing, RoleSessionName="ghost", code="AccessDenied", status=403,
          message=f"User: {user['Arn']} is not authorized to perform: sts:AssumeRole on resource: {missing}")


def test_role_chaining_is_limited_to_one_hour(client_for, account_id, assumable, new_role):
    _, key, first = assumable(allow("sts:AssumeRole"))
    second = new_role(trust=trust(first["Arn"]), MaxSessionDuration=7200)
    creds = assume(client_for, key, first, session="first")
    chained_sts = with_session(client_for, "sts", creds)
    fails(chained_sts.assume_role, RoleArn=second["Arn"], RoleSessionName="second", DurationSeconds=7200,
          code="ValidationError", status=400,
          message="The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    answer = chained_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="second")
    chained = check_assume_role(answer, account_id=account_id, role=second, session="second")
    assert ok(with_session(client_for, "sts", chained).get_caller_identity())["Arn"] == expect.assumed_role_arn(
        account_id, second["RoleName"], "second")
