"""s3fs (fsspec) and pandas against oxiam's S3: run by test_s3_clients.py with the python of
compat/.venv-s3fs (s3fs's aiobotocore pins a botocore older than compat/.venv's boto3, so
the two cannot share a virtualenv), never imported by the suite itself.

Given in the environment: OXIAM_ENDPOINT, OXIAM_KEY_ID, OXIAM_SECRET, OXIAM_BUCKET (a
bucket holding the objects test_s3_clients.py put there with boto3) and OXIAM_NEW_BUCKET (a
name no bucket has yet, which s3fs creates and removes). Prints one JSON object of what
s3fs and pandas saw; the test asserts on it and checks through boto3 what they wrote.
"""

import base64
import hashlib
import json
import os

import fsspec
import pandas as pd
import s3fs

MiB = 1024 * 1024

endpoint = os.environ["OXIAM_ENDPOINT"]
bucket = os.environ["OXIAM_BUCKET"]
new_bucket = os.environ["OXIAM_NEW_BUCKET"]
storage_options = {
    "key": os.environ["OXIAM_KEY_ID"],
    "secret": os.environ["OXIAM_SECRET"],
    "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
}
# The instance pandas gets for the same options is this one (fsspec caches instances):
# skip that, so that pandas' reads and writes go through an S3FileSystem of their own.
fs = s3fs.S3FileSystem(skip_instance_cache=True, **storage_options)


def b64(data):
    return base64.b64encode(data).decode()


def fresh():
    """Forgets the listings s3fs cached, so that the next call asks the server."""
    fs.invalidate_cache()
    return fs


out = {"versions": {"s3fs": s3fs.__version__, "fsspec": fsspec.__version__, "pandas": pd.__version__}}
B = bucket

# --- listings -------------------------------------------------------------------------------
out["ls"] = fresh().ls(B)
out["ls_detail"] = sorted([e["name"], e["type"], e["size"]] for e in fresh().ls(B, detail=True))
out["ls_data"] = fresh().ls(f"{B}/data")
out["ls_sub"] = fresh().ls(f"{B}/data/sub/")
out["find"] = fresh().find(B)
out["find_withdirs"] = fresh().find(B, withdirs=True)
out["find_data"] = fresh().find(f"{B}/data")
out["find_maxdepth_2"] = fresh().find(B, maxdepth=2)
out["find_prefix"] = fresh().find(f"{B}/data", prefix="s")  # keys under data/s
out["glob_top"] = fresh().glob(f"{B}/*")
out["glob_csv"] = fresh().glob(f"{B}/**/*.csv")
out["glob_data_txt"] = fresh().glob(f"{B}/data/*.txt")
out["glob_sub"] = fresh().glob(f"{B}/data/sub/*")
out["glob_chars"] = fresh().glob(f"{B}/data/?.csv")
out["exists"] = {
    name: fresh().exists(f"{B}/{name}")
    for name in ["top.txt", "data", "data/sub", "data/sub/c d.txt", "missing", "data/su"]
}
out["isdir"] = {name: fresh().isdir(f"{B}/{name}") for name in ["data", "data/sub", "top.txt", "missing"]}
out["isfile"] = {name: fresh().isfile(f"{B}/{name}") for name in ["data", "top.txt", "missing"]}
info = fresh().info(f"{B}/data/a.csv")
out["info"] = {"name": info["name"], "type": info["type"], "size": info["size"], "ETag": info["ETag"]}
out["du"] = fresh().du(B)
out["buckets"] = fresh().ls("")

# --- reads ----------------------------------------------------------------------------------
out["cat"] = {name: b64(fs.cat(f"{B}/{name}")) for name in ["top.txt", "data/sub/c d.txt", "data/ünï+cødé&=.txt"]}
out["cat_range"] = b64(fs.cat_file(f"{B}/data/big.bin", start=1_000_000, end=1_000_100))
with fs.open(f"{B}/data/big.bin", "rb", block_size=256 * 1024) as f:
    f.seek(2 * MiB + 5)
    chunk = f.read(300_000)
    out["open_seek_read"] = {"tell": f.tell(), "md5": hashlib.md5(chunk).hexdigest()}
with fs.open(f"{B}/data/sub/c d.txt", "rt", encoding="utf-8") as f:
    out["open_text"] = f.read()
with fsspec.open(f"s3://{B}/top.txt", "rb", **storage_options) as f:
    out["fsspec_open"] = b64(f.read())
got = fs.cat([f"{B}/top.txt", f"{B}/data/a.csv"])
out["cat_many"] = {k: b64(v) for k, v in sorted(got.items())}

# --- writes ---------------------------------------------------------------------------------
fs.pipe(f"{B}/written/pipe.bin", b"piped bytes\n")
with fs.open(f"{B}/written/text.txt", "w", encoding="utf-8") as f:
    f.write("written through a text file: ünïcødé\n")
# More than one block of 5 MiB: a multipart upload of two parts.
big = bytes(range(256)) * (6 * MiB // 256) + b"tail"
with fs.open(f"{B}/written/big.bin", "wb", block_size=5 * MiB) as f:
    for i in range(0, len(big), MiB):
        f.write(big[i : i + MiB])
fs.copy(f"{B}/top.txt", f"{B}/written/copy of top.txt")
out["written_find"] = fresh().find(f"{B}/written")
out["written_big_info"] = {k: fresh().info(f"{B}/written/big.bin")[k] for k in ("size", "ETag")}
out["written_big_roundtrip"] = fs.cat(f"{B}/written/big.bin") == big

# --- pandas through s3:// URLs --------------------------------------------------------------
frame = pd.DataFrame(
    {"id": [1, 2, 3], "name": ["alpha", "beta, with a comma", "ünï"], "value": [0.5, -1.25, 1e6]}
)
frame.to_csv(f"s3://{B}/frames/out.csv", index=False, storage_options=storage_options)
back = pd.read_csv(f"s3://{B}/frames/out.csv", storage_options=storage_options)
out["pandas_roundtrip"] = back.to_dict(orient="list")
out["pandas_equal"] = bool(back.equals(frame))
read = pd.read_csv(f"s3://{B}/data/a.csv", storage_options=storage_options)
out["pandas_read"] = {"columns": list(read.columns), "rows": read.values.tolist()}
# Compressed, inferred from the name.
frame.to_csv(f"s3://{B}/frames/out.csv.gz", index=False, storage_options=storage_options)
out["pandas_gzip_equal"] = bool(
    pd.read_csv(f"s3://{B}/frames/out.csv.gz", storage_options=storage_options).equals(frame)
)

# --- rm ---------------------------------------------------------------------------------
fs.rm(f"{B}/data", recursive=True)
out["find_after_rm_data"] = fresh().find(B)
out["exists_after_rm"] = fresh().exists(f"{B}/data")
fs.rm([f"{B}/written/pipe.bin", f"{B}/frames/out.csv.gz"])
out["find_after_rm_files"] = fresh().find(B)

# --- a bucket of s3fs's own -------------------------------------------------------------
# s3fs names its client's region as the new bucket's LocationConstraint, which S3 refuses
# for us-east-1 (that region is the one without: InvalidLocationConstraint); so the bucket
# is made by an S3FileSystem that names no region (botocore then signs for us-east-1).
try:
    fs.mkdir(new_bucket)
    out["mkdir_us_east_1"] = "created"
except OSError as e:
    out["mkdir_us_east_1"] = [type(e).__name__, e.errno, e.strerror]
no_region = s3fs.S3FileSystem(
    skip_instance_cache=True,
    key=storage_options["key"],
    secret=storage_options["secret"],
    client_kwargs={"endpoint_url": endpoint},
)
no_region.mkdir(new_bucket)
fs.invalidate_cache()
fs.pipe({f"{new_bucket}/x/y.txt": b"y\n", f"{new_bucket}/z.txt": b"z\n"})
out["new_bucket_find"] = fresh().find(new_bucket)
out["new_bucket_listed"] = new_bucket in fresh().ls("")
fs.rm(new_bucket, recursive=True)
out["new_bucket_exists_after_rm"] = fresh().exists(new_bucket)
out["new_bucket_listed_after_rm"] = new_bucket in fresh().ls("")

print(json.dumps(out))
