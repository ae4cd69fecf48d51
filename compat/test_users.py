"""IAM users: CreateUser, GetUser, ListUsers, UpdateUser, DeleteUser."""

import secrets
import threading

from botocore.exceptions import ClientError

import expect
from expect import check_user, empty_ok, fails, ok


# --- CreateUser ------------------------------------------------------------------------------


def test_create_user_returns_every_field_with_default_path(iam, account_id, unique_name, cleanup_users):
    name = unique_name()
    cleanup_users.append(name)
    body = ok(iam.create_user(UserName=name))
    assert set(body) == {"User"}
    check_user(body["User"], account_id=account_id, name=name, path="/")


def test_create_user_with_path_and_tags_returns_them(iam, account_id, unique_name, unique_path, cleanup_users):
    name, path = unique_name(), unique_path()
    cleanup_users.append(name)
    tags = [{"Key": "team", "Value": "identity"}, {"Key": "cost-center", "Value": ""}]
    body = ok(iam.create_user(UserName=name, Path=path, Tags=tags))
    check_user(body["User"], account_id=account_id, name=name, path=path, tags=tags)


def test_create_user_accepts_a_name_of_64_characters(iam, account_id, cleanup_users):
    name = ("c64-" + secrets.token_hex(32))[:64]
    cleanup_users.append(name)
    check_user(ok(iam.create_user(UserName=name))["User"], account_id=account_id, name=name)


def test_create_user_accepts_every_allowed_name_character(iam, account_id, unique_name, cleanup_users):
    name = unique_name() + "_+=,.@-"
    cleanup_users.append(name)
    check_user(ok(iam.create_user(UserName=name))["User"], account_id=account_id, name=name)
    assert ok(iam.get_user(UserName=name))["User"]["UserName"] == name


def test_create_user_twice_is_entity_already_exists(iam, new_user):
    name = new_user()["UserName"]
    fails(
        iam.create_user,
        UserName=name,
        code="EntityAlreadyExists",
        status=409,
        message=f"User with name {name} already exists.",
    )


def test_user_names_are_unique_case_insensitively(iam, new_user, unique_name):
    name = unique_name("MixedCase")
    new_user(name=name)
    for variant in (name.upper(), name.lower(), name.swapcase()):
        fails(
            iam.create_user,
            UserName=variant,
            code="EntityAlreadyExists",
            status=409,
            message=f"User with name {variant} already exists.",
        )


def test_concurrent_create_user_of_one_name_creates_it_once(iam, unique_name, cleanup_users):
    name = unique_name()
    cleanup_users.append(name)
    variants = [name, name.upper(), name.lower(), name.swapcase()] * 2
    barrier = threading.Barrier(len(variants))
    results = [None] * len(variants)

    def create(i):
        barrier.wait()
        try:
            results[i] = ("ok", iam.create_user(UserName=variants[i])["User"]["UserName"])
        except ClientError as e:
            results[i] = ("error", e.response["Error"]["Code"])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(len(variants))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r[0] == "ok"]
    assert len(winners) == 1, results
    assert sorted(r for r in results if r[0] == "error") == [("error", "EntityAlreadyExists")] * 7
    winner = winners[0][1]
    cleanup_users.append(winner)
    assert ok(iam.get_user(UserName=name))["User"]["UserName"] == winner
    # One user only: once it is deleted, no spelling of the name finds anything.
    empty_ok(iam.delete_user(UserName=winner))
    for variant in set(variants):
        fails(iam.get_user, UserName=variant, **expect.no_such_user(variant))


def test_create_user_with_invalid_name_is_a_validation_error(iam):
    fails(
        iam.create_user,
        UserName="has space",
        **expect.validation_error(
            "has space", "userName", r"Member must satisfy regular expression pattern: [\w+=,.@-]+"
        ),
    )


def test_create_user_with_a_name_of_65_characters_is_a_validation_error(iam):
    name = "n" * 65
    fails(
        iam.create_user,
        UserName=name,
        **expect.validation_error(name, "userName", "Member must have length less than or equal to 64"),
    )


def test_create_user_with_path_without_slashes_is_a_validation_error(iam, unique_name):
    fails(
        iam.create_user,
        UserName=unique_name(),
        Path="noslash",
        **expect.validation_error(
            "noslash",
            "path",
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ),
    )


def test_create_user_with_duplicate_tag_keys_is_invalid_input(iam, unique_name):
    name = unique_name()
    fails(
        iam.create_user,
        UserName=name,
        Tags=[{"Key": "env", "Value": "a"}, {"Key": "ENV", "Value": "b"}],
        code="InvalidInput",
        status=400,
        message="Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


def test_failed_create_user_creates_nothing(iam, unique_name):
    name = unique_name()
    fails(iam.create_user, UserName=name, Path="bad", code="ValidationError", status=400)
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


def test_create_user_with_permissions_boundary_sets_it(iam, unique_name):
    name = unique_name()
    boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    created = iam.create_user(UserName=name, PermissionsBoundary=boundary)["User"]
    try:
        # `Policy`, as AWS writes it (its API reference and model say `PermissionsBoundaryPolicy`).
        expected = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        assert created["PermissionsBoundary"] == expected
        assert iam.get_user(UserName=name)["User"]["PermissionsBoundary"] == expected
    finally:
        iam.delete_user_permissions_boundary(UserName=name)
        iam.delete_user(UserName=name)


def test_create_user_with_an_unknown_boundary_creates_nothing(iam, unique_name, account_id):
    name = unique_name()
    boundary = f"arn:aws:iam::{account_id}:policy/no-such-boundary"
    fails(
        iam.create_user,
        UserName=name,
        PermissionsBoundary=boundary,
        code="NoSuchEntity",
        status=404,
        message=f"Policy {boundary} does not exist or is not attachable.",
    )
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


# --- GetUser ---------------------------------------------------------------------------------


def test_get_user_returns_the_created_user_with_tags(iam, account_id, new_user, unique_path):
    tags = [{"Key": "owner", "Value": "compat"}]
    created = new_user(path=unique_path(), Tags=tags)
    body = ok(iam.get_user(UserName=created["UserName"]))
    assert set(body) == {"User"}
    check_user(
        body["User"],
        account_id=account_id,
        name=created["UserName"],
        path=created["Path"],
        user_id=created["UserId"],
        created=created["CreateDate"],
        tags=tags,
    )


def test_get_user_without_tags_has_no_tags_member(iam, account_id, new_user):
    created = new_user()
    user = ok(iam.get_user(UserName=created["UserName"]))["User"]
    check_user(user, account_id=account_id, name=created["UserName"], user_id=created["UserId"])


def test_get_user_finds_a_user_by_any_case_of_its_name(iam, account_id, new_user, unique_name):
    created = new_user(name=unique_name("CamelCase"))
    for variant in (created["UserName"].lower(), created["UserName"].upper()):
        user = ok(iam.get_user(UserName=variant))["User"]
        check_user(
            user,
            account_id=account_id,
            name=created["UserName"],
            user_id=created["UserId"],
            created=created["CreateDate"],
        )


def test_get_user_without_name_as_root_describes_the_account_root(iam, account_id):
    body = ok(iam.get_user())
    user = body["User"]
    assert set(user) == expect.USER_FIELDS, sorted(user)
    assert user["UserId"] == account_id
    assert user["Arn"] == f"arn:aws:iam::{account_id}:root"
    assert user["Path"] == ""
    assert user["UserName"] == ""
    # The root was created when the server started, at most a few minutes ago.
    expect.recent(user["CreateDate"], within=900)


def test_get_user_of_a_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


# --- ListUsers -------------------------------------------------------------------------------


def _names_in_order(unique_name):
    stem = unique_name()
    words = ["Delta", "alpha", "Charlie", "bravo", "echo", "Golf", "foxtrot"]
    names = [f"{stem}-{w}" for w in words]
    return names, sorted(names, key=str.lower)


def test_list_users_pages_with_max_items_in_name_order(iam, account_id, new_user, unique_name, unique_path):
    path = unique_path()
    names, expected_order = _names_in_order(unique_name)
    created = {name: new_user(name=name, path=path) for name in names}

    seen, pages, marker = [], [], None
    while True:
        args = dict(PathPrefix=path, MaxItems=2)
        if marker is not None:
            args["Marker"] = marker
        body = ok(iam.list_users(**args))
        pages.append(len(body["Users"]))
        for user in body["Users"]:
            c = created[user["UserName"]]
            check_user(
                user,
                account_id=account_id,
                name=c["UserName"],
                path=path,
                user_id=c["UserId"],
                created=c["CreateDate"],
            )
        seen += [u["UserName"] for u in body["Users"]]
        if body["IsTruncated"]:
            assert set(body) == {"Users", "IsTruncated", "Marker"}
            assert isinstance(body["Marker"], str) and body["Marker"]
            marker = body["Marker"]
        else:
            assert set(body) == {"Users", "IsTruncated"}
            break
        assert len(pages) < 10, "paging does not end"
    assert pages == [2, 2, 2, 1]
    assert seen == expected_order


def test_list_users_returns_everything_in_one_page_when_it_fits(iam, new_user, unique_name, unique_path):
    path = unique_path()
    names, expected_order = _names_in_order(unique_name)
    for name in names:
        new_user(name=name, path=path)
    body = ok(iam.list_users(PathPrefix=path, MaxItems=7))
    assert body["IsTruncated"] is False
    assert "Marker" not in body
    assert [u["UserName"] for u in body["Users"]] == expected_order
    body = ok(iam.list_users(PathPrefix=path))
    assert body["IsTruncated"] is False
    assert [u["UserName"] for u in body["Users"]] == expected_order


def test_list_users_paginator_visits_every_user_once(iam, new_user, unique_name, unique_path):
    path = unique_path()
    names, expected_order = _names_in_order(unique_name)
    for name in names:
        new_user(name=name, path=path)
    pages = list(iam.get_paginator("list_users").paginate(PathPrefix=path, PaginationConfig={"PageSize": 3}))
    assert [len(p["Users"]) for p in pages] == [3, 3, 1]
    assert [u["UserName"] for p in pages for u in p["Users"]] == expected_order


def test_list_users_entries_have_no_tags(iam, account_id, new_user, unique_path):
    path = unique_path()
    created = new_user(path=path, Tags=[{"Key": "k", "Value": "v"}])
    body = ok(iam.list_users(PathPrefix=path))
    assert body["IsTruncated"] is False
    assert len(body["Users"]) == 1
    check_user(
        body["Users"][0],
        account_id=account_id,
        name=created["UserName"],
        path=path,
        user_id=created["UserId"],
        created=created["CreateDate"],
    )


def test_list_users_path_prefix_selects_users_under_that_path(iam, new_user, unique_path):
    base = unique_path()
    top = new_user(path=base)["UserName"]
    nested = new_user(path=base + "team/")["UserName"]
    other = new_user(path=base.rstrip("/") + "-other/")["UserName"]

    under_base = {u["UserName"] for u in ok(iam.list_users(PathPrefix=base))["Users"]}
    assert under_base == {top, nested}
    under_team = {u["UserName"] for u in ok(iam.list_users(PathPrefix=base + "team/"))["Users"]}
    assert under_team == {nested}
    # A prefix is a string prefix of the path, not a whole path segment.
    under_stem = {u["UserName"] for u in ok(iam.list_users(PathPrefix=base.rstrip("/")))["Users"]}
    assert under_stem == {top, nested, other}


def test_list_users_with_an_unused_path_prefix_is_empty(iam, unique_path):
    body = ok(iam.list_users(PathPrefix=unique_path()))
    assert body == {"Users": [], "IsTruncated": False}


def test_list_users_without_prefix_includes_new_users_but_not_the_root(iam, account_id, new_user):
    created = new_user()
    users = [u for p in iam.get_paginator("list_users").paginate() for u in p["Users"]]
    mine = [u for u in users if u["UserId"] == created["UserId"]]
    assert len(mine) == 1
    assert all(u["Arn"] != f"arn:aws:iam::{account_id}:root" for u in users)
    assert len({u["UserId"] for u in users}) == len(users)


def test_list_users_with_bad_max_items_is_a_validation_error(client_for, server):
    raw = client_for("iam", server.root_key_id, server.root_secret, parameter_validation=False)
    fails(
        raw.list_users,
        MaxItems=0,
        **expect.validation_error("0", "maxItems", "Member must have value greater than or equal to 1"),
    )
    fails(
        raw.list_users,
        MaxItems=1001,
        **expect.validation_error("1001", "maxItems", "Member must have value less than or equal to 1000"),
    )


# --- UpdateUser ------------------------------------------------------------------------------


def test_update_user_rename_keeps_user_id_and_create_date(iam, account_id, new_user, unique_name, cleanup_users):
    created = new_user(Tags=[{"Key": "k", "Value": "v"}])
    new_name = unique_name("renamed")
    cleanup_users.append(new_name)
    empty_ok(iam.update_user(UserName=created["UserName"], NewUserName=new_name))
    user = ok(iam.get_user(UserName=new_name))["User"]
    check_user(
        user,
        account_id=account_id,
        name=new_name,
        user_id=created["UserId"],
        created=created["CreateDate"],
        tags=[{"Key": "k", "Value": "v"}],
    )
    fails(iam.get_user, UserName=created["UserName"], **expect.no_such_user(created["UserName"]))


def test_renamed_users_are_found_again_by_user_id(iam, account_id, new_user, unique_name, cleanup_users):
    """Scenario 1, step 2: writer/reader renamed to creator/getter, found again by UserId."""
    writer, reader = new_user(name=unique_name("writer")), new_user(name=unique_name("reader"))
    creator, getter = unique_name("creator"), unique_name("getter")
    cleanup_users.extend([creator, getter])
    empty_ok(iam.update_user(UserName=writer["UserName"], NewUserName=creator))
    empty_ok(iam.update_user(UserName=reader["UserName"], NewUserName=getter))
    by_id = {u["UserId"]: u for p in iam.get_paginator("list_users").paginate() for u in p["Users"]}
    check_user(by_id[writer["UserId"]], account_id=account_id, name=creator, user_id=writer["UserId"],
               created=writer["CreateDate"])
    check_user(by_id[reader["UserId"]], account_id=account_id, name=getter, user_id=reader["UserId"],
               created=reader["CreateDate"])
    names = {u["UserName"] for u in by_id.values()}
    assert writer["UserName"] not in names and reader["UserName"] not in names


def test_update_user_new_path_changes_the_arn(iam, account_id, new_user, unique_path):
    created = new_user()
    path = unique_path()
    empty_ok(iam.update_user(UserName=created["UserName"], NewPath=path))
    user = ok(iam.get_user(UserName=created["UserName"]))["User"]
    check_user(user, account_id=account_id, name=created["UserName"], path=path, user_id=created["UserId"],
               created=created["CreateDate"])


def test_list_users_finds_a_moved_user_under_its_new_path_only(iam, new_user, unique_path):
    old_path, new_path = unique_path(), unique_path()
    created = new_user(path=old_path)
    iam.update_user(UserName=created["UserName"], NewPath=new_path)
    assert [u["UserId"] for u in ok(iam.list_users(PathPrefix=new_path))["Users"]] == [created["UserId"]]
    assert ok(iam.list_users(PathPrefix=old_path))["Users"] == []


def test_update_user_name_and_path_together(iam, account_id, new_user, unique_name, unique_path, cleanup_users):
    created = new_user()
    new_name, path = unique_name("moved"), unique_path()
    cleanup_users.append(new_name)
    empty_ok(iam.update_user(UserName=created["UserName"], NewUserName=new_name, NewPath=path))
    user = ok(iam.get_user(UserName=new_name))["User"]
    check_user(user, account_id=account_id, name=new_name, path=path, user_id=created["UserId"],
               created=created["CreateDate"])


def test_update_user_to_a_taken_name_is_entity_already_exists(iam, new_user):
    first, second = new_user(), new_user()
    taken = second["UserName"].upper()
    fails(
        iam.update_user,
        UserName=first["UserName"],
        NewUserName=taken,
        code="EntityAlreadyExists",
        status=409,
        message=f"User with name {taken} already exists.",
    )
    assert ok(iam.get_user(UserName=first["UserName"]))["User"]["UserId"] == first["UserId"]


def test_update_user_of_a_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.update_user, UserName=name, NewUserName=unique_name("x"), **expect.no_such_user(name))


def test_renamed_user_keeps_its_access_keys(iam, new_user, unique_name, cleanup_users):
    created = new_user()
    key = iam.create_access_key(UserName=created["UserName"])["AccessKey"]
    new_name = unique_name("renamed")
    cleanup_users.append(new_name)
    empty_ok(iam.update_user(UserName=created["UserName"], NewUserName=new_name))
    keys = ok(iam.list_access_keys(UserName=new_name))["AccessKeyMetadata"]
    assert len(keys) == 1
    expect.check_key_metadata(keys[0], user_name=new_name, key_id=key["AccessKeyId"], created=key["CreateDate"])


# --- DeleteUser ------------------------------------------------------------------------------


def test_delete_user_removes_it(iam, new_user):
    name = new_user()["UserName"]
    empty_ok(iam.delete_user(UserName=name))
    fails(iam.get_user, UserName=name, **expect.no_such_user(name))


def test_list_users_no_longer_lists_a_deleted_user(iam, new_user, unique_path):
    path = unique_path()
    kept, gone = new_user(path=path), new_user(path=path)
    iam.delete_user(UserName=gone["UserName"])
    assert [u["UserId"] for u in ok(iam.list_users(PathPrefix=path))["Users"]] == [kept["UserId"]]


def test_deleted_name_can_be_created_again_with_a_new_user_id(iam, account_id, new_user):
    first = new_user()
    empty_ok(iam.delete_user(UserName=first["UserName"]))
    again = ok(iam.create_user(UserName=first["UserName"]))["User"]
    check_user(again, account_id=account_id, name=first["UserName"])
    assert again["UserId"] != first["UserId"]


def test_delete_user_with_access_keys_is_delete_conflict(iam, user_with_key):
    user, key = user_with_key()
    fails(
        iam.delete_user,
        UserName=user["UserName"],
        code="DeleteConflict",
        status=409,
        message="Cannot delete entity, must delete access keys first.",
    )
    assert ok(iam.get_user(UserName=user["UserName"]))["User"]["UserId"] == user["UserId"]
    empty_ok(iam.delete_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"]))
    empty_ok(iam.delete_user(UserName=user["UserName"]))


def test_delete_user_with_only_inactive_keys_is_still_delete_conflict(iam, user_with_key):
    user, key = user_with_key()
    empty_ok(iam.update_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"], Status="Inactive"))
    fails(
        iam.delete_user,
        UserName=user["UserName"],
        code="DeleteConflict",
        status=409,
        message="Cannot delete entity, must delete access keys first.",
    )


def test_delete_missing_user_is_no_such_entity(iam, unique_name):
    name = unique_name()
    fails(iam.delete_user, UserName=name, **expect.no_such_user(name))
