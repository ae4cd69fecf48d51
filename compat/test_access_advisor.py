"""Access advisor through boto3 and the AWS CLI: GenerateServiceLastAccessedDetails,
GetServiceLastAccessedDetails and GetServiceLastAccessedDetailsWithEntities, reporting what
users and role sessions really attempted (allowed or denied) against the services their
policies allow, per service and, at ACTION_LEVEL, per tracked action.

AWS's rules are those of the IAM API reference and the User Guide ("Refining permissions
using last accessed information"): a report lists every service the subject's own
permissions policies allow, the unused ones with only their names and a count of 0;
attempts count whether or not they were allowed; a role session's count for its role; a
report is read only by the principal that generated it. The error texts are those of real
IAM answers (docs/access-advisor-notes.md), "namepace" (sic) included. oxiam computes a
report when it is generated, so the first Get answers COMPLETED (AWS: IN_PROGRESS for a
second or two) — the only liberty these tests take (docs/differences.md)."""

import datetime
import json
import re
import time

import expect
from expect import fails, ok

JOB_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REPORT_FIELDS = {"JobStatus", "JobType", "JobCreationDate", "JobCompletionDate", "ServicesLastAccessed", "IsTruncated"}
# A service (or a tracked action) nobody attempted carries only these; one attempted, the
# when, who and where too.
UNUSED_SERVICE = {"ServiceName", "ServiceNamespace", "TotalAuthenticatedEntities"}
USED_SERVICE = UNUSED_SERVICE | {"LastAuthenticated", "LastAuthenticatedEntity", "LastAuthenticatedRegion"}
USED_ACTION = {"ActionName", "LastAccessedEntity", "LastAccessedTime", "LastAccessedRegion"}
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# What a user needs to generate and read reports of its own.
ADVISOR = {"Effect": "Allow", "Action": ["iam:GenerateServiceLastAccessedDetails",
                                         "iam:GetServiceLastAccessedDetails*"], "Resource": "*"}


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(*actions):
    return {"Effect": "Allow", "Action": list(actions), "Resource": "*"}


def generate(iam, arn, **kwargs):
    """GenerateServiceLastAccessedDetails: exactly a JobId, a UUID."""
    body = ok(iam.generate_service_last_accessed_details(Arn=arn, **kwargs))
    assert set(body) == {"JobId"}, body
    assert JOB_ID.match(body["JobId"]), body["JobId"]
    return body["JobId"]


def completed(iam, job, granularity="SERVICE_LEVEL", **kwargs):
    """GetServiceLastAccessedDetails of a report oxiam computed at once: COMPLETED at the
    first read, every member of a finished job; returns the body."""
    body = ok(iam.get_service_last_accessed_details(JobId=job, **kwargs))
    fields = REPORT_FIELDS | ({"Marker"} if body.get("IsTruncated") else set())
    assert set(body) == fields, sorted(body)
    assert body["JobStatus"] == "COMPLETED"
    assert body["JobType"] == granularity
    expect.recent(body["JobCreationDate"])
    assert body["JobCompletionDate"] >= body["JobCreationDate"]
    return body


def by_namespace(body):
    """The report's services by namespace, after checking they come in namespace order."""
    services = body["ServicesLastAccessed"]
    namespaces = [s["ServiceNamespace"] for s in services]
    assert namespaces == sorted(namespaces), namespaces
    return {s["ServiceNamespace"]: s for s in services}


def check_used(service, *, entity, region, count=1):
    assert set(service) == USED_SERVICE, sorted(service)
    assert service["LastAuthenticatedEntity"] == entity
    assert service["LastAuthenticatedRegion"] == region
    assert service["TotalAuthenticatedEntities"] == count
    expect.recent(service["LastAuthenticated"])


def check_unused(service):
    assert set(service) == UNUSED_SERVICE, sorted(service)
    assert service["TotalAuthenticatedEntities"] == 0


def test_a_users_report_shows_its_s3_and_iam_attempts_with_entity_and_region(iam, client_for, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="work", PolicyDocument=document(
        allow("s3:*", "iam:GetUser"), allow("ec2:DescribeInstances")))
    # IAM from eu-west-1, S3 from ap-southeast-2: each service remembers where it was used.
    client_for("iam", key["AccessKeyId"], key["SecretAccessKey"], region="eu-west-1").get_user()
    client_for("s3", key["AccessKeyId"], key["SecretAccessKey"], region="ap-southeast-2").list_buckets()

    job = generate(iam, user["Arn"])
    body = completed(iam, job)
    assert body["IsTruncated"] is False
    services = by_namespace(body)
    # Exactly the services the policy allows: EC2 too, never used, and nothing else.
    assert list(services) == ["ec2", "iam", "s3"]
    assert services["s3"]["ServiceName"] == "Amazon S3"
    assert services["ec2"]["ServiceName"] == "Amazon EC2"
    check_used(services["iam"], entity=user["Arn"], region="eu-west-1")
    check_used(services["s3"], entity=user["Arn"], region="ap-southeast-2")
    check_unused(services["ec2"])
    # SERVICE_LEVEL lists no actions.
    assert all("TrackedActionsLastAccessed" not in s for s in services.values())

    # Reading again gives the same snapshot; a new report is a new job.
    assert completed(iam, job) == body
    assert generate(iam, user["Arn"]) != job


def test_a_denied_attempt_still_counts_as_using_the_service(iam, client_for, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="read-self",
                        PolicyDocument=document(allow("iam:GetUser")))
    # The user's only IAM request is one its policy does not allow.
    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"], region="us-west-2")
    fails(user_iam.list_roles, code="AccessDenied", status=403)

    services = by_namespace(completed(iam, generate(iam, user["Arn"])))
    assert list(services) == ["iam"]
    check_used(services["iam"], entity=user["Arn"], region="us-west-2")


def test_action_level_lists_the_allowed_tracked_actions_used_or_not(iam, client_for, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="work", PolicyDocument=document(
        allow("iam:GetUser", "iam:ListUsers", "iam:PassRole", "s3:*")))
    user_iam = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"], region="eu-central-1")
    user_iam.get_user()
    # Denied: it counts for IAM, but CreateUser is no action the policy allows, so no row.
    fails(user_iam.create_user, UserName="never-made", code="AccessDenied", status=403)
    user_s3 = client_for("s3", key["AccessKeyId"], key["SecretAccessKey"], region="eu-central-1")
    user_s3.list_buckets()
    # An object read (a data event, not tracked per action) of a bucket that is not there.
    refused = expect.error_of(user_s3.get_object, Bucket="compat-no-such-bucket-advisor", Key="k")
    assert refused["ResponseMetadata"]["HTTPStatusCode"] in (403, 404), refused

    job = generate(iam, user["Arn"], Granularity="ACTION_LEVEL")
    services = by_namespace(completed(iam, job, granularity="ACTION_LEVEL"))
    assert list(services) == ["iam", "s3"]

    iam_actions = {a["ActionName"]: a for a in services["iam"]["TrackedActionsLastAccessed"]}
    # PassRole is never tracked (the User Guide); the others, used or not.
    assert set(iam_actions) == {"GetUser", "ListUsers"}, sorted(iam_actions)
    used = iam_actions["GetUser"]
    assert set(used) == USED_ACTION, sorted(used)
    assert used["LastAccessedEntity"] == user["Arn"]
    assert used["LastAccessedRegion"] == "eu-central-1"
    expect.recent(used["LastAccessedTime"])
    assert iam_actions["ListUsers"] == {"ActionName": "ListUsers"}

    s3_actions = {a["ActionName"]: a for a in services["s3"]["TrackedActionsLastAccessed"]}
    assert set(s3_actions["ListAllMyBuckets"]) == USED_ACTION
    assert s3_actions["ListAllMyBuckets"]["LastAccessedEntity"] == user["Arn"]
    assert s3_actions["CreateBucket"] == {"ActionName": "CreateBucket"}
    # Object operations and bucket listings are data events: not tracked per action.
    for untracked in ("GetObject", "PutObject", "ListBucket"):
        assert untracked not in s3_actions, untracked
    # The service row itself is as at SERVICE_LEVEL (the GetObject attempt counts there).
    check_used({k: v for k, v in services["s3"].items() if k != "TrackedActionsLastAccessed"},
               entity=user["Arn"], region="eu-central-1")


def test_a_groups_report_lists_its_members_most_recent_first_and_idle_last(iam, client_for, user_with_key,
                                                                           new_group, unique_name, unique_path):
    path, base = unique_path(), unique_name()[:60]
    group = new_group()
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="list",
                         PolicyDocument=document(allow("s3:ListAllMyBuckets")))
    members = [user_with_key(path=path, name=f"{base}-{suffix}") for suffix in "abc"]
    for user, _ in members:
        iam.add_user_to_group(GroupName=group["GroupName"], UserName=user["UserName"])
    (first, first_key), (second, second_key), (idle, _) = members
    # Their ARNs sort first < second < idle: the expected order (second, first, idle) is
    # not the ARN order, so a tie-break cannot pass for recency.
    assert first["Arn"] < second["Arn"] < idle["Arn"]
    client_for("s3", first_key["AccessKeyId"], first_key["SecretAccessKey"]).list_buckets()
    time.sleep(1.2)  # timestamps are whole seconds
    client_for("s3", second_key["AccessKeyId"], second_key["SecretAccessKey"], region="sa-east-1").list_buckets()

    job = generate(iam, group["Arn"])
    services = by_namespace(completed(iam, job))
    assert list(services) == ["s3"]
    check_used(services["s3"], entity=second["Arn"], region="sa-east-1", count=2)

    answer = ok(iam.get_service_last_accessed_details_with_entities(JobId=job, ServiceNamespace="s3"))
    assert set(answer) == {"JobStatus", "JobCreationDate", "JobCompletionDate", "EntityDetailsList",
                           "IsTruncated"}, sorted(answer)
    assert answer["JobStatus"] == "COMPLETED" and answer["IsTruncated"] is False
    listed = answer["EntityDetailsList"]
    assert [e["EntityInfo"]["Arn"] for e in listed] == [second["Arn"], first["Arn"], idle["Arn"]]
    assert listed[0]["EntityInfo"] == {"Arn": second["Arn"], "Name": second["UserName"], "Type": "USER",
                                       "Id": second["UserId"], "Path": path}
    assert listed[0]["LastAuthenticated"] > listed[1]["LastAuthenticated"]
    expect.recent(listed[1]["LastAuthenticated"])
    assert set(listed[2]) == {"EntityInfo"}, "the idle member has no LastAuthenticated"

    # Paged one at a time with Marker, the same list in the same order.
    paged, marker = [], None
    while True:
        page = ok(iam.get_service_last_accessed_details_with_entities(
            JobId=job, ServiceNamespace="s3", MaxItems=1, **({"Marker": marker} if marker else {})))
        paged += page["EntityDetailsList"]
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        marker = page["Marker"]
    assert paged == listed


def test_a_role_sessions_attempts_count_for_the_role(iam, client_for, user_with_key, new_role, account_id):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="assume",
                        PolicyDocument=document(allow("sts:AssumeRole")))
    trust = document({"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"})
    role = new_role(trust=trust)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="list",
                        PolicyDocument=document(allow("s3:ListAllMyBuckets")))
    user_sts = client_for("sts", key["AccessKeyId"], key["SecretAccessKey"], region="us-west-2")
    creds = ok(user_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="advisor"))["Credentials"]
    client_for("s3", creds["AccessKeyId"], creds["SecretAccessKey"], region="ca-central-1",
               token=creds["SessionToken"]).list_buckets()

    # The role's report names the role, not the assumed-role session.
    services = by_namespace(completed(iam, generate(iam, role["Arn"])))
    assert list(services) == ["s3"]
    check_used(services["s3"], entity=role["Arn"], region="ca-central-1")
    assert services["s3"]["LastAuthenticatedEntity"] != expect.assumed_role_arn(account_id, role["RoleName"],
                                                                                 "advisor")
    # The user's own report has its AssumeRole and nothing of the session's S3 use.
    services = by_namespace(completed(iam, generate(iam, user["Arn"])))
    assert list(services) == ["sts"]
    check_used(services["sts"], entity=user["Arn"], region="us-west-2")


def test_a_report_is_read_only_by_the_principal_that_generated_it(iam, client_for, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="advisor", PolicyDocument=document(ADVISOR))
    auditor = client_for("iam", key["AccessKeyId"], key["SecretAccessKey"])
    roots_job = generate(iam, user["Arn"])
    # Allowed to call both Gets, the user still cannot see the root's job: it does not exist
    # for them.
    fails(auditor.get_service_last_accessed_details, JobId=roots_job,
          code="NoSuchEntity", status=404, message=f"Job {roots_job} does not exist.")
    fails(auditor.get_service_last_accessed_details_with_entities, JobId=roots_job, ServiceNamespace="iam",
          code="NoSuchEntity", status=404, message=f"Job {roots_job} does not exist.")
    # Its own job it reads (its own Generate is in it); the root cannot read that one.
    own = generate(auditor, user["Arn"])
    check_used(by_namespace(completed(auditor, own))["iam"], entity=user["Arn"], region="us-east-1")
    fails(iam.get_service_last_accessed_details, JobId=own,
          code="NoSuchEntity", status=404, message=f"Job {own} does not exist.")


def test_bad_subjects_jobs_and_namespaces_get_aws_errors(iam, new_user, unique_name, account_id):
    missing = expect.user_arn(account_id, unique_name("ghost"))
    fails(iam.generate_service_last_accessed_details, Arn=missing,
          code="NoSuchEntity", status=404, message=f"ARN {missing} does not exist.")
    missing_policy = expect.policy_arn(account_id, unique_name("ghost"))
    fails(iam.generate_service_last_accessed_details, Arn=missing_policy,
          code="NoSuchEntity", status=404, message=f"ARN {missing_policy} does not exist.")
    root = f"arn:aws:iam::{account_id}:root"
    fails(iam.generate_service_last_accessed_details, Arn=root,
          code="InvalidInput", status=400, message=f"Invalid Entity Arn: {root} is not supported.")

    unknown = "00000000-0000-0000-0000-000000000000"
    fails(iam.get_service_last_accessed_details, JobId=unknown,
          code="NoSuchEntity", status=404, message=f"Job {unknown} does not exist.")
    fails(iam.get_service_last_accessed_details_with_entities, JobId=unknown, ServiceNamespace="iam",
          code="NoSuchEntity", status=404, message=f"Job {unknown} does not exist.")

    # A user without policies allows no service: an empty report, and any namespace is
    # outside it (AWS's text, "namepace" sic).
    user = new_user()
    job = generate(iam, user["Arn"])
    assert completed(iam, job)["ServicesLastAccessed"] == []
    fails(iam.get_service_last_accessed_details_with_entities, JobId=job, ServiceNamespace="s3",
          code="InvalidInput", status=400, message="Service namepace s3 is either invalid or unsupported.")


def test_an_unknown_granularity_is_a_validation_error(iam, new_user):
    # botocore does not check enum values: the server must.
    user = new_user()
    fails(iam.generate_service_last_accessed_details, Arn=user["Arn"], Granularity="RESOURCE_LEVEL",
          **expect.validation_error("RESOURCE_LEVEL", "granularity",
                                    "Member must satisfy enum value set: [SERVICE_LEVEL, ACTION_LEVEL]"))


def test_an_aws_managed_policys_report_pages_by_100_in_namespace_order(iam):
    job = generate(iam, READ_ONLY)
    first = completed(iam, job)
    # ReadOnlyAccess reaches far more services than one default page of 100.
    assert len(first["ServicesLastAccessed"]) == 100
    assert first["IsTruncated"] is True and first["Marker"]

    services, body = list(first["ServicesLastAccessed"]), first
    while body["IsTruncated"]:
        body = completed(iam, job, Marker=body["Marker"], MaxItems=150)
        assert 0 < len(body["ServicesLastAccessed"]) <= 150
        services += body["ServicesLastAccessed"]
    namespaces = [s["ServiceNamespace"] for s in services]
    assert len(namespaces) > 200, len(namespaces)
    # Strictly increasing across pages: no namespace twice, none skipped at a page edge.
    assert all(a < b for a, b in zip(namespaces, namespaces[1:])), namespaces
    assert {"ec2", "iam", "s3", "sts"} <= set(namespaces)

    # One page of 1000 holds the same list.
    whole = completed(iam, job, MaxItems=1000)
    assert whole["IsTruncated"] is False
    assert whole["ServicesLastAccessed"] == services
    fails(iam.get_service_last_accessed_details, JobId=job, Marker="not-a-marker",
          code="InvalidInput", status=400)


def test_cli_generates_and_reads_a_report(aws, iam, user_with_key):
    user, key = user_with_key()
    iam.put_user_policy(UserName=user["UserName"], PolicyName="self",
                        PolicyDocument=document(allow("sts:GetCallerIdentity", "iam:GetUser")))
    aws("iam", "get-user", key=(key["AccessKeyId"], key["SecretAccessKey"]), region="eu-north-1")

    job = json.loads(aws("iam", "generate-service-last-accessed-details", "--arn", user["Arn"],
                         "--granularity", "ACTION_LEVEL").stdout)["JobId"]
    assert JOB_ID.match(job), job
    out = json.loads(aws("iam", "get-service-last-accessed-details", "--job-id", job).stdout)
    assert out["JobStatus"] == "COMPLETED" and out["JobType"] == "ACTION_LEVEL"
    services = {s["ServiceNamespace"]: s for s in out["ServicesLastAccessed"]}
    assert list(services) == ["iam", "sts"]
    assert services["iam"]["LastAuthenticatedEntity"] == user["Arn"]
    assert services["iam"]["LastAuthenticatedRegion"] == "eu-north-1"
    # The CLI prints timestamps as ISO-8601 UTC text.
    when = datetime.datetime.fromisoformat(services["iam"]["LastAuthenticated"].replace("Z", "+00:00"))
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 60
    assert services["sts"] == {"ServiceName": "AWS Security Token Service", "ServiceNamespace": "sts",
                               "TotalAuthenticatedEntities": 0,
                               "TrackedActionsLastAccessed": [{"ActionName": "GetCallerIdentity"}]}

    proc = aws("iam", "get-service-last-accessed-details-with-entities", "--job-id", job,
               "--service-namespace", "ec2", check=False)
    assert proc.returncode == 255, proc
    assert ("An error occurred (InvalidInput) when calling the GetServiceLastAccessedDetailsWithEntities "
            "operation: Service namepace ec2 is either invalid or unsupported.") in proc.stderr
