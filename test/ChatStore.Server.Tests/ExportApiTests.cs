using System.Net.Http.Json;
using System.Text;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ExportApiTests(ServerFixture server)
{
    [Fact]
    public async Task Export_erase_and_import_round_trip_and_foreign_users_are_not_found()
    {
        var world = await server.NewWorldAsync();
        var conversation = (await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { title = "keep me 🐶" }))).GetProperty("id").GetGuid();
        await ReadAsync(await world.SessionA.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = "héllo wörld" }));

        var export = await world.SessionA.GetAsync($"/v1/users/{world.UserA}/export");
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var lines = await export.Content.ReadAsStringAsync();
        Assert.Contains("héllo wörld", lines, StringComparison.Ordinal);
        Assert.Contains("keep me 🐶", lines, StringComparison.Ordinal);
        // A session exports only itself; another tenant's key cannot see the user.
        await ProblemAsync(await world.SessionA.GetAsync($"/v1/users/{world.UserB}/export"), 404);
        var other = await server.NewWorldAsync();
        await ProblemAsync(await other.Key.GetAsync($"/v1/users/{world.UserA}/export"), 404);
        await ProblemAsync(await other.Key.PostAsync($"/v1/users/{world.UserA}/erase", null), 404);

        var erased = await ReadAsync(await world.Key.PostAsync($"/v1/users/{world.UserA}/erase", null));
        Assert.Equal(1, erased.GetProperty("deletedRows").GetProperty("messages").GetInt64());
        await ProblemAsync(await world.Key.GetAsync($"/v1/users/{world.UserA}"), 404);

        using var body = new StringContent(lines, Encoding.UTF8, "application/x-ndjson");
        await ReadAsync(await world.Key.PostAsync("/v1/users/import", body));
        var again = await (await world.Key.GetAsync($"/v1/users/{world.UserA}/export")).Content.ReadAsStringAsync();
        Assert.Equal(lines.Split('\n').Skip(1), again.Split('\n').Skip(1));
    }
}
