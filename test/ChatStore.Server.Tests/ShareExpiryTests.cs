using System.Net.Http.Json;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

/// <summary>Share links that expire, on a server whose clock the test moves.</summary>
public sealed class ShareExpiryTests(FakeClockServerFixture server) : IClassFixture<FakeClockServerFixture>
{
    [Fact]
    public async Task An_expired_link_and_a_deleted_conversations_link_are_404()
    {
        var world = await server.NewWorldAsync();
        var conversation = (await ReadAsync(await world.Key.PostAsJsonAsync("/v1/conversations", new { userId = world.UserA, title = "x" }))).GetProperty("id").GetGuid();
        var now = server.Time.GetUtcNow();
        await ProblemAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/shares", new { expiresAt = now.AddMinutes(-1) }), 400);
        var expiring = (await ReadAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/shares",
            new { expiresAt = now.AddSeconds(1.5) }))).GetProperty("token").GetString();
        var lasting = (await ReadAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/shares", new { }))).GetProperty("token").GetString();
        using var anonymous = server.As(null);
        await ReadAsync(await anonymous.GetAsync($"/v1/shared/{expiring}"));
        server.Time.Advance(TimeSpan.FromSeconds(1.4));
        await ReadAsync(await anonymous.GetAsync($"/v1/shared/{expiring}"));
        server.Time.Advance(TimeSpan.FromSeconds(0.1));
        await ProblemAsync(await anonymous.GetAsync($"/v1/shared/{expiring}"), 404);
        await ReadAsync(await anonymous.GetAsync($"/v1/shared/{lasting}"));
        await world.Key.DeleteAsync($"/v1/conversations/{conversation}");
        await ProblemAsync(await anonymous.GetAsync($"/v1/shared/{lasting}"), 404);
    }
}
