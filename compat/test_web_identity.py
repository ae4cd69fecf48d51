"""AssumeRoleWithWebIdentity through boto3 (which sends it unsigned) and the AWS CLI: an
OpenID Connect issuer on a loopback port (Python's ssl and http.server, with the test
certificates of crates/oxiam-server/tests/fixtures/tls, trusted by the CA's thumbprint),
tokens signed RS256 with a key made for the run (the `rsa` package the AWS CLI installs)."""

import base64
import hashlib
import http.server
import json
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import rsa
from botocore.exceptions import ClientError

from expect import fails, ok

FIXTURES = Path(__file__).resolve().parent.parent / "crates/oxiam-server/tests/fixtures/tls"
SUBJECT = "repo:octo/app:ref:refs/heads/main"
AUDIENCE = "sts.amazonaws.com"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def big_endian(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


@dataclass
class Issuer:
    url: str
    key: rsa.PrivateKey
    thumbprint: str

    @property
    def host(self):
        return self.url.removeprefix("https://")

    def token(self, **claims):
        now = int(time.time())
        body = {"iss": self.url, "sub": SUBJECT, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}
        header = {"alg": "RS256", "typ": "JWT", "kid": "compat-1"}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
        return f"{signing_input}.{b64(rsa.sign(signing_input.encode(), self.key, 'SHA-256'))}"


@pytest.fixture(scope="module")
def issuer():
    public, private = rsa.newkeys(2048)
    keys = {"keys": [{"kty": "RSA", "kid": "compat-1", "use": "sig", "alg": "RS256",
                      "n": b64(big_endian(public.n)), "e": b64(big_endian(public.e))}]}
    documents = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(FIXTURES / "server-chain.pem", FIXTURES / "server.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    documents["/.well-known/openid-configuration"] = {"issuer": url, "jwks_uri": f"{url}/keys"}
    documents["/keys"] = keys
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ca = ssl.PEM_cert_to_DER_cert((FIXTURES / "ca.pem").read_text())
    yield Issuer(url, private, hashlib.sha1(ca).hexdigest())
    httpd.shutdown()


@pytest.fixture
def trusting_role(iam, account_id, issuer, new_role):
    """A provider for the issuer and a role trusting its tokens for SUBJECT; the role's ARN."""
    provider = f"arn:aws:iam::{account_id}:oidc-provider/{issuer.host}"
    iam.create_open_id_connect_provider(Url=issuer.url, ClientIDList=[AUDIENCE], ThumbprintList=[issuer.thumbprint])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{issuer.host}:aud": AUDIENCE, f"{issuer.host}:sub": SUBJECT}},
    }]}
    yield new_role(trust=json.dumps(trust))["Arn"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


def test_boto3_assumes_a_role_with_a_token(sts, client_for, issuer, trusting_role):
    answer = ok(sts.assume_role_with_web_identity(RoleArn=trusting_role, RoleSessionName="ci",
                                                  WebIdentityToken=issuer.token()))
    assert set(answer) == {"Credentials", "SubjectFromWebIdentityToken", "AssumedRoleUser", "Provider", "Audience"}
    assert (answer["SubjectFromWebIdentityToken"], answer["Audience"], answer["Provider"]) == (
        SUBJECT, AUDIENCE, issuer.url)
    role_name = trusting_role.rsplit("/", 1)[1]
    assert answer["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role_name}/ci")
    c = answer["Credentials"]
    session = client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    assert session.get_caller_identity()["Arn"] == answer["AssumedRoleUser"]["Arn"]


def test_a_source_identity_claim_needs_set_source_identity_and_is_the_sessions(
        iam, account_id, sts, client_for, issuer, trusting_role, new_role):
    claim = {"https://aws.amazon.com/source_identity": "alice"}
    # The role's trust policy does not grant sts:SetSourceIdentity: refused.
    fails(sts.assume_role_with_web_identity, RoleArn=trusting_role, RoleSessionName="ci",
          WebIdentityToken=issuer.token(**claim), code="AccessDenied", status=403)
    provider = f"arn:aws:iam::{account_id}:oidc-provider/{issuer.host}"
    role = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider},
        "Action": ["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"],
        "Condition": {"StringEquals": {f"{issuer.host}:aud": AUDIENCE, "sts:SourceIdentity": "alice"}}}]}))
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
                                                "Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}]}))
    answer = ok(sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="ci",
                                                  WebIdentityToken=issuer.token(**claim)))
    assert answer["SourceIdentity"] == "alice"
    c = answer["Credentials"]
    ok(client_for("iam", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"]).list_users(MaxItems=1))
    fails(sts.assume_role_with_web_identity, RoleArn=role["Arn"], RoleSessionName="ci",
          WebIdentityToken=issuer.token(**{"https://aws.amazon.com/source_identity": "bob"}),
          code="AccessDenied", status=403)
    fails(sts.assume_role_with_web_identity, RoleArn=role["Arn"], RoleSessionName="ci",
          WebIdentityToken=issuer.token(**{"https://aws.amazon.com/source_identity": "aws:alice"}),
          code="InvalidIdentityToken", status=400)


def test_a_context_provider_gives_the_session_its_trusted_context(iam, account_id, sts, client_for, issuer,
                                                                   new_role):
    """Trusted identity propagation: the provider's context provider reads the subject and
    the mapped claims off the token; the session carries them as aws:OriginIdentity/… and
    aws:TransactionContext/… keys (into a chained session too), answered back."""
    provider = f"arn:aws:iam::{account_id}:oidc-provider/{issuer.host}"
    iam.create_open_id_connect_provider(
        Url=issuer.url, ClientIDList=[AUDIENCE], ThumbprintList=[issuer.thumbprint],
        ContextProvider={"SubjectSourceKey": "email", "SubjectTypeValue": "user",
                         "KeyDefinitionList": [{"SourceKey": "dept", "TargetKey": "department"}]})
    try:
        role = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iam:ListUsers", "iam:ListRoles", "sts:AssumeRole",
                                               "sts:GetWebIdentityToken", "sts:SetWebIdentityTokenScope"],
                 "Resource": "*",
                 "Condition": {"StringEquals": {"aws:OriginIdentity/Subject": "alice@example.com",
                                                "aws:TransactionContext/IdentityProvider/department": "eng"}}},
                {"Effect": "Deny", "Action": "sts:SetWebIdentityTokenScope", "Resource": "*",
                 "Condition": {"ForAnyValue:StringEquals": {"sts:IdentityTokenScope": "admin"}}},
                {"Effect": "Deny", "Action": "iam:ListRoles", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:OriginIdentity/Issuer": issuer.host}}}]}))
        answer = ok(sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="tip",
            WebIdentityToken=issuer.token(email="alice@example.com", dept="eng")))
        assert answer["TrustedIdentityPropagationContext"] == {
            "OriginIdentity": {"Subject": "alice@example.com", "SubjectType": "user", "Issuer": issuer.host,
                               "FederatedProviderArn": provider},
            "TransactionContext": {"IdentityProvider": {"department": "eng"}}}
        c = answer["Credentials"]
        session_iam = client_for("iam", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
        ok(session_iam.list_users(MaxItems=1))
        fails(session_iam.list_roles, MaxItems=1, code="AccessDenied", status=403)
        # GetWebIdentityToken with SubjectMode OriginIdentity: the end user is the token's subject.
        try:
            ok(iam.enable_outbound_web_identity_federation())
        except ClientError as e:
            assert e.response["Error"]["Code"] == "FeatureEnabled"
        session_sts = client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
        minted = ok(session_sts.get_web_identity_token(
            Audience=["https://api.example.com"], SigningAlgorithm="RS256", SubjectMode="OriginIdentity",
            Scope="read write"))["WebIdentityToken"]
        claims = jwt.decode(minted, options={"verify_signature": False})
        assert (claims["sub"], claims["subject_mode"], claims["scope"]) == (
            "alice@example.com", "OriginIdentity", "read write")
        assert claims["https://sts.amazonaws.com/"]["principal_id"] == role["Arn"]
        for refused in (dict(Audience=["a", "b"], SubjectMode="OriginIdentity", Scope="read"),
                        dict(Audience=["a"], Scope="read"),
                        dict(Audience=["a"], SubjectMode="OriginIdentity", Scope="read read"),
                        dict(Audience=["a"], SubjectMode="OriginIdentity", Scope=" read")):
            fails(session_sts.get_web_identity_token, SigningAlgorithm="RS256", **refused,
                  code="ValidationError", status=400)
        fails(session_sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256",
              SubjectMode="OriginIdentity", Scope="read admin", code="AccessDenied", status=403)
        # A subject that could pass for an AWS principal, or hides edge spaces, is never a
        # token's subject, whatever the policies allow.
        anyone = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity"}]}))
        iam.put_role_policy(RoleName=anyone["RoleName"], PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:GetWebIdentityToken", "Resource": "*"}]}))
        for subject in ("ARN:aws:iam::123456789012:user/admin", " alice@example.com"):
            odd = ok(sts.assume_role_with_web_identity(
                RoleArn=anyone["Arn"], RoleSessionName="tip",
                WebIdentityToken=issuer.token(email=subject)))["Credentials"]
            odd_sts = client_for("sts", odd["AccessKeyId"], odd["SecretAccessKey"], token=odd["SessionToken"])
            ok(odd_sts.get_web_identity_token(Audience=["a"], SigningAlgorithm="RS256"))
            fails(odd_sts.get_web_identity_token, Audience=["a"], SigningAlgorithm="RS256",
                  SubjectMode="OriginIdentity", code="AccessDenied", status=403)
        # Another department's token: the same role, refused by its policy.
        other = ok(sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="tip",
            WebIdentityToken=issuer.token(email="alice@example.com", dept="sales")))["Credentials"]
        fails(client_for("iam", other["AccessKeyId"], other["SecretAccessKey"], token=other["SessionToken"]).list_users,
              code="AccessDenied", status=403)
        # Role chaining keeps the context: a deny on the subject reaches the chained session.
        second = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": role["Arn"]}, "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName=second["RoleName"], PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*",
                 "Condition": {"StringEquals": {"aws:OriginIdentity/Subject": "alice@example.com"}}}]}))
        session_sts = client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
        chained = ok(session_sts.assume_role(RoleArn=second["Arn"], RoleSessionName="chained"))["Credentials"]
        fails(client_for("iam", chained["AccessKeyId"], chained["SecretAccessKey"],
                         token=chained["SessionToken"]).list_users, code="AccessDenied", status=403)
        # The trust policy decides on the trusted context too.
        bobs = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"aws:OriginIdentity/Subject": "bob@example.com"}}}]}))
        fails(sts.assume_role_with_web_identity, RoleArn=bobs["Arn"], RoleSessionName="tip",
              WebIdentityToken=issuer.token(email="alice@example.com"), code="AccessDenied", status=403)
        ok(sts.assume_role_with_web_identity(RoleArn=bobs["Arn"], RoleSessionName="tip",
                                             WebIdentityToken=issuer.token(email="bob@example.com")))
        # A token without the subject claim is refused.
        fails(sts.assume_role_with_web_identity, RoleArn=role["Arn"], RoleSessionName="tip",
              WebIdentityToken=issuer.token(dept="eng"), code="InvalidIdentityToken", status=400)
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


def test_boto3_sees_aws_refusals(sts, issuer, trusting_role):
    fails(sts.assume_role_with_web_identity, RoleArn=trusting_role, RoleSessionName="ci",
          WebIdentityToken=issuer.token(sub="repo:attacker/app"), code="AccessDenied", status=403,
          message="Not authorized to perform sts:AssumeRoleWithWebIdentity")
    fails(sts.assume_role_with_web_identity, RoleArn=trusting_role, RoleSessionName="ci",
          WebIdentityToken=issuer.token(aud="another-app"), code="InvalidIdentityToken", status=400,
          message="Incorrect token audience")
    fails(sts.assume_role_with_web_identity, RoleArn=trusting_role, RoleSessionName="ci",
          WebIdentityToken=issuer.token(exp=1_600_000_000), code="ExpiredTokenException", status=400)
    fails(sts.assume_role_with_web_identity, RoleArn=trusting_role, RoleSessionName="ci",
          WebIdentityToken="not.a.token", code="InvalidIdentityToken", status=400)


def test_cli_assumes_a_role_with_a_token(aws, issuer, trusting_role):
    proc = aws("sts", "assume-role-with-web-identity", "--role-arn", trusting_role, "--role-session-name", "cli",
               "--web-identity-token", issuer.token())
    answer = json.loads(proc.stdout)
    assert answer["SubjectFromWebIdentityToken"] == SUBJECT
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
