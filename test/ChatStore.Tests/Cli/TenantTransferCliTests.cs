using System.Text.Json;
using ChatStore.Connection;
using ChatStore.Users;

namespace ChatStore.Tests.Cli;

/// <summary>Whole-tenant <c>chatstore export --tenant</c> / <c>import</c>, between two databases, as child processes.</summary>
public sealed class TenantTransferCliTests : IAsyncLifetime
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"chatstore-tenant-export-{Guid.NewGuid():N}");
    string _source = "", _target = "";

    public async Task InitializeAsync()
    {
        _source = await TestDatabase.CreateDatabaseAsync("exp");
        _target = await TestDatabase.CreateDatabaseAsync("imp");
        foreach (var cs in new[] { _source, _target })
        {
            await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = cs });
            await client.Migrator.InitAsync();
        }
    }

    public Task DisposeAsync()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Every_user_of_a_tenant_goes_out_to_a_folder_and_into_another_database_with_a_summary()
    {
        Guid tenantId;
        await using (var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = _source }))
        {
            tenantId = (await client.Tenants.CreateAsync(new ChatStore.Tenants.NewTenant { Name = "moving" })).Id;
            var scope = client.ForTenant(tenantId);
            for (var i = 0; i < 3; i++)
            {
                var user = await scope.Users.CreateAsync(new NewUser { Email = $"u{i}@example.com", Name = $"User {i}" });
                await scope.Memories.AddAsync(new ChatStore.Memories.NewMemory { UserId = user.Id, Content = $"Memory of user {i}" });
            }
        }

        var export = await CliProcess.RunAsync(["export", "--tenant", tenantId.ToString(), "--out", _folder, "--database-url", _source], null);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(3, Directory.GetFiles(_folder, "*.jsonl").Length);
        Assert.Contains(export.Lines, l => l.StartsWith("Exported 3 users, 6 rows in", StringComparison.Ordinal) && l.Contains("rows/s", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', export.Out);

        Guid targetTenant;
        await using (var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = _target }))
            targetTenant = (await client.Tenants.CreateAsync(new ChatStore.Tenants.NewTenant { Name = "arrived" })).Id;
        var import = await CliProcess.RunAsync(["import", "--tenant", targetTenant.ToString(), "--in", _folder, "--json", "--database-url", _target], null);
        Assert.True(import.ExitCode == 0, import.ToString());
        var summary = JsonDocument.Parse(import.Out).RootElement;
        Assert.Equal(3, summary.GetProperty("users").GetInt32());
        Assert.Equal(6, summary.GetProperty("rows").GetInt64());
        Assert.Equal(3, summary.GetProperty("tables").GetProperty("memories").GetInt64());

        await using (var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = _target }))
        {
            var users = await client.ForTenant(targetTenant).Users.ListAsync();
            Assert.Equal(["u0@example.com", "u1@example.com", "u2@example.com"], users.Items.Select(u => u.Email).Order());
        }

        var noFolder = await CliProcess.RunAsync(["export", "--tenant", tenantId.ToString(), "--database-url", _source], null);
        Assert.NotEqual(0, noFolder.ExitCode);
        Assert.Contains("--out", noFolder.Err, StringComparison.Ordinal);
    }
}
