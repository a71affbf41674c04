using ChatStore.Tenancy;

namespace ChatStore;

public sealed partial class TenantScope
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction of this tenant: every call it makes on this tenant's
    /// stores (through the scope it is given, or any scope of the same client and tenant) joins the
    /// transaction, and all of it commits when <paramref name="work"/> returns, or none of it when it throws
    /// or is cancelled. Calls run one at a time (one connection): do not start them in parallel inside.
    /// Called inside another transaction of the same tenant, it is a savepoint of that one: its work is
    /// undone alone if it throws, and commits with the outer transaction.
    /// </summary>
    /// <example>
    /// <code>
    /// await scope.TransactionAsync(async (tx, ct) =>
    /// {
    ///     var c = await tx.Conversations.CreateAsync(new NewConversation { UserId = user }, ct);
    ///     await tx.Messages.AppendAsync(c.Id, new NewMessage { Role = "user", Content = "hello" }, ct);
    /// }, cancellationToken);
    /// </code>
    /// </example>
    public async Task<T> TransactionAsync<T>(Func<TenantScope, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        using var op = Telemetry.Start("transaction");
        if (AmbientTransaction.Find(Context, TenantId, operatorMode: false) is not null)
        {
            await using var nested = await BeginAsync(cancellationToken).ConfigureAwait(false);
            var inner = await work(this, cancellationToken).ConfigureAwait(false);
            await nested.CommitAsync(cancellationToken).ConfigureAwait(false);
            return inner;
        }
        await using var tx = await AmbientTransaction.BeginAsync(Context, TenantId, idleTimeout: null, cancellationToken).ConfigureAwait(false);
        tx.Enter();
        var result = await work(this, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Runs <paramref name="work"/> in one transaction of this tenant (see <see cref="TransactionAsync{T}"/>).</summary>
    public Task TransactionAsync(Func<TenantScope, CancellationToken, Task> work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return TransactionAsync<bool>(async (scope, ct) =>
        {
            await work(scope, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }
}
