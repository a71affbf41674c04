using ChatStore.Conversations;
using ChatStore.Messages;
using ChatStore.Reminders;
using ChatStore.Users;

namespace ChatStore.Tests.Tenancy;

/// <summary><c>scope.TransactionAsync</c>: several store operations commit together, or none of them does.</summary>
public sealed class TransactionTests
{
    static async Task<long> CountAsync(string table, Guid tenant) =>
        await TestStore.ScalarAsync<long>($"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant);

    [Fact]
    public async Task Operations_in_a_transaction_commit_together()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await scope.TransactionAsync(async (tx, ct) =>
        {
            var c = await tx.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "together" }, ct);
            await tx.Messages.AppendAsync(c.Id, new NewMessage { Role = "user", Content = "one" }, ct);
            await tx.Messages.AppendAsync(c.Id, new NewMessage { Role = "assistant", Content = "two" }, ct);
            // Reads inside see the transaction's own writes.
            Assert.Equal(2, (await tx.Conversations.GetAsync(c.Id, cancellationToken: ct)).MessageCount);
            return c;
        });
        Assert.Equal(2, (await scope.Conversations.GetAsync(conversation.Id)).MessageCount);
        Assert.Equal(2L, await CountAsync("messages", tenant.Id));
    }

    [Fact]
    public async Task A_failure_in_the_middle_leaves_nothing_behind_including_a_nested_transaction_that_committed()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => scope.TransactionAsync(async (tx, ct) =>
        {
            var c = await tx.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "doomed" }, ct);
            await tx.Messages.AppendAsync(c.Id, new NewMessage { Role = "user", Content = "one" }, ct);
            var r = await tx.Reminders.CreateAsync(new NewReminder { UserId = user.Id, Title = "r", DueAt = DateTimeOffset.UtcNow.AddDays(1) }, ct);
            // UpdateAsync runs a transaction of its own: inside, it is a savepoint and its commit is not the outer one's.
            await tx.Reminders.UpdateAsync(r.Id, new ReminderUpdate { Title = "updated" }, ct);
            throw new InvalidOperationException("the caller failed after four writes");
        }));
        Assert.Equal("the caller failed after four writes", failure.Message);
        Assert.Equal(0L, await CountAsync("conversations", tenant.Id));
        Assert.Equal(0L, await CountAsync("messages", tenant.Id));
        Assert.Equal(0L, await CountAsync("reminders", tenant.Id));
    }

    [Fact]
    public async Task A_cancelled_transaction_leaves_nothing_behind()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        using var cancel = new CancellationTokenSource();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => scope.TransactionAsync(async (tx, ct) =>
        {
            await tx.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "cancelled" }, ct);
            cancel.Cancel();
        }, cancel.Token));
        Assert.Equal(0L, await CountAsync("conversations", tenant.Id));
    }

    [Fact]
    public async Task A_statement_that_fails_and_is_handled_does_not_spoil_the_rest_of_the_transaction()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await scope.TransactionAsync(async (tx, ct) =>
        {
            // A unique violation in PostgreSQL, reported as a conflict; the transaction goes on.
            await Assert.ThrowsAsync<ChatStoreConflictException>(() => tx.Users.CreateAsync(new NewUser { Email = user.Email }, ct));
            await tx.Conversations.CreateAsync(new NewConversation { UserId = user.Id, Title = "still here" }, ct);
        });
        Assert.Equal(1L, await CountAsync("conversations", tenant.Id));
        Assert.Equal(1L, await CountAsync("users", tenant.Id));
    }

    [Fact]
    public async Task Another_tenant_inside_a_transaction_runs_on_its_own_and_is_not_rolled_back_with_it()
    {
        var (client, scope, tenant) = await TestStore.NewTenantAsync();
        var (_, other, otherTenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var otherUser = await TestStore.NewUserAsync(other);
        await Assert.ThrowsAsync<InvalidOperationException>(() => scope.TransactionAsync(async (tx, ct) =>
        {
            await tx.Conversations.CreateAsync(new NewConversation { UserId = user.Id }, ct);
            await client.ForTenant(otherTenant.Id).Conversations.CreateAsync(new NewConversation { UserId = otherUser.Id }, ct);
            throw new InvalidOperationException("fail");
        }));
        Assert.Equal(0L, await CountAsync("conversations", tenant.Id));
        Assert.Equal(1L, await CountAsync("conversations", otherTenant.Id));
    }
}
