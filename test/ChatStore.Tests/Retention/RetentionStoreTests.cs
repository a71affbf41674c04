using ChatStore.Tenants;
using ChatStore.Tests.Export;

namespace ChatStore.Tests.Retention;

public sealed class RetentionStoreTests
{
    /// <summary>Conversations of a user with <paramref name="messages"/> messages each, last active <paramref name="daysAgo"/> days ago; returns their ids.</summary>
    static async Task<List<Guid>> ConversationsAsync(Guid tenantId, Guid userId, int count, int messages, int daysAgo, int? deletedDaysAgo = null)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7()).ToArray();
        await Probe.ExecAsync("""
            INSERT INTO conversations (id, tenant_id, user_id, last_seq, message_count, last_activity_at, deleted_at)
            SELECT id, $2, $3, $4, $4, now() - make_interval(days => $5), now() - make_interval(days => $6::int) FROM unnest($1::uuid[]) id
            """, ids, tenantId, userId, messages, daysAgo, deletedDaysAgo);
        await Probe.ExecAsync("""
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
            SELECT gen_random_uuid(), $2, c, $3, s, 'user', 'hello 👋 ' || s FROM unnest($1::uuid[]) c, generate_series(1, $4) s
            """, ids, tenantId, userId, messages);
        return [.. ids];
    }

    static Task<long> CountAsync(string table, Guid tenantId, string where = "true") =>
        TestStore.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE tenant_id = $1 AND {where}", tenantId);

    [Fact]
    public async Task Inactive_conversations_are_deleted_whole_in_bounded_batches_and_recent_ones_kept()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        await client.Tenants.UpdateAsync(tenant.Id, new TenantUpdate { RetentionInactiveDays = 30 });
        var user = await TestStore.NewUserAsync(scope);
        var old = await ConversationsAsync(tenant.Id, user.Id, 25, 2, daysAgo: 40);
        old.AddRange(await ConversationsAsync(tenant.Id, user.Id, 1, 2, daysAgo: 35, deletedDaysAgo: 1));
        var recent = await ConversationsAsync(tenant.Id, user.Id, 5, 2, daysAgo: 10);
        var message = await TestStore.ScalarAsync<Guid>("SELECT id FROM messages WHERE conversation_id = $1 AND seq = 1", old[0]);
        await Probe.ExecAsync("INSERT INTO message_feedback (id, tenant_id, message_id, user_id, rating) VALUES ($1, $2, $3, $4, 'like')", Guid.CreateVersion7(), tenant.Id, message, user.Id);
        await Probe.ExecAsync("INSERT INTO usage_events (id, tenant_id, user_id, conversation_id, message_id, action) VALUES ($1, $2, $3, $4, $5, 'chat')", Guid.CreateVersion7(), tenant.Id, user.Id, old[0], message);
        await Probe.ExecAsync("INSERT INTO documents (id, tenant_id, user_id, conversation_id, filename) VALUES ($1, $2, $3, $4, 'kept.pdf')", Guid.CreateVersion7(), tenant.Id, user.Id, old[0]);
        // Another tenant with old conversations and no policy: untouched.
        var (_, otherScope, other) = await TestStore.NewTenantAsync();
        await ConversationsAsync(other.Id, (await TestStore.NewUserAsync(otherScope)).Id, 3, 2, daysAgo: 400);

        var result = await scope.Retention.PurgeAsync(batchSize: 4);

        Assert.Equal(26L, result.Deleted["conversations"]);
        Assert.Equal(52L, result.Deleted["messages"]);
        Assert.Equal(1L, result.Deleted["message_feedback"]);
        // A conversation and its two messages are three rows: two conversations would exceed 4, so one per transaction.
        Assert.Equal(26, result.Batches);
        Assert.NotNull(result.InactiveBefore);
        Assert.Null(result.DeletedBefore);
        Assert.Equal(5L, await CountAsync("conversations", tenant.Id));
        Assert.Equal(10L, await CountAsync("messages", tenant.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE id = ANY ($1)", old.ToArray()));
        Assert.Equal(5L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM conversations WHERE id = ANY ($1)", recent.ToArray()));
        // Rows that only pointed at a purged conversation stay, the pointer cleared.
        Assert.Equal(1L, await CountAsync("usage_events", tenant.Id, "conversation_id IS NULL AND message_id IS NULL"));
        Assert.Equal(1L, await CountAsync("documents", tenant.Id, "conversation_id IS NULL"));
        Assert.Equal(3L, await CountAsync("conversations", other.Id));
        Assert.Equal(6L, await CountAsync("messages", other.Id));

        var again = await scope.Retention.PurgeAsync(batchSize: 4);
        Assert.Empty(again.Deleted);
        Assert.Equal(0, again.Batches);
    }

    [Fact]
    public async Task A_batch_takes_several_small_conversations_up_to_the_batch_size()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        await client.Tenants.UpdateAsync(tenant.Id, new TenantUpdate { RetentionInactiveDays = 30 });
        var user = await TestStore.NewUserAsync(scope);
        await ConversationsAsync(tenant.Id, user.Id, 10, 1, daysAgo: 40);
        // One conversation bigger than a batch still goes, whole, on its own.
        await ConversationsAsync(tenant.Id, user.Id, 1, 30, daysAgo: 50);

        var result = await scope.Retention.PurgeAsync(batchSize: 7);

        Assert.Equal(11L, result.Deleted["conversations"]);
        Assert.Equal(40L, result.Deleted["messages"]);
        // The big one alone, then 3 + 3 + 3 + 1 of the small ones (two rows each, six rows fit in seven).
        Assert.Equal(5, result.Batches);
    }

    [Fact]
    public async Task Rows_soft_deleted_before_the_purge_period_are_purged_with_what_hangs_off_them_and_newer_ones_kept()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        await client.Tenants.UpdateAsync(tenant.Id, new TenantUpdate { RetentionPurgeDeletedDays = 7 });
        var t = tenant.Id;
        var user = await TestStore.NewUserAsync(scope);
        var subject = Guid.CreateVersion7();
        await Probe.ExecAsync("INSERT INTO subjects (id, tenant_id, user_id, kind, name, deleted_at) VALUES ($1, $2, $3, 'dog', 'Rex', now() - interval '10 days')", subject, t, user.Id);
        var live = (await ConversationsAsync(t, user.Id, 1, 6, daysAgo: 0))[0];
        await Probe.ExecAsync("UPDATE conversations SET subject_id = $1 WHERE id = $2", subject, live);
        await Probe.ExecAsync("UPDATE messages SET deleted_at = now() - interval '10 days' WHERE conversation_id = $1 AND seq <= 3", live);
        await Probe.ExecAsync("UPDATE messages SET deleted_at = now() - interval '2 days' WHERE conversation_id = $1 AND seq = 4", live);
        var gone = (await ConversationsAsync(t, user.Id, 1, 3, daysAgo: 20, deletedDaysAgo: 10))[0];
        await Probe.ExecAsync("""
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash, deleted_at)
            SELECT gen_random_uuid(), $1, $2, 'memory ' || n, sha256(n::text::bytea), CASE WHEN n <= 2 THEN now() - interval '10 days' WHEN n = 3 THEN now() - interval '2 days' END
              FROM generate_series(1, 4) n
            """, t, user.Id);
        var document = Guid.CreateVersion7();
        await Probe.ExecAsync("INSERT INTO documents (id, tenant_id, user_id, filename, deleted_at) VALUES ($1, $2, $3, 'old.pdf', now() - interval '8 days')", document, t, user.Id);
        await Probe.ExecAsync("INSERT INTO document_analyses (id, tenant_id, document_id, version, summary) VALUES ($1, $2, $3, 1, 'x')", Guid.CreateVersion7(), t, document);
        var liveMessage = await TestStore.ScalarAsync<Guid>("SELECT id FROM messages WHERE conversation_id = $1 AND seq = 6", live);
        await Probe.ExecAsync("INSERT INTO message_documents (tenant_id, message_id, document_id) VALUES ($1, $2, $3)", t, liveMessage, document);

        // A user deleted long ago goes with all their data; one deleted recently stays.
        var departed = await TestStore.NewUserAsync(scope);
        await ConversationsAsync(t, departed.Id, 1, 2, daysAgo: 30);
        await Probe.ExecAsync("INSERT INTO memories (id, tenant_id, user_id, content, content_hash) VALUES ($1, $2, $3, 'theirs', '\\x01')", Guid.CreateVersion7(), t, departed.Id);
        await Probe.ExecAsync("INSERT INTO search_history (id, tenant_id, user_id, query) VALUES ($1, $2, $3, 'q')", Guid.CreateVersion7(), t, departed.Id);
        await Probe.ExecAsync("INSERT INTO sessions (id, tenant_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, now() + interval '1 day')", Guid.CreateVersion7(), t, departed.Id, Guid.NewGuid().ToByteArray());
        await scope.Users.DeleteAsync(departed.Id);
        await Probe.ExecAsync("UPDATE users SET deleted_at = now() - interval '30 days' WHERE id = $1", departed.Id);
        var leaving = await TestStore.NewUserAsync(scope);
        await scope.Users.DeleteAsync(leaving.Id);

        var result = await scope.Retention.PurgeAsync(batchSize: 2);

        Assert.Equal(new Dictionary<string, long>
        {
            ["conversations"] = 2, ["messages"] = 3 + 3 + 2, ["memories"] = 2 + 1, ["documents"] = 1, ["document_analyses"] = 1,
            ["message_documents"] = 1, ["subjects"] = 1, ["users"] = 1, ["search_history"] = 1, ["sessions"] = 1,
        }.OrderBy(kv => kv.Key), result.Deleted.OrderBy(kv => kv.Key));
        Assert.NotNull(result.DeletedBefore);
        Assert.Equal(3L, await CountAsync("messages", t, $"conversation_id = '{live}'"));
        Assert.Equal(1L, await CountAsync("messages", t, "deleted_at IS NOT NULL"));
        Assert.Equal(2L, await CountAsync("memories", t));
        Assert.Equal(0L, await CountAsync("conversations", t, $"id = '{gone}'"));
        Assert.Equal(1L, await CountAsync("conversations", t, $"id = '{live}' AND subject_id IS NULL"));
        Assert.Equal(0L, await CountAsync("users", t, $"id = '{departed.Id}'"));
        Assert.Equal(1L, await CountAsync("users", t, $"id = '{leaving.Id}'"));
        Assert.All(await Probe.RowsConnectedToAsync(departed.Id, [departed.Id]), kv => Assert.Equal(0L, kv.Value));
    }

    [Fact]
    public async Task Without_a_policy_nothing_is_deleted()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await ConversationsAsync(tenant.Id, user.Id, 3, 2, daysAgo: 1000, deletedDaysAgo: 900);
        var before = await Probe.TenantRowsAsync(tenant.Id);

        var result = await scope.Retention.PurgeAsync(batchSize: 1);

        Assert.Empty(result.Deleted);
        Assert.Equal((0, (DateTimeOffset?)null, (DateTimeOffset?)null), (result.Batches, result.InactiveBefore, result.DeletedBefore));
        Assert.Equal(before, await Probe.TenantRowsAsync(tenant.Id));
    }

    [Fact]
    public async Task The_periods_count_back_from_the_given_time()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        await client.Tenants.UpdateAsync(tenant.Id, new TenantUpdate { RetentionInactiveDays = 30 });
        var user = await TestStore.NewUserAsync(scope);
        await ConversationsAsync(tenant.Id, user.Id, 2, 1, daysAgo: 10);

        Assert.Empty((await scope.Retention.PurgeAsync()).Deleted);
        var now = DateTimeOffset.UtcNow.AddDays(25).ToOffset(TimeSpan.FromHours(2));
        var result = await scope.Retention.PurgeAsync(now: now);

        Assert.Equal(2L, result.Deleted["conversations"]);
        Assert.Equal(now.AddDays(-30).UtcDateTime, result.InactiveBefore!.Value.UtcDateTime, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_batch_size_below_one_is_rejected()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Retention.PurgeAsync(batchSize: 0));
        Assert.Equal(("batchSize", "range"), (error.Field, error.Rule));
    }
}
