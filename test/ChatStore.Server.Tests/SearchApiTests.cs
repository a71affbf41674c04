using System.Net;
using System.Net.Http.Json;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class SearchApiTests(ServerFixture server)
{
    [Fact]
    public async Task Full_text_vector_and_hybrid_search_find_own_rows_and_never_another_users()
    {
        var world = await server.NewWorldAsync();
        using var op = server.As(OperatorKey);
        var spaceName = $"s{Guid.NewGuid():N}"[..20];
        var space = await ReadAsync(await op.PostAsJsonAsync("/v1/embedding-spaces",
            new { name = spaceName, model = "chatstore-hashing-v1", dimensions = 64, metric = "cosine", indexKind = "hnsw" }));
        Assert.Equal(64, space.GetProperty("dimensions").GetInt32());
        await ProblemAsync(await world.Key.PostAsJsonAsync("/v1/embedding-spaces", new { name = "nope", model = "m", dimensions = 3 }), 401);
        Assert.Contains(spaceName, (await ReadAsync(await world.SessionA.GetAsync("/v1/embedding-spaces"))).GetRawText(), StringComparison.Ordinal);

        async Task<Guid> MessageAsync(HttpClient http, string text)
        {
            var conversation = (await ReadAsync(await http.PostAsJsonAsync("/v1/conversations", new { title = "c" }))).GetProperty("id").GetGuid();
            var message = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = text }))).GetProperty("id").GetGuid();
            return message;
        }
        var mine = await MessageAsync(world.SessionA, "the zebra crossing at dawn");
        var theirs = await MessageAsync(world.SessionB, "a zebra secret of user b");

        var hits = await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/search/full-text", new { text = "zebra" }));
        var ids = hits.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([mine], ids);
        Assert.DoesNotContain("secret of user b", hits.GetRawText(), StringComparison.Ordinal);
        var tenantWide = await ReadAsync(await world.Key.PostAsJsonAsync("/v1/search/full-text", new { text = "zebra" }));
        Assert.Equal(2, tenantWide.GetProperty("items").GetArrayLength());
        // Another user's id from a session is not found, hostile query text is not an error.
        await ProblemAsync(await world.SessionA.PostAsJsonAsync("/v1/search/full-text", new { text = "zebra", userId = world.UserB }), 404);
        await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/search/full-text", new { text = "\"unbalanced ( -or <-> !:*" }));

        // Vectors: wrong dimensions are 400; stored vectors are found by kNN and hybrid.
        var bad = await ProblemAsync(await world.Key.PutAsJsonAsync($"/v1/embeddings/{spaceName}/message/{mine}", new { vector = new float[3] }), 400);
        Assert.Equal("vector", bad.GetProperty("field").GetString());
        var v = Enumerable.Range(0, 64).Select(i => i == 3 ? 1f : 0.01f).ToArray();
        await ReadAsync(await world.Key.PutAsJsonAsync($"/v1/embeddings/{spaceName}/message/{mine}", new { vector = v }));
        await ReadAsync(await world.Key.PutAsJsonAsync($"/v1/embeddings/{spaceName}/message/{theirs}", new { vector = v }));
        await ProblemAsync(await world.Key.PutAsJsonAsync($"/v1/embeddings/{spaceName}/message/{Guid.NewGuid()}", new { vector = v }), 404);

        var knn = await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/search/vector", new { space = spaceName, vector = v, k = 5 }));
        Assert.Equal([mine], knn.GetProperty("items").EnumerateArray().Select(h => h.GetProperty("id").GetGuid()).ToList());
        Assert.False(knn.GetProperty("hasMore").GetBoolean());
        var hybrid = await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/search/hybrid", new { space = spaceName, text = "zebra", vector = v }));
        var top = Assert.Single(hybrid.GetProperty("items").EnumerateArray());
        Assert.Equal(["fullText", "vector"], top.GetProperty("sources").EnumerateArray().Select(s => s.GetString()).ToList());
        Assert.Equal(mine, top.GetProperty("id").GetGuid());
        Assert.Equal(1, top.GetProperty("fullTextRank").GetInt32());
        Assert.Equal(1, top.GetProperty("vectorRank").GetInt32());
        await ProblemAsync(await world.SessionA.PostAsJsonAsync("/v1/search/vector", new { space = "no-such-space", vector = v }), 404);
        Assert.Equal(HttpStatusCode.NoContent, (await world.Key.DeleteAsync($"/v1/embeddings/{spaceName}/message/{mine}")).StatusCode);
    }
}
