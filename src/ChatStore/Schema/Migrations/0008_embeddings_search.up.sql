-- Embeddings for search: upsert by (space, owner, chunk), the owner's time for date-range
-- filters, and the conversation index that conversation-filtered searches and the
-- conversations' ON DELETE CASCADE need.
--
-- Vector indexes are not created here: each embedding space gets its own partial expression
-- index when it is registered (client.Embeddings.RegisterSpaceAsync), for example
--   CREATE INDEX CONCURRENTLY embeddings_space_<space id hex> ON embeddings
--     USING hnsw ((embedding::vector(384)) vector_cosine_ops) WITH (m = 16, ef_construction = 64)
--     WHERE space_id = '<space id>'
-- so spaces of different dimensions share one table, each with an index of its own.

ALTER TABLE {schema}.embeddings ADD COLUMN owner_created_at timestamptz;
COMMENT ON COLUMN {schema}.embeddings.owner_created_at IS 'When the owner (message, memory, document, analysis or subject) was created; date-range filters of vector search use it.';

-- One vector per space, owner and chunk. Exactly one owner column is set (embeddings_one_owner),
-- and ids are UUIDs, so the coalesce is the owner's id.
CREATE UNIQUE INDEX embeddings_owner_chunk_key ON {schema}.embeddings
    (space_id, (coalesce(message_id, memory_id, document_id, analysis_id, subject_id)), chunk_index);

CREATE INDEX embeddings_conversation_idx ON {schema}.embeddings (conversation_id, space_id) WHERE conversation_id IS NOT NULL;

-- Vectors exist for live rows only: soft-deleting a message, memory (or superseding it), document,
-- subject or conversation deletes their vectors, so vector search needs no per-candidate liveness
-- checks inside the index scan. A restored row is embedded again by a reindex (it lacks vectors).
-- The body names no schema (TG_TABLE_SCHEMA), so the function is the same in every schema.
CREATE FUNCTION {schema}.chatstore_forget_embeddings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'conversations' THEN
        EXECUTE format('DELETE FROM %I.embeddings WHERE conversation_id = $1 AND message_id IS NOT NULL', TG_TABLE_SCHEMA) USING NEW.id;
    ELSIF TG_TABLE_NAME = 'documents' THEN
        EXECUTE format('DELETE FROM %I.embeddings WHERE document_id = $1 OR analysis_id IN (SELECT a.id FROM %I.document_analyses a WHERE a.document_id = $1)',
                       TG_TABLE_SCHEMA, TG_TABLE_SCHEMA) USING NEW.id;
    ELSE
        EXECUTE format('DELETE FROM %I.embeddings WHERE %I = $1', TG_TABLE_SCHEMA, TG_ARGV[0]) USING NEW.id;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION {schema}.chatstore_forget_embeddings() IS 'Deletes the vectors of a row that was soft-deleted (or a memory that was superseded).';

CREATE TRIGGER messages_forget_embeddings AFTER UPDATE OF deleted_at ON {schema}.messages
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION {schema}.chatstore_forget_embeddings('message_id');
CREATE TRIGGER memories_forget_embeddings AFTER UPDATE OF deleted_at, superseded_by ON {schema}.memories
    FOR EACH ROW WHEN ((OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) OR (OLD.superseded_by IS NULL AND NEW.superseded_by IS NOT NULL))
    EXECUTE FUNCTION {schema}.chatstore_forget_embeddings('memory_id');
CREATE TRIGGER documents_forget_embeddings AFTER UPDATE OF deleted_at ON {schema}.documents
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION {schema}.chatstore_forget_embeddings('document_id');
CREATE TRIGGER subjects_forget_embeddings AFTER UPDATE OF deleted_at ON {schema}.subjects
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION {schema}.chatstore_forget_embeddings('subject_id');
CREATE TRIGGER conversations_forget_embeddings AFTER UPDATE OF deleted_at ON {schema}.conversations
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) EXECUTE FUNCTION {schema}.chatstore_forget_embeddings('conversation_id');
