using System.Text.Json;
using ChatStore.Messages;
using Npgsql;

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
    public async Task History_of_a_long_conversation_reads_only_a_page_from_the_seq_index()
    {
        const int length = 10_000;
        var f = await MessageTestData.NewAsync();
        await MessageTestData.ExecuteAsync("""
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
            SELECT gen_random_uuid(), $1, $2, $3, g, CASE WHEN g % 2 = 0 THEN 'assistant' ELSE 'user' END, 'message ' || g
              FROM generate_series(1, $4) AS g
            """, f.TenantId, f.ConversationId, f.User.Id, length);
        await MessageTestData.ExecuteAsync("UPDATE conversations SET last_seq = $2, message_count = $2 WHERE id = $1", f.ConversationId, length);
        await MessageTestData.ExecuteAsync("ANALYZE messages");

        var latest = await f.Scope.Messages.HistoryAsync(f.ConversationId);
        Assert.Equal(Enumerable.Range(length - 49, 50).Select(i => (long)i), latest.Messages.Select(m => m.Seq));
        var back = await f.Scope.Messages.HistoryAsync(f.ConversationId, new HistoryQuery { BeforeSeq = 101 });
        Assert.Equal(Enumerable.Range(51, 50).Select(i => (long)i), back.Messages.Select(m => m.Seq));

        // Both the custom plan (first executions) and the generic plan (prepared statements) must walk the
        // (conversation_id, seq) index and stop after the page: no sort, no scan of the conversation.
        foreach (var generic in new[] { false, true })
        {
            foreach (var (sql, args) in new (string, object[])[]
            {
                (MessageStore.LatestSql, [f.ConversationId, long.MaxValue, false, 51]),
                (MessageStore.LatestSql, [f.ConversationId, 5000L, false, 51]),
                (MessageStore.AfterSql, [f.ConversationId, 5000L, false, 51, long.MaxValue]),
            })
            {
                var plan = await ExplainAsync(f.TenantId, sql, args, generic);
                var nodes = Nodes(plan).ToList();
                Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() is "Sort" or "Seq Scan" or "Bitmap Heap Scan");
                var scan = Assert.Single(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "messages_conversation_seq_key");
                Assert.True(scan.GetProperty("Actual Rows").GetDouble() <= 51, plan.ToString());
            }
        }
    }

    static async Task<JsonElement> ExplainAsync(Guid tenantId, string sql, object[] args, bool generic)
    {
        await using var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand("SELECT set_config('role', 'chatstore_app', true), set_config('chatstore.tenant_id', $1, true)", conn, tx))
        {
            set.Parameters.Add(new() { Value = tenantId.ToString() });
            await set.ExecuteNonQueryAsync();
        }
        var text = sql.Replace("{schema}", "\"public\"", StringComparison.Ordinal);
        var types = args.Select(a => a switch { Guid => "uuid", long => "bigint", bool => "boolean", _ => "integer" });
        // Test-made values, written as literals: EXECUTE takes no bind parameters.
        var values = string.Join(", ", args.Select(a => a switch { Guid g => $"'{g}'", bool b => b ? "true" : "false", _ => a.ToString() }));
        await using (var prepare = new NpgsqlCommand($"SET LOCAL plan_cache_mode = {(generic ? "force_generic_plan" : "force_custom_plan")}; PREPARE history ({string.Join(", ", types)}) AS {text}", conn, tx))
            await prepare.ExecuteNonQueryAsync();
        await using var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE history ({values})", conn, tx);
        var json = (string)(await explain.ExecuteScalarAsync())!;
        return JsonDocument.Parse(json).RootElement[0].GetProperty("Plan").Clone();
    }

    static IEnumerable<JsonElement> Nodes(JsonElement node)
    {
        yield return node;
        if (node.TryGetProperty("Plans", out var children))
            foreach (var child in children.EnumerateArray())
                foreach (var n in Nodes(child))
                    yield return n;
    }
}
