"""Access control lists: canned ACLs (set/get, the XML grants, and their
effect), grants to another user by canonical id and by email (seed 003)."""

import xml.etree.ElementTree as ET

import boto.exception
import pytest
from boto.s3.bucket import Bucket
from botocore.exceptions import ClientError

from helpers import ALL_USERS, AUTHENTICATED_USERS, boto3_grant_set, grant_set, http, strip_ns

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def expected_grants(owner_id, canned):
    owner = ("CanonicalUser", owner_id, "FULL_CONTROL")
    extra = {
        "private": set(),
        "public-read": {("Group", ALL_USERS, "READ")},
        "public-read-write": {("Group", ALL_USERS, "READ"), ("Group", ALL_USERS, "WRITE")},
        "authenticated-read": {("Group", AUTHENTICATED_USERS, "READ")},
    }[canned]
    return {owner} | extra


def xml_grants(xml):
    """(owner id, {(xsi:type, id-or-uri, permission)}) of an AccessControlPolicy document."""
    if isinstance(xml, bytes):
        xml = xml.decode()
    root = ET.fromstring(xml)
    assert strip_ns(root.tag) == "AccessControlPolicy"
    owner_id = None
    grants = set()
    for child in root:
        if strip_ns(child.tag) == "Owner":
            owner_id = next(c.text for c in child if strip_ns(c.tag) == "ID")
        if strip_ns(child.tag) == "AccessControlList":
            for grant in child:
                grantee = next(c for c in grant if strip_ns(c.tag) == "Grantee")
                permission = next(c.text for c in grant if strip_ns(c.tag) == "Permission")
                who = next(c.text for c in grantee if strip_ns(c.tag) in ("ID", "URI", "EmailAddress"))
                grants.add((grantee.get(XSI_TYPE), who, permission))
    return owner_id, grants


@pytest.fixture
def b2bucket(conn, bucket):
    return Bucket(conn, bucket)


@pytest.mark.parametrize("canned", ["private", "public-read", "public-read-write", "authenticated-read"])
def test_object_canned_acl_set_get(b2bucket, owner_id, canned):
    key = b2bucket.new_key("hello.txt")
    key.set_contents_from_string("Hello World!")
    key = b2bucket.get_key("hello.txt")
    key.set_canned_acl(canned)

    policy = key.get_acl()
    assert policy.owner.id == owner_id
    assert grant_set(policy.acl.grants) == expected_grants(owner_id, canned)
    xml_owner, grants = xml_grants(b2bucket.get_xml_acl("hello.txt"))
    assert xml_owner == owner_id
    assert grants == expected_grants(owner_id, canned)


@pytest.mark.parametrize("canned", ["private", "public-read", "public-read-write", "authenticated-read"])
def test_bucket_canned_acl_set_get(b2bucket, s3, owner_id, canned):
    b2bucket.set_acl(canned)
    assert grant_set(b2bucket.get_acl().acl.grants) == expected_grants(owner_id, canned)
    xml_owner, grants = xml_grants(b2bucket.get_xml_acl())
    assert xml_owner == owner_id
    assert grants == expected_grants(owner_id, canned)
    out = s3.get_bucket_acl(Bucket=b2bucket.name)
    assert out["Owner"]["ID"] == owner_id
    assert boto3_grant_set(out["Grants"]) == expected_grants(owner_id, canned)


def test_canned_acl_effect_on_anonymous_and_other_users(b2bucket, conn2, endpoint):
    b2bucket.new_key("hello.txt").set_contents_from_string("Hello World!")
    url = f"{endpoint}/{b2bucket.name}/hello.txt"
    other = Bucket(conn2, b2bucket.name)

    # Private by default.
    r = http("GET", url)
    assert r.status == 403 and r.error_code() == "AccessDenied", (r.status, r.body)
    with pytest.raises(boto.exception.S3ResponseError) as e:
        other.new_key("hello.txt").get_contents_as_string()
    assert e.value.status == 403

    # Seed 003's three ways: key.set_acl, bucket.set_acl(policy, key), key.set_canned_acl.
    b2bucket.get_key("hello.txt").set_acl("public-read")
    r = http("GET", url)
    assert (r.status, r.body) == (200, b"Hello World!")

    b2bucket.set_acl("private", "hello.txt")
    assert http("GET", url).status == 403

    b2bucket.get_key("hello.txt").set_canned_acl("authenticated-read")
    assert http("GET", url).status == 403
    assert other.new_key("hello.txt").get_contents_as_string() == b"Hello World!"

    b2bucket.get_key("hello.txt").set_canned_acl("private")
    with pytest.raises(boto.exception.S3ResponseError) as e:
        other.new_key("hello.txt").get_contents_as_string()
    assert e.value.status == 403


def test_public_read_write_bucket_accepts_anonymous_writes(b2bucket, endpoint):
    url = f"{endpoint}/{b2bucket.name}/anon.txt"
    r = http("PUT", url, data=b"from nobody")
    assert r.status == 403 and r.error_code() == "AccessDenied", (r.status, r.body)

    b2bucket.set_acl("public-read-write")
    r = http("PUT", url, data=b"from nobody")
    assert r.status == 200, r.body
    assert b2bucket.get_key("anon.txt").get_contents_as_string() == b"from nobody"


def test_boto3_object_acl(s3, bucket, owner_id, endpoint):
    s3.put_object(Bucket=bucket, Key="o", Body=b"data", ACL="public-read")
    out = s3.get_object_acl(Bucket=bucket, Key="o")
    assert out["Owner"]["ID"] == owner_id
    assert boto3_grant_set(out["Grants"]) == expected_grants(owner_id, "public-read")
    assert http("GET", f"{endpoint}/{bucket}/o").body == b"data"

    s3.put_object_acl(Bucket=bucket, Key="o", ACL="private")
    assert boto3_grant_set(s3.get_object_acl(Bucket=bucket, Key="o")["Grants"]) == expected_grants(owner_id, "private")
    assert http("GET", f"{endpoint}/{bucket}/o").status == 403


def test_add_user_grant_by_canonical_id(b2bucket, conn2, s3_2, owner_id, user2):
    b2bucket.new_key("mykeytoshare").set_contents_from_string("shared by id")
    other = Bucket(conn2, b2bucket.name)
    with pytest.raises(boto.exception.S3ResponseError) as e:
        other.new_key("mykeytoshare").get_contents_as_string()
    assert e.value.status == 403

    key = b2bucket.lookup("mykeytoshare")
    key.add_user_grant("READ", user2["canonical_id"])
    assert grant_set(key.get_acl().acl.grants) == {
        ("CanonicalUser", owner_id, "FULL_CONTROL"),
        ("CanonicalUser", user2["canonical_id"], "READ"),
    }

    assert other.new_key("mykeytoshare").get_contents_as_string() == b"shared by id"
    assert s3_2.get_object(Bucket=b2bucket.name, Key="mykeytoshare")["Body"].read() == b"shared by id"
    # READ on one object is not WRITE on the bucket, nor READ on other objects.
    with pytest.raises(ClientError) as e3:
        s3_2.put_object(Bucket=b2bucket.name, Key="mykeytoshare", Body=b"overwritten")
    assert e3.value.response["Error"]["Code"] == "AccessDenied"
    b2bucket.new_key("not-shared").set_contents_from_string("secret")
    with pytest.raises(ClientError) as e3:
        s3_2.get_object(Bucket=b2bucket.name, Key="not-shared")
    assert e3.value.response["Error"]["Code"] == "AccessDenied"
    assert b2bucket.get_key("mykeytoshare").get_contents_as_string() == b"shared by id"


def test_add_email_grant(b2bucket, conn2, owner_id, user2):
    b2bucket.new_key("mykeytoshare").set_contents_from_string("shared by email")
    other = Bucket(conn2, b2bucket.name)
    with pytest.raises(boto.exception.S3ResponseError) as e:
        other.new_key("mykeytoshare").get_contents_as_string()
    assert e.value.status == 403

    key = b2bucket.lookup("mykeytoshare")
    key.add_email_grant("READ", user2["email"])
    grants = key.get_acl().acl.grants
    assert ("CanonicalUser", owner_id, "FULL_CONTROL") in grant_set(grants)
    read = [g for g in grants if g.permission == "READ"]
    assert len(read) == 1, grant_set(grants)
    # S3 stores e-mail grants as the canonical user they name.
    assert read[0].id == user2["canonical_id"] or read[0].email_address == user2["email"], grant_set(grants)

    assert other.new_key("mykeytoshare").get_contents_as_string() == b"shared by email"


def test_add_email_grant_unknown_address(b2bucket):
    key = b2bucket.new_key("k")
    key.set_contents_from_string("x")
    with pytest.raises(boto.exception.S3ResponseError) as e:
        key.add_email_grant("READ", "nobody-here@example.invalid")
    assert e.value.status == 400
    assert e.value.error_code == "UnresolvableGrantByEmailAddress"


def test_bucket_user_grant_lets_other_user_list(b2bucket, conn2, user2):
    b2bucket.new_key("a").set_contents_from_string("1")
    other = Bucket(conn2, b2bucket.name)
    with pytest.raises(boto.exception.S3ResponseError) as e:
        list(other.list())
    assert e.value.status == 403

    b2bucket.add_user_grant("READ", user2["canonical_id"])
    assert [k.name for k in other.list()] == ["a"]
