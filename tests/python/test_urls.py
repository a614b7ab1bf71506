"""Download URLs fetched with plain HTTP: unsigned URLs of public objects,
signed (query-auth) URLs of private objects until they expire (boto 2 SigV2
and boto3 SigV4 presigning), tampered URLs, anonymous access (seeds 000-002)."""

import time
import urllib.parse

from helpers import http, poll_until


# The seeds pass force_http=True too; boto 2 then drops any port but 80 from
# the URL, so with a gateway on another port the (already plain-HTTP)
# connection's own scheme and port are used instead.


def put_private(conn, bucket, name, data):
    b = conn.get_bucket(bucket, validate=False)
    key = b.new_key(name)
    key.set_contents_from_string(data)
    return b.get_key(name)


def assert_denied(resp, code="AccessDenied"):
    assert resp.status == 403, (resp.status, resp.body)
    assert resp.error_code() == code, resp.body
    assert "xml" in (resp.header("Content-Type") or ""), resp.header("Content-Type")


def test_unsigned_url_of_public_object(conn, bucket, endpoint):
    b = conn.get_bucket(bucket, validate=False)
    b.new_key("hello.txt").set_contents_from_string("Hello World!")
    hello_key = b.get_key("hello.txt")
    hello_key.set_canned_acl("public-read")

    hello_url = hello_key.generate_url(0, query_auth=False)
    assert hello_url == f"{endpoint}/{bucket}/hello.txt"
    r = http("GET", hello_url)
    assert r.status == 200, r.body
    assert r.body == b"Hello World!"
    head = http("HEAD", hello_url)
    assert head.status == 200
    assert head.header("Content-Length") == "12"


def test_anonymous_get_of_private_object_is_denied(conn, bucket, endpoint):
    key = put_private(conn, bucket, "secret_plans.txt", "the plans")
    key.set_canned_acl("private")
    url = key.generate_url(0, query_auth=False)
    assert_denied(http("GET", url))
    assert b"the plans" not in http("GET", url).body
    # A missing object in a private bucket does not leak that it is missing.
    assert_denied(http("GET", f"{endpoint}/{bucket}/no-such-object"))


def test_boto2_signed_url_works_until_it_expires(conn, bucket):
    plans_key = put_private(conn, bucket, "secret_plans.txt", "the plans")
    issued = time.time()
    plans_url = plans_key.generate_url(3, query_auth=True)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(plans_url).query)
    assert set(query) >= {"Signature", "Expires", "AWSAccessKeyId"}

    r = http("GET", plans_url)
    assert r.status == 200, (r.status, r.body)
    assert r.body == b"the plans"

    expired = poll_until(lambda: http("GET", plans_url).status != 200, timeout=20)
    assert expired, "signed URL still works 20 s after its 3 s expiry"
    assert time.time() - issued >= 2, "signed URL stopped working before it expired"
    assert_denied(http("GET", plans_url))


def test_boto3_presigned_url_works_until_it_expires(s3, bucket):
    s3.put_object(Bucket=bucket, Key="secret.bin", Body=b"\x00\x01binary")
    issued = time.time()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "secret.bin"}, ExpiresIn=3)
    assert "X-Amz-Signature=" in url

    r = http("GET", url)
    assert r.status == 200, (r.status, r.body)
    assert r.body == b"\x00\x01binary"

    expired = poll_until(lambda: http("GET", url).status != 200, timeout=20)
    assert expired, "presigned URL still works 20 s after its 3 s expiry"
    assert time.time() - issued >= 2, "presigned URL stopped working before it expired"
    assert_denied(http("GET", url))


def test_boto3_presigned_put(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=300)
    r = http("PUT", url, data=b"uploaded by URL", headers={"Content-Type": "application/octet-stream"})
    assert r.status == 200, (r.status, r.body)
    assert s3.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded by URL"


def _replace_param(url, name, new_value):
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, new_value(v) if k == name else v) for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _flip_first_char(s):
    # The first base64 digit carries real signature bits (the last may be padding).
    return ("A" if s[0] != "A" else "B") + s[1:]


def test_tampered_signed_urls_are_refused(conn, s3, bucket):
    plans_key = put_private(conn, bucket, "secret_plans.txt", "the plans")
    put_private(conn, bucket, "other.txt", "other")

    v2 = plans_key.generate_url(300, query_auth=True)
    assert http("GET", v2).status == 200
    assert_denied(http("GET", _replace_param(v2, "Signature", _flip_first_char)), "SignatureDoesNotMatch")
    assert_denied(http("GET", _replace_param(v2, "Expires", lambda v: str(int(v) + 3600))), "SignatureDoesNotMatch")
    assert_denied(http("GET", v2.replace("/secret_plans.txt?", "/other.txt?")), "SignatureDoesNotMatch")

    v4 = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "secret_plans.txt"}, ExpiresIn=300)
    assert http("GET", v4).status == 200
    assert_denied(http("GET", _replace_param(v4, "X-Amz-Signature", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1"))), "SignatureDoesNotMatch")
    assert_denied(http("GET", _replace_param(v4, "X-Amz-Expires", lambda v: "600")), "SignatureDoesNotMatch")
    assert_denied(http("GET", v4.replace("/secret_plans.txt?", "/other.txt?")), "SignatureDoesNotMatch")
