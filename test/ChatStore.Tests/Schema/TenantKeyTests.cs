namespace ChatStore.Tests.Schema;

/// <summary>
/// The schema is ready to be distributed by tenant_id (Citus): every key of a tenant table leads with tenant_id,
/// no foreign key between tenant tables sets a reference to NULL, no policy has a sub-select, and no trigger
/// reads or writes another table. Checked in the catalog of a freshly migrated schema, so a later migration
/// that breaks one of them fails here.
/// </summary>
public sealed class TenantKeyTests : SchemaTestBase
{
    // The tenant-owned tables: every table of the schema with a tenant_id column.
    const string TenantTables = """
        SELECT c.oid FROM pg_class c
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
        """;

    [Fact]
    public async Task Every_primary_unique_and_foreign_key_of_a_tenant_table_leads_with_tenant_id()
    {
        await NewMigrator().InitAsync();
        Assert.Equal(22L, await ScalarAsync<long>($"SELECT count(*) FROM ({TenantTables}) t"));
        // Constraints (primary, unique, foreign keys to other tenant tables) and unique indexes without a constraint.
        var offending = await ScalarAsync<string[]>($"""
            WITH tenant AS ({TenantTables})
            SELECT coalesce(array_agg(name ORDER BY name), ARRAY[]::text[]) FROM (
                SELECT k.conname::text AS name FROM pg_constraint k
                 WHERE k.conrelid IN (SELECT oid FROM tenant)
                   AND (k.contype IN ('p', 'u') OR k.contype = 'f' AND k.confrelid IN (SELECT oid FROM tenant))
                   AND ((SELECT attname FROM pg_attribute WHERE attrelid = k.conrelid AND attnum = k.conkey[1]) <> 'tenant_id'
                        OR k.contype = 'f' AND (SELECT attname FROM pg_attribute WHERE attrelid = k.confrelid AND attnum = k.confkey[1]) <> 'tenant_id')
                UNION ALL
                SELECT i.indexrelid::regclass::text FROM pg_index i
                 WHERE i.indrelid IN (SELECT oid FROM tenant) AND i.indisunique
                   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                   AND (i.indkey[0] = 0 OR (SELECT attname FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) <> 'tenant_id')
            ) o
            """);
        Assert.Empty(offending);
        // And the check sees keys at all: the messages table's primary key is (tenant_id, id).
        Assert.Equal("PRIMARY KEY (tenant_id, id)",
            await ScalarAsync<string>("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'messages_pkey' AND connamespace = 'public'::regnamespace"));
    }

    [Fact]
    public async Task No_foreign_key_between_tenant_tables_sets_null_or_a_default()
    {
        await NewMigrator().InitAsync();
        var offending = await ScalarAsync<string[]>($"""
            WITH tenant AS ({TenantTables})
            SELECT coalesce(array_agg(k.conname::text ORDER BY k.conname), ARRAY[]::text[]) FROM pg_constraint k
             WHERE k.contype = 'f' AND k.conrelid IN (SELECT oid FROM tenant) AND k.confrelid IN (SELECT oid FROM tenant)
               AND (k.confdeltype IN ('n', 'd') OR k.confupdtype IN ('n', 'd'))
            """);
        Assert.Empty(offending);
        Assert.True(await ScalarAsync<long>($"""
            WITH tenant AS ({TenantTables})
            SELECT count(*) FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid IN (SELECT oid FROM tenant) AND k.confrelid IN (SELECT oid FROM tenant)
            """) >= 30);
    }

    [Fact]
    public async Task Every_tenant_policy_compares_with_the_setting_without_a_sub_select()
    {
        await NewMigrator().InitAsync();
        // The policy's expression trees (pg_node_tree): a sub-select is a SUBLINK node.
        var withSubquery = await ScalarAsync<string[]>("""
            SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}') FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             WHERE c.relnamespace = 'public'::regnamespace
               AND (p.polqual::text LIKE '%{SUBLINK%' OR coalesce(p.polwithcheck::text, '') LIKE '%{SUBLINK%')
            """);
        Assert.Empty(withSubquery);
        const string expected = "(tenant_id = (NULLIF(current_setting('chatstore.tenant_id'::text, true), ''::text))::uuid)";
        var other = await ScalarAsync<string[]>($"""
            WITH tenant AS ({TenantTables})
            SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), ARRAY[]::text[]) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
             WHERE p.polrelid IN (SELECT oid FROM tenant)
               AND (pg_get_expr(p.polqual, p.polrelid) <> $1 OR pg_get_expr(p.polwithcheck, p.polrelid) <> $1)
            """, expected);
        Assert.Empty(other);
        Assert.Equal(22L, await ScalarAsync<long>($"SELECT count(*) FROM pg_policy WHERE polrelid IN ({TenantTables})"));
    }

    [Fact]
    public async Task No_trigger_on_a_tenant_table_reads_or_writes_another_table()
    {
        await NewMigrator().InitAsync();
        // The one trigger function allowed sets NEW.updated_at (a column of the row being updated) and reads no table.
        var triggers = await ScalarAsync<string[]>($"""
            WITH tenant AS ({TenantTables})
            SELECT coalesce(array_agg(DISTINCT p.proname::text), ARRAY[]::text[]) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE NOT t.tgisinternal AND t.tgrelid IN (SELECT oid FROM tenant)
            """);
        Assert.Equal(["chatstore_touch_updated_at"], triggers);
        var body = await ScalarAsync<string>("SELECT prosrc FROM pg_proc WHERE proname = 'chatstore_touch_updated_at' AND pronamespace = 'public'::regnamespace");
        Assert.Equal("NEW.updated_at := now(); RETURN NEW;", string.Join(' ', body.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries)).Replace("BEGIN ", "").Replace(" END", ""));
    }
}
