-- Responses of creating HTTP requests sent with an Idempotency-Key, so a retry gets the original response.
CREATE TABLE {schema}.idempotency_keys (
    tenant_id     uuid NOT NULL REFERENCES {schema}.tenants (id) ON DELETE CASCADE,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash  bytea NOT NULL,
    status_code   integer CHECK (status_code BETWEEN 100 AND 599),
    content_type  text,
    response_body bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON {schema}.idempotency_keys (created_at);
COMMENT ON TABLE {schema}.idempotency_keys IS 'Idempotency-Key records: the request hash and the response to replay; status_code is NULL while the first request runs.';
ALTER TABLE {schema}.idempotency_keys ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {schema}.idempotency_keys
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.idempotency_keys TO {app_role};
