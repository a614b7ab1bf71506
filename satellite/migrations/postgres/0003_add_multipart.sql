-- Multipart uploads: a pending object with a deadline (0 = not multipart)
-- and one row per committed part.
ALTER TABLE objects ADD COLUMN multipart_deadline BIGINT NOT NULL DEFAULT 0;
CREATE INDEX objects_status_multipart_deadline ON objects (status, multipart_deadline);
CREATE TABLE parts (
    stream_id BYTEA NOT NULL,
    part_number BIGINT NOT NULL,
    segment_count BIGINT NOT NULL,
    plain_size BIGINT NOT NULL,
    encrypted_size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    encrypted_etag BYTEA NOT NULL,
    PRIMARY KEY (stream_id, part_number)
);
