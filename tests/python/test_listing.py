"""Listing objects: list_objects_v2 with prefix / delimiter / pagination,
the v1 listing boto 2 uses (prefix, delimiter, marker), boto3 paginators."""

import pytest
from boto.s3.prefix import Prefix

KEYS = ["a/1", "a/2", "a/b/3", "a/b/4", "b/1", "c", "d.txt", "e/f/g"]


@pytest.fixture
def listed_bucket(s3, bucket):
    for k in KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def keys(out):
    return [o["Key"] for o in out.get("Contents", [])]


def prefixes(out):
    return [p["Prefix"] for p in out.get("CommonPrefixes", [])]


def test_v2_everything(s3, listed_bucket):
    out = s3.list_objects_v2(Bucket=listed_bucket)
    assert keys(out) == sorted(KEYS)
    assert out["KeyCount"] == len(KEYS)
    assert out["IsTruncated"] is False
    assert [o["Size"] for o in out["Contents"]] == [len(k) for k in sorted(KEYS)]


def test_v2_prefix(s3, listed_bucket):
    out = s3.list_objects_v2(Bucket=listed_bucket, Prefix="a/")
    assert keys(out) == ["a/1", "a/2", "a/b/3", "a/b/4"]
    assert out["Prefix"] == "a/"
    assert keys(s3.list_objects_v2(Bucket=listed_bucket, Prefix="zzz")) == []


def test_v2_delimiter(s3, listed_bucket):
    out = s3.list_objects_v2(Bucket=listed_bucket, Delimiter="/")
    assert keys(out) == ["c", "d.txt"]
    assert prefixes(out) == ["a/", "b/", "e/"]
    assert out["KeyCount"] == 5

    out = s3.list_objects_v2(Bucket=listed_bucket, Prefix="a/", Delimiter="/")
    assert keys(out) == ["a/1", "a/2"]
    assert prefixes(out) == ["a/b/"]


def test_v2_pagination(s3, listed_bucket):
    seen = []
    token = None
    pages = 0
    while True:
        kwargs = {"Bucket": listed_bucket, "MaxKeys": 3}
        if token:
            kwargs["ContinuationToken"] = token
        out = s3.list_objects_v2(**kwargs)
        pages += 1
        assert out["KeyCount"] == len(keys(out)) <= 3
        seen += keys(out)
        if not out["IsTruncated"]:
            break
        token = out["NextContinuationToken"]
        assert pages < 10
    assert seen == sorted(KEYS)
    assert pages == 3

    paginator = s3.get_paginator("list_objects_v2")
    got = [k for page in paginator.paginate(Bucket=listed_bucket, PaginationConfig={"PageSize": 2}) for k in keys(page)]
    assert got == sorted(KEYS)

    out = s3.list_objects_v2(Bucket=listed_bucket, StartAfter="b/1")
    assert keys(out) == ["c", "d.txt", "e/f/g"]


def test_v1_listing_with_boto2(conn, listed_bucket):
    b = conn.lookup(listed_bucket)
    assert [k.name for k in b.list()] == sorted(KEYS)
    assert [k.name for k in b.list(prefix="a/b/")] == ["a/b/3", "a/b/4"]

    top = list(b.list(delimiter="/"))
    assert sorted(x.name for x in top if isinstance(x, Prefix)) == ["a/", "b/", "e/"]
    assert sorted(x.name for x in top if not isinstance(x, Prefix)) == ["c", "d.txt"]

    page = b.get_all_keys(max_keys=3)
    assert [k.name for k in page] == sorted(KEYS)[:3]
    assert page.is_truncated
    rest = b.get_all_keys(marker=page[-1].name)
    assert [k.name for k in rest] == sorted(KEYS)[3:]
    assert not rest.is_truncated


def test_v1_pagination_with_boto3(s3, listed_bucket):
    paginator = s3.get_paginator("list_objects")
    got = [k for page in paginator.paginate(Bucket=listed_bucket, PaginationConfig={"PageSize": 3}) for k in keys(page)]
    assert got == sorted(KEYS)
    out = s3.list_objects(Bucket=listed_bucket, Delimiter="/", Prefix="e/")
    assert prefixes(out) == ["e/f/"]
    assert keys(out) == []


def test_url_encoding_type_encodes_keys_and_prefixes(s3, bucket):
    for key in ["a b/c+d.txt", "a b/é.txt", "plain.txt"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    from urllib.parse import unquote

    # Asked for explicitly, botocore hands back the keys as sent: encoded.
    out = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert out.get("EncodingType") == "url"
    raw = [o["Key"] for o in out["Contents"]]
    assert raw == ["a%20b/c%2Bd.txt", "a%20b/%C3%A9.txt", "plain.txt"]
    assert [unquote(k) for k in raw] == ["a b/c+d.txt", "a b/é.txt", "plain.txt"]
    out = s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a%20b/"]
    assert [o["Key"] for o in out["Contents"]] == ["plain.txt"]


def test_other_delimiters_and_partial_prefixes(s3, bucket):
    for key in ["2024-01-a", "2024-01-b", "2024-02-a", "2025-01-a", "logs/x", "logs/y/z"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    out = s3.list_objects_v2(Bucket=bucket, Delimiter="-", Prefix="2024-")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["2024-01-", "2024-02-"]
    assert "Contents" not in out
    out = s3.list_objects_v2(Bucket=bucket, Prefix="lo", Delimiter="/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["logs/"]
    out = s3.list_objects_v2(Bucket=bucket, Prefix="logs/y")
    assert [o["Key"] for o in out["Contents"]] == ["logs/y/z"]
    # Paging through common prefixes one at a time visits each once.
    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        out = s3.list_objects_v2(Bucket=bucket, Delimiter="-", MaxKeys=1, **kw)
        seen += [p["Prefix"] for p in out.get("CommonPrefixes", [])] + [o["Key"] for o in out.get("Contents", [])]
        if not out["IsTruncated"]:
            break
        token = out["NextContinuationToken"]
    assert seen == ["2024-", "2025-", "logs/x", "logs/y/z"]
