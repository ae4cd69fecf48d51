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
