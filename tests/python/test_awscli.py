"""Smoke test with the aws CLI (Debian's awscli, scripts/setup.sh installs it):
`aws s3 mb/cp/ls/rm/rb` and `aws s3api put-object/get-object/head-object/
list-objects-v2` against the gateway."""

import json
import os
import shutil
import subprocess

import pytest

from helpers import MIB, md5, sha256_file


def find_aws():
    # Prefer Debian's package over another aws on PATH.
    if os.access("/usr/bin/aws", os.X_OK):
        return "/usr/bin/aws"
    return shutil.which("aws")


@pytest.fixture(scope="module")
def aws_bin():
    path = find_aws()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("the aws CLI is missing (scripts/setup.sh installs Debian's awscli)")
        pytest.skip("the aws CLI is missing; run scripts/setup.sh")
    return path


@pytest.fixture
def aws(aws_bin, endpoint, user1, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=user1["access"],
        AWS_SECRET_ACCESS_KEY=user1["secret"],
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_PAGER="",
        AWS_EC2_METADATA_DISABLED="true",
    )

    def run(*args, check=True):
        cmd = [aws_bin, "--endpoint-url", endpoint, *args]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            pytest.fail(f"{' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    return run


def test_aws_s3_commands(aws, bucket_name, tmp_path):
    small = tmp_path / "small.txt"
    small.write_text("hello from the aws cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * MIB))  # above the CLI's 8 MiB multipart threshold

    assert f"make_bucket: {bucket_name}" in aws("s3", "mb", f"s3://{bucket_name}").stdout
    assert bucket_name in aws("s3", "ls").stdout

    aws("s3", "cp", str(small), f"s3://{bucket_name}/docs/small.txt")
    aws("s3", "cp", str(big), f"s3://{bucket_name}/big.bin")

    top = aws("s3", "ls", f"s3://{bucket_name}/").stdout
    assert "PRE docs/" in top
    assert f"{12 * MIB} big.bin" in " ".join(top.split())
    listing = aws("s3", "ls", "--recursive", f"s3://{bucket_name}/").stdout
    assert "docs/small.txt" in listing and "big.bin" in listing

    out = tmp_path / "out"
    out.mkdir()
    aws("s3", "cp", f"s3://{bucket_name}/big.bin", str(out / "big.bin"))
    assert sha256_file(out / "big.bin") == sha256_file(big)
    assert aws("s3", "cp", f"s3://{bucket_name}/docs/small.txt", "-").stdout == "hello from the aws cli\n"

    # rb refuses a non-empty bucket.
    refused = aws("s3", "rb", f"s3://{bucket_name}", check=False)
    assert refused.returncode != 0
    assert "BucketNotEmpty" in refused.stderr

    aws("s3", "rm", f"s3://{bucket_name}/big.bin")
    assert "big.bin" not in aws("s3", "ls", "--recursive", f"s3://{bucket_name}/").stdout
    aws("s3", "rm", "--recursive", f"s3://{bucket_name}/")
    assert aws("s3", "ls", "--recursive", f"s3://{bucket_name}/").stdout.strip() == ""
    aws("s3", "rb", f"s3://{bucket_name}")
    assert bucket_name not in aws("s3", "ls").stdout


def test_aws_s3api_commands(aws, bucket_name, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"hello": "s3api"}')

    aws("s3api", "create-bucket", "--bucket", bucket_name)
    put = json.loads(
        aws(
            "s3api", "put-object", "--bucket", bucket_name, "--key", "dir/obj.json",
            "--body", str(body), "--content-type", "application/json", "--metadata", "color=blue",
        ).stdout
    )
    assert put["ETag"] == f'"{md5(body.read_bytes())}"'

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket_name, "--key", "dir/obj.json").stdout)
    assert head["ContentLength"] == len(body.read_bytes())
    assert head["ContentType"] == "application/json"
    assert head["Metadata"] == {"color": "blue"}
    assert head["ETag"] == put["ETag"]

    target = tmp_path / "got.json"
    got = json.loads(aws("s3api", "get-object", "--bucket", bucket_name, "--key", "dir/obj.json", str(target)).stdout)
    assert target.read_bytes() == body.read_bytes()
    assert got["ContentLength"] == len(body.read_bytes())

    aws("s3api", "put-object", "--bucket", bucket_name, "--key", "top.txt", "--body", str(body))
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name).stdout)
    assert [o["Key"] for o in listed["Contents"]] == ["dir/obj.json", "top.txt"]
    delim = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name, "--delimiter", "/").stdout)
    assert [o["Key"] for o in delim["Contents"]] == ["top.txt"]
    assert [p["Prefix"] for p in delim["CommonPrefixes"]] == ["dir/"]

    missing = aws("s3api", "head-object", "--bucket", bucket_name, "--key", "nope", check=False)
    assert missing.returncode != 0
    assert "404" in missing.stderr
    missing = aws("s3api", "get-object", "--bucket", bucket_name, "--key", "nope", str(tmp_path / "x"), check=False)
    assert missing.returncode != 0
    assert "NoSuchKey" in missing.stderr
