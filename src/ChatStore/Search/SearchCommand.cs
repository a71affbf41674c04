using System.Globalization;
using System.Numerics;
using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Search;

/// <summary>
/// A search statement in one round trip: an <see cref="NpgsqlBatch"/> of the tenant scope (see
/// <see cref="TenantCommand"/>), the planner and pgvector settings for this query (<c>SET LOCAL</c>, so Citus
/// sends them to the workers too), the search language, then the search. The settings run before the search is
/// bound and planned, so they shape its plan and its scan (<c>hnsw.ef_search</c>, iterative scans).
/// A statement is planned for each query (custom plans), unless its plan may be shared: one that names the
/// tenant's plan class (see <see cref="TenantPlanClasses"/>; a plan holds its tenant's row estimates, so it is
/// shared only by tenants of the same class), or a vector search in index order, whose shape fixes its plan.
/// A shared statement is planned once, and its generic plan reused.
/// </summary>
internal sealed class SearchCommand : IAsyncDisposable
{
    // JIT stays off: these statements run in milliseconds, and the cost that enable_sort = off adds would
    // otherwise make PostgreSQL spend seconds compiling them.
    // plan_cache_mode: how the search is planned: force_custom_plan for each query, with its values;
    // force_generic_plan once for every query of its text; auto as PostgreSQL chooses (see Settings).
    const string JitOff = "SET LOCAL jit = off";

    // Vector settings. enable_sort = off only when the index order must be used: it makes "filter by btree, then
    // sort" cost more than the HNSW scan, which the planner would otherwise pick for selective filters.
    const string HnswIterative = "SET LOCAL hnsw.iterative_scan = relaxed_order";
    const string IvfflatIterative = "SET LOCAL ivfflat.iterative_scan = relaxed_order";

    // Text settings: plans made without parallel workers, and the search language (the language given, $1, or
    // null for the tenant's, read by its id, $2).
    // Serial plans: a plan made for a word's frequency goes parallel for common words (thousands of matches),
    // and a search then waits for its workers to start and take cores that concurrent requests are using. On
    // two busy cores, a common word took 68 ms in parallel and 25 ms serially; raw SQL's generic plan is serial.
    const string SerialPlans = "SET LOCAL max_parallel_workers_per_gather = 0";

    internal const string LanguageSql = """
        SELECT set_config('chatstore.search_language', coalesce($1::regconfig,
            (SELECT t.search_language FROM {schema}.tenants t WHERE t.id = $2), 'english'::regconfig)::text, true)
        """;

    // A statement whose plan may be shared (SearchStatements.Rendered.SharedPlan) is planned once. PostgreSQL's
    // own choice (plan_cache_mode auto) compares estimated costs, and it estimates a generic plan's LIMIT given as
    // a parameter at a tenth of the rows, so it kept planning those searches anew (0.2-1 ms each, as much as many
    // of them take to run). Statements with full text are otherwise planned for their query: a user's or a
    // period's rows change which index fits. A filtered vector search is left to PostgreSQL's choice: its exact
    // scan of a user's rows reads them through one index whoever the user is, and is planned once that way.
    internal static string PlanCacheMode(bool vector, bool text, bool sharedPlan) =>
        "SET LOCAL plan_cache_mode = " + (sharedPlan ? "force_generic_plan" : vector && !text ? "auto" : "force_custom_plan");

    /// <summary>
    /// The settings a search statement runs after, in order: the SET LOCAL commands, then (for full text)
    /// <see cref="LanguageSql"/>, whose two parameters are the language given (or null) and the tenant.
    /// </summary>
    internal static List<string> Settings(bool text, bool sharedPlan, VectorSettings? vector)
    {
        var settings = new List<string>(10) { JitOff, PlanCacheMode(vector is not null, text, sharedPlan) };
        if (vector is { } v)
        {
            settings.Add(v.ForceIndexOrder ? "SET LOCAL enable_sort = off" : "SET LOCAL enable_sort = on");
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL hnsw.ef_search = {v.EfSearch}"));
            settings.Add(HnswIterative);
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL hnsw.max_scan_tuples = {v.MaxScanTuples}"));
            settings.Add(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL ivfflat.probes = {v.Probes}"));
            settings.Add(IvfflatIterative);
        }
        if (text)
        {
            settings.Add(SerialPlans);
            settings.Add(LanguageSql);
        }
        return settings;
    }

    readonly TenantCommand _command;
    readonly int _slots;
    readonly int _packed;
    readonly int[]? _integers;
    int _next;

    SearchCommand(TenantCommand command, SearchStatements.Rendered statement)
    {
        _command = command;
        _slots = statement.Slots;
        _packed = statement.Packed;
        _integers = _packed == 0 ? null : new int[BitOperations.PopCount((uint)_packed)];
    }

    /// <summary>Settings for the vector part of a query; null for full text only.</summary>
    public readonly record struct VectorSettings(bool ForceIndexOrder, int EfSearch, int MaxScanTuples, int Probes);

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
        var settings = Settings(textSearch, statement.SharedPlan, vector);
        var commands = new List<NpgsqlBatchCommand>(settings.Count);
        foreach (var setting in settings)
            commands.Add(new NpgsqlBatchCommand(setting == LanguageSql ? store.Sql(LanguageSql) : setting));
        if (textSearch)
        {
            var parameters = commands[^1].Parameters;
            parameters.Add(new NpgsqlParameter { Value = (object?)language ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            parameters.Add(new NpgsqlParameter<Guid> { TypedValue = scope.TenantId });
        }
        var command = await TenantCommand.CreateAsync(store, scope.TenantId, statement.Sql, cancellationToken, settings: commands).ConfigureAwait(false);
        return new SearchCommand(command, statement);
    }

    /// <summary>
    /// Binds a slot's value if the statement uses the slot (its type from <see cref="SearchStatements.TypeOf"/>).
    /// Slots are offered in <see cref="SearchStatements.Slot"/> order, which is the order of their numbers.
    /// </summary>
    public SearchCommand Add<T>(SearchStatements.Slot slot, T value)
    {
        if (Offer(slot, integer: false))
            _command.Parameters.Add(new NpgsqlParameter<T> { TypedValue = value, NpgsqlDbType = SearchStatements.TypeOf(slot) });
        return this;
    }

    /// <summary>Binds an integer slot's value if the statement uses the slot: an element of the int[] parameter when the statement packs its integers.</summary>
    public SearchCommand Add(SearchStatements.Slot slot, int value)
    {
        if (!Offer(slot, integer: true))
            return this;
        var bit = 1 << (int)slot;
        if ((_packed & bit) != 0)
            _integers![SearchStatements.PackedIndex(_packed, bit)] = value;
        else
            _command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = value });
        return this;
    }

    // Whether the statement uses the slot, checking the order it is offered in and that integer slots take ints.
    bool Offer(SearchStatements.Slot slot, bool integer)
    {
        var bit = 1 << (int)slot;
        if (bit < _next)
            throw new InvalidOperationException($"Search parameter {slot} was offered out of order.");
        if (((SearchStatements.IntegerSlots & bit) != 0) != integer)
            throw new InvalidOperationException($"Search parameter {slot} takes {(integer ? "a value that is not an int" : "an int")}.");
        _next = bit << 1;
        return (_slots & bit) != 0;
    }

    /// <summary>
    /// The size of the filtered vector set (up to the exact threshold) that an auto-mode statement reports in
    /// its last column, read by <see cref="ReadListAsync"/>; 0 when no row was read.
    /// </summary>
    public long SetSize { get; private set; }

    /// <summary>
    /// Runs the batch and maps the search's rows (at most <paramref name="capacity"/> expected). When
    /// <paramref name="setSizeColumn"/> is not negative, that column of each row is <see cref="SetSize"/>.
    /// </summary>
    public async Task<List<T>> ReadListAsync<T>(Func<NpgsqlDataReader, T> map, int capacity, int setSizeColumn, CancellationToken cancellationToken)
    {
        if (_integers is not null)
            _command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = _integers });
        await using var reader = await _command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var list = new List<T>(capacity);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (setSizeColumn >= 0)
                SetSize = reader.GetInt64(setSizeColumn);
            list.Add(map(reader));
        }
        return list;
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();
}
