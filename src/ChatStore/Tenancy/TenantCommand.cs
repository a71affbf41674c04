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

    TenantCommand(NpgsqlConnection connection, NpgsqlBatch batch, NpgsqlBatchCommand statement)
    {
        _connection = connection;
        _batch = batch;
        _statement = statement;
    }

    /// <summary>
    /// Opens a connection and prepares the batch. <paramref name="scopeSql"/> replaces the scope statement
    /// with one that sets more than the tenant: <see cref="ScopeSql"/>'s two parameters come first, and the
    /// caller adds the rest to <see cref="ScopeParameters"/>.
    /// </summary>
    internal static async ValueTask<TenantCommand> CreateAsync(StoreContext store, Guid? tenantId, string sql, CancellationToken cancellationToken,
        bool operatorMode = false, string? scopeSql = null)
    {
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
        var reader = await _batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        return reader;
    }

    /// <summary>Runs the batch; returns the rows the statement affected.</summary>
    public async Task<int> ExecuteNonQueryAsync(CancellationToken cancellationToken)
    {
        await _batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return _statement.RecordsAffected;
    }

    /// <summary>Runs the batch; maps the first row of the statement's result, or returns default when there is none.</summary>
    public async Task<T?> ReadSingleAsync<T>(Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? map(reader) : default;
    }

    /// <summary>Runs the batch; maps every row of the statement's result.</summary>
    public async Task<List<T>> ReadListAsync<T>(Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            list.Add(map(reader));
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _batch.DisposeAsync().ConfigureAwait(false);
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

    TenantTransaction(StoreContext store, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _store = store;
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    internal static async ValueTask<TenantTransaction> BeginAsync(StoreContext store, Guid? tenantId, CancellationToken cancellationToken,
        bool operatorMode = false)
    {
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

    public Task CommitAsync(CancellationToken cancellationToken) => Transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
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
