DROP TRIGGER conversations_forget_embeddings ON {schema}.conversations;
DROP TRIGGER subjects_forget_embeddings ON {schema}.subjects;
DROP TRIGGER documents_forget_embeddings ON {schema}.documents;
DROP TRIGGER memories_forget_embeddings ON {schema}.memories;
DROP TRIGGER messages_forget_embeddings ON {schema}.messages;
DROP FUNCTION {schema}.chatstore_forget_embeddings();
DROP INDEX {schema}.embeddings_conversation_idx;
DROP INDEX {schema}.embeddings_owner_chunk_key;
ALTER TABLE {schema}.embeddings DROP COLUMN owner_created_at;
