DROP INDEX IF EXISTS {schema}.usage_events_tenant_time_idx;
