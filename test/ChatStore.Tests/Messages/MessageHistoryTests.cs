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

    [Fact]
    public async Task History_skips_deleted_messages_anywhere_in_the_conversation()
    {
        var f = await WithMessagesAsync(20);
        var all = (await f.Scope.Messages.HistoryAsync(f.ConversationId)).Messages;
        foreach (var m in all.Where(m => m.Seq is >= 14 and <= 18 or 2))
            await f.Scope.Messages.DeleteAsync(m.Id);
        var latest = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 5 });
        Assert.Equal([11L, 12, 13, 19, 20], Seqs(latest));
        Assert.True(latest.HasMore);
        var first = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, AfterSeq = 0 });
        Assert.Equal([1L, 3, 4], Seqs(first));
        var window = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, AfterSeq = 12 });
        Assert.Equal([13L, 19, 20], Seqs(window));
        Assert.False(window.HasMore);
        var oldest = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, BeforeSeq = 4 });
        Assert.Equal([1L, 3], Seqs(oldest));
        Assert.False(oldest.HasMore);
    }

    [Fact]
    public async Task History_is_complete_even_if_the_live_message_count_is_wrong()
    {
        var f = await WithMessagesAsync(10);
        var all = (await f.Scope.Messages.HistoryAsync(f.ConversationId)).Messages;
        await f.Scope.Messages.DeleteAsync(all[8].Id);
        await f.Scope.Messages.DeleteAsync(all[9].Id);
        // As if something had deleted messages without keeping message_count (8) up to date.
        await MessageTestData.ExecuteAsync("UPDATE conversations SET message_count = 10 WHERE id = $1", f.ConversationId);
        var latest = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3 });
        Assert.Equal([6L, 7, 8], Seqs(latest));
        Assert.True(latest.HasMore);
        var forward = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = 3, AfterSeq = 6, BeforeSeq = 11 });
        Assert.Equal([7L, 8], Seqs(forward));
    }
}
