using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Tenancy;

/// <summary>
/// One statement run as a tenant in a single round trip: an <see cref="NpgsqlBatch"/> whose first
/// command sets the application role and <c>chatstore.tenant_id</c> transaction-locally, and whose
/// second command is the statement. The batch runs as one implicit transaction, so row-level
/// security sees the tenant and the settings vanish when it ends.
/// </summary>
internal sealed class TenantCommand : IAsyncDisposable
{
    // set_config(..., true) is transaction-local; the batch is one implicit transaction. $1 is the
    // application role, $2 the tenant id (a uuid, or null for none).
    // chatstore.operator = 'on' lets operator calls see every tenants row (and nothing else).
    const string ScopePrefix = "SELECT set_config('role', $1, true), set_config('chatstore.tenant_id', coalesce($2::text, ''), true), ";

    internal const string ScopeSql = ScopePrefix + "set_config('chatstore.operator', '', true)";

    const string OperatorScopeSql = ScopePrefix + "set_config('chatstore.operator', 'on', true)";

    internal static string Scope(bool operatorMode) => operatorMode ? OperatorScopeSql : ScopeSql;

    /// <summary>Adds the parameters of <see cref="ScopeSql"/> (and of the operator scope).</summary>
    internal static void AddScope(NpgsqlParameterCollection parameters, StoreContext store, Guid? tenantId)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = store.RoleSetting });
        parameters.Add(tenantId is Guid id ? new NpgsqlParameter<Guid> { TypedValue = id } : new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
    }

    readonly NpgsqlConnection _connection;
    readonly NpgsqlBatch _batch;
    readonly NpgsqlBatchCommand _statement;
    readonly AmbientTransaction? _ambient;
    bool _rolledBack;

    TenantCommand(NpgsqlConnection connection, NpgsqlBatch batch, NpgsqlBatchCommand statement, AmbientTransaction? ambient = null)
    {
        _connection = connection;
        _batch = batch;
        _statement = statement;
        _ambient = ambient;
    }

    /// <summary>
    /// Opens a connection and prepares the batch. <paramref name="scopeSql"/> replaces the scope statement
    /// with one that sets more than the tenant: <see cref="ScopeSql"/>'s two parameters come first, and the
    /// caller adds the rest to <see cref="ScopeParameters"/>.
    /// </summary>
    internal static async ValueTask<TenantCommand> CreateAsync(StoreContext store, Guid? tenantId, string sql, CancellationToken cancellationToken,
        bool operatorMode = false, string? scopeSql = null)
    {
        if (AmbientTransaction.Find(store, tenantId, operatorMode) is { } ambient)
        {
            // Inside an open transaction of this tenant (see AmbientTransaction): its connection, after a savepoint.
            var joinedScope = new NpgsqlBatchCommand(scopeSql ?? Scope(operatorMode));
            AddScope(joinedScope.Parameters, store, tenantId);
            var joined = new NpgsqlBatchCommand(store.Sql(sql));
            return new TenantCommand(ambient.Connection, ambient.Batch(joinedScope, joined), joined, ambient);
        }
        var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var batch = new NpgsqlBatch(connection);
        var scope = new NpgsqlBatchCommand(scopeSql ?? Scope(operatorMode));
        AddScope(scope.Parameters, store, tenantId);
        batch.BatchCommands.Add(scope);
        var statement = new NpgsqlBatchCommand(store.Sql(sql));
        batch.BatchCommands.Add(statement);
        return new TenantCommand(connection, batch, statement);
    }

    /// <summary>The scope statement's parameters ($1 role and $2 tenant are set).</summary>
    public NpgsqlParameterCollection ScopeParameters => _batch.BatchCommands[0].Parameters;

    // In an ambient transaction a failed statement is rolled back to its savepoint, so the transaction goes on.
    async Task RollBackStatementAsync()
    {
        if (_ambient is null || _rolledBack) return;
        _rolledBack = true;
        await _ambient.RollbackStatementAsync().ConfigureAwait(false);
    }

    /// <summary>The statement's positional parameters ($1, $2, …).</summary>
    public NpgsqlParameterCollection Parameters => _statement.Parameters;

    /// <summary>Adds the next positional parameter.</summary>
    public TenantCommand Add<T>(T value)
    {
        _statement.Parameters.Add(Parameter(value));
        return this;
    }

    /// <summary>Adds the next positional parameter with an explicit type (jsonb, for instance).</summary>
    public TenantCommand Add<T>(T value, NpgsqlDbType type)
    {
        var p = Parameter(value);
        p.NpgsqlDbType = type;
        _statement.Parameters.Add(p);
        return this;
    }

    static NpgsqlParameter Parameter<T>(T value) =>
        value is null ? new NpgsqlParameter { Value = DBNull.Value } : new NpgsqlParameter<T> { TypedValue = value };

    /// <summary>Runs the batch and returns a reader positioned on the statement's result.</summary>
    public async Task<NpgsqlDataReader> ExecuteReaderAsync(CancellationToken cancellationToken)
    {
        NpgsqlDataReader? reader = null;
        try
        {
            reader = await _batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            // On to the statement's result; a joined batch's savepoint has none, so the reader passes it.
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            return reader;
        }
        catch (PostgresException) when (_ambient is not null)
        {
            if (reader is not null) await reader.DisposeAsync().ConfigureAwait(false);
            await RollBackStatementAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs the batch; returns the rows the statement affected.</summary>
    public async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException) when (_ambient is not null)
        {
            await RollBackStatementAsync().ConfigureAwait(false);
            throw;
        }
        return _statement.RecordsAffected;
    }

    /// <summary>Runs the batch; maps the first row of the statement's result, or returns default when there is none.</summary>
    public async Task<T?> ReadSingleAsync<T>(Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? map(reader) : default;
        }
        catch (PostgresException) when (_ambient is not null)
        {
            await RollBackStatementAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs the batch; maps every row of the statement's result.</summary>
    public async Task<List<T>> ReadListAsync<T>(Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = await ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                list.Add(map(reader));
            return list;
        }
        catch (PostgresException) when (_ambient is not null)
        {
            await RollBackStatementAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _batch.DisposeAsync().ConfigureAwait(false);
        // A joined command borrows the ambient transaction's connection.
        if (_ambient is null)
            await _connection.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// A transaction run as a tenant, for operations that need several statements with logic between
/// them. The tenant setting travels with the transaction's first statement.
/// </summary>
internal sealed class TenantTransaction : IAsyncDisposable
{
    readonly StoreContext _store;
    // Set when this transaction is a savepoint inside an ambient transaction (see AmbientTransaction).
    readonly string? _savepoint;
    bool _released;

    TenantTransaction(StoreContext store, NpgsqlConnection connection, NpgsqlTransaction transaction, string? savepoint = null)
    {
        _store = store;
        Connection = connection;
        Transaction = transaction;
        _savepoint = savepoint;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    internal static async ValueTask<TenantTransaction> BeginAsync(StoreContext store, Guid? tenantId, CancellationToken cancellationToken,
        bool operatorMode = false)
    {
        if (AmbientTransaction.Find(store, tenantId, operatorMode) is { } ambient)
            return new TenantTransaction(store, ambient.Connection, ambient.Transaction, await ambient.SavepointAsync(cancellationToken).ConfigureAwait(false));
        var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var scope = new NpgsqlCommand(TenantCommand.Scope(operatorMode), connection, transaction))
            {
                TenantCommand.AddScope(scope.Parameters, store, tenantId);
                await scope.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            return new TenantTransaction(store, connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A command in this transaction; add positional parameters with Add.</summary>
    public NpgsqlCommand Command(string sql) => new(_store.Sql(sql), Connection, Transaction);

    /// <summary>Commits; inside an ambient transaction, keeps the work for the ambient transaction's commit.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_savepoint is null)
        {
            await Transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        await Transaction.ReleaseAsync(_savepoint, cancellationToken).ConfigureAwait(false);
        _released = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_savepoint is not null)
        {
            // Nested: undo this part only, and leave the ambient transaction and its connection open.
            if (!_released && Connection.State == System.Data.ConnectionState.Open)
                await Transaction.RollbackAsync(_savepoint, CancellationToken.None).ConfigureAwait(false);
            return;
        }
        await Transaction.DisposeAsync().ConfigureAwait(false);
        await Connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Adds the next positional parameter to <paramref name="command"/>.</summary>
    public static NpgsqlCommand Add<T>(NpgsqlCommand command, T value, NpgsqlDbType? type = null)
    {
        NpgsqlParameter p = value is null ? new NpgsqlParameter { Value = DBNull.Value } : new NpgsqlParameter<T> { TypedValue = value };
        if (type is NpgsqlDbType t) p.NpgsqlDbType = t;
        command.Parameters.Add(p);
        return command;
    }
}
