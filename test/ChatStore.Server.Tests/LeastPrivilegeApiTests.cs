using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatStore.Connection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace ChatStore.Server.Tests;

/// <summary>The HTTP service logging in as a login that is not the schema owner, granted with <c>db grant</c>'s library call.</summary>
public sealed class LeastPrivilegeApiTests : WebApplicationFactory<Program>, IAsyncLifetime
{
    string _loginConnectionString = "";

    public async Task InitializeAsync()
    {
        var server = DatabaseUrl.ToConnectionString(Environment.GetEnvironmentVariable("CHATSTORE_TEST_DATABASE_URL")
            ?? throw new InvalidOperationException("CHATSTORE_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh."));
        var name = $"lp_{Guid.NewGuid():N}";
        var login = $"http_login_{Guid.NewGuid():N}"[..24];
        await using (var conn = new NpgsqlConnection(server))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"; CREATE ROLE \"{login}\" LOGIN", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var owner = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
        await using (var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = owner }))
        {
            await client.Migrator.InitAsync();
            await client.Migrator.GrantAsync(login);
        }
        _loginConnectionString = new NpgsqlConnectionStringBuilder(owner) { Username = login }.ConnectionString;
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Server:OperatorKey", ServerFixture.OperatorKey);
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<ChatStoreClient>();
            services.AddSingleton(_ => ChatStoreClient.Create(new ChatStoreSettings { ConnectionString = _loginConnectionString }));
        });
    }

    [Fact]
    public async Task Readiness_and_tenants_work_and_registering_a_space_is_a_403_naming_the_owner()
    {
        using var http = CreateClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.OperatorKey);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsJsonAsync("/v1/tenants", new { name = "least privilege" })).StatusCode);

        var response = await http.PostAsJsonAsync("/v1/embedding-spaces", new { name = "lp-http", model = "local-hash", dimensions = 8 });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("postgres", problem.GetProperty("requiredRole").GetString());
        Assert.Contains("needs the owner of schema public, role postgres", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
