"""Virtual MFA devices through boto3 and the AWS CLI, with codes made by pyotp (an
implementation of RFC 6238 independent of oxiam's): the "require MFA" pattern for real.

A user enables a device with two consecutive codes, then assumes a role whose trust policy
requires MFA; a wrong code, a replayed code and no code are refused; GetSessionToken with a
code gives credentials whose requests carry aws:MultiFactorAuthPresent."""

import base64
import json
import secrets
import time

import pyotp
import pytest

from conftest import make_client
from expect import fails, ok


def codes_at(totp, step):
    return totp.at(step * 30)


def current_step():
    return int(time.time()) // 30


@pytest.fixture
def alice(iam, server, account_id):
    """A user who may assume roles, and list users only with MFA; her device, enabled."""
    name = f"mfa-{secrets.token_hex(4)}"
    ok(iam.create_user(UserName=name))
    ok(iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument="""{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},
        {"Effect":"Allow","Action":"iam:ListUsers","Resource":"*",
         "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"""))
    key = ok(iam.create_access_key(UserName=name))["AccessKey"]
    device = ok(iam.create_virtual_mfa_device(VirtualMFADeviceName=name))["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{account_id}:mfa/{name}"
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    seed = device["Base32StringSeed"].decode()
    assert len(seed) == 64
    totp = pyotp.TOTP(seed)
    now = current_step()
    fails(iam.enable_mfa_device, UserName=name, SerialNumber=serial,
          AuthenticationCode1=codes_at(totp, now - 1), AuthenticationCode2=codes_at(totp, now - 1),
          code="InvalidAuthenticationCode", status=403, message="Authentication code for device is not valid.")
    ok(iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                             AuthenticationCode1=codes_at(totp, now - 2), AuthenticationCode2=codes_at(totp, now - 1)))
    yield dict(name=name, key=key, serial=serial, totp=totp, step=now)
    ok(iam.deactivate_mfa_device(UserName=name, SerialNumber=serial))
    ok(iam.delete_virtual_mfa_device(SerialNumber=serial))
    ok(iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"]))
    ok(iam.delete_user_policy(UserName=name, PolicyName="p"))
    ok(iam.delete_user(UserName=name))


def test_an_mfa_protected_role_needs_a_fresh_code(iam, server, account_id, alice):
    role = f"mfa-role-{secrets.token_hex(4)}"
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},'
             '"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}' % account_id)
    ok(iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust))
    try:
        sts = make_client(server, "sts", alice["key"]["AccessKeyId"], alice["key"]["SecretAccessKey"])
        arn = f"arn:aws:iam::{account_id}:role/{role}"
        fails(sts.assume_role, RoleArn=arn, RoleSessionName="no-mfa", code="AccessDenied", status=403)
        step, totp = alice["step"], alice["totp"]
        fails(sts.assume_role, RoleArn=arn, RoleSessionName="wrong", SerialNumber=alice["serial"],
              TokenCode=codes_at(totp, step + 7), code="AccessDenied", status=403,
              message="MultiFactorAuthentication failed with invalid MFA one time pass code.")
        good = codes_at(totp, step)
        session = ok(sts.assume_role(RoleArn=arn, RoleSessionName="with-mfa", SerialNumber=alice["serial"],
                                     TokenCode=good))
        assert session["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role}/with-mfa")
        fails(sts.assume_role, RoleArn=arn, RoleSessionName="replayed", SerialNumber=alice["serial"],
              TokenCode=good, code="AccessDenied", status=403,
              message="MultiFactorAuthentication failed with invalid MFA one time pass code.")

        # GetSessionToken with the next code: the policy that wants MFA lets it list users.
        iam_alice = make_client(server, "iam", alice["key"]["AccessKeyId"], alice["key"]["SecretAccessKey"])
        fails(iam_alice.list_users, code="AccessDenied", status=403)
        creds = ok(sts.get_session_token(SerialNumber=alice["serial"], TokenCode=codes_at(totp, step + 1)))
        creds = creds["Credentials"]
        with_mfa = make_client(server, "iam", creds["AccessKeyId"], creds["SecretAccessKey"],
                               token=creds["SessionToken"])
        names = [u["UserName"] for u in ok(with_mfa.list_users())["Users"]]
        assert alice["name"] in names
    finally:
        ok(iam.delete_role(RoleName=role))


def test_devices_are_listed_and_removed_in_order(iam, alice):
    listed = ok(iam.list_mfa_devices(UserName=alice["name"]))["MFADevices"]
    assert [d["SerialNumber"] for d in listed] == [alice["serial"]]
    assigned = ok(iam.list_virtual_mfa_devices(AssignmentStatus="Assigned"))["VirtualMFADevices"]
    mine = [d for d in assigned if d["SerialNumber"] == alice["serial"]]
    assert mine[0]["User"]["UserName"] == alice["name"]
    assert "Base32StringSeed" not in mine[0]
    # (She has an access key too, which DeleteUser may name first.)
    fails(iam.delete_user, UserName=alice["name"], code="DeleteConflict", status=409)
    fails(iam.delete_virtual_mfa_device, SerialNumber=alice["serial"], code="DeleteConflict", status=409)
    got = ok(iam.get_mfa_device(SerialNumber=alice["serial"], UserName=alice["name"]))
    assert got["UserName"] == alice["name"]


def test_the_cli_writes_the_qr_code_and_the_seed(aws, iam, tmp_path):
    name = f"cli-mfa-{secrets.token_hex(4)}"
    png = tmp_path / "qr.png"
    out = aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name,
              "--outfile", str(png), "--bootstrap-method", "QRCodePNG")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    seed_file = tmp_path / "seed.txt"
    name2 = name + "-b"
    aws("iam", "create-virtual-mfa-device", "--virtual-mfa-device-name", name2,
        "--outfile", str(seed_file), "--bootstrap-method", "Base32StringSeed")
    seed = seed_file.read_text().strip()
    assert len(seed) == 64 and base64.b32decode(seed)
    serial = json.loads(out.stdout)["VirtualMFADevice"]["SerialNumber"]
    assert serial.endswith(f":mfa/{name}")
    for device in [serial, serial + "-b"]:
        ok(iam.delete_virtual_mfa_device(SerialNumber=device))
