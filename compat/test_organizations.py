"""AWS Organizations over awsJson 1.1 (X-Amz-Target AWSOrganizationsV20161128.<Op>), with boto3.

Most tests make an organization whose management account is the server's bootstrap account
(the `organization` fixture), and the `orgs` fixture takes it apart again afterwards: every
member account is removed (accounts it created stay, outside any organization) and the
organization is deleted, so the account is in none between tests.

Member accounts are made with CreateAccount. Such an account has no root key, so the tests act
in it as AWS users do: an IAM user of the management account with an administrator policy
assumes the account's OrganizationAccountAccessRole (a root may not assume roles).

Invitations and two organizations need accounts with root keys of their own: the `world`
fixture gets two from `oxiam account create`. On PostgreSQL that runs beside the session's
server (which caches nothing there); on SQLite the database is locked while a server runs, so
the module starts its own server on a fresh SQLite database, stops it, makes the accounts and
starts it again.

Errors are AWS's JSON errors: HTTP 400, `__type` the exception, `Message`, and `Reason` for
ConstraintViolationException and InvalidInputException (botocore puts it in
`response["Reason"]`). Messages are asserted exactly only where AWS's wording is known from
real answers; otherwise the code, status and reason are."""

import datetime
import json
import os
import re
import secrets
import subprocess
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

import expect
from conftest import _oxiam_binary, delete_user_completely, make_client, serve
from expect import error_of, fails, recent, s3_ok

ORG_ID = re.compile(r"^o-[a-z0-9]{10}$")
ROOT_ID = re.compile(r"^r-[a-z0-9]{4}$")
POLICY_ID = re.compile(r"^p-[a-z0-9]{8}$")
CREATE_REQUEST_ID = re.compile(r"^car-[a-z0-9]{8,32}$")
HANDSHAKE_ID = re.compile(r"^h-[a-z0-9]{8,32}$")
ACCOUNT_NUMBER = re.compile(r"^\d{12}$")
JSON_1_1 = "application/x-amz-json-1.1"

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
ACCESS_ROLE = "OrganizationAccountAccessRole"

ORGANIZATION_FIELDS = {
    "Id", "Arn", "FeatureSet", "MasterAccountArn", "MasterAccountId", "MasterAccountEmail", "AvailablePolicyTypes",
}
ACCOUNT_FIELDS = {"Id", "Arn", "Email", "Name", "Status", "State", "Paths", "JoinedMethod", "JoinedTimestamp"}
ROOT_FIELDS = {"Id", "Arn", "Name", "PolicyTypes"}
OU_FIELDS = {"Id", "Arn", "Name", "Path"}
SUMMARY_FIELDS = {"Id", "Arn", "Name", "Description", "Type", "AwsManaged"}
TARGET_FIELDS = {"TargetId", "Arn", "Name", "Type"}
HANDSHAKE_FIELDS = {
    "Id", "Arn", "Parties", "State", "RequestedTimestamp", "ExpirationTimestamp", "Action", "Resources",
}

FULL_AWS_ACCESS = {
    "Id": "p-FullAWSAccess",
    "Arn": "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
    "Name": "FullAWSAccess",
    "Description": "Allows access to every operation",
    "Type": SCP,
    "AwsManaged": True,
}
FULL_AWS_ACCESS_CONTENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SCP_ENABLED = [{"Type": SCP, "Status": "ENABLED"}]
ADMIN = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

# Messages AWS Organizations is known to answer with (real answers quoted in public issues).
NOT_IN_USE = "Your account is not a member of an organization."
NO_PERMISSION = "You don't have permissions to access this resource."


# --- helpers ---------------------------------------------------------------------------------


def org_ok(response):
    """Checks an awsJson 1.1 answer's metadata and returns the body without it."""
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200, meta
    assert expect.REQUEST_ID.match(meta["RequestId"]), meta
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    assert meta["HTTPHeaders"]["content-type"].startswith(JSON_1_1), meta["HTTPHeaders"]
    assert meta["RetryAttempts"] == 0
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def empty(response):
    """An operation without output (AttachPolicy, MoveAccount, ...)."""
    assert org_ok(response) == {}


def org_fails(call, *, code, message=None, reason=None, **kwargs):
    """Runs `call(**kwargs)`, which must fail with that Organizations error (HTTP 400, the
    exception as code, the exact message when given, `Reason` exactly when given and absent
    otherwise); returns the message."""
    response = error_of(call, **kwargs)
    err = response["Error"]
    assert err["Code"] == code, response
    if message is not None:
        assert err["Message"] == message, err
    assert err["Message"], err
    if reason is None:
        assert "Reason" not in response, response
    else:
        assert response.get("Reason") == reason, response
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 400, meta
    assert meta["HTTPHeaders"]["content-type"].startswith(JSON_1_1), meta["HTTPHeaders"]
    assert expect.REQUEST_ID.match(meta["RequestId"]), meta
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    assert meta["RetryAttempts"] == 0
    return err["Message"]


def not_in_use(call, **kwargs):
    org_fails(call, code="AWSOrganizationsNotInUseException", message=NOT_IN_USE, **kwargs)


def scp(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def deny(action, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": "*", **extra}


def scp_denial(caller_arn, action, policy_arn, resource=None):
    """The AccessDenied message of an explicit Deny in an SCP: since 2026 AWS names the
    denying policy's ARN after the reason."""
    on = f" on resource: {resource}" if resource is not None else ""
    return (f"User: {caller_arn} is not authorized to perform: {action}{on} "
            f"with an explicit deny in a service control policy: {policy_arn}")


def email():
    return f"compat-{secrets.token_hex(6)}@example.com"


def bucket_name():
    return f"compat-org-{secrets.token_hex(6)}"


def account_arn(org, account_id):
    return f"arn:aws:organizations::{org.management}:account/{org.id}/{account_id}"


def policy_arn(org, policy_id, segment="service_control_policy"):
    return f"arn:aws:organizations::{org.management}:policy/{org.id}/{segment}/{policy_id}"


def ids(items, key="Id"):
    return [item[key] for item in items]


def all_accounts(orgs):
    return [a for page in orgs.get_paginator("list_accounts").paginate() for a in page["Accounts"]]


def check_account(account, *, org, account_id, path, joined_method, name=None, email_address=None):
    assert set(account) == ACCOUNT_FIELDS, sorted(account)
    assert account["Id"] == account_id
    assert account["Arn"] == account_arn(org, account_id)
    assert account["Status"] == "ACTIVE"
    assert account["State"] == "ACTIVE"
    assert account["Paths"] == [path]
    assert account["JoinedMethod"] == joined_method
    recent(account["JoinedTimestamp"], within=300)
    if name is not None:
        assert account["Name"] == name
    assert account["Name"]
    if email_address is not None:
        assert account["Email"] == email_address
    assert "@" in account["Email"]


def dismantle(orgs, account_id):
    """Leaves `account_id` (whose client `orgs` is) in no organization: a management account
    removes every member and deletes its organization, a member leaves. Nothing to do when it
    is in none."""
    try:
        org = orgs.describe_organization()["Organization"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "AWSOrganizationsNotInUseException":
            return
        raise
    if org["MasterAccountId"] != account_id:
        orgs.leave_organization()
        return
    for account in all_accounts(orgs):
        if account["Id"] != account_id:
            orgs.remove_account_from_organization(AccountId=account["Id"])
    orgs.delete_organization()


@dataclass
class Org:
    id: str
    arn: str
    management: str
    root_id: str
    root_arn: str
    body: dict

    def path(self, *nodes):
        """The organization path through the root and `nodes` (OU ids, then an account id)."""
        return "/".join([self.id, self.root_id, *nodes]) + "/"


def read_org(orgs, created):
    root = org_ok(orgs.list_roots())["Roots"][0]
    return Org(id=created["Id"], arn=created["Arn"], management=created["MasterAccountId"], root_id=root["Id"],
               root_arn=root["Arn"], body=created)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def orgs(server):
    """Organizations client of the bootstrap account's root; the account is in no
    organization after the test."""
    client = make_client(server, "organizations", server.root_key_id, server.root_secret)
    dismantle(client, server.account_id)
    yield client
    dismantle(client, server.account_id)


@pytest.fixture
def organization(orgs):
    """A new organization (all features) managed by the bootstrap account: its Org."""
    return read_org(orgs, org_ok(orgs.create_organization())["Organization"])


@pytest.fixture
def new_account(orgs, organization):
    """new_account(name=None, **kwargs) -> the id of a fresh member account (CreateAccount)."""

    def create(name=None, **kwargs):
        status = orgs.create_account(Email=email(), AccountName=name or f"compat {secrets.token_hex(4)}",
                                     **kwargs)["CreateAccountStatus"]
        done = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        assert done["State"] == "SUCCEEDED", done
        return done["AccountId"]

    return create


@pytest.fixture
def new_ou(orgs, organization):
    """new_ou(parent=root, name=None) -> CreateOrganizationalUnit's OrganizationalUnit."""

    def create(parent=None, name=None, **kwargs):
        return orgs.create_organizational_unit(
            ParentId=parent or organization.root_id, Name=name or f"compat-{secrets.token_hex(4)}", **kwargs,
        )["OrganizationalUnit"]

    return create


@pytest.fixture
def new_scp(orgs, organization):
    """new_scp(*statements, name=None) -> the PolicySummary of a new SCP."""

    def create(*statements, name=None):
        return orgs.create_policy(Name=name or f"compat-{secrets.token_hex(4)}", Description="compat",
                                  Type=SCP, Content=scp(*statements))["Policy"]["PolicySummary"]

    return create


@pytest.fixture
def operator(iam, new_user):
    """An IAM user of the management account allowed everything, and its key: (ARN, key id,
    secret)."""
    user = new_user()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="admin", PolicyDocument=ADMIN)
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    return user["Arn"], key["AccessKeyId"], key["SecretAccessKey"]


@dataclass
class Session:
    arn: str
    key_id: str
    secret: str
    token: str
    server: object

    def client(self, service, region="us-east-1"):
        return make_client(self.server, service, self.key_id, self.secret, region, self.token)


@pytest.fixture
def assume_into(server, operator):
    """assume_into(account_id) -> a Session of the operator in that account's
    OrganizationAccountAccessRole."""

    def assume(account_id, role=ACCESS_ROLE):
        sts = make_client(server, "sts", operator[1], operator[2])
        answer = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="compat-org")
        creds = answer["Credentials"]
        assert answer["AssumedRoleUser"]["Arn"] == expect.assumed_role_arn(account_id, role, "compat-org")
        return Session(answer["AssumedRoleUser"]["Arn"], creds["AccessKeyId"], creds["SecretAccessKey"],
                       creds["SessionToken"], server)

    return assume


# --- an organization and its management account ---------------------------------------------


def test_before_any_organization_every_operation_is_not_in_use(orgs):
    not_in_use(orgs.describe_organization)
    not_in_use(orgs.list_accounts)
    not_in_use(orgs.list_roots)
    not_in_use(orgs.list_policies, Filter=SCP)
    not_in_use(orgs.delete_organization)
    not_in_use(orgs.leave_organization)


def test_create_organization_with_all_features(orgs, account_id):
    created = org_ok(orgs.create_organization())["Organization"]
    assert set(created) == ORGANIZATION_FIELDS, sorted(created)
    org_id = created["Id"]
    assert ORG_ID.match(org_id), org_id
    assert created["Arn"] == f"arn:aws:organizations::{account_id}:organization/{org_id}"
    assert created["FeatureSet"] == "ALL"
    assert created["MasterAccountId"] == account_id
    assert created["MasterAccountArn"] == f"arn:aws:organizations::{account_id}:account/{org_id}/{account_id}"
    assert "@" in created["MasterAccountEmail"]
    assert created["AvailablePolicyTypes"] == SCP_ENABLED
    assert org_ok(orgs.describe_organization())["Organization"] == created

    roots = org_ok(orgs.list_roots())
    assert set(roots) == {"Roots"}
    [root] = roots["Roots"]
    assert set(root) == ROOT_FIELDS, sorted(root)
    assert ROOT_ID.match(root["Id"]), root["Id"]
    assert root["Arn"] == f"arn:aws:organizations::{account_id}:root/{org_id}/{root['Id']}"
    assert root["Name"] == "Root"
    assert root["PolicyTypes"] == SCP_ENABLED

    # The management account is the only member, under the root; FullAWSAccess is attached to
    # the root and to it.
    org = read_org(orgs, created)
    [me] = org_ok(orgs.list_accounts())["Accounts"]
    check_account(me, org=org, account_id=account_id, path=org.path(account_id), joined_method="INVITED",
                  email_address=created["MasterAccountEmail"])
    assert org_ok(orgs.describe_account(AccountId=account_id))["Account"] == me
    for target in (root["Id"], account_id):
        assert org_ok(orgs.list_policies_for_target(TargetId=target, Filter=SCP))["Policies"] == [FULL_AWS_ACCESS]


def test_create_organization_twice_is_already_in_organization(orgs, organization):
    org_fails(orgs.create_organization, code="AlreadyInOrganizationException")
    assert orgs.describe_organization()["Organization"]["Id"] == organization.id


def test_create_organization_twice_says_what_aws_says(orgs, organization):
    # Real answers, e.g. `aws organizations create-organization` run twice: "An error occurred
    # (AlreadyInOrganizationException) when calling the CreateOrganization operation: The AWS
    # account is already a member of an organization."
    org_fails(orgs.create_organization, code="AlreadyInOrganizationException",
              message="The AWS account is already a member of an organization.")


def test_consolidated_billing_organization_enables_no_policy_type(orgs):
    created = org_ok(orgs.create_organization(FeatureSet="CONSOLIDATED_BILLING"))["Organization"]
    assert created["FeatureSet"] == "CONSOLIDATED_BILLING"
    assert created["AvailablePolicyTypes"] == []
    [root] = orgs.list_roots()["Roots"]
    assert root["PolicyTypes"] == []
    org_fails(orgs.enable_policy_type, RootId=root["Id"], PolicyType=SCP,
              code="PolicyTypeNotAvailableForOrganizationException")


def test_delete_organization_then_a_new_one_is_another(orgs, organization):
    empty(orgs.delete_organization())
    not_in_use(orgs.describe_organization)
    not_in_use(orgs.list_roots)
    again = org_ok(orgs.create_organization())["Organization"]
    assert again["Id"] != organization.id
    assert orgs.list_roots()["Roots"][0]["Id"] != organization.root_id


def test_delete_organization_with_a_member_is_organization_not_empty(orgs, organization, new_account):
    member = new_account()
    org_fails(orgs.delete_organization, code="OrganizationNotEmptyException")
    assert orgs.describe_organization()["Organization"]["Id"] == organization.id
    empty(orgs.remove_account_from_organization(AccountId=member))
    empty(orgs.delete_organization())
    not_in_use(orgs.describe_organization)


def test_management_account_cannot_leave_nor_be_removed(orgs, organization, account_id):
    org_fails(orgs.leave_organization, code="MasterCannotLeaveOrganizationException")
    org_fails(orgs.remove_account_from_organization, AccountId=account_id,
              code="MasterCannotLeaveOrganizationException")
    assert ids(orgs.list_accounts()["Accounts"]) == [account_id]


def test_unimplemented_operation_is_not_implemented(orgs, organization):
    response = error_of(orgs.enable_all_features)
    assert response["Error"]["Code"] == "NotImplemented", response
    assert "EnableAllFeatures" in response["Error"]["Message"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501


# --- accounts --------------------------------------------------------------------------------


def test_create_account_is_in_progress_then_succeeded(orgs, organization):
    address, name = email(), f"compat member {secrets.token_hex(3)}"
    status = org_ok(orgs.create_account(Email=address, AccountName=name))["CreateAccountStatus"]
    assert CREATE_REQUEST_ID.match(status["Id"]), status
    assert status["State"] == "IN_PROGRESS"
    assert status["AccountName"] == name
    recent(status["RequestedTimestamp"])
    assert "AccountId" not in status and "FailureReason" not in status, status

    done = org_ok(orgs.describe_create_account_status(CreateAccountRequestId=status["Id"]))["CreateAccountStatus"]
    assert done["Id"] == status["Id"]
    assert done["State"] == "SUCCEEDED"
    assert done["AccountName"] == name
    assert done["RequestedTimestamp"] == status["RequestedTimestamp"]
    assert done["CompletedTimestamp"] >= done["RequestedTimestamp"]
    assert ACCOUNT_NUMBER.match(done["AccountId"]), done
    assert "FailureReason" not in done
    member = done["AccountId"]

    account = org_ok(orgs.describe_account(AccountId=member))["Account"]
    check_account(account, org=organization, account_id=member, path=organization.path(member),
                  joined_method="CREATED", name=name, email_address=address)
    assert member in ids(orgs.list_accounts()["Accounts"])
    assert org_ok(orgs.list_policies_for_target(TargetId=member, Filter=SCP))["Policies"] == [FULL_AWS_ACCESS]
    assert done in org_ok(orgs.list_create_account_status())["CreateAccountStatuses"]
    assert done in orgs.list_create_account_status(States=["SUCCEEDED"])["CreateAccountStatuses"]
    assert done not in orgs.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]


def test_create_account_with_an_email_in_use_fails_in_its_status(orgs, organization):
    address = email()
    orgs.create_account(Email=address, AccountName="first")
    before = ids(orgs.list_accounts()["Accounts"])
    status = org_ok(orgs.create_account(Email=address, AccountName="second"))["CreateAccountStatus"]
    assert status["State"] == "IN_PROGRESS"
    failed = orgs.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
    assert failed["State"] == "FAILED"
    assert failed["FailureReason"] == "EMAIL_ALREADY_EXISTS"
    assert "AccountId" not in failed
    assert ids(orgs.list_accounts()["Accounts"]) == before
    assert failed in orgs.list_create_account_status(States=["FAILED"])["CreateAccountStatuses"]


def test_unknown_create_account_request_is_not_found(orgs, organization):
    org_fails(orgs.describe_create_account_status, CreateAccountRequestId="car-" + "a" * 8,
              code="CreateAccountStatusNotFoundException")


def test_created_account_has_an_admin_role_trusting_the_management_account(orgs, account_id, new_account,
                                                                            assume_into):
    member = new_account()
    session = assume_into(member)
    who = session.client("sts").get_caller_identity()
    assert who["Account"] == member
    assert who["Arn"] == expect.assumed_role_arn(member, ACCESS_ROLE, "compat-org")

    member_iam = session.client("iam")
    role = member_iam.get_role(RoleName=ACCESS_ROLE)["Role"]
    assert role["Arn"] == expect.role_arn(member, ACCESS_ROLE)
    assert role["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                       "Action": "sts:AssumeRole"}],
    }
    # Full administrator permissions: whatever the policy's name, it allows everything.
    [name] = member_iam.list_role_policies(RoleName=ACCESS_ROLE)["PolicyNames"]
    document = member_iam.get_role_policy(RoleName=ACCESS_ROLE, PolicyName=name)["PolicyDocument"]
    assert document == FULL_AWS_ACCESS_CONTENT
    # ...which the session has: it may do IAM in the member account.
    assert member_iam.list_roles()["Roles"]


def test_create_account_with_a_role_name_makes_that_role(new_account, assume_into):
    member = new_account(RoleName="CompatAdmin")
    session = assume_into(member, role="CompatAdmin")
    member_iam = session.client("iam")
    assert [r["RoleName"] for r in member_iam.list_roles()["Roles"]] == ["CompatAdmin"]


def test_list_accounts_pages_with_max_results_one(orgs, organization, new_account, account_id):
    members = {new_account(), new_account()}
    everyone = members | {account_id}
    first = org_ok(orgs.list_accounts(MaxResults=1))
    assert len(first["Accounts"]) <= 1
    assert first["NextToken"]
    seen, pages, token = list(first["Accounts"]), 1, first["NextToken"]
    while token:
        page = org_ok(orgs.list_accounts(MaxResults=1, NextToken=token))
        assert len(page["Accounts"]) <= 1
        seen += page["Accounts"]
        token = page.get("NextToken")
        pages += 1
        assert pages <= 10, "the pages never end"
    assert sorted(ids(seen)) == sorted(everyone)
    # botocore's paginator walks the same pages.
    paged = [a for p in orgs.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 1})
             for a in p["Accounts"]]
    assert sorted(ids(paged)) == sorted(everyone)
    # ...and one page holds them all.
    assert sorted(ids(orgs.list_accounts()["Accounts"])) == sorted(everyone)


def test_list_accounts_with_a_bad_token_is_invalid_input(orgs, organization):
    org_fails(orgs.list_accounts, NextToken="not-a-token", code="InvalidInputException", reason="INVALID_NEXT_TOKEN")


def test_describe_an_account_outside_the_organization_is_account_not_found(orgs, organization):
    org_fails(orgs.describe_account, AccountId="000000000000", code="AccountNotFoundException")


@pytest.mark.parametrize(
    "operation,kwargs",
    [
        ("describe_account", dict(AccountId="12345")),
        ("describe_organizational_unit", dict(OrganizationalUnitId="ou-bogus")),
        ("describe_policy", dict(PolicyId="p-x")),
        ("list_parents", dict(ChildId="r-abcd")),
    ],
    ids=["account-id", "ou-id", "policy-id", "root-as-child"],
)
def test_malformed_ids_are_invalid_input_invalid_pattern(orgs, organization, operation, kwargs):
    org_fails(getattr(orgs, operation), code="InvalidInputException", reason="INVALID_PATTERN", **kwargs)


def test_remove_account_from_organization(orgs, organization, new_account, account_id):
    member = new_account()
    empty(orgs.remove_account_from_organization(AccountId=member))
    org_fails(orgs.describe_account, AccountId=member, code="AccountNotFoundException")
    assert ids(orgs.list_accounts()["Accounts"]) == [account_id]
    org_fails(orgs.remove_account_from_organization, AccountId=member, code="AccountNotFoundException")


# --- organizational units --------------------------------------------------------------------


def test_organizational_unit_lifecycle(orgs, organization, account_id):
    root = organization.root_id
    suffix = root.removeprefix("r-")
    ou = org_ok(orgs.create_organizational_unit(ParentId=root, Name="Workloads"))["OrganizationalUnit"]
    assert set(ou) == OU_FIELDS, sorted(ou)
    assert re.match(rf"^ou-{suffix}-[a-z0-9]{{8}}$", ou["Id"]), ou["Id"]
    assert ou["Arn"] == f"arn:aws:organizations::{account_id}:ou/{organization.id}/{ou['Id']}"
    assert ou["Name"] == "Workloads"
    assert ou["Path"] == organization.path(ou["Id"])
    assert org_ok(orgs.describe_organizational_unit(OrganizationalUnitId=ou["Id"]))["OrganizationalUnit"] == ou

    child = orgs.create_organizational_unit(ParentId=ou["Id"], Name="Prod")["OrganizationalUnit"]
    assert child["Path"] == organization.path(ou["Id"], child["Id"])

    assert org_ok(orgs.list_organizational_units_for_parent(ParentId=root))["OrganizationalUnits"] == [ou]
    assert orgs.list_organizational_units_for_parent(ParentId=ou["Id"])["OrganizationalUnits"] == [child]
    assert org_ok(orgs.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT"))["Children"] == [
        {"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    assert orgs.list_children(ParentId=root, ChildType="ACCOUNT")["Children"] == [
        {"Id": account_id, "Type": "ACCOUNT"}]
    assert org_ok(orgs.list_parents(ChildId=ou["Id"]))["Parents"] == [{"Id": root, "Type": "ROOT"}]
    assert orgs.list_parents(ChildId=child["Id"])["Parents"] == [{"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    # With SCPs enabled, a new OU gets FullAWSAccess.
    assert orgs.list_policies_for_target(TargetId=child["Id"], Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]

    renamed = org_ok(orgs.update_organizational_unit(OrganizationalUnitId=ou["Id"], Name="Apps"))
    assert renamed["OrganizationalUnit"] == {**ou, "Name": "Apps"}
    assert orgs.describe_organizational_unit(OrganizationalUnitId=ou["Id"])["OrganizationalUnit"]["Name"] == "Apps"

    org_fails(orgs.delete_organizational_unit, OrganizationalUnitId=ou["Id"],
              code="OrganizationalUnitNotEmptyException")
    empty(orgs.delete_organizational_unit(OrganizationalUnitId=child["Id"]))
    empty(orgs.delete_organizational_unit(OrganizationalUnitId=ou["Id"]))
    org_fails(orgs.describe_organizational_unit, OrganizationalUnitId=ou["Id"],
              code="OrganizationalUnitNotFoundException")
    assert orgs.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"] == []


def test_ou_names_are_unique_under_one_parent(orgs, organization, new_ou):
    ou = new_ou(name="Shared")
    org_fails(orgs.create_organizational_unit, ParentId=organization.root_id, Name="Shared",
              code="DuplicateOrganizationalUnitException")
    other = new_ou(name="Other")
    org_fails(orgs.update_organizational_unit, OrganizationalUnitId=other["Id"], Name="Shared",
              code="DuplicateOrganizationalUnitException")
    # The same name under another parent is another OU.
    nested = new_ou(parent=ou["Id"], name="Shared")
    assert nested["Id"] != ou["Id"]


def test_ous_nest_five_deep_and_no_deeper(orgs, organization, new_ou):
    parent, chain = organization.root_id, []
    for level in range(5):
        ou = new_ou(parent=parent, name=f"level-{level}")
        chain.append(ou["Id"])
        parent = ou["Id"]
    assert ou["Path"] == organization.path(*chain)
    org_fails(orgs.create_organizational_unit, ParentId=parent, Name="level-5",
              code="ConstraintViolationException", reason="OU_DEPTH_LIMIT_EXCEEDED")
    assert orgs.list_organizational_units_for_parent(ParentId=parent)["OrganizationalUnits"] == []


def test_create_ou_under_an_unknown_parent_is_parent_not_found(orgs, organization):
    suffix = organization.root_id.removeprefix("r-")
    org_fails(orgs.create_organizational_unit, ParentId=f"ou-{suffix}-aaaaaaaa", Name="orphan",
              code="ParentNotFoundException")


def test_move_account_between_parents(orgs, organization, new_account, new_ou):
    member, root = new_account(), organization.root_id
    ou = new_ou()
    inner = new_ou(parent=ou["Id"])
    empty(orgs.move_account(AccountId=member, SourceParentId=root, DestinationParentId=inner["Id"]))
    assert orgs.list_parents(ChildId=member)["Parents"] == [{"Id": inner["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    account = orgs.describe_account(AccountId=member)["Account"]
    assert account["Paths"] == [organization.path(ou["Id"], inner["Id"], member)]
    assert ids(org_ok(orgs.list_accounts_for_parent(ParentId=inner["Id"]))["Accounts"]) == [member]
    assert member not in ids(orgs.list_accounts_for_parent(ParentId=root)["Accounts"])
    assert orgs.list_children(ParentId=inner["Id"], ChildType="ACCOUNT")["Children"] == [
        {"Id": member, "Type": "ACCOUNT"}]

    # From a parent it is not in, and to the parent it is in.
    org_fails(orgs.move_account, AccountId=member, SourceParentId=root, DestinationParentId=ou["Id"],
              code="SourceParentNotFoundException")
    org_fails(orgs.move_account, AccountId=member, SourceParentId=inner["Id"], DestinationParentId=inner["Id"],
              code="DuplicateAccountException")
    assert orgs.list_parents(ChildId=member)["Parents"][0]["Id"] == inner["Id"]

    empty(orgs.move_account(AccountId=member, SourceParentId=inner["Id"], DestinationParentId=root))
    assert orgs.describe_account(AccountId=member)["Account"]["Paths"] == [organization.path(member)]


# --- policies --------------------------------------------------------------------------------


def test_full_aws_access_is_aws_managed_and_immutable(orgs, organization):
    policy = org_ok(orgs.describe_policy(PolicyId="p-FullAWSAccess"))["Policy"]
    assert policy["PolicySummary"] == FULL_AWS_ACCESS
    assert json.loads(policy["Content"]) == FULL_AWS_ACCESS_CONTENT
    assert FULL_AWS_ACCESS in org_ok(orgs.list_policies(Filter=SCP))["Policies"]
    org_fails(orgs.update_policy, PolicyId="p-FullAWSAccess", Name="Mine", code="InvalidInputException",
              reason="IMMUTABLE_POLICY")
    assert orgs.describe_policy(PolicyId="p-FullAWSAccess")["Policy"]["PolicySummary"] == FULL_AWS_ACCESS


def test_policy_lifecycle(orgs, organization):
    content = scp(deny("s3:DeleteBucket"))
    created = org_ok(orgs.create_policy(Name="no-deletes", Description="keeps buckets", Type=SCP, Content=content))
    summary = created["Policy"]["PolicySummary"]
    assert set(summary) == SUMMARY_FIELDS, sorted(summary)
    assert POLICY_ID.match(summary["Id"]), summary["Id"]
    assert summary == {"Id": summary["Id"], "Arn": policy_arn(organization, summary["Id"]), "Name": "no-deletes",
                       "Description": "keeps buckets", "Type": SCP, "AwsManaged": False}
    assert created["Policy"]["Content"] == content  # stored exactly as sent
    assert org_ok(orgs.describe_policy(PolicyId=summary["Id"]))["Policy"] == created["Policy"]
    assert orgs.list_policies(Filter=SCP)["Policies"] == [FULL_AWS_ACCESS, summary]

    org_fails(orgs.create_policy, Name="no-deletes", Description="", Type=SCP, Content=content,
              code="DuplicatePolicyException")

    new_content = scp(deny(["s3:DeleteBucket", "s3:DeleteObject"]))
    updated = org_ok(orgs.update_policy(PolicyId=summary["Id"], Name="no-deletes-at-all", Content=new_content))
    assert updated["Policy"] == {"PolicySummary": {**summary, "Name": "no-deletes-at-all"}, "Content": new_content}
    described = orgs.update_policy(PolicyId=summary["Id"], Description="")["Policy"]
    assert described["PolicySummary"]["Description"] == ""
    assert described["Content"] == new_content

    empty(orgs.delete_policy(PolicyId=summary["Id"]))
    org_fails(orgs.describe_policy, PolicyId=summary["Id"], code="PolicyNotFoundException")
    assert orgs.list_policies(Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
         "Resource": "*"},
    ],
    ids=["principal", "not-principal"],
)
def test_scp_with_a_principal_is_malformed(orgs, organization, statement):
    org_fails(orgs.create_policy, Name="principal", Description="", Type=SCP, Content=scp(statement),
              code="MalformedPolicyDocumentException")
    assert orgs.list_policies(Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]


def test_attach_and_detach_a_policy(orgs, organization, new_account, new_ou, new_scp):
    member, ou = new_account(), new_ou()
    policy = new_scp(deny("s3:DeleteBucket"))
    pid = policy["Id"]
    empty(orgs.attach_policy(PolicyId=pid, TargetId=ou["Id"]))
    empty(orgs.attach_policy(PolicyId=pid, TargetId=member))
    targets = org_ok(orgs.list_targets_for_policy(PolicyId=pid))["Targets"]
    for target in targets:
        assert set(target) == TARGET_FIELDS, sorted(target)
    assert sorted(targets, key=lambda t: t["TargetId"]) == sorted([
        {"TargetId": ou["Id"], "Arn": ou["Arn"], "Name": ou["Name"], "Type": "ORGANIZATIONAL_UNIT"},
        {"TargetId": member, "Arn": account_arn(organization, member),
         "Name": orgs.describe_account(AccountId=member)["Account"]["Name"], "Type": "ACCOUNT"},
    ], key=lambda t: t["TargetId"])
    attached = org_ok(orgs.list_policies_for_target(TargetId=ou["Id"], Filter=SCP))["Policies"]
    assert sorted(ids(attached)) == sorted([FULL_AWS_ACCESS["Id"], pid])
    assert policy in attached

    org_fails(orgs.attach_policy, PolicyId=pid, TargetId=ou["Id"], code="DuplicatePolicyAttachmentException")
    org_fails(orgs.delete_policy, PolicyId=pid, code="PolicyInUseException")

    empty(orgs.detach_policy(PolicyId=pid, TargetId=ou["Id"]))
    org_fails(orgs.detach_policy, PolicyId=pid, TargetId=ou["Id"], code="PolicyNotAttachedException")
    assert orgs.list_policies_for_target(TargetId=ou["Id"], Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]
    empty(orgs.detach_policy(PolicyId=pid, TargetId=member))
    assert orgs.list_targets_for_policy(PolicyId=pid)["Targets"] == []
    empty(orgs.delete_policy(PolicyId=pid))


def test_full_aws_access_is_attached_everywhere(orgs, organization, new_account, new_ou, account_id):
    member, ou = new_account(), new_ou()
    targets = orgs.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]
    assert sorted((t["TargetId"], t["Type"], t["Arn"]) for t in targets) == sorted([
        (organization.root_id, "ROOT", organization.root_arn),
        (account_id, "ACCOUNT", account_arn(organization, account_id)),
        (member, "ACCOUNT", account_arn(organization, member)),
        (ou["Id"], "ORGANIZATIONAL_UNIT", ou["Arn"]),
    ])


def test_attach_to_an_unknown_target_or_an_unknown_policy(orgs, organization, new_scp):
    policy = new_scp(deny("s3:DeleteBucket"))
    org_fails(orgs.attach_policy, PolicyId=policy["Id"], TargetId="000000000000", code="TargetNotFoundException")
    org_fails(orgs.attach_policy, PolicyId="p-aaaaaaaa", TargetId=organization.root_id,
              code="PolicyNotFoundException")


def test_detaching_the_last_scp_is_min_policy_type_attachment_limit(orgs, organization, new_account, new_ou,
                                                                     new_scp, account_id):
    member, ou = new_account(), new_ou()
    for target in (organization.root_id, ou["Id"], member, account_id):
        org_fails(orgs.detach_policy, PolicyId="p-FullAWSAccess", TargetId=target,
                  code="ConstraintViolationException", reason="MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
        assert orgs.list_policies_for_target(TargetId=target, Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]
    # With another SCP attached, FullAWSAccess may go; then that one is the last.
    other = new_scp({"Effect": "Allow", "Action": "*", "Resource": "*"})
    empty(orgs.attach_policy(PolicyId=other["Id"], TargetId=ou["Id"]))
    empty(orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"]))
    org_fails(orgs.detach_policy, PolicyId=other["Id"], TargetId=ou["Id"],
              code="ConstraintViolationException", reason="MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")


def test_more_than_ten_scps_on_one_target_is_max_policy_type_attachment_limit(orgs, organization, new_ou, new_scp):
    ou = new_ou()
    policies = [new_scp(deny(f"ec2:Action{i}")) for i in range(10)]
    for policy in policies[:9]:  # with FullAWSAccess: ten
        empty(orgs.attach_policy(PolicyId=policy["Id"], TargetId=ou["Id"]))
    org_fails(orgs.attach_policy, PolicyId=policies[9]["Id"], TargetId=ou["Id"],
              code="ConstraintViolationException", reason="MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
    assert len(orgs.list_policies_for_target(TargetId=ou["Id"], Filter=SCP)["Policies"]) == 10
    # The limit is per target: the same policy goes on another.
    empty(orgs.attach_policy(PolicyId=policies[9]["Id"], TargetId=new_ou()["Id"]))


def test_disable_and_enable_service_control_policies(orgs, organization, new_ou, new_scp):
    root, ou = organization.root_id, new_ou()
    policy = new_scp(deny("s3:DeleteBucket"))
    orgs.attach_policy(PolicyId=policy["Id"], TargetId=ou["Id"])
    org_fails(orgs.enable_policy_type, RootId=root, PolicyType=SCP, code="PolicyTypeAlreadyEnabledException")

    disabled = org_ok(orgs.disable_policy_type(RootId=root, PolicyType=SCP))["Root"]
    assert disabled["Id"] == root
    assert disabled["PolicyTypes"] == []
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == []
    assert orgs.list_targets_for_policy(PolicyId=policy["Id"])["Targets"] == []
    org_fails(orgs.attach_policy, PolicyId=policy["Id"], TargetId=ou["Id"], code="PolicyTypeNotEnabledException")
    org_fails(orgs.disable_policy_type, RootId=root, PolicyType=SCP, code="PolicyTypeNotEnabledException")
    # The policy itself stays.
    assert orgs.describe_policy(PolicyId=policy["Id"])["Policy"]["PolicySummary"] == policy

    enabled = org_ok(orgs.enable_policy_type(RootId=root, PolicyType=SCP))["Root"]
    assert enabled["PolicyTypes"] == SCP_ENABLED
    # Only FullAWSAccess comes back, everywhere.
    assert orgs.list_policies_for_target(TargetId=ou["Id"], Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]
    assert orgs.list_policies_for_target(TargetId=root, Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]


def test_policy_type_of_an_unknown_root_is_root_not_found(orgs, organization):
    other = "r-" + ("aaaa" if organization.root_id != "r-aaaa" else "bbbb")
    org_fails(orgs.enable_policy_type, RootId=other, PolicyType=RCP, code="RootNotFoundException")


def test_enable_resource_control_policies(orgs, organization, new_account, account_id):
    member, root = new_account(), organization.root_id
    enabled = org_ok(orgs.enable_policy_type(RootId=root, PolicyType=RCP))["Root"]
    assert {"Type": RCP, "Status": "ENABLED"} in enabled["PolicyTypes"]
    assert {"Type": SCP, "Status": "ENABLED"} in enabled["PolicyTypes"]
    assert orgs.list_roots()["Roots"][0]["PolicyTypes"] == enabled["PolicyTypes"]
    rcp_full = {
        "Id": "p-RCPFullAWSAccess",
        "Arn": "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
        "Name": "RCPFullAWSAccess",
        "Type": RCP,
        "AwsManaged": True,
    }
    for target in (root, account_id, member):
        [attached] = orgs.list_policies_for_target(TargetId=target, Filter=RCP)["Policies"]
        assert {k: v for k, v in attached.items() if k != "Description"} == rcp_full
    # A customer RCP: Deny with Principal "*".
    rcp = orgs.create_policy(Name="no-public", Description="", Type=RCP, Content=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}],
    }))["Policy"]["PolicySummary"]
    assert rcp["Arn"] == policy_arn(organization, rcp["Id"], "resource_control_policy")
    empty(orgs.attach_policy(PolicyId=rcp["Id"], TargetId=member))
    assert sorted(ids(orgs.list_policies_for_target(TargetId=member, Filter=RCP)["Policies"])) == sorted(
        ["p-RCPFullAWSAccess", rcp["Id"]])
    org_fails(orgs.enable_policy_type, RootId=root, PolicyType=RCP, code="PolicyTypeAlreadyEnabledException")


def test_tags_on_accounts_ous_policies_and_the_root(orgs, organization, new_account, new_ou, new_scp):
    member = new_account(Tags=[{"Key": "team", "Value": "identity"}])
    assert org_ok(orgs.list_tags_for_resource(ResourceId=member))["Tags"] == [{"Key": "team", "Value": "identity"}]
    ou = new_ou(Tags=[{"Key": "env", "Value": "prod"}])
    assert orgs.list_tags_for_resource(ResourceId=ou["Id"])["Tags"] == [{"Key": "env", "Value": "prod"}]
    policy = new_scp(deny("s3:DeleteBucket"))
    for resource in (member, ou["Id"], policy["Id"], organization.root_id):
        empty(orgs.tag_resource(ResourceId=resource, Tags=[{"Key": "owner", "Value": "compat"},
                                                            {"Key": "env", "Value": "test"}]))
        tags = {t["Key"]: t["Value"] for t in orgs.list_tags_for_resource(ResourceId=resource)["Tags"]}
        assert tags["owner"] == "compat" and tags["env"] == "test", tags
        empty(orgs.untag_resource(ResourceId=resource, TagKeys=["owner", "env"]))
        remaining = orgs.list_tags_for_resource(ResourceId=resource)["Tags"]
        assert remaining == ([{"Key": "team", "Value": "identity"}] if resource == member else []), remaining
    org_fails(orgs.tag_resource, ResourceId="000000000000", Tags=[{"Key": "k", "Value": "v"}],
              code="TargetNotFoundException")


# --- what a member account may do ------------------------------------------------------------


def test_member_account_is_denied_management_operations(orgs, organization, new_account, assume_into):
    member = new_account()
    member_orgs = assume_into(member).client("organizations")
    # Any account of the organization may describe it.
    assert org_ok(member_orgs.describe_organization())["Organization"] == organization.body
    calls = {
        "ListAccounts": lambda: member_orgs.list_accounts(),
        "ListRoots": lambda: member_orgs.list_roots(),
        "ListPolicies": lambda: member_orgs.list_policies(Filter=SCP),
        "DescribeAccount": lambda: member_orgs.describe_account(AccountId=member),
        "CreateOrganizationalUnit": lambda: member_orgs.create_organizational_unit(
            ParentId=organization.root_id, Name="sneaky"),
        "CreateAccount": lambda: member_orgs.create_account(Email=email(), AccountName="sneaky"),
        "DetachPolicy": lambda: member_orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=member),
        "DeleteOrganization": lambda: member_orgs.delete_organization(),
    }
    for operation, call in calls.items():
        org_fails(call, code="AccessDeniedException", message=NO_PERMISSION)
    assert orgs.list_organizational_units_for_parent(ParentId=organization.root_id)["OrganizationalUnits"] == []
    assert len(orgs.list_accounts()["Accounts"]) == 2


def test_iam_user_without_permission_is_denied_by_iam(organization, user_with_key, client_for, account_id):
    # IAM decides first, in IAM's words; real answers (CloudTrail, AWS Control Tower) read
    # "User: arn:aws:sts::…:assumed-role/AWSControlTowerAdmin/AssumeAdminRole is not authorized
    # to perform: organizations:DescribeAccount on resource:
    # arn:aws:organizations::…:account/o-…/… because no identity-based policy allows the
    # organizations:DescribeAccount action", and "on resource: *" for actions without one.
    user, key = user_with_key()
    theirs = client_for("organizations", key["AccessKeyId"], key["SecretAccessKey"])
    calls = [
        ("DescribeAccount", lambda: theirs.describe_account(AccountId=account_id),
         account_arn(organization, account_id)),
        ("ListAccounts", lambda: theirs.list_accounts(), "*"),
        ("DescribeOrganization", lambda: theirs.describe_organization(), "*"),
    ]
    for action, call, resource in calls:
        assert error_of(call)["Error"] == {
            "Code": "AccessDeniedException",
            "Message": f"User: {user['Arn']} is not authorized to perform: organizations:{action} on resource: "
                       f"{resource} because no identity-based policy allows the organizations:{action} action",
        }


# --- SCP enforcement -------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["root", "ou", "account"])
def test_scp_deny_at_any_level_binds_a_member_until_detached(orgs, organization, new_account, new_ou, new_scp,
                                                             assume_into, level):
    member, ou = new_account(), new_ou()
    orgs.move_account(AccountId=member, SourceParentId=organization.root_id, DestinationParentId=ou["Id"])
    policy = new_scp(deny("s3:DeleteBucket"))
    target = {"root": organization.root_id, "ou": ou["Id"], "account": member}[level]
    session = assume_into(member)
    s3 = session.client("s3")
    name = bucket_name()
    s3_ok(s3.create_bucket(Bucket=name))

    empty(orgs.attach_policy(PolicyId=policy["Id"], TargetId=target))
    expect.s3_fails(s3.delete_bucket, Bucket=name, code="AccessDenied", status=403,
                    message=scp_denial(session.arn, "s3:DeleteBucket", policy["Arn"], f'"arn:aws:s3:::{name}"'))
    s3_ok(s3.head_bucket(Bucket=name))  # still there
    s3_ok(s3.put_object(Bucket=name, Key="k", Body=b"x"))  # what the SCP does not deny is allowed
    s3_ok(s3.delete_object(Bucket=name, Key="k"), status=204)

    empty(orgs.detach_policy(PolicyId=policy["Id"], TargetId=target))
    s3_ok(s3.delete_bucket(Bucket=name), status=204)


def test_management_account_is_exempt_from_scps(orgs, organization, new_account, new_scp, assume_into, operator,
                                                client_for):
    member = new_account()
    policy = new_scp(deny("s3:DeleteBucket"))
    empty(orgs.attach_policy(PolicyId=policy["Id"], TargetId=organization.root_id))
    # ...and to the management account itself.
    empty(orgs.attach_policy(PolicyId=policy["Id"], TargetId=organization.management))

    mine = client_for("s3", operator[1], operator[2])
    name = bucket_name()
    s3_ok(mine.create_bucket(Bucket=name))
    s3_ok(mine.delete_bucket(Bucket=name), status=204)

    session = assume_into(member)
    theirs = session.client("s3")
    other = bucket_name()
    s3_ok(theirs.create_bucket(Bucket=other))
    expect.s3_fails(theirs.delete_bucket, Bucket=other, code="AccessDenied", status=403,
                    message=scp_denial(session.arn, "s3:DeleteBucket", policy["Arn"], f'"arn:aws:s3:::{other}"'))
    orgs.detach_policy(PolicyId=policy["Id"], TargetId=organization.root_id)
    s3_ok(theirs.delete_bucket(Bucket=other), status=204)


def test_scp_deny_outside_the_requested_region(orgs, organization, new_account, new_scp, assume_into):
    member = new_account()
    policy = new_scp(deny("s3:*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}))
    empty(orgs.attach_policy(PolicyId=policy["Id"], TargetId=member))
    session = assume_into(member)
    expect.s3_fails(session.client("s3", region="us-east-1").list_buckets, code="AccessDenied", status=403,
                    message=scp_denial(session.arn, "s3:ListAllMyBuckets", policy["Arn"]))
    assert s3_ok(session.client("s3", region="eu-west-1").list_buckets())["Buckets"] == []
    # It denies S3 only.
    assert session.client("iam").list_roles()["Roles"]
    orgs.detach_policy(PolicyId=policy["Id"], TargetId=member)
    assert s3_ok(session.client("s3", region="us-east-1").list_buckets())["Buckets"] == []


def test_scp_allow_list_denies_what_no_level_allows(orgs, organization, new_account, new_ou, new_scp, assume_into):
    # Every level must allow: an OU whose only SCP allows S3 leaves IAM denied below it.
    member, ou = new_account(), new_ou()
    orgs.move_account(AccountId=member, SourceParentId=organization.root_id, DestinationParentId=ou["Id"])
    only_s3 = new_scp({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    orgs.attach_policy(PolicyId=only_s3["Id"], TargetId=ou["Id"])
    orgs.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    session = assume_into(member)
    message = fails(session.client("iam").list_users, code="AccessDenied", status=403)
    assert message.startswith(f"User: {session.arn} is not authorized to perform: iam:ListUsers"), message
    assert "service control policy" in message, message
    assert s3_ok(session.client("s3").list_buckets())["Buckets"] == []
    orgs.attach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    assert session.client("iam").list_users()["Users"] == []


def test_principal_org_id_condition(request, orgs, organization, new_account, assume_into, client_for):
    member = new_account()
    member_iam = assume_into(member).client("iam")
    name = f"compat-org-{secrets.token_hex(4)}"
    user = member_iam.create_user(UserName=name)["User"]
    request.addfinalizer(lambda: delete_user_completely(member_iam, name))
    member_iam.put_user_policy(UserName=name, PolicyName="org", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization.id}}},
            {"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-aaaaaaaaaa"}}},
        ],
    }))
    key = member_iam.create_access_key(UserName=name)["AccessKey"]
    theirs = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    assert theirs.get_user()["User"]["Arn"] == user["Arn"]
    fails(theirs.list_users, **expect.iam_denied(user["Arn"], "ListUsers", f"arn:aws:iam::{member}:user/"))
    # Out of the organization, the account's principals have no aws:PrincipalOrgID.
    orgs.remove_account_from_organization(AccountId=member)
    message = fails(theirs.get_user, code="AccessDenied", status=403)
    assert message.startswith(f"User: {user['Arn']} is not authorized to perform: iam:GetUser"), message
    assert message.endswith("because no identity-based policy allows the iam:GetUser action"), message


# --- invitations and two organizations (accounts with root keys of their own) -------------


@dataclass
class Root:
    account_id: str
    key_id: str
    secret: str


@dataclass
class World:
    server: object
    roots: list

    def client(self, service, root, region="us-east-1"):
        return make_client(self.server, service, root.key_id, root.secret, region)


def _create_account(data_dir, *extra):
    """`oxiam account create --json` on the database of `data_dir` (and `extra`): its Root."""
    env = {k: v for k, v in os.environ.items() if k not in ("OXIAM_DATABASE_URL", "OXIAM_MASTER_KEY")}
    proc = subprocess.run(
        [str(_oxiam_binary()), "account", "create", "--json", "--data-dir", str(data_dir), *extra],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    return Root(made["AccountId"], made["AccessKeyId"], made["SecretAccessKey"])


class _SameDataDir:
    """A tmp_path_factory for conftest.serve whose data directory is always `data_dir`."""

    def __init__(self, factory, data_dir):
        self.factory, self.data_dir = factory, data_dir

    def mktemp(self, name):
        return self.data_dir if name == "oxiam-data" else self.factory.mktemp(name)


@pytest.fixture(scope="module")
def world(server, tmp_path_factory):
    """A server holding three accounts with root keys: roots[0] its bootstrap account,
    roots[1] and roots[2] made by `oxiam account create`."""
    if server.backend == "postgres":
        url = os.environ["OXIAM_COMPAT_DATABASE_URL"]
        others = [_create_account(server.data_dir, "--database-url", url) for _ in range(2)]
        yield World(server, [Root(server.account_id, server.root_key_id, server.root_secret), *others])
        return
    reuse = _SameDataDir(tmp_path_factory, tmp_path_factory.mktemp("oxiam-orgs-data"))
    first = serve(reuse, "sqlite", [])
    next(first)  # the bootstrap account is made
    assert next(first, None) is None  # stopped gracefully
    others = [_create_account(reuse.data_dir) for _ in range(2)]
    run = serve(reuse, "sqlite", [])
    own = next(run)
    try:
        yield World(own, [Root(own.account_id, own.root_key_id, own.root_secret), *others])
    finally:
        assert next(run, None) is None


@pytest.fixture
def trio(world):
    """The three roots' Organizations clients, (Root, client) each; none of the accounts is in
    an organization before or after the test."""
    pairs = [(root, world.client("organizations", root)) for root in world.roots]
    for root, client in pairs:
        dismantle(client, root.account_id)
    yield pairs
    for root, client in pairs:
        dismantle(client, root.account_id)


def test_accounts_of_the_world_are_who_they_say(world):
    for root in world.roots:
        who = world.client("sts", root).get_caller_identity()
        assert who["Account"] == root.account_id
        assert who["Arn"] == f"arn:aws:iam::{root.account_id}:root"
    assert len({r.account_id for r in world.roots}) == 3


def test_invited_account_accepts_and_joins(trio):
    (a, orgs), (b, theirs), _ = trio
    org = read_org(orgs, orgs.create_organization()["Organization"])
    not_in_use(theirs.describe_organization)

    invited = org_ok(orgs.invite_account_to_organization(
        Target={"Id": b.account_id, "Type": "ACCOUNT"}, Notes="join us", Tags=[{"Key": "via", "Value": "invite"}],
    ))["Handshake"]
    assert set(invited) == HANDSHAKE_FIELDS, sorted(invited)
    hid = invited["Id"]
    assert HANDSHAKE_ID.match(hid), hid
    assert invited["Arn"] == f"arn:aws:organizations::{a.account_id}:handshake/{org.id}/invite/{hid}"
    assert invited["Action"] == "INVITE"
    assert invited["State"] == "OPEN"
    assert sorted(invited["Parties"], key=lambda p: p["Type"]) == [
        {"Id": b.account_id, "Type": "ACCOUNT"}, {"Id": org.id, "Type": "ORGANIZATION"}]
    recent(invited["RequestedTimestamp"])
    assert invited["ExpirationTimestamp"] - invited["RequestedTimestamp"] == datetime.timedelta(days=15)
    resources = {r["Type"]: r for r in invited["Resources"]}
    assert resources["ORGANIZATION"]["Value"] == org.id
    assert resources["ACCOUNT"]["Value"] == b.account_id
    assert resources["NOTES"]["Value"] == "join us"

    assert org_ok(orgs.list_handshakes_for_organization())["Handshakes"] == [invited]
    assert org_ok(orgs.describe_handshake(HandshakeId=hid))["Handshake"] == invited
    # The invited account, in no organization yet, sees its invitation.
    assert org_ok(theirs.list_handshakes_for_account())["Handshakes"] == [invited]
    org_fails(orgs.invite_account_to_organization, Target={"Id": b.account_id, "Type": "ACCOUNT"},
              code="DuplicateHandshakeException")

    accepted = org_ok(theirs.accept_handshake(HandshakeId=hid))["Handshake"]
    assert accepted == {**invited, "State": "ACCEPTED"}
    assert orgs.describe_handshake(HandshakeId=hid)["Handshake"]["State"] == "ACCEPTED"
    assert theirs.describe_handshake(HandshakeId=hid)["Handshake"]["State"] == "ACCEPTED"

    assert org_ok(theirs.describe_organization())["Organization"] == org.body
    account = orgs.describe_account(AccountId=b.account_id)["Account"]
    check_account(account, org=org, account_id=b.account_id, path=org.path(b.account_id), joined_method="INVITED")
    assert orgs.list_tags_for_resource(ResourceId=b.account_id)["Tags"] == [{"Key": "via", "Value": "invite"}]
    assert orgs.list_policies_for_target(TargetId=b.account_id, Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]
    org_fails(theirs.list_accounts, code="AccessDeniedException", message=NO_PERMISSION)
    org_fails(orgs.invite_account_to_organization, Target={"Id": b.account_id, "Type": "ACCOUNT"},
              code="HandshakeConstraintViolationException", reason="ALREADY_IN_AN_ORGANIZATION")

    # A member may leave; then it is in no organization.
    empty(theirs.leave_organization())
    not_in_use(theirs.describe_organization)
    org_fails(orgs.describe_account, AccountId=b.account_id, code="AccountNotFoundException")


def test_accepting_an_accepted_handshake_is_handshake_already_in_state(trio):
    # AWS documents HandshakeAlreadyInStateException: "The specified handshake is already in
    # the requested state. For example, you can't accept a handshake that was already accepted."
    (a, orgs), (b, theirs), _ = trio
    orgs.create_organization()
    hid = orgs.invite_account_to_organization(Target={"Id": b.account_id, "Type": "ACCOUNT"})["Handshake"]["Id"]
    theirs.accept_handshake(HandshakeId=hid)
    org_fails(theirs.accept_handshake, HandshakeId=hid, code="HandshakeAlreadyInStateException")


def test_accepted_handshake_stays_listed_for_the_account(trio):
    # ListHandshakesForAccount (API reference): "Handshakes that are ACCEPTED, DECLINED,
    # CANCELED, or EXPIRED appear in the results of this API for only 30 days after changing to
    # that state."
    (a, orgs), (b, theirs), _ = trio
    orgs.create_organization()
    hid = orgs.invite_account_to_organization(Target={"Id": b.account_id, "Type": "ACCOUNT"})["Handshake"]["Id"]
    theirs.accept_handshake(HandshakeId=hid)
    listed = theirs.list_handshakes_for_account()["Handshakes"]
    assert [(h["Id"], h["State"]) for h in listed] == [(hid, "ACCEPTED")]


def test_scps_bind_an_invited_accounts_root(world, trio):
    (a, orgs), (b, theirs), _ = trio
    orgs.create_organization()
    hid = orgs.invite_account_to_organization(Target={"Id": b.account_id, "Type": "ACCOUNT"})["Handshake"]["Id"]
    theirs.accept_handshake(HandshakeId=hid)
    policy = orgs.create_policy(Name="no-buckets", Description="", Type=SCP,
                                Content=scp(deny("s3:CreateBucket")))["Policy"]["PolicySummary"]
    orgs.attach_policy(PolicyId=policy["Id"], TargetId=b.account_id)
    s3 = world.client("s3", b)
    name = bucket_name()
    expect.s3_fails(s3.create_bucket, Bucket=name, code="AccessDenied", status=403,
                    message=scp_denial(f"arn:aws:iam::{b.account_id}:root", "s3:CreateBucket", policy["Arn"],
                                       f'"arn:aws:s3:::{name}"'))
    # Once the account has left, the SCP binds it no more.
    theirs.leave_organization()
    s3_ok(s3.create_bucket(Bucket=name))
    s3_ok(s3.delete_bucket(Bucket=name), status=204)


def test_an_account_in_another_organization_cannot_be_invited(trio):
    (a, orgs), (b, theirs), _ = trio
    orgs.create_organization()
    theirs.create_organization()
    org_fails(orgs.invite_account_to_organization, Target={"Id": b.account_id, "Type": "ACCOUNT"},
              code="HandshakeConstraintViolationException", reason="ALREADY_IN_AN_ORGANIZATION")
    assert orgs.list_handshakes_for_organization()["Handshakes"] == []


def test_two_organizations_never_mix(world, trio):
    (a, orgs), (b, invited), (c, other) = trio
    mine = read_org(orgs, orgs.create_organization()["Organization"])
    hid = orgs.invite_account_to_organization(Target={"Id": b.account_id, "Type": "ACCOUNT"})["Handshake"]["Id"]
    invited.accept_handshake(HandshakeId=hid)
    ou = orgs.create_organizational_unit(ParentId=mine.root_id, Name="Mine")["OrganizationalUnit"]
    policy = orgs.create_policy(Name="mine", Description="", Type=SCP,
                                Content=scp(deny("s3:DeleteBucket")))["Policy"]["PolicySummary"]
    orgs.tag_resource(ResourceId=ou["Id"], Tags=[{"Key": "owner", "Value": "a"}])

    theirs = read_org(other, other.create_organization()["Organization"])
    assert theirs.id != mine.id and theirs.root_id != mine.root_id
    assert theirs.management == c.account_id
    assert other.describe_organization()["Organization"]["Id"] == theirs.id
    assert orgs.describe_organization()["Organization"]["Id"] == mine.id
    assert invited.describe_organization()["Organization"]["Id"] == mine.id

    assert ids(other.list_accounts()["Accounts"]) == [c.account_id]
    assert sorted(ids(orgs.list_accounts()["Accounts"])) == sorted([a.account_id, b.account_id])
    assert other.list_organizational_units_for_parent(ParentId=theirs.root_id)["OrganizationalUnits"] == []
    assert other.list_policies(Filter=SCP)["Policies"] == [FULL_AWS_ACCESS]
    # Each other's ids name nothing.
    for account in (a.account_id, b.account_id):
        org_fails(other.describe_account, AccountId=account, code="AccountNotFoundException")
    org_fails(orgs.describe_account, AccountId=c.account_id, code="AccountNotFoundException")
    org_fails(other.describe_organizational_unit, OrganizationalUnitId=ou["Id"],
              code="OrganizationalUnitNotFoundException")
    org_fails(other.describe_policy, PolicyId=policy["Id"], code="PolicyNotFoundException")
    org_fails(other.attach_policy, PolicyId=policy["Id"], TargetId=theirs.root_id, code="PolicyNotFoundException")
    org_fails(other.list_tags_for_resource, ResourceId=ou["Id"], code="TargetNotFoundException")
    org_fails(other.list_organizational_units_for_parent, ParentId=mine.root_id, code="ParentNotFoundException")
    org_fails(other.remove_account_from_organization, AccountId=b.account_id, code="AccountNotFoundException")
    org_fails(other.describe_handshake, HandshakeId=hid, code="HandshakeNotFoundException")
    assert other.list_handshakes_for_organization()["Handshakes"] == []
    assert [t["TargetId"] for t in other.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]] == [
        theirs.root_id, c.account_id]

    # An SCP of the other organization binds nobody here.
    denial = other.create_policy(Name="deny-all-s3", Description="", Type=SCP,
                                 Content=scp(deny("s3:*")))["Policy"]["PolicySummary"]
    other.attach_policy(PolicyId=denial["Id"], TargetId=theirs.root_id)
    assert s3_ok(world.client("s3", b).list_buckets())["Buckets"] == []
    # ...and the organization's own SCP binds its member, whatever the other organization did.
    orgs.attach_policy(PolicyId=policy["Id"], TargetId=b.account_id)
    s3 = world.client("s3", b)
    name = bucket_name()
    s3_ok(s3.create_bucket(Bucket=name))
    expect.s3_fails(s3.delete_bucket, Bucket=name, code="AccessDenied", status=403,
                    message=scp_denial(f"arn:aws:iam::{b.account_id}:root", "s3:DeleteBucket", policy["Arn"],
                                       f'"arn:aws:s3:::{name}"'))
    orgs.detach_policy(PolicyId=policy["Id"], TargetId=b.account_id)
    s3_ok(s3.delete_bucket(Bucket=name), status=204)
