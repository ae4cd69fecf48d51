"""Responses as AWS really writes them, where a recorded answer differs from a reading of the
API reference: what CreateRole, UpdateRoleDescription and ListRoles leave out, policy tags,
GetAccountAuthorizationDetails' empty members, and the texts of malformed input."""

import json

from conftest import LAMBDA_TRUST
from expect import empty_ok, fails, ok
from model_check import unmodeled

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def test_role_answers_leave_out_what_getrole_has(iam, new_role, unique_path):
    path = unique_path()
    created = new_role(Path=path, PermissionsBoundary=READ_ONLY)
    assert "MaxSessionDuration" not in created and "RoleLastUsed" not in created
    described = ok(iam.update_role_description(RoleName=created["RoleName"], Description="d"))["Role"]
    assert "MaxSessionDuration" not in described and "RoleLastUsed" not in described
    listed = ok(iam.list_roles(PathPrefix=path))["Roles"]
    assert [r["RoleName"] for r in listed] == [created["RoleName"]]
    assert "PermissionsBoundary" not in listed[0]
    got = ok(iam.get_role(RoleName=created["RoleName"]))["Role"]
    assert got["MaxSessionDuration"] == 3600
    assert got["PermissionsBoundary"]["PermissionsBoundaryArn"] == READ_ONLY


def test_policy_tag_keys_differ_by_case_and_are_listed_by_key(iam, new_policy):
    arn = new_policy(document=DOC)["Arn"]
    fails(iam.tag_policy, PolicyArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
          code="InvalidInput", status=400, message="Duplicate tag keys found.")
    tags = [{"Key": k, "Value": k} for k in ["z", "b", "B", "m"]]
    empty_ok(iam.tag_policy(PolicyArn=arn, Tags=tags))
    first = ok(iam.list_policy_tags(PolicyArn=arn, MaxItems=3))
    assert [t["Key"] for t in first["Tags"]] == ["B", "b", "m"]
    assert first["IsTruncated"] is True
    rest = ok(iam.list_policy_tags(PolicyArn=arn, Marker=first["Marker"]))
    assert ([t["Key"] for t in rest["Tags"]], rest["IsTruncated"]) == (["z"], False)
    empty_ok(iam.untag_policy(PolicyArn=arn, TagKeys=["b"]))
    assert [t["Key"] for t in ok(iam.list_policy_tags(PolicyArn=arn))["Tags"]] == ["B", "m", "z"]


def test_authorization_details_always_carry_tags_and_leave_out_empty_inline_lists(iam, new_user, new_role):
    user = new_user()["UserName"]
    role = new_role()["RoleName"]
    details = ok(iam.get_account_authorization_details(Filter=["User", "Role"], MaxItems=1000))
    user_detail = next(u for u in details["UserDetailList"] if u["UserName"] == user)
    assert user_detail["Tags"] == []
    assert "UserPolicyList" not in user_detail
    role_detail = next(r for r in details["RoleDetailList"] if r["RoleName"] == role)
    assert role_detail["Tags"] == []


def test_malformed_boundaries_and_trust_policies_say_so(iam, new_user, unique_name):
    user = new_user()["UserName"]
    fails(iam.put_user_permissions_boundary, UserName=user, PermissionsBoundary="not-an-arn-at-all-xxxx",
          code="InvalidInput", status=400, message="Scope ARN: not-an-arn-at-all-xxxx is not valid.")
    fails(iam.create_role, RoleName=unique_name(), AssumeRolePolicyDocument='{"Version":', code="MalformedPolicyDocument",
          status=400, message="This policy contains invalid Json")
    fails(iam.create_policy, PolicyName=unique_name(), PolicyDocument='{"Version":', code="MalformedPolicyDocument",
          status=400, message="Syntax errors in policy.")


def test_an_element_the_model_lacks_is_found(iam):
    """The check every IAM and STS answer of the suite goes through (model_check.py) finds
    what it is there to find: AWS's own SessionTokenUtilization is modeled, an invented
    element is not, in the result, in a list member, and beside the result."""
    model = iam.meta.service_model.operation_model("GetUser")
    ns = 'xmlns="https://iam.amazonaws.com/doc/2010-05-08/"'
    good = (f"<GetUserResponse {ns}><GetUserResult><User><UserName>a</UserName><Tags><member><Key>k</Key>"
            "<Value>v</Value></member></Tags></User></GetUserResult>"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetUserResponse>")
    assert unmodeled(model, good) == []
    assert unmodeled(model, good.replace("<UserName>a</UserName>", "<UserName>a</UserName><Shoe>1</Shoe>")) == [
        "/GetUserResponse/GetUserResult/User/Shoe"]
    assert unmodeled(model, good.replace("<Value>v</Value>", "<Value>v</Value><Extra/>")) == [
        "/GetUserResponse/GetUserResult/User/Tags/member/Extra"]
    assert unmodeled(model, good.replace("<ResponseMetadata>", "<Other/><ResponseMetadata>")) == [
        "/GetUserResponse/Other"]
