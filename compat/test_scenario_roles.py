"""Scenario 4, "Manage roles", run the way the seed's role demo (role_wrapper.py) runs it:
iam.roles.limit(10), Role.policies.all(), iam.create_role with a trust policy for Lambda and
S3 Batch Operations, Role.attach_policy(PolicyArn=AmazonS3ReadOnlyAccess),
Role.attached_policies.all(), Role.detach_policy, Role.delete(); plus what GetRole shows of
the role along the way."""

import json

import expect
from expect import fails, ok

DEMO_ROLE = "demo-iam-role"
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
SERVICES = ["lambda.amazonaws.com", "batchoperations.s3.amazonaws.com"]


def trust_policy(services):
    """The demo's trust policy: one statement per service allowed to call sts:AssumeRole."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"} for service in services
        ],
    }


def test_scenario_manage_roles(iam_resource, iam, account_id, new_role, cleanup_roles):
    # The demo starts by listing the first ten roles and the inline policies of the first;
    # an existing role with an inline policy makes sure there is one to show.
    existing = new_role()
    iam.put_role_policy(RoleName=existing["RoleName"], PolicyName="existing-inline", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
    ))
    roles = list(iam_resource.roles.limit(count=10))
    assert 1 <= len(roles) <= 10
    names = [r.name for r in roles]
    assert names == sorted(names, key=str.lower)
    all_names = [r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]]
    assert names == all_names[:10]
    first = iam_resource.Role(roles[0].name)
    assert [p.name for p in first.policies.all()] == iam.list_role_policies(RoleName=roles[0].name)["PolicyNames"]
    assert [p.name for p in iam_resource.Role(existing["RoleName"]).policies.all()] == ["existing-inline"]

    # 1. Create the role; the trust policy comes back as the dict that was sent.
    cleanup_roles.append(DEMO_ROLE)
    role = iam_resource.create_role(RoleName=DEMO_ROLE, AssumeRolePolicyDocument=json.dumps(trust_policy(SERVICES)))
    assert role.name == DEMO_ROLE
    assert role.assume_role_policy_document == trust_policy(SERVICES)
    assert role.arn == expect.role_arn(account_id, DEMO_ROLE)
    assert role.path == "/"
    assert expect.ROLE_ID.match(role.role_id)
    # CreateRole's answer has no MaxSessionDuration (AWS leaves it out); GetRole has it.
    assert role.max_session_duration is None
    expect.recent(role.create_date)

    # GetRole (what iam.Role(name).load() calls) shows the same role, never used yet.
    loaded = iam_resource.Role(DEMO_ROLE)
    loaded.load()
    assert (loaded.role_id, loaded.arn, loaded.create_date) == (role.role_id, role.arn, role.create_date)
    assert loaded.assume_role_policy_document == trust_policy(SERVICES)
    assert loaded.max_session_duration == 3600
    assert loaded.role_last_used == {}
    assert loaded.description is None
    assert loaded.tags is None
    expect.check_role(ok(iam.get_role(RoleName=DEMO_ROLE))["Role"], account_id=account_id, name=DEMO_ROLE,
                      trust=trust_policy(SERVICES), role_id=role.role_id, created=role.create_date, last_used={})

    # 2. Attach the AWS managed policy AmazonS3ReadOnlyAccess; the role lists it.
    before = ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["AttachmentCount"]
    iam_resource.Role(DEMO_ROLE).attach_policy(PolicyArn=S3_READ_ONLY)
    attached = list(iam_resource.Role(DEMO_ROLE).attached_policies.all())
    assert [p.arn for p in attached] == [S3_READ_ONLY]
    assert attached[0].policy_name == "AmazonS3ReadOnlyAccess"
    assert ok(iam.list_attached_role_policies(RoleName=DEMO_ROLE)) == {
        "AttachedPolicies": [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY}],
        "IsTruncated": False,
    }
    assert ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["AttachmentCount"] == before + 1
    entities = ok(iam.list_entities_for_policy(PolicyArn=S3_READ_ONLY, EntityFilter="Role"))
    assert {"RoleName": DEMO_ROLE, "RoleId": role.role_id} in entities["PolicyRoles"]

    # 3. Detach it; the role has no attached policy left.
    iam_resource.Role(DEMO_ROLE).detach_policy(PolicyArn=S3_READ_ONLY)
    assert list(iam_resource.Role(DEMO_ROLE).attached_policies.all()) == []
    assert ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["AttachmentCount"] == before

    # 4. Delete the role.
    iam_resource.Role(DEMO_ROLE).delete()
    fails(iam.get_role, RoleName=DEMO_ROLE, **expect.no_such_role(DEMO_ROLE))
    assert DEMO_ROLE not in [r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]]


def test_demo_role_trust_policy_round_trips_through_list_roles(iam, account_id, new_role, unique_name, unique_path):
    name, path = unique_name(), unique_path()
    created = new_role(name=name, trust=json.dumps(trust_policy(SERVICES)), Path=path)
    expect.check_role(created, account_id=account_id, name=name, path=path, trust=trust_policy(SERVICES),
                      max_session=None)
    listed = ok(iam.list_roles(PathPrefix=path))
    assert listed["IsTruncated"] is False
    assert len(listed["Roles"]) == 1
    expect.check_role(listed["Roles"][0], account_id=account_id, name=name, path=path,
                      trust=trust_policy(SERVICES), role_id=created["RoleId"], created=created["CreateDate"])
