DROP INDEX {schema}.idempotency_keys_tenant_created_idx;
CREATE INDEX idempotency_keys_created_idx ON {schema}.idempotency_keys (created_at);
COMMENT ON TABLE {schema}.idempotency_keys IS 'Idempotency-Key records: the request hash and the response to replay; status_code is NULL while the first request runs.';
