#!/usr/bin/env python3
"""Generates oxiam's catalogue of AWS service-linked roles from public sources.

AWS publishes no machine-readable list of service-linked roles. Two public sources give one:

1. LocalStack (Apache-2.0) keeps `localstack/services/iam/resources/service_linked_roles.py`:
   for each service principal, the role's name, its one attached AWS managed policy, and
   whether CreateServiceLinkedRole takes a `CustomSuffix`. LocalStack's tests of every entry
   (`TestIAMServiceRoles`) run against real AWS. `--fetch` downloads the pinned
   `localstack-core` wheel, checks its sha256, reads that file with zipfile and
   `ast.literal_eval` (LocalStack is never imported), and keeps an extract with the licence
   under `models/service-linked-roles/`.
2. AWS's own managed policies (already packaged in `crates/oxiam-aws-policies`) grant
   `iam:CreateServiceLinkedRole` on `arn:aws:iam::*:role/aws-service-role/PRINCIPAL/NAME`:
   each exact ARN names a service's role. These rows have a name only: no attached policy,
   and no custom suffix (AWS's rule for them is not recorded).

    python3 codegen/gen-service-linked-roles.py            # models/ + policies -> Rust
    python3 codegen/gen-service-linked-roles.py --fetch    # the pinned wheel -> models/, then as above

CI runs the first form and fails on any difference. To move to a newer LocalStack: change
LOCALSTACK_VERSION and LOCALSTACK_WHEEL_SHA256 (printed when it does not match), run with
--fetch, review the diff.
"""

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

LOCALSTACK_VERSION = "2026.3.0"
LOCALSTACK_WHEEL = f"localstack_core-{LOCALSTACK_VERSION}-py3-none-any.whl"
LOCALSTACK_WHEEL_SHA256 = "7e38343ae0f63d15e64ab5d9fd73a2125a956a6050a976bf59a9c106d51218ab"
MEMBER = "localstack/services/iam/resources/service_linked_roles.py"
LICENSE_MEMBER = f"localstack_core-{LOCALSTACK_VERSION}.dist-info/licenses/LICENSE.txt"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models", "service-linked-roles")
EXTRACT = os.path.join(MODELS, "localstack.json")
POLICIES_RS = os.path.join(ROOT, "crates", "oxiam-aws-policies", "src", "generated.rs")
OUTPUT = os.path.join(ROOT, "crates", "oxiam-aws-policies", "src", "service_linked_roles.rs")

POLICY_ARN_PREFIX = "arn:aws:iam::aws:policy/"
# An exact role ARN in a policy document: principal and name, no wildcard in either.
ROLE_ARN = re.compile(r'arn:aws:iam::\*:role/aws-service-role/([a-z0-9.-]+\.amazonaws\.com)/([\w+=,.@-]+)"')
# What a row may hold, whatever its source: the path and ARN oxiam builds from them must
# split back the same way.
PRINCIPAL = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com")
ROLE_NAME = re.compile(r"AWSServiceRoleFor[\w+=,.@-]{1,47}")
# Attached policies LocalStack names that AWS's current managed policies do not hold: the
# role is made without them. Any other missing policy fails the generation.
UNPACKAGED_POLICIES = {"aws-service-role/AmazonLexBotPolicy"}


def fail(message):
    print(f"gen-service-linked-roles: {message}", file=sys.stderr)
    sys.exit(1)


def fetch():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"localstack-core=={LOCALSTACK_VERSION}", "--no-deps",
             "--only-binary=:all:", "--disable-pip-version-check", "-d", tmp],
            check=True, stdout=subprocess.DEVNULL)
        path = os.path.join(tmp, LOCALSTACK_WHEEL)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != LOCALSTACK_WHEEL_SHA256:
            fail(f"{LOCALSTACK_WHEEL} has sha256 {digest}, pinned is {LOCALSTACK_WHEEL_SHA256}")
        with zipfile.ZipFile(path) as wheel:
            source = wheel.read(MEMBER).decode()
            licence = wheel.read(LICENSE_MEMBER)
    tree = ast.parse(source)
    table = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SERVICE_LINKED_ROLES" for t in node.targets):
            table = ast.literal_eval(node.value)
    if not table:
        fail(f"no SERVICE_LINKED_ROLES in {MEMBER}")
    rows = []
    for principal, entry in sorted(table.items()):
        policies = entry["attached_policies"]
        rows.append({
            "principal": principal,
            "role_name": entry["role_name"],
            "policies": sorted(p.removeprefix(POLICY_ARN_PREFIX) for p in policies),
            "suffix_allowed": bool(entry["suffix_allowed"]),
        })
    os.makedirs(MODELS, exist_ok=True)
    with open(EXTRACT, "w") as f:
        json.dump({"source": f"{LOCALSTACK_WHEEL} (sha256 {LOCALSTACK_WHEEL_SHA256}), {MEMBER}", "roles": rows}, f,
                  indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(MODELS, "LICENSE-localstack"), "wb") as f:
        f.write(licence)


def packaged_policies():
    """The packaged AWS managed policies: {path + name: document}."""
    text = open(POLICIES_RS).read()
    policies = {}
    for match in re.finditer(r'path: "([^"]*)",\s*arn: "arn:aws:iam::aws:policy([^"]*)",.*?document: r#"(.*?)"#', text,
                             re.S):
        path, path_and_name, document = match.groups()
        policies[path_and_name.lstrip("/")] = document
    if len(policies) < 1000:
        fail(f"read only {len(policies)} policies from {POLICIES_RS}")
    return policies


def build():
    with open(EXTRACT) as f:
        extract = json.load(f)
    policies = packaged_policies()
    roles = {}
    for row in extract["roles"]:
        missing = [p for p in row["policies"] if p not in policies and p not in UNPACKAGED_POLICIES]
        if missing:
            fail(f"{row['principal']} attaches {missing}, which the packaged AWS managed policies do not hold")
        attached = [p for p in row["policies"] if p in policies]
        roles[row["principal"]] = (row["role_name"], attached, row["suffix_allowed"])
    taken = {name for name, _, _ in roles.values()}
    found = {}
    for document in policies.values():
        for principal, name in ROLE_ARN.findall(document):
            found.setdefault(principal, set()).add(name)
    for principal, names in sorted(found.items()):
        if principal in roles or len(names) != 1:
            continue
        (name,) = names
        # Role names are unique in an account: a name another principal's role has is not
        # this principal's own (elasticbeanstalk's helpers name the parent's role).
        if name in taken:
            continue
        taken.add(name)
        roles[principal] = (name, [], False)
    for principal, (name, _, _) in roles.items():
        if not PRINCIPAL.fullmatch(principal) or not ROLE_NAME.fullmatch(name):
            fail(f"unexpected service principal or role name: {principal!r} {name!r}")
    return extract["source"], roles


def render(source, roles):
    out = [
        f"// @generated by codegen/gen-service-linked-roles.py from {source} and the packaged AWS",
        "// managed policies' documents; do not edit.",
        "//! AWS services' service-linked roles, by service principal (sorted).",
        "",
        "use crate::ServiceLinkedRole;",
        "",
        "/// Every service-linked role oxiam knows, sorted by service principal (byte order).",
        "pub(crate) static SERVICE_LINKED_ROLES: &[ServiceLinkedRole] = &[",
    ]
    for principal, (name, attached, suffix) in sorted(roles.items()):
        quoted = [json.dumps(POLICY_ARN_PREFIX + p) for p in attached]
        one_line = f"        attached_policies: &[{', '.join(quoted)}],"
        # As rustfmt writes it: one line if it fits in 120 columns, else one policy a line.
        policies = [one_line] if len(one_line) <= 120 else (
            ["        attached_policies: &["] + [f"            {q}," for q in quoted] + ["        ],"])
        out += [
            "    ServiceLinkedRole {",
            f"        service_principal: {json.dumps(principal)},",
            f"        role_name: {json.dumps(name)},",
            *policies,
            f"        custom_suffix_allowed: {'true' if suffix else 'false'},",
            "    },",
        ]
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fetch", action="store_true", help="download the pinned wheel into models/ first")
    args = parser.parse_args()
    if args.fetch:
        fetch()
    source, roles = build()
    text = render(source, roles)
    with open(OUTPUT, "w") as f:
        f.write(text)
    print(f"gen-service-linked-roles: {len(roles)} roles -> {os.path.relpath(OUTPUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
