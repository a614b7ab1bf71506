-- Multipart uploads: a pending object with a deadline (0 = not multipart)
-- and one row per committed part.
ALTER TABLE objects ADD COLUMN multipart_deadline INTEGER NOT NULL DEFAULT 0;
CREATE INDEX objects_status_multipart_deadline ON objects (status, multipart_deadline);
CREATE TABLE parts (
    stream_id BLOB NOT NULL,
    part_number INTEGER NOT NULL,
    segment_count INTEGER NOT NULL,
    plain_size INTEGER NOT NULL,
    encrypted_size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    encrypted_etag BLOB NOT NULL,
    PRIMARY KEY (stream_id, part_number)
);
