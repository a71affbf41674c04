-- chatstore:no-transaction
-- Indexes for listing conversations and subjects with keyset cursors. Built concurrently so
-- large conversations and subjects tables stay writable while they build; every statement is
-- safe to re-run (IF NOT EXISTS / IF EXISTS).

-- A user's soft-deleted conversations, most recently active first: with conversations_recent_idx
-- (the live ones) a list that includes deleted conversations is a merge of two index scans.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_deleted_recent_idx
    ON {schema}.conversations (tenant_id, user_id, last_activity_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- A user's subjects in creation order (keyset on id), all kinds or one kind.
CREATE INDEX CONCURRENTLY IF NOT EXISTS subjects_user_list_idx
    ON {schema}.subjects (tenant_id, user_id, id) WHERE deleted_at IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS subjects_user_kind_list_idx
    ON {schema}.subjects (tenant_id, user_id, kind, id) WHERE deleted_at IS NULL;

-- Superseded by subjects_user_kind_list_idx.
DROP INDEX CONCURRENTLY IF EXISTS {schema}.subjects_user_idx;
