DROP INDEX IF EXISTS {schema}.documents_conversation_idx;
DROP INDEX IF EXISTS {schema}.memory_sources_message_idx;
DROP INDEX IF EXISTS {schema}.memories_user_deleted_idx;
DROP INDEX IF EXISTS {schema}.memories_superseded_by_idx;
