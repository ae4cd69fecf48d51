"""AssumeRoleWithSAML through boto3 (which sends it unsigned) and the AWS CLI, with SAML
responses signed by signxml (lxml's canonicalization: an implementation independent of
oxiam's) with an RSA key and a certificate made for the run, as an identity provider signs
them; tampered, foreign-signed and wrapped responses are refused with AWS's errors."""

import base64
import copy
import datetime
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConstructionMethod, XMLSigner

from expect import fails, ok

ISSUER = "https://idp.compat.test/saml"
AWS = "https://signin.aws.amazon.com/saml"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"


def identity(common_name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert


@pytest.fixture(scope="module")
def idp():
    return identity("idp.compat.test")


def metadata(cert):
    der = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{ISSUER}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.compat.test/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def response(role_arn, provider_arn, name_id="alice@compat.test", session_name="alice", audience=AWS, issued=None,
             source_identity=None):
    """An unsigned Response (an lxml tree) asserting `name_id` for the role."""
    issued = int(time.time()) if issued is None else issued
    source = "" if source_identity is None else (
        '<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/SourceIdentity">'
        f"<saml:AttributeValue>{source_identity}</saml:AttributeValue></saml:Attribute>")
    at = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"""<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_r{issued}" Version="2.0" IssueInstant="{at(issued)}" Destination="{AWS}">
  <saml:Issuer>{ISSUER}</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  <saml:Assertion ID="_a{issued}" Version="2.0" IssueInstant="{at(issued)}">
    <saml:Issuer>{ISSUER}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{name_id}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{at(issued + 300)}" Recipient="{AWS}"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{at(issued - 60)}" NotOnOrAfter="{at(issued + 300)}">
      <saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AttributeStatement>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>{role_arn},{provider_arn}</saml:AttributeValue></saml:Attribute>
      <saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>{session_name}</saml:AttributeValue></saml:Attribute>
      {source}
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>"""
    return etree.fromstring(text.encode())


def sign_assertion(root, key, cert):
    """Signs the assertion in place (enveloped, exclusive c14n, RSA-SHA256), the signature
    right after its Issuer, as the SAML schema places it."""
    assertion = root.find(f"{{{SAML}}}Assertion")
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped, signature_algorithm="rsa-sha256",
        digest_algorithm="sha256", c14n_algorithm=EXC_C14N,
    ).sign(assertion, key=key, cert=[cert], reference_uri=assertion.get("ID"))
    signature = signed.find("{http://www.w3.org/2000/09/xmldsig#}Signature")
    signed.remove(signature)
    signed.insert(1, signature)
    root.replace(assertion, signed)
    return root


def encoded(root):
    return base64.b64encode(etree.tostring(root)).decode()


@pytest.fixture
def saml_role(iam, account_id, idp, unique_name, new_role):
    """A provider with the run's certificate, and a role trusting it for the AWS audience;
    (role ARN, provider ARN)."""
    name = unique_name()
    provider = iam.create_saml_provider(Name=name, SAMLMetadataDocument=metadata(idp[1]))["SAMLProviderArn"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"saml:aud": AWS, "saml:iss": ISSUER}},
    }]}
    yield new_role(trust=json.dumps(trust))["Arn"], provider
    iam.delete_saml_provider(SAMLProviderArn=provider)


def test_boto3_assumes_a_role_with_a_signed_response(sts, client_for, account_id, idp, saml_role):
    role, provider = saml_role
    signed = sign_assertion(response(role, provider), *idp)
    answer = ok(sts.assume_role_with_saml(RoleArn=role, PrincipalArn=provider, SAMLAssertion=encoded(signed)))
    assert set(answer) == {"Credentials", "AssumedRoleUser", "Subject", "SubjectType", "Issuer", "Audience",
                           "NameQualifier"}
    assert (answer["Subject"], answer["SubjectType"], answer["Issuer"], answer["Audience"]) == (
        "alice@compat.test", "persistent", ISSUER, AWS)
    role_name = role.rsplit("/", 1)[1]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account_id}:assumed-role/{role_name}/alice"
    c = answer["Credentials"]
    session = client_for("sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    assert session.get_caller_identity()["Arn"] == answer["AssumedRoleUser"]["Arn"]


def test_a_source_identity_attribute_needs_set_source_identity_and_is_the_sessions(
        iam, sts, idp, saml_role, new_role):
    role, provider = saml_role
    signed = sign_assertion(response(role, provider, source_identity="alice"), *idp)
    # The role's trust policy does not grant sts:SetSourceIdentity: refused.
    fails(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=encoded(signed),
          code="AccessDenied", status=403)
    setting = new_role(trust=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider},
        "Action": ["sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"],
        "Condition": {"StringEquals": {"saml:aud": AWS, "sts:SourceIdentity": "alice"}}}]}))["Arn"]
    signed = sign_assertion(response(setting, provider, source_identity="alice"), *idp)
    answer = ok(sts.assume_role_with_saml(RoleArn=setting, PrincipalArn=provider, SAMLAssertion=encoded(signed)))
    assert answer["SourceIdentity"] == "alice"
    signed = sign_assertion(response(setting, provider, source_identity="bob"), *idp)
    fails(sts.assume_role_with_saml, RoleArn=setting, PrincipalArn=provider, SAMLAssertion=encoded(signed),
          code="AccessDenied", status=403)


def test_boto3_sees_aws_refusals(sts, idp, saml_role):
    role, provider = saml_role

    def refused(root, code, message=None, status=400):
        fails(sts.assume_role_with_saml, RoleArn=role, PrincipalArn=provider, SAMLAssertion=encoded(root),
              code=code, status=status, **({"message": message} if message else {}))

    # Changed after signing.
    tampered = sign_assertion(response(role, provider), *idp)
    tampered.find(f".//{{{SAML}}}NameID").text = "admin@compat.test"
    refused(tampered, "InvalidIdentityToken", "Response signature invalid")
    # Signed by another key (its certificate in KeyInfo changes nothing).
    refused(sign_assertion(response(role, provider), *identity("idp.compat.test")), "InvalidIdentityToken",
            "Response signature invalid")
    # Wrapped: an unsigned evil assertion first, the signed one after it.
    signed = sign_assertion(response(role, provider), *idp)
    evil = copy.deepcopy(signed.find(f"{{{SAML}}}Assertion"))
    evil.remove(evil.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    evil.set("ID", "_evil")
    evil.find(f".//{{{SAML}}}NameID").text = "mallory@compat.test"
    signed.insert(2, evil)
    refused(signed, "InvalidIdentityToken", "Response signature invalid")
    # Old, and for someone else.
    refused(sign_assertion(response(role, provider, issued=int(time.time()) - 3600), *idp),
            "ExpiredTokenException")
    refused(sign_assertion(response(role, provider, audience="https://sp.evil.test"), *idp), "InvalidIdentityToken")
    refused(sign_assertion(response(role, provider, session_name="has space"), *idp), "InvalidIdentityToken",
            "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}")
    # The trust policy is what decides who: a role the assertion does not name.
    other = sign_assertion(response(role.replace(":role/", ":role/not-"), provider), *idp)
    refused(other, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithSAML", status=403)


def test_cli_assumes_a_role_with_a_signed_response(aws, idp, saml_role):
    role, provider = saml_role
    signed = sign_assertion(response(role, provider, session_name="cli"), *idp)
    proc = aws("sts", "assume-role-with-saml", "--role-arn", role, "--principal-arn", provider,
               "--saml-assertion", encoded(signed))
    answer = json.loads(proc.stdout)
    assert answer["Subject"] == "alice@compat.test"
    assert answer["AssumedRoleUser"]["Arn"].endswith("/cli")
    assert answer["Credentials"]["AccessKeyId"].startswith("ASIA")
