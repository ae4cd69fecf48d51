"""SSH public keys and service-specific credentials through boto3 and the AWS CLI: what
CodeCommit users and Terraform's aws_iam_user_ssh_key and
aws_iam_service_specific_credential do, fingerprints as `ssh-keygen -E md5` prints them
(the fixtures are ssh-keygen's), and a user's deletion waiting for both."""

import base64
import json
import struct
from pathlib import Path

from expect import fails, ok

FIXTURES = Path(__file__).resolve().parent.parent / "crates" / "oxiam-core" / "tests" / "fixtures" / "ssh"


def fixture(name):
    return (FIXTURES / name).read_text()


def fingerprint(name):
    for line in fixture("fingerprints.txt").splitlines():
        key, value = line.split(" ")
        if key == name:
            return value
    raise KeyError(name)


def ed25519_key(n):
    """A distinct, well-formed ssh-ed25519 key for each n."""
    blob = b"".join(struct.pack(">I", len(part)) + part for part in (b"ssh-ed25519", bytes([n]) * 32))
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} key-{n}"


def test_ssh_public_keys_are_uploaded_read_in_both_encodings_and_removed(iam, new_user):
    name = new_user()["UserName"]
    body = fixture("rsa2048.pub")
    key = ok(iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=body))["SSHPublicKey"]
    assert key["Fingerprint"] == fingerprint("rsa2048")
    assert key["SSHPublicKeyBody"] == body and key["Status"] == "Active"
    key_id = key["SSHPublicKeyId"]
    assert key_id.startswith("APKA") and len(key_id) == 20
    pem = ok(iam.get_ssh_public_key(UserName=name, SSHPublicKeyId=key_id, Encoding="PEM"))["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"].strip() == fixture("rsa2048.pkcs8.pem").strip()
    fails(iam.upload_ssh_public_key, UserName=name, SSHPublicKeyBody=fixture("rsa2048.pkcs8.pem"),
          code="DuplicateSSHPublicKey", status=400)
    fails(iam.upload_ssh_public_key, UserName=name, SSHPublicKeyBody=fixture("rsa1024.pub"),
          code="InvalidPublicKey", status=400)
    fails(iam.upload_ssh_public_key, UserName=name, SSHPublicKeyBody="hello",
          code="UnrecognizedPublicKeyEncoding", status=400)
    ok(iam.update_ssh_public_key(UserName=name, SSHPublicKeyId=key_id, Status="Inactive"))
    listed = ok(iam.list_ssh_public_keys(UserName=name))["SSHPublicKeys"]
    assert [(k["SSHPublicKeyId"], k["Status"]) for k in listed] == [(key_id, "Inactive")]
    assert "Fingerprint" not in listed[0] and "SSHPublicKeyBody" not in listed[0]
    for n in range(4):
        ok(iam.upload_ssh_public_key(UserName=name, SSHPublicKeyBody=ed25519_key(n)))
    fails(iam.upload_ssh_public_key, UserName=name, SSHPublicKeyBody=ed25519_key(9), code="LimitExceeded",
          status=409)
    fails(iam.delete_user, UserName=name, code="DeleteConflict", status=409,
          message="Cannot delete entity, must remove referenced objects first.")
    ok(iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key_id))
    fails(iam.get_ssh_public_key, UserName=name, SSHPublicKeyId=key_id, Encoding="SSH", code="NoSuchEntity",
          status=404, message=f"The Public Key with id {key_id} cannot be found.")


def test_service_specific_credentials_show_their_secret_once(iam, new_user, account_id):
    name = new_user()["UserName"]
    git = ok(iam.create_service_specific_credential(UserName=name, ServiceName="codecommit.amazonaws.com"))
    git = git["ServiceSpecificCredential"]
    assert git["ServiceUserName"] == f"{name}-at-{account_id}" and len(git["ServicePassword"]) == 44
    api = ok(iam.create_service_specific_credential(UserName=name, ServiceName="bedrock.amazonaws.com",
                                                    CredentialAgeDays=7))["ServiceSpecificCredential"]
    assert api["ServiceCredentialAlias"] == f"{name}-at-{account_id}"
    assert api["ServiceCredentialSecret"].startswith("ABSK") and "ServicePassword" not in api
    assert (api["ExpirationDate"] - api["CreateDate"]).days == 7
    fails(iam.create_service_specific_credential, UserName=name, ServiceName="s3.amazonaws.com",
          code="NoSuchEntity", status=404,
          message="No such service s3.amazonaws.com is supported for Service Specific Credentials")
    listed = ok(iam.list_service_specific_credentials(UserName=name))["ServiceSpecificCredentials"]
    assert sorted(c["ServiceName"] for c in listed) == ["bedrock.amazonaws.com", "codecommit.amazonaws.com"]
    assert all("ServicePassword" not in c and "ServiceCredentialSecret" not in c for c in listed)
    reset = ok(iam.reset_service_specific_credential(
        UserName=name, ServiceSpecificCredentialId=git["ServiceSpecificCredentialId"]))["ServiceSpecificCredential"]
    assert reset["ServicePassword"] != git["ServicePassword"]
    ok(iam.update_service_specific_credential(UserName=name, ServiceSpecificCredentialId=git["ServiceSpecificCredentialId"],
                                              Status="Inactive"))
    fails(iam.delete_user, UserName=name, code="DeleteConflict", status=409,
          message="Cannot delete entity, must remove referenced objects first.")


def test_the_cli_manages_ssh_keys_and_git_credentials(aws, iam, new_user):
    name = new_user()["UserName"]
    out = aws("iam", "upload-ssh-public-key", "--user-name", name, "--ssh-public-key-body", fixture("ed25519.pub"))
    key = json.loads(out.stdout)["SSHPublicKey"]
    assert key["Fingerprint"] == fingerprint("ed25519")
    out = aws("iam", "list-ssh-public-keys", "--user-name", name)
    assert [k["SSHPublicKeyId"] for k in json.loads(out.stdout)["SSHPublicKeys"]] == [key["SSHPublicKeyId"]]
    out = aws("iam", "create-service-specific-credential", "--user-name", name, "--service-name",
              "codecommit.amazonaws.com")
    credential = json.loads(out.stdout)["ServiceSpecificCredential"]
    out = aws("iam", "list-service-specific-credentials", "--user-name", name)
    listed = json.loads(out.stdout)["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [credential["ServiceSpecificCredentialId"]]
    aws("iam", "delete-service-specific-credential", "--user-name", name, "--service-specific-credential-id",
        credential["ServiceSpecificCredentialId"])
    aws("iam", "delete-ssh-public-key", "--user-name", name, "--ssh-public-key-id", key["SSHPublicKeyId"])
    assert iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"] == []
