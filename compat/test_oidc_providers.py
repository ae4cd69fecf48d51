"""OpenID Connect providers through boto3: what Terraform's aws_iam_openid_connect_provider
does (create, read, client ids, thumbprints, tags, delete), and AWS's errors on the way."""

import secrets

from expect import fails, ok

THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


def test_terraform_manages_a_github_actions_provider(iam, account_id):
    host = f"token-{secrets.token_hex(4)}.actions.example.com"
    url = f"https://{host}"
    arn = f"arn:aws:iam::{account_id}:oidc-provider/{host}"
    try:
        body = ok(iam.create_open_id_connect_provider(Url=url, ClientIDList=["sts.amazonaws.com"],
                                                      ThumbprintList=[THUMBPRINT],
                                                      Tags=[{"Key": "team", "Value": "ci"}]))
        assert body["OpenIDConnectProviderArn"] == arn
        assert body["Tags"] == [{"Key": "team", "Value": "ci"}]
        fails(iam.create_open_id_connect_provider, Url=url, code="EntityAlreadyExists", status=409,
              message=f"Provider with url {url} already exists.")
        read = ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        assert read["Url"] == host
        assert read["ClientIDList"] == ["sts.amazonaws.com"]
        assert read["ThumbprintList"] == [THUMBPRINT]
        listed = ok(iam.list_open_id_connect_providers())["OpenIDConnectProviderList"]
        assert {"Arn": arn} in listed
        ok(iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app"))
        ok(iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                              ClientID="sts.amazonaws.com"))
        ok(iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["a" * 40]))
        ok(iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["team"]))
        ok(iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "env", "Value": "dev"}]))
        read = ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        assert (read["ClientIDList"], read["ThumbprintList"]) == (["app"], ["a" * 40])
        assert ok(iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn))["Tags"] == [
            {"Key": "env", "Value": "dev"}]
    finally:
        ok(iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn))
    fails(iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn, code="NoSuchEntity", status=404,
          message=f"OpenIDConnect Provider not found for arn {arn}")


def test_provider_urls_must_be_https_without_query_or_port(iam):
    fails(iam.create_open_id_connect_provider, Url="http://idp.example.com", code="InvalidInput", status=400,
          message="Invalid Open ID Connect Provider URL. The URL must begin with https://.")
    for url in ["https://idp.example.com?x=1", "https://idp.example.com:8443"]:
        fails(iam.create_open_id_connect_provider, Url=url, code="InvalidInput", status=400,
              message="Invalid Open ID Connect Provider URL.")


CONTEXT = {"SubjectSourceKey": "email", "SubjectTypeValue": "user",
           "KeyDefinitionList": [{"SourceKey": "dept", "TargetKey": "department"}, {"SourceKey": "team"}]}


def test_a_context_provider_is_set_replaced_and_removed(iam, account_id):
    """Trusted identity propagation's configuration: kept as given, answered by Get, replaced
    or removed by UpdateOpenIDConnectProvider, one change a request."""
    host = f"tip-{secrets.token_hex(4)}.example.com"
    arn = ok(iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=["app"],
                                                 ContextProvider=CONTEXT))["OpenIDConnectProviderArn"]
    try:
        got = ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        assert got["ContextProvider"] == CONTEXT
        assert "IdentityCenterInstanceArn" not in got and "IdentityStoreArn" not in got
        replaced = {"SubjectSourceKey": "sub", "SubjectTypeSourceKey": "kind"}
        ok(iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn, ContextProvider=replaced))
        got = ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        assert got["ContextProvider"] == replaced
        assert got["ThumbprintList"] == [] and got["ClientIDList"] == ["app"], "nothing else changes"
        for refused in (
            dict(ContextProvider=replaced, RemoveContextProvider=True),
            dict(ContextProvider=replaced, RemoveIdentityCenterInstance=True),
            dict(),
            dict(ContextProvider={"SubjectSourceKey": "a  b"}),
            dict(ContextProvider={"SubjectSourceKey": "sub", "SubjectTypeValue": "user", "SubjectTypeSourceKey": "k"}),
            dict(ContextProvider={"SubjectSourceKey": "sub", "KeyDefinitionList": [
                {"SourceKey": "a", "TargetKey": "t"}, {"SourceKey": "b", "TargetKey": "t"}]}),
        ):
            fails(iam.update_open_id_connect_provider, OpenIDConnectProviderArn=arn, **refused,
                  code="InvalidInput", status=400)
        ok(iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn, RemoveContextProvider=True))
        assert "ContextProvider" not in ok(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn))
        # oxiam has no IAM Identity Center: an instance cannot be associated.
        fails(iam.update_open_id_connect_provider, OpenIDConnectProviderArn=arn,
              IdentityCenterInstanceArn="arn:aws:sso:::instance/ssoins-0123456789abcdef",
              code="InvalidInput", status=400)  # (no context provider left to associate it with)
        ok(iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn, ContextProvider=CONTEXT))
        fails(iam.update_open_id_connect_provider, OpenIDConnectProviderArn=arn,
              IdentityCenterInstanceArn="arn:aws:sso:::instance/ssoins-0123456789abcdef",
              code="NotImplemented", status=501, type_="Receiver")
    finally:
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    fails(iam.update_open_id_connect_provider, OpenIDConnectProviderArn=arn, RemoveContextProvider=True,
          code="NoSuchEntity", status=404)
