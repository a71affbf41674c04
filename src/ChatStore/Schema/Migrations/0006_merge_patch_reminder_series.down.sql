-- Removes everything 0006_merge_patch_reminder_series.up.sql created and restores what it replaced.
DROP INDEX {schema}.cache_entries_tenant_expiry_idx;
CREATE INDEX cache_entries_expiry_idx ON {schema}.cache_entries (expires_at) WHERE expires_at IS NOT NULL;
ALTER TABLE {schema}.reminders DROP COLUMN series_start;
DROP FUNCTION {schema}.chatstore_jsonb_merge_patch(jsonb, jsonb);
