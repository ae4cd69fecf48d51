"""The policy simulator's options through boto3: PolicyExclusionList (what-if a policy were
gone, by type, ARN with wildcards, or inline name and holder), ResourceHandlingOption (the EC2
scenarios and the resources each needs) and SimulateCustomPolicy's
OrderedOrganizationPolicyInputList (an SCP hierarchy, root first)."""

import json

import pytest

from expect import fails, ok


def allow(*actions, effect="Allow"):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": list(actions), "Resource": "*"}]})


ACTIONS = ["sqs:SendMessage", "sns:Publish", "s3:GetObject", "dynamodb:GetItem"]


@pytest.fixture
def principal(iam, new_user, new_group, new_policy):
    """A user whose every way of being granted grants one action: its inline policy SQS, a
    customer managed policy SNS, an AWS managed policy S3 reads, its group's inline policy
    DynamoDB; its ARN and its group's name."""
    user = new_user()
    group = new_group()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="own", PolicyDocument=allow("sqs:SendMessage"))
    managed = new_policy(document=allow("sns:Publish"))
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=managed["Arn"])
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="grp", PolicyDocument=allow("dynamodb:GetItem"))
    iam.add_user_to_group(GroupName=group["GroupName"], UserName=user["UserName"])
    yield user, group["GroupName"], managed["Arn"]
    iam.detach_user_policy(UserName=user["UserName"], PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.detach_user_policy(UserName=user["UserName"], PolicyArn=managed["Arn"])


def decisions(iam, user, **kwargs):
    results = ok(iam.simulate_principal_policy(PolicySourceArn=user["Arn"], ActionNames=ACTIONS,
                                               **kwargs))["EvaluationResults"]
    return {r["EvalActionName"]: r["EvalDecision"] for r in results}


def test_excluded_policies_are_simulated_as_gone(iam, principal):
    user, group, managed = principal
    assert set(decisions(iam, user).values()) == {"allowed"}

    def without(*identifiers):
        return {a for a, d in decisions(iam, user, PolicyExclusionList=list(identifiers)).items() if d != "allowed"}

    assert without({"PolicyType": "inline"}) == {"sqs:SendMessage", "dynamodb:GetItem"}
    assert without({"PolicyType": "user-managed"}) == {"sns:Publish"}
    assert without({"PolicyType": "aws-managed"}) == {"s3:GetObject"}
    assert without({"PolicyArn": "arn:aws:iam::aws:policy/AmazonS3Read*"}) == {"s3:GetObject"}
    assert without({"PolicyArn": managed}) == {"sns:Publish"}
    assert without({"PolicyArn": "arn:aws:iam::aws:policy/NoSuch?olicy"}) == set(), "a match of nothing is ignored"
    assert without({"InlinePolicyIdentifier": {"PolicyName": "grp", "AttachmentType": "group",
                                               "AttachmentName": group}}) == {"dynamodb:GetItem"}
    assert without({"InlinePolicyIdentifier": {"PolicyName": "grp", "AttachmentType": "user",
                                               "AttachmentName": group}}) == set(), "not the user's"
    # Nothing changed for real.
    assert set(decisions(iam, user).values()) == {"allowed"}


def test_an_excluded_boundary_no_longer_bounds(iam, principal):
    user, _, _ = principal
    iam.put_user_permissions_boundary(UserName=user["UserName"],
                                      PermissionsBoundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    try:
        bounded = decisions(iam, user)
        assert {a for a, d in bounded.items() if d == "allowed"} == {"s3:GetObject"}
        unbounded = decisions(iam, user, PolicyExclusionList=[{"PolicyType": "permission-boundary"}])
        assert set(unbounded.values()) == {"allowed"}
    finally:
        iam.delete_user_permissions_boundary(UserName=user["UserName"])


def test_malformed_exclusions_are_invalid_input(iam, principal):
    user, _, _ = principal
    # (An identifier is a union: boto3 itself refuses one with two members.)
    for identifier in ({"PolicyArn": "arn:aws:iam::aws:policy/A*b*"},
                       {"PolicyArn": "arn:aws:iam::*:policy/AmazonS3ReadOnlyAccess"},
                       {"PolicyArn": "arn:aws:s3:::bucket-name"}):
        fails(iam.simulate_principal_policy, PolicySourceArn=user["Arn"], ActionNames=ACTIONS,
              PolicyExclusionList=[identifier], code="InvalidInput", status=400)


EC2 = "arn:aws:ec2:us-east-1:123456789012:"


def test_a_resource_handling_scenario_needs_its_resources(iam):
    instance_store = [f"{EC2}instance/i-1", "arn:aws:ec2:us-east-1::image/ami-1", f"{EC2}security-group/sg-1",
                      f"{EC2}network-interface/eni-1"]
    ok(iam.simulate_custom_policy(PolicyInputList=[allow("ec2:RunInstances")], ActionNames=["ec2:RunInstances"],
                                  ResourceArns=instance_store, ResourceHandlingOption="EC2-VPC-InstanceStore"))
    for option, resources in (("EC2-VPC-EBS", instance_store), ("EC2-VPC-InstanceStore", instance_store[:3]),
                              ("EC2-Classic-InstanceStore", instance_store)):
        fails(iam.simulate_custom_policy, PolicyInputList=[allow("ec2:RunInstances")],
              ActionNames=["ec2:RunInstances"], ResourceArns=resources, ResourceHandlingOption=option,
              code="InvalidInput", status=400)


def test_an_scp_hierarchy_is_simulated_root_first(iam):
    hierarchy = [{"ServiceControlPolicyInputList": [allow("*")]},
                 {"ServiceControlPolicyInputList": [allow("*"), allow("s3:DeleteObject", effect="Deny")]}]
    results = ok(iam.simulate_custom_policy(
        PolicyInputList=[allow("s3:*")], ActionNames=["s3:GetObject", "s3:DeleteObject"],
        OrderedOrganizationPolicyInputList=hierarchy))["EvaluationResults"]
    by_action = {r["EvalActionName"]: r for r in results}
    assert by_action["s3:GetObject"]["EvalDecision"] == "allowed"
    assert by_action["s3:GetObject"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert by_action["s3:DeleteObject"]["EvalDecision"] == "explicitDeny"
    assert by_action["s3:DeleteObject"]["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": False}
    # A level that allows nothing allows nothing below it.
    results = ok(iam.simulate_custom_policy(
        PolicyInputList=[allow("s3:*")], ActionNames=["s3:GetObject"],
        OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [allow("ec2:*")]},
                                            {"ServiceControlPolicyInputList": [allow("*")]}]))["EvaluationResults"]
    assert results[0]["EvalDecision"] == "implicitDeny"
    fails(iam.simulate_custom_policy, PolicyInputList=[allow("s3:*")], ActionNames=["s3:GetObject"],
          OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": ["{not json"]}],
          code="MalformedPolicyDocument", status=400)
    fails(iam.simulate_custom_policy, PolicyInputList=[allow("s3:*")], ActionNames=["s3:GetObject"],
          OrderedOrganizationPolicyInputList=[{"ServiceControlPolicyInputList": [allow("*")]},
                                              {"ServiceControlPolicyInputList": []}],
          code="InvalidInput", status=400)
