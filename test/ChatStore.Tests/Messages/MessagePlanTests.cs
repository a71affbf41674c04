using System.Text.Json;
using ChatStore.Messages;
using ChatStore.Tenancy;
using Npgsql;

namespace ChatStore.Tests.Messages;

/// <summary>
/// A tenant with thousands of conversations, a 10,000-message conversation and many documents, whose
/// statements are checked with EXPLAIN ANALYZE as the application role (row-level security on), in both
/// custom and generic (prepared) plans: every table is reached through a selective index. Once with
/// statistics that know the tenant; once with statistics taken when only another tenant had such data,
/// as for a new tenant importing its history, which the statistics do not know yet.
/// </summary>
public abstract class MessagePlanFixture : IAsyncLifetime
{
    protected abstract bool AnalyzeAfterLoading { get; }

    public const int LongConversationLength = 10_000;

    const string Analyze = "ANALYZE conversations, messages, documents, message_documents, message_feedback, users";

    public MessageTestData.Fixture Data { get; private set; } = null!;

    public Guid LongConversationId => Data.ConversationId;

    public Guid DocumentId { get; private set; }

    public async Task InitializeAsync()
    {
        if (!AnalyzeAfterLoading)
        {
            await LoadAsync(await MessageTestData.NewAsync());
            await MessageTestData.ExecuteAsync(Analyze);
        }
        Data = await MessageTestData.NewAsync();
        DocumentId = await LoadAsync(Data);
        if (AnalyzeAfterLoading)
            await MessageTestData.ExecuteAsync(Analyze);
    }

    static async Task<Guid> LoadAsync(MessageTestData.Fixture data)
    {
        var (t, u, c) = (data.TenantId, data.User.Id, data.ConversationId);
        await MessageTestData.ExecuteAsync("""
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, idempotency_key)
            SELECT gen_random_uuid(), $1, $2, $3, g, CASE WHEN g % 2 = 0 THEN 'assistant' ELSE 'user' END, 'message ' || g,
                   CASE WHEN g % 3 = 0 THEN 'key-' || g END
              FROM generate_series(1, $4) AS g
            """, t, c, u, LongConversationLength);
        await MessageTestData.ExecuteAsync("UPDATE conversations SET last_seq = $2, message_count = $2 WHERE id = $1", c, LongConversationLength);
        await MessageTestData.ExecuteAsync("""
            WITH c AS (
                INSERT INTO conversations (id, tenant_id, user_id, last_seq, message_count)
                SELECT gen_random_uuid(), $1, $2, 10, 10 FROM generate_series(1, 2000) RETURNING id)
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
            SELECT gen_random_uuid(), $1, c.id, $2, g, 'user', 'short conversation ' || g FROM c, generate_series(1, 10) AS g
            """, t, u);
        await MessageTestData.ExecuteAsync("""
            INSERT INTO documents (id, tenant_id, user_id, filename) SELECT gen_random_uuid(), $1, $2, 'doc ' || g FROM generate_series(1, 2000) AS g
            """, t, u);
        // Feedback and links on the short conversations' messages, so that those tables have statistics worth planning with.
        await MessageTestData.ExecuteAsync("""
            INSERT INTO message_feedback (id, tenant_id, message_id, user_id, rating)
            SELECT gen_random_uuid(), $1, m.id, $2, 'like' FROM messages m WHERE m.tenant_id = $1 AND m.conversation_id <> $3
            """, t, u, c);
        await MessageTestData.ExecuteAsync("""
            INSERT INTO message_documents (tenant_id, message_id, document_id)
            SELECT $1, m.id, d.id FROM (SELECT id, row_number() OVER () AS n FROM messages WHERE tenant_id = $1 AND conversation_id <> $2 LIMIT 2000) m
              JOIN (SELECT id, row_number() OVER () AS n FROM documents WHERE tenant_id = $1) d USING (n)
            """, t, c);
        return await MessageTestData.NewDocumentAsync(t, u);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public sealed class FreshStatisticsFixture : MessagePlanFixture
{
    protected override bool AnalyzeAfterLoading => true;
}

public sealed class StaleStatisticsFixture : MessagePlanFixture
{
    protected override bool AnalyzeAfterLoading => false;
}

public sealed class MessagePlansWithFreshStatisticsTests(FreshStatisticsFixture fixture)
    : MessagePlanTests<FreshStatisticsFixture>(fixture), IClassFixture<FreshStatisticsFixture>;

public sealed class MessagePlansWithStaleStatisticsTests(StaleStatisticsFixture fixture)
    : MessagePlanTests<StaleStatisticsFixture>(fixture), IClassFixture<StaleStatisticsFixture>;

public abstract class MessagePlanTests<TFixture>(TFixture fixture) where TFixture : MessagePlanFixture
{
    // The indexes these statements may read through. Anything else (a sequential scan, a scan of the
    // tenant's conversations or of its messages by time) grows with the tenant, not with the request.
    static readonly HashSet<string> AllowedIndexes =
    [
        "messages_pkey", "messages_conversation_seq_key", "messages_idempotency_key", "conversations_pkey", "documents_pkey",
        "documents_user_idx", "message_documents_pkey", "message_feedback_message_user_key", "users_pkey", "users_tenant_list_idx", "tenants_pkey",
        "embeddings_owner_message_idx", // a deleted message's vectors
    ];

    // Tables that grow with a tenant's conversations (users stays small here: scanning it is what the planner should do).
    static readonly HashSet<string> CheckedTables = ["messages", "conversations", "documents", "message_documents", "message_feedback"];

    static (string, string) Uuid(Guid? g) => ("uuid", g is null ? "NULL" : $"'{g}'");
    static (string, string) Text(string? s) => ("text", s is null ? "NULL" : $"'{s}'");

    (string, string)[] AppendArgs(Guid? conversation, Guid? parent = null, string? key = null, Guid? document = null) =>
    [
        Uuid(Guid.CreateVersion7()), Uuid(conversation), Text("assistant"), Text("hello there"), Text("complete"), Uuid(parent),
        ("jsonb", "'[]'"), ("jsonb", "'{}'"), ("text[]", "'{}'"), Text(null), ("integer", "0"), ("integer", "0"), ("numeric", "0"),
        ("integer", "NULL"), Text(null), Text(key), ("bytea", key is null ? "NULL" : "'\\x00'"),
        ("uuid[]", document is null ? "'{}'" : $"ARRAY['{document}']::uuid[]"),
    ];

    [Fact]
    public async Task History_of_a_long_conversation_reads_only_a_page_from_the_seq_index()
    {
        var f = fixture.Data;
        // Other tests of this class append to the conversation: read below what they add.
        var latest = await f.Scope.Messages.HistoryAsync(fixture.LongConversationId, new HistoryQuery { BeforeSeq = MessagePlanFixture.LongConversationLength + 1 });
        Assert.Equal(Enumerable.Range(MessagePlanFixture.LongConversationLength - 49, 50).Select(i => (long)i), latest.Messages.Select(m => m.Seq));
        var back = await f.Scope.Messages.HistoryAsync(fixture.LongConversationId, new HistoryQuery { BeforeSeq = 101 });
        Assert.Equal(Enumerable.Range(51, 50).Select(i => (long)i), back.Messages.Select(m => m.Seq));

        foreach (var generic in new[] { false, true })
        {
            foreach (var (sql, args) in new (string, (string, string)[])[]
            {
                (MessageStore.LatestSql, [Uuid(fixture.LongConversationId), ("bigint", long.MaxValue.ToString()), ("boolean", "false"), ("integer", "51")]),
                (MessageStore.LatestSql, [Uuid(fixture.LongConversationId), ("bigint", "5000"), ("boolean", "true"), ("integer", "51")]),
                (MessageStore.AfterSql, [Uuid(fixture.LongConversationId), ("bigint", "0"), ("boolean", "false"), ("integer", "51"), ("bigint", long.MaxValue.ToString())]),
                (MessageStore.AfterSql, [Uuid(fixture.LongConversationId), ("bigint", "5000"), ("boolean", "false"), ("integer", "51"), ("bigint", long.MaxValue.ToString())]),
            })
            {
                var plan = await ExplainAsync(sql, args, generic);
                AssertIndexed(plan);
                var nodes = Plans.Nodes(plan).ToList();
                var scan = Assert.Single(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "messages_conversation_seq_key");
                // At most the page (plus the deleted messages in the window, none here), whatever the plan's shape.
                Assert.True(scan.GetProperty("Actual Rows").GetDouble() <= 51, plan.ToString());
            }
        }
    }

    [Theory]
    [InlineData("append")]
    [InlineData("append with key")]
    [InlineData("append with document")]
    [InlineData("regenerate")]
    public async Task Append_reaches_every_table_through_a_selective_index(string kind)
    {
        var parent = await fixture.Data.Scope.Messages.AppendAsync(fixture.LongConversationId, new NewMessage { Role = MessageRole.User, Content = "q" });
        var args = kind switch
        {
            "append with key" => AppendArgs(fixture.LongConversationId, key: "plan-key"),
            "append with document" => AppendArgs(fixture.LongConversationId, document: fixture.DocumentId),
            "regenerate" => AppendArgs(null, parent: parent.Id),
            _ => AppendArgs(fixture.LongConversationId),
        };
        foreach (var generic in new[] { false, true })
        {
            var plan = await ExplainAsync(MessageStore.AppendSql, args, generic);
            AssertIndexed(plan);
            Assert.Equal(1, Plans.Nodes(plan).Count(n => n.GetProperty("Node Type").GetString() == "ModifyTable"
                && n.GetProperty("Relation Name").GetString() == "messages" && n.GetProperty("Actual Rows").GetDouble() == 1));
        }
    }

    [Fact]
    public async Task Single_message_statements_use_the_primary_keys()
    {
        var f = fixture.Data;
        var m = await f.Scope.Messages.AppendAsync(fixture.LongConversationId, new NewMessage { Role = MessageRole.Assistant, Status = MessageStatus.Streaming });
        foreach (var generic in new[] { false, true })
        {
            foreach (var (sql, args) in new (string, (string, string)[])[]
            {
                (MessageStore.GetSql, [Uuid(m.Id)]),
                (MessageStore.AppendChunkSql, [Uuid(m.Id), Text("chunk"), ("integer", "2000000")]),
                (MessageStore.DeleteSql, [Uuid(m.Id)]),
                (MessageStore.LinkSql, [Uuid(m.Id), ("uuid[]", $"ARRAY['{fixture.DocumentId}']::uuid[]")]),
                (MessageStore.SetFeedbackSql, [Uuid(Guid.CreateVersion7()), Uuid(m.Id), Uuid(f.User.Id), Text("like"), ("smallint", "NULL"), Text(null)]),
                (MessageStore.ListFeedbackSql, [Uuid(m.Id), Uuid(Guid.Empty), ("integer", "51")]),
            })
            {
                AssertIndexed(await ExplainAsync(sql, args, generic));
            }
        }
    }

    static void AssertIndexed(JsonElement plan)
    {
        foreach (var node in Plans.Nodes(plan))
        {
            // Branches that did not run (an idempotency lookup without a key, a document check without documents) cost nothing.
            if (node.TryGetProperty("Actual Loops", out var loops) && loops.GetDouble() == 0)
                continue;
            var type = node.GetProperty("Node Type").GetString();
            if (type == "Seq Scan")
                Assert.False(CheckedTables.Contains(node.GetProperty("Relation Name").GetString()!), $"Seq Scan on {node.GetProperty("Relation Name")}:\n{plan}");
            if (node.TryGetProperty("Index Name", out var index))
                Assert.True(AllowedIndexes.Contains(index.GetString()!), $"{type} using {index}:\n{plan}");
        }
    }

    // EXPLAIN ANALYZE as the application role with the tenant set, through a prepared statement so that
    // the generic plan (what auto-prepared statements settle on) can be forced. Rolled back.
    async Task<JsonElement> ExplainAsync(string sql, (string Type, string Literal)[] args, bool generic)
    {
        await using var conn = new NpgsqlConnection(TestStore.ConnectionString);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await using (var set = new NpgsqlCommand($"SET LOCAL ROLE chatstore_app; SET LOCAL chatstore.tenant_id = '{fixture.Data.TenantId}'", conn, tx))
            await set.ExecuteNonQueryAsync();
        // A statement that names its tenant takes it as its first parameter.
        var text = StoreContext.Render(sql, "\"public\"");
        if (StoreContext.NamesTenant(sql))
            args = [("uuid", $"'{fixture.Data.TenantId}'"), .. args];
        var mode = generic ? "force_generic_plan" : "force_custom_plan";
        var types = string.Join(", ", args.Select(a => a.Type));
        await using (var prepare = new NpgsqlCommand($"SET LOCAL plan_cache_mode = {mode}; PREPARE stmt ({types}) AS {text}", conn, tx))
            await prepare.ExecuteNonQueryAsync();
        // Test-made values, written as literals: EXECUTE takes no bind parameters.
        var values = string.Join(", ", args.Select(a => a.Literal));
        await using var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE stmt ({values})", conn, tx);
        var json = (string)(await explain.ExecuteScalarAsync())!;
        return JsonDocument.Parse(json).RootElement[0].GetProperty("Plan").Clone();
    }
}
