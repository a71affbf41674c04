-- The idempotency_keys policy in the form every other table's has had since 0004: the tenant setting read once
-- per statement (an InitPlan), not once per row.
ALTER POLICY tenant_isolation ON {schema}.idempotency_keys
    USING (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid))
    WITH CHECK (tenant_id = (SELECT NULLIF(current_setting('chatstore.tenant_id', true), '')::uuid));
