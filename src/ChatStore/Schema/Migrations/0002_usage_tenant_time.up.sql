-- chatstore:no-transaction
-- Tenant-wide usage totals by time (per day, per model) without scanning every user's rows.
-- Built concurrently so a large usage_events table stays writable while it builds.
CREATE INDEX CONCURRENTLY IF NOT EXISTS usage_events_tenant_time_idx ON {schema}.usage_events (tenant_id, occurred_at);
