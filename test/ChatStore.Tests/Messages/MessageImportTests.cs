using System.Text.Json;
using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageImportTests
{
    static ImportedMessage Row(Guid conversationId, string content, string role = MessageRole.User) =>
        new() { ConversationId = conversationId, Role = role, Content = content };

    [Fact]
    public async Task Import_appends_after_existing_messages_in_input_order_with_gapless_seqs_and_counters()
    {
        var f = await MessageTestData.NewAsync(searchLanguage: "simple");
        var other = await MessageTestData.NewConversationAsync(f.TenantId, f.User.Id);
        await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "before" });
        var created = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        var rows = new List<ImportedMessage>
        {
            Row(f.ConversationId, "one"),
            Row(other, "x1"),
            Row(f.ConversationId, "two", MessageRole.Assistant) with
            {
                Model = "m", InputTokens = 3, OutputTokens = 4, CostUsd = 0.5m, ResponseMs = 7, Domains = ["d"],
                Citations = JsonDocument.Parse("""[{"u":1}]""").RootElement, Metadata = JsonDocument.Parse("""{"k":"v"}""").RootElement,
            },
            Row(other, "x2") with { CreatedAt = created },
            Row(f.ConversationId, "three"),
        };
        var progress = new List<long>();
        var imported = await f.Scope.Messages.ImportAsync(rows, new SyncProgress(progress));

        Assert.Equal(5, imported);
        Assert.Equal([5L], progress);
        var history = await f.Scope.Messages.HistoryAsync(f.ConversationId);
        Assert.Equal(["before", "one", "two", "three"], history.Messages.Select(m => m.Content));
        Assert.Equal([1L, 2, 3, 4], history.Messages.Select(m => m.Seq));
        var two = history.Messages[2];
        Assert.Equal((MessageRole.Assistant, "m", 3, 4, 0.5m, 7), (two.Role, two.Model, two.InputTokens, two.OutputTokens, two.CostUsd, two.ResponseMs));
        Assert.Equal(["d"], two.Domains);
        Assert.Equal("v", two.Metadata.GetProperty("k").GetString());
        Assert.Equal(1, two.Citations[0].GetProperty("u").GetInt32());
        Assert.Equal((4L, 4), await MessageTestData.CountersAsync(f.ConversationId));
        var others = (await f.Scope.Messages.HistoryAsync(other)).Messages;
        Assert.Equal([("x1", 1L), ("x2", 2L)], others.Select(m => (m.Content, m.Seq)));
        Assert.Equal(created, others[1].CreatedAt);
        Assert.Equal((2L, 2), await MessageTestData.CountersAsync(other));
        Assert.Equal("simple", await TestStore.ScalarAsync<string>("SELECT language::text FROM messages WHERE id = $1", others[0].Id));
        Assert.Equal(f.User.Id, others[0].UserId);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Import_into_another_tenants_conversation_is_not_found_and_stores_nothing(bool bypassRowLevelSecurity)
    {
        var f = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var g = await MessageTestData.NewAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var rows = new[] { Row(f.ConversationId, "mine"), Row(g.ConversationId, "theirs") };

        var e = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.ImportAsync(rows));

        Assert.Equal(("conversation", g.ConversationId.ToString()), (e.Entity, e.Id));
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", g.TenantId));
        Assert.Equal((0L, 0), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Import_into_a_deleted_conversation_is_not_found()
    {
        var f = await MessageTestData.NewAsync();
        await MessageTestData.SoftDeleteConversationAsync(f.ConversationId);

        var e = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.ImportAsync([Row(f.ConversationId, "late")]));

        Assert.Equal(f.ConversationId.ToString(), e.Id);
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", f.TenantId));
    }

    [Fact]
    public async Task An_invalid_message_names_its_index_and_nothing_is_stored()
    {
        var f = await MessageTestData.NewAsync();
        var rows = new[] { Row(f.ConversationId, "fine"), Row(f.ConversationId, "bad\0text"), Row(f.ConversationId, "never read") };

        var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => f.Scope.Messages.ImportAsync(rows));

        Assert.Equal("messages[1].content", e.Field);
        Assert.Equal(0L, await MessageTestData.CountAsync("messages", f.TenantId));
        var role = await Assert.ThrowsAsync<ChatStoreValidationException>(() => f.Scope.Messages.ImportAsync([Row(f.ConversationId, "x", "robot")]));
        Assert.Equal(("messages[0].role", "enum"), (role.Field, role.Rule));
    }

    [Fact]
    public async Task A_taken_id_is_a_conflict_and_nothing_is_stored()
    {
        var f = await MessageTestData.NewAsync();
        var taken = await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "first" });

        await Assert.ThrowsAsync<ChatStoreConflictException>(() => f.Scope.Messages.ImportAsync(
            [Row(f.ConversationId, "new"), Row(f.ConversationId, "dup") with { Id = taken.Id }]));

        Assert.Equal(1L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task An_empty_import_stores_nothing_and_the_connection_stays_usable()
    {
        var f = await MessageTestData.NewAsync();
        Assert.Equal(0, await f.Scope.Messages.ImportAsync([]));
        // A second import on the (pooled) connection: the staging table of the first is gone.
        Assert.Equal(1, await f.Scope.Messages.ImportAsync([Row(f.ConversationId, "after")]));
        Assert.Equal(1, await f.Scope.Messages.ImportAsync([Row(f.ConversationId, "again")]));
        Assert.Equal((2L, 2), await MessageTestData.CountersAsync(f.ConversationId));
    }

    sealed class SyncProgress(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }
}
