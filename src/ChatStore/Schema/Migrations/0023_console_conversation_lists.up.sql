-- chatstore:no-transaction
-- The console lists a tenant's conversations across its users, most recently active first, keyset on
-- (last_activity_at, id). conversations_activity_idx (tenant_id, last_activity_at) orders by time only:
-- conversations with the same last activity (a bulk import sets it once for all of them) were read and
-- sorted whole before the first page came back. With id in the key, a page is a range scan that stops
-- after limit + 1 rows (deleted ones are passed over). Built concurrently so a large conversations table
-- stays writable. Not partial: a partial index on deleted_at IS NULL is smaller than the primary key, and for
-- a tenant newer than the statistics (estimated at one row) the planner then took it for a conversation by id.
CREATE INDEX CONCURRENTLY IF NOT EXISTS conversations_tenant_recent_idx
    ON {schema}.conversations (tenant_id, last_activity_at DESC, id DESC);
