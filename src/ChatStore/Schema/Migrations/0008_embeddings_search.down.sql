DROP INDEX {schema}.embeddings_conversation_idx;
DROP INDEX {schema}.embeddings_owner_chunk_key;
ALTER TABLE {schema}.embeddings DROP COLUMN owner_created_at;
