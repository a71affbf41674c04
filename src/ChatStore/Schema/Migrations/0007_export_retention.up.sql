-- chatstore:no-transaction
-- Indexes that GDPR erasure and retention need beyond the core schema. Indexes are built
-- concurrently so large tables stay writable while they build; every statement is safe to re-run.

-- Retention: a tenant's conversations by last activity (conversations untouched for N days).
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_activity_idx ON {schema}.conversations (tenant_id, last_activity_at);

-- Retention: a tenant's soft-deleted rows by deletion time (purged N days after deletion). Partial,
-- so they hold only the soft-deleted rows. (conversations_deleted_idx in the core schema does this for conversations.)
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_deleted_idx ON {schema}.messages (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS memories_deleted_idx ON {schema}.memories (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS documents_deleted_idx ON {schema}.documents (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS subjects_deleted_idx ON {schema}.subjects (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_deleted_idx ON {schema}.users (tenant_id, deleted_at) WHERE deleted_at IS NOT NULL;

-- Foreign keys whose ON DELETE action runs once per deleted parent row: without an index each
-- deleted conversation or message would scan the whole referencing table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversation_shares_created_by_idx ON {schema}.conversation_shares (created_by) WHERE created_by IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reminders_conversation_idx ON {schema}.reminders (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS usage_events_conversation_idx ON {schema}.usage_events (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS usage_events_message_idx ON {schema}.usage_events (message_id) WHERE message_id IS NOT NULL;
