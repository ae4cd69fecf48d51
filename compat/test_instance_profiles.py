"""Instance profiles through boto3: the calls Terraform's aws_iam_role and
aws_iam_instance_profile make, in the order they make them, and the errors on the way."""

import pytest

from conftest import LAMBDA_TRUST
from expect import fails, ok

EC2_TRUST = LAMBDA_TRUST.replace("lambda.amazonaws.com", "ec2.amazonaws.com")


@pytest.fixture
def cleanup_profiles(iam):
    """A list to append instance profile names to: each is emptied and deleted after the test."""
    names = []
    yield names
    for name in names:
        try:
            for role in iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Roles"]:
                iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
            iam.delete_instance_profile(InstanceProfileName=name)
        except iam.exceptions.NoSuchEntityException:
            pass


def test_terraform_creates_and_destroys_a_role_in_a_profile(iam, account_id, unique_name, cleanup_roles,
                                                            cleanup_profiles):
    role, profile = unique_name(), unique_name()
    cleanup_roles.append(role)
    cleanup_profiles.append(profile)
    # apply: the role, the profile, the role in the profile, then reads of both.
    ok(iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST))
    created = ok(iam.create_instance_profile(InstanceProfileName=profile, Path="/"))["InstanceProfile"]
    assert created["Arn"] == f"arn:aws:iam::{account_id}:instance-profile/{profile}"
    assert created["InstanceProfileId"].startswith("AIPA")
    assert created["Roles"] == []
    ok(iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role))
    read = ok(iam.get_instance_profile(InstanceProfileName=profile))["InstanceProfile"]
    assert [r["RoleName"] for r in read["Roles"]] == [role]
    assert set(read["Roles"][0]) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}

    # destroy, aws_iam_role first: its profiles listed and emptied, then the role deleted.
    fails(iam.delete_role, RoleName=role, code="DeleteConflict", status=409,
          message="Cannot delete entity, must remove roles from instance profile first.")
    pages = iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=role)
    listed = [p["InstanceProfileName"] for page in pages for p in page["InstanceProfiles"]]
    assert listed == [profile]
    for name in listed:
        ok(iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role))
    assert ok(iam.list_role_policies(RoleName=role))["PolicyNames"] == []
    assert ok(iam.list_attached_role_policies(RoleName=role))["AttachedPolicies"] == []
    ok(iam.delete_role(RoleName=role))
    # then aws_iam_instance_profile: whatever role it still names is gone already.
    fails(iam.remove_role_from_instance_profile, InstanceProfileName=profile, RoleName=role, code="NoSuchEntity",
          status=404)
    ok(iam.delete_instance_profile(InstanceProfileName=profile))
    fails(iam.get_instance_profile, InstanceProfileName=profile, code="NoSuchEntity", status=404,
          message=f"Instance Profile {profile} cannot be found.")


def test_a_profile_holds_one_role(iam, unique_name, cleanup_roles, cleanup_profiles):
    first, second, profile = unique_name(), unique_name(), unique_name()
    cleanup_roles.extend([first, second])
    cleanup_profiles.append(profile)
    for role in (first, second):
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=first)
    fails(iam.add_role_to_instance_profile, InstanceProfileName=profile, RoleName=second, code="LimitExceeded",
          status=409, message="Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    fails(iam.delete_instance_profile, InstanceProfileName=profile, code="DeleteConflict", status=409)
    fails(iam.create_instance_profile, InstanceProfileName=profile, code="EntityAlreadyExists", status=409,
          message=f"Instance Profile {profile} already exists.")


def test_profiles_are_listed_with_their_roles_and_tagged(iam, unique_name, unique_path, cleanup_roles,
                                                         cleanup_profiles):
    role, path = unique_name(), unique_path()
    names = sorted((unique_name() for _ in range(3)), key=str.lower)
    cleanup_roles.append(role)
    cleanup_profiles.extend(names)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=EC2_TRUST)
    for name in names:
        iam.create_instance_profile(InstanceProfileName=name, Path=path, Tags=[{"Key": "app", "Value": name}])
    iam.add_role_to_instance_profile(InstanceProfileName=names[1], RoleName=role)
    pages = list(iam.get_paginator("list_instance_profiles").paginate(PathPrefix=path, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2
    listed = [p for page in pages for p in page["InstanceProfiles"]]
    assert [p["InstanceProfileName"] for p in listed] == names
    assert [len(p["Roles"]) for p in listed] == [0, 1, 0]
    ok(iam.tag_instance_profile(InstanceProfileName=names[0], Tags=[{"Key": "env", "Value": "dev"}]))
    ok(iam.untag_instance_profile(InstanceProfileName=names[0], TagKeys=["app"]))
    assert ok(iam.list_instance_profile_tags(InstanceProfileName=names[0]))["Tags"] == [{"Key": "env", "Value": "dev"}]
