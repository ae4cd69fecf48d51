"""TLS (`serve --tls-cert --tls-key`) with boto3 and the AWS CLI, trusting the test CA
through a CA bundle, as a team would with its own CA: IAM, STS and S3 answer over it, a
client that does not trust the CA refuses the server, and `aws:SecureTransport` is true."""

import json
import os
import subprocess

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError

from conftest import REPO, serve
from expect import NO_RETRY

TLS = REPO / "crates" / "oxiam-server" / "tests" / "fixtures" / "tls"
CA = str(TLS / "ca.pem")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    # Its own SQLite server: TLS is the same on every backend.
    yield from serve(
        tmp_path_factory,
        "sqlite",
        ["--tls-cert", str(TLS / "server.pem"), "--tls-key", str(TLS / "server.key")],
        scheme="https",
    )


def client(server, service, verify=CA, key=None):
    key_id, secret = key or (server.root_key_id, server.root_secret)
    config = NO_RETRY.merge(Config(s3={"addressing_style": "path"})) if service == "s3" else NO_RETRY
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        verify=verify,
        config=config,
    )


def test_boto3_over_tls_with_a_ca_bundle(tls_server):
    assert tls_server.endpoint.startswith("https://127.0.0.1:")
    who = client(tls_server, "sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{tls_server.account_id}:root"
    iam = client(tls_server, "iam")
    iam.create_user(UserName="tls-user")
    assert iam.get_user(UserName="tls-user")["User"]["UserName"] == "tls-user"
    s3 = client(tls_server, "s3")
    s3.create_bucket(Bucket="tls-bucket")
    s3.put_object(Bucket="tls-bucket", Key="k", Body=b"over tls")
    assert s3.get_object(Bucket="tls-bucket", Key="k")["Body"].read() == b"over tls"


def test_a_client_that_does_not_trust_the_ca_refuses(tls_server):
    # The system's CA bundle does not hold the test CA.
    with pytest.raises(SSLError):
        client(tls_server, "sts", verify=True).get_caller_identity()


def test_secure_transport_is_true_over_tls(tls_server):
    iam = client(tls_server, "iam")
    iam.create_user(UserName="tls-carol")
    iam.put_user_policy(
        UserName="tls-carol",
        PolicyName="transport",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "iam:ListUsers",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                    },
                    {
                        "Effect": "Deny",
                        "Action": "iam:GetUser",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="tls-carol")["AccessKey"]
    carol = client(tls_server, "iam", key=(key["AccessKeyId"], key["SecretAccessKey"]))
    assert carol.get_user()["User"]["UserName"] == "tls-carol"
    with pytest.raises(ClientError) as denied:
        carol.list_users()
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_the_cli_over_tls_with_a_ca_bundle(tls_server):
    from conftest import _aws_binary

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": tls_server.root_key_id,
        "AWS_SECRET_ACCESS_KEY": tls_server.root_secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_PAGER": "",
    }
    base = [_aws_binary(), "--endpoint-url", tls_server.endpoint, "--output", "json"]
    ok = subprocess.run(
        [*base, "--ca-bundle", CA, "sts", "get-caller-identity"], env=env, capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["Account"] == tls_server.account_id
    untrusted = subprocess.run(
        [*base, "sts", "get-caller-identity"], env=env, capture_output=True, text=True, timeout=60
    )
    assert untrusted.returncode != 0
    assert "SSL" in untrusted.stderr or "certificate" in untrusted.stderr, untrusted.stderr
