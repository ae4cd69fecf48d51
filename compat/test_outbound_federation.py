"""Outbound identity federation through boto3: IAM enables the account's issuer, STS's
GetWebIdentityToken signs tokens, and PyJWT (an implementation independent of oxiam's)
verifies them with the key set the issuer's discovery document points to, fetched from
the server as any verifier would."""

import json
import urllib.request

import jwt
import pytest
from botocore.exceptions import ClientError

from expect import fails, ok

MAY_GET_TOKENS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["sts:GetWebIdentityToken", "sts:TagGetWebIdentityToken"], "Resource": "*"}]})


def issuer_of(iam):
    """The account's issuer, enabling it if it is not yet (the suite's server is shared)."""
    try:
        return ok(iam.enable_outbound_web_identity_federation())["IssuerIdentifier"]
    except ClientError as e:
        assert e.response["Error"]["Code"] == "FeatureEnabled"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409
        info = ok(iam.get_outbound_web_identity_federation_info())
        assert info["JwtVendingEnabled"] is True
        return info["IssuerIdentifier"]


def fetch_json(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/json"
        return json.load(answer)


@pytest.mark.parametrize("algorithm", ["RS256", "ES384"])
def test_pyjwt_verifies_a_token_with_the_published_keys(iam, client_for, account_id, user_with_key, algorithm):
    issuer = issuer_of(iam)
    fails(iam.enable_outbound_web_identity_federation, code="FeatureEnabled", status=409)
    discovery = fetch_json(f"{issuer}/.well-known/openid-configuration")
    assert discovery["issuer"] == issuer
    assert algorithm in discovery["id_token_signing_alg_values_supported"]
    keys = jwt.PyJWKSet.from_dict(fetch_json(discovery["jwks_uri"]))

    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="tokens", PolicyDocument=MAY_GET_TOKENS)
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="eu-central-1")
    answer = ok(sts.get_web_identity_token(
        Audience=["https://api.example.com"], SigningAlgorithm=algorithm, DurationSeconds=120,
        Tags=[{"Key": "job", "Value": "export"}]))
    token = answer["WebIdentityToken"]
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(token, key=keys[kid].key, algorithms=[algorithm],
                        audience="https://api.example.com", issuer=issuer)
    assert claims["sub"] == user["Arn"]
    assert claims["exp"] - claims["iat"] == 120
    assert int(answer["Expiration"].timestamp()) == claims["exp"]
    aws = claims["https://sts.amazonaws.com/"]
    assert aws["aws_account"] == account_id
    assert aws["source_region"] == "eu-central-1"
    assert aws["principal_id"] == user["Arn"]
    assert aws["request_tags"] == {"job": "export"}

    # Another claim under the same signature is refused; so is another audience.
    head, body, signature = token.split(".")
    forged_claims = dict(claims, sub=f"arn:aws:iam::{account_id}:root")
    forged = ".".join([head, jwt.utils.base64url_encode(json.dumps(forged_claims).encode()).decode(), signature])
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key=keys[kid].key, algorithms=[algorithm], audience="https://api.example.com")
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, key=keys[kid].key, algorithms=[algorithm], audience="https://other.example")


def test_token_requests_are_checked_and_authorized(iam, client_for, user_with_key):
    issuer_of(iam)
    user, key = user_with_key()
    sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"])
    fails(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256", code="AccessDenied", status=403)
    iam.put_user_policy(UserName=user["UserName"], PolicyName="tokens", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetWebIdentityToken",
                                                "Resource": "*"}]}))
    fails(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="HS256", code="ValidationError", status=400)
    # No session of oxiam's has an origin identity to name (the Rust SDK predates SubjectMode).
    fails(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256", SubjectMode="OriginIdentity",
          code="ValidationError", status=400)
    # Tags need sts:TagGetWebIdentityToken too.
    fails(sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256",
          Tags=[{"Key": "k", "Value": "v"}], code="AccessDenied", status=403)
    ok(sts.get_web_identity_token(Audience=["a", "b"], SigningAlgorithm="RS256"))
