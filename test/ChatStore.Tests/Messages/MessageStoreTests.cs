using System.Text;
using System.Text.Json;
using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageStoreTests
{
    static NewMessage User(string content, string? key = null) => new() { Role = MessageRole.User, Content = content, IdempotencyKey = key };

    [Fact]
    public async Task Append_numbers_messages_from_one_and_updates_the_conversation()
    {
        var f = await MessageTestData.NewAsync(searchLanguage: "simple");
        var first = await f.Scope.Messages.AppendAsync(f.ConversationId, User("hello"));
        var second = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "hi there" });
        Assert.Equal((1L, 2L), (first.Seq, second.Seq));
        Assert.Equal((f.ConversationId, f.User.Id), (second.ConversationId, second.UserId));
        Assert.Equal((MessageStatus.Complete, MessageRole.Assistant), (second.Status, second.Role));
        Assert.Equal((2L, 2), await MessageTestData.CountersAsync(f.ConversationId));
        Assert.Equal(second.CreatedAt.UtcDateTime, await TestStore.ScalarAsync<DateTime>("SELECT last_message_at FROM conversations WHERE id = $1", f.ConversationId));
        Assert.Equal("simple", await TestStore.ScalarAsync<string>("SELECT language::text FROM messages WHERE id = $1", first.Id));
    }

    [Fact]
    public async Task Append_stores_and_returns_every_field()
    {
        var f = await MessageTestData.NewAsync();
        var question = await f.Scope.Messages.AppendAsync(f.ConversationId, User("What is RLS?"));
        var citations = JsonDocument.Parse("""[{"title":"Docs","url":"https://www.postgresql.org/docs/"}]""").RootElement;
        var metadata = JsonDocument.Parse("""{"finish_reason":"stop","temperature":0.2}""").RootElement;
        var answer = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage
        {
            Role = MessageRole.Assistant, Content = "Row-level security.", ParentId = question.Id, Citations = citations, Metadata = metadata,
            Domains = ["postgres", "security"], Model = "gpt-test", InputTokens = 12, OutputTokens = 34, CostUsd = 0.00012345m, ResponseMs = 850,
            IdempotencyKey = "answer-1",
        });
        var read = await f.Scope.Messages.GetAsync(answer.Id);
        foreach (var m in new[] { answer, read })
        {
            Assert.Equal(("Row-level security.", question.Id, "gpt-test"), (m.Content, m.ParentId, m.Model));
            Assert.Equal((12, 34, 0.00012345m, 850), (m.InputTokens, m.OutputTokens, m.CostUsd, m.ResponseMs));
            Assert.Equal(["postgres", "security"], m.Domains);
            Assert.Equal("https://www.postgresql.org/docs/", m.Citations[0].GetProperty("url").GetString());
            Assert.Equal("stop", m.Metadata.GetProperty("finish_reason").GetString());
            Assert.Equal("answer-1", m.IdempotencyKey);
            Assert.Null(m.EditedAt);
            Assert.Null(m.DeletedAt);
        }
        Assert.Equal(JsonValueKind.Array, question.Citations.ValueKind);
        Assert.Equal(JsonValueKind.Object, question.Metadata.ValueKind);
        Assert.Empty(question.Domains);
    }

    [Fact]
    public async Task Append_returns_the_message_as_get_reads_it_back()
    {
        var f = await MessageTestData.NewAsync();
        using var citations = JsonDocument.Parse("""[ {"b": 2, "a": [1, 2.50]} ]""");
        using var metadata = JsonDocument.Parse("""{ "z": null, "a": "ü" }""");
        var appended = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage
        {
            Role = MessageRole.Assistant, Content = "answer 🐶", Citations = citations.RootElement, Metadata = metadata.RootElement,
            Domains = ["a", "b"], Model = "m", InputTokens = 1, OutputTokens = 2, CostUsd = 1.123456785m, ResponseMs = 3, IdempotencyKey = "k",
        });
        // The caller's documents are gone; the returned message must not depend on them.
        citations.Dispose();
        metadata.Dispose();
        var read = await f.Scope.Messages.GetAsync(appended.Id);
        Assert.Equal(1.12345679m, appended.CostUsd);
        Assert.Equal(read.CostUsd.ToString(System.Globalization.CultureInfo.InvariantCulture), appended.CostUsd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(JsonElement.DeepEquals(read.Citations, appended.Citations));
        Assert.True(JsonElement.DeepEquals(read.Metadata, appended.Metadata));
        Assert.Equal(read.Domains, appended.Domains);
        Assert.Equal(read with { Citations = default, Metadata = default, Domains = [] }, appended with { Citations = default, Metadata = default, Domains = [] });
    }

    [Fact]
    public async Task Append_with_a_caller_id_uses_it_and_a_taken_id_is_a_conflict()
    {
        var f = await MessageTestData.NewAsync();
        var id = Guid.CreateVersion7();
        Assert.Equal(id, (await f.Scope.Messages.AppendAsync(f.ConversationId, User("a") with { Id = id })).Id);
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.AppendAsync(f.ConversationId, User("b") with { Id = id }));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Idempotent_retry_returns_the_original_message_and_stores_nothing()
    {
        var f = await MessageTestData.NewAsync();
        var first = await f.Scope.Messages.AppendAsync(f.ConversationId, User("pay the invoice", key: "req-1"));
        var retry = await f.Scope.Messages.AppendAsync(f.ConversationId, User("pay the invoice", key: "req-1"));
        Assert.Equal((first.Id, first.Seq, first.CreatedAt, first.Content), (retry.Id, retry.Seq, retry.CreatedAt, retry.Content));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
        Assert.Equal(1L, await MessageTestData.CountAsync("messages", f.TenantId));
    }

    [Fact]
    public async Task Json_whitespace_does_not_make_a_retry_different()
    {
        var f = await MessageTestData.NewAsync();
        var compact = JsonDocument.Parse("""{"a":1,"b":[1,2]}""").RootElement;
        var spaced = JsonDocument.Parse("{ \"a\" : 1,\n \"b\" : [ 1, 2 ] }").RootElement;
        var first = await f.Scope.Messages.AppendAsync(f.ConversationId, User("x", "k") with { Metadata = compact });
        Assert.Equal(first.Id, (await f.Scope.Messages.AppendAsync(f.ConversationId, User("x", "k") with { Metadata = spaced })).Id);
    }

    [Theory]
    [InlineData("content")]
    [InlineData("role")]
    [InlineData("conversation")]
    [InlineData("metadata")]
    [InlineData("tokens")]
    public async Task Same_idempotency_key_with_different_input_is_a_conflict(string change)
    {
        var f = await MessageTestData.NewAsync();
        var other = await MessageTestData.NewConversationAsync(f.TenantId, f.User.Id);
        var original = User("original", key: "req-1");
        await f.Scope.Messages.AppendAsync(f.ConversationId, original);
        var changed = change switch
        {
            "content" => original with { Content = "changed" },
            "role" => original with { Role = MessageRole.System },
            "metadata" => original with { Metadata = JsonDocument.Parse("""{"x":1}""").RootElement },
            "tokens" => original with { InputTokens = 1 },
            _ => original,
        };
        var error = await Assert.ThrowsAsync<ChatStoreConflictException>(() =>
            f.Scope.Messages.AppendAsync(change == "conversation" ? other : f.ConversationId, changed));
        Assert.Contains("req-1", error.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
        Assert.Equal((0L, 0), await MessageTestData.CountersAsync(other));
    }

    [Fact]
    public async Task Idempotency_keys_are_per_tenant()
    {
        var a = await MessageTestData.NewAsync();
        var b = await MessageTestData.NewAsync();
        var fromA = await a.Scope.Messages.AppendAsync(a.ConversationId, User("same", key: "shared-key"));
        var fromB = await b.Scope.Messages.AppendAsync(b.ConversationId, User("same", key: "shared-key"));
        Assert.NotEqual(fromA.Id, fromB.Id);
    }

    [Fact]
    public async Task Streaming_chunks_are_visible_then_complete_sets_the_final_fields()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage
        {
            Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Metadata = JsonDocument.Parse("""{"request":"r1"}""").RootElement,
        });
        Assert.Equal((MessageStatus.Streaming, ""), (m.Status, m.Content));
        await f.Scope.Messages.AppendChunkAsync(m.Id, "Hel");
        await f.Scope.Messages.AppendChunkAsync(m.Id, "lo 🐶");
        Assert.Equal("Hello 🐶", (await f.Scope.Messages.GetAsync(m.Id)).Content);
        Assert.Equal("Hello 🐶", (await f.Scope.Messages.HistoryAsync(f.ConversationId)).Messages.Single().Content);
        await f.Scope.Messages.AppendChunkAsync(m.Id, "!");

        var done = await f.Scope.Messages.CompleteAsync(m.Id, new MessageCompletion
        {
            Model = "m-1", InputTokens = 5, OutputTokens = 7, CostUsd = 0.5m, ResponseMs = 120,
            Citations = JsonDocument.Parse("""[{"n":1}]""").RootElement, Metadata = JsonDocument.Parse("""{"finish":"stop"}""").RootElement,
        });
        Assert.Equal((MessageStatus.Complete, "Hello 🐶!", "m-1"), (done.Status, done.Content, done.Model));
        Assert.Equal((5, 7, 0.5m, 120), (done.InputTokens, done.OutputTokens, done.CostUsd, done.ResponseMs));
        Assert.Equal(1, done.Citations.GetArrayLength());
        Assert.Equal(("r1", "stop"), (done.Metadata.GetProperty("request").GetString(), done.Metadata.GetProperty("finish").GetString()));

        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.AppendChunkAsync(m.Id, "late"));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.CompleteAsync(m.Id));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.FailAsync(m.Id, "boom"));
        Assert.Equal("Hello 🐶!", (await f.Scope.Messages.GetAsync(m.Id)).Content);
    }

    [Fact]
    public async Task A_streaming_message_is_searchable_only_once_it_ends()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        await f.Scope.Messages.AppendChunkAsync(m.Id, "postgres replication");
        const string vector = "SELECT coalesce(search_vector::text, 'null') FROM messages WHERE id = $1";
        Assert.Equal("null", await TestStore.ScalarAsync<string>(vector, m.Id));
        await f.Scope.Messages.CompleteAsync(m.Id);
        Assert.Contains("replic", await TestStore.ScalarAsync<string>(vector, m.Id), StringComparison.Ordinal);

        var failed = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        await f.Scope.Messages.AppendChunkAsync(failed.Id, "partial answer");
        await f.Scope.Messages.FailAsync(failed.Id, "timeout");
        Assert.Contains("partial", await TestStore.ScalarAsync<string>(vector, failed.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Complete_can_replace_the_content_and_keeps_fields_not_given()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage
        {
            Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Model = "start-model", InputTokens = 3,
        });
        await f.Scope.Messages.AppendChunkAsync(m.Id, "draft");
        var done = await f.Scope.Messages.CompleteAsync(m.Id, new MessageCompletion { Content = "final", OutputTokens = 9 });
        Assert.Equal(("final", "start-model", 3, 9), (done.Content, done.Model, done.InputTokens, done.OutputTokens));
    }

    [Fact]
    public async Task Fail_keeps_the_partial_content_and_records_the_error()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        await f.Scope.Messages.AppendChunkAsync(m.Id, "partial");
        var failed = await f.Scope.Messages.FailAsync(m.Id, "upstream timeout");
        Assert.Equal((MessageStatus.Error, "partial", "upstream timeout"), (failed.Status, failed.Content, failed.Error));
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.AppendChunkAsync(m.Id, "more"));
        Assert.Equal("error", await TestStore.ScalarAsync<string>("SELECT status FROM messages WHERE id = $1", m.Id));
    }

    [Fact]
    public async Task Chunks_cannot_grow_the_content_past_the_limit()
    {
        await using var client = await MessageTestData.ClientWithLimitsAsync(new ChatStoreLimits { MaxContentLength = 10 });
        var f = await MessageTestData.NewAsync();
        var scope = client.ForTenant(f.TenantId);
        var m = await scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Content = "12345" });
        await scope.Messages.AppendChunkAsync(m.Id, "6789");
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Messages.AppendChunkAsync(m.Id, "ab"));
        Assert.Equal(("chunk", "max_length"), (error.Field, error.Rule));
        Assert.Equal("123456789", (await scope.Messages.GetAsync(m.Id)).Content);
        await scope.Messages.AppendChunkAsync(m.Id, "0");
    }

    [Fact]
    public async Task Regenerate_appends_an_answer_whose_parent_is_the_message()
    {
        var f = await MessageTestData.NewAsync();
        await f.Scope.Messages.AppendAsync(f.ConversationId, User("question"));
        var answer = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "first try" });
        var again = await f.Scope.Messages.RegenerateAsync(answer.Id, new NewMessage { Role = MessageRole.Assistant, Content = "second try" });
        Assert.Equal((f.ConversationId, answer.Id, 3L), (again.ConversationId, again.ParentId, again.Seq));
        Assert.Equal((3L, 3), await MessageTestData.CountersAsync(f.ConversationId));

        var retry = await f.Scope.Messages.RegenerateAsync(answer.Id, new NewMessage { Role = MessageRole.Assistant, Content = "k", IdempotencyKey = "regen" });
        Assert.Equal(retry.Id, (await f.Scope.Messages.RegenerateAsync(answer.Id, new NewMessage { Role = MessageRole.Assistant, Content = "k", IdempotencyKey = "regen" })).Id);

        var unknown = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            f.Scope.Messages.RegenerateAsync(Guid.NewGuid(), new NewMessage { Role = MessageRole.Assistant }));
        Assert.Equal("message", unknown.Entity);
        await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            f.Scope.Messages.RegenerateAsync(answer.Id, new NewMessage { Role = MessageRole.Assistant, ParentId = Guid.NewGuid() }));
        Assert.Equal((4L, 4), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task A_parent_must_be_a_message_of_the_same_conversation()
    {
        var f = await MessageTestData.NewAsync();
        var other = await MessageTestData.NewConversationAsync(f.TenantId, f.User.Id);
        var elsewhere = await f.Scope.Messages.AppendAsync(other, User("elsewhere"));
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() =>
            f.Scope.Messages.AppendAsync(f.ConversationId, User("reply") with { ParentId = elsewhere.Id }));
        Assert.Equal(("message", elsewhere.Id.ToString()), (error.Entity, error.Id));
        Assert.Equal((0L, 0), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Edit_replaces_the_content_and_sets_edited_at_but_not_while_streaming()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, User("teh typo"));
        var edited = await f.Scope.Messages.EditAsync(m.Id, "the typo");
        Assert.Equal("the typo", edited.Content);
        Assert.NotNull(edited.EditedAt);
        Assert.Equal("the typo", (await f.Scope.Messages.GetAsync(m.Id)).Content);

        var streaming = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.EditAsync(streaming.Id, "no"));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.EditAsync(Guid.NewGuid(), "no"));
    }

    [Fact]
    public async Task Delete_hides_the_message_and_counts_live_messages_restore_brings_it_back()
    {
        var f = await MessageTestData.NewAsync();
        var a = await f.Scope.Messages.AppendAsync(f.ConversationId, User("a"));
        var b = await f.Scope.Messages.AppendAsync(f.ConversationId, User("b"));
        await f.Scope.Messages.DeleteAsync(a.Id);
        Assert.Equal((2L, 1), await MessageTestData.CountersAsync(f.ConversationId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.GetAsync(a.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.DeleteAsync(a.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.EditAsync(a.Id, "x"));
        Assert.Equal([b.Id], (await f.Scope.Messages.HistoryAsync(f.ConversationId)).Messages.Select(m => m.Id));
        var withDeleted = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { IncludeDeleted = true });
        Assert.Equal([a.Id, b.Id], withDeleted.Messages.Select(m => m.Id));
        Assert.NotNull(withDeleted.Messages[0].DeletedAt);

        // A new message still gets the next seq: seqs are never reused.
        Assert.Equal(3L, (await f.Scope.Messages.AppendAsync(f.ConversationId, User("c"))).Seq);
        Assert.Equal((3L, 2), await MessageTestData.CountersAsync(f.ConversationId));

        var restored = await f.Scope.Messages.RestoreAsync(a.Id);
        Assert.Null(restored.DeletedAt);
        Assert.Equal((3L, 3), await MessageTestData.CountersAsync(f.ConversationId));
        Assert.Equal(a.Id, (await f.Scope.Messages.RestoreAsync(a.Id)).Id);
        Assert.Equal((3L, 3), await MessageTestData.CountersAsync(f.ConversationId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.RestoreAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Messages_of_a_deleted_conversation_are_not_found()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, User("before"));
        await MessageTestData.SoftDeleteConversationAsync(f.ConversationId);
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.AppendAsync(f.ConversationId, User("after")));
        Assert.Equal("conversation", error.Entity);
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.GetAsync(m.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.HistoryAsync(f.ConversationId));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.EditAsync(m.Id, "x"));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Appending_to_an_unknown_conversation_is_not_found()
    {
        var f = await MessageTestData.NewAsync();
        var id = Guid.NewGuid();
        var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.AppendAsync(id, User("x")));
        Assert.Equal(("conversation", id.ToString()), (error.Entity, error.Id));
    }

    [Theory]
    [InlineData("emoji", "Good dog 🐶🐕‍🦺 👩‍👩‍👧‍👦 👍🏽")]
    [InlineData("supplementary plane", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 𠜎𠜱𠝹 🀄")]
    [InlineData("combining marks", "e\u0301 a\u0308 n\u0303 Z\u0335\u0321\u0352a\u0336l\u0334g\u0337o")]
    [InlineData("right to left", "مرحبا بالعالم — שלום עולם \u200F(RTL)\u200E")]
    [InlineData("mixed", "中文 日本語 한국어 ελληνικά русский ÅÄÖ ß ﬁ \t tabs\r\nnewlines")]
    public async Task Valid_unicode_round_trips_byte_exact(string kind, string text)
    {
        Assert.NotNull(kind);
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage
        {
            Role = MessageRole.User, Content = text, Domains = [text], Metadata = JsonDocument.Parse(JsonSerializer.Serialize(new { text })).RootElement,
        });
        var read = await f.Scope.Messages.GetAsync(m.Id);
        Assert.Equal(text, read.Content, StringComparer.Ordinal);
        Assert.Equal(text, read.Domains[0], StringComparer.Ordinal);
        Assert.Equal(text, read.Metadata.GetProperty("text").GetString(), StringComparer.Ordinal);
        Assert.Equal(Encoding.UTF8.GetBytes(text), await TestStore.ScalarAsync<byte[]>("SELECT convert_to(content, 'UTF8') FROM messages WHERE id = $1", m.Id));

        var streamed = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        var runes = text.EnumerateRunes().Select(r => r.ToString()).ToList();
        foreach (var rune in runes)
            await f.Scope.Messages.AppendChunkAsync(streamed.Id, rune);
        Assert.Equal(text, (await f.Scope.Messages.CompleteAsync(streamed.Id)).Content, StringComparer.Ordinal);
    }
}
