using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ConversationsApiTests(ServerFixture server)
{
    [Fact]
    public async Task Conversation_lifecycle_through_every_route()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var subject = (await ReadAsync(await http.PostAsJsonAsync("/v1/subjects", new { kind = "dog", name = "Rex" }))).GetProperty("id").GetGuid();
        var created = await ReadAsync(await http.PostAsJsonAsync("/v1/conversations",
            new { title = "Rex's diet", mode = "vet", state = new { step = 1 }, subjectId = subject, metadata = new { a = 1, b = 2 } }));
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(("active", world.UserA, "vet"), (created.GetProperty("status").GetString(), created.GetProperty("userId").GetGuid(), created.GetProperty("mode").GetString()));

        Assert.Equal("Diet", (await ReadAsync(await http.PutAsJsonAsync($"/v1/conversations/{id}/title", new { title = "Diet" }))).GetProperty("title").GetString());
        using (var patch = new StringContent("""{"b":null,"c":3}""", Encoding.UTF8, "application/merge-patch+json"))
        {
            var merged = (await ReadAsync(await http.PatchAsync($"/v1/conversations/{id}/metadata", patch))).GetProperty("metadata");
            Assert.Equal("""{"a":1,"c":3}""", JsonSerializer.Serialize(merged));
        }
        Assert.Equal("""{"z":0}""", JsonSerializer.Serialize((await ReadAsync(await http.PutAsJsonAsync($"/v1/conversations/{id}/metadata", new { z = 0 }))).GetProperty("metadata")));
        Assert.Equal("archived", (await ReadAsync(await http.PostAsync($"/v1/conversations/{id}/archive", null))).GetProperty("status").GetString());
        Assert.Equal("active", (await ReadAsync(await http.PostAsync($"/v1/conversations/{id}/unarchive", null))).GetProperty("status").GetString());
        Assert.True((await ReadAsync(await http.PostAsync($"/v1/conversations/{id}/pin", null))).GetProperty("pinned").GetBoolean());
        Assert.False((await ReadAsync(await http.PostAsync($"/v1/conversations/{id}/unpin", null))).GetProperty("pinned").GetBoolean());
        var mode = await ReadAsync(await http.PutAsJsonAsync($"/v1/conversations/{id}/mode", new { mode = "quiz", state = new { q = 2 } }));
        Assert.Equal(("quiz", 2), (mode.GetProperty("mode").GetString(), mode.GetProperty("state").GetProperty("q").GetInt32()));
        Assert.Equal(JsonValueKind.Null, (await ReadAsync(await http.PutAsJsonAsync($"/v1/conversations/{id}/subject", new { subjectId = (Guid?)null }))).GetProperty("subjectId").ValueKind);
        Assert.Equal(subject, (await ReadAsync(await http.PutAsJsonAsync($"/v1/conversations/{id}/subject", new { subjectId = subject }))).GetProperty("subjectId").GetGuid());
        Assert.Equal(id, (await ReadAsync(await http.GetAsync($"/v1/conversations/{id}"))).GetProperty("id").GetGuid());

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/conversations/{id}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/conversations/{id}"), 404);
        var trash = await ReadAsync(await http.GetAsync("/v1/conversations?includeDeleted=true"));
        Assert.NotEqual(JsonValueKind.Null, trash.GetProperty("items")[0].GetProperty("deletedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await ReadAsync(await http.PostAsync($"/v1/conversations/{id}/restore", null))).GetProperty("deletedAt").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/conversations/{id}?permanent=true")).StatusCode);
        await ProblemAsync(await http.PostAsync($"/v1/conversations/{id}/restore", null), 404);
    }

    [Fact]
    public async Task List_filters_and_pages_with_a_keyset_cursor()
    {
        var world = await server.NewWorldAsync();
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
            ids.Add((await ReadAsync(await world.Key.PostAsJsonAsync("/v1/conversations", new { userId = world.UserA, title = $"c{i}" }))).GetProperty("id").GetGuid());
        await world.Key.PostAsync($"/v1/conversations/{ids[1]}/archive", null);
        await world.Key.PostAsync($"/v1/conversations/{ids[2]}/pin", null);
        await world.Key.PostAsJsonAsync("/v1/conversations", new { userId = world.UserB, title = "B's" });

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await ReadAsync(await world.SessionA.GetAsync("/v1/conversations?limit=2" + (cursor is null ? "" : $"&cursor={cursor}")));
            Assert.True(page.GetProperty("items").GetArrayLength() <= 2);
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()));
            cursor = page.GetProperty("nextCursor").GetString();
        }
        while (cursor is not null);
        Assert.Equal(ids.Order().ToHashSet(), seen.ToHashSet());
        Assert.Equal(5, seen.Count);

        var archived = await ReadAsync(await world.Key.GetAsync($"/v1/conversations?userId={world.UserA}&status=archived"));
        Assert.Equal(ids[1], archived.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid());
        var pinned = await ReadAsync(await world.Key.GetAsync($"/v1/conversations?userId={world.UserA}&pinned=true"));
        Assert.Equal(ids[2], pinned.GetProperty("items").EnumerateArray().Single().GetProperty("id").GetGuid());
        var bad = await ProblemAsync(await world.Key.GetAsync($"/v1/conversations?userId={world.UserA}&status=open"), 400);
        Assert.Equal("status", bad.GetProperty("field").GetString());
        await ProblemAsync(await world.Key.GetAsync($"/v1/conversations?userId={world.UserA}&cursor=not-a-cursor"), 400);
    }

    [Fact]
    public async Task Server_fields_in_a_body_are_refused_by_name()
    {
        var world = await server.NewWorldAsync();
        var other = await server.NewWorldAsync();
        var problem = await ProblemAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { title = "t", tenantId = other.TenantId }), 400);
        Assert.Equal(("tenantId", "unknown_property"), (problem.GetProperty("field").GetString(), problem.GetProperty("rule").GetString()));
        var created = await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { title = "t" }));
        var conversation = created.GetProperty("id").GetGuid();
        var message = await ProblemAsync(await world.SessionA.PostAsJsonAsync($"/v1/conversations/{conversation}/messages",
            new { role = "user", content = "hi", seq = 42 }), 400);
        Assert.Equal("seq", message.GetProperty("field").GetString());
        var history = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages"));
        Assert.Equal(0, history.GetProperty("items").GetArrayLength());
    }
}

[Collection(ServerCollection.Name)]
public sealed class SharesApiTests(ServerFixture server)
{
    [Fact]
    public async Task Share_link_lifecycle_public_read_without_owner_identity_then_revoked_is_404()
    {
        var world = await server.NewWorldAsync();
        var owner = world.SessionA;
        var email = $"owner{Guid.NewGuid():N}@example.com";
        await world.Key.PatchAsJsonAsync($"/v1/users/{world.UserA}", new { email, name = "Owner Name" });
        var conversation = (await ReadAsync(await owner.PostAsJsonAsync("/v1/conversations", new { title = "Shared chat" }))).GetProperty("id").GetGuid();
        await owner.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "system", content = "system prompt" });
        await owner.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = "question" });
        await owner.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", content = "answer" });

        var share = await ReadAsync(await owner.PostAsJsonAsync($"/v1/conversations/{conversation}/shares", new { }));
        var token = share.GetProperty("token").GetString()!;
        var shareId = share.GetProperty("share").GetProperty("id").GetGuid();
        Assert.Equal($"/v1/shared/{token}", share.GetProperty("path").GetString());
        await owner.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = "after the share" });

        using var anonymous = server.As(null);
        var response = await anonymous.GetAsync($"/v1/shared/{token}");
        Assert.Contains("noindex", response.Headers.GetValues("X-Robots-Tag").Single(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();
        var shared = await ReadAsync(response);
        Assert.Equal("Shared chat", shared.GetProperty("title").GetString());
        Assert.Equal(["question", "answer"], shared.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()!).ToArray());
        foreach (var identity in new[] { world.UserA.ToString(), email, "Owner Name", world.TenantId.ToString(), "system prompt", "after the share" })
            Assert.DoesNotContain(identity, text, StringComparison.OrdinalIgnoreCase);

        var list = await ReadAsync(await owner.GetAsync($"/v1/conversations/{conversation}/shares"));
        Assert.Equal(shareId, list.GetProperty("items")[0].GetProperty("id").GetGuid());
        Assert.DoesNotContain(token, list.GetRawText(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/v1/shares/{shareId}")).StatusCode);
        var revoked = await anonymous.GetAsync($"/v1/shared/{token}");
        await ProblemAsync(revoked, 404);
        Assert.Contains("noindex", revoked.Headers.GetValues("X-Robots-Tag").Single(), StringComparison.Ordinal);
        await ProblemAsync(await anonymous.GetAsync("/v1/shared/cs_share_nonsense"), 404);
        await ProblemAsync(await anonymous.GetAsync($"/v1/shared/{token[..^2]}xx"), 404);
    }
}
