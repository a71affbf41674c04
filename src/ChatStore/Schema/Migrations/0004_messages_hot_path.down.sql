-- 2. The policies as 0001 created them.
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

-- 1. The search vector as 0001 created it.
ALTER TABLE {schema}.messages DROP COLUMN search_vector;
ALTER TABLE {schema}.messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector(language, left(content, 100000))) STORED;
CREATE INDEX messages_search_idx ON {schema}.messages USING gin (search_vector);
