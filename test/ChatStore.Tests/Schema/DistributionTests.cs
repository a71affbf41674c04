using ChatStore.Schema;
using Npgsql;

namespace ChatStore.Tests.Schema;

/// <summary>
/// What <c>db distribute</c> would place where, read from a real schema's catalog, and how it behaves on
/// plain PostgreSQL (the test server). The Citus side is exercised against a real cluster (docs/scaling.md).
/// </summary>
public sealed class DistributionTests : SchemaTestBase
{
    [Fact]
    public async Task The_plan_distributes_exactly_the_tables_under_a_tenant_policy_and_shares_the_rest()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();

        var plan = await migrator.PlanDistributionAsync();

        Assert.Equal(["chatstore_migrations", "embedding_spaces", "tenants"], plan.ReferenceTables.Order(StringComparer.Ordinal));
        // The tenant tables as row-level security defines them: a policy that reads the table's tenant_id column.
        var policed = await ListAsync("""
            SELECT DISTINCT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
              JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = p.oid AND d.refobjid = c.oid
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid AND a.attname = 'tenant_id'
             WHERE c.relnamespace = 'public'::regnamespace
             ORDER BY 1
            """);
        Assert.Equal(policed, plan.DistributedTables.Order(StringComparer.Ordinal));
        var all = await ListAsync("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') ORDER BY 1");
        Assert.Equal(all, plan.ReferenceTables.Concat(plan.DistributedTables).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_plan_puts_every_table_after_the_tenant_tables_its_foreign_keys_point_at()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();

        var plan = await migrator.PlanDistributionAsync();

        var position = plan.DistributedTables.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        var keys = await ListAsync("""
            SELECT c.relname || ' ' || p.relname FROM pg_constraint f
              JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid
             WHERE f.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND c.oid <> p.oid
            """);
        Assert.NotEmpty(keys);
        foreach (var pair in keys.Select(k => k.Split(' ')))
        {
            if (position.TryGetValue(pair[0], out var child) && position.TryGetValue(pair[1], out var parent))
                Assert.True(parent < child, $"{pair[1]} must be distributed before {pair[0]}, whose foreign key points at it");
        }
    }

    [Fact]
    public async Task A_new_table_without_tenant_id_is_refused_by_name_and_one_with_it_joins_the_tenant_tables()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();
        await ExecuteAsync("CREATE TABLE public.pet_profiles (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id))");
        Assert.Contains("pet_profiles", (await migrator.PlanDistributionAsync()).DistributedTables);

        await ExecuteAsync("CREATE TABLE public.global_settings (key text PRIMARY KEY, value text)");
        var e = await Assert.ThrowsAsync<ChatStoreConfigurationException>(() => migrator.PlanDistributionAsync());
        Assert.Contains("global_settings", e.Message, StringComparison.Ordinal);
        Assert.Contains("tenant_id", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pet_profiles", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_plain_PostgreSQL_the_status_says_no_Citus_and_distribute_refuses_changing_nothing()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();

        var status = await migrator.DistributionStatusAsync();
        Assert.False(status.Citus);
        Assert.False(status.Distributed);
        var e = await Assert.ThrowsAsync<ChatStoreConfigurationException>(() => migrator.DistributeAsync());
        Assert.Contains("plain PostgreSQL", e.Message, StringComparison.Ordinal);
        Assert.True((await migrator.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task The_application_role_can_log_in_for_Citus_but_owns_nothing_and_bypasses_nothing()
    {
        await NewMigrator().InitAsync();

        Assert.True(await ScalarAsync<bool>("SELECT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls AND NOT rolcreaterole AND NOT rolcreatedb FROM pg_roles WHERE rolname = 'chatstore_app'"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relowner = 'chatstore_app'::regrole"));
    }

    [Fact]
    public async Task Verify_ignores_an_extensions_own_views_in_the_schema_but_not_a_hand_made_one()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();
        // pg_stat_statements creates two views in the schema it is created in (public, the default here).
        await ExecuteAsync("CREATE EXTENSION pg_stat_statements SCHEMA public");
        Assert.True(await ScalarAsync<bool>("SELECT to_regclass('public.pg_stat_statements') IS NOT NULL"));
        Assert.Empty((await migrator.VerifyAsync()).Differences);
        Assert.Equal(["chatstore_migrations", "embedding_spaces", "tenants"], (await migrator.PlanDistributionAsync()).ReferenceTables.Order(StringComparer.Ordinal));

        await ExecuteAsync("CREATE VIEW public.hand_made AS SELECT 1 AS one");
        var differences = (await migrator.VerifyAsync()).Differences;
        Assert.Equal(["column hand_made.one", "table hand_made"], differences.Select(d => $"{d.Kind} {d.Object}").Order(StringComparer.Ordinal));
    }

    async Task<List<string>> ListAsync(string sql)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        var list = new List<string>();
        while (await reader.ReadAsync())
            list.Add(reader.GetString(0));
        return list;
    }
}
