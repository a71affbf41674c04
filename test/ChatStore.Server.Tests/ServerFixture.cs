using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ChatStore.Connection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace ChatStore.Server.Tests;

/// <summary>
/// The HTTP service in-process (WebApplicationFactory) over a database made for this test run.
/// Tests share the server but never data: each makes its own tenants through the API.
/// </summary>
public class ServerFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string OperatorKey = "test-operator-key-0123456789";

    public string ConnectionString { get; private set; } = "";

    public int RateLimitPerSecond { get; init; } = 100_000;

    /// <summary>The application role the service acts as (null: ChatStore's default).</summary>
    public string? AppRole { get; init; }

    /// <summary>SQL run as the owner once the database is migrated (to make <see cref="AppRole"/>).</summary>
    public string? SetupSql { get; init; }

    /// <summary>The clock the server's client decides expiries by; null is the system clock.</summary>
    protected virtual TimeProvider? Clock => null;

    public async Task InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable("CHATSTORE_TEST_DATABASE_URL")
            ?? throw new InvalidOperationException("CHATSTORE_TEST_DATABASE_URL is not set: run the tests through scripts/test.sh.");
        var server = DatabaseUrl.ToConnectionString(url);
        // CHATSTORE_TEST_USE_DATABASE=1: run in the URL's own database as it is (a Citus coordinator's, distributed
        // beforehand), since a database made here would have no Citus in it.
        var useExisting = Environment.GetEnvironmentVariable("CHATSTORE_TEST_USE_DATABASE") == "1";
        var name = useExisting ? new NpgsqlConnectionStringBuilder(server).Database! : $"http_{Guid.NewGuid():N}";
        if (!useExisting)
        {
            await using var conn = new NpgsqlConnection(server);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 100 }.ConnectionString;
        await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = ConnectionString });
        await client.Migrator.InitAsync();
        if (SetupSql is not null)
        {
            await using var conn = new NpgsqlConnection(ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(SetupSql, conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Server:OperatorKey", OperatorKey);
        builder.UseSetting("Server:RateLimitPerSecond", RateLimitPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Server:RateLimitBurst", RateLimitPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Server:MaxRequestBodyBytes", (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.ConfigureServices(services =>
        {
            // The app's own data source, as Npgsql.DependencyInjection registers it: AddChatStore uses it.
            services.AddNpgsqlDataSource(ConnectionString);
            if (AppRole is not null)
            {
                // A fixture acting as another application role (one with BYPASSRLS, say) gets a client of its own.
                services.RemoveAll<ChatStoreClient>();
                services.AddSingleton(_ => ChatStoreClient.Create(new ChatStoreSettings { ConnectionString = ConnectionString, AppRole = AppRole, TimeProvider = Clock }));
            }
            if (Clock is not null)
            {
                // AddChatStore takes the container's clock when the settings name none.
                services.RemoveAll<TimeProvider>();
                services.AddSingleton(Clock);
            }
        });
    }

    /// <summary>An HTTP client sending <paramref name="token"/> as the bearer credential.</summary>
    public HttpClient As(string? token)
    {
        // Every response is checked against the OpenAPI document (ContractCheck).
        var http = CreateDefaultClient(new ContractCheck(CreateClient));
        if (token is not null)
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>A new tenant with an API key, through the operator routes.</summary>
    public async Task<(Guid TenantId, HttpClient Http)> NewTenantAsync(string[]? roles = null)
    {
        using var op = As(OperatorKey);
        var tenant = await ReadAsync(await op.PostAsJsonAsync("/v1/tenants", new { name = "t", roles }));
        var tenantId = tenant.GetProperty("id").GetGuid();
        var key = await ReadAsync(await op.PostAsJsonAsync($"/v1/tenants/{tenantId}/api-keys", new { name = "test" }));
        return (tenantId, As(key.GetProperty("secret").GetString()));
    }

    /// <summary>A new user of the tenant behind <paramref name="http"/>.</summary>
    public static async Task<Guid> NewUserAsync(HttpClient http) =>
        (await ReadAsync(await http.PostAsJsonAsync("/v1/users", new { email = $"u{Guid.NewGuid():N}@example.com", name = "User" }))).GetProperty("id").GetGuid();

    /// <summary>A session token client for <paramref name="userId"/>, created with the tenant key <paramref name="key"/>; also returns the session id.</summary>
    public async Task<(HttpClient Http, Guid SessionId, string Token)> SessionAsync(HttpClient key, Guid userId)
    {
        var created = await ReadAsync(await key.PostAsJsonAsync("/v1/sessions", new { userId }));
        var token = created.GetProperty("token").GetString()!;
        return (As(token), created.GetProperty("session").GetProperty("id").GetGuid(), token);
    }

    /// <summary>A tenant with its API key and two users, each with a session.</summary>
    public async Task<World> NewWorldAsync()
    {
        var (tenantId, key) = await NewTenantAsync();
        var a = await NewUserAsync(key);
        var b = await NewUserAsync(key);
        var sa = await SessionAsync(key, a);
        var sb = await SessionAsync(key, b);
        return new World(tenantId, key, a, sa.Http, sa.SessionId, b, sb.Http);
    }

    /// <summary>Sends <paramref name="body"/> (serialised as JSON, when given) with <paramref name="method"/>.</summary>
    public static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string url, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
            request.Content = body is string raw ? new StringContent(raw, System.Text.Encoding.UTF8, "application/json") : JsonContent.Create(body);
        return http.SendAsync(request);
    }

    /// <summary>The JSON body of a successful response (fails the test with the body otherwise).</summary>
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The problem details of a failed response, asserting its status.</summary>
    public static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

/// <summary>The server with a fake clock that tests move forward instead of waiting (share-link expiry, say).</summary>
public sealed class FakeClockServerFixture : ServerFixture
{
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override TimeProvider? Clock => Time;
}

/// <summary>A tenant, its API key, and users A and B with a session each.</summary>
public sealed record World(Guid TenantId, HttpClient Key, Guid UserA, HttpClient SessionA, Guid SessionAId, Guid UserB, HttpClient SessionB);

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}

/// <summary>
/// The service acting as a role that bypasses row-level security (BYPASSRLS) but has the application role's grants:
/// tenants stay apart only through the tenant every statement names.
/// </summary>
public sealed class BypassRlsServerFixture : ServerFixture
{
    public const string Role = "chatstore_app_bypassrls";

    public BypassRlsServerFixture()
    {
        AppRole = Role;
        // Roles are the cluster's: another test (or test project) may have made it.
        SetupSql = $"""
            DO $$ BEGIN
                CREATE ROLE {Role} LOGIN BYPASSRLS IN ROLE chatstore_app;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """;
    }
}
