"""Signing and server certificates through boto3 and the AWS CLI: what Terraform's
aws_iam_signing_certificate and aws_iam_server_certificate do, on certificates made by
Python's cryptography (crates/oxiam-core/tests/fixtures/x509/), with AWS's errors."""

import json
from pathlib import Path

from expect import fails, ok

FIXTURES = Path(__file__).resolve().parent.parent / "crates" / "oxiam-core" / "tests" / "fixtures" / "x509"


def fixture(name):
    return (FIXTURES / name).read_text()


def test_a_signing_certificate_is_uploaded_listed_deactivated_and_deleted(iam, new_user):
    name = new_user()["UserName"]
    body = fixture("root.pem")
    cert = ok(iam.upload_signing_certificate(UserName=name, CertificateBody=body))["Certificate"]
    assert cert["Status"] == "Active" and cert["CertificateBody"] == body and len(cert["CertificateId"]) == 32
    fails(iam.upload_signing_certificate, UserName=name, CertificateBody="nope", code="MalformedCertificate",
          status=400, message="Certificate nope is malformed.")
    ok(iam.update_signing_certificate(UserName=name, CertificateId=cert["CertificateId"], Status="Inactive"))
    listed = ok(iam.list_signing_certificates(UserName=name))["Certificates"]
    assert [(c["CertificateId"], c["Status"]) for c in listed] == [(cert["CertificateId"], "Inactive")]
    fails(iam.delete_user, UserName=name, code="DeleteConflict", status=409,
          message="Cannot delete entity, must delete certificates first.")
    ok(iam.delete_signing_certificate(UserName=name, CertificateId=cert["CertificateId"]))
    fails(iam.delete_signing_certificate, UserName=name, CertificateId=cert["CertificateId"], code="NoSuchEntity",
          status=404, message=f"The Certificate with id {cert['CertificateId']} cannot be found.")


def test_a_server_certificate_with_its_chain_and_key(iam, account_id, unique_name):
    name = unique_name()
    chain = fixture("intermediate.pem") + fixture("root.pem")
    try:
        out = ok(iam.upload_server_certificate(ServerCertificateName=name, Path="/web/", CertificateBody=fixture("leaf.pem"),
                                               PrivateKey=fixture("leaf.pkcs8.key"), CertificateChain=chain,
                                               Tags=[{"Key": "team", "Value": "web"}]))
        metadata = out["ServerCertificateMetadata"]
        assert metadata["Arn"] == f"arn:aws:iam::{account_id}:server-certificate/web/{name}"
        assert metadata["ServerCertificateId"].startswith("ASCA") and metadata["Expiration"].year == 2125
        got = ok(iam.get_server_certificate(ServerCertificateName=name))["ServerCertificate"]
        assert got["CertificateChain"] == chain.strip() and "PrivateKey" not in got
        assert got["Tags"] == [{"Key": "team", "Value": "web"}]
        fails(iam.upload_server_certificate, ServerCertificateName=name, CertificateBody=fixture("leaf.pem"),
              PrivateKey=fixture("leaf.pkcs8.key"), code="EntityAlreadyExists", status=409,
              message=f"The Server Certificate with name {name} already exists.")
        fails(iam.upload_server_certificate, ServerCertificateName=unique_name(), CertificateBody=fixture("valid.pem"),
              PrivateKey=fixture("other.pkcs1.key"), code="KeyPairMismatch", status=400)
        fails(iam.upload_server_certificate, ServerCertificateName=unique_name(), CertificateBody="junk",
              PrivateKey=fixture("valid.pkcs1.key"), code="MalformedCertificate", status=400,
              message="Unable to parse certificate. Please ensure the certificate is in PEM format.")
        listed = ok(iam.list_server_certificates(PathPrefix="/web/"))["ServerCertificateMetadataList"]
        assert [m["ServerCertificateName"] for m in listed] == [name]
        assert ok(iam.get_account_summary())["SummaryMap"]["ServerCertificates"] >= 1
    finally:
        iam.delete_server_certificate(ServerCertificateName=name)
    fails(iam.get_server_certificate, ServerCertificateName=name, code="NoSuchEntity", status=404,
          message=f"The Server Certificate with name {name} cannot be found.")


def test_the_cli_uploads_and_renames_a_server_certificate(aws, iam, unique_name):
    name, renamed = unique_name(), unique_name()
    certificate, key = FIXTURES / "valid.pem", FIXTURES / "valid.pkcs1.key"
    out = aws("iam", "upload-server-certificate", "--server-certificate-name", name,
              "--certificate-body", f"file://{certificate}", "--private-key", f"file://{key}")
    assert json.loads(out.stdout)["ServerCertificateMetadata"]["ServerCertificateName"] == name
    try:
        aws("iam", "update-server-certificate", "--server-certificate-name", name,
            "--new-server-certificate-name", renamed)
        out = aws("iam", "get-server-certificate", "--server-certificate-name", renamed)
        assert json.loads(out.stdout)["ServerCertificate"]["CertificateBody"] == certificate.read_text().strip()
    finally:
        iam.delete_server_certificate(ServerCertificateName=renamed)


def test_the_cli_manages_signing_certificates(aws, iam, new_user):
    name = new_user()["UserName"]
    out = aws("iam", "upload-signing-certificate", "--user-name", name,
              "--certificate-body", f"file://{FIXTURES / 'intermediate.pem'}")
    certificate_id = json.loads(out.stdout)["Certificate"]["CertificateId"]
    out = aws("iam", "list-signing-certificates", "--user-name", name)
    assert [c["CertificateId"] for c in json.loads(out.stdout)["Certificates"]] == [certificate_id]
    aws("iam", "delete-signing-certificate", "--user-name", name, "--certificate-id", certificate_id)
