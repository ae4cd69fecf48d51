"""Authorization of IAM users through boto3, on IAM and S3: identity policies (attached
customer and AWS managed, inline, group), explicit denies, permissions boundaries,
conditions (aws:SourceIp, aws:PrincipalTag, aws:RequestedRegion, s3:prefix), policy
variables (${aws:username}), bucket policies, and changes taking effect on the very next
request.

Evaluation follows the IAM User Guide's policy evaluation logic (an explicit deny wins; an
identity-based allow is needed unless a same-account resource policy names the user's ARN;
a boundary must allow too). IAM's messages are those of the IAM User Guide
("Troubleshoot access denied error messages"); S3's are its enhanced same-account messages
(S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors"), see expect.s3_denied.
Explicit denies here are in inline policies: their messages name no policy ARN.
"""

import functools
import json

import pytest

import expect
from expect import empty_ok, fails, ok

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IAM_READ_ONLY = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **condition):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def deny(action, resource="*", **condition):
    return dict(allow(action, resource, **condition), Effect="Deny")


class Caller:
    """An IAM user with one key; its boto3 clients are made when first used."""

    def __init__(self, user, key, client_for):
        self.user = user
        self.name = user["UserName"]
        self.arn = user["Arn"]
        self._creds = (key["AccessKeyId"], key["SecretAccessKey"])
        self._client_for = client_for

    @functools.cached_property
    def iam(self):
        return self._client_for("iam", *self._creds)

    @functools.cached_property
    def s3(self):
        return self._client_for("s3", *self._creds)

    @functools.cached_property
    def s3_eu(self):
        return self._client_for("s3", *self._creds, "eu-west-1")


@pytest.fixture
def caller(iam, new_user, client_for):
    """caller(*inline_statements, attach=(), **create_kwargs) -> Caller: a fresh user with
    an inline policy of those statements (if any), those managed policies attached, and one
    access key."""

    def make(*statements, attach=(), **kwargs):
        user = new_user(**kwargs)
        name = user["UserName"]
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=document(*statements))
        for arn in attach:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        return Caller(user, iam.create_access_key(UserName=name)["AccessKey"], client_for)

    return make


def object_arn(bucket, key):
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.fixture
def bucket_with_objects(s3, new_bucket):
    """bucket_with_objects(*keys) -> a fresh bucket of the account holding those objects."""

    def make(*keys):
        bucket = new_bucket()
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        return bucket

    return make


# --- identity policies --------------------------------------------------------------------------

def test_attached_policy_allows_exactly_its_actions(iam, caller, new_policy, account_id, unique_name, new_user):
    policy = new_policy(document=document(allow(["iam:ListUsers", "iam:GetUser"])))
    user = caller(attach=[policy["Arn"]])
    other = new_user()
    listed = ok(user.iam.list_users())["Users"]
    assert {user.name, other["UserName"]} <= {u["UserName"] for u in listed}
    assert ok(user.iam.get_user(UserName=other["UserName"]))["User"]["UserId"] == other["UserId"]
    group = unique_name("group")
    fails(user.iam.create_group, GroupName=group,
          **expect.iam_denied(user.arn, "CreateGroup", expect.group_arn(account_id, group)))
    fails(iam.get_group, GroupName=group, **expect.no_such_group(group))
    fails(user.iam.delete_user, UserName=other["UserName"],
          **expect.iam_denied(user.arn, "DeleteUser", f"user {other['UserName']}"))
    expect.s3_fails(user.s3.list_buckets, **expect.s3_denied(user.arn, "s3:ListAllMyBuckets"))


def test_inline_policy_allows_only_the_resources_it_names(caller, new_role):
    mine, theirs = new_role(), new_role()
    user = caller(allow("iam:GetRole", mine["Arn"]))
    assert ok(user.iam.get_role(RoleName=mine["RoleName"]))["Role"]["RoleId"] == mine["RoleId"]
    fails(user.iam.get_role, RoleName=theirs["RoleName"],
          **expect.iam_denied(user.arn, "GetRole", f"role {theirs['RoleName']}"))


def test_aws_managed_read_only_policies_allow_reads_and_deny_writes(caller, account_id, bucket_with_objects,
                                                                    unique_name):
    bucket = bucket_with_objects("report.txt")
    user = caller(attach=[S3_READ_ONLY, IAM_READ_ONLY])
    assert bucket in [b["Name"] for b in expect.s3_ok(user.s3.list_buckets())["Buckets"]]
    assert expect.s3_ok(user.s3.get_object(Bucket=bucket, Key="report.txt"))["Body"].read() == b"report.txt"
    assert [o["Key"] for o in expect.s3_ok(user.s3.list_objects_v2(Bucket=bucket))["Contents"]] == ["report.txt"]
    expect.s3_fails(user.s3.put_object, Bucket=bucket, Key="new.txt", Body=b"x",
                    **expect.s3_denied(user.arn, "s3:PutObject", object_arn(bucket, "new.txt")))
    expect.s3_fails(user.s3.delete_object, Bucket=bucket, Key="report.txt",
                    **expect.s3_denied(user.arn, "s3:DeleteObject", object_arn(bucket, "report.txt")))
    assert user.name in [u["UserName"] for u in ok(user.iam.list_users(MaxItems=1000))["Users"]]
    name = unique_name("new")
    fails(user.iam.create_user, UserName=name,
          **expect.iam_denied(user.arn, "CreateUser", expect.user_arn(account_id, name)))


def test_group_policies_apply_to_members_only(iam, caller, new_group, new_policy, new_role):
    role = new_role()
    group = new_group()
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="inline",
                         PolicyDocument=document(allow("iam:GetRole")))
    attached = new_policy(document=document(allow("iam:ListRoles")))
    iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=attached["Arn"])
    member, outsider = caller(), caller()
    iam.add_user_to_group(GroupName=group["GroupName"], UserName=member.name)
    assert ok(member.iam.get_role(RoleName=role["RoleName"]))["Role"]["Arn"] == role["Arn"]
    assert role["RoleName"] in [r["RoleName"] for r in ok(member.iam.list_roles(MaxItems=1000))["Roles"]]
    fails(outsider.iam.get_role, RoleName=role["RoleName"],
          **expect.iam_denied(outsider.arn, "GetRole", f"role {role['RoleName']}"))
    # Leaving the group takes the permissions away at once.
    iam.remove_user_from_group(GroupName=group["GroupName"], UserName=member.name)
    fails(member.iam.get_role, RoleName=role["RoleName"],
          **expect.iam_denied(member.arn, "GetRole", f"role {role['RoleName']}"))


# --- explicit deny ---------------------------------------------------------------------------------

def test_explicit_deny_beats_administrator_access(iam, caller, account_id, unique_name, new_user):
    user = caller(deny("iam:CreateGroup"), attach=[ADMIN])
    group = unique_name("group")
    fails(user.iam.create_group, GroupName=group,
          **expect.iam_denied(user.arn, "CreateGroup", expect.group_arn(account_id, group),
                              because="explicit identity-based"))
    fails(iam.get_group, GroupName=group, **expect.no_such_group(group))
    # Everything else is still allowed.
    other = new_user()
    assert ok(user.iam.get_user(UserName=other["UserName"]))["User"]["Arn"] == other["Arn"]


def test_explicit_deny_in_a_group_beats_the_users_own_allow(iam, caller, new_group, new_role):
    role = new_role()
    user = caller(allow("iam:GetRole"))
    group = new_group()
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="no-roles",
                         PolicyDocument=document(deny("iam:GetRole", role["Arn"])))
    assert ok(user.iam.get_role(RoleName=role["RoleName"]))["Role"]["Arn"] == role["Arn"]
    iam.add_user_to_group(GroupName=group["GroupName"], UserName=user.name)
    fails(user.iam.get_role, RoleName=role["RoleName"],
          **expect.iam_denied(user.arn, "GetRole", f"role {role['RoleName']}", because="explicit identity-based"))


def test_explicit_deny_on_s3_beats_s3_full_access(caller, bucket_with_objects):
    bucket = bucket_with_objects("keep/a.txt", "tmp/b.txt")
    user = caller(allow("s3:*"), deny("s3:DeleteObject", f"arn:aws:s3:::{bucket}/keep/*"))
    expect.s3_fails(user.s3.delete_object, Bucket=bucket, Key="keep/a.txt",
                    **expect.s3_denied(user.arn, "s3:DeleteObject", object_arn(bucket, "keep/a.txt"),
                                       because="explicit identity-based"))
    expect.s3_ok(user.s3.delete_object(Bucket=bucket, Key="tmp/b.txt"), status=204)
    assert [o["Key"] for o in user.s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/a.txt"]


def test_delete_objects_answers_access_denied_per_key(caller, bucket_with_objects):
    """DeleteObjects authorizes each key: the allowed ones are deleted, the others come back
    as errors in the (successful) answer."""
    bucket = bucket_with_objects("keep/a.txt", "tmp/b.txt")
    user = caller(allow("s3:DeleteObject", f"arn:aws:s3:::{bucket}/tmp/*"), allow("s3:ListBucket"))
    answer = expect.s3_ok(user.s3.delete_objects(Bucket=bucket, Delete={
        "Objects": [{"Key": "keep/a.txt"}, {"Key": "tmp/b.txt"}]}))
    assert answer == {
        "Deleted": [{"Key": "tmp/b.txt"}],
        "Errors": [{"Key": "keep/a.txt", "Code": "AccessDenied", "Message": "Access Denied"}],
    }
    assert [o["Key"] for o in user.s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/a.txt"]


# --- permissions boundaries ------------------------------------------------------------------------
# (new_policy comes before caller: the users go first at teardown, so that no boundary is in
# use when the policies are deleted.)

def test_boundary_limits_administrator_access(iam, new_policy, caller, account_id, unique_name):
    boundary = new_policy(document=document(allow("iam:Get*")))
    user = caller(attach=[ADMIN])
    empty_ok(iam.put_user_permissions_boundary(UserName=user.name, PermissionsBoundary=boundary["Arn"]))
    assert ok(user.iam.get_user())["User"]["Arn"] == user.arn
    group = unique_name("group")
    fails(user.iam.create_group, GroupName=group,
          **expect.iam_denied(user.arn, "CreateGroup", expect.group_arn(account_id, group),
                              because="no permissions boundary"))
    expect.s3_fails(user.s3.list_buckets,
                    **expect.s3_denied(user.arn, "s3:ListAllMyBuckets", because="no permissions boundary"))
    # Without the boundary, AdministratorAccess allows it again, on the next request.
    empty_ok(iam.delete_user_permissions_boundary(UserName=user.name))
    created = ok(user.iam.create_group(GroupName=group))["Group"]
    iam.delete_group(GroupName=created["GroupName"])


def test_boundary_set_at_create_user_applies_from_the_first_request(new_policy, caller, new_role, account_id):
    role = new_role()
    boundary = new_policy(document=document(allow("iam:GetRole")))
    user = caller(attach=[ADMIN], PermissionsBoundary=boundary["Arn"])
    assert ok(user.iam.get_role(RoleName=role["RoleName"]))["Role"]["Arn"] == role["Arn"]
    fails(user.iam.list_roles, **expect.iam_denied(user.arn, "ListRoles", f"arn:aws:iam::{account_id}:role/",
                                                   because="no permissions boundary"))


def test_boundary_alone_grants_nothing(new_policy, caller):
    boundary = new_policy(document=document(allow("iam:*")))
    user = caller(PermissionsBoundary=boundary["Arn"])
    fails(user.iam.get_user, **expect.iam_denied(user.arn, "GetUser", f"user {user.name}"))


# --- conditions -------------------------------------------------------------------------------------

def test_source_ip_condition(caller, account_id):
    """Clients reach the server from 127.0.0.1."""
    local = caller(allow("iam:ListUsers", IpAddress={"aws:SourceIp": "127.0.0.0/8"}))
    remote = caller(allow("iam:ListUsers", IpAddress={"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}))
    assert local.name in [u["UserName"] for u in ok(local.iam.list_users(MaxItems=1000))["Users"]]
    fails(remote.iam.list_users,
          **expect.iam_denied(remote.arn, "ListUsers", f"arn:aws:iam::{account_id}:user/"))


def test_source_ip_condition_on_s3_and_not_ip_address_deny(caller, bucket_with_objects):
    bucket = bucket_with_objects("data.txt")
    local = caller(allow("s3:GetObject", IpAddress={"aws:SourceIp": "127.0.0.1/32"}))
    remote = caller(allow("s3:GetObject", IpAddress={"aws:SourceIp": "10.0.0.0/8"}))
    fenced = caller(allow("s3:GetObject"), deny("s3:*", NotIpAddress={"aws:SourceIp": "10.0.0.0/8"}))
    assert expect.s3_ok(local.s3.get_object(Bucket=bucket, Key="data.txt"))["Body"].read() == b"data.txt"
    expect.s3_fails(remote.s3.get_object, Bucket=bucket, Key="data.txt",
                    **expect.s3_denied(remote.arn, "s3:GetObject", object_arn(bucket, "data.txt")))
    expect.s3_fails(fenced.s3.get_object, Bucket=bucket, Key="data.txt",
                    **expect.s3_denied(fenced.arn, "s3:GetObject", object_arn(bucket, "data.txt"),
                                       because="explicit identity-based"))


def test_principal_tag_condition(iam, caller, new_policy, bucket_with_objects, account_id):
    bucket = bucket_with_objects("team.txt")
    policy = new_policy(document=document(
        allow(["s3:GetObject", "iam:ListUsers"], StringEquals={"aws:PrincipalTag/team": "blue"})))
    blue = caller(attach=[policy["Arn"]], Tags=[{"Key": "team", "Value": "blue"}])
    red = caller(attach=[policy["Arn"]], Tags=[{"Key": "team", "Value": "red"}])
    untagged = caller(attach=[policy["Arn"]])
    assert expect.s3_ok(blue.s3.get_object(Bucket=bucket, Key="team.txt"))["Body"].read() == b"team.txt"
    ok(blue.iam.list_users())
    for other in (red, untagged):
        expect.s3_fails(other.s3.get_object, Bucket=bucket, Key="team.txt",
                        **expect.s3_denied(other.arn, "s3:GetObject", object_arn(bucket, "team.txt")))
        fails(other.iam.list_users, **expect.iam_denied(other.arn, "ListUsers", f"arn:aws:iam::{account_id}:user/"))


def test_requested_region_condition(caller, new_bucket):
    bucket = new_bucket()
    user = caller(allow("s3:ListAllMyBuckets", StringEquals={"aws:RequestedRegion": "eu-west-1"}))
    assert bucket in [b["Name"] for b in expect.s3_ok(user.s3_eu.list_buckets())["Buckets"]]
    expect.s3_fails(user.s3.list_buckets, **expect.s3_denied(user.arn, "s3:ListAllMyBuckets"))


def test_s3_prefix_condition_on_list_objects_v2(caller, bucket_with_objects):
    bucket = bucket_with_objects("public/a.txt", "public/b.txt", "private/c.txt")
    user = caller(allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", StringLike={"s3:prefix": "public/*"}))
    listed = expect.s3_ok(user.s3.list_objects_v2(Bucket=bucket, Prefix="public/"))
    assert [o["Key"] for o in listed["Contents"]] == ["public/a.txt", "public/b.txt"]
    assert (listed["Prefix"], listed["KeyCount"], listed["IsTruncated"]) == ("public/", 2, False)
    for prefix in ("private/", None):
        kwargs = {"Prefix": prefix} if prefix is not None else {}
        expect.s3_fails(user.s3.list_objects_v2, Bucket=bucket, **kwargs,
                        **expect.s3_denied(user.arn, "s3:ListBucket", f"arn:aws:s3:::{bucket}"))


# --- policy variables ---------------------------------------------------------------------------

SELF_SERVICE = allow(["iam:GetUser", "iam:ListAccessKeys", "iam:CreateAccessKey", "iam:DeleteAccessKey"],
                     "arn:aws:iam::*:user/${aws:username}")


def test_self_service_access_keys_with_the_username_variable(iam, caller, new_user):
    user = caller(SELF_SERVICE)
    other = new_user()["UserName"]
    assert ok(user.iam.get_user())["User"]["UserName"] == user.name
    mine = ok(user.iam.list_access_keys())["AccessKeyMetadata"]
    assert [k["UserName"] for k in mine] == [user.name]
    assert ok(user.iam.list_access_keys(UserName=user.name))["AccessKeyMetadata"] == mine
    created = ok(user.iam.create_access_key())["AccessKey"]
    expect.check_new_key(created, user_name=user.name)
    empty_ok(user.iam.delete_access_key(AccessKeyId=created["AccessKeyId"]))
    fails(user.iam.list_access_keys, UserName=other,
          **expect.iam_denied(user.arn, "ListAccessKeys", f"user {other}"))
    fails(user.iam.create_access_key, UserName=other,
          **expect.iam_denied(user.arn, "CreateAccessKey", f"user {other}"))
    assert ok(iam.list_access_keys(UserName=other))["AccessKeyMetadata"] == []
    fails(user.iam.get_user, UserName=other, **expect.iam_denied(user.arn, "GetUser", f"user {other}"))


def test_username_variable_in_an_s3_prefix(caller, bucket_with_objects, new_user):
    bucket = bucket_with_objects()
    user = caller(
        allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"),
        allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", StringLike={"s3:prefix": "home/${aws:username}/*"}),
    )
    other = new_user()["UserName"]
    mine = f"home/{user.name}/notes.txt"
    expect.s3_ok(user.s3.put_object(Bucket=bucket, Key=mine, Body=b"mine"))
    assert user.s3.get_object(Bucket=bucket, Key=mine)["Body"].read() == b"mine"
    listed = expect.s3_ok(user.s3.list_objects_v2(Bucket=bucket, Prefix=f"home/{user.name}/"))
    assert [o["Key"] for o in listed["Contents"]] == [mine]
    theirs = f"home/{other}/notes.txt"
    expect.s3_fails(user.s3.put_object, Bucket=bucket, Key=theirs, Body=b"x",
                    **expect.s3_denied(user.arn, "s3:PutObject", object_arn(bucket, theirs)))
    expect.s3_fails(user.s3.list_objects_v2, Bucket=bucket, Prefix=f"home/{other}/",
                    **expect.s3_denied(user.arn, "s3:ListBucket", f"arn:aws:s3:::{bucket}"))


# --- bucket policies ------------------------------------------------------------------------------

def bucket_policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_bucket_policy_grants_a_user_of_the_account_by_its_arn(s3, caller, bucket_with_objects):
    """A same-account resource policy naming the user's ARN is enough: the user needs no
    identity policy (IAM User Guide, evaluation logic)."""
    bucket = bucket_with_objects("shared.txt")
    reader, stranger = caller(), caller()
    expect.s3_ok(s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy({
        "Effect": "Allow", "Principal": {"AWS": reader.arn}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"})), status=204)
    assert expect.s3_ok(reader.s3.get_object(Bucket=bucket, Key="shared.txt"))["Body"].read() == b"shared.txt"
    expect.s3_fails(reader.s3.put_object, Bucket=bucket, Key="shared.txt", Body=b"x",
                    **expect.s3_denied(reader.arn, "s3:PutObject", object_arn(bucket, "shared.txt")))
    expect.s3_fails(stranger.s3.get_object, Bucket=bucket, Key="shared.txt",
                    **expect.s3_denied(stranger.arn, "s3:GetObject", object_arn(bucket, "shared.txt")))
    # Removing the bucket policy removes the grant on the next request.
    expect.s3_ok(s3.delete_bucket_policy(Bucket=bucket), status=204)
    expect.s3_fails(reader.s3.get_object, Bucket=bucket, Key="shared.txt",
                    **expect.s3_denied(reader.arn, "s3:GetObject", object_arn(bucket, "shared.txt")))


def test_explicit_deny_in_a_bucket_policy_beats_the_users_allow(s3, caller, bucket_with_objects):
    bucket = bucket_with_objects("secret/plans.txt", "public/readme.txt")
    user = caller(attach=[S3_READ_ONLY])
    expect.s3_ok(s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy({
        "Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/secret/*"})), status=204)
    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="secret/plans.txt",
                    **expect.s3_denied(user.arn, "s3:GetObject", object_arn(bucket, "secret/plans.txt"),
                                       because="explicit resource-based"))
    assert user.s3.get_object(Bucket=bucket, Key="public/readme.txt")["Body"].read() == b"public/readme.txt"
    # The owner's root is not the principal denied.
    assert s3.get_object(Bucket=bucket, Key="secret/plans.txt")["Body"].read() == b"secret/plans.txt"


# --- changes take effect on the next request -----------------------------------------------------

def test_policy_changes_take_effect_on_the_very_next_request(iam, caller, new_policy, bucket_with_objects):
    bucket = bucket_with_objects("file.txt")
    policy = new_policy(document=document(allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")))
    user = caller()
    denied = expect.s3_denied(user.arn, "s3:GetObject", object_arn(bucket, "file.txt"))
    get = lambda: user.s3.get_object(Bucket=bucket, Key="file.txt")["Body"].read()  # noqa: E731

    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="file.txt", **denied)
    iam.attach_user_policy(UserName=user.name, PolicyArn=policy["Arn"])
    assert get() == b"file.txt"
    iam.detach_user_policy(UserName=user.name, PolicyArn=policy["Arn"])
    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="file.txt", **denied)

    iam.put_user_policy(UserName=user.name, PolicyName="inline", PolicyDocument=document(allow("s3:GetObject")))
    assert get() == b"file.txt"
    iam.delete_user_policy(UserName=user.name, PolicyName="inline")
    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="file.txt", **denied)

    # A new default version of an attached policy applies at once, and so does a rollback.
    iam.attach_user_policy(UserName=user.name, PolicyArn=policy["Arn"])
    assert get() == b"file.txt"
    iam.create_policy_version(PolicyArn=policy["Arn"], SetAsDefault=True,
                              PolicyDocument=document(allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")))
    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="file.txt", **denied)
    iam.set_default_policy_version(PolicyArn=policy["Arn"], VersionId="v1")
    assert get() == b"file.txt"


def test_deactivated_key_is_refused_on_the_next_s3_request(iam, caller, bucket_with_objects):
    bucket = bucket_with_objects("file.txt")
    user = caller(allow("s3:GetObject"))
    key_id = iam.list_access_keys(UserName=user.name)["AccessKeyMetadata"][0]["AccessKeyId"]
    assert user.s3.get_object(Bucket=bucket, Key="file.txt")["Body"].read() == b"file.txt"
    iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")
    expect.s3_fails(user.s3.get_object, Bucket=bucket, Key="file.txt", **expect.S3_INVALID_ACCESS_KEY_ID)
    iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Active")
    assert user.s3.get_object(Bucket=bucket, Key="file.txt")["Body"].read() == b"file.txt"
