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
