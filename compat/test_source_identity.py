"""Source identity through boto3 (IAM User Guide, "Monitor and control actions taken with
assumed roles"): AssumeRole's SourceIdentity needs sts:SetSourceIdentity from the caller's
policies and the role's trust policy, is answered back, is `aws:SourceIdentity` in every
request the session makes, and is carried through role chaining, where nothing changes it."""

import json

import pytest

from expect import fails, ok

ALLOW_ASSUMING = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Resource": "*"}]})


def trust(principal, actions=("sts:AssumeRole", "sts:SetSourceIdentity"), condition=None):
    statement = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def session_clients(client_for, answer):
    c = answer["Credentials"]
    return (client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"]),
            client_for("iam", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"]))


@pytest.fixture
def caller(iam, user_with_key, client_for):
    """A user allowed to assume roles and set a source identity; its STS client."""
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume", PolicyDocument=ALLOW_ASSUMING)
    return user, client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])


def test_a_source_identity_is_set_answered_and_seen_by_every_request(iam, account_id, new_role, caller, client_for):
    user, sts = caller
    role = new_role(trust=trust(user["Arn"], condition={"StringEquals": {"sts:SourceIdentity": "alice"}}))
    # The session may list users only while its source identity is alice, and never read
    # the account summary with it (a Deny on the key).
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:GetAccountSummary"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}},
            {"Effect": "Deny", "Action": "iam:GetAccountSummary", "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}]}))
    answer = ok(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="sess", SourceIdentity="alice"))
    assert answer["SourceIdentity"] == "alice"
    _, session_iam = session_clients(client_for, answer)
    ok(session_iam.list_users(MaxItems=1))
    fails(session_iam.get_account_summary, code="AccessDenied", status=403)
    # The trust policy's condition on sts:SourceIdentity decides.
    fails(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="sess", SourceIdentity="mallory",
          code="AccessDenied", status=403)
    # The model's pattern leaves out AWS's reserved prefix.
    fails(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="sess", SourceIdentity="aws:alice",
          code="ValidationError", status=400)


def test_setting_a_source_identity_takes_both_sides_permission(iam, account_id, new_role, user_with_key, client_for):
    """Trust policies naming the account (not the user, which alone would grant it, as a
    resource policy naming a principal of its own account does)."""
    user, key = user_with_key()
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    account = f"arn:aws:iam::{account_id}:root"
    both = new_role(trust=trust(account))
    trust_only_assume = new_role(trust=trust(account, actions=("sts:AssumeRole",)))
    # The caller's policies lack sts:SetSourceIdentity: refused, though the trust allows it.
    fails(sts.assume_role, RoleArn=both["Arn"], RoleSessionName="sess", SourceIdentity="alice",
          code="AccessDenied", status=403)
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume", PolicyDocument=ALLOW_ASSUMING)
    ok(sts.assume_role(RoleArn=both["Arn"], RoleSessionName="sess", SourceIdentity="alice"))
    # The trust policy lacks it: refused with one, allowed without.
    fails(sts.assume_role, RoleArn=trust_only_assume["Arn"], RoleSessionName="sess", SourceIdentity="alice",
          code="AccessDenied", status=403)
    assert "SourceIdentity" not in ok(sts.assume_role(RoleArn=trust_only_assume["Arn"], RoleSessionName="sess"))


def test_role_chaining_carries_the_source_identity_and_nothing_changes_it(
        iam, account_id, new_role, caller, client_for):
    user, sts = caller
    first = new_role(trust=trust(user["Arn"]))
    iam.put_role_policy(RoleName=first["RoleName"], PolicyName="p", PolicyDocument=ALLOW_ASSUMING)
    second = new_role(trust=trust(first["Arn"], condition={"StringEquals": {"aws:SourceIdentity": "alice"}}))
    without = new_role(trust=trust(first["Arn"], actions=("sts:AssumeRole",)))
    answer = ok(sts.assume_role(RoleArn=first["Arn"], RoleSessionName="one", SourceIdentity="alice"))
    first_sts, _ = session_clients(client_for, answer)

    chained = ok(first_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="two"))
    assert chained["SourceIdentity"] == "alice", "carried without being asked for"
    ok(first_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="two", SourceIdentity="alice"))
    fails(first_sts.assume_role, RoleArn=second["Arn"], RoleSessionName="two", SourceIdentity="bob",
          code="AccessDenied", status=403)
    # Asking for another source identity is refused as any untrusting role refuses: whether a
    # role exists is not learnt from it.
    missing_role = fails(first_sts.assume_role, RoleArn=f"arn:aws:iam::{account_id}:role/no-such-role-here",
                         RoleSessionName="two", SourceIdentity="bob", code="AccessDenied", status=403)
    untrusting = new_role(trust=trust(user["Arn"]))
    refused = fails(first_sts.assume_role, RoleArn=untrusting["Arn"], RoleSessionName="two", SourceIdentity="bob",
                    code="AccessDenied", status=403)
    assert "sts:AssumeRole" in missing_role and "sts:AssumeRole" in refused
    # Carrying it on is setting it: a trust policy without sts:SetSourceIdentity refuses.
    fails(first_sts.assume_role, RoleArn=without["Arn"], RoleSessionName="two", code="AccessDenied", status=403)
    # And a scoped copy of the session is the same session, source identity included.
    scoped = ok(first_sts.get_scoped_credentials(DurationSeconds=900))
    assert scoped["SourceIdentity"] == "alice"


def test_context_assertions_need_set_context_and_none_is_trusted(iam, account_id, new_role, caller):
    """AssumeRole's ProvidedContexts: sts:SetContext in the trust policy first; then no
    assertion is valid here, as only IAM Identity Center's trusted context provider, which
    oxiam has not, makes them."""
    user, sts = caller
    contexts = [{"ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter",
                 "ContextAssertion": "trusted-context-assertion"}]
    plain = new_role(trust=trust(user["Arn"], actions=("sts:AssumeRole",)))
    fails(sts.assume_role, RoleArn=plain["Arn"], RoleSessionName="sess", ProvidedContexts=contexts,
          code="AccessDenied", status=403)
    setting = new_role(trust=trust(user["Arn"], actions=("sts:AssumeRole", "sts:SetContext")))
    fails(sts.assume_role, RoleArn=setting["Arn"], RoleSessionName="sess", ProvidedContexts=contexts,
          code="InvalidContextAssertion", status=400)
