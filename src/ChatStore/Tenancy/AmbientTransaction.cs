using Npgsql;

namespace ChatStore.Tenancy;

/// <summary>
/// One transaction of one tenant that every store call of the same tenant joins while it is open
/// (an <see cref="AsyncLocal{T}"/>, so it follows the awaits of the code that opened it and nothing
/// else). <see cref="TenantCommand.CreateAsync"/> runs its batch on this connection and
/// <see cref="TenantTransaction.BeginAsync"/> opens a savepoint in it instead of a transaction of its
/// own, so several operations commit together or not at all. Each joined statement runs after a
/// savepoint: a statement that fails is rolled back alone, and a store that catches its error (a
/// unique violation it retries, say) can go on as it would outside.
/// </summary>
internal sealed class AmbientTransaction : IAsyncDisposable
{
    internal const string SavepointSql = "SAVEPOINT chatstore_statement";
    const string RollbackStatementSql = "ROLLBACK TO SAVEPOINT chatstore_statement";

    static readonly AsyncLocal<AmbientTransaction?> CurrentSlot = new();

    readonly AmbientTransaction? _outer;
    bool _entered;
    bool _done;

    AmbientTransaction(StoreContext store, Guid tenantId, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Store = store;
        TenantId = tenantId;
        Connection = connection;
        Transaction = transaction;
        _outer = CurrentSlot.Value;
    }

    public StoreContext Store { get; }

    public Guid TenantId { get; }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    /// <summary>The open transaction that a call of <paramref name="tenantId"/> on <paramref name="store"/> joins, if any.</summary>
    internal static AmbientTransaction? Find(StoreContext store, Guid? tenantId, bool operatorMode)
    {
        var ambient = CurrentSlot.Value;
        // A transaction that ended stays in the slot of the awaits that saw it; the one it was opened inside is the current one.
        while (ambient is { _done: true })
            ambient = ambient._outer;
        return !operatorMode && ambient is not null && ReferenceEquals(ambient.Store, store) && ambient.TenantId == tenantId ? ambient : null;
    }

    /// <summary>
    /// Opens the connection and the transaction with the tenant set. <paramref name="idleTimeout"/> bounds how
    /// long the transaction may sit idle (PostgreSQL ends the session and rolls it back), so a transaction whose
    /// caller died without closing it (a lost network, a frozen process) releases its locks in bounded time.
    /// Call <see cref="Enter"/> from the method whose awaits should see it.
    /// </summary>
    internal static async Task<AmbientTransaction> BeginAsync(StoreContext store, Guid tenantId, TimeSpan? idleTimeout, CancellationToken cancellationToken)
    {
        var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var scope = new NpgsqlBatch(connection, transaction))
            {
                TenantCommand.AddScope(scope, store, tenantId);
                // SET takes no parameters: the timeout is a whole number of milliseconds formatted here.
                if (idleTimeout is TimeSpan idle)
                    scope.BatchCommands.Add(new NpgsqlBatchCommand(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"SET LOCAL idle_in_transaction_session_timeout = {Math.Max(1, (long)idle.TotalMilliseconds)}")));
                await scope.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            return new AmbientTransaction(store, tenantId, connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Makes this the transaction that calls of its tenant join, in the calling method and what it awaits,
    /// until <see cref="DisposeAsync"/>. Not async on purpose: an <see cref="AsyncLocal{T}"/> set inside an
    /// async method does not flow back to its caller.
    /// </summary>
    internal void Enter()
    {
        CurrentSlot.Value = this;
        _entered = true;
    }

    /// <summary>Undoes the statement that just failed, keeping the rest of the transaction.</summary>
    internal async Task RollbackStatementAsync()
    {
        await using var rollback = new NpgsqlCommand(RollbackStatementSql, Connection, Transaction);
        await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>A named savepoint for a nested transaction; see <see cref="TenantTransaction.BeginAsync"/>.</summary>
    internal async Task<string> SavepointAsync(CancellationToken cancellationToken)
    {
        var name = $"chatstore_nested_{Interlocked.Increment(ref _savepoints)}";
        await Transaction.SaveAsync(name, cancellationToken).ConfigureAwait(false);
        return name;
    }

    int _savepoints;

    /// <summary>Commits everything done in the transaction.</summary>
    internal async Task CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        await Transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Rolls back unless committed, closes the connection and stops being the ambient transaction.</summary>
    public async ValueTask DisposeAsync()
    {
        _done = true;
        if (_entered && CurrentSlot.Value == this)
            CurrentSlot.Value = _outer;
        try
        {
            await Transaction.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
