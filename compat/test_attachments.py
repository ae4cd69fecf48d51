"""What users, groups and roles share: attached managed policies
(Attach/Detach/ListAttached{User,Group,Role}Policies, ten per entity) and inline policies
(Put/Get/List/Delete{User,Group,Role}Policy, within an aggregate size per entity: 2048, 5120
and 10240 characters without whitespace). Every test runs for each of the three kinds.

AWS's messages: "Cannot exceed quota for PoliciesPer{User,Group,Role}: 10" and "Maximum policy
size of N bytes exceeded for {user,group,role} NAME" are quoted from real IAM answers in
public logs; "Policy ARN does not exist or is not attachable." likewise."""

import json
import threading
from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

import expect
from conftest import S3_READ
from expect import empty_ok, fails, ok

KINDS = ["user", "group", "role"]
S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# Sixteen AWS managed policies, all attachable.
AWS_POLICIES = [
    f"arn:aws:iam::aws:policy/{name}"
    for name in (
        "AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AmazonEC2ReadOnlyAccess", "AmazonEC2FullAccess",
        "AmazonDynamoDBReadOnlyAccess", "AmazonDynamoDBFullAccess", "AmazonSQSReadOnlyAccess", "AmazonSQSFullAccess",
        "AmazonSNSReadOnlyAccess", "AmazonSNSFullAccess", "IAMReadOnlyAccess", "IAMFullAccess", "ReadOnlyAccess",
        "AdministratorAccess", "PowerUserAccess", "CloudWatchReadOnlyAccess",
    )
]
INLINE_QUOTA = {"user": 2048, "group": 5120, "role": 10240}
QUOTA_NAME = {"user": "PoliciesPerUser", "group": "PoliciesPerGroup", "role": "PoliciesPerRole"}


def inline_document(size, action="s3:GetObject"):
    """A valid identity policy of exactly `size` characters without whitespace."""
    base = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action,
                                                               "Resource": "arn:aws:s3:::b/"}]}, separators=(",", ":"))
    text = base.replace("arn:aws:s3:::b/", "arn:aws:s3:::b/" + "x" * (size - len(base)))
    assert len(text) == size
    return text


@dataclass
class Entity:
    """A user, group or role, and its kind's twelve operations bound to its name."""

    kind: str
    name: str
    id: str
    iam: object

    def _call(self, op, **kwargs):
        return getattr(self.iam, op.format(kind=self.kind))(**{self.key: self.name, **kwargs})

    @property
    def key(self):
        return {"user": "UserName", "group": "GroupName", "role": "RoleName"}[self.kind]

    def attach(self, arn):
        return self._call("attach_{kind}_policy", PolicyArn=arn)

    def detach(self, arn):
        return self._call("detach_{kind}_policy", PolicyArn=arn)

    def list_attached(self, **kwargs):
        return self._call("list_attached_{kind}_policies", **kwargs)

    def put(self, policy_name, document):
        return self._call("put_{kind}_policy", PolicyName=policy_name, PolicyDocument=document)

    def get(self, policy_name):
        return self._call("get_{kind}_policy", PolicyName=policy_name)

    def list_inline(self, **kwargs):
        return self._call("list_{kind}_policies", **kwargs)

    def delete_inline(self, policy_name):
        return self._call("delete_{kind}_policy", PolicyName=policy_name)

    def delete(self):
        return self._call("delete_{kind}")

    def method(self, op):
        """The client method of `op`, e.g. 'attach_{kind}_policy' (for `fails`)."""
        return getattr(self.iam, op.format(kind=self.kind))

    def no_such(self, name=None):
        name = name or self.name
        return {"user": expect.no_such_user, "group": expect.no_such_group, "role": expect.no_such_role}[self.kind](
            name)


@pytest.fixture(params=KINDS)
def entity(request, iam, new_user, new_group, new_role):
    kind = request.param
    if kind == "user":
        created = new_user()
        return Entity(kind, created["UserName"], created["UserId"], iam)
    if kind == "group":
        created = new_group()
        return Entity(kind, created["GroupName"], created["GroupId"], iam)
    created = new_role()
    return Entity(kind, created["RoleName"], created["RoleId"], iam)


@pytest.fixture
def missing(iam, unique_name):
    """A factory: missing(kind) -> an Entity whose name nothing has."""

    def make(kind):
        return Entity(kind, unique_name(), "", iam)

    return make


# --- attached managed policies -----------------------------------------------------------------


def test_attach_and_list_attached_policies(entity, new_policy, unique_path):
    path = unique_path()
    customer = new_policy(Path=path)
    empty_ok(entity.attach(customer["Arn"]))
    empty_ok(entity.attach(S3_READ_ONLY))
    empty_ok(entity.attach(LAMBDA_BASIC))
    body = ok(entity.list_attached())
    assert body["IsTruncated"] is False
    assert sorted(body["AttachedPolicies"], key=lambda p: p["PolicyArn"]) == sorted([
        {"PolicyName": customer["PolicyName"], "PolicyArn": customer["Arn"]},
        {"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": S3_READ_ONLY},
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC},
    ], key=lambda p: p["PolicyArn"])
    assert ok(entity.list_attached(PathPrefix=path))["AttachedPolicies"] == [
        {"PolicyName": customer["PolicyName"], "PolicyArn": customer["Arn"]}]
    assert ok(entity.list_attached(PathPrefix="/service-role/"))["AttachedPolicies"] == [
        {"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC}]


def test_list_attached_policies_pages_through_each_policy_once(entity, new_policy):
    """Whatever the order of the list, a marker resumes after the entries already seen. The
    customer policy sorts last by name but first by ARN (the account id before "aws")."""
    customer = new_policy()
    arns = {customer["Arn"], *AWS_POLICIES[:2]}
    entity.attach(AWS_POLICIES[0])
    entity.attach(customer["Arn"])
    entity.attach(AWS_POLICIES[1])
    for size, shape in ((2, [2, 1]), (1, [1, 1, 1])):
        pages, marker = [], None
        while True:
            body = ok(entity.list_attached(MaxItems=size, **({"Marker": marker} if marker else {})))
            pages.append(body)
            if not body["IsTruncated"]:
                assert "Marker" not in body
                break
            marker = body["Marker"]
            assert len(pages) < 10
        listed = [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]]
        assert sorted(listed) == sorted(arns), listed
        assert [len(p["AttachedPolicies"]) for p in pages] == shape


def test_attach_the_same_policy_twice_attaches_it_once(iam, entity, new_policy):
    policy = new_policy()
    empty_ok(entity.attach(policy["Arn"]))
    empty_ok(entity.attach(policy["Arn"]))
    assert [p["PolicyArn"] for p in ok(entity.list_attached())["AttachedPolicies"]] == [policy["Arn"]]
    assert ok(iam.get_policy(PolicyArn=policy["Arn"]))["Policy"]["AttachmentCount"] == 1


def test_attachment_counts_and_entities_follow_attach_and_detach(iam, entity, new_policy):
    arn = new_policy()["Arn"]
    entity.attach(arn)
    entities = ok(iam.list_entities_for_policy(PolicyArn=arn))
    key = {"user": "PolicyUsers", "group": "PolicyGroups", "role": "PolicyRoles"}[entity.kind]
    assert entities[key] == [{entity.key: entity.name, entity.key.replace("Name", "Id"): entity.id}]
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["AttachmentCount"] == 1
    empty_ok(entity.detach(arn))
    assert ok(entity.list_attached())["AttachedPolicies"] == []
    assert ok(iam.get_policy(PolicyArn=arn))["Policy"]["AttachmentCount"] == 0
    assert ok(iam.list_entities_for_policy(PolicyArn=arn))[key] == []


def test_an_eleventh_attached_policy_is_limit_exceeded(entity):
    for arn in AWS_POLICIES[:10]:
        empty_ok(entity.attach(arn))
    fails(entity.method("attach_{kind}_policy"), **{entity.key: entity.name}, PolicyArn=AWS_POLICIES[10],
          code="LimitExceeded", status=409, message=f"Cannot exceed quota for {QUOTA_NAME[entity.kind]}: 10")
    assert len(ok(entity.list_attached())["AttachedPolicies"]) == 10
    # Detaching one makes room again.
    empty_ok(entity.detach(AWS_POLICIES[0]))
    empty_ok(entity.attach(AWS_POLICIES[10]))


def test_parallel_attach_of_fourteen_policies_attaches_exactly_ten(entity):
    arns = AWS_POLICIES[:14]
    barrier = threading.Barrier(len(arns))
    results = [None] * len(arns)

    def attach(i):
        barrier.wait()
        try:
            entity.attach(arns[i])
            results[i] = ("ok", arns[i])
        except ClientError as e:
            results[i] = ("error", e.response)

    threads = [threading.Thread(target=attach, args=(i,)) for i in range(len(arns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    attached = {r[1] for r in results if r[0] == "ok"}
    refused = [r[1] for r in results if r[0] == "error"]
    assert len(attached) == 10, results
    assert len(refused) == 4
    for response in refused:
        expect.check_error(response, code="LimitExceeded", status=409,
                           message=f"Cannot exceed quota for {QUOTA_NAME[entity.kind]}: 10")
    assert {p["PolicyArn"] for p in ok(entity.list_attached())["AttachedPolicies"]} == attached


def test_attach_an_unknown_policy_is_no_such_entity(entity, account_id, unique_name):
    for arn in (expect.policy_arn(account_id, unique_name()), "arn:aws:iam::aws:policy/CompatNoSuchManagedPolicy"):
        fails(entity.method("attach_{kind}_policy"), **{entity.key: entity.name}, PolicyArn=arn,
              **expect.not_attachable(arn))
    assert ok(entity.list_attached())["AttachedPolicies"] == []


def test_attach_an_invalid_policy_arn_is_invalid_input(entity):
    # Real IAM: "ARN arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess is not
    # valid. (Service: AmazonIdentityManagement; Status Code: 400; Error Code: InvalidInput"
    # (aws-samples/aws-cdk-examples#287, a role's managed policy ARN).
    arn = "arn:aws:iam::aws:policy/arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess"
    fails(entity.method("attach_{kind}_policy"), **{entity.key: entity.name}, PolicyArn=arn, code="InvalidInput",
          status=400, message=f"ARN {arn} is not valid.")


def test_attach_or_detach_a_policy_arn_of_another_partition_or_service_is_a_validation_error(entity):
    # Since 2024 IAM checks an ARN passed for an IAM resource before anything else: AWS's
    # notice to accounts, and real answers ("api error ValidationError: Invalid ARN
    # partition" attaching arn:aws:iam::aws:policy/… in the China partition,
    # pulumi/pulumi-aws-apigateway#347).
    for arn, message in (("arn:aws-cn:iam::aws:policy/ReadOnlyAccess", "Invalid ARN partition"),
                         ("arn:aws:s3:::aws:policy/ReadOnlyAccess", "Invalid service in ARN")):
        for verb in ("attach", "detach"):
            fails(entity.method(verb + "_{kind}_policy"), **{entity.key: entity.name}, PolicyArn=arn,
                  code="ValidationError", status=400, message=message)


@pytest.mark.parametrize("kind", KINDS)
def test_attach_to_a_missing_entity_is_no_such_entity(missing, kind):
    gone = missing(kind)
    fails(gone.method("attach_{kind}_policy"), **{gone.key: gone.name}, PolicyArn=S3_READ_ONLY, **gone.no_such())


def test_detach_a_policy_that_is_not_attached_is_no_such_entity(entity, new_policy):
    for arn in (S3_READ_ONLY, new_policy()["Arn"]):
        fails(entity.method("detach_{kind}_policy"), **{entity.key: entity.name}, PolicyArn=arn,
              **expect.no_such_policy(arn))


@pytest.mark.parametrize("kind", KINDS)
def test_detach_from_a_missing_entity_is_no_such_entity(missing, kind):
    gone = missing(kind)
    fails(gone.method("detach_{kind}_policy"), **{gone.key: gone.name}, PolicyArn=S3_READ_ONLY, **gone.no_such())


@pytest.mark.parametrize("kind", KINDS)
def test_list_attached_policies_of_a_missing_entity_is_no_such_entity(missing, kind):
    gone = missing(kind)
    fails(gone.method("list_attached_{kind}_policies"), **{gone.key: gone.name}, **gone.no_such())


def test_delete_entity_with_an_attached_policy_is_delete_conflict(entity):
    entity.attach(S3_READ_ONLY)
    fails(entity.method("delete_{kind}"), **{entity.key: entity.name},
          **expect.delete_conflict("Cannot delete entity, must detach all policies first."))
    entity.detach(S3_READ_ONLY)
    empty_ok(entity.delete())


# --- inline policies -----------------------------------------------------------------------------


def test_put_get_list_and_delete_inline_policies(entity):
    first = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    second = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    empty_ok(entity.put("beta", json.dumps(first)))
    empty_ok(entity.put("Alpha", json.dumps(second)))
    got = ok(entity.get("beta"))
    assert got == {entity.key: entity.name, "PolicyName": "beta", "PolicyDocument": first}
    assert ok(entity.list_inline()) == {"PolicyNames": ["Alpha", "beta"], "IsTruncated": False}
    empty_ok(entity.delete_inline("beta"))
    assert ok(entity.list_inline()) == {"PolicyNames": ["Alpha"], "IsTruncated": False}
    fails(entity.method("get_{kind}_policy"), **{entity.key: entity.name}, PolicyName="beta",
          **expect.no_such_inline(entity.kind, "beta"))


def test_put_inline_policy_again_replaces_its_document(entity):
    entity.put("replaced", S3_READ)
    newer = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    empty_ok(entity.put("replaced", json.dumps(newer)))
    assert ok(entity.get("replaced"))["PolicyDocument"] == newer
    assert ok(entity.list_inline())["PolicyNames"] == ["replaced"]


def test_list_inline_policies_pages(entity):
    for name in ("c", "a", "b"):
        entity.put(name, S3_READ)
    first = ok(entity.list_inline(MaxItems=2))
    assert first["PolicyNames"] == ["a", "b"] and first["IsTruncated"] is True
    rest = ok(entity.list_inline(MaxItems=2, Marker=first["Marker"]))
    assert rest == {"PolicyNames": ["c"], "IsTruncated": False}


def test_inline_policies_of_a_new_entity_are_empty(entity):
    assert ok(entity.list_inline()) == {"PolicyNames": [], "IsTruncated": False}


def test_get_a_missing_inline_policy_is_no_such_entity(entity):
    fails(entity.method("get_{kind}_policy"), **{entity.key: entity.name}, PolicyName="absent",
          **expect.no_such_inline(entity.kind, "absent"))


def test_delete_a_missing_inline_policy_is_no_such_entity(entity):
    fails(entity.method("delete_{kind}_policy"), **{entity.key: entity.name}, PolicyName="absent",
          **expect.no_such_inline(entity.kind, "absent"))


@pytest.mark.parametrize("kind", KINDS)
def test_inline_policy_operations_on_a_missing_entity_are_no_such_entity(missing, kind):
    gone = missing(kind)
    name = {gone.key: gone.name}
    fails(gone.method("put_{kind}_policy"), **name, PolicyName="p", PolicyDocument=S3_READ, **gone.no_such())
    fails(gone.method("get_{kind}_policy"), **name, PolicyName="p", **gone.no_such())
    fails(gone.method("list_{kind}_policies"), **name, **gone.no_such())
    fails(gone.method("delete_{kind}_policy"), **name, PolicyName="p", **gone.no_such())


@pytest.mark.parametrize(
    "doc,message",
    [
        pytest.param("{not json", "Syntax errors in policy.", id="not-json"),
        pytest.param(json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
                     "Policy document must be version 2012-10-17 or greater.", id="no-version"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
                     "Policy statement must contain actions.", id="no-action"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
                     "Policy statement must contain resources.", id="no-resource"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}),
                     "Syntax errors in policy.", id="no-effect"),
        pytest.param(json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"}]}),
                     "Policy document should not specify a principal.", id="principal"),
    ],
)
def test_put_inline_policy_with_a_malformed_document_is_malformed_policy_document(entity, doc, message):
    fails(entity.method("put_{kind}_policy"), **{entity.key: entity.name}, PolicyName="bad", PolicyDocument=doc,
          **expect.malformed(message))
    assert ok(entity.list_inline())["PolicyNames"] == []


def test_put_inline_policy_with_an_invalid_name_is_a_validation_error(entity):
    fails(entity.method("put_{kind}_policy"), **{entity.key: entity.name}, PolicyName="bad name",
          PolicyDocument=S3_READ,
          **expect.validation_error("bad name", "policyName",
                                    r"Member must satisfy regular expression pattern: [\w+=,.@-]+"))


# IAM counts inline policies without whitespace, all of an entity's together; exactly how it
# counts near the limit is not documented, so the sizes below keep a margin.


def test_inline_policies_within_the_aggregate_size_are_accepted(entity):
    quota = INLINE_QUOTA[entity.kind]
    empty_ok(entity.put("first", inline_document(quota // 2)))
    empty_ok(entity.put("second", inline_document(quota // 2 - 200)))
    assert ok(entity.list_inline())["PolicyNames"] == ["first", "second"]


def test_inline_policies_over_the_aggregate_size_are_limit_exceeded(entity):
    quota = INLINE_QUOTA[entity.kind]
    entity.put("first", inline_document(quota // 2))
    fails(entity.method("put_{kind}_policy"), **{entity.key: entity.name}, PolicyName="second",
          PolicyDocument=inline_document(quota // 2 + 400), code="LimitExceeded", status=409,
          message=f"Maximum policy size of {quota} bytes exceeded for {entity.kind} {entity.name}")
    assert ok(entity.list_inline())["PolicyNames"] == ["first"]


def test_one_inline_policy_over_the_size_is_limit_exceeded(entity):
    quota = INLINE_QUOTA[entity.kind]
    fails(entity.method("put_{kind}_policy"), **{entity.key: entity.name}, PolicyName="huge",
          PolicyDocument=inline_document(quota + 600), code="LimitExceeded", status=409,
          message=f"Maximum policy size of {quota} bytes exceeded for {entity.kind} {entity.name}")


def test_replacing_an_inline_policy_counts_only_its_new_size(entity):
    quota = INLINE_QUOTA[entity.kind]
    entity.put("big", inline_document(quota - 300))
    # The replaced document no longer counts: a same-size replacement fits.
    empty_ok(entity.put("big", inline_document(quota - 300, action="s3:PutObject")))
    assert ok(entity.get("big"))["PolicyDocument"]["Statement"][0]["Action"] == "s3:PutObject"


def test_whitespace_does_not_count_toward_the_inline_size(entity):
    quota = INLINE_QUOTA[entity.kind]
    compact = inline_document(quota - 300)
    spaced = json.dumps(json.loads(compact), indent=300)
    assert len(spaced) > quota + 1000
    empty_ok(entity.put("spaced", spaced))
    assert ok(entity.get("spaced"))["PolicyDocument"] == json.loads(compact)


def test_deleting_an_inline_policy_frees_its_size(entity):
    quota = INLINE_QUOTA[entity.kind]
    entity.put("first", inline_document(quota - 300))
    entity.delete_inline("first")
    empty_ok(entity.put("second", inline_document(quota - 300)))


def test_delete_entity_with_an_inline_policy_is_delete_conflict(entity):
    entity.put("inline", S3_READ)
    fails(entity.method("delete_{kind}"), **{entity.key: entity.name},
          **expect.delete_conflict("Cannot delete entity, must delete policies first."))
    entity.delete_inline("inline")
    empty_ok(entity.delete())


def test_inline_policy_names_are_per_entity(iam, new_user, new_role):
    user, role = new_user()["UserName"], new_role()["RoleName"]
    iam.put_user_policy(UserName=user, PolicyName="shared", PolicyDocument=S3_READ)
    iam.put_role_policy(RoleName=role, PolicyName="shared", PolicyDocument=S3_READ)
    iam.delete_user_policy(UserName=user, PolicyName="shared")
    assert ok(iam.list_role_policies(RoleName=role))["PolicyNames"] == ["shared"]

