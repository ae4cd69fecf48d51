"""Service-linked roles through boto3 and the AWS CLI: what Terraform's
aws_iam_service_linked_role does (create, read back, delete, wait for the deletion task),
and AWS's refusals around such a role."""

import json

from expect import fails, ok

ELB = "elasticloadbalancing.amazonaws.com"


def test_terraform_creates_reads_and_deletes_a_service_linked_role(iam, account_id):
    role = ok(iam.create_service_linked_role(AWSServiceName=ELB, Description="by terraform"))["Role"]
    name = role["RoleName"]
    try:
        assert name == "AWSServiceRoleForElasticLoadBalancing"
        assert role["Arn"] == f"arn:aws:iam::{account_id}:role/aws-service-role/{ELB}/{name}"
        got = ok(iam.get_role(RoleName=name))["Role"]
        assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ELB}
        attached = ok(iam.list_attached_role_policies(RoleName=name))["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["AWSElasticLoadBalancingServiceRolePolicy"]
        fails(iam.create_service_linked_role, AWSServiceName=ELB, code="InvalidInput", status=400,
              message=f"Service role name {name} has been taken in this account, please try a different suffix.")
        fails(iam.delete_role, RoleName=name, code="UnmodifiableEntity", status=400,
              message=f"Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS")
    finally:
        task = ok(iam.delete_service_linked_role(RoleName=name))["DeletionTaskId"]
    assert task.startswith(f"task/aws-service-role/{ELB}/{name}/")
    assert ok(iam.get_service_linked_role_deletion_status(DeletionTaskId=task))["Status"] == "SUCCEEDED"
    fails(iam.get_role, RoleName=name, code="NoSuchEntity", status=404)


def test_the_cli_makes_a_suffixed_service_linked_role(aws):
    out = aws("iam", "create-service-linked-role", "--aws-service-name", "autoscaling.amazonaws.com",
              "--custom-suffix", "compat")
    name = json.loads(out.stdout)["Role"]["RoleName"]
    assert name == "AWSServiceRoleForAutoScaling_compat"
    out = aws("iam", "delete-service-linked-role", "--role-name", name)
    task = json.loads(out.stdout)["DeletionTaskId"]
    out = aws("iam", "get-service-linked-role-deletion-status", "--deletion-task-id", task)
    assert json.loads(out.stdout)["Status"] == "SUCCEEDED"
