-- Initial schema of the satellite (PostgreSQL; keep it CockroachDB-compatible). Timestamps are unix seconds.
CREATE TABLE projects (
    id BYTEA PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    salt BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id BYTEA PRIMARY KEY,
    project_id BYTEA NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    head BYTEA NOT NULL UNIQUE,
    secret BYTEA NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE revoked_api_key_tails (
    tail BYTEA PRIMARY KEY,
    api_key_id BYTEA NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE
);

CREATE TABLE buckets (
    project_id BYTEA NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE objects (
    project_id BYTEA NOT NULL,
    bucket TEXT NOT NULL,
    encrypted_key BYTEA NOT NULL,
    version BIGINT NOT NULL,
    stream_id BYTEA NOT NULL UNIQUE,
    status BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    segment_count BIGINT NOT NULL,
    plain_size BIGINT NOT NULL,
    encrypted_size BIGINT NOT NULL,
    encrypted_metadata BYTEA NOT NULL,
    encrypted_metadata_nonce BYTEA NOT NULL,
    encrypted_metadata_key BYTEA NOT NULL,
    cipher_suite BIGINT NOT NULL,
    block_size BIGINT NOT NULL,
    PRIMARY KEY (project_id, bucket, encrypted_key, version),
    FOREIGN KEY (project_id, bucket) REFERENCES buckets(project_id, name)
);

CREATE TABLE segments (
    stream_id BYTEA NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    root_piece_id BYTEA NOT NULL,
    encrypted_key BYTEA NOT NULL,
    encrypted_key_nonce BYTEA NOT NULL,
    encrypted_size BIGINT NOT NULL,
    plain_offset BIGINT NOT NULL,
    plain_size BIGINT NOT NULL,
    redundancy BYTEA NOT NULL,
    inline_data BYTEA,
    pieces BYTEA NOT NULL,
    PRIMARY KEY (stream_id, position)
);

CREATE TABLE nodes (
    id BYTEA PRIMARY KEY,
    address TEXT NOT NULL,
    public_key BYTEA NOT NULL,
    free_disk BIGINT NOT NULL,
    version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_contact_success BIGINT NOT NULL,
    last_contact_failure BIGINT NOT NULL,
    disqualified_at BIGINT,
    piece_count BIGINT NOT NULL
);

CREATE INDEX nodes_last_contact_success ON nodes (last_contact_success);
