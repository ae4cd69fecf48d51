"""SAML identity providers through boto3 and the AWS CLI: what AWS's current IAM account
example (list_saml_providers) and Terraform's aws_iam_saml_provider do, with AWS's texts."""

import json
from pathlib import Path

from expect import fails, ok

METADATA = Path(__file__).resolve().parent.parent / "crates" / "oxiam-core" / "tests" / "fixtures" / "saml" / "idp.xml"


def test_a_saml_provider_is_created_read_updated_and_deleted(iam, account_id, unique_name):
    name = unique_name()
    document = METADATA.read_text()
    arn = ok(iam.create_saml_provider(Name=name, SAMLMetadataDocument=document))["SAMLProviderArn"]
    try:
        assert arn == f"arn:aws:iam::{account_id}:saml-provider/{name}"
        listed = ok(iam.list_saml_providers())["SAMLProviderList"]
        assert arn in [p["Arn"] for p in listed]
        got = ok(iam.get_saml_provider(SAMLProviderArn=arn))
        assert got["SAMLMetadataDocument"] == document and got["SAMLProviderUUID"].startswith("SAMLSP")
        assert got["ValidUntil"].year - got["CreateDate"].year == 100 and got["Tags"] == []
        ok(iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=document))
        fails(iam.create_saml_provider, Name=unique_name(), SAMLMetadataDocument=document.replace(
            "IDPSSODescriptor", "SPSSODescriptor"), code="InvalidInput", status=400,
            message="SAML Providers must reference at least one SAML assertion issuer.")
    finally:
        iam.delete_saml_provider(SAMLProviderArn=arn)
    fails(iam.get_saml_provider, SAMLProviderArn=arn, code="NoSuchEntity", status=404,
          message=f"Manifest not found for arn {arn}")


def test_the_cli_lists_saml_providers(aws, iam, unique_name):
    name = unique_name()
    out = aws("iam", "create-saml-provider", "--name", name, "--saml-metadata-document", f"file://{METADATA}")
    arn = json.loads(out.stdout)["SAMLProviderArn"]
    try:
        out = aws("iam", "list-saml-providers")
        assert arn in [p["Arn"] for p in json.loads(out.stdout)["SAMLProviderList"]]
    finally:
        aws("iam", "delete-saml-provider", "--saml-provider-arn", arn)
