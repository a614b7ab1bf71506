-- Indexes for the cleanup chores (expired objects, zombie pending objects)
-- and for listing a project's API keys.
CREATE INDEX objects_expires_at ON objects (expires_at);
CREATE INDEX objects_status_created_at ON objects (status, created_at);
CREATE INDEX api_keys_project_id ON api_keys (project_id);
