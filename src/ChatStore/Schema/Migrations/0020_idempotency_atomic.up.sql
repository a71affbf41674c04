-- Idempotency keys commit in the transaction of the write they guard, together with its response, so a
-- committed key always has a response: a key without one was claimed by an older version in a transaction of
-- its own and its request died. Those are deleted here, so a retry runs the request again.
DELETE FROM {schema}.idempotency_keys WHERE status_code IS NULL;
COMMENT ON TABLE {schema}.idempotency_keys IS 'Idempotency-Key records: the request hash and the response to replay, committed with the write they guard; purged after their lifetime.';
-- The purge deletes each tenant's expired keys in small batches: by tenant, then age.
DROP INDEX {schema}.idempotency_keys_created_idx;
CREATE INDEX idempotency_keys_tenant_created_idx ON {schema}.idempotency_keys (tenant_id, created_at);
