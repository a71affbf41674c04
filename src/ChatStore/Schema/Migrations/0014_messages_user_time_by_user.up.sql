-- A user's messages by time, led by the user rather than the tenant. Statements now name their tenant
-- (tenant_id = $1) instead of leaving it to the policy, and for a tenant newer than the last ANALYZE the
-- planner estimates that comparison at one row: every index that starts with tenant_id then looks as
-- selective as the primary key, and (tenant_id, user_id, created_at) was picked for a message by id and for
-- a conversation's history, reading all of the tenant's messages. User ids are unique across tenants, so
-- leading with the user loses nothing for a user's messages, and the index no longer competes for the
-- tenant's own lookups.
DROP INDEX {schema}.messages_user_time_idx;
CREATE INDEX messages_user_time_idx ON {schema}.messages (user_id, created_at DESC);
