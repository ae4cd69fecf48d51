"""Condition keys of IAM and STS requests, through boto3: the privilege escalations that were
possible while IAM requests carried no condition keys (issue 11), and AWS's delegation
pattern on iam:PermissionsBoundary. Every key of every served operation is covered by the
Rust table test (crates/oxiam-server/tests/condition_keys.rs); these prove the same through
another SDK's wire format.
"""

import json

from expect import fails, ok
from test_enforcement import ADMIN, Caller, allow, deny, document  # noqa: F401

READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def explicitly_denied(client_call, **kwargs):
    message = fails(client_call, code="AccessDenied", status=403, **kwargs)
    assert "with an explicit deny in an identity-based policy" in message, message


def test_an_iam_user_cannot_talk_its_way_to_administrator(iam, new_user, client_for, unique_name):
    user = new_user()
    name = user["UserName"]
    iam.put_user_policy(
        UserName=name,
        PolicyName="guarded",
        PolicyDocument=document(
            allow(["iam:AttachUserPolicy", "iam:CreateUser", "iam:TagUser", "iam:PutUserPermissionsBoundary"]),
            deny("iam:AttachUserPolicy", ArnEquals={"iam:PolicyARN": ADMIN}),
            deny(["iam:CreateUser", "iam:TagUser"], **{"ForAnyValue:StringEquals": {"aws:TagKeys": "admin"}}),
            deny("iam:PutUserPermissionsBoundary", ArnEquals={"iam:PermissionsBoundary": ADMIN}),
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    u = Caller(user, key, client_for).iam
    admin_tag = [{"Key": "admin", "Value": "yes"}]
    victim = unique_name("v")

    explicitly_denied(u.attach_user_policy, UserName=name, PolicyArn=ADMIN)
    explicitly_denied(u.create_user, UserName=victim, Tags=admin_tag)
    explicitly_denied(u.tag_user, UserName=name, Tags=admin_tag)
    explicitly_denied(u.put_user_permissions_boundary, UserName=name, PermissionsBoundary=ADMIN)

    attached = ok(iam.list_attached_user_policies(UserName=name))["AttachedPolicies"]
    assert attached == []
    assert ok(iam.list_user_tags(UserName=name))["Tags"] == []
    # Without the guarded values the same calls are allowed.
    ok(u.attach_user_policy(UserName=name, PolicyArn=READ_ONLY))
    ok(u.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "a"}]))
    iam.detach_user_policy(UserName=name, PolicyArn=READ_ONLY)


def test_delegated_admin_manages_only_users_with_its_boundary(iam, new_user, client_for, cleanup_users, unique_name):
    delegate = new_user()
    iam.put_user_policy(
        UserName=delegate["UserName"],
        PolicyName="delegation",
        PolicyDocument=document(
            allow(["iam:CreateUser", "iam:AttachUserPolicy"], StringEquals={"iam:PermissionsBoundary": READ_ONLY})
        ),
    )
    key = iam.create_access_key(UserName=delegate["UserName"])["AccessKey"]
    d = Caller(delegate, key, client_for).iam
    free, bounded = unique_name("free"), unique_name("bounded")
    cleanup_users.extend([free, bounded])
    fails(d.create_user, UserName=free, code="AccessDenied", status=403)
    ok(d.create_user(UserName=bounded, PermissionsBoundary=READ_ONLY))
    ok(d.attach_user_policy(UserName=bounded, PolicyArn=READ_ONLY))
    other = new_user()["UserName"]
    fails(d.attach_user_policy, UserName=other, PolicyArn=ADMIN, code="AccessDenied", status=403)
    iam.detach_user_policy(UserName=bounded, PolicyArn=READ_ONLY)
    iam.delete_user_permissions_boundary(UserName=bounded)


def test_assume_role_denied_on_the_session_name(iam, new_user, new_role, client_for, account_id):
    role = new_role(trust=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}],
    }))
    user = new_user()
    iam.put_user_policy(
        UserName=user["UserName"],
        PolicyName="p",
        PolicyDocument=document(
            allow("sts:AssumeRole"),
            deny("sts:AssumeRole", StringLike={"sts:RoleSessionName": "admin-*"}),
        ),
    )
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    fails(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="admin-x", code="AccessDenied", status=403)
    ok(sts.assume_role(RoleArn=role["Arn"], RoleSessionName="worker-x"))
