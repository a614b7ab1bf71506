-- Check-ins carry a millisecond timestamp that must grow: the last one
-- accepted per node. Pending objects expire from their last activity (a
-- committed segment), not from their start.
ALTER TABLE nodes ADD COLUMN last_check_in_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE objects ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
UPDATE objects SET updated_at = created_at;
CREATE INDEX objects_status_updated_at ON objects (status, updated_at);
