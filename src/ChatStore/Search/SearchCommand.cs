using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Search;

/// <summary>
/// A search statement in one round trip: an <see cref="NpgsqlBatch"/> of the tenant scope
/// (<see cref="TenantCommand.ScopeSql"/>), the planner and pgvector settings for this query
/// (transaction-local <c>set_config</c>), and the statement. The settings run before the statement is
/// bound and planned, so they shape its plan and its scan (<c>hnsw.ef_search</c>, iterative scans).
/// Statements with full text are planned for each query (custom plans): the planner reads the query's
/// words to choose between the GIN index (rare words) and a btree (common ones). Vector-only statements
/// may reuse a generic plan: their shape fixes the plan, and planning costs as much as running them.
/// </summary>
internal sealed class SearchCommand : IAsyncDisposable
{
    const string SettingsSql = """
        SELECT set_config('plan_cache_mode', CASE WHEN $6 THEN 'force_custom_plan' ELSE 'auto' END, true), set_config('jit', 'off', true), set_config('enable_sort', $1, true),
               set_config('hnsw.ef_search', $2, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
               set_config('hnsw.max_scan_tuples', $3, true), set_config('ivfflat.probes', $4, true),
               set_config('ivfflat.iterative_scan', 'relaxed_order', true),
               set_config('chatstore.search_language', CASE WHEN $6 THEN coalesce($5::regconfig,
                   (SELECT t.search_language FROM {schema}.tenants t WHERE t.id = current_setting('chatstore.tenant_id')::uuid), 'english'::regconfig)::text
                   ELSE '' END, true)
        """;

    readonly NpgsqlConnection _connection;
    readonly NpgsqlBatch _batch;

    readonly int _slots;
    int _next;

    SearchCommand(NpgsqlConnection connection, NpgsqlBatch batch, NpgsqlBatchCommand statement, int slots)
    {
        _connection = connection;
        _batch = batch;
        Statement = statement;
        _slots = slots;
    }

    public NpgsqlBatchCommand Statement { get; }

    /// <summary>Settings for the vector part of a query; null for full text only.</summary>
    public sealed record VectorSettings(bool ForceIndexOrder, int EfSearch, int MaxScanTuples, int Probes);

    /// <summary>A search statement with its settings.</summary>
    /// <param name="scope">The tenant.</param>
    /// <param name="statement">The statement, rendered for the query's shape.</param>
    /// <param name="vector">Settings for a vector part, or null.</param>
    /// <param name="textSearch">Whether the statement reads chatstore.search_language.</param>
    /// <param name="language">A text search configuration overriding the tenant's search language.</param>
    /// <param name="cancellationToken">Cancels opening the connection.</param>
    public static async ValueTask<SearchCommand> CreateAsync(TenantScope scope, SearchStatements.Rendered statement, VectorSettings? vector, bool textSearch, string? language,
        CancellationToken cancellationToken)
    {
        var store = scope.Context;
        var connection = await store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var batch = new NpgsqlBatch(connection);
        var scopeCommand = new NpgsqlBatchCommand(TenantCommand.ScopeSql);
        TenantCommand.AddScope(scopeCommand.Parameters, store, scope.TenantId, operatorMode: false);
        batch.BatchCommands.Add(scopeCommand);
        var settings = new NpgsqlBatchCommand(store.Sql(SettingsSql));
        var v = vector ?? new VectorSettings(false, 40, 20_000, 1);
        // enable_sort = off only when the index order must be used: it makes "filter by btree, then
        // sort" cost more than the HNSW scan, which the planner would otherwise pick for selective filters.
        // JIT stays off: these statements run in milliseconds, and the cost that enable_sort = off adds would
        // otherwise make PostgreSQL spend seconds compiling them.
        foreach (var value in new[] { v.ForceIndexOrder ? "off" : "on", Invariant(v.EfSearch), Invariant(v.MaxScanTuples), Invariant(v.Probes) })
            settings.Parameters.Add(new NpgsqlParameter<string> { TypedValue = value });
        settings.Parameters.Add(new NpgsqlParameter { Value = (object?)language ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        settings.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = textSearch });
        batch.BatchCommands.Add(settings);
        var command = new NpgsqlBatchCommand(store.Sql(statement.Sql));
        batch.BatchCommands.Add(command);
        return new SearchCommand(connection, batch, command, statement.Slots);

        static string Invariant(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Binds a slot's value if the statement uses the slot (its type from <see cref="SearchStatements.TypeOf"/>).
    /// Slots are offered in <see cref="SearchStatements.Slot"/> order, which is the order of their numbers.
    /// </summary>
    public SearchCommand Add<T>(SearchStatements.Slot slot, T value)
    {
        var bit = 1 << (int)slot;
        if (bit < _next)
            throw new InvalidOperationException($"Search parameter {slot} was offered out of order.");
        _next = bit << 1;
        if ((_slots & bit) != 0)
            Statement.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value, NpgsqlDbType = SearchStatements.TypeOf(slot) });
        return this;
    }

    public async Task<List<T>> ReadListAsync<T>(Func<NpgsqlDataReader, T> map, CancellationToken cancellationToken)
    {
        await using var reader = await _batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
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
