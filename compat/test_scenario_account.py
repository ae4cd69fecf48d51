"""Scenario 5, "Manage the account", run the way the seed's account demo (account_wrapper.py)
runs it: account aliases (create twice, list, delete, restore the old one), the credential
report (GenerateCredentialReport until COMPLETE, then GetCredentialReport), the account
summary (iam.AccountSummary().summary_map) and GetAccountAuthorizationDetails.

The credential report: AWS keeps one report per account and reuses it for four hours, so in
one test session it is generated once. This module is the only one in the suite that
generates it; its module fixture first records that there is no report yet, then creates
the users the report must describe, then generates it."""

import base64
import csv
import datetime
import io
import json
import re
import secrets
import time

import pytest
from botocore.exceptions import ClientError

import expect
from conftest import S3_READ, delete_user_completely, make_client
from expect import empty_ok, fails, ok

REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)
REPORT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
STARTED = {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}

SUMMARY_QUOTAS = {
    "UsersQuota": 5000,
    "GroupsQuota": 300,
    "RolesQuota": 1000,
    "InstanceProfilesQuota": 1000,
    "PoliciesQuota": 1500,
    "PolicySizeQuota": 6144,
    "UserPolicySizeQuota": 2048,
    "GroupPolicySizeQuota": 5120,
    "RolePolicySizeQuota": 10240,
    "AssumeRolePolicySizeQuota": 2048,
    "AttachedPoliciesPerUserQuota": 10,
    "AttachedPoliciesPerGroupQuota": 10,
    "AttachedPoliciesPerRoleQuota": 10,
    "GroupsPerUserQuota": 10,
    "AccessKeysPerUserQuota": 2,
    "SigningCertificatesPerUserQuota": 2,
    "VersionsPerPolicyQuota": 5,
    "PolicyVersionsInUseQuota": 10000,
    "ServerCertificatesQuota": 20,
    "GlobalEndpointTokenVersion": 1,
}
# What oxiam has none of (no MFA, passwords, signing or server certificates, instance
# profiles or identity providers), and the root's access key.
SUMMARY_FIXED = {
    "MFADevices": 0,
    "MFADevicesInUse": 0,
    "AccountMFAEnabled": 0,
    "AccountPasswordPresent": 0,
    "AccountSigningCertificatesPresent": 0,
    "ServerCertificates": 0,
    "InstanceProfiles": 0,
    "Providers": 0,
    "AccountAccessKeysPresent": 1,
}
SUMMARY_COUNTS = {"Users", "Groups", "Roles", "Policies", "PolicyVersionsInUse"}


def report_time(value):
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _names(iam, paginator, key, field, **kwargs):
    return [e[field] for p in iam.get_paginator(paginator).paginate(**kwargs) for e in p[key]]


# --- aliases ---------------------------------------------------------------------------------


def list_aliases(iam):
    body = ok(iam.list_account_aliases())
    assert set(body) == {"AccountAliases", "IsTruncated"}
    assert body["IsTruncated"] is False
    return body["AccountAliases"]


def test_scenario_account_aliases(iam):
    """Step 1: an existing alias, two new ones (the second replaces the first), delete, restore."""
    original = f"compat-original-{secrets.token_hex(4)}"
    empty_ok(iam.create_account_alias(AccountAlias=original))
    try:
        old_aliases = list_aliases(iam)
        assert old_aliases == [original]
        created = []
        for index in range(1, 3):
            new_alias = f"alias-{index}-{time.time_ns()}"
            empty_ok(iam.create_account_alias(AccountAlias=new_alias))
            created.append(new_alias)
        current = list_aliases(iam)
        assert current == [created[1]]
        empty_ok(iam.delete_account_alias(AccountAlias=current[0]))
        assert list_aliases(iam) == []
        empty_ok(iam.create_account_alias(AccountAlias=old_aliases[0]))
        assert list_aliases(iam) == [original]
    finally:
        for alias in list_aliases(iam):
            iam.delete_account_alias(AccountAlias=alias)


def test_account_alias_created_again_is_kept(iam):
    alias = f"compat-same-{secrets.token_hex(4)}"
    try:
        empty_ok(iam.create_account_alias(AccountAlias=alias))
        empty_ok(iam.create_account_alias(AccountAlias=alias))
        assert list_aliases(iam) == [alias]
    finally:
        iam.delete_account_alias(AccountAlias=alias)
    assert list_aliases(iam) == []


def test_delete_account_alias_that_is_not_set_is_no_such_entity(iam):
    fails(iam.delete_account_alias, AccountAlias=f"compat-unset-{secrets.token_hex(4)}", code="NoSuchEntity",
          status=404)


@pytest.mark.parametrize(
    "alias",
    ["Upper-case", "-leading", "trailing-", "double--hyphen", "under_score"],
)
def test_create_account_alias_outside_the_pattern_is_a_validation_error(iam, alias):
    fails(
        iam.create_account_alias,
        AccountAlias=alias,
        **expect.validation_error(
            alias, "accountAlias",
            "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
        ),
    )
    assert list_aliases(iam) == []


def test_create_account_alias_of_two_characters_breaks_length_and_pattern(iam_raw):
    fails(
        iam_raw.create_account_alias,
        AccountAlias="ab",
        code="ValidationError",
        status=400,
        message="2 validation errors detected: Value 'ab' at 'accountAlias' failed to satisfy constraint: "
        "Member must have length greater than or equal to 3; Value 'ab' at 'accountAlias' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
    )


# --- the credential report -----------------------------------------------------------------


@pytest.fixture(scope="module")
def report(server, iam):
    """Generates the session's credential report after creating the users it must show:
    `used` (two keys: the first signed an STS call in us-west-2, the second never used) and
    `one_key` (a single key, never used). Returns what the demo saw along the way."""
    before = None
    try:
        iam.get_credential_report()
    except ClientError as e:  # examined by the test
        before = e.response
    tag = secrets.token_hex(3)
    used_name, one_key_name = f"c-report-used-{tag}", f"c-report-one-key-{tag}"
    try:
        used = iam.create_user(UserName=used_name)["User"]
        used_key = iam.create_access_key(UserName=used_name)["AccessKey"]
        # Creation times are whole seconds; the keys must not share one, so that their order
        # (access_key_1, access_key_2) is their creation order.
        time.sleep(1)
        unused_key = iam.create_access_key(UserName=used_name)["AccessKey"]
        sts = make_client(server, "sts", used_key["AccessKeyId"], used_key["SecretAccessKey"], "us-west-2")
        sts.get_caller_identity()
        last_used = iam.get_access_key_last_used(AccessKeyId=used_key["AccessKeyId"])["AccessKeyLastUsed"]
        one_key = iam.create_user(UserName=one_key_name)["User"]
        one_key_key = iam.create_access_key(UserName=one_key_name)["AccessKey"]

        # The demo: GenerateCredentialReport until COMPLETE.
        states = []
        for _ in range(50):
            answer = ok(iam.generate_credential_report())
            states.append(answer)
            if answer["State"] == "COMPLETE":
                break
            time.sleep(0.1)
        content = ok(iam.get_credential_report())
        yield dict(
            before=before,
            states=states,
            content=content,
            used=used,
            used_key=used_key,
            unused_key=unused_key,
            last_used=last_used,
            one_key=one_key,
            one_key_key=one_key_key,
        )
    finally:
        delete_user_completely(iam, used_name)
        delete_user_completely(iam, one_key_name)


def _rows(report):
    text = report["content"]["Content"].decode("utf-8")
    lines = text.split("\n")
    rows = list(csv.reader(io.StringIO(text)))
    return lines, rows


def test_get_credential_report_before_any_generation_is_report_not_present(report):
    err = report["before"]
    assert err is not None, "a credential report existed before the first GenerateCredentialReport"
    assert err["Error"]["Code"] == "ReportNotPresent"
    assert err["Error"]["Type"] == "Sender"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_generate_credential_report_starts_then_completes(report):
    states = report["states"]
    assert states[0] == STARTED
    assert states[-1] == {"State": "COMPLETE"}
    assert all(s["State"] in ("STARTED", "INPROGRESS") for s in states[:-1])


def test_generate_credential_report_again_within_four_hours_is_complete(iam, report):
    assert ok(iam.generate_credential_report()) == {"State": "COMPLETE"}
    again = ok(iam.get_credential_report())
    assert again == report["content"]


def test_get_credential_report_is_csv_with_the_generation_time(report):
    content = report["content"]
    assert set(content) == {"Content", "ReportFormat", "GeneratedTime"}
    assert content["ReportFormat"] == "text/csv"
    expect.recent(content["GeneratedTime"])
    assert isinstance(content["Content"], bytes)


def test_credential_report_content_is_base64_on_the_wire(server, report):
    import rawhttp

    reply = rawhttp.signed(server, "iam", "GetCredentialReport")
    result = rawhttp.check_xml_result(reply, "iam", "GetCredentialReport")
    ns = {"n": rawhttp.NAMESPACES["iam"]}
    assert base64.b64decode(result.findtext("n:Content", namespaces=ns)) == report["content"]["Content"]
    assert result.findtext("n:ReportFormat", namespaces=ns) == "text/csv"


def test_credential_report_header_is_aws_header_row(report):
    lines, rows = _rows(report)
    assert lines[0] == REPORT_HEADER
    assert all(len(row) == 22 for row in rows)


def test_credential_report_root_row(server, account_id, report):
    _, rows = _rows(report)
    root = dict(zip(rows[0], rows[1]))
    assert root["user"] == "<root_account>"
    assert root["arn"] == f"arn:aws:iam::{account_id}:root"
    assert REPORT_TIME.match(root["user_creation_time"])
    for column in ("password_enabled", "password_last_changed", "password_next_rotation"):
        assert root[column] == "not_supported"
    assert root["password_last_used"] == "no_information"
    assert root["mfa_active"] == "false"
    # The root's one access key has signed every call of the session, to IAM in us-east-1.
    assert root["access_key_1_active"] == "true"
    assert REPORT_TIME.match(root["access_key_1_last_rotated"])
    assert REPORT_TIME.match(root["access_key_1_last_used_date"])
    assert root["access_key_1_last_used_region"] == "us-east-1"
    assert root["access_key_1_last_used_service"] == "iam"
    assert [root[f"access_key_2_{c}"] for c in ("active", "last_rotated", "last_used_date", "last_used_region",
                                                "last_used_service")] == ["false", "N/A", "N/A", "N/A", "N/A"]
    assert [root[c] for c in ("cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated")] == [
        "false", "N/A", "false", "N/A"]


def _user_row(report, name):
    _, rows = _rows(report)
    found = [row for row in rows[1:] if row[0] == name]
    assert len(found) == 1, name
    return found[0]


def test_credential_report_row_of_a_user_with_a_used_and_an_unused_key(account_id, report):
    used, key, unused, last = report["used"], report["used_key"], report["unused_key"], report["last_used"]
    assert last["ServiceName"] == "sts" and last["Region"] == "us-west-2"
    assert _user_row(report, used["UserName"]) == [
        used["UserName"],
        expect.user_arn(account_id, used["UserName"]),
        report_time(used["CreateDate"]),
        "false", "N/A", "N/A", "N/A",  # no password
        "false",  # no MFA
        "true", report_time(key["CreateDate"]), report_time(last["LastUsedDate"]), "us-west-2", "sts",
        "true", report_time(unused["CreateDate"]), "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A",  # no signing certificates
    ]


def test_credential_report_row_of_a_user_with_one_unused_key(account_id, report):
    user, key = report["one_key"], report["one_key_key"]
    assert _user_row(report, user["UserName"]) == [
        user["UserName"],
        expect.user_arn(account_id, user["UserName"]),
        report_time(user["CreateDate"]),
        "false", "N/A", "N/A", "N/A",
        "false",
        "true", report_time(key["CreateDate"]), "N/A", "N/A", "N/A",
        "false", "N/A", "N/A", "N/A", "N/A",
        "false", "N/A", "false", "N/A",
    ]


def test_credential_report_as_the_demo_prints_it(report):
    """The demo prints the first three columns of every line."""
    text = report["content"]["Content"].decode("utf-8")
    cred_lines = [line.split(",")[:3] for line in text.split("\n")]
    assert cred_lines[0] == ["user", "arn", "user_creation_time"]
    assert cred_lines[1][0] == "<root_account>"
    assert all(len(line) == 3 for line in cred_lines)


# --- the account summary -------------------------------------------------------------------


def _summary(iam):
    body = ok(iam.get_account_summary())
    assert set(body) == {"SummaryMap"}
    return body["SummaryMap"]


def test_account_summary_has_every_key_with_quotas_and_counts(iam, iam_resource):
    summary = iam_resource.AccountSummary().summary_map
    assert len(summary) == 34
    assert set(summary) == set(SUMMARY_QUOTAS) | set(SUMMARY_FIXED) | SUMMARY_COUNTS
    for key, value in {**SUMMARY_QUOTAS, **SUMMARY_FIXED}.items():
        assert summary[key] == value, key
    assert summary["Users"] == len(_names(iam, "list_users", "Users", "UserName"))
    assert summary["Groups"] == len(_names(iam, "list_groups", "Groups", "GroupName"))
    assert summary["Roles"] == len(_names(iam, "list_roles", "Roles", "RoleName"))
    assert summary["Policies"] == len(_names(iam, "list_policies", "Policies", "PolicyName", Scope="Local"))
    assert summary == _summary(iam)


def test_account_summary_counts_follow_new_entities(iam, new_user, new_group, new_role, new_policy):
    before = _summary(iam)
    user, _, role = new_user(), new_group(), new_role()
    first, second = new_policy(), new_policy()
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=first["Arn"])
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=second["Arn"])
    after = _summary(iam)
    changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert changed == {"Users": 1, "Groups": 1, "Roles": 1, "Policies": 2, "PolicyVersionsInUse": 2}


# --- GetAccountAuthorizationDetails --------------------------------------------------------

DETAIL_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@pytest.fixture
def estate(iam, account_id, new_user, new_group, new_role, new_policy, unique_path):
    """A user in a group, a role and a two-version policy, each with attached and inline
    policies, all under one path."""
    path = unique_path()
    policy = new_policy(Path=path, Description="compat details")
    v2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    version = iam.create_policy_version(PolicyArn=policy["Arn"], PolicyDocument=json.dumps(v2))["PolicyVersion"]
    user = new_user(path=path, Tags=[{"Key": "team", "Value": "compat"}])
    group = new_group(Path=path)
    role = new_role(Path=path, Description="compat role", MaxSessionDuration=7200)
    iam.add_user_to_group(GroupName=group["GroupName"], UserName=user["UserName"])
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=policy["Arn"])
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=S3_READ_ONLY)
    iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=policy["Arn"])
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=S3_READ_ONLY)
    for put, kwargs in (
        (iam.put_user_policy, dict(UserName=user["UserName"])),
        (iam.put_group_policy, dict(GroupName=group["GroupName"])),
        (iam.put_role_policy, dict(RoleName=role["RoleName"])),
    ):
        put(PolicyName="inline-one", PolicyDocument=json.dumps(INLINE), **kwargs)
    return dict(path=path, policy=policy, v2=v2, version=version, user=user, group=group, role=role)


def _all_details(iam, **kwargs):
    merged = {k: [] for k in DETAIL_LISTS}
    for page in iam.get_paginator("get_account_authorization_details").paginate(**kwargs):
        for k in DETAIL_LISTS:
            merged[k].extend(page[k])
    return merged


def _one(entries, field, value):
    found = [e for e in entries if e[field] == value]
    assert len(found) == 1, (value, [e[field] for e in entries])
    return found[0]


def test_scenario_authorization_details_with_an_empty_filter(iam, account_id, estate):
    """The demo's call: Filter=[] (every kind of entity)."""
    body = ok(iam.get_account_authorization_details(Filter=[], MaxItems=1000))
    assert set(body) == set(DETAIL_LISTS) | {"IsTruncated"}
    assert body["IsTruncated"] is False
    user = _one(body["UserDetailList"], "UserName", estate["user"]["UserName"])
    assert user["UserId"] == estate["user"]["UserId"]
    assert _one(body["GroupDetailList"], "GroupName", estate["group"]["GroupName"])
    assert _one(body["RoleDetailList"], "RoleName", estate["role"]["RoleName"])
    assert _one(body["Policies"], "Arn", estate["policy"]["Arn"])
    assert _one(body["Policies"], "Arn", S3_READ_ONLY)


def test_authorization_details_of_a_user(iam, account_id, estate):
    user, path = estate["user"], estate["path"]
    detail = _one(_all_details(iam, Filter=["User"])["UserDetailList"], "UserName", user["UserName"])
    assert detail == {
        "Path": path,
        "UserName": user["UserName"],
        "UserId": user["UserId"],
        "Arn": expect.user_arn(account_id, user["UserName"], path),
        "CreateDate": user["CreateDate"],
        "UserPolicyList": [{"PolicyName": "inline-one", "PolicyDocument": INLINE}],
        "GroupList": [estate["group"]["GroupName"]],
        "AttachedManagedPolicies": [
            {"PolicyName": estate["policy"]["PolicyName"], "PolicyArn": estate["policy"]["Arn"]},
            {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY},
        ],
        "Tags": [{"Key": "team", "Value": "compat"}],
    }


def test_authorization_details_of_a_group(iam, account_id, estate):
    group, path = estate["group"], estate["path"]
    detail = _one(_all_details(iam, Filter=["Group"])["GroupDetailList"], "GroupName", group["GroupName"])
    assert detail == {
        "Path": path,
        "GroupName": group["GroupName"],
        "GroupId": group["GroupId"],
        "Arn": expect.group_arn(account_id, group["GroupName"], path),
        "CreateDate": group["CreateDate"],
        "GroupPolicyList": [{"PolicyName": "inline-one", "PolicyDocument": INLINE}],
        "AttachedManagedPolicies": [
            {"PolicyName": estate["policy"]["PolicyName"], "PolicyArn": estate["policy"]["Arn"]}
        ],
    }


def test_authorization_details_of_a_role(iam, account_id, estate):
    role, path = estate["role"], estate["path"]
    detail = _one(_all_details(iam, Filter=["Role"])["RoleDetailList"], "RoleName", role["RoleName"])
    assert detail == {
        "Path": path,
        "RoleName": role["RoleName"],
        "RoleId": role["RoleId"],
        "Arn": expect.role_arn(account_id, role["RoleName"], path),
        "CreateDate": role["CreateDate"],
        "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"],
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": "inline-one", "PolicyDocument": INLINE}],
        "AttachedManagedPolicies": [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY}],
        "RoleLastUsed": {},
        # Always sent, empty too, as AWS sends it.
        "Tags": [],
    }


def test_authorization_details_of_a_local_policy_lists_every_version_with_its_document(iam, account_id, estate):
    policy, version = estate["policy"], estate["version"]
    detail = _one(_all_details(iam, Filter=["LocalManagedPolicy"])["Policies"], "Arn", policy["Arn"])
    assert detail == {
        "PolicyName": policy["PolicyName"],
        "PolicyId": policy["PolicyId"],
        "Arn": policy["Arn"],
        "Path": estate["path"],
        "DefaultVersionId": "v1",
        "AttachmentCount": 2,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "Description": "compat details",
        "CreateDate": policy["CreateDate"],
        "UpdateDate": detail["UpdateDate"],
        "PolicyVersionList": [
            {"Document": estate["v2"], "VersionId": "v2", "IsDefaultVersion": False,
             "CreateDate": version["CreateDate"]},
            {"Document": json.loads(S3_READ), "VersionId": "v1", "IsDefaultVersion": True,
             "CreateDate": policy["CreateDate"]},
        ],
    }
    expect.recent(detail["UpdateDate"])


def test_authorization_details_of_aws_managed_policies_lists_only_attached_ones(iam, estate):
    details = _all_details(iam, Filter=["AWSManagedPolicy"])
    assert details["UserDetailList"] == details["GroupDetailList"] == details["RoleDetailList"] == []
    policies = details["Policies"]
    assert all(p["Arn"].startswith(expect.AWS_POLICY_PREFIX) and p["AttachmentCount"] > 0 for p in policies)
    listed = _one(policies, "Arn", S3_READ_ONLY)
    aws = ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]
    version = ok(iam.get_policy_version(PolicyArn=S3_READ_ONLY, VersionId=aws["DefaultVersionId"]))["PolicyVersion"]
    assert listed == {
        **aws,
        "PolicyVersionList": [{"Document": version["Document"], "VersionId": aws["DefaultVersionId"],
                               "IsDefaultVersion": True, "CreateDate": version["CreateDate"]}],
    }
    assert listed["AttachmentCount"] >= 2


@pytest.mark.parametrize(
    "kind,present",
    [
        ("User", "UserDetailList"),
        ("Group", "GroupDetailList"),
        ("Role", "RoleDetailList"),
        ("LocalManagedPolicy", "Policies"),
        ("AWSManagedPolicy", "Policies"),
    ],
)
def test_authorization_details_filter_selects_one_kind(iam, estate, kind, present):
    details = _all_details(iam, Filter=[kind])
    assert details[present], kind
    for other in DETAIL_LISTS:
        if other != present:
            assert details[other] == [], other
    if kind == "LocalManagedPolicy":
        assert not any(p["Arn"].startswith(expect.AWS_POLICY_PREFIX) for p in details["Policies"])
    if kind == "AWSManagedPolicy":
        assert all(p["Arn"].startswith(expect.AWS_POLICY_PREFIX) for p in details["Policies"])


def test_authorization_details_filter_of_two_kinds(iam, estate):
    details = _all_details(iam, Filter=["User", "Role"])
    assert details["UserDetailList"] and details["RoleDetailList"]
    assert details["GroupDetailList"] == details["Policies"] == []


def test_authorization_details_page_one_entry_at_a_time(iam, estate):
    """MaxItems=1 until IsTruncated is false: one entry per page, the same entries as
    unpaged, none twice."""
    everything = _all_details(iam)
    paged = {k: [] for k in DETAIL_LISTS}
    marker, pages = None, 0
    while True:
        kwargs = dict(MaxItems=1) | ({"Marker": marker} if marker else {})
        page = ok(iam.get_account_authorization_details(**kwargs))
        pages += 1
        assert sum(len(page[k]) for k in DETAIL_LISTS) == 1, page
        for k in DETAIL_LISTS:
            paged[k].extend(page[k])
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        assert page["Marker"]
        marker = page["Marker"]
        assert pages < 5000
    assert paged == everything
    assert pages == sum(len(v) for v in everything.values())
    keys = [(k, json.dumps(e, default=str, sort_keys=True)) for k in DETAIL_LISTS for e in paged[k]]
    assert len(set(keys)) == len(keys)
