"""The S3 clients people use, run for real against the suite's oxiam server (issue 16):

- rclone (Debian's package), through a remote of type s3, provider Other, configured only by
  RCLONE_CONFIG_OXIAM_* variables: copy, ls, lsf -R, md5sum, check, sync, purge, multipart
  uploads and server-side copies, path-style, and virtual-hosted for a few of them;
- s3cmd (PyPI), path-style and virtual-hosted (`%(bucket)s.localhost:PORT`);
- the AWS SDK for JavaScript v3 (compat/js, installed by `npm ci`), with its default
  virtual-hosted addressing (Host: BUCKET.localhost:PORT) and with forcePathStyle;
- s3fs (fsspec) with pandas, from a virtualenv of their own (compat/.venv-s3fs, since s3fs's
  aiobotocore pins a botocore older than the suite's boto3), running compat/s3fs_client.py:
  ls, find, glob, reads, writes, pandas' CSVs through s3:// URLs, rm recursive;
- boto3 signing with an empty region, as clients written for S3-compatible stores do.

Each client runs in a clean environment (no AWS_* variables of the caller's: rclone 1.60
refuses to start at all when AWS_CA_BUNDLE is set), and what it did is checked through boto3:
the keys listed, the bytes read back, MD5 sums computed here. Each client command must also
leave no 5xx in the server's log, since some clients carry on past one.

`BUCKET.localhost` does not resolve on every machine (glibc resolves it only with
nss-myhostname), and nothing here changes the machine: the Node script gives the SDK an
http.Agent whose lookup maps *.localhost to 127.0.0.1, s3cmd runs with a sitecustomize (put
on its PYTHONPATH for that process only) that does the same for socket.getaddrinfo, and
rclone, whose Go resolver takes no such hook, is given an HTTP proxy (HTTP_PROXY, for its
process only) that relays to the server.
"""

import base64
import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from conftest import make_client, make_resource

COMPAT = Path(__file__).resolve().parent
JS_DIR = COMPAT / "js"
S3FS_VENV = COMPAT / ".venv-s3fs"
TIMEOUT = 90
MiB = 1024 * 1024

# Installed for s3cmd's process only (PYTHONPATH): names under .localhost are the loopback
# address (RFC 6761); each one looked up is appended to $OXIAM_COMPAT_LOOKUP_LOG.
SITECUSTOMIZE = '''\
import os
import socket

_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and name.lower().rstrip(".").endswith(".localhost"):
        log = os.environ.get("OXIAM_COMPAT_LOOKUP_LOG")
        if log:
            with open(log, "a") as f:
                f.write(name + "\\n")
        return _getaddrinfo("127.0.0.1", *args, **kwargs)
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback_getaddrinfo
'''


# --- helpers ----------------------------------------------------------------------------------


def port_of(server):
    return urlsplit(server.endpoint).port


def clean_env(home, **extra):
    """The environment a client runs in: PATH, a private HOME, nothing of the caller's AWS_*."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def write_tree(root, files):
    """Writes {relative path: bytes} under root; returns root."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def bucket_contents(s3, bucket):
    """{key: bytes} of every object in the bucket, read with boto3."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def md5(data):
    return hashlib.md5(data).hexdigest()


def bucket_is_gone(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def log_mark(server):
    return server.log_path.stat().st_size


def server_faults_since(server, mark):
    """The server's records, since `mark`, of the requests it answered with a 5xx: some
    clients shrug such an answer off and go on as if all was well (or retry it for a minute
    first)."""
    with open(server.log_path, "rb") as f:
        f.seek(mark)
        lines = f.read().decode(errors="replace").splitlines()
    return [
        line.partition("oxiam_server::record: ")[2]
        for line in lines
        if "oxiam_server::record" in line and re.search(r"\bstatus=5\d\d\b", line)
    ]


def assert_no_server_faults(server, mark, what):
    faults = server_faults_since(server, mark)
    assert not faults, f"{what}: the server answered with a 5xx:\n" + "\n".join(faults)


@pytest.fixture
def bucket_name(request, cleanup_buckets):
    """bucket_name(label='') -> a bucket name no other test uses (DNS-safe, so usable as a
    host name), deleted with its objects after the test if it exists by then."""

    def make(label=""):
        base = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:30].strip("-")
        name = "-".join(p for p in ["cli", base, label, secrets.token_hex(4)] if p)[:63].strip("-")
        cleanup_buckets.append(name)
        return name

    return make


# --- rclone -----------------------------------------------------------------------------------


@pytest.fixture
def rclone(server, tmp_path):
    """rclone(*args, extra_env=None) -> CompletedProcess, with the remote `oxiam:`
    pointing at the server as the account root (path-style). The command must exit 0 and log
    no ERROR, and the server must have answered none of its requests with a 5xx."""
    binary = shutil.which("rclone")
    if not binary:
        pytest.skip("rclone is not installed (compat/run.sh installs it with apt-get)")
    home = tmp_path / "rclone-home"
    home.mkdir()
    config = home / "rclone.conf"
    config.write_text("")
    env = clean_env(
        home,
        RCLONE_CONFIG=config,
        RCLONE_CONFIG_OXIAM_TYPE="s3",
        RCLONE_CONFIG_OXIAM_PROVIDER="Other",
        RCLONE_CONFIG_OXIAM_ACCESS_KEY_ID=server.root_key_id,
        RCLONE_CONFIG_OXIAM_SECRET_ACCESS_KEY=server.root_secret,
        RCLONE_CONFIG_OXIAM_ENDPOINT=server.endpoint,
        RCLONE_CONFIG_OXIAM_REGION="us-east-1",
        # One try each: a request the server fails is not retried for over a minute (the
        # SDK's retries within rclone's, with the defaults).
        RCLONE_RETRIES=1,
        RCLONE_LOW_LEVEL_RETRIES=1,
        RCLONE_CONTIMEOUT="5s",
        RCLONE_TIMEOUT="30s",
    )

    def run(*args, extra_env=None):
        mark = log_mark(server)
        proc = subprocess.run(
            [binary, *map(str, args)],
            env={**env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert proc.returncode == 0, (args, proc.returncode, proc.stderr)
        assert_no_server_faults(server, mark, ["rclone", *args])
        errors = [line for line in proc.stderr.splitlines() if re.search(r"\bERROR\b", line)]
        assert not errors, (args, proc.stderr)
        return proc

    return run


def rclone_sizes(output):
    """`rclone ls` output -> {path: size}."""
    sizes = {}
    for line in output.splitlines():
        m = re.fullmatch(r"\s*(\d+) (.+)", line)
        assert m, line
        sizes[m.group(2)] = int(m.group(1))
    return sizes


def rclone_sums(output):
    """`rclone md5sum` output -> {path: md5}."""
    sums = {}
    for line in output.splitlines():
        m = re.fullmatch(r"([0-9a-f]{32})  (.+)", line)
        assert m, line
        sums[m.group(2)] = m.group(1)
    return sums


TREE = {
    "a.txt": b"alpha\n",
    "dir/b.bin": secrets.token_bytes(150_000),
    "dir/sub/c d.txt": b"a key with a space\n",
    "dir/sub/ünï+cødé&=.txt": b"odd characters\n",
    "empty": b"",
}


def test_rclone_copy_ls_lsf_md5sum_check(rclone, s3, new_bucket, tmp_path):
    bucket = new_bucket()
    src = write_tree(tmp_path / "src", TREE)

    rclone("copy", src, f"oxiam:{bucket}")

    assert bucket_contents(s3, bucket) == TREE
    assert rclone_sizes(rclone("ls", f"oxiam:{bucket}").stdout) == {k: len(v) for k, v in TREE.items()}
    dirs = {"dir/", "dir/sub/"}
    assert set(rclone("lsf", "-R", f"oxiam:{bucket}").stdout.splitlines()) == set(TREE) | dirs
    # Both listing versions, two keys a page: the pages must join up.
    for version in ("1", "2"):
        listed = rclone("lsf", "-R", "--s3-list-version", version, "--s3-list-chunk", "2", f"oxiam:{bucket}")
        assert set(listed.stdout.splitlines()) == set(TREE) | dirs, version
    assert rclone_sums(rclone("md5sum", f"oxiam:{bucket}").stdout) == {k: md5(v) for k, v in TREE.items()}
    rclone("check", src, f"oxiam:{bucket}")

    dst = tmp_path / "dst"
    rclone("copy", f"oxiam:{bucket}", dst)
    assert read_tree(dst) == TREE


def test_rclone_server_side_copy_between_buckets(rclone, s3, new_bucket, tmp_path):
    source, target = new_bucket("from"), new_bucket("to")
    write_tree(tmp_path / "src", TREE)
    rclone("copy", tmp_path / "src", f"oxiam:{source}")

    copied = rclone("copy", "-v", f"oxiam:{source}", f"oxiam:{target}")

    assert copied.stderr.count("(server-side copy)") == len(TREE), copied.stderr
    assert bucket_contents(s3, target) == TREE
    assert rclone_sums(rclone("md5sum", f"oxiam:{target}").stdout) == {k: md5(v) for k, v in TREE.items()}


def test_rclone_multipart_upload(rclone, s3, new_bucket, tmp_path):
    bucket = new_bucket()
    big = secrets.token_bytes(6 * MiB + 12345)
    src = write_tree(tmp_path / "src", {"big.bin": big})

    rclone("copy", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M", src, f"oxiam:{bucket}")

    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].endswith('-2"'), head["ETag"]  # two parts
    assert head["ContentLength"] == len(big)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == big
    # A multipart ETag is no MD5: rclone keeps the file's in the object's metadata.
    assert rclone_sums(rclone("md5sum", f"oxiam:{bucket}").stdout) == {"big.bin": md5(big)}
    rclone("check", src, f"oxiam:{bucket}")


def test_rclone_sync_uploads_changes_and_deletes_what_is_gone(rclone, s3, bucket_name, tmp_path):
    bucket = bucket_name()  # rclone creates it
    src = write_tree(tmp_path / "src", TREE)

    rclone("sync", src, f"oxiam:{bucket}")
    assert bucket_contents(s3, bucket) == TREE

    (src / "a.txt").unlink()
    (src / "dir/sub/c d.txt").write_bytes(b"changed, and longer than before\n")
    (src / "new/deep/file.txt").parent.mkdir(parents=True)
    (src / "new/deep/file.txt").write_bytes(b"new\n")
    rclone("sync", src, f"oxiam:{bucket}")

    expected = read_tree(src)
    assert "a.txt" not in expected and "new/deep/file.txt" in expected
    assert bucket_contents(s3, bucket) == expected
    rclone("check", src, f"oxiam:{bucket}")


def test_rclone_purge_deletes_the_objects_and_the_bucket(rclone, s3, new_bucket):
    bucket = new_bucket()
    for key in ["top", "a/b/c", "a/d"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    # (No folder marker "e/": oxiam's object store refuses them, docs/differences.md.)

    rclone("purge", f"oxiam:{bucket}")

    assert bucket_is_gone(s3, bucket)
    assert bucket not in rclone("lsf", "oxiam:").stdout.splitlines()


def test_rclone_copy_into_and_out_of_a_folder(rclone, s3, new_bucket, tmp_path):
    """rclone given `remote:bucket/folder` first asks for the object `folder` (HeadObject),
    to tell a file from a folder: once the folder has objects, that must still be a plain
    404, as on S3."""
    bucket = new_bucket()
    src = write_tree(tmp_path / "src", TREE)

    rclone("copy", src, f"oxiam:{bucket}/backup")
    assert bucket_contents(s3, bucket) == {f"backup/{k}": v for k, v in TREE.items()}

    rclone("copy", src, f"oxiam:{bucket}/backup")  # again, now that backup/ has objects
    assert rclone_sizes(rclone("ls", f"oxiam:{bucket}/backup").stdout) == {k: len(v) for k, v in TREE.items()}
    rclone("check", src, f"oxiam:{bucket}/backup")
    dst = tmp_path / "dst"
    rclone("copy", f"oxiam:{bucket}/backup/dir", dst)
    assert read_tree(dst) == {k.removeprefix("dir/"): v for k, v in TREE.items() if k.startswith("dir/")}


@pytest.fixture
def loopback_proxy(server):
    """A stand-in resolver for Go programs, whose resolver takes no hook: given as HTTP_PROXY,
    it receives the client's requests for every host but `localhost` and loopback addresses
    (Go never proxies those), such as `BUCKET.localhost:PORT`, and relays the bytes unchanged
    to the server, which reads the absolute-form target (`GET http://BUCKET.localhost:PORT/KEY`)
    as HTTP/1.1 servers must. Yields (proxy URL, the hosts its request lines named)."""
    port = port_of(server)
    listener = socket.create_server(("127.0.0.1", 0))
    hosts = []
    sockets = [listener]

    def pump(src, dst, watch):
        try:
            while data := src.recv(65536):
                if watch:
                    hosts.extend(m.decode() for m in REQUEST_LINE.findall(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    def accept():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", port))
            sockets.extend([client, upstream])
            threading.Thread(target=pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client, False), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", hosts
    for sock in sockets:
        sock.close()


REQUEST_LINE = re.compile(rb"(?:^|\r\n)[A-Z]+ http://([^/ ]+)/")


def test_rclone_virtual_hosted(rclone, loopback_proxy, server, s3, bucket_name, tmp_path):
    proxy, proxied_hosts = loopback_proxy
    bucket = bucket_name()  # rclone creates it, by host too
    src = write_tree(tmp_path / "src", TREE)
    by_host = {
        "RCLONE_CONFIG_OXIAM_ENDPOINT": f"http://localhost:{port_of(server)}",
        "RCLONE_CONFIG_OXIAM_FORCE_PATH_STYLE": "false",
        "HTTP_PROXY": proxy,
    }

    rclone("copy", src, f"oxiam:{bucket}", extra_env=by_host)
    assert bucket_contents(s3, bucket) == TREE
    listed = rclone("lsf", "-R", f"oxiam:{bucket}", extra_env=by_host)
    assert set(listed.stdout.splitlines()) == set(TREE) | {"dir/", "dir/sub/"}
    sums = rclone("md5sum", f"oxiam:{bucket}", extra_env=by_host)
    assert rclone_sums(sums.stdout) == {k: md5(v) for k, v in TREE.items()}
    got = rclone("cat", f"oxiam:{bucket}/dir/sub/c d.txt", extra_env=by_host)
    assert got.stdout == TREE["dir/sub/c d.txt"].decode()
    rclone("delete", f"oxiam:{bucket}", extra_env=by_host)
    assert bucket_contents(s3, bucket) == {}

    assert proxied_hosts and set(proxied_hosts) == {f"{bucket}.localhost:{port_of(server)}"}


# --- s3cmd ------------------------------------------------------------------------------------


def _s3cmd_binary():
    here = Path(sys.executable).parent / "s3cmd"
    if here.exists():
        return str(here)
    found = shutil.which("s3cmd")
    if not found:
        pytest.skip("s3cmd is not installed (compat/run.sh installs it into compat/.venv)")
    return found


@pytest.fixture
def s3cmd(server, tmp_path):
    """s3cmd(style, *args) -> CompletedProcess; style 'path' or 'virtual'. Also has .lookups():
    the .localhost names s3cmd resolved."""
    binary = _s3cmd_binary()
    home = tmp_path / "s3cmd-home"
    site = home / "site"
    site.mkdir(parents=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    lookups = home / "lookups.log"
    config = home / "s3cfg"
    config.write_text(
        "[default]\n"
        f"access_key = {server.root_key_id}\n"
        f"secret_key = {server.root_secret}\n"
        "use_https = False\n"
        "bucket_location = us-east-1\n"
        "signature_v2 = False\n"
    )
    env = clean_env(home, PYTHONPATH=site, OXIAM_COMPAT_LOOKUP_LOG=lookups)
    host = f"localhost:{port_of(server)}"
    host_bucket = {"path": host, "virtual": f"%(bucket)s.{host}"}

    def run(style, *args):
        cmd = [binary, "-c", str(config), f"--host={host}", f"--host-bucket={host_bucket[style]}", *map(str, args)]
        mark = log_mark(server)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        assert_no_server_faults(server, mark, ["s3cmd", style, *args])
        return proc

    run.lookups = lambda: set(lookups.read_text().split()) if lookups.exists() else set()
    return run


@pytest.mark.parametrize("style", ["path", "virtual"])
def test_s3cmd_mb_put_get_ls_del_rb(style, s3cmd, s3, bucket_name, tmp_path):
    bucket = bucket_name(style)
    small = secrets.token_bytes(20_000)
    big = secrets.token_bytes(6 * MiB + 1)
    src = write_tree(tmp_path / "src", {"small.bin": small, "top name.txt": b"top\n", "big.bin": big})

    s3cmd(style, "mb", f"s3://{bucket}")
    s3cmd(style, "put", src / "small.bin", f"s3://{bucket}/d/small.bin")
    s3cmd(style, "put", src / "top name.txt", f"s3://{bucket}/top name.txt")
    s3cmd(style, "put", "--multipart-chunk-size-mb=5", src / "big.bin", f"s3://{bucket}/d/big.bin")

    assert bucket_contents(s3, bucket) == {"d/small.bin": small, "top name.txt": b"top\n", "d/big.bin": big}
    assert s3.head_object(Bucket=bucket, Key="d/big.bin")["ETag"].endswith('-2"')

    listed = s3cmd(style, "ls", f"s3://{bucket}").stdout.splitlines()
    assert [line.split()[-1] for line in listed if " DIR " in f" {line} "] == [f"s3://{bucket}/d/"], listed
    files = [line for line in listed if " DIR " not in f" {line} "]
    assert [line.split(maxsplit=3)[2:] for line in files] == [["4", f"s3://{bucket}/top name.txt"]], listed
    recursive = {}
    for line in s3cmd(style, "ls", "-r", f"s3://{bucket}").stdout.splitlines():
        _date, _time, size, url = line.split(maxsplit=3)
        recursive[url] = int(size)
    assert recursive == {
        f"s3://{bucket}/d/small.bin": len(small),
        f"s3://{bucket}/d/big.bin": len(big),
        f"s3://{bucket}/top name.txt": 4,
    }
    assert f"s3://{bucket}" in s3cmd(style, "ls").stdout.split()

    s3cmd(style, "get", f"s3://{bucket}/d/small.bin", tmp_path / "small.got")
    s3cmd(style, "get", f"s3://{bucket}/d/big.bin", tmp_path / "big.got")
    assert (tmp_path / "small.got").read_bytes() == small
    assert (tmp_path / "big.got").read_bytes() == big

    s3cmd(style, "del", f"s3://{bucket}/d/small.bin")
    assert set(bucket_contents(s3, bucket)) == {"d/big.bin", "top name.txt"}
    s3cmd(style, "del", "--recursive", "--force", f"s3://{bucket}")
    assert bucket_contents(s3, bucket) == {}
    s3cmd(style, "rb", f"s3://{bucket}")
    assert bucket_is_gone(s3, bucket)

    # The addressing asked for is the one used: only virtual-hosted style looks BUCKET.localhost up.
    assert s3cmd.lookups() == ({f"{bucket}.localhost"} if style == "virtual" else set())


# --- the AWS SDK for JavaScript v3 --------------------------------------------------------------


@pytest.fixture(scope="module")
def node_sdk():
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-s3").is_dir():
        pytest.skip("compat/js/node_modules is missing (compat/run.sh runs npm ci there)")
    return node


@pytest.mark.parametrize("style", ["virtual", "path"])
def test_aws_sdk_for_javascript_put_get_list_delete(style, node_sdk, server, s3, new_bucket, tmp_path):
    bucket = new_bucket(style)
    existing = secrets.token_bytes(3000)
    s3.put_object(Bucket=bucket, Key="from-boto3.bin", Body=existing)
    body = secrets.token_bytes(5000)
    port = port_of(server)
    env = clean_env(
        tmp_path,
        OXIAM_ENDPOINT=f"http://localhost:{port}",
        AWS_ACCESS_KEY_ID=server.root_key_id,
        AWS_SECRET_ACCESS_KEY=server.root_secret,
        OXIAM_BUCKET=bucket,
        OXIAM_EXISTING_KEY="from-boto3.bin",
        OXIAM_BODY_B64=base64.b64encode(body).decode(),
        OXIAM_PATH_STYLE="1" if style == "path" else "0",
    )

    mark = log_mark(server)
    proc = subprocess.run(
        [node_sdk, str(JS_DIR / "s3_roundtrip.mjs")], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr
    assert_no_server_faults(server, mark, "the Node script")
    out = json.loads(proc.stdout)

    # Every request went where the addressing style says.
    if style == "virtual":
        assert {r["host"] for r in out["requests"]} == {f"{bucket}.localhost:{port}"}
        assert not any(r["path"].startswith(f"/{bucket}") for r in out["requests"])
        assert out["lookedUp"] == [f"{bucket}.localhost"]
    else:
        assert {r["host"] for r in out["requests"]} == {f"localhost:{port}"}
        assert all(r["path"].startswith(f"/{bucket}") for r in out["requests"])
    # The Readable body went aws-chunked with a trailing checksum.
    streamed = [r for r in out["requests"] if r["method"] == "PUT" and r["path"].endswith("/js/stream.txt")]
    assert [r["contentSha256"] for r in streamed] == ["STREAMING-UNSIGNED-PAYLOAD-TRAILER"], streamed
    assert streamed[0]["trailer"].startswith("x-amz-checksum-"), streamed

    odd, odd_body = "js/dir with space/ünï+cødé&=?.txt", b"odd key\n"
    stream_text = "streamed through a Readable, so sent aws-chunked with a trailing checksum\n" * 50
    assert base64.b64decode(out["existing"]["b64"]) == existing
    assert out["existing"]["etag"] == f'"{md5(existing)}"'
    assert base64.b64decode(out["buffer"]) == body
    assert out["stream"] == stream_text
    assert out["odd"] == odd_body.decode()
    assert out["puts"] == {
        "js/buffer.bin": f'"{md5(body)}"',
        "js/stream.txt": f'"{md5(stream_text.encode())}"',
        odd: f'"{md5(odd_body)}"',
    }

    all_keys = sorted(["from-boto3.bin", "js/buffer.bin", "js/stream.txt", odd])
    assert [len(page) for page in out["pages"]] == [2, 2]
    assert [o["key"] for page in out["pages"] for o in page] == all_keys
    sizes = {o["key"]: o["size"] for page in out["pages"] for o in page}
    assert sizes == {"from-boto3.bin": 3000, "js/buffer.bin": 5000, "js/stream.txt": len(stream_text), odd: 8}
    assert out["grouped"] == {"keys": ["from-boto3.bin"], "prefixes": ["js/"], "keyCount": 2}
    assert out["underPrefix"] == [odd]

    assert out["headAfterDelete"] == 404
    assert out["keysAfterDelete"] == sorted(["js/buffer.bin", "js/stream.txt", odd])
    assert bucket_contents(s3, bucket) == {
        "js/buffer.bin": body,
        "js/stream.txt": stream_text.encode(),
        odd: odd_body,
    }


# --- s3fs (fsspec) and pandas, from compat/.venv-s3fs ---------------------------------------------


@pytest.fixture(scope="module")
def s3fs_python():
    """The python of compat/.venv-s3fs, where s3fs and pandas live apart from the suite (s3fs's
    aiobotocore pins a botocore older than the suite's boto3)."""
    python = S3FS_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip("compat/.venv-s3fs is missing (compat/run.sh creates it from requirements-s3fs.txt)")
    return python


def test_s3fs_and_pandas_find_glob_ls_read_write_rm(s3fs_python, server, s3, new_bucket, bucket_name, tmp_path):
    """compat/s3fs_client.py, run with s3fs and pandas: ls, find, glob, exists/isdir, info, du,
    reads (whole, ranged, seeking), writes (pipe, text, a two-part multipart upload, a
    server-side copy), pandas reading and writing CSVs through s3:// URLs, rm recursive of a
    folder and of a whole bucket that s3fs made."""
    bucket = new_bucket()
    big = secrets.token_bytes(3 * MiB)
    tree = {
        "top.txt": b"top\n",
        "data/a.csv": b"x,y\n1,2\n3,4\n",
        "data/b.csv": b"x,y\n5,6\n",
        "data/note.txt": b"note\n",
        "data/ünï+cødé&=.txt": b"odd characters\n",
        "data/sub/c d.txt": b"a key with a space\n",
        "data/sub/deeper/e.csv": b"e\n1\n",
        "data/big.bin": big,
    }
    for key, body in tree.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    made = bucket_name("made")  # s3fs creates it, and removes it
    env = clean_env(
        tmp_path,
        OXIAM_ENDPOINT=server.endpoint,
        OXIAM_KEY_ID=server.root_key_id,
        OXIAM_SECRET=server.root_secret,
        OXIAM_BUCKET=bucket,
        OXIAM_NEW_BUCKET=made,
        AWS_EC2_METADATA_DISABLED="true",
    )

    mark = log_mark(server)
    proc = subprocess.run(
        [str(s3fs_python), str(COMPAT / "s3fs_client.py")], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr
    assert_no_server_faults(server, mark, "the s3fs script")
    out = json.loads(proc.stdout)

    def paths(*keys):
        return [f"{bucket}/{key}" for key in keys]

    odd = "data/ünï+cødé&=.txt"
    # Listings: exact, sorted as s3fs sorts them; never the bucket itself, never empty.
    assert out["ls"] == paths("data", "top.txt")
    assert out["ls_detail"] == [[f"{bucket}/data", "directory", 0], [f"{bucket}/top.txt", "file", 4]]
    assert out["ls_data"] == paths("data/a.csv", "data/b.csv", "data/big.bin", "data/note.txt", "data/sub", odd)
    assert out["ls_sub"] == paths("data/sub/c d.txt", "data/sub/deeper")
    every_file = sorted(tree)
    assert out["find"] == paths(*every_file)
    assert out["find_withdirs"] == paths(*sorted(every_file + ["data", "data/sub", "data/sub/deeper"]))
    assert out["find_data"] == paths(*[k for k in every_file if k.startswith("data/")])
    assert out["find_maxdepth_2"] == paths(
        "data/a.csv", "data/b.csv", "data/big.bin", "data/note.txt", odd, "top.txt")
    assert out["find_prefix"] == paths("data/sub/c d.txt", "data/sub/deeper/e.csv")
    assert out["glob_top"] == paths("data", "top.txt")
    assert out["glob_csv"] == paths("data/a.csv", "data/b.csv", "data/sub/deeper/e.csv")
    assert out["glob_data_txt"] == paths("data/note.txt", odd)
    assert out["glob_sub"] == paths("data/sub/c d.txt", "data/sub/deeper")
    assert out["glob_chars"] == paths("data/a.csv", "data/b.csv")
    assert out["exists"] == {
        "top.txt": True, "data": True, "data/sub": True, "data/sub/c d.txt": True, "missing": False, "data/su": False}
    assert out["isdir"] == {"data": True, "data/sub": True, "top.txt": False, "missing": False}
    assert out["isfile"] == {"data": False, "top.txt": True, "missing": False}
    assert out["info"] == {
        "name": f"{bucket}/data/a.csv", "type": "file", "size": 12, "ETag": f'"{md5(tree["data/a.csv"])}"'}
    assert out["du"] == sum(map(len, tree.values()))
    assert bucket in out["buckets"]

    # Reads.
    assert {k: base64.b64decode(v) for k, v in out["cat"].items()} == {
        k: tree[k] for k in ["top.txt", "data/sub/c d.txt", odd]}
    assert base64.b64decode(out["cat_range"]) == big[1_000_000:1_000_100]
    start = 2 * MiB + 5
    assert out["open_seek_read"] == {"tell": start + 300_000, "md5": md5(big[start : start + 300_000])}
    assert out["open_text"] == tree["data/sub/c d.txt"].decode()
    assert base64.b64decode(out["fsspec_open"]) == tree["top.txt"]
    assert {k: base64.b64decode(v) for k, v in out["cat_many"].items()} == {
        f"{bucket}/data/a.csv": tree["data/a.csv"], f"{bucket}/top.txt": tree["top.txt"]}

    # Writes (the multipart upload in two parts of 5 MiB and the rest).
    written_big = bytes(range(256)) * (6 * MiB // 256) + b"tail"
    assert out["written_find"] == paths(
        "written/big.bin", "written/copy of top.txt", "written/pipe.bin", "written/text.txt")
    etag = s3.head_object(Bucket=bucket, Key="written/big.bin")["ETag"]
    assert out["written_big_info"] == {"size": len(written_big), "ETag": etag}
    assert out["written_big_info"]["ETag"].endswith('-2"'), out["written_big_info"]
    assert out["written_big_roundtrip"] is True

    # pandas.
    assert out["pandas_roundtrip"] == {
        "id": [1, 2, 3], "name": ["alpha", "beta, with a comma", "ünï"], "value": [0.5, -1.25, 1e6]}
    assert out["pandas_equal"] is True
    assert out["pandas_read"] == {"columns": ["x", "y"], "rows": [[1, 2], [3, 4]]}
    assert out["pandas_gzip_equal"] is True

    # rm: a folder recursively, then a list of files.
    assert out["find_after_rm_data"] == paths(
        "frames/out.csv", "frames/out.csv.gz", "top.txt",
        "written/big.bin", "written/copy of top.txt", "written/pipe.bin", "written/text.txt")
    assert out["exists_after_rm"] is False
    assert out["find_after_rm_files"] == paths(
        "frames/out.csv", "top.txt", "written/big.bin", "written/copy of top.txt", "written/text.txt")

    # A bucket of s3fs's own. Naming us-east-1 as the LocationConstraint is refused, as S3 refuses it.
    assert out["mkdir_us_east_1"] == [
        "OSError", errno.EINVAL, "The specified location-constraint is not valid"]
    assert out["new_bucket_find"] == [f"{made}/x/y.txt", f"{made}/z.txt"]
    assert out["new_bucket_listed"] is True
    assert out["new_bucket_exists_after_rm"] is False
    assert out["new_bucket_listed_after_rm"] is False
    assert bucket_is_gone(s3, made)

    # What s3fs and pandas left, read with boto3.
    assert bucket_contents(s3, bucket) == {
        "frames/out.csv": 'id,name,value\n1,alpha,0.5\n2,"beta, with a comma",-1.25\n3,ünï,1000000.0\n'.encode(),
        "top.txt": tree["top.txt"],
        "written/big.bin": written_big,
        "written/copy of top.txt": tree["top.txt"],
        "written/text.txt": "written through a text file: ünïcødé\n".encode(),
    }


# --- boto3 with an empty signing region ---------------------------------------------------------


def test_boto3_signing_with_an_empty_region(server, s3, new_bucket):
    """boto3 takes region_name="" and signs with an empty region in the credential scope
    (`KEY/DATE//s3/aws4_request`): oxiam hears that as the default region."""
    bucket = new_bucket()
    client = make_client(server, "s3", server.root_key_id, server.root_secret, region="")
    scopes = []
    client.meta.events.register("before-send", lambda request, **_: scopes.append(request.headers["Authorization"]))

    client.put_object(Bucket=bucket, Key="k", Body=b"no region")
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"no region"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]

    assert len(scopes) == 3
    for auth in scopes:
        auth = auth.decode() if isinstance(auth, bytes) else auth
        assert re.search(rf"Credential={server.root_key_id}/\d{{8}}//s3/aws4_request,", auth), auth

    forged = make_client(server, "s3", server.root_key_id, "x" * 40, region="")
    with pytest.raises(ClientError) as e:
        forged.get_object(Bucket=bucket, Key="k")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"no region"


def test_boto3_cleans_a_bucket_up_by_its_object_versions(s3, new_bucket, server):
    """Test suites empty buckets by listing versions (boto3's `object_versions.delete()`):
    a bucket oxiam keeps is never versioned, so each object is its one `null` version."""
    bucket = new_bucket()
    for key in ["a", "b/c", "d"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    listed = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        ("a", "null", True), ("b/c", "null", True)]
    assert listed["IsTruncated"] is True
    assert (listed["NextKeyMarker"], listed["NextVersionIdMarker"]) == ("b/c", "null")
    resource = make_resource(server, "s3", server.root_key_id, server.root_secret)
    resource.Bucket(bucket).object_versions.delete()
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
