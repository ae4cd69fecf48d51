"""The AWS CLI (v1, from compat/.venv) against oxiam: the user and access key commands,
with --output json, configured only through the environment."""

import datetime
import json
import re

import expect

# The CLI prints timestamps as IAM sends them: ISO-8601 UTC in whole seconds.
CLI_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _json(proc):
    return json.loads(proc.stdout)


def _recent(text):
    assert CLI_DATE.match(text), text
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 60


def test_cli_sts_get_caller_identity_as_root(aws, account_id):
    out = _json(aws("sts", "get-caller-identity"))
    assert out == {"UserId": account_id, "Account": account_id, "Arn": f"arn:aws:iam::{account_id}:root"}


def test_cli_user_and_access_key_lifecycle(aws, account_id, unique_name, unique_path, cleanup_users):
    name, path = unique_name(), unique_path()
    cleanup_users.append(name)

    # create-user with --tags
    out = _json(aws("iam", "create-user", "--user-name", name, "--path", path,
                    "--tags", "Key=team,Value=identity", "Key=env,Value=test"))
    user = out["User"]
    assert set(out) == {"User"}
    assert set(user) == {"Path", "UserName", "UserId", "Arn", "CreateDate", "Tags"}
    assert user["UserName"] == name
    assert user["Path"] == path
    assert user["Arn"] == expect.user_arn(account_id, name, path)
    assert expect.USER_ID.match(user["UserId"])
    _recent(user["CreateDate"])
    assert user["Tags"] == [{"Key": "team", "Value": "identity"}, {"Key": "env", "Value": "test"}]

    # get-user
    got = _json(aws("iam", "get-user", "--user-name", name))
    assert got == {"User": user}

    # update-user: rename, the id survives
    new_name = unique_name("renamed")
    cleanup_users.append(new_name)
    proc = aws("iam", "update-user", "--user-name", name, "--new-user-name", new_name)
    assert proc.stdout.strip() == ""
    renamed = _json(aws("iam", "get-user", "--user-name", new_name))["User"]
    assert renamed["UserId"] == user["UserId"]
    assert renamed["Arn"] == expect.user_arn(account_id, new_name, path)
    assert renamed["CreateDate"] == user["CreateDate"]

    # create-access-key
    key = _json(aws("iam", "create-access-key", "--user-name", new_name))["AccessKey"]
    assert set(key) == {"UserName", "AccessKeyId", "Status", "SecretAccessKey", "CreateDate"}
    assert key["UserName"] == new_name
    assert expect.ACCESS_KEY_ID.match(key["AccessKeyId"])
    assert expect.SECRET_ACCESS_KEY.match(key["SecretAccessKey"])
    assert key["Status"] == "Active"
    _recent(key["CreateDate"])

    # the new key works with the CLI too
    me = _json(aws("sts", "get-caller-identity", key=(key["AccessKeyId"], key["SecretAccessKey"])))
    assert me == {"UserId": user["UserId"], "Account": account_id, "Arn": renamed["Arn"]}

    # list-access-keys
    keys = _json(aws("iam", "list-access-keys", "--user-name", new_name))
    metadata = {k: v for k, v in key.items() if k != "SecretAccessKey"}
    assert keys == {"AccessKeyMetadata": [metadata]}

    # update-access-key
    proc = aws("iam", "update-access-key", "--user-name", new_name, "--access-key-id", key["AccessKeyId"],
               "--status", "Inactive")
    assert proc.stdout.strip() == ""
    keys = _json(aws("iam", "list-access-keys", "--user-name", new_name))
    assert keys == {"AccessKeyMetadata": [dict(metadata, Status="Inactive")]}

    # delete-user refused while the key exists
    proc = aws("iam", "delete-user", "--user-name", new_name, check=False)
    assert proc.returncode == 255, proc
    assert "An error occurred (DeleteConflict) when calling the DeleteUser operation: " \
           "Cannot delete entity, must delete access keys first." in proc.stderr

    # delete-access-key, delete-user
    proc = aws("iam", "delete-access-key", "--user-name", new_name, "--access-key-id", key["AccessKeyId"])
    assert proc.stdout.strip() == ""
    assert _json(aws("iam", "list-access-keys", "--user-name", new_name)) == {"AccessKeyMetadata": []}
    proc = aws("iam", "delete-user", "--user-name", new_name)
    assert proc.stdout.strip() == ""
    proc = aws("iam", "get-user", "--user-name", new_name, check=False)
    assert proc.returncode == 255 and "(NoSuchEntity)" in proc.stderr, proc


def test_cli_list_users_shows_users_without_tags(aws, account_id, unique_name, unique_path, cleanup_users):
    name, path = unique_name(), unique_path()
    cleanup_users.append(name)
    user = _json(aws("iam", "create-user", "--user-name", name, "--path", path, "--tags", "Key=k,Value=v"))["User"]
    listed = _json(aws("iam", "list-users", "--path-prefix", path))
    assert listed == {"Users": [{k: v for k, v in user.items() if k != "Tags"}]}
    assert set(listed["Users"][0]) == {"Path", "UserName", "UserId", "Arn", "CreateDate"}


def test_cli_get_user_of_a_missing_user_fails_with_no_such_entity(aws, unique_name):
    """AWS CLI v1 exits 255 on a service error (v2 uses 254)."""
    name = unique_name()
    proc = aws("iam", "get-user", "--user-name", name, check=False)
    assert proc.returncode == 255, proc
    assert proc.stdout == ""
    assert (
        f"An error occurred (NoSuchEntity) when calling the GetUser operation: "
        f"The user with name {name} cannot be found." in proc.stderr
    )


def test_cli_paginates_list_users_across_pages(aws, new_user, unique_name, unique_path):
    path = unique_path()
    names = sorted((unique_name(f"p{i}") for i in range(5)), key=str.lower)
    for name in names:
        new_user(name=name, path=path)
    out = _json(aws("iam", "list-users", "--path-prefix", path, "--page-size", "2"))
    assert [u["UserName"] for u in out["Users"]] == names
    out = _json(aws("iam", "list-users", "--path-prefix", path, "--max-items", "3"))
    assert [u["UserName"] for u in out["Users"]] == names[:3]
    assert out["NextToken"]


def test_cli_with_a_wrong_secret_fails_with_signature_does_not_match(aws, server):
    proc = aws("sts", "get-caller-identity", key=(server.root_key_id, "q" * 40), check=False)
    assert proc.returncode == 255, proc
    assert "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation" in proc.stderr


def test_cli_access_analyzer_validate_policy(aws, tmp_path):
    """`aws accessanalyzer validate-policy`, as a CI step would run it on a policy file."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
    ]}))
    out = _json(aws("accessanalyzer", "validate-policy", "--policy-type", "IDENTITY_POLICY",
                    "--policy-document", f"file://{policy}"))
    assert [(f["findingType"], f["issueCode"]) for f in out["findings"]] == [
        ("SECURITY_WARNING", "PASS_ROLE_WITH_STAR_IN_RESOURCE"),
    ], out
