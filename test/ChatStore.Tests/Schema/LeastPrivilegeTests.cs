using ChatStore.Connection;
using ChatStore.Embeddings;
using ChatStore.Tenants;
using ChatStore.Tests.Cli;
using ChatStore.Users;
using Npgsql;

namespace ChatStore.Tests.Schema;

/// <summary>
/// The service logging in as a login role that is not the schema owner, given its rights by
/// <c>chatstore db grant</c> (run as a child process, as the operator runs it).
/// </summary>
public sealed class LeastPrivilegeTests : SchemaTestBase
{
    async Task<(string Login, string LoginConnectionString)> NewLoginAsync()
    {
        var login = $"app_login_{Guid.NewGuid():N}"[..24];
        await ExecuteAsync($"CREATE ROLE \"{login}\" LOGIN");
        return (login, new NpgsqlConnectionStringBuilder(ConnectionString) { Username = login }.ConnectionString);
    }

    [Fact]
    public async Task A_granted_login_serves_tenants_and_reports_status_but_migrating_and_registering_spaces_name_the_owner()
    {
        await NewMigrator().InitAsync();
        var (login, loginConnection) = await NewLoginAsync();
        await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = loginConnection });

        // Before the grant: not ready, and the report says which command fixes it.
        var before = await client.HealthCheckAsync();
        Assert.False(before.Healthy);
        Assert.Contains($"chatstore db grant --to {login}", before.Error, StringComparison.Ordinal);

        var grant = await CliProcess.RunAsync(["db", "grant", "--to", login, "--database-url", ConnectionString], null);
        Assert.True(grant.ExitCode == 0, grant.ToString());

        var health = await client.HealthCheckAsync();
        Assert.True(health.Healthy, health.Error);
        Assert.True((await client.Migrator.StatusAsync()).UpToDate);
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "least privilege" });
        var user = await client.ForTenant(tenant.Id).Users.CreateAsync(new NewUser { Email = "lp@example.com", Name = "LP" });
        Assert.Equal(user.Id, (await client.ForTenant(tenant.Id).Users.GetAsync(user.Id)).Id);

        var migrate = await Assert.ThrowsAsync<ChatStorePermissionException>(() => client.Migrator.MigrateAsync());
        Assert.Equal("postgres", migrate.RequiredRole);
        Assert.Contains($"logs in as {login}", migrate.Message, StringComparison.Ordinal);
        var space = await Assert.ThrowsAsync<ChatStorePermissionException>(() =>
            client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = "lp-space", Model = "local-hash", Dimensions = 8 }));
        Assert.Equal("postgres", space.RequiredRole);
        Assert.Contains("Registering embedding space 'lp-space' needs the owner of schema public, role postgres", space.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM embedding_spaces"));

        // The CLI as the login: status works, migrate refuses and names the owner.
        var status = await CliProcess.RunAsync(["db", "status", "--database-url", loginConnection], null);
        Assert.True(status.ExitCode == 0, status.ToString());
        var refused = await CliProcess.RunAsync(["db", "migrate", "--database-url", loginConnection], null);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("needs the owner of schema public, role postgres", refused.Out + refused.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tables_the_owner_adds_later_are_usable_by_a_granted_login_and_granting_twice_is_harmless()
    {
        await NewMigrator().InitAsync();
        var (login, loginConnection) = await NewLoginAsync();
        await NewMigrator().GrantAsync(login);
        await NewMigrator().GrantAsync(login);
        await ExecuteAsync("CREATE TABLE public.app_pets (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)");

        await using var conn = new NpgsqlConnection(loginConnection);
        await conn.OpenAsync();
        await using var insert = new NpgsqlCommand("SELECT set_config('role', 'chatstore_app', false); INSERT INTO public.app_pets (name) VALUES ('Rex')", conn);
        await insert.ExecuteNonQueryAsync();
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM public.app_pets"));
    }

    [Fact]
    public async Task Granting_to_a_role_that_does_not_exist_says_to_create_it()
    {
        await NewMigrator().InitAsync();
        var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => NewMigrator().GrantAsync("no_such_login_role"));
        Assert.Contains("CREATE ROLE \"no_such_login_role\" LOGIN", e.Message, StringComparison.Ordinal);
    }
}
