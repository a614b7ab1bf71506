"""Objects: upload from string / file / filename, download to string / file,
metadata, head, copy, delete (one and many), conditional GET, NoSuchKey."""

import io
import os
from datetime import datetime, timedelta, timezone

import boto.exception
import pytest
from boto.s3.bucket import Bucket
from boto.s3.key import Key
from botocore.exceptions import ClientError

from helpers import ALL_USERS, assert_recent, grant_set, http, md5, unique_bucket_name


def client_error(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def b2bucket(conn, bucket):
    """The `bucket` fixture as a boto 2 Bucket (seed 000's `Bucket(conn, name)`)."""
    return Bucket(conn, bucket)


def test_upload_string_with_content_type_and_public_read(b2bucket, endpoint, owner_id):
    key = Key(b2bucket)
    key.key = "test.txt"
    key.content_type = "text/plain"
    key.set_contents_from_string("This is a test.", policy="public-read")

    assert grant_set(key.get_acl().acl.grants) == {
        ("CanonicalUser", owner_id, "FULL_CONTROL"),
        ("Group", ALL_USERS, "READ"),
    }
    r = http("GET", f"{endpoint}/{b2bucket.name}/test.txt")
    assert r.status == 200, r.body
    assert r.body == b"This is a test."
    assert r.header("Content-Type") == "text/plain"
    assert r.header("Content-Length") == "15"
    assert r.header("ETag") == f'"{md5(b"This is a test.")}"'


def test_upload_from_file_and_filename_then_download(b2bucket, tmp_path):
    data = os.urandom(200_000)
    src = tmp_path / "foo.jpg"
    src.write_bytes(data)

    k = Key(b2bucket)
    k.key = "myfile"
    k.set_contents_from_filename(str(src))
    fetched = b2bucket.get_key("myfile")
    assert fetched.content_type == "image/jpeg"  # boto guesses it from the file name
    assert fetched.size == len(data)
    dst = tmp_path / "bar.jpg"
    fetched.get_contents_to_filename(str(dst))
    assert dst.read_bytes() == data

    k2 = Key(b2bucket)
    k2.key = "fromfile.bin"
    with open(src, "rb") as fp:
        # boto guesses the type from fp.name unless the header is given.
        k2.set_contents_from_file(fp, headers={"Content-Type": "application/x-satstore"})
    out = io.BytesIO()
    b2bucket.get_key("fromfile.bin").get_contents_to_file(out)
    assert out.getvalue() == data
    assert b2bucket.get_key("fromfile.bin").content_type == "application/x-satstore"


def test_new_key_and_get_contents_as_string(b2bucket):
    key = b2bucket.new_key("hello.txt")
    key.set_contents_from_string("Hello World!")
    got = b2bucket.get_key("hello.txt")
    assert got.size == 12
    assert got.get_contents_as_string() == b"Hello World!"
    assert got.get_contents_as_string(encoding="utf-8") == "Hello World!"


def test_overwrite_replaces_contents(b2bucket):
    b2bucket.new_key("k").set_contents_from_string("first version")
    b2bucket.new_key("k").set_contents_from_string("second")
    assert b2bucket.get_key("k").get_contents_as_string() == b"second"
    assert [k.name for k in b2bucket.list()] == ["k"]


def test_metadata_set_and_get(b2bucket, s3, tmp_path):
    src = tmp_path / "foo.txt"
    src.write_text("metadata carrier\n")
    k = Key(b2bucket)
    k.key = "has_metadata"
    k.set_metadata("meta1", "This is the first metadata value")
    k.set_metadata("meta2", "This is the second metadata value")
    k.set_contents_from_filename(str(src))

    k = b2bucket.get_key("has_metadata")
    assert k.get_metadata("meta1") == "This is the first metadata value"
    assert k.get_metadata("meta2") == "This is the second metadata value"
    head = s3.head_object(Bucket=b2bucket.name, Key="has_metadata")
    assert head["Metadata"] == {
        "meta1": "This is the first metadata value",
        "meta2": "This is the second metadata value",
    }
    assert head["ContentType"] == "text/plain"


def test_head_object(s3, bucket):
    body = b"head me please"
    s3.put_object(
        Bucket=bucket,
        Key="dir/obj.json",
        Body=body,
        ContentType="application/json",
        Metadata={"color": "blue", "Mixed-Case": "Value With Spaces"},
    )
    head = s3.head_object(Bucket=bucket, Key="dir/obj.json")
    assert head["ContentLength"] == len(body)
    assert head["ContentType"] == "application/json"
    assert head["ETag"] == f'"{md5(body)}"'
    assert head["Metadata"] == {"color": "blue", "mixed-case": "Value With Spaces"}
    assert_recent(head["LastModified"])
    got = s3.get_object(Bucket=bucket, Key="dir/obj.json")
    assert got["Body"].read() == body
    assert got["Metadata"] == head["Metadata"]
    assert got["ETag"] == head["ETag"]


def test_delete_key(b2bucket, s3):
    b2bucket.new_key("goodbye.txt").set_contents_from_string("bye")
    b2bucket.delete_key("goodbye.txt")
    assert b2bucket.get_key("goodbye.txt") is None
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b2bucket.name, Key="goodbye.txt")
    assert client_error(e) == ("NoSuchKey", 404)
    # Deleting what is not there succeeds (S3 semantics).
    assert s3.delete_object(Bucket=b2bucket.name, Key="goodbye.txt")["ResponseMetadata"]["HTTPStatusCode"] == 204
    b2bucket.delete_key("never-existed")


def test_no_such_key(s3, b2bucket):
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b2bucket.name, Key="missing")
    assert client_error(e) == ("NoSuchKey", 404)
    assert e.value.response["Error"].get("Key") == "missing"
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=b2bucket.name, Key="missing")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert b2bucket.get_key("missing") is None
    k = Key(b2bucket)
    k.key = "missing"
    with pytest.raises(boto.exception.S3ResponseError) as e2:
        k.get_contents_as_string()
    assert e2.value.status == 404
    assert e2.value.error_code == "NoSuchKey"


def test_copy_object(s3, conn, bucket, request):
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/x-src", Metadata={"a": "1"})

    s3.copy_object(Bucket=bucket, Key="same-meta", CopySource={"Bucket": bucket, "Key": "src"})
    got = s3.get_object(Bucket=bucket, Key="same-meta")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"a": "1"}
    assert got["ContentType"] == "text/x-src"

    s3.copy_object(
        Bucket=bucket,
        Key="new-meta",
        CopySource=f"{bucket}/src",
        MetadataDirective="REPLACE",
        Metadata={"b": "2"},
        ContentType="text/x-new",
    )
    head = s3.head_object(Bucket=bucket, Key="new-meta")
    assert head["Metadata"] == {"b": "2"}
    assert head["ContentType"] == "text/x-new"
    assert head["ContentLength"] == 7

    # boto 2, into another bucket.
    other = conn.create_bucket(unique_bucket_name(request.node.name))
    other.copy_key("copied", bucket, "src")
    assert other.get_key("copied").get_contents_as_string() == b"copy me"
    # The source is untouched.
    assert s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"copy me"

    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "nope"})
    assert client_error(e) == ("NoSuchKey", 404)


def test_delete_objects(s3, bucket):
    for name in ("a", "b", "c", "keep"):
        s3.put_object(Bucket=bucket, Key=name, Body=name.encode())
    out = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "c"}, {"Key": "not-there"}]},
    )
    assert sorted(d["Key"] for d in out.get("Deleted", [])) == ["a", "b", "c", "not-there"]
    assert out.get("Errors", []) == []
    listed = s3.list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["keep"]

    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep"}], "Quiet": True})
    assert quiet.get("Deleted", []) == []
    assert quiet.get("Errors", []) == []
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_conditional_get(s3, bucket):
    s3.put_object(Bucket=bucket, Key="cond", Body=b"conditional")
    etag = s3.head_object(Bucket=bucket, Key="cond")["ETag"]
    assert etag == f'"{md5(b"conditional")}"'

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cond", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304

    got = s3.get_object(Bucket=bucket, Key="cond", IfNoneMatch='"0123456789abcdef0123456789abcdef"')
    assert got["Body"].read() == b"conditional"
    got = s3.get_object(Bucket=bucket, Key="cond", IfMatch=etag)
    assert got["Body"].read() == b"conditional"

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cond", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert client_error(e) == ("PreconditionFailed", 412)

    future = datetime.now(timezone.utc) + timedelta(hours=1)
    past = datetime.now(timezone.utc) - timedelta(days=1)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cond", IfModifiedSince=future)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    assert s3.get_object(Bucket=bucket, Key="cond", IfModifiedSince=past)["Body"].read() == b"conditional"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="cond", IfUnmodifiedSince=past)
    assert client_error(e) == ("PreconditionFailed", 412)

    # The same with boto 3's head_object.
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="cond", IfNoneMatch=etag)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304


def test_boto3_resource_api(s3res, bucket, tmp_path):
    b = s3res.Bucket(bucket)
    b.put_object(Key="res/one.txt", Body=b"one", ContentType="text/plain")
    b.upload_fileobj(io.BytesIO(b"two"), "res/two.txt")
    assert sorted(o.key for o in b.objects.filter(Prefix="res/")) == ["res/one.txt", "res/two.txt"]

    obj = s3res.Object(bucket, "res/one.txt")
    assert obj.content_length == 3
    assert obj.content_type == "text/plain"
    assert obj.get()["Body"].read() == b"one"
    out = tmp_path / "two.txt"
    b.download_file("res/two.txt", str(out))
    assert out.read_bytes() == b"two"

    b.objects.all().delete()
    assert list(b.objects.all()) == []
    b.delete()
    assert bucket not in {x.name for x in s3res.buckets.all()}


def test_response_overrides_and_expires(s3, bucket):
    s3.put_object(
        Bucket=bucket,
        Key="over",
        Body=b"override me",
        ContentType="text/plain",
        CacheControl="max-age=60",
        ContentDisposition="inline",
        ContentLanguage="en",
        Expires=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    )
    head = s3.head_object(Bucket=bucket, Key="over")
    assert head["ContentType"] == "text/plain"
    assert head["CacheControl"] == "max-age=60"
    assert head["ContentDisposition"] == "inline"
    assert head["ContentLanguage"] == "en"
    assert head["Expires"] == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    got = s3.get_object(
        Bucket=bucket,
        Key="over",
        ResponseContentType="application/x-custom",
        ResponseContentDisposition='attachment; filename="x.txt"',
        ResponseCacheControl="no-store",
        ResponseContentLanguage="fr",
    )
    assert got["Body"].read() == b"override me"
    assert got["ContentType"] == "application/x-custom"
    assert got["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert got["CacheControl"] == "no-store"
    assert got["ContentLanguage"] == "fr"
    # The stored headers are unchanged by a response override.
    assert s3.head_object(Bucket=bucket, Key="over")["ContentType"] == "text/plain"


def test_content_md5_is_checked_and_nothing_is_stored_on_mismatch(s3, bucket):
    import base64
    import hashlib

    good = base64.b64encode(hashlib.md5(b"digest me").digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5ok", Body=b"digest me", ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="md5bad", Body=b"digest me", ContentMD5=bad)
    assert client_error(e) == ("BadDigest", 400)
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="md5bad")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
