using ChatStore.Messages;

namespace ChatStore.Tests.Messages;

public sealed class MessageConcurrencyTests
{
    [Fact]
    public async Task Append_is_gapless_under_concurrent_writers()
    {
        const int writers = 32;
        var f = await MessageTestData.NewAsync();
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = $"writer {i}" });
        })).ToArray();
        start.Set();
        var messages = await Task.WhenAll(tasks);

        Assert.Equal(Enumerable.Range(1, writers).Select(i => (long)i), messages.Select(m => m.Seq).Order());
        Assert.Equal((long)writers, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal(((long)writers, writers), await MessageTestData.CountersAsync(f.ConversationId));
        var stored = await TestStore.ScalarAsync<long[]>("SELECT array_agg(seq ORDER BY seq) FROM messages WHERE conversation_id = $1", f.ConversationId);
        Assert.Equal(Enumerable.Range(1, writers).Select(i => (long)i), stored);
        var history = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { Limit = writers });
        Assert.Equal(stored, history.Messages.Select(m => m.Seq));
        Assert.False(history.HasMore);
    }

    [Fact]
    public async Task Concurrent_appends_with_one_idempotency_key_create_one_message_and_all_return_it()
    {
        const int retries = 16;
        var f = await MessageTestData.NewAsync();
        await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "before" });
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, retries).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await f.Scope.Messages.AppendAsync(f.ConversationId,
                new NewMessage { Role = MessageRole.Assistant, Content = "the answer", IdempotencyKey = "turn-7" });
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);

        Assert.Single(results.Select(m => m.Id).Distinct());
        Assert.All(results, m => Assert.Equal(2L, m.Seq));
        Assert.Equal(2L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal((2L, 2), await MessageTestData.CountersAsync(f.ConversationId));
        // The next append continues without a gap.
        Assert.Equal(3L, (await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = "after" })).Seq);
    }

    [Fact]
    public async Task Concurrent_appends_with_one_key_but_different_content_store_one_and_the_others_conflict()
    {
        const int writers = 8;
        var f = await MessageTestData.NewAsync();
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = $"v{i}", IdempotencyKey = "k" });
        })).ToArray();
        start.Set();
        var outcomes = await Task.WhenAll(tasks.Select(async t =>
        {
            try { return (Message?)await t; }
            catch (ChatStoreConflictException) { return null; }
        }));

        Assert.Single(outcomes, m => m is not null);
        Assert.Equal(1L, await MessageTestData.CountAsync("messages", f.TenantId));
        Assert.Equal((1L, 1), await MessageTestData.CountersAsync(f.ConversationId));
    }

    [Fact]
    public async Task Concurrent_deletes_restores_and_appends_keep_message_count_equal_to_live_messages()
    {
        var f = await MessageTestData.NewAsync();
        var seeded = new List<Message>();
        for (var i = 0; i < 10; i++)
            seeded.Add(await f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.User, Content = $"m{i}" }));
        var work = new List<Task>();
        foreach (var m in seeded.Take(6))
            work.Add(Task.Run(() => f.Scope.Messages.DeleteAsync(m.Id)));
        for (var i = 0; i < 6; i++)
            work.Add(Task.Run(() => f.Scope.Messages.AppendAsync(f.ConversationId, new NewMessage { Role = MessageRole.Assistant, Content = "x" })));
        await Task.WhenAll(work);
        await Task.WhenAll(seeded.Take(3).Select(m => Task.Run(() => f.Scope.Messages.RestoreAsync(m.Id))));

        var live = await TestStore.ScalarAsync<long>("SELECT count(*) FROM messages WHERE conversation_id = $1 AND deleted_at IS NULL", f.ConversationId);
        Assert.Equal(13L, live);
        Assert.Equal((16L, 13), await MessageTestData.CountersAsync(f.ConversationId));
    }
}
