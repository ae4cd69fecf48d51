"""Roles: CreateRole (with trust policy validation), GetRole, ListRoles, UpdateRole,
UpdateRoleDescription, UpdateAssumeRolePolicy, DeleteRole, ListRoleTags."""

import json
import secrets

import pytest

import expect
from conftest import LAMBDA_TRUST
from expect import check_role, empty_ok, fails, ok

TRUST = json.loads(LAMBDA_TRUST)
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def trust(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def assume(principal):
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}


# --- CreateRole ------------------------------------------------------------------------------


def test_create_role_returns_every_field_with_defaults(iam, account_id, unique_name, cleanup_roles):
    name = unique_name()
    cleanup_roles.append(name)
    body = ok(iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST))
    assert set(body) == {"Role"}
    check_role(body["Role"], account_id=account_id, name=name, trust=TRUST, max_session=None)


def test_create_role_with_path_description_duration_and_tags(iam, account_id, unique_name, unique_path,
                                                             cleanup_roles):
    name, path = unique_name(), unique_path()
    cleanup_roles.append(name)
    tags = [{"Key": "team", "Value": "identity"}]
    body = ok(iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=LAMBDA_TRUST,
                              Description="runs the jobs", MaxSessionDuration=43200, Tags=tags))
    check_role(body["Role"], account_id=account_id, name=name, path=path, trust=TRUST, description="runs the jobs",
               max_session=None, tags=tags)
    assert ok(iam.get_role(RoleName=name))["Role"]["MaxSessionDuration"] == 43200


@pytest.mark.parametrize(
    "principal",
    [
        {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
        {"AWS": "arn:aws:iam::123456789012:root"},
        {"AWS": "123456789012"},
        {"Federated": "cognito-identity.amazonaws.com"},
        "*",
    ],
    ids=["services", "account-arn", "account-id", "federated", "anyone"],
)
def test_create_role_accepts_trust_policy_principals(iam, account_id, new_role, principal):
    doc = {"Version": "2012-10-17", "Statement": [assume(principal)]}
    if "Federated" in principal:
        doc["Statement"][0]["Action"] = "sts:AssumeRoleWithWebIdentity"
    role = new_role(trust=json.dumps(doc))
    assert role["AssumeRolePolicyDocument"] == doc


def test_create_role_twice_is_entity_already_exists_case_insensitively(iam, new_role, unique_name):
    name = new_role(name=unique_name("MixedCase"))["RoleName"]
    for variant in (name, name.upper(), name.lower()):
        fails(iam.create_role, RoleName=variant, AssumeRolePolicyDocument=LAMBDA_TRUST, code="EntityAlreadyExists",
              status=409, message=f"Role with name {variant} already exists.")


def test_create_role_accepts_a_name_of_64_characters(iam, account_id, cleanup_roles):
    name = ("r64-" + secrets.token_hex(32))[:64]
    cleanup_roles.append(name)
    check_role(ok(iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST))["Role"],
               account_id=account_id, name=name, trust=TRUST, max_session=None)


def test_create_role_with_a_name_of_65_characters_is_a_validation_error(iam):
    name = "r" * 65
    fails(iam.create_role, RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST,
          **expect.validation_error(name, "roleName", "Member must have length less than or equal to 64"))


def test_create_role_with_an_invalid_name_is_a_validation_error(iam):
    fails(iam.create_role, RoleName="bad/name", AssumeRolePolicyDocument=LAMBDA_TRUST,
          **expect.validation_error("bad/name", "roleName",
                                    r"Member must satisfy regular expression pattern: [\w+=,.@-]+"))


@pytest.mark.parametrize("path", ["noslash", "/no-trailing", "//"])
def test_create_role_with_a_bad_path_is_a_validation_error(iam, unique_name, path):
    fails(iam.create_role, RoleName=unique_name(), Path=path, AssumeRolePolicyDocument=LAMBDA_TRUST,
          **expect.validation_error(
              path, "path", r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"))


@pytest.mark.parametrize(
    "duration,constraint",
    [
        (3599, "Member must have value greater than or equal to 3600"),
        (43201, "Member must have value less than or equal to 43200"),
        (0, "Member must have value greater than or equal to 3600"),
    ],
)
def test_create_role_with_max_session_duration_out_of_range_is_a_validation_error(iam_raw, unique_name, duration,
                                                                                  constraint):
    name = unique_name()
    fails(iam_raw.create_role, RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST, MaxSessionDuration=duration,
          **expect.validation_error(str(duration), "maxSessionDuration", constraint))
    fails(iam_raw.get_role, RoleName=name, **expect.no_such_role(name))


def test_create_role_accepts_the_bounds_of_max_session_duration(iam, account_id, new_role):
    for duration in (3600, 43200):
        name = new_role(MaxSessionDuration=duration)["RoleName"]
        assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == duration


def test_create_role_with_a_description_of_1001_characters_is_a_validation_error(iam, unique_name):
    description = "d" * 1001
    fails(iam.create_role, RoleName=unique_name(), AssumeRolePolicyDocument=LAMBDA_TRUST, Description=description,
          **expect.validation_error(description, "description", "Member must have length less than or equal to 1000"))


@pytest.mark.parametrize(
    "doc,message",
    [
        pytest.param("not json", "This policy contains invalid Json", id="not-json"),
        pytest.param(trust({"Effect": "Allow", "Action": "sts:AssumeRole"}), None, id="no-principal"),
        pytest.param(trust({**assume({"Service": "lambda.amazonaws.com"}), "Resource": "*"}),
                     "Has prohibited field Resource", id="resource"),
        pytest.param(trust({"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}),
                     "Syntax errors in policy.", id="no-effect"),
        pytest.param(json.dumps({"Version": "2012-10-17"}), "Syntax errors in policy.", id="no-statement"),
        pytest.param(trust({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}), None,
                     id="no-action"),
    ],
)
def test_create_role_with_a_malformed_trust_policy_is_malformed_policy_document(iam, unique_name, doc, message):
    # Real IAM answers "Has prohibited field Resource" to a trust policy with a Resource (quoted
    # in many public CreateRole errors); for the others only the code is asserted.
    name = unique_name()
    fails(iam.create_role, RoleName=name, AssumeRolePolicyDocument=doc, **expect.malformed(message))
    fails(iam.get_role, RoleName=name, **expect.no_such_role(name))


def test_create_role_with_an_identity_policy_as_trust_policy_is_malformed_policy_document(iam, unique_name):
    fails(iam.create_role, RoleName=unique_name(), AssumeRolePolicyDocument=INLINE, **expect.malformed())


def test_create_role_with_a_trust_policy_over_2048_characters_is_limit_exceeded(iam, unique_name):
    services = [f"service{i:04}.amazonaws.com" for i in range(120)]
    doc = trust(assume({"Service": services}))
    assert len(doc) > 3000
    fails(iam.create_role, RoleName=unique_name(), AssumeRolePolicyDocument=doc, code="LimitExceeded", status=409,
          message="Cannot exceed quota for ACLSizePerRole: 2048")


# --- GetRole, ListRoles, ListRoleTags ------------------------------------------------------


def test_get_role_returns_every_field_and_an_empty_role_last_used(iam, account_id, new_role, unique_path):
    tags = [{"Key": "k", "Value": "v"}]
    created = new_role(Path=unique_path(), Description="d", Tags=tags)
    body = ok(iam.get_role(RoleName=created["RoleName"]))
    assert set(body) == {"Role"}
    check_role(body["Role"], account_id=account_id, name=created["RoleName"], path=created["Path"], trust=TRUST,
               role_id=created["RoleId"], created=created["CreateDate"], description="d", tags=tags, last_used={})


def test_get_role_finds_a_role_by_any_case_of_its_name(iam, account_id, new_role, unique_name):
    created = new_role(name=unique_name("CamelCase"))
    for variant in (created["RoleName"].lower(), created["RoleName"].upper()):
        check_role(ok(iam.get_role(RoleName=variant))["Role"], account_id=account_id, name=created["RoleName"],
                   trust=TRUST, role_id=created["RoleId"], created=created["CreateDate"], last_used={})


def test_get_role_of_a_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.get_role, RoleName=name, **expect.no_such_role(name))


def _names_in_order(unique_name):
    stem = unique_name()
    names = [f"{stem}-{w}" for w in ["Delta", "alpha", "Charlie", "bravo", "echo"]]
    return names, sorted(names, key=str.lower)


def test_list_roles_pages_with_max_items_under_a_path_prefix(iam, account_id, new_role, unique_name, unique_path):
    path = unique_path()
    names, order = _names_in_order(unique_name)
    created = {n: new_role(name=n, Path=path, Description=f"about {n}") for n in names}
    new_role(Path=path.rstrip("/") + "-other/")
    pages, marker = [], None
    while True:
        body = ok(iam.list_roles(PathPrefix=path, MaxItems=2, **({"Marker": marker} if marker else {})))
        pages.append(body)
        if not body["IsTruncated"]:
            assert set(body) == {"Roles", "IsTruncated"}
            break
        assert set(body) == {"Roles", "IsTruncated", "Marker"}
        marker = body["Marker"]
    assert [len(p["Roles"]) for p in pages] == [2, 2, 1]
    listed = [r for p in pages for r in p["Roles"]]
    assert [r["RoleName"] for r in listed] == order
    for role in listed:
        c = created[role["RoleName"]]
        # ListRoles leaves out RoleLastUsed and Tags.
        check_role(role, account_id=account_id, name=c["RoleName"], path=path, trust=TRUST, role_id=c["RoleId"],
                   created=c["CreateDate"], description=f"about {c['RoleName']}")


def test_list_roles_paginator_and_path_prefix_as_a_string_prefix(iam, new_role, unique_path):
    base = unique_path()
    top, nested = new_role(Path=base)["RoleName"], new_role(Path=base + "team/")["RoleName"]
    other = new_role(Path=base.rstrip("/") + "-other/")["RoleName"]
    names = lambda prefix: [r["RoleName"] for p in iam.get_paginator("list_roles").paginate(  # noqa: E731
        PathPrefix=prefix, PaginationConfig={"PageSize": 1}) for r in p["Roles"]]
    assert set(names(base)) == {top, nested}
    assert names(base + "team/") == [nested]
    assert set(names(base.rstrip("/"))) == {top, nested, other}


def test_list_roles_with_an_unused_path_prefix_is_empty(iam, unique_path):
    assert ok(iam.list_roles(PathPrefix=unique_path())) == {"Roles": [], "IsTruncated": False}


def test_list_roles_with_a_bad_path_prefix_is_a_validation_error(iam):
    fails(iam.list_roles, PathPrefix="no-slash",
          **expect.validation_error("no-slash", "pathPrefix",
                                    r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*"))


def test_list_role_tags(iam, new_role):
    tags = [{"Key": "b", "Value": "2"}, {"Key": "a", "Value": ""}]
    assert ok(iam.list_role_tags(RoleName=new_role(Tags=tags)["RoleName"])) == {"Tags": tags, "IsTruncated": False}
    assert ok(iam.list_role_tags(RoleName=new_role()["RoleName"])) == {"Tags": [], "IsTruncated": False}


def test_list_role_tags_of_a_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.list_role_tags, RoleName=name, **expect.no_such_role(name))


# --- UpdateRole, UpdateRoleDescription, UpdateAssumeRolePolicy -------------------------------


def test_update_role_changes_description_and_max_session_duration(iam, account_id, new_role):
    created = new_role()
    assert ok(iam.update_role(RoleName=created["RoleName"], Description="new", MaxSessionDuration=7200)) == {}
    check_role(ok(iam.get_role(RoleName=created["RoleName"]))["Role"], account_id=account_id,
               name=created["RoleName"], trust=TRUST, role_id=created["RoleId"], created=created["CreateDate"],
               description="new", max_session=7200, last_used={})


def test_update_role_without_changes_keeps_the_role(iam, account_id, new_role):
    created = new_role(Description="kept", MaxSessionDuration=7200)
    assert ok(iam.update_role(RoleName=created["RoleName"])) == {}
    role = ok(iam.get_role(RoleName=created["RoleName"]))["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("kept", 7200)


def test_update_role_of_a_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.update_role, RoleName=name, Description="x", **expect.no_such_role(name))


def test_update_role_with_max_session_duration_out_of_range_is_a_validation_error(iam_raw, new_role):
    name = new_role()["RoleName"]
    fails(iam_raw.update_role, RoleName=name, MaxSessionDuration=43201,
          **expect.validation_error("43201", "maxSessionDuration",
                                    "Member must have value less than or equal to 43200"))
    assert iam_raw.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 3600


def test_update_role_description_returns_the_role(iam, account_id, new_role):
    created = new_role()
    body = ok(iam.update_role_description(RoleName=created["RoleName"], Description="described"))
    assert set(body) == {"Role"}
    check_role(body["Role"], account_id=account_id, name=created["RoleName"], trust=TRUST, role_id=created["RoleId"],
               created=created["CreateDate"], description="described", max_session=None)


def test_update_role_description_of_a_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.update_role_description, RoleName=name, Description="x", **expect.no_such_role(name))


def test_update_assume_role_policy_replaces_the_trust_policy(iam, account_id, new_role):
    created = new_role()
    new_trust = {"Version": "2012-10-17", "Statement": [assume({"Service": "ec2.amazonaws.com"})]}
    empty = ok(iam.update_assume_role_policy(RoleName=created["RoleName"], PolicyDocument=json.dumps(new_trust)))
    assert empty == {}
    check_role(ok(iam.get_role(RoleName=created["RoleName"]))["Role"], account_id=account_id,
               name=created["RoleName"], trust=new_trust, role_id=created["RoleId"], created=created["CreateDate"],
               last_used={})


def test_update_assume_role_policy_with_a_malformed_document_keeps_the_old_one(iam, new_role):
    name = new_role()["RoleName"]
    fails(iam.update_assume_role_policy, RoleName=name,
          PolicyDocument=trust({**assume({"Service": "ec2.amazonaws.com"}), "Resource": "*"}),
          **expect.malformed("Has prohibited field Resource"))
    fails(iam.update_assume_role_policy, RoleName=name, PolicyDocument=INLINE, **expect.malformed())
    assert ok(iam.get_role(RoleName=name))["Role"]["AssumeRolePolicyDocument"] == TRUST


def test_update_assume_role_policy_over_2048_characters_is_limit_exceeded(iam, new_role):
    name = new_role()["RoleName"]
    doc = trust(assume({"Service": [f"service{i:04}.amazonaws.com" for i in range(120)]}))
    fails(iam.update_assume_role_policy, RoleName=name, PolicyDocument=doc, code="LimitExceeded", status=409,
          message="Cannot exceed quota for ACLSizePerRole: 2048")


def test_update_assume_role_policy_of_a_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.update_assume_role_policy, RoleName=name, PolicyDocument=LAMBDA_TRUST, **expect.no_such_role(name))


# --- DeleteRole ------------------------------------------------------------------------------


def test_delete_role_removes_it(iam, new_role):
    name = new_role()["RoleName"]
    empty_ok(iam.delete_role(RoleName=name))
    fails(iam.get_role, RoleName=name, **expect.no_such_role(name))


def test_deleted_role_name_can_be_created_again_with_a_new_id(iam, account_id, new_role, cleanup_roles):
    first = new_role()
    empty_ok(iam.delete_role(RoleName=first["RoleName"]))
    again = ok(iam.create_role(RoleName=first["RoleName"], AssumeRolePolicyDocument=LAMBDA_TRUST))["Role"]
    check_role(again, account_id=account_id, name=first["RoleName"], trust=TRUST, max_session=None)
    assert again["RoleId"] != first["RoleId"]


def test_delete_missing_role_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.delete_role, RoleName=name, **expect.no_such_role(name))


def test_delete_role_with_an_attached_policy_is_delete_conflict(iam, new_role):
    name = new_role()["RoleName"]
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    fails(iam.delete_role, RoleName=name,
          **expect.delete_conflict("Cannot delete entity, must detach all policies first."))
    iam.detach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    empty_ok(iam.delete_role(RoleName=name))


def test_delete_role_with_an_inline_policy_is_delete_conflict(iam, new_role):
    name = new_role()["RoleName"]
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=INLINE)
    fails(iam.delete_role, RoleName=name, **expect.delete_conflict("Cannot delete entity, must delete policies first."))
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    empty_ok(iam.delete_role(RoleName=name))
