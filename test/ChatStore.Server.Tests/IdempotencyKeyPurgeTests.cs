using System.Net;
using System.Net.Http.Json;
using ChatStore.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

/// <summary>Idempotency keys expire after their lifetime (24 h) on the server's clock, and the background purge deletes them.</summary>
public sealed class IdempotencyKeyPurgeTests(FakeClockServerFixture server) : IClassFixture<FakeClockServerFixture>
{
    [Fact]
    public async Task A_key_older_than_its_lifetime_is_purged_and_can_be_used_again()
    {
        var (tenant, http) = await server.NewTenantAsync();
        Task<HttpResponseMessage> CreateAsync(string email)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/users") { Content = JsonContent.Create(new { email }) };
            request.Headers.Add("Idempotency-Key", "purge-me");
            return http.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.Created, (await CreateAsync("first@example.com")).StatusCode);
        await ProblemAsync(await CreateAsync("second@example.com"), 422);
        var purge = server.Services.GetRequiredService<IdempotencyKeyPurge>();
        server.Time.Advance(TimeSpan.FromHours(23));
        await purge.PurgeAsync(CancellationToken.None);
        Assert.Equal(1L, await KeysAsync(tenant));

        server.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        // (The background pass may run at the same moment, the clock having passed its interval: either deletes it.)
        await purge.PurgeAsync(CancellationToken.None);
        Assert.Equal(0L, await KeysAsync(tenant));
        // Forgotten: the same key is a new request.
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync("second@example.com")).StatusCode);
        Assert.Equal(2, (await ReadAsync(await http.GetAsync("/v1/users"))).GetProperty("items").GetArrayLength());
    }

    async Task<long> KeysAsync(Guid tenant)
    {
        await using var db = new NpgsqlConnection(server.ConnectionString);
        await db.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1", db) { Parameters = { new() { Value = tenant } } };
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
