"""Bucket CORS configuration: set/get/delete (seed 003) and how the gateway
answers browser preflights and cross-origin requests."""

import boto.exception
import pytest
from boto.s3.cors import CORSConfiguration
from botocore.exceptions import ClientError

from helpers import http


def seed_config():
    cors_cfg = CORSConfiguration()
    cors_cfg.add_rule(
        ["PUT", "POST", "DELETE"],
        "https://www.example.com",
        allowed_header="*",
        max_age_seconds=3000,
        expose_header="x-amz-server-side-encryption",
    )
    cors_cfg.add_rule("GET", "*")
    return cors_cfg


def preflight(endpoint, bucket, origin, method, headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return http("OPTIONS", f"{endpoint}/{bucket}/some/key.txt", headers=h)


def test_cors_set_get_delete_with_boto2(conn, bucket):
    b = conn.lookup(bucket)
    b.set_cors(seed_config())

    rules = b.get_cors()
    assert len(rules) == 2
    first, second = rules
    assert sorted(first.allowed_method) == ["DELETE", "POST", "PUT"]
    assert first.allowed_origin == ["https://www.example.com"]
    assert first.allowed_header == ["*"]
    assert int(first.max_age_seconds) == 3000
    assert first.expose_header == ["x-amz-server-side-encryption"]
    assert second.allowed_method == ["GET"]
    assert second.allowed_origin == ["*"]

    b.delete_cors()
    with pytest.raises(boto.exception.S3ResponseError) as e:
        b.get_cors()
    assert e.value.status == 404
    assert e.value.error_code == "NoSuchCORSConfiguration"


def test_cors_with_boto3(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"

    rules = [
        {
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedOrigins": ["https://app.example.org"],
            "AllowedHeaders": ["Authorization"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert len(got) == 1
    got[0].pop("ID", None)
    assert got == rules

    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"


def test_cors_preflight(conn, bucket, endpoint):
    # No configuration: preflights are refused.
    r = preflight(endpoint, bucket, "https://www.example.com", "PUT")
    assert r.status == 403, (r.status, r.body)
    assert r.header("Access-Control-Allow-Origin") is None

    conn.lookup(bucket).set_cors(seed_config())

    r = preflight(endpoint, bucket, "https://www.example.com", "PUT", "content-type, x-amz-meta-foo")
    assert r.status == 200, (r.status, r.body)
    assert r.header("Access-Control-Allow-Origin") == "https://www.example.com"
    allowed = {m.strip() for m in (r.header("Access-Control-Allow-Methods") or "").split(",")}
    assert "PUT" in allowed, r.headers
    allowed_headers = {h.strip().lower() for h in (r.header("Access-Control-Allow-Headers") or "").split(",")}
    assert {"content-type", "x-amz-meta-foo"} <= allowed_headers or "*" in allowed_headers, r.headers
    assert r.header("Access-Control-Max-Age") == "3000"

    # Rule 2: GET from anywhere.
    r = preflight(endpoint, bucket, "http://elsewhere.example", "GET")
    assert r.status == 200, (r.status, r.body)
    assert r.header("Access-Control-Allow-Origin") in ("*", "http://elsewhere.example")
    assert "GET" in (r.header("Access-Control-Allow-Methods") or "")

    # Neither rule allows DELETE from another origin.
    r = preflight(endpoint, bucket, "https://evil.example", "DELETE")
    assert r.status == 403, (r.status, r.headers, r.body)
    assert r.header("Access-Control-Allow-Origin") is None


def test_cors_headers_on_actual_request(conn, bucket, endpoint):
    b = conn.lookup(bucket)
    b.set_cors(seed_config())
    key = b.new_key("pub.txt")
    key.set_contents_from_string("public", policy="public-read")

    r = http("GET", f"{endpoint}/{bucket}/pub.txt", headers={"Origin": "http://elsewhere.example"})
    assert r.status == 200
    assert r.body == b"public"
    assert r.header("Access-Control-Allow-Origin") in ("*", "http://elsewhere.example"), r.headers
