"""Authorization of IAM users. Users have no policies yet (policies arrive later), so every
IAM action of an IAM user is implicitly denied; sts:GetCallerIdentity needs no permission.

The messages are AWS's: for actions on an existing user AWS names the resource
`user NAME`; for CreateUser the new user's ARN; for ListUsers the user ARN prefix
`arn:aws:iam::ACCT:user/` (real AccessDenied messages quoted in public issue trackers)."""

import pytest

import expect
from expect import fails, ok


def denied(caller_arn, action, resource):
    return dict(
        code="AccessDenied",
        status=403,
        message=(
            f"User: {caller_arn} is not authorized to perform: iam:{action} on resource: {resource} "
            f"because no identity-based policy allows the iam:{action} action"
        ),
    )


@pytest.fixture
def caller(iam, client_for, account_id, user_with_key, unique_path):
    """An IAM user (under a path) with one key and no policies: (user, its IAM client, its ARN)."""
    user, key = user_with_key(path=unique_path())
    client = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    return user, client, expect.user_arn(account_id, user["UserName"], user["Path"])


def test_user_is_denied_create_user_on_the_new_users_arn(iam, caller, account_id, unique_name):
    _, client, arn = caller
    name = unique_name("victim")
    fails(client.create_user, UserName=name, **denied(arn, "CreateUser", expect.user_arn(account_id, name)))
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


def test_user_is_denied_create_user_under_a_path_on_the_full_arn(caller, account_id, unique_name, unique_path):
    _, client, arn = caller
    name, path = unique_name("victim"), unique_path()
    fails(
        client.create_user,
        UserName=name,
        Path=path,
        **denied(arn, "CreateUser", expect.user_arn(account_id, name, path)),
    )


def test_user_is_denied_get_user_of_another_user_named_as_user_name(caller, new_user):
    _, client, arn = caller
    other = new_user()["UserName"]
    fails(client.get_user, UserName=other, **denied(arn, "GetUser", f"user {other}"))


def test_user_is_denied_list_users_on_the_user_arn_prefix(caller, account_id):
    _, client, arn = caller
    fails(client.list_users, **denied(arn, "ListUsers", f"arn:aws:iam::{account_id}:user/"))


def test_user_is_denied_list_access_keys_of_another_user_named_as_user_name(caller, new_user):
    _, client, arn = caller
    other = new_user()["UserName"]
    fails(client.list_access_keys, UserName=other, **denied(arn, "ListAccessKeys", f"user {other}"))


def test_user_is_denied_create_access_key_for_another_user_and_none_is_created(iam, caller, new_user):
    _, client, arn = caller
    other = new_user()["UserName"]
    fails(client.create_access_key, UserName=other, **denied(arn, "CreateAccessKey", f"user {other}"))
    assert ok(iam.list_access_keys(UserName=other))["AccessKeyMetadata"] == []


def test_user_is_denied_every_implemented_iam_action(caller, new_user):
    """Whatever the resource wording, each action is refused with AccessDenied naming the
    caller and the action, and changes nothing."""
    user, client, arn = caller
    other = new_user()["UserName"]
    calls = {
        "GetUser": lambda: client.get_user(),
        "ListUsers": lambda: client.list_users(),
        "CreateUser": lambda: client.create_user(UserName=other + "-x"),
        "UpdateUser": lambda: client.update_user(UserName=other, NewPath="/moved/"),
        "DeleteUser": lambda: client.delete_user(UserName=other),
        "CreateAccessKey": lambda: client.create_access_key(),
        "ListAccessKeys": lambda: client.list_access_keys(),
        "UpdateAccessKey": lambda: client.update_access_key(AccessKeyId="AKIA" + "D" * 16, Status="Inactive"),
        "DeleteAccessKey": lambda: client.delete_access_key(AccessKeyId="AKIA" + "D" * 16),
        "GetAccessKeyLastUsed": lambda: client.get_access_key_last_used(AccessKeyId="AKIA" + "D" * 16),
    }
    for action, call in calls.items():
        message = fails(call, code="AccessDenied", status=403)
        assert message.startswith(f"User: {arn} is not authorized to perform: iam:{action} on resource: "), message
        assert message.endswith(f" because no identity-based policy allows the iam:{action} action"), message


def test_denied_update_user_changes_nothing(iam, caller, account_id, new_user):
    _, client, _ = caller
    other = new_user()
    fails(client.update_user, UserName=other["UserName"], NewPath="/moved/", code="AccessDenied", status=403)
    expect.check_user(ok(iam.get_user(UserName=other["UserName"]))["User"], account_id=account_id,
                      name=other["UserName"], user_id=other["UserId"], created=other["CreateDate"])


def test_denied_delete_user_changes_nothing(iam, caller, new_user):
    _, client, _ = caller
    other = new_user()
    fails(client.delete_user, UserName=other["UserName"], code="AccessDenied", status=403)
    assert ok(iam.get_user(UserName=other["UserName"]))["User"]["UserId"] == other["UserId"]
