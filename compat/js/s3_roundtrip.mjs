// Puts, gets, lists and deletes objects with the AWS SDK for JavaScript v3, for
// compat/test_s3_clients.py, which runs it against a real oxiam server and checks what it
// prints (one JSON object on standard output) and what it left in the bucket.
//
// Environment:
//   OXIAM_ENDPOINT       e.g. http://localhost:7345 (the SDK's default, virtual-hosted
//                        addressing then sends Host: BUCKET.localhost:7345)
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
//   OXIAM_BUCKET         an existing bucket
//   OXIAM_EXISTING_KEY   an object already in it, which this script reads and then deletes
//   OXIAM_BODY_B64       the bytes to put (base64)
//   OXIAM_PATH_STYLE     "1" for forcePathStyle: true
//
// Names under .localhost are resolved to 127.0.0.1 by the http.Agent's own lookup (RFC 6761
// makes them loopback names; this machine's resolver does not know them), nothing else.
import dns from "node:dns";
import http from "node:http";
import { Readable } from "node:stream";

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set`);
  }
  return value;
}

const lookedUp = [];

// A `lookup` for net.connect: localhost and *.localhost are 127.0.0.1 (where the server
// listens), any other name goes to the system's resolver.
function loopbackLookup(hostname, options, callback) {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) {
    lookedUp.push(name);
    if (options.all) {
      callback(null, [{ address: "127.0.0.1", family: 4 }]);
    } else {
      callback(null, "127.0.0.1", 4);
    }
    return;
  }
  dns.lookup(hostname, options, callback);
}

const client = new S3Client({
  endpoint: required("OXIAM_ENDPOINT"),
  region: "us-east-1",
  credentials: {
    accessKeyId: required("AWS_ACCESS_KEY_ID"),
    secretAccessKey: required("AWS_SECRET_ACCESS_KEY"),
  },
  forcePathStyle: process.env.OXIAM_PATH_STYLE === "1",
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, lookup: loopbackLookup }),
    connectionTimeout: 5000,
    requestTimeout: 30000,
  }),
});

// Every request as sent (after signing): its Host header, path and payload signing.
const requests = [];
client.middlewareStack.add(
  (next) => async (args) => {
    const request = args.request;
    const header = (name) => request.headers[name] ?? null;
    requests.push({
      method: request.method,
      host: header("host") ?? request.hostname,
      path: request.path,
      contentSha256: header("x-amz-content-sha256"),
      trailer: header("x-amz-trailer"),
    });
    return next(args);
  },
  { step: "finalizeRequest", priority: "low", name: "oxiamCompatRecordRequests" },
);

const bucket = required("OXIAM_BUCKET");
const existingKey = required("OXIAM_EXISTING_KEY");
const body = Buffer.from(required("OXIAM_BODY_B64"), "base64");
const streamed = "streamed through a Readable, so sent aws-chunked with a trailing checksum\n".repeat(50);
const KEYS = {
  buffer: "js/buffer.bin",
  stream: "js/stream.txt",
  odd: "js/dir with space/ünï+cødé&=?.txt",
};

async function bytesOf(response) {
  return Buffer.from(await response.Body.transformToByteArray());
}

async function main() {
  const out = { puts: {} };

  let put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: KEYS.buffer, Body: body }));
  out.puts[KEYS.buffer] = put.ETag;
  put = await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: KEYS.stream,
      Body: Readable.from([Buffer.from(streamed)]),
      ContentLength: Buffer.byteLength(streamed),
      ContentType: "text/plain",
    }),
  );
  out.puts[KEYS.stream] = put.ETag;
  put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: KEYS.odd, Body: "odd key\n" }));
  out.puts[KEYS.odd] = put.ETag;

  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: existingKey }));
  out.existing = { b64: (await bytesOf(got)).toString("base64"), etag: got.ETag, length: got.ContentLength };
  out.buffer = (await bytesOf(await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.buffer })))).toString(
    "base64",
  );
  out.stream = (await bytesOf(await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.stream })))).toString();
  out.odd = (await bytesOf(await client.send(new GetObjectCommand({ Bucket: bucket, Key: KEYS.odd })))).toString();

  // ListObjectsV2, two keys a page, following the continuation tokens.
  out.pages = [];
  let token;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, ContinuationToken: token }),
    );
    out.pages.push((page.Contents ?? []).map((o) => ({ key: o.Key, size: o.Size, etag: o.ETag })));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined && out.pages.length < 20);

  const grouped = await client.send(new ListObjectsV2Command({ Bucket: bucket, Delimiter: "/" }));
  out.grouped = {
    keys: (grouped.Contents ?? []).map((o) => o.Key),
    prefixes: (grouped.CommonPrefixes ?? []).map((p) => p.Prefix),
    keyCount: grouped.KeyCount,
  };
  const under = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "js/dir with space/" }));
  out.underPrefix = (under.Contents ?? []).map((o) => o.Key);

  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: existingKey }));
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: existingKey }));
    out.headAfterDelete = 200;
  } catch (e) {
    out.headAfterDelete = e.$metadata?.httpStatusCode ?? String(e);
  }
  const after = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
  out.keysAfterDelete = (after.Contents ?? []).map((o) => o.Key);

  out.requests = requests;
  out.lookedUp = [...new Set(lookedUp)];
  return out;
}

main().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + "\n");
  },
  (e) => {
    const detail = {
      error: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      requests,
      lookedUp,
    };
    process.stderr.write(JSON.stringify(detail) + "\n" + (e.stack ?? "") + "\n");
    process.exit(1);
  },
);
