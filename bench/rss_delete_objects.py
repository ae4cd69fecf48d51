#!/usr/bin/env python3
"""What DeleteObjects bodies cost a server's memory: 48 parallel requests, each announcing
a large XML body and sending it, against a running oxiam (its pid given, to read its RSS).

Phases, each reporting the server's RSS and its peak (VmHWM) after it:
  1. a user with no permissions, 20 MB bodies (over the 4 MiB XML cap: refused on the head);
  2. the same user, bodies just under the cap (may delete nothing there: refused on the
     head, nothing read);
  3. a user who may delete in the bucket, 20 MB bodies (over the cap: refused on the head);
  4. the same user, bodies just under the cap (read whole: the bounded worst case).

    bench/rss_delete_objects.py ENDPOINT PID     (run by bench/rss.sh)
"""
import concurrent.futures
import json
import socket
import sys
import urllib.parse

import boto3
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


class UnsignedPayload(S3SigV4Auth):
    """SigV4 with `x-amz-content-sha256: UNSIGNED-PAYLOAD` (botocore signs the payload's hash
    over plain HTTP otherwise, and the body here is not in the request it signs)."""

    def payload(self, request):
        return "UNSIGNED-PAYLOAD"
PARALLEL = 48
BUCKET = "rss-bench"


def rss(pid: int) -> str:
    fields = dict(
        line.split(":", 1) for line in open(f"/proc/{pid}/status") if line.startswith(("VmRSS", "VmHWM"))
    )
    return f"RSS {fields['VmRSS'].strip()}, peak {fields['VmHWM'].strip()}"


def user(iam, name: str, policy: dict | None) -> tuple[str, str]:
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def send_streamed(method: str, url: str, credentials: tuple[str, str], size: int, chunk: bytes) -> tuple[str, int]:
    """One request announcing `size` bytes (`chunk` repeated), signed `UNSIGNED-PAYLOAD`,
    sent as far as the server reads; its status and error code, and the bytes sent."""
    request = AWSRequest(method=method, url=url, headers={"content-length": str(size)})
    UnsignedPayload(Credentials(*credentials), "s3", "us-east-1").add_auth(request)
    parts = urllib.parse.urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    head = f"{method} {target} HTTP/1.1\r\nhost: {parts.netloc}\r\nconnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in request.headers.items() if k.lower() != "host")
    sock = socket.create_connection((parts.hostname, parts.port), timeout=120)
    try:
        sock.sendall((head + "\r\n").encode())
        sent = 0
        try:
            while sent < size:
                n = min(len(chunk), size - sent)
                sock.sendall(chunk[:n])
                sent += n
        except OSError:
            pass  # the server answered and closed before the whole body was sent
        answer = b""
        while more := sock.recv(4096):  # `connection: close`: the answer ends with the connection
            answer += more
        text = answer.decode(errors="replace")
        status = text.split("\r\n", 1)[0].removeprefix("HTTP/1.1 ")
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""
        return f"{status} {code}".strip(), sent
    finally:
        sock.close()


def delete_objects(endpoint: str, credentials: tuple[str, str], size: int) -> str:
    """One DeleteObjects announcing `size` bytes; its status line."""
    chunk = b"<Delete>" + b" " * (64 * 1024 - 8)
    answer, sent = send_streamed("POST", f"{endpoint}/{BUCKET}?delete", credentials, size, chunk)
    return f"{answer} after {sent // (1 << 20)} MiB sent"


def phase(endpoint: str, pid: int, label: str, credentials: tuple[str, str], size: int) -> None:
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda _: delete_objects(endpoint, credentials, size), range(PARALLEL)))
    statuses = sorted({a.split(" after ")[0] for a in answers})
    print(f"{label}: {PARALLEL} x {size / (1 << 20):.1f} MiB: {statuses}; server {rss(pid)}")


def main() -> None:
    endpoint, pid = sys.argv[1], int(sys.argv[2])
    session = boto3.session.Session(aws_access_key_id=ROOT[0], aws_secret_access_key=ROOT[1], region_name="us-east-1")
    iam = session.client("iam", endpoint_url=endpoint)
    s3 = session.client("s3", endpoint_url=endpoint, config=boto3.session.Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=BUCKET)
    nobody = user(iam, "rss-nobody", None)
    deleter = user(iam, "rss-deleter", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
    print(f"before: server {rss(pid)}")
    phase(endpoint, pid, "no permissions, over the cap", nobody, 20 << 20)
    phase(endpoint, pid, "no permissions, under the cap", nobody, (4 << 20) - 1024)
    phase(endpoint, pid, "may delete, over the cap", deleter, 20 << 20)
    phase(endpoint, pid, "may delete, under the cap", deleter, (4 << 20) - 1024)


if __name__ == "__main__":
    main()
