ALTER POLICY tenant_isolation ON {schema}.idempotency_keys
    USING (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid);
