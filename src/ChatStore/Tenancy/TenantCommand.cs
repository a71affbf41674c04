using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Tenancy;

/// <summary>
/// One statement run as a tenant in a single round trip: an <see cref="NpgsqlBatch"/> of <c>BEGIN</c>, the
/// scope (<c>SET LOCAL ROLE</c> the application role, <c>SET LOCAL chatstore.tenant_id</c>, and any setting the
/// statement needs), the statement, and <c>COMMIT</c>. The settings are transaction-local, so they vanish when
/// the transaction ends, which keeps a pooled connection (or PgBouncer in transaction mode) clean; and they are
/// <c>SET LOCAL</c> commands rather than <c>set_config</c> calls, which Citus (with
/// <c>citus.propagate_set_commands = 'local'</c>) sends on to the workers that run the statement.
/// </summary>
internal sealed class TenantCommand : IAsyncDisposable
{
    internal const string Begin = "BEGIN";

    internal const string Commit = "COMMIT";

    // chatstore.operator = 'on' lets operator calls see every tenants row (and nothing else).
    const string OperatorOn = "SET LOCAL chatstore.operator = 'on'";

    const string NoTenant = "SET LOCAL chatstore.tenant_id = ''";

    /// <summary>
    /// The scope's commands: the role, the tenant, and operator mode when asked for. SET takes no parameters, so
    /// the tenant is a literal; a <see cref="Guid"/> formats as hex digits and dashes only.
    /// </summary>
    internal static void AddScope(NpgsqlBatch batch, StoreContext store, Guid? tenantId, bool operatorMode = false)
    {
        var commands = batch.BatchCommands;
        commands.Add(new NpgsqlBatchCommand(store.SetRoleSql));
        commands.Add(new NpgsqlBatchCommand(TenantSql(tenantId)));
        if (operatorMode)
            commands.Add(new NpgsqlBatchCommand(OperatorOn));
    }

    /// <summary>The tenant as the first parameter of a statement that names it (see <see cref="StoreContext.Sql"/>).</summary>
    internal static NpgsqlParameter<Guid> TenantParameter(Guid? tenantId) => new()
    {
        TypedValue = tenantId ?? throw new InvalidOperationException("A statement that names its tenant was run without one."),
    };

    /// <summary>The <c>SET LOCAL</c> of <c>chatstore.tenant_id</c> (empty for none).</summary>
    internal static string TenantSql(Guid? tenantId) =>
        tenantId is Guid id ? $"SET LOCAL chatstore.tenant_id = '{id:D}'" : NoTenant;

    readonly NpgsqlConnection _connection;
    readonly NpgsqlBatch _batch;
    readonly NpgsqlBatchCommand _statement;
    readonly int _selectsBefore;
    readonly AmbientTransaction? _ambient;
    bool _rolledBack;

    TenantCommand(NpgsqlConnection connection, NpgsqlBatch batch, NpgsqlBatchCommand statement, int selectsBefore, AmbientTransaction? ambient = null)
    {
        _connection = connection;
        _batch = batch;
        _statement = statement;
        _selectsBefore = selectsBefore;
        _ambient = ambient;
    }

    /// <summary>
    /// Opens a connection and prepares the batch. <paramref name="settings"/> are more <c>SET LOCAL</c> commands
    /// (or statements whose result is discarded) run after the tenant scope and before the statement, so they
    /// shape its plan and its execution. Inside an open transaction of the same tenant (see
    /// <see cref="AmbientTransaction"/>) the batch runs on its connection, without BEGIN and COMMIT, after a savepoint.
    /// </summary>
    internal static async ValueTask<TenantCommand> CreateAsync(StoreContext store, Guid? tenantId, string sql, CancellationToken cancellationToken,
        bool operatorMode = false, IReadOnlyList<NpgsqlBatchCommand>? settings = null)
    {
        var ambient = AmbientTransaction.Find(store, tenantId, operatorMode);
        var connection = ambient?.Connection ?? await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var batch = ambient is null ? new NpgsqlBatch(connection) : new NpgsqlBatch(connection, ambient.Transaction);
        if (ambient is null)
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Begin));
        AddScope(batch, store, tenantId, operatorMode);
        var selects = 0;
        if (settings is not null)
            foreach (var setting in settings)
            {
                batch.BatchCommands.Add(setting);
                if (setting.CommandText.StartsWith("SELECT", StringComparison.Ordinal))
                    selects++;
            }
        if (ambient is not null)
            batch.BatchCommands.Add(new NpgsqlBatchCommand(AmbientTransaction.SavepointSql));
        var statement = new NpgsqlBatchCommand(store.Sql(sql));
        if (StoreContext.NamesTenant(sql))
            statement.Parameters.Add(TenantParameter(tenantId));
        batch.BatchCommands.Add(statement);
        if (ambient is null)
            batch.BatchCommands.Add(new NpgsqlBatchCommand(Commit));
        return new TenantCommand(connection, batch, statement, selects, ambient);
    }

    // In an ambient transaction a failed statement is rolled back to its savepoint, so the transaction goes on.
    async Task RollBackStatementAsync()
    {
        if (_ambient is null || _rolledBack) return;
        _rolledBack = true;
        await _ambient.RollbackStatementAsync().ConfigureAwait(false);
    }

    /// <summary>The statement's positional parameters ($1, $2, … as written; the tenant's comes first when it names one).</summary>
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
            // A reader passes over results without columns (BEGIN, SET, SAVEPOINT): it stands on the statement's,
            // unless a setting is a SELECT, whose result comes first.
            for (var i = 0; i < _selectsBefore; i++)
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
/// them. The tenant scope (see <see cref="TenantCommand.AddScope"/>) is set when it begins.
/// </summary>
internal sealed class TenantTransaction : IAsyncDisposable
{
    readonly StoreContext _store;
    readonly Guid? _tenantId;
    // Set when this transaction is a savepoint inside an ambient transaction (see AmbientTransaction).
    readonly string? _savepoint;
    bool _released;

    TenantTransaction(StoreContext store, Guid? tenantId, NpgsqlConnection connection, NpgsqlTransaction transaction, string? savepoint = null)
    {
        _store = store;
        _tenantId = tenantId;
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
            return new TenantTransaction(store, tenantId, ambient.Connection, ambient.Transaction, await ambient.SavepointAsync(cancellationToken).ConfigureAwait(false));
        var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var scope = new NpgsqlBatch(connection, transaction))
            {
                TenantCommand.AddScope(scope, store, tenantId, operatorMode);
                await scope.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            return new TenantTransaction(store, tenantId, connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A command in this transaction; add positional parameters with Add (the tenant's is there when the SQL names it).</summary>
    public NpgsqlCommand Command(string sql)
    {
        var command = new NpgsqlCommand(_store.Sql(sql), Connection, Transaction);
        if (StoreContext.NamesTenant(sql))
            command.Parameters.Add(TenantCommand.TenantParameter(_tenantId));
        return command;
    }

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
