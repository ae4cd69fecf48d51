"""Groups: CreateGroup, GetGroup (with its members), ListGroups, ListGroupsForUser,
AddUserToGroup, RemoveUserFromGroup, UpdateGroup, DeleteGroup; and the group memberships that
stop a user's deletion."""

import json
import secrets

import expect
from expect import check_group, check_user, empty_ok, fails, ok

INLINE = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


# --- CreateGroup -----------------------------------------------------------------------------


def test_create_group_returns_every_field_with_default_path(iam, account_id, unique_name, cleanup_groups):
    name = unique_name()
    cleanup_groups.append(name)
    body = ok(iam.create_group(GroupName=name))
    assert set(body) == {"Group"}
    check_group(body["Group"], account_id=account_id, name=name)


def test_create_group_with_a_path(iam, account_id, unique_name, unique_path, cleanup_groups):
    name, path = unique_name(), unique_path()
    cleanup_groups.append(name)
    check_group(ok(iam.create_group(GroupName=name, Path=path))["Group"], account_id=account_id, name=name, path=path)


def test_create_group_accepts_a_name_of_128_characters(iam, account_id, cleanup_groups):
    name = ("g128-" + secrets.token_hex(64))[:128]
    cleanup_groups.append(name)
    check_group(ok(iam.create_group(GroupName=name))["Group"], account_id=account_id, name=name)


def test_create_group_twice_is_entity_already_exists_case_insensitively(iam, new_group, unique_name):
    name = new_group(name=unique_name("MixedCase"))["GroupName"]
    for variant in (name, name.upper(), name.lower()):
        fails(iam.create_group, GroupName=variant, code="EntityAlreadyExists", status=409,
              message=f"Group with name {variant} already exists.")


def test_create_group_with_a_name_of_129_characters_is_a_validation_error(iam_raw):
    name = "g" * 129
    fails(iam_raw.create_group, GroupName=name,
          **expect.validation_error(name, "groupName", "Member must have length less than or equal to 128"))


def test_create_group_with_an_invalid_name_is_a_validation_error(iam):
    fails(iam.create_group, GroupName="no spaces",
          **expect.validation_error("no spaces", "groupName",
                                    r"Member must satisfy regular expression pattern: [\w+=,.@-]+"))


def test_create_group_with_a_bad_path_is_a_validation_error(iam, unique_name):
    name = unique_name()
    fails(iam.create_group, GroupName=name, Path="noslash",
          **expect.validation_error(
              "noslash", "path",
              r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"))
    fails(iam.get_group, GroupName=name, **expect.no_such_group(name))


# --- GetGroup --------------------------------------------------------------------------------


def test_get_group_without_members(iam, account_id, new_group, unique_path):
    created = new_group(Path=unique_path())
    body = ok(iam.get_group(GroupName=created["GroupName"]))
    assert set(body) == {"Group", "Users", "IsTruncated"}
    check_group(body["Group"], account_id=account_id, name=created["GroupName"], path=created["Path"],
                group_id=created["GroupId"], created=created["CreateDate"])
    assert body["Users"] == []
    assert body["IsTruncated"] is False


def test_get_group_lists_members_in_name_order_and_pages(iam, account_id, new_group, new_user, unique_name):
    group = new_group()["GroupName"]
    stem = unique_name()
    users = {u["UserName"]: u for u in (new_user(name=f"{stem}-{w}", Tags=[{"Key": "k", "Value": "v"}])
                                          for w in ["Delta", "alpha", "Charlie"])}
    for name in users:
        empty_ok(iam.add_user_to_group(GroupName=group, UserName=name))
    first = ok(iam.get_group(GroupName=group, MaxItems=2))
    assert first["IsTruncated"] is True
    second = ok(iam.get_group(GroupName=group, MaxItems=2, Marker=first["Marker"]))
    assert second["IsTruncated"] is False
    assert "Marker" not in second
    members = first["Users"] + second["Users"]
    assert [u["UserName"] for u in members] == sorted(users, key=str.lower)
    for member in members:
        u = users[member["UserName"]]
        # Members are listed without their tags.
        check_user(member, account_id=account_id, name=u["UserName"], user_id=u["UserId"], created=u["CreateDate"])
    assert second["Group"] == first["Group"]


def test_get_group_finds_a_group_by_any_case_of_its_name(iam, account_id, new_group, unique_name):
    created = new_group(name=unique_name("CamelCase"))
    for variant in (created["GroupName"].upper(), created["GroupName"].lower()):
        check_group(ok(iam.get_group(GroupName=variant))["Group"], account_id=account_id,
                    name=created["GroupName"], group_id=created["GroupId"], created=created["CreateDate"])


def test_get_group_of_a_missing_group_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.get_group, GroupName=name, **expect.no_such_group(name))


# --- ListGroups ------------------------------------------------------------------------------


def test_list_groups_pages_with_max_items_under_a_path_prefix(iam, account_id, new_group, unique_name, unique_path):
    path, stem = unique_path(), unique_name()
    names = [f"{stem}-{w}" for w in ["Delta", "alpha", "Charlie", "bravo", "echo"]]
    created = {n: new_group(name=n, Path=path) for n in names}
    new_group(Path=path.rstrip("/") + "-other/")
    pages, marker = [], None
    while True:
        body = ok(iam.list_groups(PathPrefix=path, MaxItems=2, **({"Marker": marker} if marker else {})))
        pages.append(body)
        if not body["IsTruncated"]:
            assert set(body) == {"Groups", "IsTruncated"}
            break
        assert set(body) == {"Groups", "IsTruncated", "Marker"}
        marker = body["Marker"]
    assert [len(p["Groups"]) for p in pages] == [2, 2, 1]
    listed = [g for p in pages for g in p["Groups"]]
    assert [g["GroupName"] for g in listed] == sorted(names, key=str.lower)
    for group in listed:
        c = created[group["GroupName"]]
        check_group(group, account_id=account_id, name=c["GroupName"], path=path, group_id=c["GroupId"],
                    created=c["CreateDate"])


def test_list_groups_paginator_and_path_prefix_as_a_string_prefix(iam, new_group, unique_path):
    base = unique_path()
    top, nested = new_group(Path=base)["GroupName"], new_group(Path=base + "team/")["GroupName"]
    other = new_group(Path=base.rstrip("/") + "-other/")["GroupName"]

    def names(prefix):
        pages = iam.get_paginator("list_groups").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 1})
        return [g["GroupName"] for p in pages for g in p["Groups"]]

    assert set(names(base)) == {top, nested}
    assert names(base + "team/") == [nested]
    assert set(names(base.rstrip("/"))) == {top, nested, other}


def test_list_groups_with_an_unused_path_prefix_is_empty(iam, unique_path):
    assert ok(iam.list_groups(PathPrefix=unique_path())) == {"Groups": [], "IsTruncated": False}


def test_list_groups_with_a_bad_path_prefix_is_a_validation_error(iam):
    fails(iam.list_groups, PathPrefix="no-slash",
          **expect.validation_error("no-slash", "pathPrefix",
                                    r"Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*"))


# --- memberships -----------------------------------------------------------------------------


def test_add_user_to_group_and_list_groups_for_user(iam, account_id, new_group, new_user, unique_name, unique_path):
    user = new_user()["UserName"]
    stem, path = unique_name(), unique_path()
    groups = {g["GroupName"]: g for g in (new_group(name=f"{stem}-{w}", Path=path) for w in ["beta", "Alpha"])}
    for name in groups:
        empty_ok(iam.add_user_to_group(GroupName=name, UserName=user))
    body = ok(iam.list_groups_for_user(UserName=user))
    assert set(body) == {"Groups", "IsTruncated"}
    assert body["IsTruncated"] is False
    assert [g["GroupName"] for g in body["Groups"]] == sorted(groups, key=str.lower)
    for group in body["Groups"]:
        c = groups[group["GroupName"]]
        check_group(group, account_id=account_id, name=c["GroupName"], path=path, group_id=c["GroupId"],
                    created=c["CreateDate"])
    paged = ok(iam.list_groups_for_user(UserName=user, MaxItems=1))
    assert (len(paged["Groups"]), paged["IsTruncated"]) == (1, True)
    rest = ok(iam.list_groups_for_user(UserName=user, MaxItems=1, Marker=paged["Marker"]))
    assert [g["GroupName"] for g in paged["Groups"] + rest["Groups"]] == sorted(groups, key=str.lower)


def test_add_user_to_group_twice_keeps_one_membership(iam, new_group, new_user):
    group, user = new_group()["GroupName"], new_user()["UserName"]
    empty_ok(iam.add_user_to_group(GroupName=group, UserName=user))
    empty_ok(iam.add_user_to_group(GroupName=group, UserName=user.upper()))
    assert [u["UserName"] for u in ok(iam.get_group(GroupName=group))["Users"]] == [user]
    assert len(ok(iam.list_groups_for_user(UserName=user))["Groups"]) == 1


def test_list_groups_for_a_user_without_groups_is_empty(iam, new_user):
    assert ok(iam.list_groups_for_user(UserName=new_user()["UserName"])) == {"Groups": [], "IsTruncated": False}


def test_list_groups_for_a_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.list_groups_for_user, UserName=name, **expect.no_such_user(name))


def test_add_user_to_a_missing_group_is_no_such_entity(iam, new_user, unique_name):
    name = unique_name()
    fails(iam.add_user_to_group, GroupName=name, UserName=new_user()["UserName"], **expect.no_such_group(name))


def test_add_a_missing_user_to_a_group_is_no_such_entity(iam, new_group, unique_name):
    name = unique_name()
    fails(iam.add_user_to_group, GroupName=new_group()["GroupName"], UserName=name, **expect.no_such_user(name))


def test_a_user_in_ten_groups_cannot_join_an_eleventh(iam, new_group, new_user):
    user = new_user()["UserName"]
    for _ in range(10):
        iam.add_user_to_group(GroupName=new_group()["GroupName"], UserName=user)
    fails(iam.add_user_to_group, GroupName=new_group()["GroupName"], UserName=user, code="LimitExceeded", status=409)
    assert len(ok(iam.list_groups_for_user(UserName=user))["Groups"]) == 10


def test_remove_user_from_group(iam, new_group, new_user):
    group, user = new_group()["GroupName"], new_user()["UserName"]
    iam.add_user_to_group(GroupName=group, UserName=user)
    empty_ok(iam.remove_user_from_group(GroupName=group, UserName=user))
    assert ok(iam.get_group(GroupName=group))["Users"] == []
    assert ok(iam.list_groups_for_user(UserName=user))["Groups"] == []


def test_remove_a_user_who_is_not_a_member_succeeds(iam, new_group, new_user):
    group, user = new_group()["GroupName"], new_user()["UserName"]
    empty_ok(iam.remove_user_from_group(GroupName=group, UserName=user))
    assert ok(iam.get_group(GroupName=group))["Users"] == []


def test_remove_user_from_a_missing_group_is_no_such_entity(iam, new_user, unique_name):
    name = unique_name()
    fails(iam.remove_user_from_group, GroupName=name, UserName=new_user()["UserName"], **expect.no_such_group(name))


def test_remove_a_missing_user_from_a_group_is_no_such_entity(iam, new_group, unique_name):
    name = unique_name()
    fails(iam.remove_user_from_group, GroupName=new_group()["GroupName"], UserName=name, **expect.no_such_user(name))


# --- UpdateGroup -----------------------------------------------------------------------------


def test_update_group_renames_and_moves_keeping_id_and_members(iam, account_id, new_group, new_user, unique_name,
                                                               unique_path, cleanup_groups):
    created = new_group()
    user = new_user()["UserName"]
    iam.add_user_to_group(GroupName=created["GroupName"], UserName=user)
    new_name, path = unique_name("renamed"), unique_path()
    cleanup_groups.append(new_name)
    empty_ok(iam.update_group(GroupName=created["GroupName"], NewGroupName=new_name, NewPath=path))
    body = ok(iam.get_group(GroupName=new_name))
    check_group(body["Group"], account_id=account_id, name=new_name, path=path, group_id=created["GroupId"],
                created=created["CreateDate"])
    assert [u["UserName"] for u in body["Users"]] == [user]
    assert [g["GroupName"] for g in ok(iam.list_groups_for_user(UserName=user))["Groups"]] == [new_name]
    fails(iam.get_group, GroupName=created["GroupName"], **expect.no_such_group(created["GroupName"]))


def test_update_group_path_only(iam, account_id, new_group, unique_path):
    created = new_group()
    path = unique_path()
    empty_ok(iam.update_group(GroupName=created["GroupName"], NewPath=path))
    check_group(ok(iam.get_group(GroupName=created["GroupName"]))["Group"], account_id=account_id,
                name=created["GroupName"], path=path, group_id=created["GroupId"], created=created["CreateDate"])
    assert [g["GroupName"] for g in ok(iam.list_groups(PathPrefix=path))["Groups"]] == [created["GroupName"]]


def test_update_group_to_a_taken_name_is_entity_already_exists(iam, new_group):
    first, second = new_group(), new_group()
    taken = second["GroupName"].upper()
    fails(iam.update_group, GroupName=first["GroupName"], NewGroupName=taken, code="EntityAlreadyExists",
          status=409, message=f"Group with name {taken} already exists.")
    assert ok(iam.get_group(GroupName=first["GroupName"]))["Group"]["GroupId"] == first["GroupId"]


def test_update_missing_group_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.update_group, GroupName=name, NewGroupName=unique_name("x"), **expect.no_such_group(name))


# --- DeleteGroup, and memberships in the way of DeleteUser -----------------------------------


def test_delete_group_removes_it(iam, new_group):
    name = new_group()["GroupName"]
    empty_ok(iam.delete_group(GroupName=name))
    fails(iam.get_group, GroupName=name, **expect.no_such_group(name))


def test_delete_missing_group_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.delete_group, GroupName=name, **expect.no_such_group(name))


def test_delete_group_with_members_is_delete_conflict(iam, new_group, new_user):
    group, user = new_group()["GroupName"], new_user()["UserName"]
    iam.add_user_to_group(GroupName=group, UserName=user)
    fails(iam.delete_group, GroupName=group,
          **expect.delete_conflict("Cannot delete entity, must remove users from group first."))
    iam.remove_user_from_group(GroupName=group, UserName=user)
    empty_ok(iam.delete_group(GroupName=group))


def test_delete_group_with_an_attached_policy_is_delete_conflict(iam, new_group):
    group = new_group()["GroupName"]
    iam.attach_group_policy(GroupName=group, PolicyArn=S3_READ_ONLY)
    fails(iam.delete_group, GroupName=group,
          **expect.delete_conflict("Cannot delete entity, must detach all policies first."))
    iam.detach_group_policy(GroupName=group, PolicyArn=S3_READ_ONLY)
    empty_ok(iam.delete_group(GroupName=group))


def test_delete_group_with_an_inline_policy_is_delete_conflict(iam, new_group):
    group = new_group()["GroupName"]
    iam.put_group_policy(GroupName=group, PolicyName="inline", PolicyDocument=INLINE)
    fails(iam.delete_group, GroupName=group,
          **expect.delete_conflict("Cannot delete entity, must delete policies first."))
    iam.delete_group_policy(GroupName=group, PolicyName="inline")
    empty_ok(iam.delete_group(GroupName=group))


def test_delete_user_in_a_group_is_delete_conflict(iam, new_group, new_user):
    # Real IAM, DeleteUser of a group member: "DeleteConflict: Cannot delete entity, must remove
    # users from group first." (mozilla-services/userplex#17).
    group, user = new_group()["GroupName"], new_user()["UserName"]
    iam.add_user_to_group(GroupName=group, UserName=user)
    fails(iam.delete_user, UserName=user,
          **expect.delete_conflict("Cannot delete entity, must remove users from group first."))
    iam.remove_user_from_group(GroupName=group, UserName=user)
    empty_ok(iam.delete_user(UserName=user))


def test_a_user_created_again_under_an_old_name_has_no_groups(iam, new_group, new_user):
    group, user = new_group()["GroupName"], new_user()["UserName"]
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_user(UserName=user)
    iam.create_user(UserName=user)
    assert ok(iam.get_group(GroupName=group))["Users"] == []
    assert ok(iam.list_groups_for_user(UserName=user))["Groups"] == []
