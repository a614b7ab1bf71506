-- The gateway's own state. Portable SQL: the same text runs on SQLite and
-- PostgreSQL (TEXT and BIGINT only; binary values are hex).

-- Registered S3 users. `lookup` is a hash of the access key id; the secret
-- is sealed under a key derived from the access key id, the access grant
-- under a key derived from the secret.
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    lookup TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT UNIQUE,
    sealed_secret TEXT NOT NULL,
    sealed_grant TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Bucket names as S3 sees them: one namespace per gateway.
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Multipart uploads in progress: what CreateMultipartUpload was given
-- (metadata and ACL, sealed under the share key) until Complete.
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    sealed_meta TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Access control lists; key '' is the bucket's own ACL.
CREATE TABLE IF NOT EXISTS acls (
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    grants TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key)
);

-- Restricted grants the gateway acts with for other users and anonymous
-- readers, sealed under the gateway's share key.
CREATE TABLE IF NOT EXISTS shares (
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    grantee TEXT NOT NULL,
    permission TEXT NOT NULL,
    sealed_grant TEXT NOT NULL,
    PRIMARY KEY (bucket, object_key, grantee, permission)
);

-- CORS configuration per bucket, as the XML rules in a line format.
CREATE TABLE IF NOT EXISTS cors (
    bucket TEXT PRIMARY KEY,
    rules TEXT NOT NULL
);

-- Gateway-wide settings (the share key when none is configured).
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
