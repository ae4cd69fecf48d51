"""Scenario 1, "Users with different permissions", run the way the seed's user demo
(iam_basics/user_wrapper.py, usage_demo) runs it: boto3 resources throughout
(s3.create_bucket with the client's region as LocationConstraint, iam.create_user,
User.update(NewUserName=...), iam.users.all() searched by user_id, iam.create_policy with a
Description, User.attach_policy, User.create_access_key_pair(), an S3 resource per user key,
Bucket.put_object, Object.get, Object.delete, AccessKey.delete, User.detach_policy,
Policy.delete, User.delete, Bucket.objects.delete() (ListObjects + DeleteObjects),
Bucket.delete()).

The demo retries on InvalidAccessKeyId because real IAM is eventually consistent; oxiam is
read-your-writes consistent (docs/differences.md), so each new key must work on its very
first request. Every client of the scenario is watched: each call's answer (botocore's
after-call event, fired for errors too) and each retry decision (needs-retry) is recorded,
with clients allowed to retry as boto3's defaults do, and the test asserts that no call
was ever retried and that no InvalidAccessKeyId was ever answered."""

import functools
import json
import time

import pytest
from botocore.exceptions import ClientError

import expect
from expect import fails, ok

REGION = "eu-west-1"
BODY = b"AWS IAM demo object content!"
WRITE_DESCRIPTION = "Grants rights to create an object in the demo bucket."
READ_DESCRIPTION = "Grants rights to get an object from the demo bucket."
# boto3's own default: legacy retries, up to 5 attempts. A retry would be possible (and seen).
BOTO3_DEFAULT_RETRIES = {"mode": "legacy", "total_max_attempts": 5}


def demo_policy_document(action, bucket):
    """The single-statement document the demo's policy_wrapper.create_policy builds."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }


class CallLog:
    """What the watched clients sent and got: (label, operation, HTTP status, error code,
    RetryAttempts) per call, and the attempt number of every needs-retry decision."""

    def __init__(self):
        self.calls = []
        self.attempts = []

    def watch(self, label, resource):
        events = resource.meta.client.meta.events
        events.register("after-call", functools.partial(self._after_call, label))
        events.register("needs-retry", self._needs_retry)
        return resource

    def _after_call(self, label, http_response, parsed, model, **_):
        meta = parsed.get("ResponseMetadata", {})
        code = parsed.get("Error", {}).get("Code")
        self.calls.append((label, model.name, http_response.status_code, code, meta.get("RetryAttempts")))

    def _needs_retry(self, attempts, **_):
        self.attempts.append(attempts)

    def of(self, label):
        return [(op, status, code) for (lbl, op, status, code, _) in self.calls if lbl == label]


@pytest.fixture
def demo(server, resource_for):
    """The demo's admin resources (the account root, region eu-west-1), and a factory of
    user S3 resources, all watched by one CallLog."""
    log = CallLog()
    root = (server.root_key_id, server.root_secret)
    iam = log.watch("admin-iam", resource_for("iam", *root, REGION, retries=BOTO3_DEFAULT_RETRIES))
    s3 = log.watch("admin-s3", resource_for("s3", *root, REGION, retries=BOTO3_DEFAULT_RETRIES))

    def user_s3(label, key_pair):
        return log.watch(label, resource_for("s3", key_pair.id, key_pair.secret, REGION,
                                             retries=BOTO3_DEFAULT_RETRIES))

    return log, iam, s3, user_s3


def test_scenario_users_with_different_permissions(demo, iam, s3, client_for, account_id, cleanup_users,
                                                   cleanup_policies, cleanup_buckets):
    log, iam_res, s3_res, user_s3 = demo

    # 1. A bucket in the client's region.
    bucket = s3_res.create_bucket(
        Bucket=f"demo-iam-bucket-{time.time_ns()}",
        CreateBucketConfiguration={"LocationConstraint": s3_res.meta.client.meta.region_name},
    )
    cleanup_buckets.append(bucket.name)
    assert s3_res.meta.client.meta.region_name == REGION
    assert expect.s3_ok(s3_res.meta.client.get_bucket_location(Bucket=bucket.name)) == {"LocationConstraint": REGION}
    assert expect.s3_ok(s3_res.meta.client.head_bucket(Bucket=bucket.name)) == {"BucketRegion": REGION}
    listed = {b["Name"]: b for b in expect.s3_ok(s3.list_buckets())["Buckets"]}
    assert listed[bucket.name]["BucketRegion"] == REGION

    # 2. Two users, renamed; ListUsers finds them again by UserId.
    cleanup_users.extend(["demo-iam-writer", "demo-iam-reader", "demo-iam-creator", "demo-iam-getter"])
    writer = iam_res.create_user(UserName="demo-iam-writer")
    reader = iam_res.create_user(UserName="demo-iam-reader")
    assert (writer.name, reader.name) == ("demo-iam-writer", "demo-iam-reader")
    assert expect.USER_ID.match(writer.user_id) and expect.USER_ID.match(reader.user_id)
    assert writer.user_id != reader.user_id
    iam_res.User(writer.name).update(NewUserName="demo-iam-creator")
    iam_res.User(reader.name).update(NewUserName="demo-iam-getter")
    users = list(iam_res.users.all())
    writer = next(user for user in users if user.user_id == writer.user_id)
    reader = next(user for user in users if user.user_id == reader.user_id)
    assert (writer.name, reader.name) == ("demo-iam-creator", "demo-iam-getter")
    for user in (writer, reader):
        assert user.arn == expect.user_arn(account_id, user.name)
        assert user.path == "/"
        expect.recent(user.create_date)
    for old in ("demo-iam-writer", "demo-iam-reader"):
        fails(iam.get_user, UserName=old, **expect.no_such_user(old))

    # 3. The write and read policies, each with a Description.
    policies = {}
    for name, description, action in (
        ("demo-iam-write-policy", WRITE_DESCRIPTION, "s3:PutObject"),
        ("demo-iam-read-policy", READ_DESCRIPTION, "s3:GetObject"),
    ):
        cleanup_policies.append(expect.policy_arn(account_id, name))
        policy = iam_res.create_policy(
            PolicyName=name,
            Description=description,
            PolicyDocument=json.dumps(demo_policy_document(action, bucket.name)),
        )
        assert policy.arn == expect.policy_arn(account_id, name)
        assert policy.policy_name == name
        assert policy.description == description
        assert policy.default_version_id == "v1"
        assert policy.attachment_count == 0
        assert policy.default_version.document == demo_policy_document(action, bucket.name)
        policies[action] = policy
    write_policy, read_policy = policies["s3:PutObject"], policies["s3:GetObject"]

    # 4. Write policy to the creator, read policy to the getter.
    iam_res.User(writer.name).attach_policy(PolicyArn=write_policy.arn)
    iam_res.User(reader.name).attach_policy(PolicyArn=read_policy.arn)
    assert [p.arn for p in iam_res.User(writer.name).attached_policies.all()] == [write_policy.arn]
    assert [p.arn for p in iam_res.User(reader.name).attached_policies.all()] == [read_policy.arn]

    # 5. A key pair for each user.
    writer_key = iam_res.User(writer.name).create_access_key_pair()
    reader_key = iam_res.User(reader.name).create_access_key_pair()
    for key, user in ((writer_key, writer), (reader_key, reader)):
        assert key.user_name == user.name
        assert expect.ACCESS_KEY_ID.match(key.id)
        assert expect.SECRET_ACCESS_KEY.match(key.secret)
        assert key.status == "Active"

    # 6. The creator puts the object on the key's very first request, and may not get it.
    s3_writer = user_s3("writer", writer_key)
    demo_object_key = f"object-{time.time_ns()}"
    demo_object = s3_writer.Bucket(bucket.name).put_object(Key=demo_object_key, Body=BODY)
    assert (demo_object.bucket_name, demo_object.key) == (bucket.name, demo_object_key)
    object_arn = f"arn:aws:s3:::{bucket.name}/{demo_object_key}"
    with pytest.raises(ClientError) as denied:
        s3_writer.Bucket(bucket.name).Object(demo_object_key).get()
    expect.check_s3_error(denied.value.response,
                          **expect.s3_denied(writer.arn, "s3:GetObject", object_arn))

    # The getter gets the bytes that were put (its key's first request), and may not delete.
    s3_reader = user_s3("reader", reader_key)
    demo_object = s3_reader.Bucket(bucket.name).Object(demo_object_key)
    got = demo_object.get()
    assert got["Body"].read() == BODY
    assert got["ContentLength"] == len(BODY)
    with pytest.raises(ClientError) as denied:
        demo_object.delete()
    expect.check_s3_error(denied.value.response,
                          **expect.s3_denied(reader.arn, "s3:DeleteObject", object_arn))
    # The refused delete removed nothing.
    assert [o["Key"] for o in expect.s3_ok(s3.list_objects_v2(Bucket=bucket.name))["Contents"]] == [demo_object_key]

    # 7. Clean-up, the demo's order: the getter, then the creator.
    for user, key, policy in ((reader, reader_key, read_policy), (writer, writer_key, write_policy)):
        iam_res.AccessKey(user.name, key.id).delete()
        iam_res.User(user.name).detach_policy(PolicyArn=policy.arn)
        iam_res.Policy(policy.arn).delete()
        iam_res.User(user.name).delete()
        # A deleted key stops working at once.
        expect.s3_fails(client_for("s3", key.id, key.secret, REGION).list_objects_v2,
                        **expect.S3_INVALID_ACCESS_KEY_ID, Bucket=bucket.name)
        fails(iam.get_user, UserName=user.name, **expect.no_such_user(user.name))
        fails(iam.get_policy, PolicyArn=policy.arn, **expect.no_such_policy(policy.arn))
    deleted = bucket.objects.delete()
    assert [expect.s3_ok(r) for r in deleted] == [{"Deleted": [{"Key": demo_object_key}]}]
    bucket.delete()
    assert bucket.name not in [b["Name"] for b in expect.s3_ok(s3.list_buckets())["Buckets"]]
    expect.s3_fails(s3.head_bucket, code="404", status=404, message="Not Found", Bucket=bucket.name)

    # No call was retried, none was refused for an unknown key, and the keys' first
    # requests were the ones that succeeded.
    assert log.attempts and set(log.attempts) == {1}
    assert all(retries == 0 for *_, retries in log.calls), log.calls
    assert not [c for c in log.calls if c[3] == "InvalidAccessKeyId"], log.calls
    assert log.of("writer") == [("PutObject", 200, None), ("GetObject", 403, "AccessDenied")]
    assert log.of("reader") == [("GetObject", 200, None), ("DeleteObject", 403, "AccessDenied")]
    assert [op for op, *_ in log.of("admin-s3")] == [
        "CreateBucket", "GetBucketLocation", "HeadBucket", "ListObjects", "DeleteObjects", "DeleteBucket",
    ]
    assert all(status == 200 or (op, status) == ("DeleteBucket", 204) for op, status, _ in log.of("admin-s3"))
    assert all(code is None for _, _, code in log.of("admin-iam")), log.of("admin-iam")


def test_new_keys_work_on_their_first_s3_request_in_every_region(iam, s3, client_for, account_id, new_user,
                                                                  new_bucket):
    """No propagation delay: CreateAccessKey, then at once a PutObject signed with the key,
    whatever region the client signs for."""
    bucket = new_bucket()
    user = new_user()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="put", PolicyDocument=json.dumps(
        demo_policy_document("s3:PutObject", bucket)))
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        key = ok(iam.create_access_key(UserName=user["UserName"]))["AccessKey"]
        put = client_for("s3", key["AccessKeyId"], key["SecretAccessKey"], region).put_object(
            Bucket=bucket, Key=region, Body=BODY)
        assert expect.s3_ok(put)["ETag"] == '"7a15b2cecd267c15d079a0d54b06c98a"'
        iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "ap-southeast-2", "eu-west-1", "us-east-1"]


def _reader_of_one_object(iam, s3, client_for, new_user, new_bucket):
    bucket = new_bucket()
    user = new_user()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="get", PolicyDocument=json.dumps(
        demo_policy_document("s3:GetObject", bucket)))
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    s3.put_object(Bucket=bucket, Key="object", Body=BODY)
    return bucket, client_for("s3", key["AccessKeyId"], key["SecretAccessKey"])


def test_getter_reads_the_demo_object_as_binary_octet_stream(iam, s3, client_for, new_user, new_bucket):
    """The getter's GetObject of the demo object, put without a Content-Type: S3 answers
    `binary/octet-stream` for it (S3's system-defined default; boto3 transcripts of
    put/upload without ContentType followed by HeadObject show `binary/octet-stream`)."""
    bucket, reader = _reader_of_one_object(iam, s3, client_for, new_user, new_bucket)
    got = expect.s3_ok(reader.get_object(Bucket=bucket, Key="object"))
    assert got.pop("Body").read() == BODY
    assert got["ContentLength"] == len(BODY)
    assert got["ETag"] == '"7a15b2cecd267c15d079a0d54b06c98a"'
    expect.recent(got["LastModified"], within=120)
    assert got.get("ContentType") == "binary/octet-stream"


