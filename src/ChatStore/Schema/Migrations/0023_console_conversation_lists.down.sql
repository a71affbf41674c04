DROP INDEX IF EXISTS {schema}.conversations_tenant_recent_idx;
