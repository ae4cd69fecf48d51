"""Delegation requests (IAM temporary delegation) through boto3: a partner account files a
request for permissions in a customer account; the customer associates it, forwards it,
accepts it (which takes iam:AcceptDelegationRequest) and releases the exchange token; the
partner reads the token from its notifications and trades it for credentials (STS
GetDelegatedAccessToken) that act as the approver, within the rendered policy. Who may do what
without a policy (the default permissions) and what an explicit Deny still refuses."""

import json
import re
import uuid

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import rawhttp
from conftest import make_client
from expect import error_code, fails, ok

TEMPLATE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::@{bucket}/@{prefixes}/*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::@{bucket}"},
    {"Effect": "Allow", "Action": ["iam:ListUsers", "sts:AssumeRole"], "Resource": "*"}]}
EVERYTHING = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
ACCEPT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:AcceptDelegationRequest", "iam:SendDelegationToken", "s3:*",
                                   "iam:ListUsers", "iam:ListRoles", "sts:AssumeRole"],
     "Resource": "*"}]})


def oxiam_signed(server, method, path, key_id, secret, token=None):
    """A request to oxiam's own endpoint, signed for the signing name `oxiam`."""
    request = AWSRequest(method=method, url=server.endpoint + path, data=b"")
    SigV4Auth(Credentials(key_id, secret, token), "oxiam", "us-east-1").add_auth(request)
    return rawhttp.send(method, request.url, b"", dict(request.prepare().headers))


class Account:
    """An account with a root key of its own, made on the accounts endpoint."""

    def __init__(self, server, made):
        self.server = server
        self.id = made["AccountId"]
        self.key = (made["AccessKeyId"], made["SecretAccessKey"])
        self.iam = make_client(server, "iam", *self.key)
        self.s3 = make_client(server, "s3", *self.key)

    def user(self, name, policy=None):
        """A user with a key (and an inline policy), and its IAM, STS and S3 clients."""
        arn = self.iam.create_user(UserName=name)["User"]["Arn"]
        if policy:
            self.iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        creds = (key["AccessKeyId"], key["SecretAccessKey"])
        return arn, creds, {s: make_client(self.server, s, *creds) for s in ("iam", "sts", "s3")}


@pytest.fixture
def new_account(server):
    def make():
        reply = oxiam_signed(server, "POST", "/_oxiam/accounts", server.root_key_id, server.root_secret)
        assert reply.status == 200, reply.body
        return Account(server, json.loads(reply.body))
    return make


@pytest.fixture
def template(iam, new_policy):
    """The partner's template: a customer managed policy of its own account."""
    return new_policy(document=json.dumps(TEMPLATE))["Arn"]


def file_request(iam, template, bucket, owner_account=None, **extra):
    params = {
        "Description": "Backups for the Example product",
        "Permissions": {"PolicyTemplateArn": template, "Parameters": [
            {"Name": "bucket", "Values": [bucket], "Type": "string"},
            {"Name": "prefixes", "Values": ["a", "b"], "Type": "stringList"}]},
        "RequestorWorkflowId": f"workflow-{uuid.uuid4()}",
        "NotificationChannel": "arn:aws:sns:us-east-1:111122223333:partner-topic",
        "SessionDuration": 3600,
        **({"OwnerAccountId": owner_account} if owner_account else {}),
        **extra,
    }
    return ok(iam.create_delegation_request(**params))


def request_of(iam, request_id):
    return ok(iam.get_delegation_request(DelegationRequestId=request_id))["DelegationRequest"]


def notifications(server, key):
    reply = oxiam_signed(server, "GET", "/_oxiam/delegation-notifications", *key)
    assert reply.status == 200, reply.body
    return [json.loads(n["Message"]) for n in json.loads(reply.body)["Notifications"]]


def test_a_request_goes_from_filed_to_credentials_that_act_as_the_approver(
        server, iam, sts, account_id, template, new_account):
    customer = new_account()
    bucket = f"delegated-{uuid.uuid4().hex[:12]}"
    customer.s3.create_bucket(Bucket=bucket)
    created = file_request(iam, template, bucket, owner_account=customer.id, RequestMessage="Hello",
                           RedirectUrl="https://partner.example.com/back")
    request_id = created["DelegationRequestId"]
    assert re.fullmatch(r"[\w-]{16,128}", request_id)
    assert created["ConsoleDeepLink"].endswith(request_id)

    owner_arn, _, owner = customer.user("owner")
    admin_arn, _, admin = customer.user("admin", ACCEPT)
    # Unowned, in its owner account: any identity of that account reads it, no policy needed.
    filed = request_of(owner["iam"], request_id)
    assert filed["State"] == "UNASSIGNED"
    assert filed["OwnerAccountId"] == customer.id and "OwnerId" not in filed
    assert filed["RequestorId"] == account_id
    assert filed["SessionDuration"] == 3600 and filed["OnlySendByOwner"] is False
    assert filed["RequestMessage"] == "Hello" and filed["RedirectUrl"] == "https://partner.example.com/back"
    assert json.loads(filed["PermissionPolicy"])["Statement"][0]["Resource"] == [
        f"arn:aws:s3:::{bucket}/a/*", f"arn:aws:s3:::{bucket}/b/*"]
    assert filed["Permissions"]["Parameters"][1] == {"Name": "prefixes", "Values": ["a", "b"], "Type": "stringList"}
    # Another account (the partner's own users included) does not.
    stranger_account = new_account()
    _, _, stranger = stranger_account.user("stranger", EVERYTHING)
    denied = fails(stranger["iam"].get_delegation_request, DelegationRequestId=request_id,
                   code="AccessDenied", status=403)
    # The denial does not tell the stranger whose request it is.
    assert customer.id not in denied and stranger_account.id in denied, denied

    ok(owner["iam"].associate_delegation_request(DelegationRequestId=request_id))
    assigned = request_of(owner["iam"], request_id)
    assert assigned["State"] == "ASSIGNED" and assigned["OwnerId"] == owner_arn
    # Accepting always takes an IAM permission, the owner's too; another identity of the
    # account reads an owned request only with one.
    fails(owner["iam"].accept_delegation_request, DelegationRequestId=request_id, code="AccessDenied", status=403)
    fails(admin["iam"].get_delegation_request, DelegationRequestId=request_id, code="AccessDenied", status=403)

    ok(owner["iam"].update_delegation_request(DelegationRequestId=request_id, Notes="Please approve"))
    forwarded = request_of(owner["iam"], request_id)
    assert forwarded["State"] == "PENDING_APPROVAL" and forwarded["Notes"] == "Please approve"

    ok(admin["iam"].accept_delegation_request(DelegationRequestId=request_id))
    accepted = request_of(owner["iam"], request_id)
    assert accepted["State"] == "ACCEPTED" and accepted["ApproverId"] == admin_arn
    fails(admin["iam"].accept_delegation_request, DelegationRequestId=request_id,
          code="ConcurrentModification", status=409)

    ok(owner["iam"].send_delegation_token(DelegationRequestId=request_id))
    assert request_of(owner["iam"], request_id)["State"] == "FINALIZED"
    fails(owner["iam"].reject_delegation_request, DelegationRequestId=request_id, code="InvalidInput", status=400)

    listed = ok(owner["iam"].list_delegation_requests(OwnerId=owner_arn))
    assert [r["DelegationRequestId"] for r in listed["DelegationRequests"]] == [request_id]
    assert listed["isTruncated"] is False

    # The partner learns of each change, and receives the token, on its notifications.
    messages = [m for m in notifications(server, (server.root_key_id, server.root_secret))
                if m["RequestId"] == request_id]
    assert [(m["Type"], m["State"]) for m in messages] == [
        ("StateChange", "ASSIGNED"), ("StateChange", "PENDING_APPROVAL"), ("StateChange", "ACCEPTED"),
        ("StateChange", "FINALIZED"), ("ExchangeToken", "FINALIZED")]
    assert all(m["OwnerAccountId"] == customer.id for m in messages)
    token = messages[-1]["ExchangeToken"]
    # Nobody else reads the partner's notifications: the customer's are its own, and a
    # caller of the partner's account the account does not allow sts:GetDelegatedAccessToken
    # reads none.
    assert all(m["RequestId"] != request_id for m in notifications(server, customer.key))
    clerk = iam.create_user(UserName=f"clerk-{uuid.uuid4().hex[:8]}")["User"]["UserName"]
    clerk_key = iam.create_access_key(UserName=clerk)["AccessKey"]
    try:
        refused = oxiam_signed(server, "GET", "/_oxiam/delegation-notifications",
                               clerk_key["AccessKeyId"], clerk_key["SecretAccessKey"])
        assert refused.status == 403 and "AccessDenied" in refused.body, refused.body
        assert token not in refused.body
    finally:
        iam.delete_access_key(UserName=clerk, AccessKeyId=clerk_key["AccessKeyId"])
        iam.delete_user(UserName=clerk)

    traded = ok(sts.get_delegated_access_token(TradeInToken=token))
    assert traded["AssumedPrincipal"] == admin_arn
    again = ok(sts.get_delegated_access_token(TradeInToken=token))
    assert again["Credentials"]["Expiration"] == traded["Credentials"]["Expiration"], "one expiry per token"
    assert again["Credentials"]["AccessKeyId"] != traded["Credentials"]["AccessKeyId"]
    c = traded["Credentials"]
    delegated_s3 = make_client(server, "s3", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    delegated_s3.put_object(Bucket=bucket, Key="a/backup", Body=b"x")
    assert error_code(delegated_s3.put_object, Bucket=bucket, Key="c/backup", Body=b"x") == "AccessDenied"
    assert error_code(delegated_s3.get_object, Bucket=bucket, Key="a/backup") == "AccessDenied"
    delegated_sts = make_client(server, "sts", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    assert delegated_sts.get_caller_identity()["Arn"] == admin_arn
    # IAM as the approver, within the policy (the approver signed with long-term keys).
    delegated_iam = make_client(server, "iam", c["AccessKeyId"], c["SecretAccessKey"], token=c["SessionToken"])
    ok(delegated_iam.list_users(MaxItems=1))
    fails(delegated_iam.list_roles, MaxItems=1, code="AccessDenied", status=403)
    # No STS call makes credentials of them that would outlive the delegation or its policy,
    # though the approver may assume the role and the policy allows sts:AssumeRole.
    reachable = customer.iam.create_role(RoleName="reachable", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin_arn},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    denied = fails(delegated_sts.assume_role, RoleArn=reachable, RoleSessionName="out",
                   code="AccessDenied", status=403)
    assert "delegated credentials" in denied, denied
    # A scoped copy only narrows them, and stays delegated credentials.
    narrowed = ok(delegated_sts.get_scoped_credentials(DurationSeconds=900))["Credentials"]
    assert narrowed["Expiration"] <= c["Expiration"]
    fails(make_client(server, "sts", narrowed["AccessKeyId"], narrowed["SecretAccessKey"],
                      token=narrowed["SessionToken"]).assume_role,
          RoleArn=f"arn:aws:iam::{customer.id}:role/anything", RoleSessionName="out",
          code="AccessDenied", status=403)

    # The approver's permissions bind too: without s3, the delegated credentials lose it.
    customer.iam.put_user_policy(UserName="admin", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}))
    assert error_code(delegated_s3.put_object, Bucket=bucket, Key="a/again", Body=b"x") == "AccessDenied"

    # Only the account that filed the request trades its token.
    fails(make_client(server, "sts", *customer.key).get_delegated_access_token,
          TradeInToken=token, code="InvalidParameterValue", status=400)
    fails(sts.get_delegated_access_token, TradeInToken="not-a-token", code="InvalidParameterValue", status=400)
    # The approver is the user, not its name: one made again with the name is another.
    admin_key = customer.iam.list_access_keys(UserName="admin")["AccessKeyMetadata"][0]["AccessKeyId"]
    customer.iam.delete_access_key(UserName="admin", AccessKeyId=admin_key)
    customer.iam.delete_user_policy(UserName="admin", PolicyName="p")
    customer.iam.delete_user(UserName="admin")
    customer.iam.create_user(UserName="admin")
    fails(sts.get_delegated_access_token, TradeInToken=token, code="ExpiredTradeInTokenException", status=400)
    customer.s3.delete_object(Bucket=bucket, Key="a/backup")
    customer.s3.delete_bucket(Bucket=bucket)


def test_a_request_with_no_owner_account_is_anyones_to_associate(iam, template, new_account):
    request_id = file_request(iam, template, "some-bucket")["DelegationRequestId"]
    customer = new_account()
    arn, _, user = customer.user("claimer")
    assert request_of(user["iam"], request_id)["State"] == "UNASSIGNED"
    ok(user["iam"].associate_delegation_request(DelegationRequestId=request_id))
    owned = request_of(user["iam"], request_id)
    assert (owned["OwnerAccountId"], owned["OwnerId"], owned["State"]) == (customer.id, arn, "ASSIGNED")
    # Once owned, nobody else associates it, nor reads it without a policy.
    _, _, late = new_account().user("late")
    fails(late["iam"].associate_delegation_request, DelegationRequestId=request_id, code="AccessDenied", status=403)
    fails(late["iam"].get_delegation_request, DelegationRequestId=request_id, code="AccessDenied", status=403)
    fails(customer.iam.associate_delegation_request, DelegationRequestId=request_id, code="InvalidInput", status=400)


def test_a_request_of_another_account_is_not_associated_by_a_stranger(iam, template, new_account):
    customer = new_account()
    request_id = file_request(iam, template, "some-bucket", owner_account=customer.id)["DelegationRequestId"]
    _, _, stranger = new_account().user("stranger", EVERYTHING)
    fails(stranger["iam"].associate_delegation_request, DelegationRequestId=request_id,
          code="AccessDenied", status=403)
    assert request_of(customer.iam, request_id)["State"] == "UNASSIGNED"


def test_rejecting_ends_the_request_with_its_reason(iam, template, new_account):
    customer = new_account()
    request_id = file_request(iam, template, "some-bucket", owner_account=customer.id)["DelegationRequestId"]
    _, _, owner = customer.user("owner")
    ok(owner["iam"].associate_delegation_request(DelegationRequestId=request_id))
    ok(owner["iam"].reject_delegation_request(DelegationRequestId=request_id, Notes="Not now"))
    rejected = request_of(owner["iam"], request_id)
    assert (rejected["State"], rejected["RejectionReason"]) == ("REJECTED", "Not now")
    for call in (owner["iam"].send_delegation_token, owner["iam"].update_delegation_request):
        fails(call, DelegationRequestId=request_id, code="InvalidInput", status=400)
    fails(customer.iam.accept_delegation_request, DelegationRequestId=request_id,
          code="ConcurrentModification", status=409)


def test_only_the_owner_sends_the_token_when_the_partner_asked_so(iam, template, new_account):
    customer = new_account()
    request_id = file_request(iam, template, "some-bucket", owner_account=customer.id,
                              OnlySendByOwner=True)["DelegationRequestId"]
    _, _, owner = customer.user("owner")
    _, _, admin = customer.user("admin", ACCEPT)
    ok(owner["iam"].associate_delegation_request(DelegationRequestId=request_id))
    ok(admin["iam"].accept_delegation_request(DelegationRequestId=request_id))
    fails(admin["iam"].send_delegation_token, DelegationRequestId=request_id, code="AccessDenied", status=403)
    ok(owner["iam"].send_delegation_token(DelegationRequestId=request_id))


def test_a_deny_on_the_request_owner_refuses_what_the_default_permissions_allow(
        iam, account_id, template, new_account):
    customer = new_account()
    mine, theirs = (file_request(iam, template, "some-bucket", owner_account=customer.id)["DelegationRequestId"]
                    for _ in range(2))
    arn = f"arn:aws:iam::{customer.id}:user/owner"
    guarded = ["iam:GetDelegationRequest", "iam:GetHumanReadableSummary", "iam:RejectDelegationRequest",
               "iam:AcceptDelegationRequest", "iam:SendDelegationToken", "iam:UpdateDelegationRequest"]
    _, _, owner = customer.user("owner", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": guarded, "Resource": "*",
         "Condition": {"StringEquals": {"iam:DelegationRequestOwner": arn}}}]}))
    _, _, other = customer.user("other")
    ok(owner["iam"].associate_delegation_request(DelegationRequestId=mine))
    ok(other["iam"].associate_delegation_request(DelegationRequestId=theirs))
    summary_arn = f"arn:aws:iam::{customer.id}:delegation-request/{mine}"
    for call, kwargs in [(owner["iam"].get_delegation_request, {}),
                         (owner["iam"].get_human_readable_summary, {"EntityArn": summary_arn}),
                         (owner["iam"].update_delegation_request, {}),
                         (owner["iam"].accept_delegation_request, {}),
                         (owner["iam"].reject_delegation_request, {})]:
        args = kwargs or {"DelegationRequestId": mine}
        fails(call, **args, code="AccessDenied", status=403)
    # Accepted by the account's root, the request is still the owner's to send: denied.
    ok(customer.iam.accept_delegation_request(DelegationRequestId=mine))
    fails(owner["iam"].send_delegation_token, DelegationRequestId=mine, code="AccessDenied", status=403)
    # The near miss: a request another identity owns is not under the deny.
    assert request_of(owner["iam"], theirs)["OwnerId"] == f"arn:aws:iam::{customer.id}:user/other"
    ok(owner["iam"].accept_delegation_request(DelegationRequestId=theirs))


def test_listing_ones_own_requests_needs_no_policy(iam, template, new_account):
    customer = new_account()
    request_id = file_request(iam, template, "some-bucket", owner_account=customer.id)["DelegationRequestId"]
    arn, _, owner = customer.user("owner")
    ok(owner["iam"].associate_delegation_request(DelegationRequestId=request_id))
    # ListDelegationRequests of one's own needs no policy; of the account's, one.
    ok(owner["iam"].list_delegation_requests(OwnerId=arn))
    fails(owner["iam"].list_delegation_requests, code="AccessDenied", status=403)
    fails(owner["iam"].list_delegation_requests, OwnerId=f"arn:aws:iam::{customer.id}:user/another",
          code="AccessDenied", status=403)
    assert [r["OwnerId"] for r in ok(customer.iam.list_delegation_requests())["DelegationRequests"]] == [arn]
    # Paged: one at a time, with a marker.
    second = file_request(iam, template, "some-bucket", owner_account=customer.id)["DelegationRequestId"]
    ok(owner["iam"].associate_delegation_request(DelegationRequestId=second))
    page = ok(customer.iam.list_delegation_requests(MaxItems=1))
    assert page["isTruncated"] is True and len(page["DelegationRequests"]) == 1
    rest = ok(customer.iam.list_delegation_requests(MaxItems=1, Marker=page["Marker"]))
    assert rest["isTruncated"] is False
    assert {page["DelegationRequests"][0]["DelegationRequestId"], rest["DelegationRequests"][0]["DelegationRequestId"]} \
        == {request_id, second}


@pytest.mark.parametrize("key, allowed, refused", [
    ("iam:TemplateArn", "TEMPLATE", "arn:aws:iam::123456789012:policy/other"),
    ("iam:NotificationChannel", "arn:aws:sns:us-east-1:111122223333:partner-topic", "arn:aws:sns:us-east-1:1:x"),
    ("iam:DelegationDuration", "3600", "7200"),
])
def test_a_deny_on_each_key_of_create_delegation_request_refuses(
        server, iam, new_user, template, key, allowed, refused):
    """A user allowed to file requests but denied any whose KEY is not `allowed`."""
    allowed = template if allowed == "TEMPLATE" else allowed
    user = new_user()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["iam:CreateDelegationRequest", "iam:GetPolicy", "iam:GetPolicyVersion"],
             "Resource": "*"},
            {"Effect": "Deny", "Action": "iam:CreateDelegationRequest", "Resource": "*",
             "Condition": {"StringNotEquals": {key: allowed}}}]}))
    key_pair = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    client = make_client(server, "iam", key_pair["AccessKeyId"], key_pair["SecretAccessKey"])
    file_request(client, template, "some-bucket")
    asked = {"iam:TemplateArn": lambda: {"Permissions": {"PolicyTemplateArn": refused}},
             "iam:NotificationChannel": lambda: {"NotificationChannel": refused},
             "iam:DelegationDuration": lambda: {"SessionDuration": int(refused)}}[key]()
    params = {
        "Description": "d", "Permissions": {"PolicyTemplateArn": template, "Parameters": [
            {"Name": "bucket", "Values": ["b"], "Type": "string"},
            {"Name": "prefixes", "Values": ["a"], "Type": "stringList"}]},
        "RequestorWorkflowId": f"workflow-{uuid.uuid4()}",
        "NotificationChannel": "arn:aws:sns:us-east-1:111122223333:partner-topic", "SessionDuration": 3600,
        **asked,
    }
    fails(client.create_delegation_request, **params, code="AccessDenied", status=403)


def test_create_delegation_request_refuses_what_it_cannot_render(iam, template, new_policy):
    base = {"Description": "d", "NotificationChannel": "arn:aws:sns:us-east-1:1:t", "SessionDuration": 900}
    workflow = lambda: f"workflow-{uuid.uuid4()}"  # noqa: E731
    fails(iam.create_delegation_request, **base, RequestorWorkflowId=workflow(), Permissions={},
          code="ValidationError", status=400)
    fails(iam.create_delegation_request, **base, RequestorWorkflowId=workflow(),
          Permissions={"Parameters": [{"Name": "bucket", "Values": ["a"], "Type": "string"}]},
          code="InvalidInput", status=400)
    fails(iam.create_delegation_request, **base, RequestorWorkflowId=workflow(),
          Permissions={"PolicyTemplateArn": "arn:aws:iam::123456789012:policy/nowhere"},
          code="InvalidInput", status=400)
    one = {"Name": "prefixes", "Values": ["a"], "Type": "stringList"}
    for bad in ([{"Name": "bucket", "Values": ["a", "b"], "Type": "string"}, one],  # a string takes one value
                [one],  # a placeholder with no value
                [{"Name": "bucket", "Values": ["a"], "Type": "string"}, one, one]):  # twice
        fails(iam.create_delegation_request, **base, RequestorWorkflowId=workflow(),
              Permissions={"PolicyTemplateArn": template, "Parameters": bad}, code="InvalidInput", status=400)
    # The rendered policy is at most 2,048 characters.
    many = {"Name": "prefixes", "Values": [f"p{i:04}" for i in range(100)], "Type": "stringList"}
    fails(iam.create_delegation_request, **base, RequestorWorkflowId=workflow(),
          Permissions={"PolicyTemplateArn": template,
                       "Parameters": [{"Name": "bucket", "Values": ["b"], "Type": "string"}, many]},
          code="InvalidInput", status=400)
    # A workflow id names one request of its requestor.
    same = workflow()
    good = {"PolicyTemplateArn": template,
            "Parameters": [{"Name": "bucket", "Values": ["b"], "Type": "string"}, one]}
    ok(iam.create_delegation_request(**base, RequestorWorkflowId=same, Permissions=good))
    fails(iam.create_delegation_request, **base, RequestorWorkflowId=same, Permissions=good,
          code="EntityAlreadyExists", status=409)


def test_a_summary_is_written_for_a_delegation_request_only(iam, account_id, template):
    request_id = file_request(iam, template, "summary-bucket")["DelegationRequestId"]
    arn = f"arn:aws:iam::{account_id}:delegation-request/{request_id}"
    summary = ok(iam.get_human_readable_summary(EntityArn=arn))
    assert summary["SummaryState"] == "AVAILABLE" and summary["Locale"] == "en-US"
    assert "s3:PutObject" in summary["SummaryContent"] and "summary-bucket" in summary["SummaryContent"]
    other = ok(iam.get_human_readable_summary(EntityArn=arn, Locale="fr-FR"))
    assert (other["SummaryState"], other["Locale"]) == ("NOT_SUPPORTED", "fr-FR")
    fails(iam.get_human_readable_summary, EntityArn=f"arn:aws:iam::{account_id}:role/r",
          code="InvalidInput", status=400)
    fails(iam.get_human_readable_summary,
          EntityArn=f"arn:aws:iam::{account_id}:delegation-request/dr-00000000000000000000",
          code="NoSuchEntity", status=404)
    fails(iam.get_delegation_request, DelegationRequestId="dr-00000000000000000000", code="NoSuchEntity",
          status=404)
