"""IAM GetRoleTemplateVersion through boto3: the role templates AWS publishes, as AWS answers
them, and AWS's NoSuchEntity texts for a template or a minor version it does not have."""

import datetime
import json

from expect import fails, ok

def document(value):
    """A policy document as boto3 hands it over: botocore parses the JSON of policy members."""
    return value if isinstance(value, dict) else json.loads(value)


POWER_USER = "arn:aws:iam::aws:role-template/iam.amazonaws.com/PowerUserRoleTemplate:1"
ROTATION = "arn:aws:iam::aws:role-template/secretsmanager.amazonaws.com/AWSSecretsManagerRotationRoleTemplate:1"


def test_power_user_template(iam):
    version = ok(iam.get_role_template_version(TemplateArn=POWER_USER))["RoleTemplateVersion"]
    assert version["TemplateArn"] == POWER_USER
    assert version["TemplateName"] == "PowerUserRoleTemplate"
    assert (version["MajorVersion"], version["MinorVersion"], version["DefaultMinorVersion"]) == (1, 0, 0)
    assert (version["ManagedByType"], version["ManagedByValue"]) == ("Service", "iam.amazonaws.com")
    assert version["Enabled"] is True and version["VersionEnabled"] is True
    assert version["RoleNamePattern"] == "@{RoleName}"
    assert "RolePathPattern" not in version
    assert version["RoleDescriptionPattern"] == "Power user role for @{AWSServiceName}"
    trust = document(version["AssumeRolePolicyDocumentTemplate"])
    assert trust["Statement"][0]["Principal"] == {"Service": "@{AWSServiceName}"}
    assert version["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/PowerUserAccess"]
    assert "InlinePolicyTemplates" not in version
    assert version["ParametersDefinition"] == [
        {"Name": "AWSServiceName", "Type": "String", "Description": "Service principal of the service",
         "IsRequired": True, "Immutable": False},
        {"Name": "RoleName", "Type": "String", "Description": "Customized name for the role", "IsRequired": False,
         "DefaultValue": "PowerUserRole", "Immutable": False},
    ]
    assert version["MaxSessionDuration"] == 3600
    assert version["CreateTimestamp"] == datetime.datetime(2026, 6, 12, 2, 57, 8, tzinfo=datetime.timezone.utc)
    # The default minor version, asked for by number.
    assert iam.get_role_template_version(TemplateArn=POWER_USER, MinorVersion=0)["RoleTemplateVersion"] == version


def test_inline_policy_templates_and_list_parameters(iam):
    version = iam.get_role_template_version(TemplateArn=ROTATION)["RoleTemplateVersion"]
    assert version["RolePathPattern"] == "/service-role/"
    [inline] = version["InlinePolicyTemplates"]
    assert inline["PolicyName"] == "SecretRotationPermissionPolicy"
    statements = document(inline["PolicyDocument"])["Statement"]
    assert [s.get("@Enabled") for s in statements] == [None, None, "ADMIN_RESOURCE_ENABLED", "CMK_ENABLED"]
    kinds = {p["Name"]: p["Type"] for p in version["ParametersDefinition"]}
    assert kinds["kmsKeyArn"] == "StringList" and kinds["region"] == "String"


def test_unknown_templates_and_versions(iam, user_with_key, client_for):
    unknown = "arn:aws:iam::aws:role-template/iam.amazonaws.com/NoSuchTemplate:1"
    fails(iam.get_role_template_version, TemplateArn=unknown, code="NoSuchEntity", status=404,
          message=f"Role Template {unknown} cannot be found.")
    fails(iam.get_role_template_version, TemplateArn=POWER_USER, MinorVersion=999, code="NoSuchEntity", status=404,
          message=f"Role template not found in repository: {POWER_USER}")
    # A user needs iam:GetRoleTemplateVersion on the template's ARN.
    user, key = user_with_key()
    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    fails(user_iam.get_role_template_version, TemplateArn=POWER_USER, code="AccessDenied", status=403)
    iam.put_user_policy(UserName=user["UserName"], PolicyName="templates", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetRoleTemplateVersion",
                       "Resource": "arn:aws:iam::aws:role-template/iam.amazonaws.com/*"}]}))
    user_iam.get_role_template_version(TemplateArn=POWER_USER)
    fails(user_iam.get_role_template_version, TemplateArn=ROTATION, code="AccessDenied", status=403)


def values(**given):
    """ReplacementValues as boto3 takes them: each parameter a list of values."""
    return {name: {"Values": v if isinstance(v, list) else [v]} for name, v in given.items()}


def test_acquire_role_renders_the_template_and_finds_it_again(iam, unique_name, cleanup_roles, account_id):
    name = unique_name("power")
    cleanup_roles.append(name)
    answer = ok(iam.acquire_role(TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", RoleName=name)))
    role = answer["Role"]
    # AWS's answer: the role's name, ids and trust policy, nothing more.
    assert set(role) == {"Path", "RoleName", "RoleId", "Arn", "CreateDate", "AssumeRolePolicyDocument"}
    assert role["Arn"] == f"arn:aws:iam::{account_id}:role/{name}"
    assert document(role["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"}
    got = iam.get_role(RoleName=name)["Role"]
    assert got["Description"] == "Power user role for lambda.amazonaws.com"
    assert got["MaxSessionDuration"] == 3600
    assert got["SourceRoleTemplate"] == {"TemplateArn": POWER_USER, "TemplateMinorVersion": 0}
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/PowerUserAccess"]
    # The same template and values: the same role.
    again = iam.acquire_role(TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", RoleName=name))["Role"]
    assert (again["RoleId"], again["CreateDate"]) == (role["RoleId"], role["CreateDate"])
    # Other values for the same name: NameConflict.
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="ec2.amazonaws.com", RoleName=name), code="NameConflict", status=409,
        message="A role with this name exists but was created with different parameters. "
                "Pass a unique roleName to create a new role.")
    # Changed since: no longer managed.
    iam.tag_role(RoleName=name, Tags=[{"Key": "team", "Value": "x"}])
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", RoleName=name), code="RoleModified", status=409,
        message=f"Role {name} has been modified since it was created and is no longer managed.")
    iam.untag_role(RoleName=name, TagKeys=["team"])
    iam.acquire_role(TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", RoleName=name))


def test_acquire_role_statements_lists_and_errors(iam, new_role, unique_name, cleanup_roles, account_id):
    name = unique_name("rotation")
    cleanup_roles.append(name)
    keys = [f"arn:aws:kms:us-east-1:{account_id}:key/1", f"arn:aws:kms:us-east-1:{account_id}:key/2"]
    base = dict(accountId=account_id, adminType="rds", region="us-east-1", resourceType="rds", RoleName=name)
    role = iam.acquire_role(TemplateArn=ROTATION, ReplacementValues=values(
        CMK_ENABLED="True", kmsKeyArn=keys, **base))["Role"]
    assert role["Path"] == "/service-role/"
    inline = document(iam.get_role_policy(RoleName=name, PolicyName="SecretRotationPermissionPolicy")["PolicyDocument"])
    sids = [s["Sid"] for s in inline["Statement"]]
    # ADMIN_RESOURCE_ENABLED keeps its default, False: that statement is left out.
    assert sids == ["AllowRotationAccessGeneric", "AllowPasswordGenerationAccessAdmin", "KMSAccessForCustomerSecret"]
    assert all("@Enabled" not in s for s in inline["Statement"])
    assert inline["Statement"][2]["Resource"] == keys, "a list placeholder renders to the list"
    assert inline["Statement"][0]["Resource"] == f"arn:aws:secretsmanager:us-east-1:{account_id}:secret:*"

    missing = unique_name("missing")
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(RoleName=missing),
          code="InvalidInput", status=400, message="Failed to render template: Parameter 'AWSServiceName' not found.")
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", Unused="x"), code="InvalidInput", status=400,
        message="Failed to render template: Unrecognized parameter: Unused")
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName=["a.amazonaws.com", "b.amazonaws.com"]), code="ValidationError", status=400,
        message="AWSServiceName replacement value must contain exactly one value, got 2")
    # A role of that name that no template made.
    taken = new_role()
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="lambda.amazonaws.com", RoleName=taken["RoleName"]), code="NameConflict", status=409)
    # Nothing was left behind by the failure.
    fails(iam.get_role, RoleName=missing, code="NoSuchEntity", status=404)


def test_acquire_role_is_authorized_as_the_actions_it_takes(iam, user_with_key, client_for, unique_name,
                                                            cleanup_roles):
    user, key = user_with_key()
    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    name = unique_name("auth")
    cleanup_roles.append(name)
    ask = dict(TemplateArn=POWER_USER, ReplacementValues=values(AWSServiceName="lambda.amazonaws.com", RoleName=name))

    def allow(*actions, condition=None):
        statement = {"Effect": "Allow", "Action": list(actions), "Resource": "*"}
        if condition:
            statement["Condition"] = condition
        iam.put_user_policy(UserName=user["UserName"], PolicyName="acquire", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]}))

    fails(user_iam.acquire_role, **ask, code="AccessDenied", status=403)
    allow("iam:GetRoleTemplateVersion", "iam:CreateRole")
    message = fails(user_iam.acquire_role, **ask, code="AccessDenied", status=403)
    assert "iam:AttachRolePolicy" in message, message
    fails(iam.get_role, RoleName=name, code="NoSuchEntity", status=404)
    # iam:RoleTemplateARN names the template on every action it takes.
    allow("iam:GetRoleTemplateVersion", "iam:CreateRole", "iam:AttachRolePolicy", "iam:GetRole",
          condition={"StringEqualsIfExists": {"iam:RoleTemplateARN": ROTATION}})
    fails(user_iam.acquire_role, **ask, code="AccessDenied", status=403)
    allow("iam:GetRoleTemplateVersion", "iam:CreateRole", "iam:AttachRolePolicy", "iam:GetRole",
          condition={"StringEqualsIfExists": {"iam:RoleTemplateARN": POWER_USER}})
    user_iam.acquire_role(**ask)
    # Found again: iam:GetRole suffices, CreateRole is not asked for.
    allow("iam:GetRoleTemplateVersion", "iam:GetRole")
    user_iam.acquire_role(**ask)


def test_acquire_role_with_defaults_and_a_name_createrole_would_refuse(iam, unique_name, cleanup_roles, account_id):
    admin = "arn:aws:iam::aws:role-template/datazone.amazonaws.com/AmazonSageMakerAdminIAMPermissiveExecutionRoleTemplate:1"
    name = unique_name("studio")
    cleanup_roles.append(name)
    # Defaults: CMK_ENABLED is False, so the KMS policy has no statement left and is left out.
    iam.acquire_role(TemplateArn=admin, ReplacementValues=values(
        accountId=account_id, keyAccountId=account_id, keyRegion="us-east-1", kmsKeyId="k", RoleName=name))
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["SageMakerStudioAdminIAMPermissiveExecutionPolicy"]
    # A replacement value can make no name CreateRole would refuse, nor a path of its own.
    for bad in ["team/evil", "", "x" * 65]:
        fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
            AWSServiceName="lambda.amazonaws.com", RoleName=bad), code="ValidationError", status=400)


def test_acquire_role_keeps_createroles_limits_on_what_values_make(iam, unique_name, account_id):
    # The description renders AWSServiceName into it: past 1,000 characters CreateRole refuses it.
    fails(iam.acquire_role, TemplateArn=POWER_USER, ReplacementValues=values(
        AWSServiceName="s" * 990, RoleName=unique_name("long")), code="ValidationError", status=400)
    # A list parameter can grow an inline policy past the role's inline quota (10,240).
    name = unique_name("quota")
    keys = [f"arn:aws:kms:us-east-1:{account_id}:key/{'k' * 600}{i}" for i in range(20)]
    fails(iam.acquire_role, TemplateArn=ROTATION, ReplacementValues=values(
        accountId=account_id, adminType="rds", region="us-east-1", resourceType="rds", RoleName=name,
        CMK_ENABLED="True", kmsKeyArn=keys), code="LimitExceeded", status=409)
    fails(iam.get_role, RoleName=name, code="NoSuchEntity", status=404)
