"""Ranged GETs: boto3 `Range`, boto 2 `get_contents_as_string(headers=...)`,
plain HTTP, and unsatisfiable ranges."""

import os

import pytest
from botocore.exceptions import ClientError

from helpers import http

SIZE = 300 * 1024  # several of the storage nodes' 64 KiB hash chunks


@pytest.fixture
def ranged(s3, bucket):
    data = os.urandom(SIZE)
    s3.put_object(Bucket=bucket, Key="ranged.bin", Body=data, ACL="public-read")
    return bucket, data


@pytest.mark.parametrize(
    "spec,start,end",
    [
        ("bytes=0-0", 0, 0),
        ("bytes=100-199", 100, 199),
        ("bytes=65530-65545", 65530, 65545),  # across a 64 KiB chunk boundary
        ("bytes=131072-262143", 131072, 262143),
        (f"bytes={SIZE - 10}-", SIZE - 10, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        (f"bytes=100-{SIZE + 1000}", 100, SIZE - 1),  # clamped to the object
    ],
)
def test_boto3_range(s3, ranged, spec, start, end):
    bucket, data = ranged
    got = s3.get_object(Bucket=bucket, Key="ranged.bin", Range=spec)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["ContentRange"] == f"bytes {start}-{end}/{SIZE}"
    assert got["ContentLength"] == end - start + 1
    assert got["Body"].read() == data[start : end + 1]


def test_boto2_range(conn, ranged):
    bucket, data = ranged
    key = conn.lookup(bucket).get_key("ranged.bin")
    assert key.get_contents_as_string(headers={"Range": "bytes=5-14"}) == data[5:15]
    key = conn.lookup(bucket).get_key("ranged.bin")
    assert key.get_contents_as_string(headers={"Range": "bytes=-100"}) == data[-100:]


def test_plain_http_range(ranged, endpoint):
    bucket, data = ranged
    r = http("GET", f"{endpoint}/{bucket}/ranged.bin", headers={"Range": "bytes=1000-1999"})
    assert r.status == 206
    assert r.header("Content-Range") == f"bytes 1000-1999/{SIZE}"
    assert r.header("Accept-Ranges") == "bytes"
    assert r.body == data[1000:2000]


def test_unsatisfiable_range(s3, ranged):
    bucket, _ = ranged
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="ranged.bin", Range=f"bytes={SIZE}-{SIZE + 10}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert e.value.response["Error"]["Code"] == "InvalidRange"
