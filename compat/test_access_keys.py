"""IAM access keys: CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey,
GetAccessKeyLastUsed, the quota of 2 keys per user, and what a key can sign."""

import threading

from botocore.exceptions import ClientError

import expect
from expect import check_key_metadata, check_new_key, empty_ok, fails, ok

QUOTA_MESSAGE = "Cannot exceed quota for AccessKeysPerUser: 2"


def _caller_arn(client_for, key, region="us-east-1"):
    return ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region).get_caller_identity())["Arn"]


# --- CreateAccessKey -------------------------------------------------------------------------


def test_create_access_key_returns_every_field(iam, new_user):
    name = new_user()["UserName"]
    body = ok(iam.create_access_key(UserName=name))
    assert set(body) == {"AccessKey"}
    check_new_key(body["AccessKey"], user_name=name)


def test_new_access_keys_are_distinct(iam, new_user):
    name = new_user()["UserName"]
    first = iam.create_access_key(UserName=name)["AccessKey"]
    second = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["SecretAccessKey"] != second["SecretAccessKey"]


def test_create_access_key_for_a_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.create_access_key, UserName=name, **expect.no_such_user(name))


def test_new_access_key_signs_requests_as_its_user(iam, account_id, client_for, user_with_key, unique_path):
    user, key = user_with_key(path=unique_path())
    assert _caller_arn(client_for, key) == expect.user_arn(account_id, user["UserName"], user["Path"])


def test_third_access_key_is_limit_exceeded(iam, new_user):
    name = new_user()["UserName"]
    iam.create_access_key(UserName=name)
    iam.create_access_key(UserName=name)
    fails(iam.create_access_key, UserName=name, code="LimitExceeded", status=409, message=QUOTA_MESSAGE)
    assert len(ok(iam.list_access_keys(UserName=name))["AccessKeyMetadata"]) == 2


def test_inactive_keys_count_toward_the_quota(iam, new_user):
    name = new_user()["UserName"]
    for _ in range(2):
        key = iam.create_access_key(UserName=name)["AccessKey"]
        iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")
    fails(iam.create_access_key, UserName=name, code="LimitExceeded", status=409, message=QUOTA_MESSAGE)


def test_deleting_a_key_frees_a_place_in_the_quota(iam, new_user):
    name = new_user()["UserName"]
    first = iam.create_access_key(UserName=name)["AccessKey"]
    iam.create_access_key(UserName=name)
    empty_ok(iam.delete_access_key(UserName=name, AccessKeyId=first["AccessKeyId"]))
    check_new_key(ok(iam.create_access_key(UserName=name))["AccessKey"], user_name=name)


def test_parallel_create_access_key_creates_exactly_two(iam, new_user):
    name = new_user()["UserName"]
    attempts = 10
    barrier = threading.Barrier(attempts)
    results = [None] * attempts

    def create(i):
        barrier.wait()
        try:
            results[i] = ("ok", iam.create_access_key(UserName=name)["AccessKey"])
        except ClientError as e:
            results[i] = ("error", e.response)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    created = [r[1] for r in results if r[0] == "ok"]
    refused = [r[1] for r in results if r[0] == "error"]
    assert len(created) == 2, results
    assert len(refused) == attempts - 2
    for response in refused:
        expect.check_error(response, code="LimitExceeded", status=409, message=QUOTA_MESSAGE)
    listed = ok(iam.list_access_keys(UserName=name))["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted(k["AccessKeyId"] for k in created)


# --- ListAccessKeys --------------------------------------------------------------------------


def test_list_access_keys_returns_metadata_without_secrets(iam, new_user):
    name = new_user()["UserName"]
    keys = [iam.create_access_key(UserName=name)["AccessKey"] for _ in range(2)]
    body = ok(iam.list_access_keys(UserName=name))
    assert set(body) == {"AccessKeyMetadata", "IsTruncated"}
    assert body["IsTruncated"] is False
    listed = {k["AccessKeyId"]: k for k in body["AccessKeyMetadata"]}
    assert len(body["AccessKeyMetadata"]) == 2
    assert set(listed) == {k["AccessKeyId"] for k in keys}
    for key in keys:
        check_key_metadata(listed[key["AccessKeyId"]], user_name=name, key_id=key["AccessKeyId"],
                           created=key["CreateDate"])


def test_list_access_keys_of_a_user_without_keys_is_empty(iam, new_user):
    name = new_user()["UserName"]
    assert ok(iam.list_access_keys(UserName=name)) == {"AccessKeyMetadata": [], "IsTruncated": False}


def test_list_access_keys_pages_with_max_items(iam, new_user):
    name = new_user()["UserName"]
    ids = {iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"] for _ in range(2)}
    first = ok(iam.list_access_keys(UserName=name, MaxItems=1))
    assert first["IsTruncated"] is True
    assert len(first["AccessKeyMetadata"]) == 1
    assert isinstance(first["Marker"], str) and first["Marker"]
    second = ok(iam.list_access_keys(UserName=name, MaxItems=1, Marker=first["Marker"]))
    assert set(second) == {"AccessKeyMetadata", "IsTruncated"}
    assert second["IsTruncated"] is False
    assert len(second["AccessKeyMetadata"]) == 1
    assert {first["AccessKeyMetadata"][0]["AccessKeyId"], second["AccessKeyMetadata"][0]["AccessKeyId"]} == ids


def test_list_access_keys_of_a_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.list_access_keys, UserName=name, **expect.no_such_user(name))


def test_list_access_keys_finds_the_user_by_any_case_of_its_name(iam, new_user, unique_name):
    name = new_user(name=unique_name("CamelCase"))["UserName"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    listed = ok(iam.list_access_keys(UserName=name.upper()))["AccessKeyMetadata"]
    assert len(listed) == 1
    check_key_metadata(listed[0], user_name=name, key_id=key["AccessKeyId"], created=key["CreateDate"])


# --- UpdateAccessKey -------------------------------------------------------------------------


def test_update_access_key_to_inactive_and_back(iam, user_with_key):
    user, key = user_with_key()
    name, key_id = user["UserName"], key["AccessKeyId"]
    empty_ok(iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Inactive"))
    [listed] = ok(iam.list_access_keys(UserName=name))["AccessKeyMetadata"]
    check_key_metadata(listed, user_name=name, key_id=key_id, status="Inactive", created=key["CreateDate"])
    empty_ok(iam.update_access_key(UserName=name, AccessKeyId=key_id, Status="Active"))
    [listed] = ok(iam.list_access_keys(UserName=name))["AccessKeyMetadata"]
    check_key_metadata(listed, user_name=name, key_id=key_id, status="Active", created=key["CreateDate"])


def test_inactive_key_cannot_sign_and_works_again_once_reactivated(iam, account_id, client_for, user_with_key):
    user, key = user_with_key()
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    assert ok(sts.get_caller_identity())["Arn"] == expect.user_arn(account_id, user["UserName"])
    iam.update_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"], Status="Inactive")
    expect.invalid_token(fails(sts.get_caller_identity, code="InvalidClientTokenId", status=403))
    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    expect.invalid_token(fails(user_iam.get_user, code="InvalidClientTokenId", status=403))
    iam.update_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"], Status="Active")
    assert ok(sts.get_caller_identity())["Arn"] == expect.user_arn(account_id, user["UserName"])


def test_update_access_key_with_an_unknown_status_is_a_validation_error(iam, user_with_key):
    user, key = user_with_key()
    fails(
        iam.update_access_key,
        UserName=user["UserName"],
        AccessKeyId=key["AccessKeyId"],
        Status="Disabled",
        **expect.validation_error(
            "Disabled", "status", "Member must satisfy enum value set: [Active, Inactive, Expired]"
        ),
    )


def test_update_missing_access_key_is_no_such_entity(iam, new_user):
    name = new_user()["UserName"]
    missing = "AKIA" + "A" * 16
    fails(iam.update_access_key, UserName=name, AccessKeyId=missing, Status="Inactive", **expect.no_such_key(missing))


def test_access_key_of_another_user_is_not_found_under_this_user(iam, new_user, user_with_key):
    owner, key = user_with_key()
    other = new_user()["UserName"]
    key_id = key["AccessKeyId"]
    fails(iam.update_access_key, UserName=other, AccessKeyId=key_id, Status="Inactive", **expect.no_such_key(key_id))
    fails(iam.delete_access_key, UserName=other, AccessKeyId=key_id, **expect.no_such_key(key_id))
    [listed] = ok(iam.list_access_keys(UserName=owner["UserName"]))["AccessKeyMetadata"]
    assert listed["Status"] == "Active"


# --- DeleteAccessKey -------------------------------------------------------------------------


def test_delete_access_key_removes_it(iam, user_with_key):
    user, key = user_with_key()
    empty_ok(iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"]))
    assert ok(iam.list_access_keys(UserName=user["UserName"]))["AccessKeyMetadata"] == []
    fails(
        iam.get_access_key_last_used,
        AccessKeyId=key["AccessKeyId"],
        **expect.no_such_key(key["AccessKeyId"]),
    )


def test_deleted_key_cannot_sign(iam, client_for, user_with_key):
    user, key = user_with_key()
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    ok(sts.get_caller_identity())
    iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"])
    expect.invalid_token(fails(sts.get_caller_identity, code="InvalidClientTokenId", status=403))


def test_delete_missing_access_key_is_no_such_entity(iam, new_user):
    name = new_user()["UserName"]
    missing = "AKIA" + "B" * 16
    fails(iam.delete_access_key, UserName=name, AccessKeyId=missing, **expect.no_such_key(missing))


# --- GetAccessKeyLastUsed --------------------------------------------------------------------


def test_last_used_of_a_never_used_key_is_not_applicable(iam, user_with_key):
    user, key = user_with_key()
    body = ok(iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]))
    assert body == {
        "UserName": user["UserName"],
        "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"},
    }


def test_last_used_reflects_a_call_signed_in_eu_west_1(iam, client_for, user_with_key):
    user, key = user_with_key()
    ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-1").get_caller_identity())
    body = ok(iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]))
    assert set(body) == {"UserName", "AccessKeyLastUsed"}
    assert body["UserName"] == user["UserName"]
    last = body["AccessKeyLastUsed"]
    assert set(last) == {"LastUsedDate", "ServiceName", "Region"}
    assert last["ServiceName"] == "sts"
    assert last["Region"] == "eu-west-1"
    expect.recent(last["LastUsedDate"])


def test_last_used_follows_the_latest_call(iam, client_for, user_with_key):
    user, key = user_with_key()
    ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-1").get_caller_identity())
    ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="ap-southeast-2").get_caller_identity())
    last = ok(iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]))["AccessKeyLastUsed"]
    assert (last["ServiceName"], last["Region"]) == ("sts", "ap-southeast-2")


def test_last_used_is_not_touched_by_a_badly_signed_request(iam, client_for, user_with_key):
    user, key = user_with_key()
    forged = client_for("sts", key["AccessKeyId"], "x" * 40)
    fails(forged.get_caller_identity, code="SignatureDoesNotMatch", status=403)
    body = ok(iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]))
    assert body["AccessKeyLastUsed"] == {"ServiceName": "N/A", "Region": "N/A"}


def test_last_used_of_the_root_key_names_iam_and_the_signing_region(server, client_for):
    eu_iam = client_for("iam", server.root_key_id, server.root_secret, region="eu-central-1")
    ok(eu_iam.get_user())
    body = ok(eu_iam.get_access_key_last_used(AccessKeyId=server.root_key_id))
    last = body["AccessKeyLastUsed"]
    assert set(last) == {"LastUsedDate", "ServiceName", "Region"}
    assert (last["ServiceName"], last["Region"]) == ("iam", "eu-central-1")
    expect.recent(last["LastUsedDate"])


def test_last_used_keeps_the_user_name_current_after_a_rename(iam, user_with_key, unique_name, cleanup_users):
    user, key = user_with_key()
    new_name = unique_name("renamed")
    cleanup_users.append(new_name)
    iam.update_user(UserName=user["UserName"], NewUserName=new_name)
    assert ok(iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]))["UserName"] == new_name


def test_last_used_of_an_unknown_key_is_no_such_entity(iam):
    missing = "AKIA" + "C" * 16
    fails(iam.get_access_key_last_used, AccessKeyId=missing, **expect.no_such_key(missing))
