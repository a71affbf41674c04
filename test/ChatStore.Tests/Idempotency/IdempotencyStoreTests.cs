using ChatStore.Connection;
using ChatStore.Conversations;
using ChatStore.Idempotency;
using ChatStore.Messages;
using Microsoft.Extensions.Time.Testing;

namespace ChatStore.Tests.Idempotency;

/// <summary>
/// <c>Idempotency.RunAsync</c>: the key, the write and the response commit in one transaction, so nothing is
/// ever half done: a key is either free or holds the response of a write that committed.
/// </summary>
public sealed class IdempotencyStoreTests
{
    static readonly byte[] Hash = [1, 2, 3];

    static IdempotentResponse Created(string body) => new(201, "application/json", System.Text.Encoding.UTF8.GetBytes(body));

    static async Task<(TenantScope Scope, Guid Tenant, Guid Conversation)> ConversationAsync(ChatStoreClient? client = null)
    {
        var (shared, _, tenant) = await TestStore.NewTenantAsync();
        var scope = (client ?? shared).ForTenant(tenant.Id);
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await scope.Conversations.CreateAsync(new NewConversation { UserId = user.Id });
        return (scope, tenant.Id, conversation.Id);
    }

    static Func<CancellationToken, Task<IdempotentResponse?>> Append(TenantScope scope, Guid conversation, string content) => async ct =>
    {
        var m = await scope.Messages.AppendAsync(conversation, new NewMessage { Role = "user", Content = content }, ct);
        return Created(m.Id.ToString());
    };

    static Task<long> MessagesAsync(Guid tenant) => TestStore.ScalarAsync<long>("SELECT count(*) FROM messages WHERE tenant_id = $1", tenant);

    static Task<long> KeysAsync(Guid tenant) => TestStore.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE tenant_id = $1", tenant);

    [Fact]
    public async Task The_first_run_commits_the_write_with_its_response_and_a_retry_replays_it_without_writing()
    {
        var (scope, tenant, conversation) = await ConversationAsync();
        var first = await scope.Idempotency.RunAsync("k1", Hash, Append(scope, conversation, "hello"));
        Assert.Equal(IdempotencyOutcome.Completed, first.Outcome);
        var retry = await scope.Idempotency.RunAsync("k1", Hash, Append(scope, conversation, "hello"));
        Assert.Equal(IdempotencyOutcome.Replay, retry.Outcome);
        Assert.Equal(first.Response!.Body, retry.Response!.Body);
        Assert.Equal((201, "application/json"), (retry.Response.StatusCode, retry.Response.ContentType));
        Assert.Equal(IdempotencyOutcome.Mismatch, (await scope.Idempotency.RunAsync("k1", [9], Append(scope, conversation, "other"))).Outcome);
        Assert.Equal(1L, await MessagesAsync(tenant));
        Assert.Equal(1L, await KeysAsync(tenant));
    }

    [Fact]
    public async Task Work_that_fails_leaves_neither_its_write_nor_the_key_and_a_retry_runs_once()
    {
        var (scope, tenant, conversation) = await ConversationAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => scope.Idempotency.RunAsync("k", Hash, async ct =>
        {
            await Append(scope, conversation, "half")(ct);
            throw new InvalidOperationException("crashed after the write");
        }));
        Assert.Equal((0L, 0L), (await MessagesAsync(tenant), await KeysAsync(tenant)));
        // A server error is not kept either: the write goes with it.
        var notStored = await scope.Idempotency.RunAsync("k", Hash, async ct =>
        {
            await Append(scope, conversation, "half")(ct);
            return null;
        });
        Assert.Equal(IdempotencyOutcome.NotStored, notStored.Outcome);
        Assert.Equal((0L, 0L), (await MessagesAsync(tenant), await KeysAsync(tenant)));
        Assert.Equal(IdempotencyOutcome.Completed, (await scope.Idempotency.RunAsync("k", Hash, Append(scope, conversation, "whole"))).Outcome);
        Assert.Equal((1L, 1L), (await MessagesAsync(tenant), await KeysAsync(tenant)));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT message_count::bigint FROM conversations WHERE tenant_id = $1", tenant));
    }

    [Fact]
    public async Task A_connection_killed_mid_request_releases_the_key_at_once()
    {
        await TestStore.ClientAsync();
        // A client of its own, named, so that the test finds its session and no other test's.
        var name = $"killed-{Guid.NewGuid():N}";
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(TestStore.ConnectionString) { ApplicationName = name }.ConnectionString;
        await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = connection });
        var (scope, tenant, conversation) = await ConversationAsync(client);
        await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => scope.Idempotency.RunAsync("k", Hash, async ct =>
        {
            await Append(scope, conversation, "lost")(ct);
            // The server ends this very session, as a crash of the service or a restart of PostgreSQL would.
            Assert.Equal(1, await TestStore.ScalarAsync<int>("""
                SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle in transaction'
                """, name));
            return Created("never");
        }));
        Assert.Equal((0L, 0L), (await MessagesAsync(tenant), await KeysAsync(tenant)));
        Assert.Equal(IdempotencyOutcome.Completed, (await scope.Idempotency.RunAsync("k", Hash, Append(scope, conversation, "again"))).Outcome);
        Assert.Equal(1L, await MessagesAsync(tenant));
    }

    // A first request with key "k" that has written and waits, its transaction open, until release is set.
    static async Task<(Task<IdempotencyResult> First, TaskCompletionSource Release)> HoldKeyAsync(TenantScope scope, Guid conversation)
    {
        var wrote = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Task.Run(() => scope.Idempotency.RunAsync("k", Hash, async ct =>
        {
            var response = await Append(scope, conversation, "first")(ct);
            wrote.SetResult();
            await release.Task;
            return response;
        }));
        await wrote.Task;
        return (first, release);
    }

    [Fact]
    public async Task A_second_request_with_the_key_while_the_first_runs_is_in_progress_and_replays_once_it_committed()
    {
        var (scope, tenant, conversation) = await ConversationAsync();
        var (first, release) = await HoldKeyAsync(scope, conversation);
        var options = new IdempotencyOptions { ClaimWait = TimeSpan.FromMilliseconds(100) };
        var during = await scope.Idempotency.RunAsync("k", Hash, Append(scope, conversation, "second"), options);
        Assert.Equal(IdempotencyOutcome.InProgress, during.Outcome);
        release.SetResult();
        var completed = await first;
        Assert.Equal(IdempotencyOutcome.Completed, completed.Outcome);
        var after = await scope.Idempotency.RunAsync("k", Hash, Append(scope, conversation, "third"), options);
        Assert.Equal(IdempotencyOutcome.Replay, after.Outcome);
        Assert.Equal(completed.Response!.Body, after.Response!.Body);
        Assert.Equal(1L, await MessagesAsync(tenant));
    }

    [Fact]
    public async Task A_waiting_request_gets_the_replay_when_the_first_commits_within_the_wait()
    {
        var (scope, tenant, conversation) = await ConversationAsync();
        var (first, release) = await HoldKeyAsync(scope, conversation);
        var second = Task.Run(() => scope.Idempotency.RunAsync("k", Hash, Append(scope, conversation, "second"),
            new IdempotencyOptions { ClaimWait = TimeSpan.FromMinutes(1) }));
        // The second waits on the first's key (a lock wait, visible in pg_locks) until the first commits.
        while (await TestStore.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'") == 0)
            await Task.Yield();
        release.SetResult();
        Assert.Equal(IdempotencyOutcome.Completed, (await first).Outcome);
        Assert.Equal(IdempotencyOutcome.Replay, (await second).Outcome);
        Assert.Equal(1L, await MessagesAsync(tenant));
    }

    [Fact]
    public async Task Keys_expire_after_their_lifetime_and_the_purge_deletes_expired_keys_in_batches()
    {
        await TestStore.ClientAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = TestStore.ConnectionString, TimeProvider = time });
        var (scope, tenant, conversation) = await ConversationAsync(client);
        var options = new IdempotencyOptions { Lifetime = TimeSpan.FromHours(24) };
        for (var i = 0; i < 5; i++)
            Assert.Equal(IdempotencyOutcome.Completed, (await scope.Idempotency.RunAsync($"old{i}", Hash, Append(scope, conversation, $"m{i}"), options)).Outcome);
        time.Advance(TimeSpan.FromHours(23));
        Assert.Equal(IdempotencyOutcome.Completed, (await scope.Idempotency.RunAsync("young", Hash, Append(scope, conversation, "young"), options)).Outcome);
        Assert.Equal(IdempotencyOutcome.Replay, (await scope.Idempotency.RunAsync("old0", Hash, Append(scope, conversation, "again"), options)).Outcome);
        time.Advance(TimeSpan.FromHours(2));
        // Past its lifetime a key is unused: the request runs again, even with another body.
        Assert.Equal(IdempotencyOutcome.Completed, (await scope.Idempotency.RunAsync("old0", [7], Append(scope, conversation, "new"), options)).Outcome);

        var before = time.GetUtcNow() - options.Lifetime;
        Assert.Equal(3, await scope.Idempotency.PurgeAsync(before, batchSize: 3));
        Assert.Equal(1, await scope.Idempotency.PurgeAsync(before, batchSize: 3));
        Assert.Equal(0, await scope.Idempotency.PurgeAsync(before, batchSize: 3));
        Assert.Equal(2L, await KeysAsync(tenant));
        Assert.Equal(7L, await MessagesAsync(tenant));
    }
}
