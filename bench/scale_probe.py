#!/usr/bin/env python3
"""One-shot timings at scale, through boto3 against a running endpoint.

Prints, as JSON lines: the first ListUsers page and one deep in the listing (by marker),
GetUser of a user near the end, a credential report (generate, then get: time and size),
and GetAccountAuthorizationDetails pages walked one after another (per-page times). Each
timing is the wall time of boto3's call, which includes signing and parsing on this side.

    AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… bench/scale_probe.py http://127.0.0.1:7345 \
        --users 1000000 --gaad-pages 50
"""
import argparse
import json
import statistics
import time

import boto3
from botocore.config import Config


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def summary(ms):
    ms = sorted(ms)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "max_ms": round(ms[-1], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("endpoint")
    ap.add_argument("--users", type=int, required=True, help="how many bulk users the database holds")
    ap.add_argument("--gaad-pages", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--label", default="")
    args = ap.parse_args()
    iam = boto3.client(
        "iam",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, read_timeout=600),
    )
    out = lambda what, **kv: print(json.dumps({"label": args.label, "users": args.users, "what": what, **kv}), flush=True)

    first = [timed(lambda: iam.list_users(MaxItems=100))[1] for _ in range(args.repeat)]
    out("ListUsers first page (100)", **summary(first))
    # A marker deep in the listing: oxiam's markers are the base64 of the last name's key.
    import base64

    deep_name = f"bulk-{args.users - 200:07d}"
    deep_marker = base64.urlsafe_b64encode(deep_name.encode()).decode().rstrip("=")
    deep = []
    for _ in range(args.repeat):
        page, ms = timed(lambda: iam.list_users(MaxItems=100, Marker=deep_marker))
        assert len(page["Users"]) == 100, len(page["Users"])
        deep.append(ms)
    out(f"ListUsers page after {deep_name} (100)", **summary(deep))
    last = f"bulk-{args.users:07d}"
    got = [timed(lambda: iam.get_user(UserName=last))[1] for _ in range(args.repeat)]
    out(f"GetUser {last}", **summary(got))

    # The report: generate (builds it), then fetch it.
    _, gen_ms = timed(lambda: iam.generate_credential_report())
    report, get_ms = timed(lambda: iam.get_credential_report())
    lines = report["Content"].count(b"\n") + 1
    out(
        "credential report",
        generate_ms=round(gen_ms, 1),
        get_ms=round(get_ms, 1),
        bytes=len(report["Content"]),
        lines=lines,
    )

    # GetAccountAuthorizationDetails, page after page from the start.
    pages, marker, seen = [], None, 0
    for _ in range(args.gaad_pages):
        kwargs = {"MaxItems": 100}
        if marker:
            kwargs["Marker"] = marker
        page, ms = timed(lambda: iam.get_account_authorization_details(**kwargs))
        pages.append(ms)
        seen += len(page["UserDetailList"]) + len(page["GroupDetailList"]) + len(page["RoleDetailList"]) + len(page["Policies"])
        marker = page.get("Marker")
        if not page.get("IsTruncated"):
            break
    out("GetAccountAuthorizationDetails pages (100 each)", entries=seen, **summary(pages))


if __name__ == "__main__":
    main()
