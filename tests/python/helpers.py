"""Small helpers shared by the S3 client tests: plain HTTP, S3 error XML, names."""

import email.utils
import hashlib
import re
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
MIB = 1024 * 1024


@dataclass
class Response:
    """A plain HTTP answer: status, headers (case-insensitive lookups) and body."""

    status: int
    headers: object
    body: bytes

    def header(self, name):
        return self.headers.get(name)

    def error_code(self):
        """The `<Code>` of an S3 error document, or None when the body is no S3 error."""
        return error_code(self.body)


def http(method, url, headers=None, data=None, timeout=60):
    """Sends one request without any S3 signing (as a browser or curl would)."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read())


def error_code(body):
    """The `<Code>` of an S3 `<Error>` document."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if strip_ns(root.tag) != "Error":
        return None
    for child in root:
        if strip_ns(child.tag) == "Code":
            return child.text
    return None


def strip_ns(tag):
    return tag.split("}", 1)[-1]


def unique_bucket_name(hint="t"):
    """A valid bucket name nobody has used: `py-<hint>-<random>`."""
    hint = re.sub(r"[^a-z0-9]+", "-", hint.lower()).strip("-")[:30].strip("-") or "t"
    return f"py-{hint}-{uuid.uuid4().hex[:10]}"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def md5(data):
    return hashlib.md5(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_s3_time(value):
    """Parses the timestamps S3 uses (ISO 8601 in XML, RFC 1123 in headers)."""
    if isinstance(value, datetime):
        return value
    if "T" in value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return email.utils.parsedate_to_datetime(value)


def assert_recent(value, slack_seconds=300):
    """Asserts an S3 timestamp is within `slack_seconds` of now (same machine clock)."""
    t = parse_s3_time(value)
    assert t.tzinfo is not None, f"timestamp {value!r} has no zone"
    delta = abs((datetime.now(timezone.utc) - t).total_seconds())
    assert delta < slack_seconds, f"timestamp {value!r} is {delta:.0f} s away from now"


def poll_until(fn, timeout, interval=0.25):
    """Calls `fn` until it returns a truthy value or `timeout` seconds pass; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def grant_set(grants):
    """boto 2 grants as a set of (type, id-or-uri-or-email, permission)."""
    out = set()
    for g in grants:
        who = g.id or g.uri or g.email_address
        out.add((g.type, who, g.permission))
    return out


def boto3_grant_set(grants):
    """boto3 `Grants` as a set of (type, id-or-uri-or-email, permission)."""
    out = set()
    for g in grants:
        grantee = g["Grantee"]
        who = grantee.get("ID") or grantee.get("URI") or grantee.get("EmailAddress")
        out.add((grantee["Type"], who, g["Permission"]))
    return out
