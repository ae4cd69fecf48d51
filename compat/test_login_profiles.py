"""Login profiles and the account password policy through boto3 and the AWS CLI: what
Terraform's aws_iam_user_login_profile and aws_iam_account_password_policy do, AWS's
default policy and a custom one enforced, and a user changing its own password."""

from conftest import make_client
from expect import empty_ok, fails, ok


def test_a_password_is_set_changed_and_removed_under_the_policy(iam, server, user_with_key, account_id):
    user, key = user_with_key()
    name = user["UserName"]
    # No custom policy: GetAccountPasswordPolicy says so, and AWS's default one applies.
    fails(iam.get_account_password_policy, code="NoSuchEntity", status=404,
          message=f"The Password Policy with domain name {account_id} cannot be found.")
    fails(iam.create_login_profile, UserName=name, Password="Sh0rt!", code="PasswordPolicyViolation",
          status=400, message="Password should have a minimum length of 8")
    try:
        profile = ok(iam.create_login_profile(UserName=name, Password="Correct-Horse-1",
                                              PasswordResetRequired=True))["LoginProfile"]
        assert profile["UserName"] == name and profile["PasswordResetRequired"] is True
        fails(iam.create_login_profile, UserName=name, Password="Correct-Horse-1", code="EntityAlreadyExists",
              status=409, message=f"Login Profile for user {name} already exists.")
        ok(iam.update_account_password_policy(MinimumPasswordLength=12, RequireNumbers=True,
                                               PasswordReusePrevention=3, AllowUsersToChangePassword=True))
        policy = ok(iam.get_account_password_policy())["PasswordPolicy"]
        assert policy["MinimumPasswordLength"] == 12 and policy["ExpirePasswords"] is False
        assert "MaxPasswordAge" not in policy and "HardExpiry" not in policy
        # The user changes its own password, allowed by the account's policy alone.
        own = make_client(server, "iam", key["AccessKeyId"], key["SecretAccessKey"])
        fails(own.change_password, OldPassword="Correct-Horse-1", NewPassword="no digits here!",
              code="PasswordPolicyViolation", status=400, message="Password should have at least one number")
        ok(own.change_password(OldPassword="Correct-Horse-1", NewPassword="Second-Horse-22"))
        fails(own.change_password, OldPassword="Second-Horse-22", NewPassword="Correct-Horse-1",
              code="PasswordPolicyViolation", status=400)
        assert ok(iam.get_login_profile(UserName=name))["LoginProfile"]["PasswordResetRequired"] is False
    finally:
        iam.delete_login_profile(UserName=name)
        iam.delete_account_password_policy()
    fails(iam.get_login_profile, UserName=name, code="NoSuchEntity", status=404,
          message=f"Login Profile for User {name} cannot be found.")


def test_the_cli_manages_the_password_policy(aws, iam):
    try:
        aws("iam", "update-account-password-policy", "--minimum-password-length", "14", "--require-symbols",
            "--max-password-age", "90")
        out = aws("iam", "get-account-password-policy")
        assert '"MinimumPasswordLength": 14' in out.stdout and '"ExpirePasswords": true' in out.stdout
    finally:
        aws("iam", "delete-account-password-policy")
    gone = aws("iam", "delete-account-password-policy", check=False)
    assert gone.returncode != 0 and "The account policy with name PasswordPolicy cannot be found." in gone.stderr


def test_a_sign_in_session_limit_is_kept_replaced_and_unset(iam, new_user):
    name = new_user()["UserName"]
    created = ok(iam.create_login_profile(UserName=name, Password="Compat-Passw0rd!x", MaxSigninSessionDuration=7200))
    try:
        assert created["LoginProfile"]["MaxSigninSessionDuration"] == 7200
        empty_ok(iam.update_login_profile(UserName=name, MaxSigninSessionDuration=3600))
        got = ok(iam.get_login_profile(UserName=name))["LoginProfile"]
        assert got["MaxSigninSessionDuration"] == 3600 and got["PasswordResetRequired"] is False
        fails(iam.update_login_profile, UserName=name, MaxSigninSessionDuration=3600,
              ResetMaxSigninSessionDuration=True, code="InvalidInput", status=400)
        empty_ok(iam.update_login_profile(UserName=name, ResetMaxSigninSessionDuration=True))
        assert "MaxSigninSessionDuration" not in ok(iam.get_login_profile(UserName=name))["LoginProfile"]
    finally:
        iam.delete_login_profile(UserName=name)
