-- chatstore:no-transaction
-- Indexes the memory and document stores need beyond the core schema. Built concurrently so
-- large memories, memory_sources and documents tables stay writable while they build.

-- A memory's earlier version is the row whose superseded_by points at it: version history
-- walks backwards through this index, and deleting a memory clears the pointer through it.
CREATE INDEX CONCURRENTLY IF NOT EXISTS memories_superseded_by_idx ON {schema}.memories (superseded_by) WHERE superseded_by IS NOT NULL;

-- A user's soft-deleted memories newest first; merged with memories_user_idx (live ones) when a
-- list includes deleted memories.
CREATE INDEX CONCURRENTLY IF NOT EXISTS memories_user_deleted_idx ON {schema}.memories (tenant_id, user_id, created_at DESC, id DESC) WHERE deleted_at IS NOT NULL;

-- Deleting a message deletes the memory source links that cite it (ON DELETE CASCADE).
CREATE INDEX CONCURRENTLY IF NOT EXISTS memory_sources_message_idx ON {schema}.memory_sources (message_id) WHERE message_id IS NOT NULL;

-- Deleting a conversation clears documents.conversation_id (ON DELETE SET NULL).
CREATE INDEX CONCURRENTLY IF NOT EXISTS documents_conversation_idx ON {schema}.documents (conversation_id) WHERE conversation_id IS NOT NULL;
