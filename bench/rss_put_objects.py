#!/usr/bin/env python3
"""What uploads cost a server's memory: 48 parallel PutObject requests of 32 MiB each,
sent unsigned-payload over plain HTTP, against a running oxiam (its pid given, to read its
RSS). Phases, each reporting the server's RSS and its peak (VmHWM) after it:
  1. a user with no permissions (refused on the head: the body need not be read);
  2. a user who may put objects in the bucket (the bodies are stored).

    bench/rss_put_objects.py ENDPOINT PID     (run by bench/rss.sh)
"""
import concurrent.futures
import sys

import boto3

from rss_delete_objects import BUCKET, PARALLEL, ROOT, rss, send_streamed, user

SIZE = 32 << 20


def put_object(endpoint: str, credentials: tuple[str, str], key: str) -> str:
    """One PutObject of SIZE bytes; its status and code."""
    answer, _ = send_streamed("PUT", f"{endpoint}/{BUCKET}/{key}", credentials, SIZE, bytes(range(256)) * 256)
    return answer


def phase(endpoint: str, pid: int, label: str, credentials: tuple[str, str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda i: put_object(endpoint, credentials, f"{label[:2]}-{i}"), range(PARALLEL)))
    print(f"{label}: {PARALLEL} x {SIZE >> 20} MiB: {sorted(set(answers))}; server {rss(pid)}")


def main() -> None:
    endpoint, pid = sys.argv[1], int(sys.argv[2])
    session = boto3.session.Session(aws_access_key_id=ROOT[0], aws_secret_access_key=ROOT[1], region_name="us-east-1")
    iam = session.client("iam", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint, config=boto3.session.Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    nobody = user(iam, "rss-nobody", None)
    putter = user(iam, "rss-putter", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
    print(f"before: server {rss(pid)}")
    phase(endpoint, pid, "no permissions", nobody)
    phase(endpoint, pid, "may put", putter)


if __name__ == "__main__":
    main()
