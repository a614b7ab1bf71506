"""Multipart uploads of 20 MiB: boto3's transfer manager and boto 2's
explicit initiate / upload_part_from_file / complete, verified by sha256."""

import hashlib
import io
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from helpers import MIB, sha256, sha256_file

SIZE = 20 * MIB


def multipart_etag(data, part_size):
    digests = b"".join(hashlib.md5(data[i : i + part_size]).digest() for i in range(0, len(data), part_size))
    parts = (len(data) + part_size - 1) // part_size
    return f'"{hashlib.md5(digests).hexdigest()}-{parts}"'


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("multipart") / "big.bin"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, data


def test_boto3_upload_file_multipart(s3, bucket, big_file, tmp_path):
    path, data = big_file
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
    s3.upload_file(str(path), bucket, "big/boto3.bin", Config=config, ExtraArgs={"ContentType": "application/x-big"})

    head = s3.head_object(Bucket=bucket, Key="big/boto3.bin")
    assert head["ContentLength"] == SIZE
    assert head["ContentType"] == "application/x-big"
    assert head["ETag"] == multipart_etag(data, 5 * MIB)

    out = tmp_path / "down.bin"
    s3.download_file(bucket, "big/boto3.bin", str(out), Config=config)
    assert sha256_file(out) == sha256(data)
    assert sha256(s3.get_object(Bucket=bucket, Key="big/boto3.bin")["Body"].read()) == sha256(data)

    # A range across the first part boundary.
    start = 5 * MIB - 100
    got = s3.get_object(Bucket=bucket, Key="big/boto3.bin", Range=f"bytes={start}-{start + 199}")
    assert got["ContentRange"] == f"bytes {start}-{start + 199}/{SIZE}"
    assert got["Body"].read() == data[start : start + 200]


def test_boto2_multipart_upload(conn, bucket, big_file, tmp_path):
    path, data = big_file
    b = conn.lookup(bucket)
    mp = b.initiate_multipart_upload("big/boto2.bin", metadata={"origin": "boto2"})
    sizes = [8 * MIB, 8 * MIB, 4 * MIB]
    with open(path, "rb") as fp:
        for number, size in enumerate(sizes, start=1):
            mp.upload_part_from_file(fp, part_num=number, size=size)

    parts = list(mp.get_all_parts())
    assert [p.part_number for p in parts] == [1, 2, 3]
    assert [p.size for p in parts] == sizes
    offsets = [0, 8 * MIB, 16 * MIB]
    for p, off, size in zip(parts, offsets, sizes):
        assert p.etag.strip('"') == hashlib.md5(data[off : off + size]).hexdigest()
    assert mp.id in {u.id for u in b.get_all_multipart_uploads()}

    mp.complete_upload()
    assert mp.id not in {u.id for u in b.get_all_multipart_uploads()}

    key = b.get_key("big/boto2.bin")
    assert key.size == SIZE
    assert key.get_metadata("origin") == "boto2"
    out = tmp_path / "down2.bin"
    key.get_contents_to_filename(str(out))
    assert sha256_file(out) == sha256(data)
    # boto 2 ranged read across the second part boundary.
    start = 16 * MIB - 5
    got = key.get_contents_as_string(headers={"Range": f"bytes={start}-{start + 9}"})
    assert got == data[start : start + 10]


def test_abort_multipart_upload(s3, conn, bucket):
    b = conn.lookup(bucket)
    mp = b.initiate_multipart_upload("aborted.bin")
    mp.upload_part_from_file(io.BytesIO(b"x" * (5 * MIB)), part_num=1)
    listed = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [(u["Key"], u["UploadId"]) for u in listed] == [("aborted.bin", mp.id)]

    mp.cancel_upload()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="aborted.bin")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="aborted.bin", UploadId=mp.id)
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"


def test_complete_with_wrong_etag_is_refused(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="bad.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="bad.bin", UploadId=up, PartNumber=1, Body=b"only part")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="bad.bin",
            UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]},
        )
    assert e.value.response["Error"]["Code"] == "InvalidPart"
    s3.abort_multipart_upload(Bucket=bucket, Key="bad.bin", UploadId=up)

