using Npgsql;

namespace ChatStore.Tests.Schema;

public sealed class RowLevelSecurityTests : SchemaTestBase
{
    [Fact]
    public async Task As_the_application_role_a_tenant_sees_and_writes_only_its_own_rows()
    {
        await NewMigrator().InitAsync();
        await using var client = new ChatStoreClient(DataSource);
        var a = await client.Tenants.CreateAsync(new() { Name = "A" });
        var b = await client.Tenants.CreateAsync(new() { Name = "B" });
        var userA = await client.ForTenant(a.Id).Users.CreateAsync(new() { Email = "a@example.com" });
        var userB = await client.ForTenant(b.Id).Users.CreateAsync(new() { Email = "b@example.com" });

        await using var conn = await DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await Exec(conn, "SET LOCAL ROLE chatstore_app");
        Assert.Equal(0L, await Count(conn, "SELECT count(*) FROM public.users"));
        Assert.Equal(0L, await Count(conn, "SELECT count(*) FROM public.tenants"));

        await Exec(conn, $"SELECT set_config('chatstore.tenant_id', '{a.Id}', true)");
        Assert.Equal(1L, await Count(conn, "SELECT count(*) FROM public.users"));
        Assert.Equal(0L, await Count(conn, $"SELECT count(*) FROM public.users WHERE id = '{userB.Id}'"));
        Assert.Equal(0L, await Count(conn, $"WITH u AS (UPDATE public.users SET name = 'taken' WHERE id = '{userB.Id}' RETURNING 1) SELECT count(*) FROM u"));
        Assert.Equal(0L, await Count(conn, $"WITH u AS (DELETE FROM public.users WHERE id = '{userB.Id}' RETURNING 1) SELECT count(*) FROM u"));

        await Exec(conn, "SAVEPOINT s");
        var insert = await Assert.ThrowsAsync<PostgresException>(() =>
            Exec(conn, $"INSERT INTO public.users (id, tenant_id, role) VALUES (gen_random_uuid(), '{b.Id}', 'user')"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, insert.SqlState);
        await Exec(conn, "ROLLBACK TO SAVEPOINT s");

        var moved = await Assert.ThrowsAsync<PostgresException>(() =>
            Exec(conn, $"UPDATE public.users SET tenant_id = '{b.Id}' WHERE id = '{userA.Id}'"));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, moved.SqlState);
        await tx.RollbackAsync();

        Assert.Equal("b@example.com", (await client.ForTenant(b.Id).Users.GetAsync(userB.Id)).Email);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => client.ForTenant(a.Id).Users.GetAsync(userB.Id));
    }

    [Fact]
    public async Task Every_tenant_owned_table_has_rls_enabled_and_forced()
    {
        await NewMigrator().InitAsync();
        var unprotected = await ScalarAsync<string[]>("""
            SELECT coalesce(array_agg(c.relname ORDER BY c.relname), '{}') FROM pg_class c
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname IN ('tenant_id')
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
            """);
        Assert.Empty(unprotected);
        Assert.True(await ScalarAsync<bool>("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.tenants'::regclass"));
    }

    static async Task Exec(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    static async Task<long> Count(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }
}
