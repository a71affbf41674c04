using ChatStore.Tenants;
using ChatStore.Users;
using Npgsql;

namespace ChatStore.Tests;

/// <summary>
/// One initialised ChatStore database shared by the data tests. Tests never share data: each
/// makes its own tenant (<see cref="NewTenantAsync"/>), so they run in any order and in parallel.
/// </summary>
public static class TestStore
{
    static readonly Lazy<Task<ChatStoreClient>> Shared = new(CreateAsync);
    static readonly Lazy<Task<ChatStoreClient>> SharedBypassingRls = new(CreateBypassingRlsAsync);

    /// <summary>
    /// An application role with the application role's grants that bypasses row-level security (BYPASSRLS). A store
    /// connected through it keeps tenants apart only by the tenant every statement names: isolation tests run
    /// through it too, to prove that no statement leaves its tenant to the policies.
    /// </summary>
    public const string BypassRlsRole = "chatstore_app_bypassrls";

    /// <summary>Creates <see cref="BypassRlsRole"/> (roles are the cluster's: another test run may have made it).</summary>
    public const string CreateBypassRlsRoleSql = $"""
        DO $$ BEGIN
            CREATE ROLE {BypassRlsRole} LOGIN BYPASSRLS IN ROLE chatstore_app;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """;

    /// <summary>The shared client (schema <c>public</c> of a database made for this test run).</summary>
    public static Task<ChatStoreClient> ClientAsync() => Shared.Value;

    /// <summary>The connection string of the shared database, as the owner (bypasses nothing: use for assertions).</summary>
    public static string ConnectionString { get; private set; } = "";

    static async Task<ChatStoreClient> CreateAsync()
    {
        ConnectionString = await TestDatabase.CreateDatabaseAsync("store");
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = 200 };
        var client = await ChatStoreClient.CreateAsync(new ChatStore.Connection.ChatStoreSettings { ConnectionString = builder.ConnectionString });
        await client.Migrator.InitAsync();
        return client;
    }

    /// <summary>A client over the shared database whose application role bypasses row-level security (<see cref="BypassRlsRole"/>).</summary>
    public static Task<ChatStoreClient> ClientBypassingRlsAsync() => SharedBypassingRls.Value;

    static async Task<ChatStoreClient> CreateBypassingRlsAsync()
    {
        await ClientAsync();
        await ExecuteAsync(CreateBypassRlsRoleSql);
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = 100 };
        return await ChatStoreClient.CreateAsync(new ChatStore.Connection.ChatStoreSettings { ConnectionString = builder.ConnectionString, AppRole = BypassRlsRole });
    }

    /// <summary>A fresh tenant and its scope (through a role that bypasses row-level security when asked).</summary>
    public static async Task<(ChatStoreClient Client, TenantScope Scope, Tenant Tenant)> NewTenantAsync(
        IReadOnlyList<string>? roles = null, string? searchLanguage = null, bool bypassRowLevelSecurity = false)
    {
        var client = bypassRowLevelSecurity ? await ClientBypassingRlsAsync() : await ClientAsync();
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "test tenant", Roles = roles, SearchLanguage = searchLanguage });
        return (client, client.ForTenant(tenant.Id), tenant);
    }

    /// <summary>A fresh user in <paramref name="scope"/>.</summary>
    public static Task<User> NewUserAsync(TenantScope scope, string? role = null) =>
        scope.Users.CreateAsync(new NewUser { Email = $"u{Guid.NewGuid():N}@example.com", Name = "Test User", Role = role });

    /// <summary>Runs a statement as the owner (RLS does not apply to the superuser), to arrange state a test needs; returns the rows affected.</summary>
    public static async Task<int> ExecuteAsync(string sql, params object[] args)
    {
        await ClientAsync();
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        return await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a scalar query as the owner (RLS does not apply to the superuser), for assertions on stored state.</summary>
    public static async Task<T> ScalarAsync<T>(string sql, params object[] args)
    {
        await ClientAsync();
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
