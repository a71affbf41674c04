CREATE INDEX IF NOT EXISTS subjects_user_idx ON {schema}.subjects (tenant_id, user_id, kind);
DROP INDEX IF EXISTS {schema}.subjects_user_kind_list_idx;
DROP INDEX IF EXISTS {schema}.subjects_user_list_idx;
DROP INDEX IF EXISTS {schema}.conversations_deleted_recent_idx;
