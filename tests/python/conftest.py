"""Fixtures of the Python S3 client tests.

One localnet (satellite, storage nodes, S3 gateway) runs for the whole pytest
session; the tests talk to its gateway with boto3, boto 2.49, the aws CLI and
plain HTTP (urllib), exactly as the tutorials in shared/seeds do, changing
only host and credentials.

Environment knobs:
- LOCALNET_BIN: the localnet binary (default $CARGO_TARGET_DIR/debug/localnet,
  CARGO_TARGET_DIR defaulting to ~/.cache/satstore-target as scripts/env.sh).
- S3_ENV_FILE: use an already running network's `env` file instead of starting one.
"""

import collections
import collections.abc
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

# boto 2.49 predates Python 3.10: give it the collections aliases it uses.
for _name in ("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Callable", "Iterable", "MutableSet"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

# Keep the clients hermetic: no user config, no retries that hide failures.
_CONFIG_DIR = Path(tempfile.mkdtemp(prefix="satstore-s3-clients-"))
(_CONFIG_DIR / "boto.cfg").write_text("[Boto]\nnum_retries = 0\nhttp_socket_timeout = 120\n")
os.environ["BOTO_CONFIG"] = str(_CONFIG_DIR / "boto.cfg")
os.environ["BOTO_PATH"] = str(_CONFIG_DIR / "boto.cfg")
os.environ["AWS_CONFIG_FILE"] = str(_CONFIG_DIR / "aws-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(_CONFIG_DIR / "aws-credentials")
for _var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)

import boto  # noqa: E402  (after the shims and BOTO_CONFIG)
import boto3  # noqa: E402
from boto.s3.connection import OrdinaryCallingFormat, S3Connection  # noqa: E402
from botocore.config import Config  # noqa: E402

from helpers import unique_bucket_name  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0
REQUIRED_VARS = ("S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY")

_localnet_log = None
_localnet_dir = None


def _localnet_bin():
    if os.environ.get("LOCALNET_BIN"):
        return Path(os.environ["LOCALNET_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "satstore-target")
    return Path(target) / "debug" / "localnet"


def parse_env(text):
    """Parses `export NAME=value` lines (values may be shell-quoted)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        name, sep, value = line.partition("=")
        if not sep:
            continue
        parts = shlex.split(value) if value else [""]
        env[name.strip()] = parts[0] if parts else ""
    return env


def _read_complete_env(path):
    """The parsed env file once it is completely written with the S3 vars, else None."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    if not text.endswith("\n"):
        return None
    env = parse_env(text)
    if not all(env.get(v) for v in REQUIRED_VARS):
        return None
    return env


def _tail(path, lines=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


def _wait_tcp(host, port, deadline):
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def s3env(tmp_path_factory):
    """The localnet's env (S3_ENDPOINT, keys of both users, canonical ids, emails)."""
    global _localnet_log, _localnet_dir
    if os.environ.get("S3_ENV_FILE"):
        env = _read_complete_env(Path(os.environ["S3_ENV_FILE"]))
        if env is None:
            pytest.fail(f"S3_ENV_FILE={os.environ['S3_ENV_FILE']} lacks one of {REQUIRED_VARS}")
        yield env
        return

    binary = _localnet_bin()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build --workspace --bins` (or set LOCALNET_BIN)")
    work = tmp_path_factory.mktemp("localnet")
    data_dir = work / "net"
    _localnet_dir = data_dir
    _localnet_log = work / "localnet.log"
    env_path = data_dir / "env"
    # The default redundancy is 4/6/8/10: localnet refuses fewer than 10 nodes.
    cmd = [str(binary), "run", "--dir", str(data_dir), "--nodes", "10"]
    env = dict(os.environ, NO_COLOR="1")
    with open(_localnet_log, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=work, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        env = None
        while env is None:
            if proc.poll() is not None:
                pytest.fail(
                    f"localnet exited with {proc.returncode} before writing S3_ENDPOINT to {env_path}; "
                    f"log {_localnet_log}:\n{_tail(_localnet_log)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{env_path} had no {'/'.join(REQUIRED_VARS)} after {START_TIMEOUT:.0f} s; "
                    f"log {_localnet_log}:\n{_tail(_localnet_log)}"
                )
            env = _read_complete_env(env_path)
            if env is None:
                time.sleep(0.2)
        url = urllib.parse.urlsplit(env["S3_ENDPOINT"])
        _wait_tcp(url.hostname, url.port or 80, deadline)
        yield env
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def endpoint(s3env):
    """The gateway's base URL, without a trailing slash."""
    return s3env["S3_ENDPOINT"].rstrip("/")


def _need(s3env, name):
    value = s3env.get(name)
    if not value:
        pytest.fail(f"the localnet env lacks {name}")
    return value


@pytest.fixture(scope="session")
def user1(s3env):
    """Credentials and identity of the main S3 user."""
    return {
        "access": _need(s3env, "S3_ACCESS_KEY"),
        "secret": _need(s3env, "S3_SECRET_KEY"),
        "canonical_id": s3env.get("S3_CANONICAL_ID"),
        "email": s3env.get("S3_EMAIL"),
    }


@pytest.fixture(scope="session")
def user2(s3env):
    """Credentials and identity of the second S3 user (another project)."""
    return {
        "access": _need(s3env, "S3_ACCESS_KEY_2"),
        "secret": _need(s3env, "S3_SECRET_KEY_2"),
        "canonical_id": _need(s3env, "S3_CANONICAL_ID_2"),
        "email": _need(s3env, "S3_EMAIL_2"),
    }


@pytest.fixture(scope="session")
def owner_id(s3env):
    """Canonical id of the main user."""
    return _need(s3env, "S3_CANONICAL_ID")


BOTO3_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "path"},
    retries={"max_attempts": 1, "mode": "standard"},
    connect_timeout=10,
    read_timeout=120,
)


def make_boto3_client(endpoint, user):
    """A boto3 S3 client for `user` against the gateway."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=user["access"],
        aws_secret_access_key=user["secret"],
        region_name="us-east-1",
        config=BOTO3_CONFIG,
    )


def make_boto2_conn(endpoint, user):
    """A boto 2 S3Connection for `user` against the gateway (plain HTTP, path style)."""
    url = urllib.parse.urlsplit(endpoint)
    return S3Connection(
        user["access"],
        user["secret"],
        host=url.hostname,
        port=url.port or 80,
        is_secure=False,
        calling_format=OrdinaryCallingFormat(),
    )


@pytest.fixture(scope="session")
def s3(endpoint, user1):
    """boto3 client of the main user."""
    return make_boto3_client(endpoint, user1)


@pytest.fixture(scope="session")
def s3_2(endpoint, user2):
    """boto3 client of the second user."""
    return make_boto3_client(endpoint, user2)


@pytest.fixture(scope="session")
def s3res(endpoint, user1):
    """boto3 resource of the main user."""
    return boto3.session.Session().resource(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=user1["access"],
        aws_secret_access_key=user1["secret"],
        region_name="us-east-1",
        config=BOTO3_CONFIG,
    )


@pytest.fixture
def conn(endpoint, user1):
    """boto 2 connection of the main user."""
    return make_boto2_conn(endpoint, user1)


@pytest.fixture
def conn2(endpoint, user2):
    """boto 2 connection of the second user."""
    return make_boto2_conn(endpoint, user2)


@pytest.fixture
def bucket_name(request):
    """A bucket name no other test uses (not created)."""
    return unique_bucket_name(request.node.name)


@pytest.fixture
def bucket(s3, bucket_name):
    """A new, private, empty bucket of the main user, created with boto3."""
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def pytest_report_header(config):
    return f"S3 clients: boto {boto.__version__}, boto3 {boto3.__version__}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _localnet_log is not None and exitstatus != 0:
        terminalreporter.write_sep("-", f"localnet log (last lines of {_localnet_log})")
        terminalreporter.write_line(_tail(_localnet_log, 30))
