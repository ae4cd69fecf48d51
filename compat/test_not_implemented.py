"""No operation of the IAM or STS models answers NotImplemented: each, sent through boto3 with
input made from its model (every required member, the shortest value the model admits), is
answered by the operation itself — a result, or the operation's own error — never
NotImplemented and never a server fault. On a server of its own, since the calls create
and change what they name."""

import datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from conftest import NO_RETRY, serve
from model_check import watch


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    yield from serve(tmp_path_factory, "sqlite", [])


def example(shape, depth=0):
    """The plainest value the model admits for `shape`."""
    kind = shape.type_name
    if kind == "structure":
        return {name: example(shape.members[name], depth + 1) for name in shape.required_members}
    if kind == "list":
        return [example(shape.member, depth + 1) for _ in range(max(shape.metadata.get("min", 1), 1))]
    if kind == "map":
        return {"compat": example(shape.value, depth + 1)}
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        return "x" * max(shape.metadata.get("min", 1), 2)
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    if kind == "blob":
        return b"x" * max(shape.metadata.get("min", 1), 1)
    raise AssertionError(f"no example for {kind}")


@pytest.mark.parametrize("service", ["iam", "sts"])
def test_every_operation_of_the_model_is_answered_by_itself(own_server, service):
    client = watch(boto3.session.Session().client(
        service, endpoint_url=own_server.endpoint, region_name="us-east-1",
        aws_access_key_id=own_server.root_key_id, aws_secret_access_key=own_server.root_secret, config=NO_RETRY))
    model = client.meta.service_model
    answered = {}
    for name in model.operation_names:
        operation = model.operation_model(name)
        params = example(operation.input_shape) if operation.input_shape is not None else {}
        try:
            client._make_api_call(name, params)
            answered[name] = 200
        except ClientError as e:
            code = e.response["Error"]["Code"]
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            assert code != "NotImplemented", f"{name}: {e}"
            assert status < 500, f"{name}: {e}"
            answered[name] = code
    # Not a walk of refusals only: the calls reach their operations.
    # Not a walk of the model's own checks: most calls reach their operation (an answer, or
    # its own error), few stop at a ValidationError before it.
    stopped = [name for name, outcome in answered.items() if outcome == "ValidationError"]
    assert len(stopped) <= len(answered) // 4, stopped
    assert 200 in answered.values()


def test_decode_authorization_message_rejects_what_oxiam_never_issued(sts):
    """None of the services oxiam serves encodes its authorization failures (in AWS only
    some services, EC2 first, do), so no message is one oxiam could decode."""
    with pytest.raises(ClientError) as info:
        sts.decode_authorization_message(EncodedMessage="compat")
    assert info.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"
