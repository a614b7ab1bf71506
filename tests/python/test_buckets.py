"""Buckets: create (canned policy, location), list with creation dates, list
contents, delete, and the bucket error codes. Mirrors shared/seeds 000-003."""

import boto.exception
import pytest
from boto.s3.connection import Location
from boto.s3.key import Key
from botocore.exceptions import ClientError

from helpers import (
    ALL_USERS,
    AUTHENTICATED_USERS,
    assert_recent,
    grant_set,
    http,
    md5,
    unique_bucket_name,
)


def client_error(excinfo):
    err = excinfo.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]


def test_create_bucket_with_authenticated_read_policy(conn, conn2, endpoint, owner_id, bucket_name):
    bucket = conn.create_bucket(bucket_name, policy="authenticated-read")
    assert bucket.name == bucket_name

    grants = grant_set(bucket.get_acl().acl.grants)
    assert grants == {
        ("CanonicalUser", owner_id, "FULL_CONTROL"),
        ("Group", AUTHENTICATED_USERS, "READ"),
    }
    k = Key(bucket)
    k.key = "listed.txt"
    k.set_contents_from_string("listed")

    # Anonymous requests cannot list it; another registered user can.
    anon = http("GET", f"{endpoint}/{bucket_name}/")
    assert anon.status == 403, anon.body
    assert anon.error_code() == "AccessDenied"
    other = conn2.get_bucket(bucket_name, validate=False)
    assert [k.name for k in other.list()] == ["listed.txt"]


def test_create_bucket_with_public_read_policy(conn, endpoint, owner_id, bucket_name):
    bucket = conn.create_bucket(bucket_name, policy="public-read")
    assert grant_set(bucket.get_acl().acl.grants) == {
        ("CanonicalUser", owner_id, "FULL_CONTROL"),
        ("Group", ALL_USERS, "READ"),
    }
    bucket.new_key("hello.txt").set_contents_from_string("Hello World!")

    anon = http("GET", f"{endpoint}/{bucket_name}/")
    assert anon.status == 200, anon.body
    assert b"<ListBucketResult" in anon.body
    assert b"<Key>hello.txt</Key>" in anon.body


def test_create_private_bucket_is_not_listable_anonymously(conn, endpoint, owner_id, bucket_name):
    bucket = conn.create_bucket(bucket_name)
    assert grant_set(bucket.get_acl().acl.grants) == {("CanonicalUser", owner_id, "FULL_CONTROL")}
    anon = http("GET", f"{endpoint}/{bucket_name}/")
    assert anon.status == 403, anon.body
    assert anon.error_code() == "AccessDenied"


def test_create_bucket_in_location(conn, s3, bucket_name):
    bucket = conn.create_bucket(bucket_name, location=Location.EU)
    assert bucket.get_location() == "EU"
    assert s3.get_bucket_location(Bucket=bucket_name)["LocationConstraint"] == "EU"


def test_list_buckets_with_creation_dates(conn, s3, s3_2, owner_id, request):
    names = sorted(unique_bucket_name(request.node.name) for _ in range(2))
    for name in names:
        conn.create_bucket(name)

    listed = {b.name: b.creation_date for b in conn.get_all_buckets()}
    for name in names:
        assert name in listed, f"{name} missing from {sorted(listed)}"
        assert_recent(listed[name])

    out = s3.list_buckets()
    assert out["Owner"]["ID"] == owner_id
    by_name = {b["Name"]: b["CreationDate"] for b in out["Buckets"]}
    for name in names:
        assert_recent(by_name[name])
    # The second user lives in another project and sees none of them.
    other = {b["Name"] for b in s3_2.list_buckets()["Buckets"]}
    assert not other & set(names)


def test_list_bucket_contents_with_size_and_last_modified(conn, bucket_name):
    bucket = conn.create_bucket(bucket_name)
    contents = {"myphoto1.jpg": b"x" * 2512, "myphoto2.jpg": b"y" * 2625, "notes/a.txt": b""}
    for name, data in contents.items():
        bucket.new_key(name).set_contents_from_string(data)

    listed = list(bucket.list())
    assert [k.name for k in listed] == sorted(contents)
    for key in listed:
        assert key.size == len(contents[key.name])
        assert key.etag.strip('"') == md5(contents[key.name])
        assert_recent(key.last_modified)


def test_delete_empty_bucket(conn, s3, bucket_name):
    conn.create_bucket(bucket_name)
    conn.delete_bucket(bucket_name)
    assert bucket_name not in {b.name for b in conn.get_all_buckets()}
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket_name)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert conn.lookup(bucket_name) is None


def test_delete_non_empty_bucket_is_refused(conn, s3, bucket_name):
    bucket = conn.create_bucket(bucket_name)
    bucket.new_key("goodbye.txt").set_contents_from_string("bye")

    with pytest.raises(boto.exception.S3ResponseError) as e:
        conn.delete_bucket(bucket_name)
    assert e.value.status == 409
    assert e.value.error_code == "BucketNotEmpty"
    with pytest.raises(ClientError) as e3:
        s3.delete_bucket(Bucket=bucket_name)
    assert client_error(e3) == ("BucketNotEmpty", 409)
    # Still there, contents intact.
    assert bucket.get_key("goodbye.txt").get_contents_as_string() == b"bye"

    bucket.delete_key("goodbye.txt")
    conn.delete_bucket(bucket_name)
    assert conn.lookup(bucket_name) is None


def test_no_such_bucket(s3, conn, bucket_name):
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=bucket_name)
    assert client_error(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket_name, Key="k")
    assert client_error(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket_name, Key="k", Body=b"x")
    assert client_error(e) == ("NoSuchBucket", 404)
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket_name)
    assert client_error(e) == ("NoSuchBucket", 404)
    with pytest.raises(boto.exception.S3ResponseError) as e2:
        conn.get_bucket(bucket_name)
    assert e2.value.status == 404


@pytest.mark.parametrize(
    "name",
    ["ab", "UpperCase-bucket", "under_score-bucket", "-leading-dash", "trailing-dash-", "a" * 64, "double..dot", "192.168.5.4"],
)
def test_invalid_bucket_name(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert client_error(e) == ("InvalidBucketName", 400)


def test_bucket_already_owned_by_you(s3, conn, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=bucket_name)
    assert client_error(e) == ("BucketAlreadyOwnedByYou", 409)
    with pytest.raises(boto.exception.S3CreateError) as e2:
        conn.create_bucket(bucket_name)
    assert e2.value.status == 409
    assert e2.value.error_code == "BucketAlreadyOwnedByYou"


def test_bucket_name_taken_by_another_user(s3, s3_2, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    with pytest.raises(ClientError) as e:
        s3_2.create_bucket(Bucket=bucket_name)
    assert client_error(e) == ("BucketAlreadyExists", 409)
