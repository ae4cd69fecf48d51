"""Scenario 3, "Manage policies, and roll a policy version back", run the way the seed's
policy demo (policy_wrapper.py) runs it: boto3 resources (iam.create_policy,
iam.policies.filter(Scope=...), iam.Policy(arn).create_version(...),
policy.default_version.document, policy.versions.all() sorted by create_date,
PolicyVersion.set_as_default() / delete(), Policy.delete()); then the same steps with the
client API, asserting every field of every answer."""

import json
import operator
import time

import pytest

import expect
from expect import empty_ok, fails, ok

BUCKET_ARN = "arn:aws:s3:::made-up-bucket-name"
DEMO_POLICY = "demo-iam-policy"
DEMO_DESCRIPTION = "Policy for IAM demonstration."


def demo_document(actions):
    """The single-statement document the demo builds."""
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": BUCKET_ARN}]}


def default_statement(iam_resource, arn):
    """The demo's get_default_policy_statement: GetPolicy, then GetPolicyVersion of the default."""
    return iam_resource.Policy(arn).default_version.document.get("Statement")


def rollback(iam_resource, arn):
    """The demo's rollback_policy_version: versions ordered by CreateDate, the default found
    from the newest end, the one before it made the default, the old default deleted."""
    versions = sorted(iam_resource.Policy(arn).versions.all(), key=operator.attrgetter("create_date"))
    default = None
    while default is None:
        candidate = versions.pop()
        if candidate.is_default_version:
            default = candidate
    previous = versions.pop()
    previous.set_as_default()
    default.delete()
    return previous, default


def test_scenario_manage_policies_and_roll_back_a_version(iam_resource, iam, account_id, cleanup_policies):
    arn = expect.policy_arn(account_id, DEMO_POLICY)
    cleanup_policies.append(arn)

    # 1. Create the policy (resource API): the answer's fields load the Policy resource.
    policy = iam_resource.create_policy(
        PolicyName=DEMO_POLICY,
        Description=DEMO_DESCRIPTION,
        PolicyDocument=json.dumps(demo_document(["s3:ListObjects"])),
    )
    assert policy.arn == arn
    assert policy.policy_name == DEMO_POLICY
    assert policy.description == DEMO_DESCRIPTION
    assert policy.default_version_id == "v1"
    assert policy.path == "/"
    assert policy.attachment_count == 0
    assert policy.is_attachable is True
    assert expect.POLICY_ID.match(policy.policy_id)
    expect.recent(policy.create_date)

    # 2. The account's own managed policies (Scope=Local) include it, and only local ones.
    policies = list(iam_resource.policies.filter(Scope="Local"))
    assert DEMO_POLICY in [p.policy_name for p in policies]
    assert all(p.arn.startswith(f"arn:aws:iam::{account_id}:policy/") for p in policies)
    assert len({p.arn for p in policies}) == len(policies)

    # The demo waits a second so that the two versions' CreateDates differ.
    time.sleep(1)

    # 3. A second version, made the default.
    version = iam_resource.Policy(arn).create_version(
        PolicyDocument=json.dumps(demo_document(["s3:PutObject"])), SetAsDefault=True
    )
    assert version.arn == arn
    assert version.version_id == "v2"
    assert version.is_default_version is True
    expect.recent(version.create_date)

    # 4. The default statement is the new one.
    assert default_statement(iam_resource, arn) == demo_document(["s3:PutObject"])["Statement"]

    # 5. Roll back: v1 becomes the default again and v2 is deleted.
    previous, deleted = rollback(iam_resource, arn)
    assert (previous.version_id, deleted.version_id) == ("v1", "v2")
    remaining = [(v.version_id, v.is_default_version) for v in iam_resource.Policy(arn).versions.all()]
    assert remaining == [("v1", True)]

    # 6. The default statement is the ListObjects one again; delete the policy.
    assert default_statement(iam_resource, arn) == demo_document(["s3:ListObjects"])["Statement"]
    iam_resource.Policy(arn).delete()
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))
    assert DEMO_POLICY not in [p.policy_name for p in iam_resource.policies.filter(Scope="Local")]


def test_rollback_with_a_single_version_finds_nothing_to_roll_back_to(iam_resource, new_policy):
    """The demo's IndexError branch: the default version is the only one."""
    arn = new_policy()["Arn"]
    with pytest.raises(IndexError):
        rollback(iam_resource, arn)
    assert [(v.version_id, v.is_default_version) for v in iam_resource.Policy(arn).versions.all()] == [("v1", True)]


def test_scenario_manage_policies_with_the_client_api(iam, account_id, unique_name, unique_path, cleanup_policies):
    name, path = unique_name("demo"), unique_path()
    arn = expect.policy_arn(account_id, name, path)
    cleanup_policies.append(arn)
    first, second = demo_document(["s3:ListObjects"]), demo_document(["s3:PutObject"])

    # 1. CreatePolicy: every field, Description included.
    created = ok(iam.create_policy(PolicyName=name, Path=path, Description=DEMO_DESCRIPTION,
                                   PolicyDocument=json.dumps(first)))
    assert set(created) == {"Policy"}
    policy = created["Policy"]
    expect.check_policy(policy, account_id=account_id, name=name, path=path, description=DEMO_DESCRIPTION)

    # 2. ListPolicies Scope=Local under the path: just this one, without its description.
    listed = ok(iam.list_policies(Scope="Local", PathPrefix=path))
    assert listed["IsTruncated"] is False
    assert len(listed["Policies"]) == 1
    expect.check_policy(listed["Policies"][0], account_id=account_id, name=name, path=path,
                        policy_id=policy["PolicyId"], created=policy["CreateDate"], updated=policy["UpdateDate"])

    time.sleep(1)

    # 3. CreatePolicyVersion with SetAsDefault: the version, without its document.
    version = ok(iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(second), SetAsDefault=True))
    assert set(version) == {"PolicyVersion"}
    assert set(version["PolicyVersion"]) == {"VersionId", "IsDefaultVersion", "CreateDate"}
    assert version["PolicyVersion"]["VersionId"] == "v2"
    assert version["PolicyVersion"]["IsDefaultVersion"] is True
    expect.recent(version["PolicyVersion"]["CreateDate"])
    assert version["PolicyVersion"]["CreateDate"] > policy["CreateDate"]

    # 4. GetPolicy names v2 the default; GetPolicyVersion returns its document as a dict.
    got = ok(iam.get_policy(PolicyArn=arn))["Policy"]
    expect.check_policy(got, account_id=account_id, name=name, path=path, policy_id=policy["PolicyId"],
                        default_version="v2", description=DEMO_DESCRIPTION, created=policy["CreateDate"],
                        updated=version["PolicyVersion"]["CreateDate"])
    default = ok(iam.get_policy_version(PolicyArn=arn, VersionId=got["DefaultVersionId"]))
    assert default == {"PolicyVersion": {"Document": second, "VersionId": "v2", "IsDefaultVersion": True,
                                         "CreateDate": version["PolicyVersion"]["CreateDate"]}}

    # 5. ListPolicyVersions: newest first, no documents; roll back to v1 and delete v2.
    versions = ok(iam.list_policy_versions(PolicyArn=arn))
    assert versions == {
        "Versions": [
            {"VersionId": "v2", "IsDefaultVersion": True, "CreateDate": version["PolicyVersion"]["CreateDate"]},
            {"VersionId": "v1", "IsDefaultVersion": False, "CreateDate": policy["CreateDate"]},
        ],
        "IsTruncated": False,
    }
    by_date = sorted(versions["Versions"], key=lambda v: v["CreateDate"])
    assert [v["VersionId"] for v in by_date] == ["v1", "v2"]
    empty_ok(iam.set_default_policy_version(PolicyArn=arn, VersionId="v1"))
    empty_ok(iam.delete_policy_version(PolicyArn=arn, VersionId="v2"))

    # 6. The default is v1 with the first document again; then DeletePolicy.
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["DefaultVersionId"] == "v1"
    assert ok(iam.get_policy_version(PolicyArn=arn, VersionId="v1"))["PolicyVersion"] == {
        "Document": first, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": policy["CreateDate"],
    }
    fails(iam.get_policy_version, PolicyArn=arn, VersionId="v2", **expect.no_such_version(arn, "v2"))
    empty_ok(iam.delete_policy(PolicyArn=arn))
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))
    assert ok(iam.list_policies(Scope="Local", PathPrefix=path)) == {"Policies": [], "IsTruncated": False}
