"""Hand-made SigV4 requests sent with urllib, for what boto3 will not send on its own:
skewed clocks, no authentication, presigned URLs."""

import datetime
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import expect

VERSIONS = {"iam": "2010-05-08", "sts": "2011-06-15"}
NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass
class Reply:
    status: int
    headers: dict
    body: str

    @property
    def xml(self):
        return ET.fromstring(self.body)


def send(method, url, body=b"", headers=None):
    data = body.encode() if isinstance(body, str) else body
    headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-length"}
    request = urllib.request.Request(url, data=data if method != "GET" else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode())
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode())


def query_body(service, action, **params):
    pairs = {"Action": action, "Version": VERSIONS[service], **params}
    return "&".join(f"{k}={urllib.request.quote(str(v), safe='')}" for k, v in pairs.items())


def signature_headers(server, service, body, *, key_id=None, secret=None, region="us-east-1", at=None):
    """The headers (X-Amz-Date, Authorization, ...) of a SigV4-signed POST of `body`;
    `at` (a naive UTC datetime) fixes the signing time."""
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers={"Content-Type": FORM})
    creds = Credentials(key_id or server.root_key_id, secret or server.root_secret)
    if at is None:
        SigV4Auth(creds, service, region).add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=at):
            SigV4Auth(creds, service, region).add_auth(request)
    return dict(request.prepare().headers)


def signed(server, service, action, *, key_id=None, secret=None, region="us-east-1", at=None, **params):
    """Sends a SigV4-signed POST of Action=`action` with `params`."""
    body = query_body(service, action, **params)
    headers = signature_headers(server, service, body, key_id=key_id, secret=secret, region=region, at=at)
    reply = send("POST", server.endpoint + "/", body, headers)
    reply.amz_date = headers["X-Amz-Date"]
    return reply


def unsigned(server, service, action, **params):
    return send("POST", server.endpoint + "/", query_body(service, action, **params), {"Content-Type": FORM})


def utcnow_naive():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def check_xml_error(reply, service, *, code, status, message=None, type_="Sender"):
    """An awsQuery ErrorResponse in the service's namespace; returns the Message."""
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("text/xml")
    ns = {"n": NAMESPACES[service]}
    root = reply.xml
    assert root.tag == f"{{{NAMESPACES[service]}}}ErrorResponse", reply.body
    assert root.findtext("n:Error/n:Type", namespaces=ns) == type_
    assert root.findtext("n:Error/n:Code", namespaces=ns) == code, reply.body
    text = root.findtext("n:Error/n:Message", namespaces=ns)
    if message is not None:
        assert text == message, reply.body
    request_id = root.findtext("n:RequestId", namespaces=ns)
    assert expect.REQUEST_ID.match(request_id), reply.body
    assert reply.headers["x-amzn-requestid"] == request_id
    return text


def check_xml_result(reply, service, action):
    """A successful awsQuery response: returns the <ActionResult> element."""
    assert reply.status == 200, (reply.status, reply.body)
    ns = NAMESPACES[service]
    root = reply.xml
    assert root.tag == f"{{{ns}}}{action}Response", reply.body
    children = list(root)
    assert [c.tag for c in children] == [f"{{{ns}}}{action}Result", f"{{{ns}}}ResponseMetadata"], reply.body
    request_id = root.findtext(f"{{{ns}}}ResponseMetadata/{{{ns}}}RequestId")
    assert expect.REQUEST_ID.match(request_id)
    assert reply.headers["x-amzn-requestid"] == request_id
    return children[0]
