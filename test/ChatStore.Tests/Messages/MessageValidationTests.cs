using System.Text.Json;
using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageValidationTests
{
    public static TheoryData<string, string, string> BadAppends => new()
    {
        { "unknown role", "role", "enum" },
        { "missing role", "role", "enum" },
        { "unknown status", "status", "enum" },
        { "nul in content", "content", "nul_character" },
        { "lone high surrogate in content", "content", "unpaired_surrogate" },
        { "lone low surrogate in content", "content", "unpaired_surrogate" },
        { "reversed surrogates in content", "content", "unpaired_surrogate" },
        { "content too long", "content", "max_length" },
        { "citations not an array", "citations", "json_type" },
        { "metadata not an object", "metadata", "json_type" },
        { "escaped nul in metadata", "metadata.note", "nul_character" },
        { "escaped lone surrogate in citations", "citations[0].title", "unpaired_surrogate" },
        { "empty domain", "domains[1]", "required" },
        { "lone surrogate in domain", "domains[0]", "unpaired_surrogate" },
        { "too many domains", "domains", "max_items" },
        { "model too long", "model", "max_length" },
        { "negative input tokens", "inputTokens", "not_negative" },
        { "negative output tokens", "outputTokens", "not_negative" },
        { "negative cost", "costUsd", "not_negative" },
        { "cost too large", "costUsd", "range" },
        { "negative response time", "responseMs", "not_negative" },
        { "empty idempotency key", "idempotencyKey", "required" },
        { "nul in error", "error", "nul_character" },
        { "empty document id", "documentIds[0]", "required" },
        { "too many documents", "documentIds", "max_items" },
        { "empty parent id", "parentId", "required" },
        { "empty id", "id", "required" },
        { "empty conversation id", "conversationId", "required" },
    };

    static NewMessage Bad(string kind) => kind switch
    {
        "unknown role" => new() { Role = "robot" },
        "missing role" => new() { Role = null! },
        "unknown status" => new() { Role = "user", Status = "done" },
        "nul in content" => new() { Role = "user", Content = "a\0b" },
        "lone high surrogate in content" => new() { Role = "user", Content = "a\ud83d" },
        "lone low surrogate in content" => new() { Role = "user", Content = "\udc36b" },
        "reversed surrogates in content" => new() { Role = "user", Content = "\udc36\ud83d" },
        "content too long" => new() { Role = "user", Content = new string('x', 11) },
        "citations not an array" => new() { Role = "user", Citations = Json("""{"a":1}""") },
        "metadata not an object" => new() { Role = "user", Metadata = Json("[1]") },
        "escaped nul in metadata" => new() { Role = "user", Metadata = Json("""{"note":"x\u0000y"}""") },
        "escaped lone surrogate in citations" => new() { Role = "user", Citations = Json("""[{"title":"\ud800"}]""") },
        "empty domain" => new() { Role = "user", Domains = ["ok", ""] },
        "lone surrogate in domain" => new() { Role = "user", Domains = ["\ud800"] },
        "too many domains" => new() { Role = "user", Domains = Enumerable.Repeat("d", 101).ToArray() },
        "model too long" => new() { Role = "user", Model = new string('m', 201) },
        "negative input tokens" => new() { Role = "user", InputTokens = -1 },
        "negative output tokens" => new() { Role = "user", OutputTokens = -1 },
        "negative cost" => new() { Role = "user", CostUsd = -0.01m },
        "cost too large" => new() { Role = "user", CostUsd = 10_000_000_000m },
        "negative response time" => new() { Role = "user", ResponseMs = -1 },
        "empty idempotency key" => new() { Role = "user", IdempotencyKey = "" },
        "nul in error" => new() { Role = "assistant", Status = "error", Error = "\0" },
        "empty document id" => new() { Role = "user", DocumentIds = [Guid.Empty] },
        "too many documents" => new() { Role = "user", DocumentIds = Enumerable.Range(0, 101).Select(_ => Guid.NewGuid()).ToArray() },
        "empty parent id" => new() { Role = "user", ParentId = Guid.Empty },
        "empty id" => new() { Role = "user", Id = Guid.Empty },
        _ => new() { Role = "user" },
    };

    static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Theory]
    [MemberData(nameof(BadAppends))]
    public async Task Bad_append_input_names_the_field_and_stores_nothing(string kind, string field, string rule)
    {
        await using var client = await MessageTestData.ClientWithLimitsAsync(new ChatStoreLimits { MaxContentLength = 10 });
        var f = await MessageTestData.NewAsync();
        var scope = client.ForTenant(f.TenantId);
        var conversation = kind == "empty conversation id" ? Guid.Empty : f.ConversationId;
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Messages.AppendAsync(conversation, Bad(kind)));
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal((0L, 0), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Bad_chunk_edit_and_completion_input_is_rejected_and_changes_nothing()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming, Content = "ok" });
        async Task Expect(string field, string rule, Func<Task> act)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(act);
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        await Expect("chunk", "nul_character", () => f.Scope.Messages.AppendChunkAsync(m.Id, "\0"));
        await Expect("chunk", "unpaired_surrogate", () => f.Scope.Messages.AppendChunkAsync(m.Id, "x\ud83d"));
        await Expect("chunk", "required", () => f.Scope.Messages.AppendChunkAsync(m.Id, null!));
        await Expect("messageId", "required", () => f.Scope.Messages.AppendChunkAsync(Guid.Empty, "x"));
        await Expect("content", "unpaired_surrogate", () => f.Scope.Messages.CompleteAsync(m.Id, new MessageCompletion { Content = "\udc00" }));
        await Expect("outputTokens", "not_negative", () => f.Scope.Messages.CompleteAsync(m.Id, new MessageCompletion { OutputTokens = -5 }));
        await Expect("citations", "json_type", () => f.Scope.Messages.CompleteAsync(m.Id, new MessageCompletion { Citations = Json("{}") }));
        await Expect("error", "required", () => f.Scope.Messages.FailAsync(m.Id, ""));
        await Expect("content", "nul_character", () => f.Scope.Messages.EditAsync(m.Id, "a\0"));
        var stored = await f.Scope.Messages.GetAsync(m.Id);
        Assert.Equal(("ok", MessageStatus.Streaming, 0), (stored.Content, stored.Status, stored.OutputTokens));
    }

    [Fact]
    public async Task Bad_feedback_and_corrections_are_rejected_and_store_nothing()
    {
        var f = await MessageTestData.NewAsync();
        var m = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "answer" });
        async Task Expect(string field, string rule, Func<Task> act)
        {
            var error = await Assert.ThrowsAsync<ChatStoreValidationException>(act);
            Assert.Equal((field, rule), (error.Field, error.Rule));
        }
        await Expect("rating", "enum", () => f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Rating = "meh" }));
        await Expect("score", "range", () => f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Score = 11 }));
        await Expect("score", "range", () => f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Score = 0 }));
        await Expect("rating", "required", () => f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Comment = "just a comment" }));
        await Expect("comment", "unpaired_surrogate", () => f.Scope.Messages.SetFeedbackAsync(m.Id, f.User.Id, new NewFeedback { Rating = "like", Comment = "\ud800" }));
        await Expect("userId", "required", () => f.Scope.Messages.SetFeedbackAsync(m.Id, Guid.Empty, new NewFeedback { Rating = "like" }));
        await Expect("correctedContent", "required", () => f.Scope.Messages.AddCorrectionAsync(m.Id, f.User.Id, ""));
        await Expect("reason", "nul_character", () => f.Scope.Messages.AddCorrectionAsync(m.Id, f.User.Id, "better", "\0"));
        await Expect("documentIds[1]", "required", () => f.Scope.Messages.LinkDocumentsAsync(m.Id, [Guid.NewGuid(), Guid.Empty]));
        await Expect("limit", "range", () => f.Scope.Messages.ListFeedbackAsync(m.Id, limit: 0));
        await Expect("cursor", "cursor", () => f.Scope.Messages.ListCorrectionsAsync(m.Id, cursor: "nope"));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_feedback", f.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_corrections", f.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("message_documents", f.TenantId));
    }

    [Fact]
    public async Task Empty_ids_are_rejected_naming_the_field()
    {
        var f = await MessageTestData.NewAsync();
        var messages = f.Scope.Messages;
        var id = Guid.NewGuid();
        var attempts = new (string Field, Func<Task> Act)[]
        {
            ("id", () => messages.GetAsync(Guid.Empty)),
            ("conversationId", () => messages.HistoryAsync(Guid.Empty)),
            ("id", () => messages.EditAsync(Guid.Empty, "x")),
            ("id", () => messages.DeleteAsync(Guid.Empty)),
            ("id", () => messages.RestoreAsync(Guid.Empty)),
            ("messageId", () => messages.RegenerateAsync(Guid.Empty, new NewMessage { Role = MessageRole.Assistant })),
            ("messageId", () => messages.CompleteAsync(Guid.Empty)),
            ("messageId", () => messages.FailAsync(Guid.Empty, "x")),
            ("messageId", () => messages.GetFeedbackAsync(Guid.Empty, id)),
            ("userId", () => messages.DeleteFeedbackAsync(id, Guid.Empty)),
            ("messageId", () => messages.ListFeedbackAsync(Guid.Empty)),
            ("messageId", () => messages.AddCorrectionAsync(Guid.Empty, id, "x")),
            ("messageId", () => messages.ListCorrectionsAsync(Guid.Empty)),
            ("messageId", () => messages.LinkDocumentsAsync(Guid.Empty, [])),
            ("messageId", () => messages.ListDocumentIdsAsync(Guid.Empty)),
        };
        foreach (var (field, act) in attempts)
            Assert.Equal(field, (await Assert.ThrowsAsync<ChatStoreValidationException>(act)).Field);
    }
}
