"""STS GetCallerIdentity, signed in the Authorization header and presigned in a URL."""

import urllib.parse

import expect
import rawhttp
from expect import ok


def test_get_caller_identity_as_root(sts, account_id):
    body = ok(sts.get_caller_identity())
    assert body == {
        "UserId": account_id,
        "Account": account_id,
        "Arn": f"arn:aws:iam::{account_id}:root",
    }


def test_every_response_has_its_own_request_id(sts):
    first = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    second = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    assert first != second


def test_get_caller_identity_as_an_iam_user(client_for, account_id, user_with_key, unique_path):
    user, key = user_with_key(path=unique_path())
    body = ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity())
    assert body == {
        "UserId": user["UserId"],
        "Account": account_id,
        "Arn": expect.user_arn(account_id, user["UserName"], user["Path"]),
    }


def test_get_caller_identity_needs_no_permission_in_any_region(client_for, account_id, user_with_key):
    user, key = user_with_key()
    for region in ("us-east-1", "eu-west-1", "ap-northeast-3"):
        body = ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region).get_caller_identity())
        assert body["Arn"] == expect.user_arn(account_id, user["UserName"])


def test_get_caller_identity_follows_a_rename(client_for, iam, account_id, user_with_key, unique_name,
                                              cleanup_users):
    user, key = user_with_key()
    new_name = unique_name("renamed")
    cleanup_users.append(new_name)
    iam.update_user(UserName=user["UserName"], NewUserName=new_name)
    body = ok(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity())
    assert body["Arn"] == expect.user_arn(account_id, new_name)
    assert body["UserId"] == user["UserId"]


def _presigned(sts):
    url = sts.generate_presigned_url("get_caller_identity")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["Action"] == ["GetCallerIdentity"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    return url


def _identity(reply):
    result = rawhttp.check_xml_result(reply, "sts", "GetCallerIdentity")
    ns = "{" + rawhttp.NAMESPACES["sts"] + "}"
    return {child.tag.removeprefix(ns): child.text for child in result}


def test_presigned_get_caller_identity_url_works_as_a_post_with_an_empty_body(sts, account_id):
    reply = rawhttp.send("POST", _presigned(sts), b"")
    assert _identity(reply) == {
        "UserId": account_id,
        "Account": account_id,
        "Arn": f"arn:aws:iam::{account_id}:root",
    }


def test_presigned_url_of_an_iam_user_identifies_that_user(client_for, account_id, user_with_key):
    user, key = user_with_key()
    url = _presigned(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-1"))
    assert _identity(rawhttp.send("POST", url, b"")) == {
        "UserId": user["UserId"],
        "Account": account_id,
        "Arn": expect.user_arn(account_id, user["UserName"]),
    }


def test_presigned_url_with_a_tampered_signature_is_rejected(sts):
    url = _presigned(sts)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, ("0" * 64 if k == "X-Amz-Signature" else v)) for k, v in query]
    tampered = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    rawhttp.check_xml_error(rawhttp.send("POST", tampered, b""), "sts", code="SignatureDoesNotMatch",
                            status=403, message=expect.SIGNATURE_MISMATCH_MESSAGE)


def test_presigned_post_url_used_with_get_is_rejected(sts):
    """botocore signs the presigned STS URL for POST; the method is part of the signature."""
    rawhttp.check_xml_error(rawhttp.send("GET", _presigned(sts)), "sts", code="SignatureDoesNotMatch",
                            status=403, message=expect.SIGNATURE_MISMATCH_MESSAGE)


def test_presigned_url_of_an_inactive_key_is_invalid_client_token_id(iam, client_for, user_with_key):
    user, key = user_with_key()
    url = _presigned(client_for("sts", key["AccessKeyId"], key["SecretAccessKey"]))
    iam.update_access_key(UserName=user["UserName"], AccessKeyId=key["AccessKeyId"], Status="Inactive")
    message = rawhttp.check_xml_error(rawhttp.send("POST", url, b""), "sts", code="InvalidClientTokenId", status=403)
    expect.invalid_token(message)
