"""GetFederationToken through boto3 and the AWS CLI: a federated user's credentials, which
may do what both the user who asked and the session policy allow, call no IAM, and are
refused another federation token."""

import json

from expect import fails, ok

BROKER = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sts:GetFederationToken", "iam:ListUsers", "iam:ListRoles"], "Resource": "*"}]})
LIST_USERS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:ListUsers", "s3:ListAllMyBuckets"], "Resource": "*"}]})


def test_boto3_federated_user(iam, client_for, account_id, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="broker", PolicyDocument=BROKER)
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    answer = ok(sts.get_federation_token(Name="carol", Policy=LIST_USERS, DurationSeconds=900))
    assert {"Credentials", "FederatedUser", "PackedPolicySize"} <= set(answer)
    assert answer["FederatedUser"] == {
        "FederatedUserId": f"{account_id}:carol",
        "Arn": f"arn:aws:sts::{account_id}:federated-user/carol",
    }
    assert 0 < answer["PackedPolicySize"] < 100
    c = answer["Credentials"]
    federated = client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    assert federated.get_caller_identity()["Arn"] == answer["FederatedUser"]["Arn"]
    assert federated.get_caller_identity()["UserId"] == f"{account_id}:carol"
    # No IAM for federated users, whatever their policies; no second federation token.
    federated_iam = client_for("iam", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    fails(federated_iam.list_users, code="AccessDenied", status=403)
    fails(federated.get_federation_token, Name="again", code="AccessDenied", status=403,
          message="Cannot call GetFederationToken with session credentials")
    # Names and durations as AWS checks them.
    fails(sts.get_federation_token, Name="has space", code="ValidationError", status=400)
    fails(sts.get_federation_token, Name="carol", DurationSeconds=129_601, code="ValidationError", status=400)


def test_cli_federated_user(aws, iam, account_id, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="broker", PolicyDocument=BROKER)
    proc = aws("sts", "get-federation-token", "--name", "dave", "--policy", LIST_USERS,
               key=(key["AccessKeyId"], key["SecretAccessKey"]))
    answer = json.loads(proc.stdout)
    assert answer["FederatedUser"]["Arn"] == f"arn:aws:sts::{account_id}:federated-user/dave"
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
