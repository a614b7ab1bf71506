-- Initial schema of the satellite (SQLite). Timestamps are unix seconds.
CREATE TABLE projects (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    salt BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id BLOB PRIMARY KEY,
    project_id BLOB NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    head BLOB NOT NULL UNIQUE,
    secret BLOB NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE revoked_api_key_tails (
    tail BLOB PRIMARY KEY,
    api_key_id BLOB NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE
);

CREATE TABLE buckets (
    project_id BLOB NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
);

CREATE TABLE objects (
    project_id BLOB NOT NULL,
    bucket TEXT NOT NULL,
    encrypted_key BLOB NOT NULL,
    version INTEGER NOT NULL,
    stream_id BLOB NOT NULL UNIQUE,
    status INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    segment_count INTEGER NOT NULL,
    plain_size INTEGER NOT NULL,
    encrypted_size INTEGER NOT NULL,
    encrypted_metadata BLOB NOT NULL,
    encrypted_metadata_nonce BLOB NOT NULL,
    encrypted_metadata_key BLOB NOT NULL,
    cipher_suite INTEGER NOT NULL,
    block_size INTEGER NOT NULL,
    PRIMARY KEY (project_id, bucket, encrypted_key, version),
    FOREIGN KEY (project_id, bucket) REFERENCES buckets(project_id, name)
);

CREATE TABLE segments (
    stream_id BLOB NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    root_piece_id BLOB NOT NULL,
    encrypted_key BLOB NOT NULL,
    encrypted_key_nonce BLOB NOT NULL,
    encrypted_size INTEGER NOT NULL,
    plain_offset INTEGER NOT NULL,
    plain_size INTEGER NOT NULL,
    redundancy BLOB NOT NULL,
    inline_data BLOB,
    pieces BLOB NOT NULL,
    PRIMARY KEY (stream_id, position)
);

CREATE TABLE nodes (
    id BLOB PRIMARY KEY,
    address TEXT NOT NULL,
    public_key BLOB NOT NULL,
    free_disk INTEGER NOT NULL,
    version TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_contact_success INTEGER NOT NULL,
    last_contact_failure INTEGER NOT NULL,
    disqualified_at INTEGER,
    piece_count INTEGER NOT NULL
);

CREATE INDEX nodes_last_contact_success ON nodes (last_contact_success);
