using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static ChatStore.Server.Tests.ServerFixture;

namespace ChatStore.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class MessagesApiTests(ServerFixture server)
{
    async Task<(World World, Guid Conversation)> ConversationAsync()
    {
        var world = await server.NewWorldAsync();
        var conversation = (await ReadAsync(await world.SessionA.PostAsJsonAsync("/v1/conversations", new { title = "t" }))).GetProperty("id").GetGuid();
        return (world, conversation);
    }

    [Fact]
    public async Task Append_numbers_messages_and_history_pages_back_and_forward_with_cursors()
    {
        var (world, conversation) = await ConversationAsync();
        for (var i = 1; i <= 5; i++)
        {
            var appended = await ReadAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/messages",
                new { role = i % 2 == 1 ? "user" : "assistant", content = $"m{i}", model = "gpt", inputTokens = 3, outputTokens = 4, costUsd = 0.001m, domains = new[] { "dogs" } }));
            Assert.Equal(i, appended.GetProperty("seq").GetInt64());
            Assert.Equal(world.UserA, appended.GetProperty("userId").GetGuid());
        }

        var latest = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?limit=2"));
        Assert.Equal(["m4", "m5"], Contents(latest));
        Assert.True(latest.GetProperty("hasMore").GetBoolean());
        var older = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?limit=2&cursor={latest.GetProperty("nextCursor").GetString()}"));
        Assert.Equal(["m2", "m3"], Contents(older));
        var oldest = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?limit=2&cursor={older.GetProperty("nextCursor").GetString()}"));
        Assert.Equal(["m1"], Contents(oldest));
        Assert.Equal(JsonValueKind.Null, oldest.GetProperty("nextCursor").ValueKind);

        var after = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?after=1&limit=3"));
        Assert.Equal(["m2", "m3", "m4"], Contents(after));
        var rest = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?limit=3&cursor={after.GetProperty("nextCursor").GetString()}"));
        Assert.Equal(["m5"], Contents(rest));
        Assert.Equal(["m2", "m3"], Contents(await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?before=4&limit=2"))));

        var bad = await ProblemAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?cursor=zz"), 400);
        Assert.Equal("cursor", bad.GetProperty("field").GetString());
        await ProblemAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages?cursor=b3&before=2"), 400);
        Assert.Equal(5, (await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}"))).GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task A_streaming_message_shows_its_partial_content_to_readers_until_it_completes()
    {
        var (world, conversation) = await ConversationAsync();
        var message = await ReadAsync(await world.Key.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", status = "streaming" }));
        var id = message.GetProperty("id").GetGuid();
        Assert.Equal("streaming", message.GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await world.Key.PostAsJsonAsync($"/v1/messages/{id}/chunks", new { chunk = "Hello" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await world.Key.PostAsJsonAsync($"/v1/messages/{id}/chunks", new { chunk = ", wor" })).StatusCode);
        // The reader (the user's own session) sees the partial answer, in the message and in the history.
        var partial = await ReadAsync(await world.SessionA.GetAsync($"/v1/messages/{id}"));
        Assert.Equal(("Hello, wor", "streaming"), (partial.GetProperty("content").GetString(), partial.GetProperty("status").GetString()));
        Assert.Equal(["Hello, wor"], Contents(await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages"))));

        await world.Key.PostAsJsonAsync($"/v1/messages/{id}/chunks", new { chunk = "ld" });
        var done = await ReadAsync(await world.Key.PostAsJsonAsync($"/v1/messages/{id}/complete", new { model = "m", outputTokens = 3, metadata = new { finish = "stop" } }));
        Assert.Equal(("Hello, world", "complete", 3), (done.GetProperty("content").GetString(), done.GetProperty("status").GetString(), done.GetProperty("outputTokens").GetInt32()));
        Assert.Equal("stop", done.GetProperty("metadata").GetProperty("finish").GetString());
        await ProblemAsync(await world.Key.PostAsJsonAsync($"/v1/messages/{id}/chunks", new { chunk = "more" }), 409);
        await ProblemAsync(await world.Key.PostAsJsonAsync($"/v1/messages/{id}/fail", new { error = "late" }), 409);

        var failing = (await ReadAsync(await world.SessionA.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", status = "streaming", content = "par" }))).GetProperty("id").GetGuid();
        var failed = await ReadAsync(await world.SessionA.PostAsJsonAsync($"/v1/messages/{failing}/fail", new { error = "provider timeout" }));
        Assert.Equal(("error", "par", "provider timeout"), (failed.GetProperty("status").GetString(), failed.GetProperty("content").GetString(), failed.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task Idempotency_key_on_append_replays_the_first_message_and_a_different_body_is_422()
    {
        var (world, conversation) = await ConversationAsync();
        async Task<HttpResponseMessage> AppendAsync(string key, string content)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/conversations/{conversation}/messages")
            {
                Content = JsonContent.Create(new { role = "user", content }),
            };
            request.Headers.Add("Idempotency-Key", key);
            return await world.SessionA.SendAsync(request);
        }

        var first = await AppendAsync("append-1", "hello");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var original = await ReadAsync(first);
        var retry = await AppendAsync("append-1", "hello");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.True(retry.Headers.TryGetValues("Idempotent-Replayed", out _));
        var replayed = await ReadAsync(retry);
        Assert.Equal(original.GetProperty("id").GetGuid(), replayed.GetProperty("id").GetGuid());
        Assert.Equal(original.GetRawText(), replayed.GetRawText());

        await ProblemAsync(await AppendAsync("append-1", "something else"), 422);
        var history = await ReadAsync(await world.SessionA.GetAsync($"/v1/conversations/{conversation}/messages"));
        Assert.Equal(["hello"], Contents(history));

        // Another key is another message.
        Assert.Equal(2, (await ReadAsync(await AppendAsync("append-2", "hello"))).GetProperty("seq").GetInt64());
    }

    [Fact]
    public async Task Edit_delete_restore_and_regenerate_a_message()
    {
        var (world, conversation) = await ConversationAsync();
        var http = world.SessionA;
        var question = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "user", content = "Q" }))).GetProperty("id").GetGuid();
        var answer = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", content = "A1" }))).GetProperty("id").GetGuid();

        var edited = await ReadAsync(await http.PatchAsJsonAsync($"/v1/messages/{question}", new { content = "Q?" }));
        Assert.Equal("Q?", edited.GetProperty("content").GetString());
        Assert.NotEqual(JsonValueKind.Null, edited.GetProperty("editedAt").ValueKind);

        var regenerated = await ReadAsync(await http.PostAsJsonAsync($"/v1/messages/{answer}/regenerate", new { content = "A2" }));
        Assert.Equal((answer, "assistant", 3L), (regenerated.GetProperty("parentId").GetGuid(), regenerated.GetProperty("role").GetString(), regenerated.GetProperty("seq").GetInt64()));

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/messages/{answer}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/messages/{answer}"), 404);
        Assert.Equal(["Q?", "A2"], Contents(await ReadAsync(await http.GetAsync($"/v1/conversations/{conversation}/messages"))));
        Assert.Equal(["Q?", "A1", "A2"], Contents(await ReadAsync(await http.GetAsync($"/v1/conversations/{conversation}/messages?includeDeleted=true"))));
        // Another user cannot restore (or even learn of) a deleted message of A's.
        var foreign = await world.SessionB.PostAsync($"/v1/messages/{answer}/restore", null);
        await ProblemAsync(foreign, 404);
        Assert.Equal(["Q?", "A2"], Contents(await ReadAsync(await http.GetAsync($"/v1/conversations/{conversation}/messages"))));
        var restored = await ReadAsync(await http.PostAsync($"/v1/messages/{answer}/restore", null));
        Assert.Equal(JsonValueKind.Null, restored.GetProperty("deletedAt").ValueKind);
        Assert.Equal(3, (await ReadAsync(await http.GetAsync($"/v1/conversations/{conversation}"))).GetProperty("messageCount").GetInt32());
    }

    [Fact]
    public async Task Feedback_corrections_and_document_links_on_a_message()
    {
        var (world, conversation) = await ConversationAsync();
        var http = world.SessionA;
        var message = (await ReadAsync(await http.PostAsJsonAsync($"/v1/conversations/{conversation}/messages", new { role = "assistant", content = "Dogs can eat grapes." }))).GetProperty("id").GetGuid();

        var feedback = await ReadAsync(await http.PutAsJsonAsync($"/v1/messages/{message}/feedback/{world.UserA}", new { rating = "dislike", score = 2, comment = "wrong" }));
        Assert.Equal(("dislike", 2), (feedback.GetProperty("rating").GetString(), feedback.GetProperty("score").GetInt32()));
        // The tenant key gives feedback as another user of the tenant (a teacher, say).
        await ReadAsync(await world.Key.PutAsJsonAsync($"/v1/messages/{message}/feedback/{world.UserB}", new { rating = "like" }));
        var all = await ReadAsync(await world.Key.GetAsync($"/v1/messages/{message}/feedback?limit=1"));
        Assert.Equal(1, all.GetProperty("items").GetArrayLength());
        var second = await ReadAsync(await world.Key.GetAsync($"/v1/messages/{message}/feedback?limit=1&cursor={all.GetProperty("nextCursor").GetString()}"));
        Assert.Equal(1, second.GetProperty("items").GetArrayLength());
        Assert.Equal("wrong", (await ReadAsync(await http.GetAsync($"/v1/messages/{message}/feedback/{world.UserA}"))).GetProperty("comment").GetString());
        var invalid = await ProblemAsync(await http.PutAsJsonAsync($"/v1/messages/{message}/feedback/{world.UserA}", new { rating = "meh" }), 400);
        Assert.Equal(("rating", "enum"), (invalid.GetProperty("field").GetString(), invalid.GetProperty("rule").GetString()));
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/v1/messages/{message}/feedback/{world.UserA}")).StatusCode);
        await ProblemAsync(await http.GetAsync($"/v1/messages/{message}/feedback/{world.UserA}"), 404);

        var correction = await ReadAsync(await http.PostAsJsonAsync($"/v1/messages/{message}/corrections", new { correctedContent = "Grapes are toxic to dogs.", reason = "safety" }));
        Assert.Equal(("Dogs can eat grapes.", world.UserA), (correction.GetProperty("originalContent").GetString(), correction.GetProperty("userId").GetGuid()));
        Assert.Equal(1, (await ReadAsync(await http.GetAsync($"/v1/messages/{message}/corrections"))).GetProperty("items").GetArrayLength());

        var document = (await ReadAsync(await http.PostAsJsonAsync("/v1/documents", new { filename = "vet.pdf" }))).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsJsonAsync($"/v1/messages/{message}/documents", new { documentIds = new[] { document } })).StatusCode);
        var links = await ReadAsync(await http.GetAsync($"/v1/messages/{message}/documents"));
        Assert.Equal(document, links.GetProperty("items")[0].GetGuid());
        // B's document cannot be linked to A's message.
        var foreign = (await ReadAsync(await world.SessionB.PostAsJsonAsync("/v1/documents", new { filename = "b.pdf" }))).GetProperty("id").GetGuid();
        await ProblemAsync(await world.Key.PostAsJsonAsync($"/v1/messages/{message}/documents", new { documentIds = new[] { foreign } }), 404);
        Assert.Equal(1, (await ReadAsync(await http.GetAsync($"/v1/messages/{message}/documents"))).GetProperty("items").GetArrayLength());
    }

    static string[] Contents(JsonElement page) =>
        [.. page.GetProperty("items").EnumerateArray().Select(m => m.GetProperty("content").GetString()!)];
}
