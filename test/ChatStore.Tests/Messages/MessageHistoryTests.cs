using System.Text.Json;
using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageHistoryTests
{
    static async Task<MessageTestData.Fixture> WithMessagesAsync(int count)
    {
        var f = await MessageTestData.NewAsync();
        for (var i = 1; i <= count; i++)
            await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = i % 2 == 1 ? MessageRole.User : MessageRole.Assistant, Content = $"m{i}" });
        return f;
    }

    static IEnumerable<long> Seqs(MessageHistory h) => h.Messages.Select(m => m.Seq);

    [Fact]
    public async Task History_returns_the_latest_messages_in_ascending_order()
    {
        var f = await WithMessagesAsync(10);
        var latest = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3 });
        Assert.Equal([8L, 9, 10], Seqs(latest));
        Assert.True(latest.HasMore);
        Assert.Equal(["m8", "m9", "m10"], latest.Messages.Select(m => m.Content));
        var all = await f.Scope.Messages.HistoryAsync(f.ConversationId);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), Seqs(all));
        Assert.False(all.HasMore);
    }

    [Fact]
    public async Task History_pages_back_with_before_seq_until_the_start()
    {
        var f = await WithMessagesAsync(10);
        var seen = new List<long>();
        long? before = null;
        while (true)
        {
            var page = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 4, BeforeSeq = before });
            seen.InsertRange(0, Seqs(page));
            if (!page.HasMore) break;
            before = page.Messages[0].Seq;
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), seen);
    }

    [Fact]
    public async Task History_pages_forward_with_after_seq_and_can_be_bounded_by_before_seq()
    {
        var f = await WithMessagesAsync(10);
        var page = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, AfterSeq = 2 });
        Assert.Equal([3L, 4, 5], Seqs(page));
        Assert.True(page.HasMore);
        var tail = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, AfterSeq = 8 });
        Assert.Equal([9L, 10], Seqs(tail));
        Assert.False(tail.HasMore);
        var window = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { AfterSeq = 3, BeforeSeq = 7 });
        Assert.Equal([4L, 5, 6], Seqs(window));
        Assert.Empty((await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { AfterSeq = 10 })).Messages);
    }

    [Fact]
    public async Task History_of_an_empty_conversation_is_empty_and_of_an_unknown_one_not_found()
    {
        var f = await MessageTestData.NewAsync();
        var empty = await f.Scope.Messages.HistoryAsync(f.ConversationId);
        Assert.Empty(empty.Messages);
        Assert.False(empty.HasMore);
        var id = Guid.NewGuid();
        Assert.Equal("conversation", (await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => f.Scope.Messages.HistoryAsync(id))).Entity);
    }

    [Theory]
    [InlineData(0, null, null, "limit")]
    [InlineData(501, null, null, "limit")]
    [InlineData(10, -1L, null, "beforeSeq")]
    [InlineData(10, null, -1L, "afterSeq")]
    public async Task History_rejects_bad_queries(int limit, long? before, long? after, string field)
    {
        var f = await MessageTestData.NewAsync();
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() =>
            f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = limit, BeforeSeq = before, AfterSeq = after }));
        Assert.Equal(field, error.Field);
    }
}
