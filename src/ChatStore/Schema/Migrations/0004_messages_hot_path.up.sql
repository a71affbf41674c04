-- 1. Streaming messages without a search vector.
-- A streaming message is rewritten on every chunk (content = content || chunk). Its generated search
-- vector was recomputed over the whole partial content on each chunk and re-inserted into the GIN
-- index, which made a chunk cost grow with the message (about 20x slower over a 44 KB answer). Now the
-- vector is NULL while a message streams and computed once when it completes or fails: chunk updates
-- skip to_tsvector and the GIN index, and can be HOT updates. Streaming messages are therefore not
-- found by full-text search until they end.
-- PostgreSQL 15 cannot change a generated column's expression in place, so the column (the table's
-- last) and its index are recreated; this rewrites the table.
ALTER TABLE {schema}.messages DROP COLUMN search_vector;
ALTER TABLE {schema}.messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    CASE WHEN status = 'streaming' THEN NULL ELSE to_tsvector(language, left(content, 100000)) END) STORED;
CREATE INDEX messages_search_idx ON {schema}.messages USING gin (search_vector);

-- 2. Row-level security policies the planner cannot misjudge.
-- The policies compared tenant_id with current_setting(...) directly. PostgreSQL evaluates that stable
-- expression while planning and looks the tenant up in the column statistics; a tenant newer than the
-- last ANALYZE (or any tenant, when all of them fit in the most-common-values list) is estimated at one
-- row. Every index that starts with tenant_id then looks as selective as a primary key, and the planner
-- picked messages_user_time_idx over messages_pkey for a message by id, and over the (conversation_id,
-- seq) index for a conversation's history: reads of every message of the tenant. Wrapped in a scalar
-- subquery, the setting becomes an InitPlan parameter, evaluated once per statement like before, that
-- the planner estimates as an average tenant. Same rows visible, same checks on writes. (The tenants
-- policy, whose operator clause makes it a different shape, is left as it is.)
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
