using ChatStore.Connection;
using ChatStore.DependencyInjection;
using ChatStore.Tests.Embedded;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Tests.DependencyInjection;

public sealed class AddChatStoreTests
{
    [Fact]
    public async Task The_apps_registered_data_source_is_used_and_outlives_the_client()
    {
        var connectionString = await TestDatabase.CreateDatabaseAsync("di");
        var services = new ServiceCollection();
        services.AddNpgsqlDataSource(connectionString);
        services.AddChatStore(o => o.Settings = new ChatStoreSettings { ConnectionString = "Host=nowhere.invalid" });
        await using var provider = services.BuildServiceProvider();

        var registered = provider.GetRequiredService<NpgsqlDataSource>();
        var client = provider.GetRequiredService<ChatStoreClient>();
        Assert.Same(registered, client.DataSource);
        await client.Migrator.InitAsync();
        Assert.True((await client.HealthCheckAsync()).Healthy);

        await client.DisposeAsync();
        await using var conn = await registered.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", conn);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_connection_string_gives_a_client_at_resolution_without_a_host()
    {
        var connectionString = await TestDatabase.CreateDatabaseAsync("di");
        var services = new ServiceCollection();
        services.AddChatStore(o => o.Settings = new ChatStoreSettings { ConnectionString = connectionString, AppRole = null });
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ChatStoreClient>();
        Assert.Equal(0, (await client.Migrator.StatusAsync()).CurrentVersion);
    }

    [Fact]
    public async Task The_embedded_cluster_starts_in_the_hosted_service_not_at_resolution()
    {
        await using var dir = new TempDataDirectory();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddChatStore(o => o.Settings = new ChatStoreSettings { EmbeddedDataDirectory = dir.DataDirectory });
        using var host = builder.Build();

        // Before the host starts, resolving answers at once (no cluster is started on the resolving thread) and says what to do.
        var early = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<ChatStoreClient>());
        Assert.Contains("GetClientAsync", early.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.PidFile));

        await host.StartAsync();
        Assert.True(File.Exists(dir.PidFile));
        var client = host.Services.GetRequiredService<ChatStoreClient>();
        Assert.Same(client, await host.Services.GetRequiredService<ChatStoreStartup>().GetClientAsync());
        Assert.True((await client.HealthCheckAsync()).Reachable);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_health_check_is_unhealthy_until_the_schema_is_initialised()
    {
        var connectionString = await TestDatabase.CreateDatabaseAsync("di");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddChatStore(o => o.Settings = new ChatStoreSettings { ConnectionString = connectionString }).AddHealthChecks();
        await using var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();

        var before = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, before.Status);
        Assert.Contains("chatstore db init", before.Entries[ChatStoreHealthCheck.DefaultName].Description, StringComparison.Ordinal);
        Assert.Equal(0, ChatStoreHealthCheck.Report(before).SchemaVersion);

        await provider.GetRequiredService<ChatStoreClient>().Migrator.InitAsync();
        var after = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, after.Status);
        Assert.True(ChatStoreHealthCheck.Report(after).Healthy);
    }

    [Fact]
    public async Task An_unreachable_database_is_unhealthy_with_the_password_masked()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddChatStore(o => o.Settings = new ChatStoreSettings { ConnectionString = "Host=127.0.0.1;Port=1;Username=u;Password=hunter2-secret;Timeout=2" });
        services.AddHealthChecks().AddChatStore();
        await using var provider = services.BuildServiceProvider();

        var result = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        var entry = result.Entries[ChatStoreHealthCheck.DefaultName];
        Assert.StartsWith("The database is not reachable", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_the_usual_Information_level_no_SQL_statement_is_logged_and_at_Debug_they_are()
    {
        var connectionString = await TestDatabase.CreateDatabaseAsync("di");
        async Task<CapturedLogs> RunAsync(LogLevel level)
        {
            var logs = new CapturedLogs();
            var services = new ServiceCollection();
            services.AddLogging(b => b.SetMinimumLevel(level).AddProvider(logs));
            services.AddChatStore(o => o.Settings = new ChatStoreSettings { ConnectionString = connectionString });
            await using var provider = services.BuildServiceProvider();
            var client = provider.GetRequiredService<ChatStoreClient>();
            await client.Migrator.InitAsync();
            var tenant = await client.Tenants.CreateAsync(new ChatStore.Tenants.NewTenant { Name = "logs" });
            await client.ForTenant(tenant.Id).Users.CreateAsync(new ChatStore.Users.NewUser { Email = $"{Guid.NewGuid():N}@example.com" });
            return logs;
        }

        static bool IsStatement((string Category, LogLevel Level, string Message) line) =>
            line.Category.StartsWith("Npgsql", StringComparison.Ordinal) && line.Message.Contains("INSERT INTO", StringComparison.Ordinal);

        var quiet = await RunAsync(LogLevel.Information);
        Assert.DoesNotContain(quiet.Lines, l => IsStatement(l) && l.Level >= LogLevel.Information);
        var debug = await RunAsync(LogLevel.Debug);
        Assert.Contains(debug.Lines, l => IsStatement(l) && l.Level == LogLevel.Debug);
    }
}
