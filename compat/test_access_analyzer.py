"""IAM Access Analyzer's policy checks over restJson1 (`POST /policy/validation`, …), with
boto3's `accessanalyzer` client: ValidatePolicy (oxiam's lint), CheckAccessNotGranted,
CheckNoNewAccess and CheckNoPublicAccess. Each request is signed for `access-analyzer` and authorized as
`access-analyzer:{Operation}`; errors carry their code in `x-amzn-ErrorType` and a
`{"message"}` body."""

import json
import os

import pytest

from expect import REQUEST_ID, error_of

ALLOW_GET = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"},
    ],
}


@pytest.fixture
def analyzer(server):
    from conftest import make_client

    return make_client(server, "accessanalyzer", server.root_key_id, server.root_secret)


def answered(response):
    """A successful restJson1 answer: 200, JSON, a request id; the response without metadata."""
    meta = response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert REQUEST_ID.match(meta["RequestId"]), meta
    assert meta["HTTPHeaders"]["content-type"] == "application/json"
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def refused(call, *, code, status, **kwargs):
    """A restJson1 error: its code (from x-amzn-ErrorType), status and message."""
    response = error_of(call, **kwargs)
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == code
    assert response["Error"]["Message"], response
    return response


def test_validate_policy_reports_findings_with_their_place(analyzer):
    document = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}, indent=2
    )
    found = answered(analyzer.validate_policy(policyDocument=document, policyType="IDENTITY_POLICY"))
    codes = {f["issueCode"]: f for f in found["findings"]}
    assert set(codes) == {"MISSING_VERSION", "INVALID_ACTION"}, found
    invalid = codes["INVALID_ACTION"]
    assert invalid["findingType"] == "ERROR"
    assert "s3:GetObjekt" in invalid["findingDetails"]
    assert invalid["learnMoreLink"].startswith("https://docs.aws.amazon.com/")
    [location] = invalid["locations"]
    assert location["path"] == [{"value": "Statement"}, {"index": 0}, {"value": "Action"}]
    start, end = location["span"]["start"], location["span"]["end"]
    assert document[start["offset"]:end["offset"]] == '"s3:GetObjekt"'
    assert (start["line"], end["line"]) == (5, 5)
    assert codes["MISSING_VERSION"]["findingType"] == "WARNING"


def test_validate_policy_clean_and_paged(analyzer):
    clean = answered(analyzer.validate_policy(policyDocument=json.dumps(ALLOW_GET), policyType="IDENTITY_POLICY"))
    assert clean == {"findings": []}
    # Four unknown actions, one page of two at a time, through boto3's paginator.
    noisy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": [f"s3:Nope{i}" for i in range(4)], "Resource": "*"}],
    })
    pages = list(analyzer.get_paginator("validate_policy").paginate(
        policyDocument=noisy, policyType="IDENTITY_POLICY", PaginationConfig={"PageSize": 2},
    ))
    assert [len(p["findings"]) for p in pages] == [2, 2]
    details = [f["findingDetails"] for p in pages for f in p["findings"]]
    assert [any(f"s3:Nope{i}" in d for d in details) for i in range(4)] == [True] * 4


def test_validate_policy_for_a_resource_type(analyzer):
    """`validatePolicyResourceType`: a bucket policy granting KMS's action on every resource, and
    a trust policy naming a resource, each found wanting only when the type is given."""
    bucket_policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": "*",
        }],
    })

    def codes(document, **kwargs):
        found = answered(analyzer.validate_policy(policyDocument=document, policyType="RESOURCE_POLICY", **kwargs))
        return sorted((f["issueCode"], f["findingType"], [p for p in f["locations"][0]["path"]]) for f in found["findings"])

    assert codes(bucket_policy) == []
    assert codes(bucket_policy, validatePolicyResourceType="AWS::S3::Bucket") == [
        ("UNSUPPORTED_ACTION_IN_POLICY", "ERROR",
         [{"value": "Statement"}, {"index": 0}, {"value": "Action"}, {"index": 1}]),
        ("UNSUPPORTED_RESOURCE_ARN_IN_POLICY", "ERROR",
         [{"value": "Statement"}, {"index": 0}, {"value": "Resource"}]),
    ]
    trust = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole", "Resource": "*",
        }],
    })
    assert codes(trust, validatePolicyResourceType="AWS::IAM::AssumeRolePolicyDocument") == [
        ("ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE", "ERROR",
         [{"value": "Statement"}, {"index": 0}, {"value": "Resource"}]),
    ]
    # A value the model does not list is refused as the model refuses it.
    refused(analyzer.validate_policy, code="ValidationException", status=400, policyDocument=trust,
            policyType="RESOURCE_POLICY", validatePolicyResourceType="AWS::KMS::Key")


def test_check_access_not_granted(analyzer):
    policy = json.dumps(ALLOW_GET)

    def check(access, document=policy):
        return answered(analyzer.check_access_not_granted(
            policyDocument=document, access=[access], policyType="IDENTITY_POLICY",
        ))

    assert check({"actions": ["s3:PutObject"]})["result"] == "PASS"
    granted = check({"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::reports/2026.csv"]})
    assert granted["result"] == "FAIL"
    assert granted["reasons"] == [{
        "description": granted["reasons"][0]["description"], "statementIndex": 0, "statementId": "Read",
    }]
    assert check({"resources": ["arn:aws:s3:::other/x"]})["result"] == "PASS"
    # A wildcard asked about stands for the actions it matches.
    assert check({"actions": ["s3:Get*"]})["result"] == "FAIL"
    # An unconditional Deny takes the access away; a conditional one may not apply.
    denied = dict(ALLOW_GET, Statement=ALLOW_GET["Statement"] + [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
    ])
    assert check({"actions": ["s3:GetObject"]}, json.dumps(denied))["result"] == "PASS"
    conditional = dict(ALLOW_GET, Statement=ALLOW_GET["Statement"] + [
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ])
    assert check({"actions": ["s3:GetObject"]}, json.dumps(conditional))["result"] == "FAIL"


def test_check_no_new_access(analyzer):
    def check(existing, new):
        return answered(analyzer.check_no_new_access(
            existingPolicyDocument=json.dumps(existing), newPolicyDocument=json.dumps(new),
            policyType="IDENTITY_POLICY",
        ))

    reordered = dict(ALLOW_GET, Statement=[
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"},
    ] + ALLOW_GET["Statement"])
    assert check(reordered, dict(reordered, Statement=list(reversed(reordered["Statement"]))))["result"] == "PASS"
    widened = dict(ALLOW_GET, Statement=[
        {"Sid": "Wider", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
    ])
    failed = check(ALLOW_GET, widened)
    assert failed["result"] == "FAIL"
    [reason] = failed["reasons"]
    assert (reason["statementIndex"], reason["statementId"]) == (0, "Wider")
    assert "s3:GetObject" in reason["description"]


def test_check_no_new_access_of_a_resource_policy_names_the_new_caller(analyzer):
    def bucket_policy(*principals):
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "Read", "Effect": "Allow", "Principal": {"AWS": list(principals)},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*",
        }]})

    def check(existing, new):
        return answered(analyzer.check_no_new_access(
            existingPolicyDocument=existing, newPolicyDocument=new, policyType="RESOURCE_POLICY",
        ))

    own = bucket_policy("arn:aws:iam::123456789012:root")
    # The account by its id is the account by its root ARN: nothing new.
    assert check(own, bucket_policy("123456789012"))["result"] == "PASS"
    failed = check(own, bucket_policy("123456789012", "arn:aws:iam::111122223333:role/auditor"))
    assert failed["result"] == "FAIL"
    [reason] = failed["reasons"]
    assert (reason["statementIndex"], reason["statementId"]) == (0, "Read")
    assert "arn:aws:sts::111122223333:assumed-role/auditor/witness" in reason["description"], reason


def test_check_no_public_access(analyzer):
    def check(statement):
        document = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        return answered(analyzer.check_no_public_access(policyDocument=document, resourceType="AWS::S3::Bucket"))

    anyone = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}
    public = check(anyone)
    assert public["result"] == "FAIL"
    assert public["reasons"][0]["statementIndex"] == 0
    in_org = dict(anyone, Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}})
    assert check(in_org)["result"] == "PASS"
    # A condition that limits nothing about who calls leaves it public.
    over_tls = dict(anyone, Condition={"Bool": {"aws:SecureTransport": "true"}})
    assert check(over_tls)["result"] == "FAIL"
    one_account = dict(anyone, Principal={"AWS": "arn:aws:iam::111122223333:root"})
    assert check(one_account)["result"] == "PASS"


def test_errors_are_access_analyzers(server):
    from conftest import make_client

    raw = make_client(server, "accessanalyzer", server.root_key_id, server.root_secret, parameter_validation=False)
    invalid = refused(raw.validate_policy, code="ValidationException", status=400,
                      policyDocument="{}", policyType="NOT_A_TYPE")
    # botocore puts a modeled error's members beside "Error".
    assert invalid["reason"] == "fieldValidationFailed", invalid
    refused(raw.check_access_not_granted, code="InvalidParameterException", status=400,
            policyDocument="not json", access=[{"actions": ["s3:GetObject"]}], policyType="IDENTITY_POLICY")
    forged = make_client(server, "accessanalyzer", server.root_key_id, "x" * 40)
    refused(forged.validate_policy, code="InvalidSignatureException", status=403,
            policyDocument="{}", policyType="IDENTITY_POLICY")
    unknown = make_client(server, "accessanalyzer", "AKIAIOSFODNN7NOTKNOWN", "x" * 40)
    refused(unknown.validate_policy, code="UnrecognizedClientException", status=403,
            policyDocument="{}", policyType="IDENTITY_POLICY")


def test_each_check_is_authorized(iam, user_with_key, client_for):
    user, key = user_with_key()
    client = client_for("accessanalyzer", key["AccessKeyId"], key["SecretAccessKey"])
    document = json.dumps(ALLOW_GET)
    refused(client.validate_policy, code="AccessDeniedException", status=403,
            policyDocument=document, policyType="IDENTITY_POLICY")
    iam.put_user_policy(UserName=user["UserName"], PolicyName="validate", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "access-analyzer:ValidatePolicy", "Resource": "*"},
            {"Effect": "Deny", "Action": "access-analyzer:CheckNoPublicAccess", "Resource": "*"},
        ],
    }))
    assert answered(client.validate_policy(policyDocument=document, policyType="IDENTITY_POLICY"))["findings"] == []
    refused(client.check_access_not_granted, code="AccessDeniedException", status=403,
            policyDocument=document, access=[{"actions": ["s3:GetObject"]}], policyType="IDENTITY_POLICY")
    refused(client.check_no_public_access, code="AccessDeniedException", status=403,
            policyDocument=document, resourceType="AWS::S3::Bucket")


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A server of this module's alone: its thread count is read while checks flood it."""
    from conftest import serve

    yield from serve(tmp_path_factory, "sqlite", [])


def threads_of(process):
    with open(f"/proc/{process.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def test_a_flood_of_checks_holds_a_thread_per_core_not_per_request(own_server):
    """Each check runs on a thread of its own (off the async workers); a caller allowed to ask
    for checks must not make the server start a thread per request in flight. 48 at once, each
    a CheckNoNewAccess whose witness search runs to its bound: the answers all come, and the
    server's threads grow by at most one per core (tokio keeps idle threads for seconds, so a
    thread per request would still be counted after the flood)."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import make_client

    analyzer = make_client(own_server, "accessanalyzer", own_server.root_key_id, own_server.root_secret,
                           max_pool_connections=64)

    def policy(variable):
        # Ten statements: each of the search's requests is weighed against all of them.
        return json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::b{i}/${{{variable}}}/*"}
            for i in range(10)]})

    def check(_):
        return analyzer.check_no_new_access(
            existingPolicyDocument=policy("aws:username"), newPolicyDocument=policy("aws:userid"),
            policyType="IDENTITY_POLICY",
        )["result"]

    # The reference loaded, and the threads a few checks at once start (a worker's place
    # taken over while it checks) started.
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(check, range(8))) == ["FAIL"] * 8
    before = threads_of(own_server.process)
    peak = before
    with ThreadPoolExecutor(max_workers=48) as pool:
        answers = pool.map(check, range(48))
        results = []
        for answer in answers:
            results.append(answer)
            peak = max(peak, threads_of(own_server.process))
    peak = max(peak, threads_of(own_server.process))
    assert results == ["FAIL"] * 48
    assert peak - before <= os.cpu_count() + 2, (before, peak)
