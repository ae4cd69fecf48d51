"""SigV4 authentication failures, as IAM and STS report them."""

import datetime
import email.utils
import re

import pytest

import expect
import rawhttp
from expect import fails

AMZ_DATE = "%Y%m%dT%H%M%SZ"


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_wrong_secret_is_signature_does_not_match(server, client_for, service):
    client = client_for(service, server.root_key_id, "w" * 40)
    call = client.get_user if service == "iam" else client.get_caller_identity
    fails(call, code="SignatureDoesNotMatch", status=403, message=expect.SIGNATURE_MISMATCH_MESSAGE)


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_unknown_access_key_is_invalid_client_token_id(client_for, service):
    client = client_for(service, "AKIA" + "Z" * 16, "s" * 40)
    call = client.list_users if service == "iam" else client.get_caller_identity
    expect.invalid_token(fails(call, code="InvalidClientTokenId", status=403))


@pytest.mark.parametrize("service,action", [("iam", "GetUser"), ("sts", "GetCallerIdentity")])
def test_request_without_authentication_is_missing_authentication_token(server, service, action):
    reply = rawhttp.unsigned(server, service, action)
    rawhttp.check_xml_error(
        reply,
        service,
        code="MissingAuthenticationToken",
        status=403,
        message="Request is missing Authentication Token",
    )


def _parse(stamp):
    return datetime.datetime.strptime(stamp, AMZ_DATE)


def test_signature_20_minutes_old_is_expired(server):
    at = rawhttp.utcnow_naive() - datetime.timedelta(minutes=20)
    reply = rawhttp.signed(server, "iam", "GetUser", at=at)
    message = rawhttp.check_xml_error(reply, "iam", code="SignatureDoesNotMatch", status=403)
    m = re.fullmatch(r"Signature expired: (\d{8}T\d{6}Z) is now earlier than (\d{8}T\d{6}Z) "
                     r"\((\d{8}T\d{6}Z) - 15 min\.\)", message)
    assert m, message
    signed_at, limit, now = (_parse(s) for s in m.groups())
    assert m.group(1) == reply.amz_date
    assert limit == now - datetime.timedelta(minutes=15)
    assert abs((now - rawhttp.utcnow_naive()).total_seconds()) < 60
    assert signed_at < limit


def test_signature_20_minutes_ahead_is_not_yet_current(server):
    at = rawhttp.utcnow_naive() + datetime.timedelta(minutes=20)
    reply = rawhttp.signed(server, "sts", "GetCallerIdentity", at=at)
    message = rawhttp.check_xml_error(reply, "sts", code="SignatureDoesNotMatch", status=403)
    m = re.fullmatch(r"Signature not yet current: (\d{8}T\d{6}Z) is still later than (\d{8}T\d{6}Z) "
                     r"\((\d{8}T\d{6}Z) \+ 15 min\.\)", message)
    assert m, message
    signed_at, limit, now = (_parse(s) for s in m.groups())
    assert m.group(1) == reply.amz_date
    assert limit == now + datetime.timedelta(minutes=15)
    assert abs((now - rawhttp.utcnow_naive()).total_seconds()) < 60
    assert signed_at > limit


@pytest.mark.parametrize("minutes", [-14, 14])
def test_signature_within_15_minutes_of_skew_is_accepted(server, account_id, minutes):
    at = rawhttp.utcnow_naive() + datetime.timedelta(minutes=minutes)
    reply = rawhttp.signed(server, "sts", "GetCallerIdentity", at=at)
    result = rawhttp.check_xml_result(reply, "sts", "GetCallerIdentity")
    ns = "{" + rawhttp.NAMESPACES["sts"] + "}"
    assert result.findtext(ns + "Arn") == f"arn:aws:iam::{account_id}:root"


def test_responses_carry_an_accurate_date_header(sts):
    """SDKs correct their clock skew from the Date header."""
    headers = sts.get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]
    date = email.utils.parsedate_to_datetime(headers["date"])
    assert abs((date - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 60


def test_signature_for_one_body_does_not_verify_another(server, new_user):
    """Tampering with a signed body is detected: sign GetUser, send ListUsers."""
    name = new_user()["UserName"]
    headers = rawhttp.signature_headers(server, "iam", rawhttp.query_body("iam", "GetUser", UserName=name))
    reply = rawhttp.send("POST", server.endpoint + "/", rawhttp.query_body("iam", "ListUsers"), headers)
    rawhttp.check_xml_error(reply, "iam", code="SignatureDoesNotMatch", status=403,
                            message=expect.SIGNATURE_MISMATCH_MESSAGE)
