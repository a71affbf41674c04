-- Removes everything 0001_core.up.sql created.
REVOKE ALL ON SCHEMA {schema} FROM {app_role};
DROP TABLE
    {schema}.cache_entries, {schema}.search_history, {schema}.credit_balances, {schema}.usage_events,
    {schema}.reminders, {schema}.user_preferences, {schema}.embeddings, {schema}.embedding_spaces,
    {schema}.memory_sources, {schema}.memories, {schema}.message_documents, {schema}.message_corrections,
    {schema}.message_feedback, {schema}.messages, {schema}.document_analyses, {schema}.documents,
    {schema}.conversation_shares, {schema}.conversations, {schema}.subjects, {schema}.sessions,
    {schema}.users, {schema}.api_keys, {schema}.tenants;
DROP FUNCTION {schema}.chatstore_touch_updated_at();
