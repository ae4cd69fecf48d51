"""Assertions shared by the compatibility tests: the exact shapes AWS IAM/STS answer with."""

import datetime
import re

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

# Client configuration without retries: every response a test sees is the server's first answer.
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)

USER_ID = re.compile(r"^AIDA[A-Z2-7]{17}$")
ACCESS_KEY_ID = re.compile(r"^AKIA[A-Z2-7]{16}$")
SECRET_ACCESS_KEY = re.compile(r"^[A-Za-z0-9+/]{40}$")
REQUEST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The ISO-8601 UTC form the AWS CLI prints for a timestamp.
CLI_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.0+)?(\+00:00|Z)$")

USER_FIELDS = {"Path", "UserName", "UserId", "Arn", "CreateDate"}
KEY_METADATA_FIELDS = {"UserName", "AccessKeyId", "Status", "CreateDate"}
NEW_KEY_FIELDS = KEY_METADATA_FIELDS | {"SecretAccessKey"}

SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)
# Real IAM/STS answers have been captured both with and without the final period.
INVALID_TOKEN_MESSAGES = (
    "The security token included in the request is invalid.",
    "The security token included in the request is invalid",
)


def invalid_token(message):
    """Asserts the message of an InvalidClientTokenId error (`fails(...)` returns it)."""
    assert message in INVALID_TOKEN_MESSAGES, message


def user_arn(account_id, name, path="/"):
    return f"arn:aws:iam::{account_id}:user{path}{name}"


def ok(response, status=200):
    """Checks the response metadata of a successful call and returns the response without it."""
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status
    assert REQUEST_ID.match(meta["RequestId"]), meta["RequestId"]
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    assert meta["HTTPHeaders"]["content-type"].startswith("text/xml")
    assert "date" in meta["HTTPHeaders"]
    assert meta["RetryAttempts"] == 0
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def empty_ok(response):
    """An operation without output (DeleteUser, UpdateUser, ...): only ResponseMetadata."""
    assert ok(response) == {}


def recent(value, within=60):
    """A tz-aware UTC timestamp within `within` seconds of now, in whole seconds."""
    assert isinstance(value, datetime.datetime), value
    assert value.tzinfo is not None and value.utcoffset() == datetime.timedelta(0), value
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - value).total_seconds()) <= within, (value, now)
    assert value.microsecond == 0, value
    return True


def check_user(user, *, account_id, name, path="/", user_id=None, tags=None, created=None):
    """A User structure: every field, exact where known. `tags` None means no Tags member."""
    fields = USER_FIELDS | ({"Tags"} if tags is not None else set())
    assert set(user) == fields, sorted(user)
    assert user["UserName"] == name
    assert user["Path"] == path
    assert user["Arn"] == user_arn(account_id, name, path)
    if user_id is None:
        assert USER_ID.match(user["UserId"]), user["UserId"]
    else:
        assert user["UserId"] == user_id
    if created is None:
        recent(user["CreateDate"])
    else:
        assert user["CreateDate"] == created
    if tags is not None:
        assert user["Tags"] == tags


def check_key_metadata(meta, *, user_name, key_id=None, status="Active", created=None):
    assert set(meta) == KEY_METADATA_FIELDS, sorted(meta)
    assert meta["UserName"] == user_name
    if key_id is None:
        assert ACCESS_KEY_ID.match(meta["AccessKeyId"]), meta["AccessKeyId"]
    else:
        assert meta["AccessKeyId"] == key_id
    assert meta["Status"] == status
    if created is None:
        recent(meta["CreateDate"])
    else:
        assert meta["CreateDate"] == created


def check_new_key(key, *, user_name):
    """The AccessKey of a CreateAccessKey answer (the only time the secret is shown)."""
    assert set(key) == NEW_KEY_FIELDS, sorted(key)
    assert key["UserName"] == user_name
    assert ACCESS_KEY_ID.match(key["AccessKeyId"]), key["AccessKeyId"]
    assert SECRET_ACCESS_KEY.match(key["SecretAccessKey"]), key["SecretAccessKey"]
    assert key["Status"] == "Active"
    recent(key["CreateDate"])


def error_of(call, *args, **kwargs):
    """Runs a boto3 call that must fail; returns its ClientError response."""
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response


def error_code(call, **kwargs):
    """The error code of a boto3 call that must fail (S3's errors carry no Type to check)."""
    return error_of(call, **kwargs)["Error"]["Code"]


def check_error(response, *, code, status, message=None, type_="Sender"):
    """An awsQuery error: Code, HTTP status, Type and (when given) the exact Message;
    RequestId in the body equals the x-amzn-RequestId header."""
    err = response["Error"]
    assert err["Code"] == code, err
    if message is not None:
        assert err["Message"] == message, err
    else:
        assert err["Message"], err
    assert err["Type"] == type_, err
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status, meta
    assert REQUEST_ID.match(meta["RequestId"]), meta
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    assert meta["RetryAttempts"] == 0
    return err["Message"]


def fails(call, *, code, status, message=None, type_="Sender", **kwargs):
    """Runs `call(**kwargs)`, which must fail as described; returns the message."""
    return check_error(error_of(call, **kwargs), code=code, status=status, message=message, type_=type_)


def no_such_user(name):
    return dict(code="NoSuchEntity", status=404, message=f"The user with name {name} cannot be found.")


def no_such_key(key_id):
    return dict(code="NoSuchEntity", status=404, message=f"The Access Key with id {key_id} cannot be found.")


def validation_error(value, member, constraint):
    return dict(
        code="ValidationError",
        status=400,
        message=f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}",
    )


# --- roles, groups, managed policies ----------------------------------------------------------

ROLE_ID = re.compile(r"^AROA[A-Z2-7]{17}$")
GROUP_ID = re.compile(r"^AGPA[A-Z2-7]{17}$")
POLICY_ID = re.compile(r"^ANPA[A-Z2-7]{17}$")

ROLE_FIELDS = {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}
GROUP_FIELDS = {"Path", "GroupName", "GroupId", "Arn", "CreateDate"}
# ListPolicies' entries; GetPolicy and CreatePolicy add Description and Tags when set.
POLICY_FIELDS = {
    "PolicyName", "PolicyId", "Arn", "Path", "DefaultVersionId", "AttachmentCount",
    "PermissionsBoundaryUsageCount", "IsAttachable", "CreateDate", "UpdateDate",
}
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy"


def role_arn(account_id, name, path="/"):
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def group_arn(account_id, name, path="/"):
    return f"arn:aws:iam::{account_id}:group{path}{name}"


def policy_arn(account_id, name, path="/"):
    return f"arn:aws:iam::{account_id}:policy{path}{name}"


def aws_policy_arn(name, path="/"):
    return f"{AWS_POLICY_PREFIX}{path}{name}"


def check_role(role, *, account_id, name, trust, path="/", role_id=None, created=None, description=None,
               max_session=3600, tags=None, last_used=None):
    """A Role structure. `trust` is the trust policy as a dict (boto3 decodes the URL-encoded
    JSON); `tags` None means no Tags member; `last_used` None means no RoleLastUsed member
    (CreateRole, ListRoles), a dict means exactly that RoleLastUsed (GetRole); `max_session`
    None means no MaxSessionDuration (CreateRole and UpdateRoleDescription answer without)."""
    fields = set(ROLE_FIELDS)
    if max_session is not None:
        fields.add("MaxSessionDuration")
    if description is not None:
        fields.add("Description")
    if tags is not None:
        fields.add("Tags")
    if last_used is not None:
        fields.add("RoleLastUsed")
    assert set(role) == fields, sorted(role)
    assert role["RoleName"] == name
    assert role["Path"] == path
    assert role["Arn"] == role_arn(account_id, name, path)
    if role_id is None:
        assert ROLE_ID.match(role["RoleId"]), role["RoleId"]
    else:
        assert role["RoleId"] == role_id
    if created is None:
        recent(role["CreateDate"])
    else:
        assert role["CreateDate"] == created
    assert role["AssumeRolePolicyDocument"] == trust
    if max_session is not None:
        assert role["MaxSessionDuration"] == max_session
    if description is not None:
        assert role["Description"] == description
    if tags is not None:
        assert role["Tags"] == tags
    if last_used is not None:
        assert role["RoleLastUsed"] == last_used


def check_group(group, *, account_id, name, path="/", group_id=None, created=None):
    assert set(group) == GROUP_FIELDS, sorted(group)
    assert group["GroupName"] == name
    assert group["Path"] == path
    assert group["Arn"] == group_arn(account_id, name, path)
    if group_id is None:
        assert GROUP_ID.match(group["GroupId"]), group["GroupId"]
    else:
        assert group["GroupId"] == group_id
    if created is None:
        recent(group["CreateDate"])
    else:
        assert group["CreateDate"] == created


def check_policy(policy, *, account_id, name, path="/", policy_id=None, default_version="v1", attachments=0,
                 description=None, tags=None, created=None, updated=None):
    """A customer managed Policy. `description`/`tags` None mean no such member (ListPolicies
    never has them; GetPolicy has them when set)."""
    fields = set(POLICY_FIELDS)
    if description is not None:
        fields.add("Description")
    if tags is not None:
        fields.add("Tags")
    assert set(policy) == fields, sorted(policy)
    assert policy["PolicyName"] == name
    assert policy["Path"] == path
    assert policy["Arn"] == policy_arn(account_id, name, path)
    if policy_id is None:
        assert POLICY_ID.match(policy["PolicyId"]), policy["PolicyId"]
    else:
        assert policy["PolicyId"] == policy_id
    assert policy["DefaultVersionId"] == default_version
    assert policy["AttachmentCount"] == attachments
    assert policy["PermissionsBoundaryUsageCount"] == 0
    assert policy["IsAttachable"] is True
    if created is None:
        recent(policy["CreateDate"])
    else:
        assert policy["CreateDate"] == created
    if updated is None:
        recent(policy["UpdateDate"])
        assert policy["UpdateDate"] >= policy["CreateDate"]
    else:
        assert policy["UpdateDate"] == updated
    if description is not None:
        assert policy["Description"] == description
    if tags is not None:
        assert policy["Tags"] == tags


def no_such_role(name):
    return dict(code="NoSuchEntity", status=404, message=f"The role with name {name} cannot be found.")


def no_such_group(name):
    return dict(code="NoSuchEntity", status=404, message=f"The group with name {name} cannot be found.")


def no_such_policy(arn):
    return dict(code="NoSuchEntity", status=404, message=f"Policy {arn} was not found.")


def not_attachable(arn):
    return dict(code="NoSuchEntity", status=404, message=f"Policy {arn} does not exist or is not attachable.")


def no_such_version(arn, version_id):
    return dict(
        code="NoSuchEntity",
        status=404,
        message=f"Policy {arn} version {version_id} does not exist or is not attachable.",
    )


def no_such_inline(kind, name):
    """kind: user, group or role."""
    return dict(code="NoSuchEntity", status=404, message=f"The {kind} policy with name {name} cannot be found.")


def delete_conflict(message):
    return dict(code="DeleteConflict", status=409, message=message)


def malformed(message=None):
    return dict(code="MalformedPolicyDocument", status=400, message=message)


# --- authorization: AccessDenied as IAM and S3 word it ------------------------------------------

def iam_denied(caller_arn, action, resource, because="no identity-based policy"):
    """IAM's AccessDenied for `action` (without the iam: prefix). `because` is
    'no identity-based policy', 'no permissions boundary', 'no session policy' (implicit
    denies) or 'explicit identity-based' (an explicit Deny in an inline identity policy)."""
    message = _denied_message(caller_arn, f"iam:{action}", resource, because)
    return dict(code="AccessDenied", status=403, message=message)


def _denied_message(caller_arn, action, resource, because):
    if because == "explicit identity-based":
        reason = "with an explicit deny in an identity-based policy"
    elif because == "explicit resource-based":
        reason = "with an explicit deny in a resource-based policy"
    else:
        reason = f"because {because} allows the {action} action"
    on = f" on resource: {resource}" if resource is not None else ""
    return f"User: {caller_arn} is not authorized to perform: {action}{on} {reason}"


# --- S3 (REST-XML: no Type; the request id is the x-amz-request-id header) ----------------------

ASIA_KEY_ID = re.compile(r"^ASIA[A-Z2-7]{16}$")


def s3_ok(response, status=200):
    """Checks an S3 answer's metadata (first answer, request id) and returns it without it."""
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status, meta
    assert meta["RequestId"], meta
    assert meta["HTTPHeaders"]["x-amz-request-id"] == meta["RequestId"]
    assert meta["RetryAttempts"] == 0
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def check_s3_error(response, *, code, status, message):
    """An S3 error: exactly Code and Message, the HTTP status, the request id header."""
    assert response["Error"] == {"Code": code, "Message": message}, response["Error"]
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status, meta
    assert meta["RequestId"] and meta["HTTPHeaders"]["x-amz-request-id"] == meta["RequestId"], meta
    assert meta["RetryAttempts"] == 0
    return response["Error"]["Message"]


def s3_fails(call, *, code, status, message, **kwargs):
    """Runs `call(**kwargs)`, which must fail with that S3 error; returns the message."""
    return check_s3_error(error_of(call, **kwargs), code=code, status=status, message=message)


def s3_denied(caller_arn, action, resource=None, because="no identity-based policy"):
    """S3's AccessDenied for a caller of the bucket owner's account. S3 gives same-account
    denials "additional context" (S3 User Guide, "Troubleshoot access denied (403 Forbidden)
    errors"): the caller, the action, the resource ARN in double quotes and the policy type,
    as real answers read: `User: arn:aws:iam::A:user/U is not authorized to perform:
    s3:GetObject on resource: "arn:aws:s3:::bucket/key" because no identity-based policy
    allows the s3:GetObject action` (or `with an explicit deny in a resource-based
    policy`). ListBuckets names no resource (real `aws s3 ls` transcripts: "... is not
    authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the
    s3:ListAllMyBuckets action"). `because` as in iam_denied, plus 'explicit
    resource-based' for a Deny in a bucket policy."""
    quoted = f'"{resource}"' if resource is not None else None
    return dict(code="AccessDenied", status=403, message=_denied_message(caller_arn, action, quoted, because))


S3_INVALID_TOKEN = dict(
    code="InvalidToken", status=400, message="The provided token is malformed or otherwise invalid.",
)
S3_INVALID_ACCESS_KEY_ID = dict(
    code="InvalidAccessKeyId", status=403,
    message="The AWS Access Key Id you provided does not exist in our records.",
)


def assumed_role_arn(account_id, role_name, session_name):
    return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{session_name}"
