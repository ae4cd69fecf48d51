"""Scenario 2, "Manage access keys", run the way the seed's demo runs it: with boto3
resources (iam.CurrentUser(), iam.User(name).access_keys, create_access_key_pair(),
AccessKey.deactivate()/delete()) and the client's GetAccessKeyLastUsed.

The demo's caller is an IAM user managing its own keys. IAM users have no policies yet, so
a user cannot call IAM on itself today (that part is asserted to be AccessDenied); the demo
runs (1) as the account root on the root's own keys and (2) as the root on behalf of a user
whose existing key has just signed a call (sts:GetCallerIdentity, which needs no permission).
"""

import boto3
import pytest
from botocore.exceptions import ClientError

import expect
from expect import NO_RETRY, ok


def _keys(collection):
    return {key.id: key.status for key in collection.all()}


def test_scenario_manage_access_keys_of_a_user(iam_resource, iam, client_for, account_id, user_with_key):
    user, existing = user_with_key()
    name = user["UserName"]
    # The user's existing key signs requests (the demo's own calls would do this).
    ok(client_for("sts", existing["AccessKeyId"], existing["SecretAccessKey"], "us-west-2").get_caller_identity())

    # 1. The user resource loads lazily with GetUser.
    demo_user = iam_resource.User(name)
    assert demo_user.user_id == user["UserId"]
    assert demo_user.arn == expect.user_arn(account_id, name)
    assert demo_user.path == "/"
    expect.recent(demo_user.create_date)

    # 2. List the keys: one, so the limit is not reached.
    all_keys = list(demo_user.access_keys.all())
    assert [(k.id, k.status, k.user_name) for k in all_keys] == [(existing["AccessKeyId"], "Active", name)]

    # 3. Create a key pair: id and secret are shown once; list again.
    new_key = iam_resource.User(name).create_access_key_pair()
    assert new_key.user_name == name
    assert expect.ACCESS_KEY_ID.match(new_key.id)
    assert expect.SECRET_ACCESS_KEY.match(new_key.secret)
    assert new_key.status == "Active"
    expect.recent(new_key.create_date)
    assert _keys(demo_user.access_keys) == {existing["AccessKeyId"]: "Active", new_key.id: "Active"}
    # With two keys, the demo would stop: the quota is reached.
    assert len(list(demo_user.access_keys.all())) == 2

    # 4. Last use of the existing key: real values, since it just signed a call.
    existing_key = next(k for k in all_keys if k.id != new_key.id)
    last_use = iam_resource.meta.client.get_access_key_last_used(AccessKeyId=existing_key.id)
    assert last_use["UserName"] == name
    assert last_use["AccessKeyLastUsed"]["ServiceName"] == "sts"
    assert last_use["AccessKeyLastUsed"]["Region"] == "us-west-2"
    expect.recent(last_use["AccessKeyLastUsed"]["LastUsedDate"])
    # The new key was never used.
    never = iam.get_access_key_last_used(AccessKeyId=new_key.id)["AccessKeyLastUsed"]
    assert never == {"ServiceName": "N/A", "Region": "N/A"}

    # 5. Deactivate the new key; list; delete it; list.
    iam_resource.User(name).AccessKey(new_key.id).deactivate()
    assert _keys(demo_user.access_keys) == {existing["AccessKeyId"]: "Active", new_key.id: "Inactive"}
    iam_resource.AccessKey(name, new_key.id).delete()
    assert _keys(demo_user.access_keys) == {existing["AccessKeyId"]: "Active"}

    # The deactivate/activate pair also works the other way round.
    iam_resource.User(name).AccessKey(existing["AccessKeyId"]).deactivate()
    iam_resource.User(name).AccessKey(existing["AccessKeyId"]).activate()
    assert _keys(demo_user.access_keys) == {existing["AccessKeyId"]: "Active"}


def test_scenario_manage_access_keys_of_the_account_root(server, iam_resource, account_id):
    """The demo as the account root: CurrentUser is the root, its keys are the root's keys.
    The root's user name is empty, so the key calls go without UserName (the caller)."""
    client = iam_resource.meta.client

    # 1. CurrentUser: GetUser without UserName returns the caller.
    current = iam_resource.CurrentUser()
    assert current.user_name == ""
    assert current.user_id == account_id
    assert current.arn == f"arn:aws:iam::{account_id}:root"

    # 2. List the root's keys: just the one the server was started with.
    all_keys = list(current.access_keys.all())
    assert [(k.id, k.status) for k in all_keys] == [(server.root_key_id, "Active")]

    # 3. Create a key (for the caller, the root).
    new = client.create_access_key()["AccessKey"]
    try:
        assert expect.ACCESS_KEY_ID.match(new["AccessKeyId"])
        assert expect.SECRET_ACCESS_KEY.match(new["SecretAccessKey"])
        assert new["Status"] == "Active"
        expect.recent(new["CreateDate"])
        assert _keys(current.access_keys) == {server.root_key_id: "Active", new["AccessKeyId"]: "Active"}

        # A third root key is over the quota too.
        expect.fails(client.create_access_key, code="LimitExceeded", status=409,
                     message="Cannot exceed quota for AccessKeysPerUser: 2")

        # 4. Last use of the existing key: it signed every call above, in us-east-1, to IAM.
        last = client.get_access_key_last_used(AccessKeyId=server.root_key_id)["AccessKeyLastUsed"]
        assert (last["ServiceName"], last["Region"]) == ("iam", "us-east-1")
        expect.recent(last["LastUsedDate"])

        # 5. Deactivate the new key; list; delete it; list.
        ok(client.update_access_key(AccessKeyId=new["AccessKeyId"], Status="Inactive"))
        assert _keys(current.access_keys) == {server.root_key_id: "Active", new["AccessKeyId"]: "Inactive"}
        ok(client.delete_access_key(AccessKeyId=new["AccessKeyId"]))
        assert _keys(current.access_keys) == {server.root_key_id: "Active"}
    finally:
        for key in client.list_access_keys()["AccessKeyMetadata"]:
            if key["AccessKeyId"] != server.root_key_id:
                client.delete_access_key(AccessKeyId=key["AccessKeyId"])


def test_scenario_as_an_iam_user_stops_at_current_user_until_policies_exist(server, account_id, user_with_key):
    user, key = user_with_key()
    resource = boto3.session.Session().resource(
        "iam",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=NO_RETRY,
    )
    with pytest.raises(ClientError) as info:
        resource.CurrentUser().load()
    message = expect.check_error(info.value.response, code="AccessDenied", status=403)
    assert message.startswith(
        f"User: {expect.user_arn(account_id, user['UserName'])} is not authorized to perform: iam:GetUser"
    )
