"""The response examples of AWS's API reference (botocore's examples-1.json, the data the
reference's examples are made from), replayed against oxiam: each example whose input names
things a test can make is sent as written, after making them, and every member the example's
answer shows must be in oxiam's answer too, at every depth (lists by their items). Members
oxiam answers that an example leaves out are not differences: examples show a part.

On a server of its own, since the examples name fixed users, groups and roles."""

import json
from pathlib import Path

import botocore
import pytest

from conftest import make_client, serve
from expect import ok

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}]})
EC2_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}]})

# What the examples name, made before they run.
SETUP = [
    ("create_user", dict(UserName="Alice")),
    ("create_access_key", dict(UserName="Alice")),
    ("create_access_key", dict(UserName="Alice")),
    ("create_user", dict(UserName="Anika", Tags=[{"Key": "Dept", "Value": "12345"},
                                                 {"Key": "Team", "Value": "Accounting"}])),
    ("create_login_profile", dict(UserName="Anika", Password="Anika-Passw0rd!")),
    ("create_group", dict(GroupName="Finance")),
    ("put_group_policy", dict(GroupName="Finance", PolicyName="AdminRoot", PolicyDocument=POLICY)),
    ("put_group_policy", dict(GroupName="Finance", PolicyName="KeyPolicy", PolicyDocument=POLICY)),
    ("create_role", dict(RoleName="ExampleRole", AssumeRolePolicyDocument=TRUST)),
    ("create_instance_profile", dict(InstanceProfileName="ExampleInstanceProfile")),
    ("add_role_to_instance_profile", dict(InstanceProfileName="ExampleInstanceProfile", RoleName="ExampleRole")),
    ("create_role", dict(RoleName="taggedrole1", AssumeRolePolicyDocument=TRUST,
                         Tags=[{"Key": "Dept", "Value": "12345"}, {"Key": "Team", "Value": "Accounting"}])),
    ("create_account_alias", dict(AccountAlias="exmaple-corporation")),
    ("create_virtual_mfa_device", dict(VirtualMFADeviceName="ExampleMFADevice")),
    ("update_account_password_policy", dict(MinimumPasswordLength=8, RequireNumbers=True)),
    ("create_user", dict(UserName="ExampleUser01")),
    ("create_policy", dict(PolicyName="ExampleIamPolicy", PolicyDocument=POLICY)),
    ("attach_user_policy", dict(UserName="ExampleUser01",
                                PolicyArn="arn:aws:iam::123456789012:policy/ExampleIamPolicy")),
    ("create_policy", dict(PolicyName="ExampleEc2Policy", PolicyDocument=EC2_POLICY)),
    ("attach_user_policy", dict(UserName="ExampleUser01",
                                PolicyArn="arn:aws:iam::123456789012:policy/ExampleEc2Policy")),
    ("create_group", dict(GroupName="AWSExampleGroup1")),
    ("put_group_policy", dict(GroupName="AWSExampleGroup1", PolicyName="ExampleGroup1Policy", PolicyDocument=POLICY)),
    ("add_user_to_group", dict(GroupName="AWSExampleGroup1", UserName="ExampleUser01")),
    ("create_policy", dict(PolicyName="ExamplePolicy1", PolicyDocument=POLICY)),
    # The password policy GetAccountPasswordPolicy's example shows.
    ("update_account_password_policy", dict(MinimumPasswordLength=8, RequireNumbers=True, RequireSymbols=True,
                                            MaxPasswordAge=90, PasswordReusePrevention=12, HardExpiry=False)),
]

# The examples run, in this order (each operation's examples), with what stands in for an
# example's placeholders.
RUN = {
    "iam": ["CreateUser", "CreateAccessKey", "CreateGroup", "CreateInstanceProfile", "CreateLoginProfile",
            "CreateRole", "GetRole", "GetUser", "GetAccountSummary", "GetInstanceProfile", "GetLoginProfile",
            "ListAccessKeys", "ListAccountAliases", "ListGroups", "ListRoleTags", "ListUserTags", "ListUsers",
            "ListVirtualMFADevices", "GetAccountPasswordPolicy", "ListPoliciesGrantingServiceAccess",
            "GenerateServiceLastAccessedDetails"],
    "sts": ["GetCallerIdentity"],
}
PLACEHOLDERS = {"<Stringified-JSON>": TRUST}

# Members an example shows that oxiam leaves out on purpose, each with its reason.
DELIBERATE = {
    # State, not form: the example's role had been used, this one has not (a used role's
    # RoleLastUsed is tested in crates/oxiam-server/tests/assume_role.rs).
    ("GetRole", "/Role/RoleLastUsed/LastUsedDate"),
    ("GetRole", "/Role/RoleLastUsed/Region"),
    # oxiam has no console: nobody signs in with a password (docs/differences.md).
    ("ListUsers", "/Users[]/PasswordLastUsed"),
}


def examples(service):
    path = Path(botocore.__file__).parent / "data" / service
    version = sorted(p.name for p in path.iterdir())[-1]
    return json.loads((path / version / "examples-1.json").read_text())["examples"]


def missing(example, answer, path=""):
    """The members `example` shows that `answer` lacks, by path."""
    if isinstance(example, dict):
        if not isinstance(answer, dict):
            return [path or "/"]
        found = []
        for key, value in example.items():
            if key not in answer:
                found.append(f"{path}/{key}")
            else:
                found += missing(value, answer[key], f"{path}/{key}")
        return found
    if isinstance(example, list):
        if not isinstance(answer, list):
            return [path]
        if not example:
            return []
        if not answer:
            return [f"{path}[]"]
        # Each example item is matched with the answer's item that shows the most of it.
        found = []
        for item in example:
            found += min((missing(item, candidate, f"{path}[]") for candidate in answer), key=len)
        return sorted(set(found))
    return []


def substitute(value):
    if isinstance(value, str):
        return PLACEHOLDERS.get(value, value)
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    return value


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    yield from serve(tmp_path_factory, "sqlite", [])


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_every_member_of_the_references_examples_is_answered(own_server, service):
    client = make_client(own_server, service, own_server.root_key_id, own_server.root_secret)
    if service == "iam":
        for method, params in SETUP:
            ok(getattr(client, method)(**params))
    all_examples = examples(service)
    differences = {}
    ran = 0
    for operation in RUN[service]:
        for example in all_examples[operation]:
            answer = client._make_api_call(operation, substitute(example.get("input") or {}))
            ran += 1
            expected = json.loads(json.dumps(example.get("output") or {}))
            found = [m for m in missing(expected, answer) if (operation, m) not in DELIBERATE]
            if found:
                differences[f"{operation}: {example.get('title', example.get('id'))}"] = found
    assert ran >= len(RUN[service])
    assert not differences, json.dumps(differences, indent=1)


def test_a_member_an_answer_lacks_is_found():
    """The comparison finds what it is there to find, at depth and in list items."""
    example = {"Users": [{"UserName": "a", "Tags": [{"Key": "k", "Value": "v"}]}], "IsTruncated": False}
    assert missing(example, {"Users": [{"UserName": "b", "Tags": [{"Key": "x", "Value": "y"}]}],
                             "IsTruncated": True, "Marker": "m"}) == []
    assert missing(example, {"Users": [{"UserName": "b", "Tags": [{"Key": "x"}]}], "IsTruncated": True}) == [
        "/Users[]/Tags[]/Value"]
    assert missing(example, {"Users": [], "IsTruncated": True}) == ["/Users[]"]
    assert sorted(missing(example, {"Users": [{"UserName": "b", "Tags": []}]})) == ["/IsTruncated", "/Users[]/Tags[]"]
