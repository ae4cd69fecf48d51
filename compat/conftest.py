"""Fixtures of the compatibility suite: one real oxiam server per pytest session.

The backend is chosen with OXIAM_COMPAT_BACKEND:
  sqlite   (default) the embedded database in a fresh temporary data directory;
  postgres           the database named by OXIAM_COMPAT_DATABASE_URL, which must be fresh
                     (run.sh creates one per run and drops it afterwards).
The binary is OXIAM_BIN, or target/debug/oxiam of this repository.
"""

import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from expect import NO_RETRY
from model_check import watch

REPO = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
STARTUP_TIMEOUT = 30
SHUTDOWN_TIMEOUT = 20


@dataclass
class Server:
    endpoint: str
    account_id: str
    root_key_id: str
    root_secret: str
    backend: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _oxiam_binary():
    binary = Path(os.environ.get("OXIAM_BIN", REPO / "target" / "debug" / "oxiam"))
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.exit(
            f"oxiam binary not found at {binary}: run `cargo build --bin oxiam` first "
            "(or point OXIAM_BIN at it)",
            returncode=2,
        )
    return binary


def _backend_args(backend):
    if backend == "sqlite":
        return []
    if backend == "postgres":
        url = os.environ.get("OXIAM_COMPAT_DATABASE_URL")
        if not url:
            pytest.exit(
                "OXIAM_COMPAT_BACKEND=postgres needs OXIAM_COMPAT_DATABASE_URL "
                "(a fresh, empty database; compat/run.sh creates one)",
                returncode=2,
            )
        return ["--database-url", url]
    pytest.exit(f"unknown OXIAM_COMPAT_BACKEND {backend!r} (sqlite | postgres)", returncode=2)


def pytest_report_header(config):
    return f"oxiam backend: {os.environ.get('OXIAM_COMPAT_BACKEND', 'sqlite')}"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Starts one oxiam server for the session; at the end stops it with SIGTERM and
    asserts that it shut down gracefully (exit status 0)."""
    backend = os.environ.get("OXIAM_COMPAT_BACKEND", "sqlite")
    yield from serve(tmp_path_factory, backend, _backend_args(backend))


def serve(tmp_path_factory, backend, extra, scheme="http"):
    """A generator for a fixture: starts `oxiam serve` with `extra` arguments on a free
    port of 127.0.0.1 (which the test certificate names, for https), yields its Server,
    then stops it with SIGTERM and asserts a graceful exit."""
    binary = _oxiam_binary()
    data_dir = tmp_path_factory.mktemp("oxiam-data")
    log_path = tmp_path_factory.mktemp("oxiam-log") / "oxiam.log"
    port = _free_port()
    root_key_id = "AKIA" + "".join(secrets.choice(BASE32) for _ in range(16))
    root_secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(40))
    env = dict(os.environ)
    env.update(
        OXIAM_ACCOUNT_ID=ACCOUNT_ID,
        OXIAM_ROOT_ACCESS_KEY_ID=root_key_id,
        OXIAM_ROOT_SECRET_ACCESS_KEY=root_secret,
        OXIAM_LOG=env.get("OXIAM_LOG", "info,sqlx=warn"),
        NO_COLOR="1",
    )
    env.pop("OXIAM_DATABASE_URL", None)
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir), *extra],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    srv = Server(
        endpoint=f"{scheme}://127.0.0.1:{port}",
        account_id=ACCOUNT_ID,
        root_key_id=root_key_id,
        root_secret=root_secret,
        backend=backend,
        data_dir=data_dir,
        log_path=log_path,
        process=process,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                log.close()
                pytest.exit(
                    f"oxiam exited with status {process.returncode} during startup:\n{srv.log_tail()}",
                    returncode=3,
                )
            if _port_answers(port) and "oxiam is listening" in log_path.read_text(errors="replace"):
                break
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                log.close()
                pytest.exit(f"oxiam did not listen within {STARTUP_TIMEOUT}s:\n{srv.log_tail()}", returncode=3)
            time.sleep(0.05)

        yield srv

        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            log.close()
            pytest.fail(f"oxiam did not stop within {SHUTDOWN_TIMEOUT}s of SIGTERM:\n{srv.log_tail()}")
        log.close()
        assert status == 0, f"oxiam exited with status {status} after SIGTERM:\n{srv.log_tail()}"
    finally:
        # Whatever ended the session (a failure, Ctrl-C), no server is left behind.
        if process.poll() is None:
            process.kill()
            process.wait()
        if not log.closed:
            log.close()


# --- clients -----------------------------------------------------------------------------



# The suite's S3 clients put the bucket in the path (oxiam also takes it in the host name,
# BUCKET.localhost, which test_s3_clients.py tries with real clients).
S3_PATH_STYLE = Config(s3={"addressing_style": "path"})


def _config(service, config):
    cfg = NO_RETRY.merge(Config(**config)) if config else NO_RETRY
    return S3_PATH_STYLE.merge(cfg) if service == "s3" else cfg


def make_client(server, service, key_id, secret, region="us-east-1", token=None, **config):
    """A boto3 client signing with that key (and session token); S3 clients are path-style.
    IAM and STS clients fail any answer with an element the model does not define."""
    return watch(boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=_config(service, config),
    ))


def make_resource(server, service, key_id, secret, region="us-east-1", token=None, **config):
    """A boto3 resource (iam, s3) signing with that key, configured as make_client does."""
    resource = boto3.session.Session().resource(
        service,
        endpoint_url=server.endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=_config(service, config),
    )
    watch(resource.meta.client)
    return resource


@pytest.fixture(scope="session")
def account_id(server):
    return server.account_id


@pytest.fixture(scope="session")
def iam(server):
    """IAM client signed with the account root's key (region us-east-1)."""
    return make_client(server, "iam", server.root_key_id, server.root_secret)


@pytest.fixture(scope="session")
def iam_raw(server):
    """IAM client as the account root that sends parameters botocore itself would refuse
    (no client-side validation), to see the server's ValidationError."""
    return make_client(server, "iam", server.root_key_id, server.root_secret, parameter_validation=False)


@pytest.fixture(scope="session")
def sts(server):
    """STS client signed with the account root's key (region us-east-1)."""
    return make_client(server, "sts", server.root_key_id, server.root_secret)


@pytest.fixture(scope="session")
def iam_resource(server):
    """boto3 IAM resource (iam.User(name), iam.CurrentUser(), ...) as the account root."""
    return make_resource(server, "iam", server.root_key_id, server.root_secret)


@pytest.fixture
def client_for(server):
    """client_for(service, key_id, secret, region='us-east-1', token=None, **config) -> a boto3
    client with that key (temporary credentials: with their session token)."""

    def build(service, key_id, secret, region="us-east-1", token=None, **config):
        return make_client(server, service, key_id, secret, region, token, **config)

    return build


@pytest.fixture
def resource_for(server):
    """resource_for(service, key_id, secret, region='us-east-1', token=None, **config) -> a
    boto3 resource with that key."""

    def build(service, key_id, secret, region="us-east-1", token=None, **config):
        return make_resource(server, service, key_id, secret, region, token, **config)

    return build


@pytest.fixture(scope="session")
def s3(server):
    """S3 client signed with the account root's key (region us-east-1, path-style)."""
    return make_client(server, "s3", server.root_key_id, server.root_secret)


# --- names and clean-up --------------------------------------------------------------------

_counter = itertools.count(1)


@pytest.fixture
def unique_name(request):
    """unique_name(label='') -> a user name no other test uses: valid ([\\w+=,.@-], <= 64)."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:28].strip("-")

    def make(label=""):
        parts = ["c", base, label, f"{next(_counter)}{secrets.token_hex(3)}"]
        return "-".join(p for p in parts if p)[:64]

    return make


@pytest.fixture
def unique_path(request):
    """unique_path() -> a path like /compat/<test>-<random>/ that no other test uses."""

    def make():
        base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name.removeprefix("test_"))[:30].strip("-")
        return f"/compat/{base}-{secrets.token_hex(4)}/"

    return make


def _gone_is_fine(delete):
    """Runs `delete()`; an entity that is already gone (NoSuchEntity) is fine."""
    try:
        delete()
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchEntity":
            raise


def _delete_clearing_first_if_needed(delete, clear):
    """Runs `delete()`; on DeleteConflict runs `clear()` (removing what is in the way) and
    `delete()` again. An entity that is already gone is fine."""

    def attempt():
        try:
            delete()
        except ClientError as e:
            if e.response["Error"]["Code"] != "DeleteConflict":
                raise
            clear()
            delete()

    _gone_is_fine(attempt)


def delete_user_completely(iam, name):
    """Deletes a user, first (if they are in the way) its access keys, SSH public keys,
    signing certificates, service-specific credentials, attached and inline policies and group memberships (what
    Terraform's force_destroy clears); a user that is already gone is fine."""

    def clear():
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        for key in iam.list_ssh_public_keys(UserName=name)["SSHPublicKeys"]:
            iam.delete_ssh_public_key(UserName=name, SSHPublicKeyId=key["SSHPublicKeyId"])
        for cert in iam.list_signing_certificates(UserName=name)["Certificates"]:
            iam.delete_signing_certificate(UserName=name, CertificateId=cert["CertificateId"])
        for c in iam.list_service_specific_credentials(UserName=name)["ServiceSpecificCredentials"]:
            iam.delete_service_specific_credential(UserName=name,
                                                   ServiceSpecificCredentialId=c["ServiceSpecificCredentialId"])
        for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=policy_name)
        for group in iam.list_groups_for_user(UserName=name)["Groups"]:
            iam.remove_user_from_group(GroupName=group["GroupName"], UserName=name)

    _delete_clearing_first_if_needed(lambda: iam.delete_user(UserName=name), clear)


def delete_role_completely(iam, name):
    """Deletes a role, taking it out of its instance profiles, detaching its managed policies
    and deleting its inline ones first if they are in the way."""

    def clear():
        for profile in iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
            iam.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)

    _delete_clearing_first_if_needed(lambda: iam.delete_role(RoleName=name), clear)


def delete_group_completely(iam, name):
    """Deletes a group, first removing its members and its policies if they are in the way."""

    def clear():
        for user in iam.get_group(GroupName=name, MaxItems=1000)["Users"]:
            iam.remove_user_from_group(GroupName=name, UserName=user["UserName"])
        for policy in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]:
            iam.detach_group_policy(GroupName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_group_policies(GroupName=name)["PolicyNames"]:
            iam.delete_group_policy(GroupName=name, PolicyName=policy_name)

    _delete_clearing_first_if_needed(lambda: iam.delete_group(GroupName=name), clear)


def delete_policy_completely(iam, arn):
    """Deletes a customer managed policy, first detaching it from every entity and deleting its
    other versions if they are in the way."""

    def clear():
        entities = iam.list_entities_for_policy(PolicyArn=arn)
        for user in entities["PolicyUsers"]:
            _gone_is_fine(lambda: iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn))
        for group in entities["PolicyGroups"]:
            _gone_is_fine(lambda: iam.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn))
        for role in entities["PolicyRoles"]:
            _gone_is_fine(lambda: iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn))
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])

    _delete_clearing_first_if_needed(lambda: iam.delete_policy(PolicyArn=arn), clear)


def delete_bucket_completely(s3, name):
    """Empties a bucket (as its owner) and deletes it; a bucket that is already gone is fine."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=name)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NoSuchBucket":
            raise


@pytest.fixture
def cleanup_buckets(s3):
    """A list to append bucket names (owned by the account) to: each is emptied and deleted
    after the test."""
    names = []
    yield names
    for name in names:
        delete_bucket_completely(s3, name)


@pytest.fixture
def new_bucket(s3, request, cleanup_buckets):
    """new_bucket(label='') -> the name of a fresh bucket the account root created (us-east-1),
    emptied and deleted after the test."""

    def create(label=""):
        base = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:30].strip("-")
        name = "-".join(p for p in ["compat", base, label, f"{next(_counter)}{secrets.token_hex(3)}"] if p)[:63]
        cleanup_buckets.append(name)
        s3.create_bucket(Bucket=name)
        return name

    return create


@pytest.fixture
def cleanup_users(iam):
    """A list to append user names to: each is deleted (keys first) after the test."""
    names = []
    yield names
    for name in names:
        delete_user_completely(iam, name)


@pytest.fixture
def new_user(iam, unique_name, cleanup_users):
    """new_user(path='/', **create_kwargs) -> the CreateUser response's User, removed after the test."""

    def create(path=None, name=None, **kwargs):
        name = name or unique_name()
        args = dict(UserName=name, **kwargs)
        if path is not None:
            args["Path"] = path
        user = iam.create_user(**args)["User"]
        cleanup_users.append(user["UserName"])
        return user

    return create


@pytest.fixture
def cleanup_roles(iam):
    """A list to append role names to: each is deleted (policies first) after the test."""
    names = []
    yield names
    for name in names:
        delete_role_completely(iam, name)


@pytest.fixture
def cleanup_groups(iam):
    """A list to append group names to: each is emptied and deleted after the test."""
    names = []
    yield names
    for name in names:
        delete_group_completely(iam, name)


@pytest.fixture
def cleanup_policies(iam):
    """A list to append customer managed policy ARNs to: each is detached and deleted after
    the test."""
    arns = []
    yield arns
    for arn in arns:
        delete_policy_completely(iam, arn)


# A trust policy that lets Lambda assume a role, and an identity policy, as JSON text.
LAMBDA_TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)
S3_READ = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::compat-bucket/*"}]}'
)


@pytest.fixture
def new_role(iam, unique_name, cleanup_roles):
    """new_role(name=None, trust=LAMBDA_TRUST, **create_kwargs) -> CreateRole's Role, removed
    after the test."""

    def create(name=None, trust=LAMBDA_TRUST, **kwargs):
        role = iam.create_role(RoleName=name or unique_name(), AssumeRolePolicyDocument=trust, **kwargs)["Role"]
        cleanup_roles.append(role["RoleName"])
        return role

    return create


@pytest.fixture
def new_group(iam, unique_name, cleanup_groups):
    """new_group(name=None, **create_kwargs) -> CreateGroup's Group, removed after the test."""

    def create(name=None, **kwargs):
        group = iam.create_group(GroupName=name or unique_name(), **kwargs)["Group"]
        cleanup_groups.append(group["GroupName"])
        return group

    return create


@pytest.fixture
def new_policy(iam, unique_name, cleanup_policies):
    """new_policy(name=None, document=S3_READ, **create_kwargs) -> CreatePolicy's Policy,
    removed (detached first) after the test."""

    def create(name=None, document=S3_READ, **kwargs):
        policy = iam.create_policy(PolicyName=name or unique_name(), PolicyDocument=document, **kwargs)["Policy"]
        cleanup_policies.append(policy["Arn"])
        return policy

    return create


@pytest.fixture
def user_with_key(iam, new_user):
    """user_with_key(**create_kwargs) -> (User, AccessKey): a fresh user with one access key."""

    def create(**kwargs):
        user = new_user(**kwargs)
        key = iam.create_access_key(UserName=user["UserName"])["AccessKey"]
        return user, key

    return create


# --- diagnostics ------------------------------------------------------------------------------

_session_server = {}


@pytest.fixture(scope="session", autouse=True)
def _remember_server(server):
    _session_server["server"] = server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows the server log lines written while it ran."""
    outcome = yield
    report = outcome.get_result()
    srv = _session_server.get("server")
    if srv is None:
        return
    if call.when == "setup":
        try:
            item._oxiam_log_offset = srv.log_path.stat().st_size
        except OSError:
            item._oxiam_log_offset = 0
    if report.failed:
        start = getattr(item, "_oxiam_log_offset", 0)
        try:
            with open(srv.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
        except OSError:
            return
        lines = [line for line in text.splitlines() if " INFO " not in line] or text.splitlines()
        report.sections.append(("oxiam server log (non-INFO lines while the test ran)", "\n".join(lines[-60:])))


# --- the AWS CLI ---------------------------------------------------------------------------


def _aws_binary():
    here = Path(sys.executable).parent / "aws"
    if here.exists():
        return str(here)
    found = shutil.which("aws")
    if not found:
        pytest.skip("the AWS CLI is not installed (compat/run.sh installs it into compat/.venv)")
    return found


@pytest.fixture(scope="module")
def aws(server):
    """aws(*args, key=(id, secret), region=...) -> CompletedProcess of `aws ... --output json`."""
    binary = _aws_binary()

    def run(*args, key=None, region="us-east-1", check=True):
        key_id, secret = key or (server.root_key_id, server.root_secret)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        }
        proc = subprocess.run(
            [binary, *args, "--output", "json"], env=env, capture_output=True, text=True, timeout=60
        )
        if check:
            assert proc.returncode == 0, (args, proc.returncode, proc.stderr)
        return proc

    return run
