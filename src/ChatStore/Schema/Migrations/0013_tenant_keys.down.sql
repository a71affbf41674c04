-- Restores the keys, policies and triggers 0013_tenant_keys.up.sql replaced.

-- 7. A user's feedback, tenant first.
DROP INDEX {schema}.message_feedback_user_idx;
CREATE INDEX message_feedback_user_idx ON {schema}.message_feedback (tenant_id, user_id);

-- 6. The single-column indexes.
DROP INDEX {schema}.conversations_subject_idx;
CREATE INDEX conversations_subject_idx ON {schema}.conversations (subject_id) WHERE subject_id IS NOT NULL;
DROP INDEX {schema}.conversation_shares_conversation_idx;
CREATE INDEX conversation_shares_conversation_idx ON {schema}.conversation_shares (conversation_id);
DROP INDEX {schema}.conversation_shares_created_by_idx;
CREATE INDEX conversation_shares_created_by_idx ON {schema}.conversation_shares (created_by) WHERE created_by IS NOT NULL;
DROP INDEX {schema}.messages_parent_idx;
CREATE INDEX messages_parent_idx ON {schema}.messages (parent_id) WHERE parent_id IS NOT NULL;
DROP INDEX {schema}.message_corrections_message_idx;
CREATE INDEX message_corrections_message_idx ON {schema}.message_corrections (message_id);
DROP INDEX {schema}.message_documents_document_idx;
CREATE INDEX message_documents_document_idx ON {schema}.message_documents (document_id);
DROP INDEX {schema}.memory_sources_conversation_idx;
CREATE INDEX memory_sources_conversation_idx ON {schema}.memory_sources (conversation_id);
DROP INDEX {schema}.memory_sources_message_idx;
CREATE INDEX memory_sources_message_idx ON {schema}.memory_sources (message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.memories_superseded_by_idx;
CREATE INDEX memories_superseded_by_idx ON {schema}.memories (superseded_by) WHERE superseded_by IS NOT NULL;
DROP INDEX {schema}.documents_conversation_idx;
CREATE INDEX documents_conversation_idx ON {schema}.documents (conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.reminders_conversation_idx;
CREATE INDEX reminders_conversation_idx ON {schema}.reminders (conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.usage_events_conversation_idx;
CREATE INDEX usage_events_conversation_idx ON {schema}.usage_events (conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.usage_events_message_idx;
CREATE INDEX usage_events_message_idx ON {schema}.usage_events (message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_message_idx;
CREATE INDEX embeddings_owner_message_idx ON {schema}.embeddings (message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_memory_idx;
CREATE INDEX embeddings_owner_memory_idx ON {schema}.embeddings (memory_id) WHERE memory_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_document_idx;
CREATE INDEX embeddings_owner_document_idx ON {schema}.embeddings (document_id) WHERE document_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_analysis_idx;
CREATE INDEX embeddings_owner_analysis_idx ON {schema}.embeddings (analysis_id) WHERE analysis_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_subject_idx;
CREATE INDEX embeddings_owner_subject_idx ON {schema}.embeddings (subject_id) WHERE subject_id IS NOT NULL;
DROP INDEX {schema}.embeddings_conversation_idx;
CREATE INDEX embeddings_conversation_idx ON {schema}.embeddings (conversation_id, space_id) WHERE conversation_id IS NOT NULL;

-- 5. The triggers that deleted a soft-deleted row's vectors.
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

-- 4. The policies as 0004 and 0010 left them.
ALTER POLICY tenant_isolation ON {schema}.api_keys USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.users USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.sessions USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.subjects USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.conversations USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.conversation_shares USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.documents USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.document_analyses USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.messages USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.message_feedback USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.message_corrections USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.message_documents USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.memories USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.memory_sources USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.embeddings USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.user_preferences USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.reminders USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.usage_events USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.credit_balances USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.search_history USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.cache_entries USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
ALTER POLICY tenant_isolation ON {schema}.idempotency_keys USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)) WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));

-- 3, 2, 1. The keys as 0001 and 0008 created them.
ALTER TABLE {schema}.sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE {schema}.subjects DROP CONSTRAINT subjects_user_id_fkey;
ALTER TABLE {schema}.conversations DROP CONSTRAINT conversations_user_id_fkey;
ALTER TABLE {schema}.conversations DROP CONSTRAINT conversations_subject_id_fkey;
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_conversation_id_fkey;
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_created_by_fkey;
ALTER TABLE {schema}.documents DROP CONSTRAINT documents_user_id_fkey;
ALTER TABLE {schema}.documents DROP CONSTRAINT documents_conversation_id_fkey;
ALTER TABLE {schema}.document_analyses DROP CONSTRAINT document_analyses_document_id_fkey;
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_conversation_id_fkey;
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_user_id_fkey;
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_parent_id_fkey;
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_message_id_fkey;
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_user_id_fkey;
ALTER TABLE {schema}.message_corrections DROP CONSTRAINT message_corrections_message_id_fkey;
ALTER TABLE {schema}.message_corrections DROP CONSTRAINT message_corrections_user_id_fkey;
ALTER TABLE {schema}.message_documents DROP CONSTRAINT message_documents_message_id_fkey;
ALTER TABLE {schema}.message_documents DROP CONSTRAINT message_documents_document_id_fkey;
ALTER TABLE {schema}.memories DROP CONSTRAINT memories_user_id_fkey;
ALTER TABLE {schema}.memories DROP CONSTRAINT memories_superseded_by_fkey;
ALTER TABLE {schema}.memory_sources DROP CONSTRAINT memory_sources_memory_id_fkey;
ALTER TABLE {schema}.memory_sources DROP CONSTRAINT memory_sources_conversation_id_fkey;
ALTER TABLE {schema}.memory_sources DROP CONSTRAINT memory_sources_message_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_user_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_message_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_memory_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_document_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_analysis_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_subject_id_fkey;
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_conversation_id_fkey;
ALTER TABLE {schema}.user_preferences DROP CONSTRAINT user_preferences_user_id_fkey;
ALTER TABLE {schema}.reminders DROP CONSTRAINT reminders_user_id_fkey;
ALTER TABLE {schema}.reminders DROP CONSTRAINT reminders_conversation_id_fkey;
ALTER TABLE {schema}.usage_events DROP CONSTRAINT usage_events_user_id_fkey;
ALTER TABLE {schema}.usage_events DROP CONSTRAINT usage_events_conversation_id_fkey;
ALTER TABLE {schema}.usage_events DROP CONSTRAINT usage_events_message_id_fkey;
ALTER TABLE {schema}.credit_balances DROP CONSTRAINT credit_balances_user_id_fkey;
ALTER TABLE {schema}.search_history DROP CONSTRAINT search_history_user_id_fkey;
ALTER TABLE {schema}.cache_entries DROP CONSTRAINT cache_entries_user_id_fkey;
ALTER TABLE {schema}.api_keys DROP CONSTRAINT api_keys_pkey, ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.users DROP CONSTRAINT users_pkey, ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.sessions DROP CONSTRAINT sessions_pkey, ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.subjects DROP CONSTRAINT subjects_pkey, ADD CONSTRAINT subjects_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.conversations DROP CONSTRAINT conversations_pkey, ADD CONSTRAINT conversations_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_pkey, ADD CONSTRAINT conversation_shares_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.documents DROP CONSTRAINT documents_pkey, ADD CONSTRAINT documents_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.document_analyses DROP CONSTRAINT document_analyses_pkey, ADD CONSTRAINT document_analyses_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_pkey, ADD CONSTRAINT messages_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_pkey, ADD CONSTRAINT message_feedback_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.message_corrections DROP CONSTRAINT message_corrections_pkey, ADD CONSTRAINT message_corrections_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.message_documents DROP CONSTRAINT message_documents_pkey, ADD CONSTRAINT message_documents_pkey PRIMARY KEY (message_id, document_id);
ALTER TABLE {schema}.memories DROP CONSTRAINT memories_pkey, ADD CONSTRAINT memories_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_pkey, ADD CONSTRAINT embeddings_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.user_preferences DROP CONSTRAINT user_preferences_pkey, ADD CONSTRAINT user_preferences_pkey PRIMARY KEY (user_id);
ALTER TABLE {schema}.reminders DROP CONSTRAINT reminders_pkey, ADD CONSTRAINT reminders_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.usage_events DROP CONSTRAINT usage_events_pkey, ADD CONSTRAINT usage_events_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.credit_balances DROP CONSTRAINT credit_balances_pkey, ADD CONSTRAINT credit_balances_pkey PRIMARY KEY (user_id);
ALTER TABLE {schema}.search_history DROP CONSTRAINT search_history_pkey, ADD CONSTRAINT search_history_pkey PRIMARY KEY (id);
ALTER TABLE {schema}.api_keys DROP CONSTRAINT api_keys_key_hash_key, ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);
ALTER TABLE {schema}.sessions DROP CONSTRAINT sessions_token_hash_key, ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_token_hash_key, ADD CONSTRAINT conversation_shares_token_hash_key UNIQUE (token_hash);
ALTER TABLE {schema}.document_analyses DROP CONSTRAINT document_analyses_document_id_version_key, ADD CONSTRAINT document_analyses_document_id_version_key UNIQUE (document_id, version);
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_conversation_seq_key, ADD CONSTRAINT messages_conversation_seq_key UNIQUE (conversation_id, seq);
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_message_user_key, ADD CONSTRAINT message_feedback_message_user_key UNIQUE (message_id, user_id);
DROP INDEX {schema}.memory_sources_key;
CREATE UNIQUE INDEX memory_sources_key ON {schema}.memory_sources (memory_id, conversation_id, coalesce(message_id, '00000000-0000-0000-0000-000000000000'));
DROP INDEX {schema}.embeddings_owner_chunk_key;
CREATE UNIQUE INDEX embeddings_owner_chunk_key ON {schema}.embeddings
    (space_id, (coalesce(message_id, memory_id, document_id, analysis_id, subject_id)), chunk_index);
ALTER TABLE {schema}.sessions ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.subjects ADD CONSTRAINT subjects_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversations ADD CONSTRAINT conversations_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversations ADD CONSTRAINT conversations_subject_id_fkey FOREIGN KEY (subject_id) REFERENCES {schema}.subjects (id) ON DELETE SET NULL;
ALTER TABLE {schema}.conversation_shares ADD CONSTRAINT conversation_shares_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversation_shares ADD CONSTRAINT conversation_shares_created_by_fkey FOREIGN KEY (created_by) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.documents ADD CONSTRAINT documents_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.documents ADD CONSTRAINT documents_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE SET NULL;
ALTER TABLE {schema}.document_analyses ADD CONSTRAINT document_analyses_document_id_fkey FOREIGN KEY (document_id) REFERENCES {schema}.documents (id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES {schema}.messages (id) ON DELETE SET NULL;
ALTER TABLE {schema}.message_feedback ADD CONSTRAINT message_feedback_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_feedback ADD CONSTRAINT message_feedback_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_corrections ADD CONSTRAINT message_corrections_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_corrections ADD CONSTRAINT message_corrections_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_documents ADD CONSTRAINT message_documents_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_documents ADD CONSTRAINT message_documents_document_id_fkey FOREIGN KEY (document_id) REFERENCES {schema}.documents (id) ON DELETE CASCADE;
ALTER TABLE {schema}.memories ADD CONSTRAINT memories_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.memories ADD CONSTRAINT memories_superseded_by_fkey FOREIGN KEY (superseded_by) REFERENCES {schema}.memories (id) ON DELETE SET NULL;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_memory_id_fkey FOREIGN KEY (memory_id) REFERENCES {schema}.memories (id) ON DELETE CASCADE;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE CASCADE;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_memory_id_fkey FOREIGN KEY (memory_id) REFERENCES {schema}.memories (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_document_id_fkey FOREIGN KEY (document_id) REFERENCES {schema}.documents (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_analysis_id_fkey FOREIGN KEY (analysis_id) REFERENCES {schema}.document_analyses (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_subject_id_fkey FOREIGN KEY (subject_id) REFERENCES {schema}.subjects (id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE CASCADE;
ALTER TABLE {schema}.user_preferences ADD CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.reminders ADD CONSTRAINT reminders_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.reminders ADD CONSTRAINT reminders_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE SET NULL;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES {schema}.conversations (id) ON DELETE SET NULL;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_message_id_fkey FOREIGN KEY (message_id) REFERENCES {schema}.messages (id) ON DELETE SET NULL;
ALTER TABLE {schema}.credit_balances ADD CONSTRAINT credit_balances_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.search_history ADD CONSTRAINT search_history_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
ALTER TABLE {schema}.cache_entries ADD CONSTRAINT cache_entries_user_id_fkey FOREIGN KEY (user_id) REFERENCES {schema}.users (id) ON DELETE CASCADE;
