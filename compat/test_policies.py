"""Managed policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy, the version
operations (CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions,
SetDefaultPolicyVersion, DeletePolicyVersion), ListEntitiesForPolicy, ListPolicyTags, and
the AWS managed policies (readable and attachable, never modifiable).

AWS's messages come from real IAM answers quoted in public logs and issue trackers, and for
MalformedPolicyDocument from the document/message pairs of moto's test corpus, which were
recorded against IAM (tests/test_iam/test_iam_policies.py)."""

import json
import threading

import pytest
from botocore.exceptions import ClientError

import expect
from conftest import S3_READ
from expect import check_policy, empty_ok, fails, ok

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
BUCKET = "arn:aws:s3:::example_bucket"
VERSION_QUOTA = (
    "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version."
)
MULTIPLE_VERSIONS = (
    "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. "
    "The default version is deleted with the policy."
)


def document(*statements, version="2012-10-17"):
    doc = {"Statement": list(statements) or [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET}]}
    if version is not None:
        doc["Version"] = version
    return json.dumps(doc)


def allow(action):
    return document({"Effect": "Allow", "Action": action, "Resource": BUCKET})


# Documents IAM rejects, with the message it gives.
MALFORMED = [
    pytest.param("This is not a json document", "Syntax errors in policy.", id="not-json"),
    pytest.param(document(version=None), "Policy document must be version 2012-10-17 or greater.", id="no-version"),
    pytest.param(document(version="2008-10-17"), "Policy document must be version 2012-10-17 or greater.",
                 id="version-2008"),
    pytest.param(json.dumps({"Version": "2012-10-17"}), "Syntax errors in policy.", id="no-statement"),
    pytest.param(json.dumps({"Version": "2012-10-17", "Statement": []}), "Syntax errors in policy.",
                 id="empty-statement"),
    pytest.param(document({"Action": "s3:ListBucket", "Resource": BUCKET}), "Syntax errors in policy.",
                 id="no-effect"),
    pytest.param(document({"Effect": "Allow", "Resource": BUCKET}), "Policy statement must contain actions.",
                 id="no-action"),
    pytest.param(document({"Effect": "Allow", "Action": "s3:ListBucket"}), "Policy statement must contain resources.",
                 id="no-resource"),
    pytest.param(document({"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": BUCKET}),
                 "Policy document should not specify a principal.", id="principal"),
    pytest.param(document({"Effect": "denY", "Action": "s3:ListBucket", "Resource": BUCKET}),
                 "The policy failed legacy parsing", id="effect-case"),
    pytest.param(document({"Effect": "Allow", "Action": "invalid", "Resource": BUCKET}),
                 "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", id="action-vendor"),
    pytest.param(document({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "invalid resource"}),
                 'Resource invalid resource must be in ARN format or "*".', id="resource-format"),
    pytest.param(document({"Sid": "One", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET},
                          {"Sid": "One", "Effect": "Deny", "Action": "s3:ListBucket", "Resource": BUCKET}),
                 "Statement IDs (SID) in a single policy must be unique.", id="duplicate-sid"),
]


def document_of_size(size):
    """A valid document of exactly `size` characters without whitespace."""
    base = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                               "Resource": "arn:aws:s3:::b/"}]}, separators=(",", ":"))
    pad = size - len(base)
    assert pad > 0
    text = base.replace("arn:aws:s3:::b/", "arn:aws:s3:::b/" + "x" * pad)
    assert len(text) == size
    return text


# --- CreatePolicy ----------------------------------------------------------------------------


def test_create_policy_returns_every_field_with_default_path(iam, account_id, unique_name, cleanup_policies):
    name = unique_name()
    body = ok(iam.create_policy(PolicyName=name, PolicyDocument=S3_READ))
    cleanup_policies.append(body["Policy"]["Arn"])
    assert set(body) == {"Policy"}
    check_policy(body["Policy"], account_id=account_id, name=name)
    assert body["Policy"]["CreateDate"] == body["Policy"]["UpdateDate"]


def test_create_policy_with_path_description_and_tags_returns_them(iam, account_id, unique_name, unique_path,
                                                                    cleanup_policies):
    name, path = unique_name(), unique_path()
    tags = [{"Key": "team", "Value": "identity"}, {"Key": "empty", "Value": ""}]
    body = ok(iam.create_policy(PolicyName=name, Path=path, Description="what it is for", Tags=tags,
                                PolicyDocument=S3_READ))
    cleanup_policies.append(body["Policy"]["Arn"])
    check_policy(body["Policy"], account_id=account_id, name=name, path=path, description="what it is for",
                 tags=tags)


def test_create_policy_accepts_a_name_of_128_characters(iam, account_id, cleanup_policies, unique_name):
    name = (unique_name() + "-" + "n" * 128)[:128]
    body = ok(iam.create_policy(PolicyName=name, PolicyDocument=S3_READ))
    cleanup_policies.append(body["Policy"]["Arn"])
    check_policy(body["Policy"], account_id=account_id, name=name)


def test_create_policy_twice_is_entity_already_exists(iam, new_policy):
    name = new_policy()["PolicyName"]
    fails(iam.create_policy, PolicyName=name, PolicyDocument=S3_READ, code="EntityAlreadyExists", status=409,
          message=f"A policy called {name} already exists. Duplicate names are not allowed.")


def test_policy_names_are_unique_case_insensitively_and_across_paths(iam, new_policy, unique_name, unique_path):
    name = unique_name("MixedCase")
    new_policy(name=name)
    for variant in (name.upper(), name.lower(), name.swapcase()):
        fails(iam.create_policy, PolicyName=variant, Path=unique_path(), PolicyDocument=S3_READ,
              code="EntityAlreadyExists", status=409,
              message=f"A policy called {variant} already exists. Duplicate names are not allowed.")


def test_create_policy_with_a_name_of_129_characters_is_a_validation_error(iam_raw):
    name = "p" * 129
    fails(iam_raw.create_policy, PolicyName=name, PolicyDocument=S3_READ,
          **expect.validation_error(name, "policyName", "Member must have length less than or equal to 128"))


def test_create_policy_with_an_invalid_name_is_a_validation_error(iam):
    fails(iam.create_policy, PolicyName="has space", PolicyDocument=S3_READ,
          **expect.validation_error("has space", "policyName",
                                    r"Member must satisfy regular expression pattern: [\w+=,.@-]+"))


@pytest.mark.parametrize("path", ["noslash", "/no-trailing", "/star*/", "/two//slashes/"])
def test_create_policy_with_a_bad_path_is_a_validation_error(iam, unique_name, path):
    name = unique_name()
    fails(iam.create_policy, PolicyName=name, Path=path, PolicyDocument=S3_READ,
          **expect.validation_error(path, "path",
                                    r"Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/"))


def test_create_policy_with_a_description_of_1001_characters_is_a_validation_error(iam, unique_name):
    description = "d" * 1001
    fails(iam.create_policy, PolicyName=unique_name(), PolicyDocument=S3_READ, Description=description,
          **expect.validation_error(description, "description", "Member must have length less than or equal to 1000"))


@pytest.mark.parametrize("doc,message", MALFORMED)
def test_create_policy_with_a_malformed_document_is_malformed_policy_document(iam, account_id, unique_name, doc,
                                                                              message):
    name = unique_name()
    fails(iam.create_policy, PolicyName=name, PolicyDocument=doc, **expect.malformed(message))
    arn = expect.policy_arn(account_id, name)
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))


# IAM counts a managed policy's size without whitespace, against 6144 characters; exactly how
# it counts near the limit is not documented, so the sizes below keep a margin.


def test_create_policy_of_6000_characters_without_whitespace_is_accepted(iam, account_id, new_policy):
    policy = new_policy(document=document_of_size(6000))
    assert policy["DefaultVersionId"] == "v1"


def test_create_policy_of_8000_characters_is_limit_exceeded(iam, account_id, unique_name):
    name = unique_name()
    fails(iam.create_policy, PolicyName=name, PolicyDocument=document_of_size(8000), code="LimitExceeded",
          status=409, message="Cannot exceed quota for PolicySize: 6144")
    arn = expect.policy_arn(account_id, name)
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))


def test_whitespace_does_not_count_toward_the_policy_size(iam, new_policy):
    compact = document_of_size(6000)
    spaced = json.dumps(json.loads(compact), indent=400)
    assert len(spaced) > 8000
    policy = new_policy(document=spaced)
    got = ok(iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1"))["PolicyVersion"]
    assert got["Document"] == json.loads(compact)


def test_create_policy_keeps_every_element_of_the_document(iam, new_policy):
    """The stored document is returned as sent (boto3 decodes the URL-encoded JSON)."""
    sent = {
        "Version": "2012-10-17",
        "Id": "compat-id",
        "Statement": [
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [BUCKET, BUCKET + "/*"], "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
            {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::*:user/${aws:username}"},
        ],
    }
    policy = new_policy(document=json.dumps(sent))
    assert ok(iam.get_policy_version(PolicyArn=policy["Arn"], VersionId="v1"))["PolicyVersion"]["Document"] == sent


# --- GetPolicy -------------------------------------------------------------------------------


def test_get_policy_returns_description_and_tags(iam, account_id, new_policy, unique_path):
    tags = [{"Key": "k", "Value": "v"}]
    created = new_policy(Path=unique_path(), Description="desc", Tags=tags)
    body = ok(iam.get_policy(PolicyArn=created["Arn"]))
    assert set(body) == {"Policy"}
    check_policy(body["Policy"], account_id=account_id, name=created["PolicyName"], path=created["Path"],
                 policy_id=created["PolicyId"], description="desc", tags=tags, created=created["CreateDate"],
                 updated=created["UpdateDate"])


def test_get_policy_without_description_or_tags_has_neither_member(iam, account_id, new_policy):
    created = new_policy()
    check_policy(ok(iam.get_policy(PolicyArn=created["Arn"]))["Policy"], account_id=account_id,
                 name=created["PolicyName"], policy_id=created["PolicyId"], created=created["CreateDate"],
                 updated=created["UpdateDate"])


def test_get_policy_of_an_unknown_arn_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))


def test_get_policy_of_an_aws_managed_policy(iam):
    policy = ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]
    # AWS managed policies come from a catalogue without their real IDs and descriptions
    # (crates/oxiam-aws-policies/data/SOURCE.md): the ID is a stable ANPA one, there is no
    # Description.
    assert set(policy) == expect.POLICY_FIELDS, sorted(policy)
    assert policy["PolicyName"] == "AmazonS3ReadOnlyAccess"
    assert policy["Arn"] == S3_READ_ONLY
    assert policy["Path"] == "/"
    assert expect.POLICY_ID.match(policy["PolicyId"])
    assert policy["DefaultVersionId"] == "v3"
    assert policy["IsAttachable"] is True
    assert policy["PermissionsBoundaryUsageCount"] == 0
    assert policy["AttachmentCount"] >= 0
    assert policy["CreateDate"].year == 2015
    assert policy["UpdateDate"] >= policy["CreateDate"]
    assert ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["PolicyId"] == policy["PolicyId"]


def test_get_policy_of_an_aws_managed_policy_under_a_path(iam):
    policy = ok(iam.get_policy(PolicyArn=LAMBDA_BASIC))["Policy"]
    assert (policy["PolicyName"], policy["Path"], policy["Arn"]) == (
        "AWSLambdaBasicExecutionRole", "/service-role/", LAMBDA_BASIC)


def test_get_policy_of_an_unknown_aws_managed_arn_is_no_such_entity(iam):
    arn = "arn:aws:iam::aws:policy/CompatNoSuchManagedPolicy"
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))


def test_get_policy_of_an_invalid_arn_is_invalid_input(iam):
    # Real IAM: "ARN arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess is not
    # valid. (Service: AmazonIdentityManagement; Status Code: 400; Error Code: InvalidInput" (issue
    # aws-samples/aws-cdk-examples#287).
    arn = "arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
    fails(iam.get_policy, PolicyArn=arn, code="InvalidInput", status=400, message=f"ARN {arn} is not valid.")


def test_get_policy_with_an_arn_shorter_than_20_characters_is_a_validation_error(iam_raw):
    fails(iam_raw.get_policy, PolicyArn="arn:aws:iam::1:p/x",
          **expect.validation_error("arn:aws:iam::1:p/x", "policyArn",
                                    "Member must have length greater than or equal to 20"))


# --- GetPolicyVersion ------------------------------------------------------------------------


def test_get_policy_version_of_an_aws_managed_policy_returns_its_document(iam):
    default = ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["DefaultVersionId"]
    version = ok(iam.get_policy_version(PolicyArn=S3_READ_ONLY, VersionId=default))
    assert set(version) == {"PolicyVersion"}
    got = version["PolicyVersion"]
    assert set(got) == {"Document", "VersionId", "IsDefaultVersion", "CreateDate"}
    assert got["VersionId"] == default
    assert got["IsDefaultVersion"] is True
    assert got["Document"]["Version"] == "2012-10-17"
    actions = [a for s in got["Document"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                                  else s["Action"])]
    assert "s3:Get*" in actions and "s3:List*" in actions
    assert all(s["Effect"] == "Allow" for s in got["Document"]["Statement"])


def test_get_policy_version_of_a_missing_version_is_no_such_entity(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.get_policy_version, PolicyArn=arn, VersionId="v9", **expect.no_such_version(arn, "v9"))


def test_get_policy_version_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.get_policy_version, PolicyArn=arn, VersionId="v1", code="NoSuchEntity", status=404)


def test_get_policy_version_with_a_bad_version_id_is_a_validation_error(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.get_policy_version, PolicyArn=arn, VersionId="1",
          **expect.validation_error("1", "versionId",
                                    r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?"))


# --- ListPolicies ----------------------------------------------------------------------------


def _walk(iam, page_size, **kwargs):
    """Every page of ListPolicies, following Marker by hand."""
    pages, marker = [], None
    while True:
        body = ok(iam.list_policies(MaxItems=page_size, **kwargs, **({"Marker": marker} if marker else {})))
        assert set(body) == ({"Policies", "IsTruncated", "Marker"} if body["IsTruncated"] else
                             {"Policies", "IsTruncated"}), sorted(body)
        pages.append(body)
        if not body["IsTruncated"]:
            return pages
        marker = body["Marker"]
        assert len(pages) < 100


def test_list_policies_scope_aws_walks_every_page_in_name_order(iam):
    pages = _walk(iam, 100, Scope="AWS")
    policies = [p for page in pages for p in page["Policies"]]
    assert len(policies) > 1000
    assert [len(page["Policies"]) for page in pages[:-1]] == [100] * (len(pages) - 1)
    assert 1 <= len(pages[-1]["Policies"]) <= 100
    names = [p["PolicyName"] for p in policies]
    assert names == sorted(names, key=str.lower)
    assert len({p["Arn"] for p in policies}) == len(policies)
    assert len({p["PolicyId"] for p in policies}) == len(policies)
    for p in policies:
        assert set(p) == expect.POLICY_FIELDS, p
        assert p["Arn"] == expect.aws_policy_arn(p["PolicyName"], p["Path"])
        assert expect.POLICY_ID.match(p["PolicyId"])
        assert p["IsAttachable"] is True
        assert p["PermissionsBoundaryUsageCount"] == 0
        assert p["DefaultVersionId"].startswith("v")
    assert {"AmazonS3ReadOnlyAccess", "AdministratorAccess", "AWSLambdaBasicExecutionRole"} <= set(names)


def test_list_policies_scope_aws_with_a_path_prefix(iam):
    policies = [p for page in _walk(iam, 1000, Scope="AWS", PathPrefix="/service-role/") for p in page["Policies"]]
    assert policies
    assert all(p["Path"] == "/service-role/" for p in policies)
    assert LAMBDA_BASIC in [p["Arn"] for p in policies]


def test_list_policies_scope_local_pages_under_a_path(iam, account_id, new_policy, unique_name, unique_path):
    path, stem = unique_path(), unique_name()
    words = ["Delta", "alpha", "Charlie", "bravo", "echo"]
    created = {p["PolicyName"]: p for p in (new_policy(name=f"{stem}-{w}", Path=path) for w in words)}
    pages = _walk(iam, 2, Scope="Local", PathPrefix=path)
    assert [len(page["Policies"]) for page in pages] == [2, 2, 1]
    listed = [p for page in pages for p in page["Policies"]]
    assert [p["PolicyName"] for p in listed] == sorted(created, key=str.lower)
    for p in listed:
        c = created[p["PolicyName"]]
        check_policy(p, account_id=account_id, name=c["PolicyName"], path=path, policy_id=c["PolicyId"],
                     created=c["CreateDate"], updated=c["UpdateDate"])


def test_list_policies_paginator_under_a_path(iam, new_policy, unique_path):
    path = unique_path()
    arns = {new_policy(Path=path)["Arn"] for _ in range(3)}
    pages = list(iam.get_paginator("list_policies").paginate(Scope="Local", PathPrefix=path,
                                                             PaginationConfig={"PageSize": 2}))
    assert [len(p["Policies"]) for p in pages] == [2, 1]
    assert {p["Arn"] for page in pages for p in page["Policies"]} == arns


def test_list_policies_without_scope_lists_the_accounts_own_policies_first(iam, new_policy):
    mine = new_policy()
    policies = [p for page in _walk(iam, 1000) for p in page["Policies"]]
    arns = [p["Arn"] for p in policies]
    assert mine["Arn"] in arns and S3_READ_ONLY in arns
    aws = [p for page in _walk(iam, 1000, Scope="AWS") for p in page["Policies"]]
    local = [p for page in _walk(iam, 1000, Scope="Local") for p in page["Policies"]]
    # AWS's first page without a scope shows the account's own policies, then its own.
    assert [p["Arn"] for p in policies] == [p["Arn"] for p in local] + [p["Arn"] for p in aws]
    first = ok(iam.list_policies(MaxItems=1))["Policies"]
    assert first[0]["Arn"] == local[0]["Arn"]


def test_list_policies_with_an_unused_path_prefix_is_empty(iam, unique_path):
    assert ok(iam.list_policies(Scope="All", PathPrefix=unique_path())) == {"Policies": [], "IsTruncated": False}


def test_list_policies_only_attached(iam, account_id, new_policy, new_user, unique_path):
    path = unique_path()
    attached, _ = new_policy(Path=path), new_policy(Path=path)
    user = new_user()
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=attached["Arn"])
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=S3_READ_ONLY)
    local = ok(iam.list_policies(Scope="Local", PathPrefix=path, OnlyAttached=True))
    assert local["IsTruncated"] is False
    assert len(local["Policies"]) == 1
    check_policy(local["Policies"][0], account_id=account_id, name=attached["PolicyName"], path=path,
                 policy_id=attached["PolicyId"], attachments=1, created=attached["CreateDate"],
                 updated=attached["UpdateDate"])
    aws = [p for page in _walk(iam, 1000, Scope="AWS", OnlyAttached=True) for p in page["Policies"]]
    assert S3_READ_ONLY in [p["Arn"] for p in aws]
    assert all(p["AttachmentCount"] >= 1 for p in aws)


def test_list_policies_usage_filter(iam, new_policy, new_role, unique_path):
    path = unique_path()
    attached, unattached = new_policy(Path=path), new_policy(Path=path)
    iam.attach_role_policy(RoleName=new_role()["RoleName"], PolicyArn=attached["Arn"])
    used = ok(iam.list_policies(Scope="Local", PathPrefix=path, PolicyUsageFilter="PermissionsPolicy"))
    assert [p["Arn"] for p in used["Policies"]] == [attached["Arn"]]
    boundaries = ok(iam.list_policies(Scope="Local", PathPrefix=path, PolicyUsageFilter="PermissionsBoundary"))
    assert boundaries == {"Policies": [], "IsTruncated": False}
    everything = ok(iam.list_policies(Scope="Local", PathPrefix=path))
    assert {p["Arn"] for p in everything["Policies"]} == {attached["Arn"], unattached["Arn"]}


def test_list_policies_with_a_bad_path_prefix_is_a_validation_error(iam):
    fails(iam.list_policies, PathPrefix="no-slash",
          **expect.validation_error("no-slash", "pathPrefix",
                                    r"Member must satisfy regular expression pattern: ((/[A-Za-z0-9\.,\+@=_-]+)*)/"))


def test_list_policies_with_a_marker_oxiam_did_not_issue_is_invalid_input(iam):
    # A difference oxiam documents (docs/differences.md).
    fails(iam.list_policies, Marker="not-a-marker", code="InvalidInput", status=400, message="Invalid Marker.")


# --- DeletePolicy ----------------------------------------------------------------------------


def test_delete_policy_removes_it(iam, new_policy):
    arn = new_policy()["Arn"]
    empty_ok(iam.delete_policy(PolicyArn=arn))
    fails(iam.get_policy, PolicyArn=arn, **expect.no_such_policy(arn))


def test_deleted_policy_name_can_be_created_again_with_a_new_id(iam, account_id, new_policy, cleanup_policies):
    first = new_policy()
    empty_ok(iam.delete_policy(PolicyArn=first["Arn"]))
    again = ok(iam.create_policy(PolicyName=first["PolicyName"], PolicyDocument=allow("s3:PutObject")))["Policy"]
    cleanup_policies.append(again["Arn"])
    check_policy(again, account_id=account_id, name=first["PolicyName"])
    assert again["PolicyId"] != first["PolicyId"]
    assert ok(iam.get_policy_version(PolicyArn=again["Arn"], VersionId="v1"))["PolicyVersion"]["Document"] == \
        json.loads(allow("s3:PutObject"))


def test_delete_missing_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.delete_policy, PolicyArn=arn, **expect.no_such_policy(arn))


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_delete_attached_policy_is_delete_conflict(iam, new_policy, new_user, new_group, new_role, kind):
    arn = new_policy()["Arn"]
    if kind == "user":
        name = new_user()["UserName"]
        attach, detach = (lambda: iam.attach_user_policy(UserName=name, PolicyArn=arn),
                          lambda: iam.detach_user_policy(UserName=name, PolicyArn=arn))
    elif kind == "group":
        name = new_group()["GroupName"]
        attach, detach = (lambda: iam.attach_group_policy(GroupName=name, PolicyArn=arn),
                          lambda: iam.detach_group_policy(GroupName=name, PolicyArn=arn))
    else:
        name = new_role()["RoleName"]
        attach, detach = (lambda: iam.attach_role_policy(RoleName=name, PolicyArn=arn),
                          lambda: iam.detach_role_policy(RoleName=name, PolicyArn=arn))
    empty_ok(attach())
    fails(iam.delete_policy, PolicyArn=arn, **expect.delete_conflict("Cannot delete a policy attached to entities."))
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["AttachmentCount"] == 1
    empty_ok(detach())
    empty_ok(iam.delete_policy(PolicyArn=arn))


def test_delete_policy_with_several_versions_is_delete_conflict(iam, new_policy):
    arn = new_policy()["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:PutObject"))
    fails(iam.delete_policy, PolicyArn=arn, **expect.delete_conflict(MULTIPLE_VERSIONS))
    empty_ok(iam.delete_policy_version(PolicyArn=arn, VersionId="v2"))
    empty_ok(iam.delete_policy(PolicyArn=arn))


def test_aws_managed_policies_cannot_be_changed(iam, account_id):
    for call, action, kwargs in (
        (iam.delete_policy, "iam:DeletePolicy", {}),
        (iam.create_policy_version, "iam:CreatePolicyVersion", dict(PolicyDocument=S3_READ)),
        (iam.set_default_policy_version, "iam:SetDefaultPolicyVersion", dict(VersionId="v1")),
        (iam.delete_policy_version, "iam:DeletePolicyVersion", dict(VersionId="v1")),
    ):
        message = fails(call, PolicyArn=S3_READ_ONLY, code="AccessDenied", status=403, **kwargs)
        assert message.startswith(
            f"User: arn:aws:iam::{account_id}:root is not authorized to perform: {action} on resource: "
            f"policy {S3_READ_ONLY}"
        ), message
    assert ok(iam.get_policy(PolicyArn=S3_READ_ONLY))["Policy"]["DefaultVersionId"] == "v3"


# --- policy versions -------------------------------------------------------------------------


def test_create_policy_version_without_set_as_default_keeps_the_default(iam, new_policy):
    arn = new_policy()["Arn"]
    body = ok(iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:PutObject")))
    assert set(body["PolicyVersion"]) == {"VersionId", "IsDefaultVersion", "CreateDate"}
    assert (body["PolicyVersion"]["VersionId"], body["PolicyVersion"]["IsDefaultVersion"]) == ("v2", False)
    expect.recent(body["PolicyVersion"]["CreateDate"])
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["DefaultVersionId"] == "v1"
    v2 = ok(iam.get_policy_version(PolicyArn=arn, VersionId="v2"))["PolicyVersion"]
    assert v2 == {"Document": json.loads(allow("s3:PutObject")), "VersionId": "v2", "IsDefaultVersion": False,
                  "CreateDate": body["PolicyVersion"]["CreateDate"]}


def test_a_sixth_policy_version_is_limit_exceeded(iam, new_policy):
    arn = new_policy()["Arn"]
    for i in range(2, 6):
        assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow(f"s3:V{i}"))["PolicyVersion"][
            "VersionId"] == f"v{i}"
    fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=allow("s3:V6"), code="LimitExceeded",
          status=409, message=VERSION_QUOTA)
    fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=allow("s3:V6"), SetAsDefault=True,
          code="LimitExceeded", status=409, message=VERSION_QUOTA)
    assert len(ok(iam.list_policy_versions(PolicyArn=arn))["Versions"]) == 5
    # Deleting one makes room; version ids are never reused.
    empty_ok(iam.delete_policy_version(PolicyArn=arn, VersionId="v3"))
    again = ok(iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:V6")))["PolicyVersion"]
    assert again["VersionId"] == "v6"
    assert [v["VersionId"] for v in ok(iam.list_policy_versions(PolicyArn=arn))["Versions"]] == [
        "v6", "v5", "v4", "v2", "v1"]


def test_parallel_create_policy_version_stops_at_five_versions(iam, new_policy):
    arn = new_policy()["Arn"]
    attempts = 8
    barrier = threading.Barrier(attempts)
    results = [None] * attempts

    def create(i):
        barrier.wait()
        try:
            results[i] = ("ok", iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow(f"s3:P{i}"))[
                "PolicyVersion"]["VersionId"])
        except ClientError as e:
            results[i] = ("error", e.response)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = sorted(r[1] for r in results if r[0] == "ok")
    assert created == ["v2", "v3", "v4", "v5"], results
    for r in results:
        if r[0] == "error":
            expect.check_error(r[1], code="LimitExceeded", status=409, message=VERSION_QUOTA)
    assert len(ok(iam.list_policy_versions(PolicyArn=arn))["Versions"]) == 5


@pytest.mark.parametrize("doc,message", MALFORMED[:4] + MALFORMED[8:9])
def test_create_policy_version_with_a_malformed_document_is_malformed_policy_document(iam, new_policy, doc, message):
    arn = new_policy()["Arn"]
    fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc, **expect.malformed(message))
    assert [v["VersionId"] for v in ok(iam.list_policy_versions(PolicyArn=arn))["Versions"]] == ["v1"]


def test_create_policy_version_of_8000_characters_is_limit_exceeded(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=document_of_size(8000), code="LimitExceeded",
          status=409, message="Cannot exceed quota for PolicySize: 6144")


def test_create_policy_version_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.create_policy_version, PolicyArn=arn, PolicyDocument=S3_READ, **expect.no_such_policy(arn))


def test_list_policy_versions_is_newest_first_and_pages(iam, new_policy):
    arn = new_policy()["Arn"]
    for i in range(2, 5):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow(f"s3:V{i}"), SetAsDefault=(i == 3))
    first = ok(iam.list_policy_versions(PolicyArn=arn, MaxItems=3))
    assert first["IsTruncated"] is True
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in first["Versions"]] == [
        ("v4", False), ("v3", True), ("v2", False)]
    assert all(set(v) == {"VersionId", "IsDefaultVersion", "CreateDate"} for v in first["Versions"])
    second = ok(iam.list_policy_versions(PolicyArn=arn, MaxItems=3, Marker=first["Marker"]))
    assert second["IsTruncated"] is False
    assert "Marker" not in second
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in second["Versions"]] == [("v1", False)]


def test_list_policy_versions_of_an_aws_managed_policy_has_its_default(iam):
    body = ok(iam.list_policy_versions(PolicyArn=S3_READ_ONLY))
    assert body["IsTruncated"] is False
    # The catalogue holds only each AWS managed policy's default version (SOURCE.md).
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in body["Versions"]] == [("v3", True)]


def test_list_policy_versions_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.list_policy_versions, PolicyArn=arn, **expect.no_such_policy(arn))


def test_set_default_policy_version_switches_the_default(iam, new_policy):
    arn = new_policy()["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:PutObject"))
    empty_ok(iam.set_default_policy_version(PolicyArn=arn, VersionId="v2"))
    assert [(v["VersionId"], v["IsDefaultVersion"]) for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == [
        ("v2", True), ("v1", False)]
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["DefaultVersionId"] == "v2"
    # Setting the current default again changes nothing.
    empty_ok(iam.set_default_policy_version(PolicyArn=arn, VersionId="v2"))
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["DefaultVersionId"] == "v2"


def test_set_default_policy_version_of_a_missing_version_is_no_such_entity(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.set_default_policy_version, PolicyArn=arn, VersionId="v7", **expect.no_such_version(arn, "v7"))


def test_set_default_policy_version_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.set_default_policy_version, PolicyArn=arn, VersionId="v1", code="NoSuchEntity", status=404)


def test_delete_the_default_policy_version_is_delete_conflict(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.delete_policy_version, PolicyArn=arn, VersionId="v1",
          **expect.delete_conflict("Cannot delete the default version of a policy."))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow("s3:PutObject"), SetAsDefault=True)
    fails(iam.delete_policy_version, PolicyArn=arn, VersionId="v2",
          **expect.delete_conflict("Cannot delete the default version of a policy."))
    empty_ok(iam.delete_policy_version(PolicyArn=arn, VersionId="v1"))
    assert [v["VersionId"] for v in ok(iam.list_policy_versions(PolicyArn=arn))["Versions"]] == ["v2"]


def test_delete_a_missing_policy_version_is_no_such_entity(iam, new_policy):
    arn = new_policy()["Arn"]
    fails(iam.delete_policy_version, PolicyArn=arn, VersionId="v2", **expect.no_such_version(arn, "v2"))


def test_delete_policy_version_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.delete_policy_version, PolicyArn=arn, VersionId="v2", code="NoSuchEntity", status=404)


# --- ListEntitiesForPolicy and ListPolicyTags ------------------------------------------------


def test_list_entities_for_policy_names_every_attached_entity(iam, new_policy, new_user, new_group, new_role,
                                                              unique_path):
    arn = new_policy()["Arn"]
    path = unique_path()
    user, group, role = new_user(path=path), new_group(Path=path), new_role(Path=path)
    other_user = new_user()
    iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    iam.attach_user_policy(UserName=other_user["UserName"], PolicyArn=arn)
    iam.attach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    body = ok(iam.list_entities_for_policy(PolicyArn=arn))
    assert body["IsTruncated"] is False
    assert sorted(body["PolicyUsers"], key=lambda u: u["UserName"].lower()) == sorted(
        [{"UserName": u["UserName"], "UserId": u["UserId"]} for u in (user, other_user)],
        key=lambda u: u["UserName"].lower())
    assert body["PolicyGroups"] == [{"GroupName": group["GroupName"], "GroupId": group["GroupId"]}]
    assert body["PolicyRoles"] == [{"RoleName": role["RoleName"], "RoleId": role["RoleId"]}]
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["AttachmentCount"] == 4

    only_users = ok(iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="User"))
    assert (len(only_users["PolicyUsers"]), only_users["PolicyGroups"], only_users["PolicyRoles"]) == (2, [], [])
    only_groups = ok(iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Group"))
    assert (only_groups["PolicyUsers"], len(only_groups["PolicyGroups"]), only_groups["PolicyRoles"]) == ([], 1, [])
    only_roles = ok(iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role"))
    assert (only_roles["PolicyUsers"], only_roles["PolicyGroups"], len(only_roles["PolicyRoles"])) == ([], [], 1)
    under_path = ok(iam.list_entities_for_policy(PolicyArn=arn, PathPrefix=path))
    assert [u["UserName"] for u in under_path["PolicyUsers"]] == [user["UserName"]]
    assert len(under_path["PolicyGroups"]) == len(under_path["PolicyRoles"]) == 1


def test_list_entities_for_an_unattached_policy_is_empty(iam, new_policy):
    body = ok(iam.list_entities_for_policy(PolicyArn=new_policy()["Arn"]))
    assert body == {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": [], "IsTruncated": False}


def test_list_entities_for_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.list_entities_for_policy, PolicyArn=arn, **expect.no_such_policy(arn))


def test_list_policy_tags(iam, new_policy):
    tags = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}]
    tagged, untagged = new_policy(Tags=tags), new_policy()
    # Listed by key, as AWS lists them, not in the order given.
    assert ok(iam.list_policy_tags(PolicyArn=tagged["Arn"])) == {"Tags": sorted(tags, key=lambda t: t["Key"]),
                                                                 "IsTruncated": False}
    assert ok(iam.list_policy_tags(PolicyArn=untagged["Arn"])) == {"Tags": [], "IsTruncated": False}


def test_list_policy_tags_of_an_unknown_policy_is_no_such_entity(iam, account_id, unique_name):
    arn = expect.policy_arn(account_id, unique_name())
    fails(iam.list_policy_tags, PolicyArn=arn, **expect.no_such_policy(arn))
