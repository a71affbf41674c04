using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ResourcesApiTests(ServerFixture server)
{
    [Fact]
    public async Task Sessions_create_me_validate_list_revoke_and_revoke_all()
    {
        var world = await server.NewWorldAsync();
        var created = await ReadAsync(await world.Key.PostAsJsonAsync("/v1/sessions",
            new { userId = world.UserA, lifetimeSeconds = 3600, ipAddress = "203.0.113.7", userAgent = "test" }));
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("cs_sess_", token, StringComparison.Ordinal);
        var sessionId = created.GetProperty("session").GetProperty("id").GetGuid();
        using var session = server.As(token);

        var me = await ReadAsync(await session.GetAsync("/v1/sessions/me"));
        Assert.Equal((sessionId, world.UserA), (me.GetProperty("id").GetGuid(), me.GetProperty("userId").GetGuid()));
        await ProblemAsync(await world.Key.GetAsync("/v1/sessions/me"), 403);
        Assert.Equal(sessionId, (await ReadAsync(await world.Key.PostAsJsonAsync("/v1/sessions/validate", new { token }))).GetProperty("id").GetGuid());
        await ProblemAsync(await world.Key.PostAsJsonAsync("/v1/sessions/validate", new { token = token[..^3] + "AAA" }), 404);
        // A session cannot mint sessions, not even for itself.
        await ProblemAsync(await session.PostAsJsonAsync("/v1/sessions", new { userId = world.UserA }), 403);
        var range = await ProblemAsync(await world.Key.PostAsJsonAsync("/v1/sessions", new { userId = world.UserA, lifetimeSeconds = 5 }), 400);
        Assert.Equal("lifetimeSeconds", range.GetProperty("field").GetString());

        var listed = await ReadAsync(await session.GetAsync("/v1/sessions?limit=1"));
        Assert.Equal(1, listed.GetProperty("items").GetArrayLength());
        var next = await ReadAsync(await session.GetAsync($"/v1/sessions?limit=1&cursor={listed.GetProperty("nextCursor").GetString()}"));
        Assert.Equal(1, next.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, next.GetProperty("nextCursor").ValueKind);

        // A retry with the same key gets the same token back; the stored row holds neither the key nor the token in clear.
        var key = $"session-{Guid.NewGuid()}";
        var tokens = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = JsonContent.Create(new { userId = world.UserB }) };
            request.Headers.Add("Idempotency-Key", key);
            var response = await world.Key.SendAsync(request);
            Assert.Equal(i == 1, response.Headers.Contains("Idempotent-Replayed"));
            tokens.Add((await ReadAsync(response)).GetProperty("token").GetString()!);
        }
        Assert.Equal(tokens[0], tokens[1]);
        using (var replayed = server.As(tokens[1]))
            await ReadAsync(await replayed.GetAsync("/v1/sessions/me"));
        await using (var db = new Npgsql.NpgsqlConnection(server.ConnectionString))
        {
            await db.OpenAsync();
            await using var rows = new Npgsql.NpgsqlCommand("SELECT key, response_body FROM idempotency_keys WHERE tenant_id = $1", db) { Parameters = { new() { Value = world.TenantId } } };
            await using var reader = await rows.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.DoesNotContain(key, reader.GetString(0), StringComparison.Ordinal);
            var stored = System.Text.Encoding.Latin1.GetString(reader.GetFieldValue<byte[]>(1));
            Assert.DoesNotContain(tokens[0], stored, StringComparison.Ordinal);
            Assert.DoesNotContain("cs_sess_", stored, StringComparison.Ordinal);
            Assert.False(await reader.ReadAsync());
        }
        // A short key could be guessed, and it is what the stored token is encrypted under: 400.
        using (var shortKey = new HttpRequestMessage(HttpMethod.Post, "/v1/sessions") { Content = JsonContent.Create(new { userId = world.UserB }) })
        {
            shortKey.Headers.Add("Idempotency-Key", "short");
            await ProblemAsync(await world.Key.SendAsync(shortKey), 400);
        }

        // Sign out other devices: the world's session A goes, this one stays.
        Assert.Equal(1, (await ReadAsync(await session.PostAsJsonAsync("/v1/sessions/revoke-all", new { keepCurrent = true }))).GetProperty("revoked").GetInt32());
        await ProblemAsync(await world.SessionA.GetAsync("/v1/conversations"), 401);
        await ReadAsync(await session.GetAsync("/v1/conversations"));
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync($"/v1/sessions/{sessionId}")).StatusCode);
        await ProblemAsync(await session.GetAsync("/v1/conversations"), 401);
        // The tenant key signs a user out everywhere.
        await ReadAsync(await world.SessionB.GetAsync("/v1/conversations"));
        Assert.Equal(2, (await ReadAsync(await world.Key.PostAsJsonAsync("/v1/sessions/revoke-all", new { userId = world.UserB }))).GetProperty("revoked").GetInt32());
        await ProblemAsync(await world.SessionB.GetAsync("/v1/conversations"), 401);
    }

    [Fact]
    public async Task Memories_add_dedupe_update_history_sources_list_and_delete()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var conversation = (await ReadAsync(await http.PostAsJsonAsync("/v1/conversations", new { title = "c" }))).GetProperty("id").GetGuid();
        var add = await http.PostAsJsonAsync("/v1/memories", new { content = "Has a dog named Rex", kind = "fact", importance = 0.8, sources = new[] { new { conversationId = conversation } } });
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);
        var memory = (await ReadAsync(add)).GetProperty("memory");
        var id = memory.GetProperty("id").GetGuid();
        var again = await http.PostAsJsonAsync("/v1/memories", new { content = "  has a DOG named rex " });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var dedup = await ReadAsync(again);
        Assert.False(dedup.GetProperty("created").GetBoolean());
        Assert.Equal(id, dedup.GetProperty("memory").GetProperty("id").GetGuid());

        var updated = await ReadAsync(await http.PatchAsJsonAsync($"/v1/memories/{id}", new { content = "Has a dog named Rex, a beagle" }));
        var current = updated.GetProperty("id").GetGuid();
        Assert.NotEqual(id, current);
        await ProblemAsync(await http.PatchAsJsonAsync($"/v1/memories/{id}", new { importance = 0.1 }), 409);
        var history = await ReadAsync(await http.GetAsync($"/v1/memories/{current}/history"));
        Assert.Equal([id, current], history.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("id").GetGuid()).ToArray());
        Assert.Equal(conversation, (await ReadAsync(await http.GetAsync($"/v1/memories/{current}/sources"))).GetProperty("items")[0].GetProperty("conversationId").GetGuid());
        Assert.False((await ReadAsync(await http.PostAsJsonAsync($"/v1/memories/{current}/sources", new { conversationId = conversation }))).GetProperty("created").GetBoolean());
        Assert.Equal(current, (await ReadAsync(await http.GetAsync($"/v1/memories/{current}"))).GetProperty("id").GetGuid());

        Assert.Single((await ReadAsync(await http.GetAsync("/v1/memories?kind=fact&minImportance=0.5"))).GetProperty("items").EnumerateArray());
        Assert.Equal(2, (await ReadAsync(await world.Key.GetAsync($"/v1/memories?userId={world.UserA}&includeSuperseded=true"))).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/memories/{current}")).StatusCode);
        Assert.Equal(0, (await ReadAsync(await http.GetAsync("/v1/memories"))).GetProperty("items").GetArrayLength());
        var kind = await ProblemAsync(await http.PostAsJsonAsync("/v1/memories", new { content = "x", kind = "gossip" }), 400);
        Assert.Equal("kind", kind.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Documents_status_transitions_text_and_versioned_analyses()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var sha = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData("pdf"u8));
        var created = await ReadAsync(await http.PostAsJsonAsync("/v1/documents",
            new { filename = "lab.pdf", mimeType = "application/pdf", sizeBytes = 1234, sha256 = sha, storageUri = "s3://b/lab.pdf", metadata = new { pages = 3 } }));
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal(("pending", sha), (created.GetProperty("status").GetString(), created.GetProperty("sha256").GetString()));

        Assert.Equal("processing", (await ReadAsync(await http.PostAsync($"/v1/documents/{id}/processing", null))).GetProperty("status").GetString());
        var ready = await ReadAsync(await http.PostAsJsonAsync($"/v1/documents/{id}/ready", new { extractedText = "Glucose 5.1" }));
        Assert.True(ready.GetProperty("hasExtractedText").GetBoolean());
        await ProblemAsync(await http.PostAsJsonAsync($"/v1/documents/{id}/failed", new { error = "late" }), 409);
        var text = await http.GetAsync($"/v1/documents/{id}/text");
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Glucose 5.1", await text.Content.ReadAsStringAsync());
        await ReadAsync(await http.PutAsJsonAsync($"/v1/documents/{id}/text", new { text = (string?)null }));
        Assert.Equal(HttpStatusCode.NoContent, (await http.GetAsync($"/v1/documents/{id}/text")).StatusCode);

        await ProblemAsync(await http.GetAsync($"/v1/documents/{id}/analyses/latest"), 404);
        for (var v = 1; v <= 3; v++)
            Assert.Equal(v, (await ReadAsync(await http.PostAsJsonAsync($"/v1/documents/{id}/analyses", new { category = "lab", summary = $"v{v}", result = new { v } }))).GetProperty("version").GetInt32());
        Assert.Equal(3, (await ReadAsync(await http.GetAsync($"/v1/documents/{id}/analyses/latest"))).GetProperty("version").GetInt32());
        Assert.Equal("v2", (await ReadAsync(await http.GetAsync($"/v1/documents/{id}/analyses/2"))).GetProperty("summary").GetString());
        await ProblemAsync(await http.GetAsync($"/v1/documents/{id}/analyses/9"), 404);
        var page = await ReadAsync(await http.GetAsync($"/v1/documents/{id}/analyses?limit=2"));
        Assert.Equal([3, 2], page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("version").GetInt32()).ToArray());
        var last = await ReadAsync(await http.GetAsync($"/v1/documents/{id}/analyses?limit=2&cursor={page.GetProperty("nextCursor").GetString()}"));
        Assert.Equal([1], last.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("version").GetInt32()).ToArray());

        var failing = (await ReadAsync(await http.PostAsJsonAsync("/v1/documents", new { filename = "bad.pdf" }))).GetProperty("id").GetGuid();
        await http.PostAsync($"/v1/documents/{failing}/processing", null);
        Assert.Equal("failed", (await ReadAsync(await http.PostAsJsonAsync($"/v1/documents/{failing}/failed", new { error = "OCR failed" }))).GetProperty("status").GetString());
        Assert.Single((await ReadAsync(await http.GetAsync("/v1/documents?status=failed"))).GetProperty("items").EnumerateArray());
        Assert.Equal(id, (await ReadAsync(await http.GetAsync($"/v1/documents/{id}"))).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/documents/{id}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/documents/{id}/analyses/1"), 404);
    }

    [Fact]
    public async Task Subjects_and_preferences()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var subject = await ReadAsync(await http.PostAsJsonAsync("/v1/subjects", new { kind = "dog", name = "Rex", attributes = new { breed = "beagle" } }));
        var id = subject.GetProperty("id").GetGuid();
        await http.PostAsJsonAsync("/v1/subjects", new { kind = "cat", name = "Tom" });
        Assert.Equal("Max", (await ReadAsync(await http.PatchAsJsonAsync($"/v1/subjects/{id}", new { name = "Max" }))).GetProperty("name").GetString());
        Assert.Equal("beagle", (await ReadAsync(await http.GetAsync($"/v1/subjects/{id}"))).GetProperty("attributes").GetProperty("breed").GetString());
        Assert.Single((await ReadAsync(await http.GetAsync("/v1/subjects?kind=dog"))).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/subjects/{id}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/subjects/{id}"), 404);

        var url = $"/v1/users/{world.UserA}/preferences";
        var empty = await ReadAsync(await http.GetAsync(url));
        Assert.Equal("{}", empty.GetProperty("preferences").GetRawText());
        using (var patch = new StringContent("""{"preferences":{"tone":"short","ui":{"theme":"dark","font":12}},"featureToggles":{"beta":true}}""", Encoding.UTF8, "application/merge-patch+json"))
            await ReadAsync(await http.PatchAsync(url, patch));
        var merged = await ReadAsync(await http.PatchAsJsonAsync(url, new { preferences = new { ui = new { font = (int?)null, theme = "light" } } }));
        Assert.Equal("""{"ui":{"theme":"light"},"tone":"short"}""", JsonSerializer.Serialize(merged.GetProperty("preferences")));
        Assert.True(merged.GetProperty("featureToggles").GetProperty("beta").GetBoolean());
        var replaced = await ReadAsync(await http.PutAsJsonAsync(url, new { learnedPatterns = new { likes = "dogs" } }));
        Assert.Equal(("{}", "{}"), (replaced.GetProperty("preferences").GetRawText(), replaced.GetProperty("featureToggles").GetRawText()));
        Assert.Equal("dogs", (await ReadAsync(await world.Key.GetAsync(url))).GetProperty("learnedPatterns").GetProperty("likes").GetString());
        var notObject = await ProblemAsync(await http.PatchAsJsonAsync(url, new { preferences = new[] { 1 } }), 400);
        Assert.Equal("preferences", notObject.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Reminders_crud_cancel_complete_and_claim_due_for_workers()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var due = await ReadAsync(await http.PostAsJsonAsync("/v1/reminders", new { title = "Walk Rex", dueAt = DateTimeOffset.UtcNow.AddSeconds(-5) }));
        var dueId = due.GetProperty("id").GetGuid();
        var later = (await ReadAsync(await http.PostAsJsonAsync("/v1/reminders",
            new { title = "Vet", dueAt = DateTimeOffset.UtcNow.AddDays(2), recurrence = "FREQ=WEEKLY;COUNT=3", timezone = "Europe/Berlin" }))).GetProperty("id").GetGuid();
        var other = (await ReadAsync(await http.PostAsJsonAsync("/v1/reminders", new { title = "Food", dueAt = DateTimeOffset.UtcNow.AddDays(3) }))).GetProperty("id").GetGuid();

        Assert.Equal("Vet visit", (await ReadAsync(await http.PatchAsJsonAsync($"/v1/reminders/{later}", new { title = "Vet visit" }))).GetProperty("title").GetString());
        Assert.Equal("FREQ=WEEKLY;COUNT=3", (await ReadAsync(await http.GetAsync($"/v1/reminders/{later}"))).GetProperty("recurrence").GetString());
        Assert.Equal(3, (await ReadAsync(await http.GetAsync("/v1/reminders"))).GetProperty("items").GetArrayLength());

        // Claiming is for workers with the tenant key.
        await ProblemAsync(await http.PostAsJsonAsync("/v1/reminders/claim-due", new { }), 403);
        var claimed = await ReadAsync(await world.Key.PostAsJsonAsync("/v1/reminders/claim-due", new { limit = 10 }));
        var item = claimed.GetProperty("items").EnumerateArray().Single();
        Assert.Equal((dueId, "sent"), (item.GetProperty("reminder").GetProperty("id").GetGuid(), item.GetProperty("reminder").GetProperty("status").GetString()));
        Assert.Equal(0, (await ReadAsync(await world.Key.PostAsJsonAsync("/v1/reminders/claim-due", new { }))).GetProperty("items").GetArrayLength());

        Assert.Equal("cancelled", (await ReadAsync(await http.PostAsync($"/v1/reminders/{later}/cancel", null))).GetProperty("status").GetString());
        await ProblemAsync(await http.PostAsync($"/v1/reminders/{later}/complete", null), 409);
        Assert.Equal("completed", (await ReadAsync(await http.PostAsync($"/v1/reminders/{other}/complete", null))).GetProperty("status").GetString());
        Assert.Single((await ReadAsync(await http.GetAsync("/v1/reminders?status=completed"))).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/reminders/{other}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/reminders/{other}"), 404);
        var missing = await ProblemAsync(await http.PostAsJsonAsync("/v1/reminders", new { title = "no time" }), 400);
        Assert.Equal("dueAt", missing.GetProperty("field").GetString());
    }

    [Fact]
    public async Task Usage_totals_and_credits_grant_balance_debit()
    {
        var world = await server.NewWorldAsync();
        var http = world.SessionA;
        var backdated = DateTimeOffset.UtcNow.AddHours(-3);
        var recorded = await ReadAsync(await world.Key.PostAsJsonAsync("/v1/usage",
            new { userId = world.UserA, action = "chat", model = "gpt", inputTokens = 10, outputTokens = 5, costUsd = 0.01m, occurredAt = backdated }));
        Assert.Equal(backdated.ToUnixTimeSeconds(), recorded.GetProperty("occurredAt").GetDateTimeOffset().ToUnixTimeSeconds());
        // A session's occurredAt is ignored: its events happen now.
        var mine = await ReadAsync(await http.PostAsJsonAsync("/v1/usage", new { action = "embed", model = "e5", inputTokens = 7, occurredAt = "2001-01-01T00:00:00Z" }));
        Assert.Equal(DateTimeOffset.UtcNow.Year, mine.GetProperty("occurredAt").GetDateTimeOffset().Year);
        await world.Key.PostAsJsonAsync("/v1/usage", new { userId = world.UserB, action = "chat", model = "gpt", inputTokens = 100 });

        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(1).ToString("O"));
        var byModel = await ReadAsync(await http.GetAsync($"/v1/usage/totals?from={from}&to={to}&groupBy=model"));
        Assert.Equal(17, byModel.GetProperty("items").EnumerateArray().Sum(t => t.GetProperty("inputTokens").GetInt64()));
        var all = await ReadAsync(await world.Key.GetAsync($"/v1/usage/totals?from={from}&to={to}"));
        Assert.Equal(117, all.GetProperty("items")[0].GetProperty("inputTokens").GetInt64());
        await ProblemAsync(await http.GetAsync($"/v1/usage/totals?from={from}"), 400);

        var url = $"/v1/users/{world.UserA}/credits";
        Assert.Equal(0m, (await ReadAsync(await http.GetAsync(url))).GetProperty("credits").GetDecimal());
        await ProblemAsync(await http.PostAsJsonAsync($"{url}/grant", new { amount = 100 }), 403);
        Assert.Equal(10m, (await ReadAsync(await world.Key.PostAsJsonAsync($"{url}/grant", new { amount = 10 }))).GetProperty("credits").GetDecimal());
        var debit = await ReadAsync(await http.PostAsJsonAsync($"{url}/debit", new { amount = 4, usage = new { action = "chat", model = "gpt" } }));
        Assert.Equal((6m, 4m), (debit.GetProperty("balance").GetDecimal(), debit.GetProperty("usage").GetProperty("credits").GetDecimal()));
        await ProblemAsync(await http.PostAsJsonAsync($"{url}/debit", new { amount = 7 }), 409);
        Assert.Equal(6m, (await ReadAsync(await world.Key.GetAsync(url))).GetProperty("credits").GetDecimal());
    }

    [Fact]
    public async Task Cache_by_key_for_tenant_keys_only_and_search_history()
    {
        var world = await server.NewWorldAsync();
        var key = $"answers/{Guid.NewGuid():N}?q=1";
        var url = "/v1/cache/" + Uri.EscapeDataString(key).Replace("%2F", "/", StringComparison.Ordinal);
        await ProblemAsync(await world.Key.GetAsync(url), 404);
        var set = await ReadAsync(await world.Key.PutAsJsonAsync(url, new { value = new { answer = 42 }, timeToLiveSeconds = 60 }));
        Assert.Equal(key, set.GetProperty("key").GetString());
        Assert.Equal(42, (await ReadAsync(await world.Key.GetAsync(url))).GetProperty("value").GetProperty("answer").GetInt32());
        await ProblemAsync(await world.SessionA.GetAsync(url), 403);
        await ProblemAsync(await world.Key.PutAsJsonAsync(url, new { value = 1, timeToLiveSeconds = 0 }), 400);
        Assert.Equal(HttpStatusCode.NoContent, (await world.Key.DeleteAsync(url)).StatusCode);
        await ProblemAsync(await world.Key.GetAsync(url), 404);

        var http = world.SessionA;
        for (var i = 0; i < 3; i++)
            await ReadAsync(await http.PostAsJsonAsync("/v1/search-history", new { query = $"dog food {i}", mode = "hybrid", resultCount = i }));
        var page = await ReadAsync(await http.GetAsync("/v1/search-history?limit=2"));
        Assert.Equal(["dog food 2", "dog food 1"], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("query").GetString()!).ToArray());
        Assert.Single((await ReadAsync(await http.GetAsync($"/v1/search-history?limit=2&cursor={page.GetProperty("nextCursor").GetString()}"))).GetProperty("items").EnumerateArray());
        Assert.Equal(0, (await ReadAsync(await world.SessionB.GetAsync("/v1/search-history"))).GetProperty("items").GetArrayLength());
        Assert.Equal(3, (await ReadAsync(await http.DeleteAsync("/v1/search-history"))).GetProperty("deleted").GetInt32());
        Assert.Equal(0, (await ReadAsync(await http.GetAsync("/v1/search-history"))).GetProperty("items").GetArrayLength());
    }
}
