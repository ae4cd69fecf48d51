"""Operations oxiam does not implement yet answer NotImplemented (HTTP 501, Type Receiver),
naming the operation, in the awsQuery error envelope that clients parse."""

import pytest
from botocore import xform_name

from expect import fails


@pytest.mark.parametrize(
    "operation,kwargs",
    [
        ("UpdateOpenIDConnectProvider",
         dict(OpenIDConnectProviderArn="arn:aws:iam::123456789012:oidc-provider/example.com")),
    ],
)
def test_unimplemented_iam_operation_is_not_implemented(iam, operation, kwargs):
    method = getattr(iam, xform_name(operation))
    message = fails(method, code="NotImplemented", status=501, type_="Receiver", **kwargs)
    assert operation in message


def test_decode_authorization_message_rejects_what_oxiam_never_issued(sts):
    """oxiam's AccessDenied messages are never encoded, so any message is invalid."""
    fails(sts.decode_authorization_message, EncodedMessage="compat", code="InvalidAuthorizationMessageException", status=400)
