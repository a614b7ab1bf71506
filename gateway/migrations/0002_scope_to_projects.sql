-- 0002: everything the gateway keeps per bucket belongs to the project that
-- claimed the bucket name ("satellite id/project id"), not to the name
-- alone; emails are trusted for grants only once an operator confirmed
-- them; the share key leaves the database; replaced shares are queued for
-- revocation at the satellite.
--
-- The namespace, ACLs, shares, CORS rules and upload records of 0001 were
-- keyed by bucket name alone and cannot be attributed to a project: they
-- are dropped (fail closed). Owners re-claim a name with CreateBucket
-- (which adopts their existing bucket) or by setting an ACL or CORS rules,
-- and set their ACLs again. Users are kept; their emails become
-- unconfirmed.

DROP TABLE IF EXISTS shares;
DROP TABLE IF EXISTS acls;
DROP TABLE IF EXISTS cors;
DROP TABLE IF EXISTS uploads;
DROP TABLE IF EXISTS buckets;
DELETE FROM settings WHERE name = 'share_key';

-- Bucket names as S3 sees them: one namespace per gateway, each name
-- claimed by one project.
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    location TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Access control lists; key '' is the bucket's own ACL.
CREATE TABLE acls (
    project_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    grants TEXT NOT NULL,
    PRIMARY KEY (project_id, bucket, object_key)
);

-- Restricted grants the gateway acts with for other users and anonymous
-- readers, sealed under the gateway's share key (kept outside the database).
CREATE TABLE shares (
    project_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    grantee TEXT NOT NULL,
    permission TEXT NOT NULL,
    sealed_grant TEXT NOT NULL,
    PRIMARY KEY (project_id, bucket, object_key, grantee, permission)
);

-- CORS configuration per bucket.
CREATE TABLE cors (
    project_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    rules TEXT NOT NULL,
    PRIMARY KEY (project_id, bucket)
);

-- Multipart uploads in progress.
CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    object_key TEXT NOT NULL,
    sealed_meta TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Shares taken out of use, until the satellite confirmed their revocation.
CREATE TABLE share_revocations (
    sealed_grant TEXT PRIMARY KEY,
    queued_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);

-- Users: `email` is what the user gave (informational); `confirmed_email`
-- (lower case) is set by an operator and is what email grants resolve;
-- `project_id` is the verified "satellite id/project id" of the grant.
CREATE TABLE users_v2 (
    id TEXT PRIMARY KEY,
    lookup TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT,
    confirmed_email TEXT UNIQUE,
    project_id TEXT,
    sealed_secret TEXT NOT NULL,
    sealed_grant TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO users_v2 (id, lookup, display_name, email, sealed_secret, sealed_grant, created_at)
    SELECT id, lookup, display_name, email, sealed_secret, sealed_grant, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_v2 RENAME TO users
