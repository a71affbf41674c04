-- The tenant is part of every key: tenant_id leads the primary key, unique keys and foreign keys of every
-- tenant-owned table, so a table can be distributed by tenant_id (Citus) with each tenant's rows and their
-- references on one node, and a key lookup names its tenant. Foreign keys that set the reference to NULL
-- when the referenced row is deleted (a conversation's subject, a document's or reminder's conversation,
-- a usage event's conversation and message, a message's parent, a memory's successor) are plain
-- references now (NO ACTION): with the tenant in the key, SET NULL would clear tenant_id too, so the
-- statements that delete such rows clear the references themselves. Row-level security policies compare
-- with the setting directly (no sub-select, which a distributed table's policy cannot have); every
-- statement names its tenant, which gives the planner the tenant the sub-select was there to hide. The
-- triggers that deleted a soft-deleted row's vectors (reading and writing another table) are gone: the
-- statements that soft-delete delete the vectors themselves.
-- A memory's successor is checked at commit (DEFERRABLE INITIALLY DEFERRED): an update supersedes the old version
-- and inserts the new one in one statement, and Citus runs each modifying CTE on the shard as a statement of its own.

-- 1. Foreign keys between tenant tables go first: they depend on the keys being replaced.
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

-- 2. Primary and unique keys with tenant_id first.
ALTER TABLE {schema}.api_keys DROP CONSTRAINT api_keys_pkey, ADD CONSTRAINT api_keys_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.users DROP CONSTRAINT users_pkey, ADD CONSTRAINT users_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.sessions DROP CONSTRAINT sessions_pkey, ADD CONSTRAINT sessions_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.subjects DROP CONSTRAINT subjects_pkey, ADD CONSTRAINT subjects_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.conversations DROP CONSTRAINT conversations_pkey, ADD CONSTRAINT conversations_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_pkey, ADD CONSTRAINT conversation_shares_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.documents DROP CONSTRAINT documents_pkey, ADD CONSTRAINT documents_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.document_analyses DROP CONSTRAINT document_analyses_pkey, ADD CONSTRAINT document_analyses_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_pkey, ADD CONSTRAINT messages_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_pkey, ADD CONSTRAINT message_feedback_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.message_corrections DROP CONSTRAINT message_corrections_pkey, ADD CONSTRAINT message_corrections_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.message_documents DROP CONSTRAINT message_documents_pkey, ADD CONSTRAINT message_documents_pkey PRIMARY KEY (tenant_id, message_id, document_id);
ALTER TABLE {schema}.memories DROP CONSTRAINT memories_pkey, ADD CONSTRAINT memories_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.embeddings DROP CONSTRAINT embeddings_pkey, ADD CONSTRAINT embeddings_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.user_preferences DROP CONSTRAINT user_preferences_pkey, ADD CONSTRAINT user_preferences_pkey PRIMARY KEY (tenant_id, user_id);
ALTER TABLE {schema}.reminders DROP CONSTRAINT reminders_pkey, ADD CONSTRAINT reminders_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.usage_events DROP CONSTRAINT usage_events_pkey, ADD CONSTRAINT usage_events_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.credit_balances DROP CONSTRAINT credit_balances_pkey, ADD CONSTRAINT credit_balances_pkey PRIMARY KEY (tenant_id, user_id);
ALTER TABLE {schema}.search_history DROP CONSTRAINT search_history_pkey, ADD CONSTRAINT search_history_pkey PRIMARY KEY (tenant_id, id);
ALTER TABLE {schema}.api_keys DROP CONSTRAINT api_keys_key_hash_key, ADD CONSTRAINT api_keys_key_hash_key UNIQUE (tenant_id, key_hash);
ALTER TABLE {schema}.sessions DROP CONSTRAINT sessions_token_hash_key, ADD CONSTRAINT sessions_token_hash_key UNIQUE (tenant_id, token_hash);
ALTER TABLE {schema}.conversation_shares DROP CONSTRAINT conversation_shares_token_hash_key, ADD CONSTRAINT conversation_shares_token_hash_key UNIQUE (tenant_id, token_hash);
ALTER TABLE {schema}.document_analyses DROP CONSTRAINT document_analyses_document_id_version_key, ADD CONSTRAINT document_analyses_document_id_version_key UNIQUE (tenant_id, document_id, version);
ALTER TABLE {schema}.messages DROP CONSTRAINT messages_conversation_seq_key, ADD CONSTRAINT messages_conversation_seq_key UNIQUE (tenant_id, conversation_id, seq);
ALTER TABLE {schema}.message_feedback DROP CONSTRAINT message_feedback_message_user_key, ADD CONSTRAINT message_feedback_message_user_key UNIQUE (tenant_id, message_id, user_id);
DROP INDEX {schema}.memory_sources_key;
CREATE UNIQUE INDEX memory_sources_key ON {schema}.memory_sources (tenant_id, memory_id, conversation_id, coalesce(message_id, '00000000-0000-0000-0000-000000000000'));
DROP INDEX {schema}.embeddings_owner_chunk_key;
CREATE UNIQUE INDEX embeddings_owner_chunk_key ON {schema}.embeddings
    (tenant_id, space_id, (coalesce(message_id, memory_id, document_id, analysis_id, subject_id)), chunk_index);

-- 3. The foreign keys again, on (tenant_id, column).
ALTER TABLE {schema}.sessions ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.subjects ADD CONSTRAINT subjects_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversations ADD CONSTRAINT conversations_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversations ADD CONSTRAINT conversations_subject_id_fkey FOREIGN KEY (tenant_id, subject_id) REFERENCES {schema}.subjects (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.conversation_shares ADD CONSTRAINT conversation_shares_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.conversation_shares ADD CONSTRAINT conversation_shares_created_by_fkey FOREIGN KEY (tenant_id, created_by) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.documents ADD CONSTRAINT documents_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.documents ADD CONSTRAINT documents_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.document_analyses ADD CONSTRAINT document_analyses_document_id_fkey FOREIGN KEY (tenant_id, document_id) REFERENCES {schema}.documents (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.messages ADD CONSTRAINT messages_parent_id_fkey FOREIGN KEY (tenant_id, parent_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.message_feedback ADD CONSTRAINT message_feedback_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_feedback ADD CONSTRAINT message_feedback_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_corrections ADD CONSTRAINT message_corrections_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_corrections ADD CONSTRAINT message_corrections_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_documents ADD CONSTRAINT message_documents_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.message_documents ADD CONSTRAINT message_documents_document_id_fkey FOREIGN KEY (tenant_id, document_id) REFERENCES {schema}.documents (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.memories ADD CONSTRAINT memories_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.memories ADD CONSTRAINT memories_superseded_by_fkey FOREIGN KEY (tenant_id, superseded_by) REFERENCES {schema}.memories (tenant_id, id) ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_memory_id_fkey FOREIGN KEY (tenant_id, memory_id) REFERENCES {schema}.memories (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.memory_sources ADD CONSTRAINT memory_sources_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_memory_id_fkey FOREIGN KEY (tenant_id, memory_id) REFERENCES {schema}.memories (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_document_id_fkey FOREIGN KEY (tenant_id, document_id) REFERENCES {schema}.documents (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_analysis_id_fkey FOREIGN KEY (tenant_id, analysis_id) REFERENCES {schema}.document_analyses (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_subject_id_fkey FOREIGN KEY (tenant_id, subject_id) REFERENCES {schema}.subjects (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.embeddings ADD CONSTRAINT embeddings_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.user_preferences ADD CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.reminders ADD CONSTRAINT reminders_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.reminders ADD CONSTRAINT reminders_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_conversation_id_fkey FOREIGN KEY (tenant_id, conversation_id) REFERENCES {schema}.conversations (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.usage_events ADD CONSTRAINT usage_events_message_id_fkey FOREIGN KEY (tenant_id, message_id) REFERENCES {schema}.messages (tenant_id, id) ON DELETE NO ACTION;
ALTER TABLE {schema}.credit_balances ADD CONSTRAINT credit_balances_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.search_history ADD CONSTRAINT search_history_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;
ALTER TABLE {schema}.cache_entries ADD CONSTRAINT cache_entries_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE;

-- 4. Policies without a sub-select.
ALTER POLICY tenant_isolation ON {schema}.api_keys USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.users USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.sessions USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.subjects USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.conversations USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.conversation_shares USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.documents USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.document_analyses USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.messages USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.message_feedback USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.message_corrections USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.message_documents USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.memories USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.memory_sources USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.embeddings USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.user_preferences USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.reminders USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.usage_events USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.credit_balances USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.search_history USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.cache_entries USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
ALTER POLICY tenant_isolation ON {schema}.idempotency_keys USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid) WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);

-- 5. No trigger reads or writes another table.
DROP TRIGGER conversations_forget_embeddings ON {schema}.conversations;
DROP TRIGGER subjects_forget_embeddings ON {schema}.subjects;
DROP TRIGGER documents_forget_embeddings ON {schema}.documents;
DROP TRIGGER memories_forget_embeddings ON {schema}.memories;
DROP TRIGGER messages_forget_embeddings ON {schema}.messages;
DROP FUNCTION {schema}.chatstore_forget_embeddings();

-- 6. Indexes that serve the foreign keys (and reads of a row's children) lead with tenant_id too: a statement
-- names its tenant, and a tenant newer than the statistics would otherwise make any index on tenant_id look
-- as selective as these.
DROP INDEX {schema}.conversations_subject_idx;
CREATE INDEX conversations_subject_idx ON {schema}.conversations (tenant_id, subject_id) WHERE subject_id IS NOT NULL;
DROP INDEX {schema}.conversation_shares_conversation_idx;
CREATE INDEX conversation_shares_conversation_idx ON {schema}.conversation_shares (tenant_id, conversation_id);
DROP INDEX {schema}.conversation_shares_created_by_idx;
CREATE INDEX conversation_shares_created_by_idx ON {schema}.conversation_shares (tenant_id, created_by) WHERE created_by IS NOT NULL;
DROP INDEX {schema}.messages_parent_idx;
CREATE INDEX messages_parent_idx ON {schema}.messages (tenant_id, parent_id) WHERE parent_id IS NOT NULL;
DROP INDEX {schema}.message_corrections_message_idx;
CREATE INDEX message_corrections_message_idx ON {schema}.message_corrections (tenant_id, message_id);
DROP INDEX {schema}.message_documents_document_idx;
CREATE INDEX message_documents_document_idx ON {schema}.message_documents (tenant_id, document_id);
DROP INDEX {schema}.memory_sources_conversation_idx;
CREATE INDEX memory_sources_conversation_idx ON {schema}.memory_sources (tenant_id, conversation_id);
DROP INDEX {schema}.memory_sources_message_idx;
CREATE INDEX memory_sources_message_idx ON {schema}.memory_sources (tenant_id, message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.memories_superseded_by_idx;
CREATE INDEX memories_superseded_by_idx ON {schema}.memories (tenant_id, superseded_by) WHERE superseded_by IS NOT NULL;
DROP INDEX {schema}.documents_conversation_idx;
CREATE INDEX documents_conversation_idx ON {schema}.documents (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.reminders_conversation_idx;
CREATE INDEX reminders_conversation_idx ON {schema}.reminders (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.usage_events_conversation_idx;
CREATE INDEX usage_events_conversation_idx ON {schema}.usage_events (tenant_id, conversation_id) WHERE conversation_id IS NOT NULL;
DROP INDEX {schema}.usage_events_message_idx;
CREATE INDEX usage_events_message_idx ON {schema}.usage_events (tenant_id, message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_message_idx;
CREATE INDEX embeddings_owner_message_idx ON {schema}.embeddings (tenant_id, message_id) WHERE message_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_memory_idx;
CREATE INDEX embeddings_owner_memory_idx ON {schema}.embeddings (tenant_id, memory_id) WHERE memory_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_document_idx;
CREATE INDEX embeddings_owner_document_idx ON {schema}.embeddings (tenant_id, document_id) WHERE document_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_analysis_idx;
CREATE INDEX embeddings_owner_analysis_idx ON {schema}.embeddings (tenant_id, analysis_id) WHERE analysis_id IS NOT NULL;
DROP INDEX {schema}.embeddings_owner_subject_idx;
CREATE INDEX embeddings_owner_subject_idx ON {schema}.embeddings (tenant_id, subject_id) WHERE subject_id IS NOT NULL;
DROP INDEX {schema}.embeddings_conversation_idx;
CREATE INDEX embeddings_conversation_idx ON {schema}.embeddings (tenant_id, conversation_id, space_id) WHERE conversation_id IS NOT NULL;

-- 7. A user's feedback: user_id first, so reading one message's feedback (a keyset on user_id) never looks cheaper through
-- this index than through the unique key (tenant_id, message_id, user_id) when the tenant is newer than the statistics.
DROP INDEX {schema}.message_feedback_user_idx;
CREATE INDEX message_feedback_user_idx ON {schema}.message_feedback (user_id, tenant_id);
