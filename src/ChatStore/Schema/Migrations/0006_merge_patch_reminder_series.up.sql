-- RFC 7396 JSON merge patch for user_preferences, the series start of recurring reminders, and a
-- tenant-leading expiry index so purging one tenant's expired cache entries reads only its own.

-- JSON merge patch (RFC 7396): a patch that is not an object replaces the target; an object patch
-- is merged key by key, recursively, and a null member deletes the key. The body names no schema
-- (it finds itself through the search_path pinned below), so its text is the same in every schema.
CREATE FUNCTION {schema}.chatstore_jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, {schema}, pg_temp
AS $$
    SELECT CASE
        WHEN jsonb_typeof(patch) IS DISTINCT FROM 'object' THEN patch
        ELSE (SELECT coalesce(jsonb_object_agg(m.key, m.value), '{}')
                FROM (SELECT t.key, t.value
                        FROM jsonb_each(CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}' END) t
                       WHERE NOT (patch ? t.key)
                      UNION ALL
                      SELECT p.key, chatstore_jsonb_merge_patch(target -> p.key, p.value)
                        FROM jsonb_each(patch) p
                       WHERE jsonb_typeof(p.value) <> 'null') m)
    END
$$;
COMMENT ON FUNCTION {schema}.chatstore_jsonb_merge_patch(jsonb, jsonb) IS 'RFC 7396 JSON merge patch: null members delete keys, objects merge recursively, anything else replaces.';

ALTER TABLE {schema}.reminders ADD COLUMN series_start timestamptz;
COMMENT ON COLUMN {schema}.reminders.series_start IS 'First occurrence of a recurring reminder; occurrences and COUNT are counted from it, in the reminder''s timezone.';

DROP INDEX {schema}.cache_entries_expiry_idx;
CREATE INDEX cache_entries_tenant_expiry_idx ON {schema}.cache_entries (tenant_id, expires_at) WHERE expires_at IS NOT NULL;
