"""S3 signatures that must not be replayable or misread, through boto3 and botocore's own
signers: SigV2 is refused (it has no credential scope, and nothing bounds the age of its
Date), a presigned URL may live at most seven days, and a body that does not match its
signed SHA-256 is refused with S3's error. (An expired session's ExpiredToken on S3 is
tested in crates/oxiam-server/tests/assume_role.rs, where the server's clock can move.)
"""

import hashlib

import pytest
from botocore.auth import HmacV1Auth, HmacV1QueryAuth, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

import rawhttp


@pytest.fixture
def bucket(new_bucket, s3):
    name = new_bucket()
    s3.put_object(Bucket=name, Key="k", Body=b"hello")
    return name


def root_credentials(server):
    return Credentials(server.root_key_id, server.root_secret)


def signed(server, auth, method, path, body=b"", headers=None):
    request = AWSRequest(method=method, url=f"{server.endpoint}/{path}", data=body, headers=headers or {})
    auth.add_auth(request)
    return request


def error_code(reply):
    return reply.xml.findtext("Code")


def test_sigv2_header_auth_is_refused(server, bucket):
    request = signed(server, HmacV1Auth(root_credentials(server)), "GET", f"{bucket}/k")
    reply = rawhttp.send("GET", request.url, headers=dict(request.headers))
    assert (reply.status, error_code(reply)) == (400, "InvalidRequest"), reply.body
    assert "AWS4-HMAC-SHA256" in reply.xml.findtext("Message")


def test_sigv2_presigned_urls_are_refused(server, bucket):
    request = AWSRequest(method="GET", url=f"{server.endpoint}/{bucket}/k")
    HmacV1QueryAuth(root_credentials(server), expires=300).add_auth(request)
    reply = rawhttp.send("GET", request.url)
    assert (reply.status, error_code(reply)) == (400, "InvalidRequest"), reply.body


def test_boto3_with_signature_version_s3_is_refused(server, bucket):
    from conftest import make_client

    client = make_client(server, "s3", server.root_key_id, server.root_secret, signature_version="s3")
    with pytest.raises(ClientError) as e:
        client.get_object(Bucket=bucket, Key="k")
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_boto3_default_presigned_urls_are_sigv2_and_refused(server, bucket, s3):
    """botocore presigns S3 URLs with SigV2 unless told `signature_version="s3v4"`: such a
    URL is refused, naming the mechanism to use (docs/differences.md)."""
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    assert "AWSAccessKeyId=" in url
    reply = rawhttp.send("GET", url)
    assert (reply.status, error_code(reply)) == (400, "InvalidRequest"), reply.body


def test_presigned_urls_live_at_most_seven_days(server, bucket):
    from conftest import make_client

    s3 = make_client(server, "s3", server.root_key_id, server.root_secret, signature_version="s3v4")
    week = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604800)
    reply = rawhttp.send("GET", week)
    assert (reply.status, reply.body) == (200, "hello")
    longer = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=604801)
    reply = rawhttp.send("GET", longer)
    assert (reply.status, error_code(reply)) == (400, "AuthorizationQueryParametersError"), reply.body
    assert reply.xml.findtext("Message") == "X-Amz-Expires must be less than a week (in seconds) that is 604800"


def test_a_body_that_does_not_match_its_signed_hash_is_refused(server, bucket, s3):
    declared = hashlib.sha256(b"what was signed").hexdigest()
    request = signed(
        server,
        S3SigV4Auth(root_credentials(server), "s3", "us-east-1"),
        "PUT",
        f"{bucket}/swapped",
        body=b"what was signed",
        headers={"x-amz-content-sha256": declared},
    )
    headers = dict(request.headers)
    reply = rawhttp.send("PUT", request.url, body=b"something else!", headers=headers)
    assert (reply.status, error_code(reply)) == (400, "XAmzContentSHA256Mismatch"), reply.body
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="swapped")
    assert e.value.response["Error"]["Code"] == "404"
