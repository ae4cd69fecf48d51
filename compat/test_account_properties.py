"""IAM account properties through boto3: GetAccountProperties answers every property oxiam
knows (the one AWS documents, RoleManager/Enabled), PutAccountProperties sets them within one
namespace, and iam:AccountPropertyNamespaces carries the namespaces a request sets."""

import json

from expect import fails, ok

ENABLED = "RoleManager/Enabled"


def test_get_and_put(iam):
    assert ok(iam.get_account_properties()) == {"Properties": {ENABLED: "false"}}
    try:
        assert ok(iam.put_account_properties(Properties={ENABLED: "true"})) == {}
        assert iam.get_account_properties()["Properties"] == {ENABLED: "true"}
        # Booleans in any case, stored as IAM writes them.
        iam.put_account_properties(Properties={ENABLED: "FALSE"})
        assert iam.get_account_properties()["Properties"] == {ENABLED: "false"}
    finally:
        iam.put_account_properties(Properties={ENABLED: "false"})


def test_bad_properties(iam, iam_raw):
    for properties in [
        {ENABLED: "yes"},
        {"RoleManager/Unknown": "true"},
        {ENABLED: "true", "Other/Enabled": "true"},
        {"RoleManager": "true"},
        {"RoleManager/Enabled/More": "true"},
    ]:
        fails(iam.put_account_properties, Properties=properties, code="InvalidInput", status=400)
    # The model's own bounds come first: a key must start with a letter.
    fails(iam_raw.put_account_properties, Properties={"1Role/Enabled": "true"}, code="ValidationError", status=400)
    assert iam.get_account_properties()["Properties"] == {ENABLED: "false"}


def test_namespaces_condition_key(iam, user_with_key, client_for):
    user, key = user_with_key()

    def allow_namespaces(namespaces):
        iam.put_user_policy(UserName=user["UserName"], PolicyName="props", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:GetAccountProperties", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:PutAccountProperties", "Resource": "*",
                 "Condition": {"ForAllValues:StringEquals": {"iam:AccountPropertyNamespaces": namespaces}}},
            ]}))

    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    allow_namespaces(["Other"])
    fails(user_iam.put_account_properties, Properties={ENABLED: "false"}, code="AccessDenied", status=403)
    allow_namespaces(["RoleManager"])
    try:
        user_iam.put_account_properties(Properties={ENABLED: "false"})
    finally:
        iam.put_account_properties(Properties={ENABLED: "false"})
    assert user_iam.get_account_properties()["Properties"] == {ENABLED: "false"}
