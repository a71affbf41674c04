-- Rollbacks run in one transaction, so the indexes are built and dropped plainly.
CREATE INDEX IF NOT EXISTS document_analyses_search_idx ON {schema}.document_analyses USING gin (search_vector);
DROP INDEX IF EXISTS {schema}.document_analyses_tenant_search_idx;
CREATE INDEX IF NOT EXISTS documents_search_idx ON {schema}.documents USING gin (search_vector);
DROP INDEX IF EXISTS {schema}.documents_tenant_search_idx;
CREATE INDEX IF NOT EXISTS memories_search_idx ON {schema}.memories USING gin (search_vector);
DROP INDEX IF EXISTS {schema}.memories_tenant_search_idx;
CREATE INDEX IF NOT EXISTS messages_search_idx ON {schema}.messages USING gin (search_vector);
DROP INDEX IF EXISTS {schema}.messages_tenant_search_idx;
