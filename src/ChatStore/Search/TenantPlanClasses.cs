using System.Globalization;
using System.Text;
using ChatStore.Tenancy;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ChatStore.Search;

/// <summary>
/// Which tenants may share a search plan: those that PostgreSQL's statistics make alike. A plan made for one
/// tenant holds that tenant's row estimates (the planner reads <c>chatstore.tenant_id</c> when it plans), so a
/// plan made for a small tenant would read a large one through a btree with the text as a filter. A search
/// statement therefore names its tenant's class, the rounded base-4 logarithm of the rows the planner
/// estimates the tenant has in each table the statement reads (<c>-- plan class: messages 5</c>): tenants
/// of one class run one statement text, which PostgreSQL plans once and whose plan they reuse (a generic plan:
/// see <see cref="SearchCommand"/>), and tenants of other classes run their own. Without a class (no statistics
/// yet), a statement is planned for each query.
/// </summary>
/// <remarks>
/// The estimates are those the planner makes: a tenant among a table's most common values has its frequency
/// times the table's rows; every other tenant has the same share of the rest. They are read from
/// <c>pg_stats</c> once a <see cref="Ttl"/>: the searches that find them expired wait for one read, on a
/// connection of the pool before theirs is taken. (Read beside a running search, they took one connection
/// more, and a benchmark's one-at-a-time kNN searches then ran about 10% slower.)
/// </remarks>
internal sealed class TenantPlanClasses(ILogger logger)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);

    /// <summary>The tables a class can name: the searchable kinds' tables by <see cref="SearchKind"/> number, then embeddings.</summary>
    public static readonly string[] Tables = ["messages", "memories", "documents", "document_analyses", "subjects", "embeddings"];

    /// <summary>The bit of the embeddings table in a set of <see cref="Tables"/>.</summary>
    public const int Embeddings = 1 << 5;

    const string StatisticsSql = """
        SELECT s.tablename, s.most_common_vals::text::uuid[], s.most_common_freqs, s.n_distinct, s.null_frac, c.reltuples
          FROM pg_catalog.pg_stats s
          JOIN pg_catalog.pg_namespace n ON n.nspname = s.schemaname
          JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename
         WHERE s.schemaname = $1 AND s.tablename = ANY ($2) AND s.attname = 'tenant_id' AND NOT s.inherited AND c.reltuples >= 0
        """;

    /// <summary>A table's estimates: the rows of each of its most common tenants, and of any other tenant.</summary>
    sealed record TableEstimates(Dictionary<Guid, double> Common, double Other);

    sealed record Snapshot(TableEstimates?[] Tables, long Until);

    readonly Lock _gate = new();
    Snapshot? _snapshot;
    Task<Snapshot>? _reading;

    /// <summary>
    /// The tenant's class over the <paramref name="tables"/> (bits of <see cref="Tables"/>), or null when one of
    /// them has no statistics: for each table, its bucket plus one in 5 bits at 5 × its index (see <see cref="Describe"/>).
    /// </summary>
    public async ValueTask<int?> ClassAsync(StoreContext store, Guid tenant, int tables, CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Until <= Environment.TickCount64)
        {
            Task<Snapshot> reading;
            lock (_gate)
                reading = _reading ??= ReadAsync(store);
            snapshot = await reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        var planClass = 0;
        for (var t = 0; t < Tables.Length; t++)
        {
            if ((tables & 1 << t) == 0)
                continue;
            if (snapshot.Tables[t] is not { } estimates)
                return null;
            var rows = estimates.Common.TryGetValue(tenant, out var common) ? common : estimates.Other;
            planClass |= (Math.Min((int)Math.Floor(Math.Log(rows + 1, 4)), 30) + 1) << 5 * t;
        }
        return planClass;
    }

    /// <summary>A class as the statement names it: each table with its bucket ("memories 4, embeddings 4").</summary>
    public static string Describe(int planClass)
    {
        var sb = new StringBuilder(48);
        for (var t = 0; t < Tables.Length; t++)
            if ((planClass >> 5 * t & 31) is var bucket and > 0)
                sb.Append(sb.Length == 0 ? "" : ", ").Append(Tables[t]).Append(' ').Append((bucket - 1).ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    async Task<Snapshot> ReadAsync(StoreContext store)
    {
        // Not inline: ClassAsync starts this under its lock and stores the task, which must not complete (and clear itself) first.
        await Task.Yield();
        var tables = new TableEstimates?[Tables.Length];
        try
        {
            await using var conn = await store.DataSource.OpenConnectionAsync().ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(StatisticsSql, conn);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = store.Schema });
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = Tables });
            await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
            while (await reader.ReadAsync().ConfigureAwait(false))
            {
                var values = reader.IsDBNull(1) ? [] : reader.GetFieldValue<Guid[]>(1);
                var freqs = reader.IsDBNull(2) ? [] : reader.GetFieldValue<float[]>(2);
                var distinct = reader.GetFloat(3);
                var nullFraction = reader.GetFloat(4);
                var rows = (double)reader.GetFloat(5);
                var common = new Dictionary<Guid, double>(values.Length);
                var commonFraction = 0.0;
                for (var i = 0; i < values.Length && i < freqs.Length; i++)
                {
                    common[values[i]] = freqs[i] * rows;
                    commonFraction += freqs[i];
                }
                // n_distinct is a count, or minus a fraction of the rows when it grows with the table.
                var others = Math.Max((distinct >= 0 ? distinct : -distinct * rows) - values.Length, 1);
                tables[Array.IndexOf(Tables, reader.GetString(0))] =
                    new TableEstimates(common, Math.Max(1 - commonFraction - nullFraction, 0) * rows / others);
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Without estimates every search is planned for its query, as before they were read; try again after the TTL.
            logger.LogWarning(e, "Reading the tenant statistics of the search tables failed; searches are planned for each query until they are read.");
        }
        var snapshot = new Snapshot(tables, Environment.TickCount64 + (long)Ttl.TotalMilliseconds);
        lock (_gate)
        {
            _snapshot = snapshot;
            _reading = null;
        }
        return snapshot;
    }
}
