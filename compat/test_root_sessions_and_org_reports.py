"""Centralized root access and organizations access reports, with boto3.

STS AssumeRoot (STS API reference; IAM User Guide, "Perform a privileged task on an AWS
Organizations member account"): a principal of an organization's management account — never
its root user — with IAM's trusted access (Organizations EnableAWSServiceAccess for
iam.amazonaws.com) and root sessions enabled (IAM EnableOrganizationsRootSessions) gets a
member account's root session for at most 900 seconds, scoped to one root task policy
(arn:aws:iam::aws:policy/root-task/...). The session is the member's root
(GetCallerIdentity: arn:aws:iam::MEMBER:root) but may do only its task; the member's own root
keeps its full access. The member must be a real account with root keys, so these tests use
the `world` of test_organizations.py (accounts made by `oxiam account create`; on SQLite a
module server of its own) and invite its second account into an organization of the first.

IAM's organizations access report (GenerateOrganizationsAccessReport,
GetOrganizationsAccessReport): for an entity path o-.../r-...[/ou-...][/ACCOUNT], the services
the SCPs of every level from the root down to the entity allow (or one SCP alone, with
OrganizationsPolicyId), with the last attempt by any principal of the accounts under the path;
the management account's attempts count only when the path ends at it. These use the session
server's bootstrap account as the management account, with the `organization` fixtures of
test_organizations.py, which take the organization apart after each test.

AWS documents no wording for most refusals here: where oxiam defines its own (docs/
differences.md), the tests assert it exactly, so that a change of it is seen."""

import datetime
import json
import re
import secrets
import time
from dataclasses import dataclass, field

import pytest
from botocore.exceptions import ClientError

import expect
from conftest import delete_user_completely, make_client
from expect import fails, ok, recent, s3_ok
from test_organizations import (  # noqa: F401 (fixtures, used by name)
    ADMIN,
    SCP,
    Root,
    assume_into,
    dismantle,
    new_account,
    new_ou,
    new_scp,
    operator,
    organization,
    orgs,
    read_org,
    world,
)

TASKS = "arn:aws:iam::aws:policy/root-task/"
AUDIT = TASKS + "IAMAuditRootUserCredentials"
DELETE_CREDENTIALS = TASKS + "IAMDeleteRootUserCredentials"
UNLOCK = TASKS + "S3UnlockBucketPolicy"
IAM_PRINCIPAL = "iam.amazonaws.com"
FULL_AWS_ACCESS = "p-FullAWSAccess"

ASIA = re.compile(r"^ASIA[A-Z2-7]{16}$")
JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CREDENTIAL_FIELDS = {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
REPORT_FIELDS = {"JobStatus", "JobCreationDate", "JobCompletionDate", "NumberOfServicesAccessible",
                 "NumberOfServicesNotAccessed", "AccessDetails", "IsTruncated"}
UNUSED = {"ServiceName", "ServiceNamespace"}
USED = UNUSED | {"Region", "EntityPath", "LastAuthenticatedTime", "TotalAuthenticatedEntities"}

# oxiam's own words (AWS documents none for these refusals).
ROOT_CANNOT = "Root user credentials cannot call AssumeRoot."
ONLY_MANAGEMENT_REPORTS = "Only the management account of an organization can generate an organizations access report."


def denied(message):
    return dict(code="AccessDenied", status=403, message=message)


def not_management(account):
    return denied(f"Account {account} is not the management account of an organization: it cannot start root sessions.")


def not_a_member(account, org_id):
    return denied(f"Account {account} is not a member account of organization {org_id}.")


def sts_denied(caller_arn, member, because):
    """IAM's AccessDenied for sts:AssumeRoot, authorized on the member's root user."""
    reason = ("with an explicit deny in an identity-based policy" if because == "explicit"
              else "because no identity-based policy allows the sts:AssumeRoot action")
    return denied(f"User: {caller_arn} is not authorized to perform: sts:AssumeRoot on resource: "
                  f"arn:aws:iam::{member}:root {reason}")


def invalid(message):
    return dict(code="ValidationError", status=400, message=message)


def no_such_entity(message):
    return dict(code="NoSuchEntity", status=404, message=message)


def root_arn(account):
    return f"arn:aws:iam::{account}:root"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- centralized root access: a management account and an invited member with root keys ----


@dataclass
class Centralized:
    """The world's first account (management, once `organize` made the organization) and its
    second (the member), each with its root keys; `admin` is an IAM user of the management
    account allowed everything: (ARN, key id, secret)."""

    world: object
    mgmt: Root
    member: Root
    admin: tuple
    users: list = field(default_factory=list)
    org: object = None

    def client(self, service, key_id, secret, token=None, region="us-east-1", **config):
        return make_client(self.world.server, service, key_id, secret, region, token, **config)

    def root_client(self, service, root, region="us-east-1"):
        return self.client(service, root.key_id, root.secret, region=region)

    def admin_sts(self, **config):
        return self.client("sts", self.admin[1], self.admin[2], **config)

    def user(self, root, policy=None):
        """A new IAM user of `root`'s account (with that inline policy), removed after the
        test: (ARN, key id, secret)."""
        iam = self.root_client("iam", root)
        name = f"compat-root-{secrets.token_hex(4)}"
        user = iam.create_user(UserName=name)["User"]
        self.users.append((root, name))
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return user["Arn"], key["AccessKeyId"], key["SecretAccessKey"]

    def organize(self):
        """An organization of the management account with the member invited and joined."""
        orgs = self.root_client("organizations", self.mgmt)
        self.org = read_org(orgs, orgs.create_organization()["Organization"])
        handshake = orgs.invite_account_to_organization(Target={"Id": self.member.account_id, "Type": "ACCOUNT"})
        self.root_client("organizations", self.member).accept_handshake(HandshakeId=handshake["Handshake"]["Id"])
        return self.org

    def enable(self):
        """IAM's trusted access, then root sessions, as the management account's root."""
        self.root_client("organizations", self.mgmt).enable_aws_service_access(ServicePrincipal=IAM_PRINCIPAL)
        answer = ok(self.root_client("iam", self.mgmt).enable_organizations_root_sessions())
        assert answer == {"OrganizationId": self.org.id, "EnabledFeatures": ["RootSessions"]}, answer

    def root_session(self, task, **kwargs):
        """AssumeRoot for the member as `admin`: a client factory over its credentials."""
        creds = self.admin_sts().assume_root(TargetPrincipal=self.member.account_id,
                                             TaskPolicyArn={"arn": task}, **kwargs)["Credentials"]
        return lambda service, region="us-east-1": self.client(
            service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region)


@pytest.fixture
def centralized(world):
    """The world's first two accounts in no organization, and an administrator user of the
    first; afterwards both are in no organization again and the users made are gone."""
    mgmt, member = world.roots[0], world.roots[1]
    pairs = [(root, make_client(world.server, "organizations", root.key_id, root.secret)) for root in (mgmt, member)]
    for root, client in pairs:
        dismantle(client, root.account_id)
    ctx = Centralized(world, mgmt, member, admin=None)
    ctx.admin = ctx.user(mgmt, ADMIN)
    yield ctx
    for root, client in pairs:
        dismantle(client, root.account_id)
    for root, name in ctx.users:
        delete_user_completely(ctx.root_client("iam", root), name)


def test_assume_root_needs_an_organization_trusted_access_and_root_sessions(centralized):
    ctx, member = centralized, centralized.member.account_id
    sts = ctx.admin_sts()

    def assume():
        return sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT})

    # The administrator may call sts:AssumeRoot, but its account manages no organization yet.
    fails(assume, **not_management(ctx.mgmt.account_id))
    org = ctx.organize()
    # A member joined, but neither trusted access nor root sessions: still no session.
    fails(assume, **denied(f"Root sessions are not enabled in organization {org.id} "
                           "(IAM EnableOrganizationsRootSessions)."))
    # IAM's features need its trusted access first (IAM API reference,
    # EnableOrganizationsRootSessions: ServiceAccessNotEnabledException).
    iam = ctx.root_client("iam", ctx.mgmt)
    fails(iam.enable_organizations_root_sessions, code="ServiceAccessNotEnabledException", status=400,
          message="The request was rejected because trusted access for IAM is not enabled in AWS Organizations.")
    ctx.root_client("organizations", ctx.mgmt).enable_aws_service_access(ServicePrincipal=IAM_PRINCIPAL)
    fails(assume, **denied(f"Root sessions are not enabled in organization {org.id} "
                           "(IAM EnableOrganizationsRootSessions)."))
    ctx.enable()

    # Issued: only Credentials (no SourceIdentity), an ASIA key, 900 s by default.
    answer = ok(assume())
    assert set(answer) == {"Credentials"}, answer
    creds = answer["Credentials"]
    assert set(creds) == CREDENTIAL_FIELDS, sorted(creds)
    assert ASIA.match(creds["AccessKeyId"]), creds["AccessKeyId"]
    left = (creds["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 880 <= left <= 900, left
    # The member's root user ARN names the same target; DurationSeconds shortens the session.
    shorter = sts.assume_root(TargetPrincipal=root_arn(member), TaskPolicyArn={"arn": AUDIT},
                              DurationSeconds=300)["Credentials"]
    left = (shorter["Expiration"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    assert 280 <= left <= 300, left
    # Either session is the member's root user.
    for c in (creds, shorter):
        who = ok(ctx.client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity())
        assert who == {"UserId": member, "Account": member, "Arn": root_arn(member)}, who
    # Asked by a role session with a source identity, the root session keeps it.
    mgmt_iam = ctx.root_client("iam", ctx.mgmt)
    role_name = f"compat-root-{secrets.token_hex(4)}"
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ctx.mgmt.account_id}:root"},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"]}]})
    mgmt_iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=trust)
    try:
        mgmt_iam.put_role_policy(RoleName=role_name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoot", "Resource": "*"}]}))
        session = ok(sts.assume_role(RoleArn=f"arn:aws:iam::{ctx.mgmt.account_id}:role/{role_name}",
                                     RoleSessionName="traced", SourceIdentity="alice"))["Credentials"]
        role_sts = ctx.client("sts", session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
        rooted = ok(role_sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}))
        assert rooted["SourceIdentity"] == "alice"
    finally:
        mgmt_iam.delete_role_policy(RoleName=role_name, PolicyName="p")
        mgmt_iam.delete_role(RoleName=role_name)


def test_assume_root_is_refused_to_roots_to_other_accounts_and_without_permission(centralized):
    ctx, member, mgmt = centralized, centralized.member.account_id, centralized.mgmt.account_id
    org = ctx.organize()
    ctx.enable()
    task = {"arn": AUDIT}

    # No root user may ask, not even the management account's (AWS: management account or
    # delegated administrator *credentials*), nor the member's own.
    for root in (ctx.mgmt, ctx.member):
        fails(ctx.root_client("sts", root).assume_root, TargetPrincipal=member, TaskPolicyArn=task,
              **denied(ROOT_CANNOT))
    # Only member accounts are targets: not the management account, not an outsider.
    sts = ctx.admin_sts()
    for target in (mgmt, root_arn(mgmt), "999999999999"):
        account = target.removeprefix("arn:aws:iam::").removesuffix(":root")
        fails(sts.assume_root, TargetPrincipal=target, TaskPolicyArn=task, **not_a_member(account, org.id))
    # A member account's administrator is not the management account.
    arn, key_id, secret = ctx.user(ctx.member, ADMIN)
    fails(ctx.client("sts", key_id, secret).assume_root, TargetPrincipal=member, TaskPolicyArn=task,
          **not_management(member))

    # In the management account, IAM decides first: sts:AssumeRoot on the member's root user.
    arn, key_id, secret = ctx.user(ctx.mgmt)
    fails(ctx.client("sts", key_id, secret).assume_root, TargetPrincipal=member, TaskPolicyArn=task,
          **sts_denied(arn, member, "implicit"))
    # ...with sts:TaskPolicyArn: a Deny on one task leaves the others allowed.
    arn, key_id, secret = ctx.user(ctx.mgmt, document(
        {"Effect": "Allow", "Action": "sts:AssumeRoot", "Resource": root_arn(member)},
        {"Effect": "Deny", "Action": "sts:AssumeRoot", "Resource": "*",
         "Condition": {"ArnEquals": {"sts:TaskPolicyArn": UNLOCK}}},
    ))
    operator_sts = ctx.client("sts", key_id, secret)
    fails(operator_sts.assume_root, TargetPrincipal=member, TaskPolicyArn={"arn": UNLOCK},
          **sts_denied(arn, member, "explicit"))
    assert ASIA.match(operator_sts.assume_root(TargetPrincipal=member, TaskPolicyArn=task)
                      ["Credentials"]["AccessKeyId"])


def test_assume_root_validates_target_task_and_duration(centralized):
    ctx, member = centralized, centralized.member.account_id
    ctx.organize()
    ctx.enable()
    # botocore checks only minimums (TargetPrincipal >= 12 characters, the ARN >= 20), so
    # each of these reaches the server.
    sts = ctx.admin_sts()
    for target in ("not-an-account", f"arn:aws:iam::{member}:user/someone", "1234567890123"):
        fails(sts.assume_root, TargetPrincipal=target, TaskPolicyArn={"arn": AUDIT},
              **invalid(f"TargetPrincipal {target} is neither an account id nor an account's root user ARN."))
    for task in ("arn:aws:iam::aws:policy/AdministratorAccess", TASKS + "NoSuchTask",
                 f"arn:aws:iam::{member}:policy/root-task/Mine"):
        fails(sts.assume_root, TargetPrincipal=member, TaskPolicyArn={"arn": task},
              **invalid(f"TaskPolicyArn {task} is not a root task policy (arn:aws:iam::aws:policy/root-task/…)."))
    # 900 seconds at most (the model's range, 0..900).
    fails(sts.assume_root, TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}, DurationSeconds=901,
          **expect.validation_error("901", "durationSeconds", "Member must have value less than or equal to 900"))
    assert sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT}, DurationSeconds=900)["Credentials"]


def test_delete_root_credentials_session_acts_only_on_the_member_roots_credentials(centralized, request):
    ctx, member = centralized, centralized.member.account_id
    ctx.organize()
    ctx.enable()
    member_iam = ctx.root_client("iam", ctx.member)
    # A second key of the member's root, for the session to delete (the first keeps the
    # world's account usable).
    spare = member_iam.create_access_key()["AccessKey"]["AccessKeyId"]
    request.addfinalizer(lambda: _delete_root_key_if_present(member_iam, spare))
    user = f"compat-kept-{secrets.token_hex(4)}"

    session = ctx.root_session(DELETE_CREDENTIALS)
    root_iam = session("iam")
    me = root_arn(member)
    # Its task: the member root's own keys.
    listed = {k["AccessKeyId"] for k in ok(root_iam.list_access_keys())["AccessKeyMetadata"]}
    assert listed == {ctx.member.key_id, spare}, listed
    # Anything else is denied by the task policy, though the session is a root: the task
    # policy is the session's own (identity-based) policy.
    fails(root_iam.create_user, UserName="intruder",
          **expect.iam_denied(me, "CreateUser", f"arn:aws:iam::{member}:user/intruder", "explicit identity-based"))
    # The member's real root keeps full access...
    member_iam.create_user(UserName=user)
    ctx.users.append((ctx.member, user))
    # ...and the session may not touch a user's credentials, only the root's (IAM names the
    # user as "user NAME" for these actions, as test_authz.py asserts).
    fails(root_iam.list_access_keys, UserName=user,
          **expect.iam_denied(me, "ListAccessKeys", f"user {user}", "explicit identity-based"))
    fails(root_iam.create_user, UserName="intruder",
          **expect.iam_denied(me, "CreateUser", f"arn:aws:iam::{member}:user/intruder", "explicit identity-based"))

    # The task done: the spare key deleted by the session, the member's root sees it gone.
    expect.empty_ok(root_iam.delete_access_key(AccessKeyId=spare))
    assert [k["AccessKeyId"] for k in member_iam.list_access_keys()["AccessKeyMetadata"]] == [ctx.member.key_id]
    fails(member_iam.get_user, UserName="intruder", **expect.no_such_user("intruder"))


def _delete_root_key_if_present(iam, key_id):
    try:
        iam.delete_access_key(AccessKeyId=key_id)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchEntity":
            raise


def test_s3_unlock_session_deletes_a_lockout_bucket_policy_and_nothing_else(centralized, request):
    ctx, member = centralized, centralized.member.account_id
    ctx.organize()
    ctx.enable()
    member_s3 = ctx.root_client("s3", ctx.member)
    open_bucket, locked = (f"compat-unlock-{secrets.token_hex(5)}" for _ in range(2))
    for name in (open_bucket, locked):
        s3_ok(member_s3.create_bucket(Bucket=name))
        request.addfinalizer(lambda name=name: _remove_bucket(member_s3, name))
    unlock = ctx.root_session(UNLOCK)("s3")
    me = root_arn(member)

    # The task policy leaves only the bucket policy actions and ListBuckets.
    assert {b["Name"] for b in s3_ok(unlock.list_buckets())["Buckets"]} >= {open_bucket, locked}
    expect.s3_fails(unlock.delete_bucket, Bucket=open_bucket,
                    **expect.s3_denied(me, "s3:DeleteBucket", f"arn:aws:s3:::{open_bucket}", "explicit identity-based"))
    expect.s3_fails(unlock.put_object, Bucket=open_bucket, Key="k", Body=b"x",
                    **expect.s3_denied(me, "s3:PutObject", f"arn:aws:s3:::{open_bucket}/k", "explicit identity-based"))

    # The case the task exists for: a bucket policy denying everyone everything. S3's API
    # reference (DeleteBucketPolicy, GetBucketPolicy, PutBucketPolicy): so that bucket owners
    # don't lock themselves out, "the root principal in a bucket owner's Amazon Web Services
    # account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API
    # actions, even if their bucket policy explicitly denies the root principal's access".
    lockout = document({"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{locked}", f"arn:aws:s3:::{locked}/*"]})
    s3_ok(member_s3.put_bucket_policy(Bucket=locked, Policy=lockout), status=204)
    # Locked: even the member's own root may not write to it.
    expect.s3_fails(member_s3.put_object, Bucket=locked, Key="k", Body=b"x",
                    **expect.s3_denied(me, "s3:PutObject", f"arn:aws:s3:::{locked}/k", "explicit resource-based"))
    s3_ok(unlock.delete_bucket_policy(Bucket=locked), status=204)
    gone = expect.error_of(unlock.get_bucket_policy, Bucket=locked)
    assert (gone["Error"]["Code"], gone["ResponseMetadata"]["HTTPStatusCode"]) == ("NoSuchBucketPolicy", 404), gone
    # Unlocked: the member's root deletes the bucket; the session still may not.
    expect.s3_fails(unlock.delete_bucket, Bucket=locked,
                    **expect.s3_denied(me, "s3:DeleteBucket", f"arn:aws:s3:::{locked}", "explicit identity-based"))
    s3_ok(member_s3.delete_bucket(Bucket=locked), status=204)


def _remove_bucket(s3, name):
    """Best effort: a bucket left locked (a failed test) stays."""
    try:
        s3.delete_bucket(Bucket=name)
    except ClientError:
        pass


# --- organizations access reports ----------------------------------------------------------


@dataclass
class Governed:
    org: object
    ou: str
    members: list
    scp: str

    def path(self, *nodes):
        """An entity path as AWS writes it: no trailing `/`."""
        return "/".join([self.org.id, self.org.root_id, *nodes])


@pytest.fixture
def governed(orgs, organization, new_account, new_ou, new_scp):
    """Two member accounts in an OU whose only SCP allows IAM, S3 and STS (FullAWSAccess
    detached from the OU, still on the root and the accounts)."""
    ou = new_ou()["Id"]
    members = [new_account(), new_account()]
    for member in members:
        orgs.move_account(AccountId=member, SourceParentId=organization.root_id, DestinationParentId=ou)
    core = new_scp({"Effect": "Allow", "Action": ["iam:*", "s3:*", "sts:*"], "Resource": "*"})
    orgs.attach_policy(PolicyId=core["Id"], TargetId=ou)
    orgs.detach_policy(PolicyId=FULL_AWS_ACCESS, TargetId=ou)
    return Governed(organization, ou, members, core["Id"])


def generate(iam, path, **kwargs):
    body = ok(iam.generate_organizations_access_report(EntityPath=path, **kwargs))
    assert set(body) == {"JobId"}, body
    assert JOB_ID.match(body["JobId"]), body
    return body["JobId"]


def report(iam, job, **kwargs):
    """GetOrganizationsAccessReport of a job oxiam computed at once: COMPLETED, every member
    of a finished job (Marker when truncated)."""
    body = ok(iam.get_organizations_access_report(JobId=job, **kwargs))
    assert set(body) == REPORT_FIELDS | ({"Marker"} if body["IsTruncated"] else set()), sorted(body)
    assert body["JobStatus"] == "COMPLETED"
    recent(body["JobCreationDate"])
    assert body["JobCompletionDate"] >= body["JobCreationDate"]
    for detail in body["AccessDetails"]:
        assert set(detail) in (UNUSED, USED), detail
    return body


def namespaces(body):
    return [d["ServiceNamespace"] for d in body["AccessDetails"]]


def test_report_lists_what_every_level_allows_with_the_last_attempt_under_the_path(server, iam, governed,
                                                                                      assume_into):
    first, second = governed.members
    early, late = assume_into(first).client("s3"), assume_into(second).client("s3", region="eu-west-1")
    s3_ok(early.list_buckets())
    time.sleep(1.1)  # whole seconds: the second account's attempt is the later one
    s3_ok(late.list_buckets())
    # The management account's own attempts (here S3 in another region) never count below it.
    s3_ok(make_client(server, "s3", server.root_key_id, server.root_secret, "ap-southeast-2").list_buckets())

    ou_path = governed.path(governed.ou)
    body = report(iam, generate(iam, ou_path), MaxItems=1000)
    # Root (FullAWSAccess) ∩ OU (iam, s3, sts) ∩ account (FullAWSAccess).
    assert namespaces(body) == ["iam", "s3", "sts"]
    assert (body["NumberOfServicesAccessible"], body["NumberOfServicesNotAccessed"]) == (3, 2)
    assert body["IsTruncated"] is False
    iam_row, s3_row, sts_row = body["AccessDetails"]
    assert set(iam_row) == UNUSED and set(sts_row) == UNUSED, body
    assert s3_row["ServiceName"] == "Amazon S3"
    recent(s3_row.pop("LastAuthenticatedTime"))
    assert s3_row == {"ServiceName": "Amazon S3", "ServiceNamespace": "s3", "Region": "eu-west-1",
                      "EntityPath": governed.path(governed.ou, second), "TotalAuthenticatedEntities": 2}

    # Sorted as asked; services never attempted come after the attempted ones either way.
    job = generate(iam, ou_path)
    assert namespaces(report(iam, job, SortKey="SERVICE_NAMESPACE_DESCENDING")) == ["sts", "s3", "iam"]
    assert namespaces(report(iam, job, SortKey="LAST_AUTHENTICATED_TIME_DESCENDING"))[0] == "s3"
    assert namespaces(report(iam, job, SortKey="LAST_AUTHENTICATED_TIME_ASCENDING"))[0] == "s3"

    # One account's path: its own attempt alone.
    body = report(iam, generate(iam, governed.path(governed.ou, first)))
    s3_row = body["AccessDetails"][1]
    assert (s3_row["EntityPath"], s3_row["Region"], s3_row["TotalAuthenticatedEntities"]) == (
        governed.path(governed.ou, first), "us-east-1", 1)

    # The root's path: every service FullAWSAccess allows, S3 alone attempted below it (the
    # management account's IAM, STS and S3 calls are not counted).
    body = report(iam, generate(iam, governed.path()), MaxItems=1000)
    assert body["NumberOfServicesAccessible"] > 400, body["NumberOfServicesAccessible"]
    assert body["NumberOfServicesNotAccessed"] == body["NumberOfServicesAccessible"] - 1
    [used] = [d for d in body["AccessDetails"] if set(d) == USED]
    assert (used["ServiceNamespace"], used["EntityPath"], used["TotalAuthenticatedEntities"]) == (
        "s3", governed.path(governed.ou, second), 2)


def test_report_on_one_scp_alone_the_management_account_and_in_pages(iam, governed, assume_into, operator,
                                                                     client_for, account_id):
    # The management account's S3 attempt (by its operator), then a member's, later.
    s3_ok(client_for("s3", operator[1], operator[2], region="ap-southeast-2").list_buckets())
    member_s3 = assume_into(governed.members[0]).client("s3", region="eu-west-1")
    time.sleep(1.1)
    s3_ok(member_s3.list_buckets())

    # One SCP alone decides, wherever it is attached (the root's FullAWSAccess is not asked).
    ou_path = governed.path(governed.ou)
    body = report(iam, generate(iam, ou_path, OrganizationsPolicyId=governed.scp))
    assert namespaces(body) == ["iam", "s3", "sts"]
    everything = report(iam, generate(iam, ou_path, OrganizationsPolicyId=FULL_AWS_ACCESS), MaxItems=1000)
    total = everything["NumberOfServicesAccessible"]
    assert total > 400 and everything["NumberOfServicesNotAccessed"] == total - 1, total

    # The management account's path: every service (SCPs do not govern it), its own attempts
    # only: the operator's S3 call, not the member's later one.
    mine = governed.path(account_id)
    job = generate(iam, mine)
    body = report(iam, job, MaxItems=1000)
    assert body["NumberOfServicesAccessible"] == total
    [s3_row] = [d for d in body["AccessDetails"] if d["ServiceNamespace"] == "s3"]
    assert (s3_row["EntityPath"], s3_row["Region"], s3_row["TotalAuthenticatedEntities"]) == (
        mine, "ap-southeast-2", 1)

    # Pages of 100 by default; the markers walk every service once, in order.
    first = report(iam, job)
    assert len(first["AccessDetails"]) == 100 and first["IsTruncated"] is True
    seen, marker, pages = namespaces(first), first["Marker"], 1
    while marker:
        page = report(iam, job, MaxItems=150, Marker=marker)
        seen += namespaces(page)
        marker = page.get("Marker")
        pages += 1
        assert pages < 10, "the pages never end"
    assert seen == sorted(set(seen)) and len(seen) == total
    # A marker belongs to its job and sort order.
    fails(iam.get_organizations_access_report, JobId=job, Marker=first["Marker"],
          SortKey="SERVICE_NAMESPACE_DESCENDING",
          code="InvalidInput", status=400, message="The marker passed in the request was invalid.")


def test_report_is_refused_outside_the_management_account_and_its_organization(iam, orgs, new_user, assume_into,
                                                                              client_for):
    # No organization yet.
    fails(iam.generate_organizations_access_report, EntityPath="o-abcdefghij/r-abcd",
          **denied(ONLY_MANAGEMENT_REPORTS))
    org = read_org(orgs, orgs.create_organization()["Organization"])
    member = orgs.describe_create_account_status(CreateAccountRequestId=orgs.create_account(
        Email=f"compat-{secrets.token_hex(6)}@example.com", AccountName="reports")["CreateAccountStatus"]["Id"],
    )["CreateAccountStatus"]["AccountId"]
    path = f"{org.id}/{org.root_id}"
    # A member account, however much its own policies allow.
    fails(assume_into(member).client("iam").generate_organizations_access_report, EntityPath=path,
          **denied(ONLY_MANAGEMENT_REPORTS))
    # Another organization's path.
    other = f"o-zzzzzzzzzz/{org.root_id}"
    fails(iam.generate_organizations_access_report, EntityPath=other,
          **denied(f"The entity path {other} is not in the caller's organization."))
    # A report is read by whoever generated it: another principal of the same account gets
    # no such job (as for the service last accessed reports).
    job = generate(iam, path)
    user = new_user()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="admin", PolicyDocument=ADMIN)
    key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
    theirs = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    fails(theirs.get_organizations_access_report, JobId=job, **no_such_entity(f"Job {job} does not exist."))
    assert report(iam, job)["JobStatus"] == "COMPLETED"


def test_report_paths_policies_and_jobs_that_name_nothing(iam, governed, orgs):
    member = governed.members[0]
    # The path must be the entity's place, exactly: not an account under the wrong parent,
    # not an unknown OU, not with a trailing "/".
    for path in (governed.path(member), governed.path("ou-zzzz-zzzzzzzz"), governed.path(governed.ou) + "/",
                 governed.path(governed.ou, member) + "/", governed.path(member, governed.ou)):
        fails(iam.generate_organizations_access_report, EntityPath=path,
              **no_such_entity(f"The entity path {path} does not exist in the organization."))
    fails(iam.generate_organizations_access_report, EntityPath=governed.path(governed.ou),
          OrganizationsPolicyId="p-zzzzzzzz",
          **no_such_entity("Policy p-zzzzzzzz does not exist in the organization."))
    # A service last accessed job is no organizations report, and vice versa.
    service_job = ok(iam.generate_service_last_accessed_details(Arn=expect.aws_policy_arn("ReadOnlyAccess")))["JobId"]
    fails(iam.get_organizations_access_report, JobId=service_job,
          **no_such_entity(f"Job {service_job} does not exist."))
    org_job = generate(iam, governed.path(governed.ou))
    fails(iam.get_service_last_accessed_details, JobId=org_job, **no_such_entity(f"Job {org_job} does not exist."))
    unknown = "00000000-0000-4000-8000-000000000000"
    fails(iam.get_organizations_access_report, JobId=unknown, **no_such_entity(f"Job {unknown} does not exist."))
    # With service control policies disabled in the root there is nothing to report on.
    orgs.disable_policy_type(RootId=governed.org.root_id, PolicyType=SCP)
    fails(iam.generate_organizations_access_report, EntityPath=governed.path(governed.ou),
          code="InvalidInput", status=400,
          message="Service control policies are not enabled in the organization's root.")
