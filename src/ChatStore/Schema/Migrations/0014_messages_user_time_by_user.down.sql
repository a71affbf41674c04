DROP INDEX {schema}.messages_user_time_idx;
CREATE INDEX messages_user_time_idx ON {schema}.messages (tenant_id, user_id, created_at DESC);
