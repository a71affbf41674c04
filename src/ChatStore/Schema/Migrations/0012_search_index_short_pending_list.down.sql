ALTER INDEX {schema}.messages_tenant_search_idx RESET (gin_pending_list_limit);
ALTER INDEX {schema}.memories_tenant_search_idx RESET (gin_pending_list_limit);
