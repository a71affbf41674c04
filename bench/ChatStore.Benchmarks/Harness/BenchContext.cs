using System.Collections.Concurrent;
using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Peers;
using ChatStore.Connection;
using ChatStore.Embeddings;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ChatStore.Benchmarks.Harness;

/// <summary>Options from the command line.</summary>
public sealed record BenchOptions
{
    public bool Quick { get; init; }
    public bool Smoke { get; init; }
    public bool Keep { get; init; }
    public HashSet<string>? Only { get; init; }
    public string ResultsDirectory { get; init; } = "bench/results";
    public string? PgBin { get; init; }
    public double? MixedRate { get; init; }

    public DatasetSpec Spec => Quick || Smoke ? DatasetSpec.Quick : DatasetSpec.Full;

    public Timing Timing => Quick ? new Timing(0.5, 0.5, 3) : new Timing(1.0, 1.0, 6);

    public bool Runs(string scenarioId) => Only is null || Only.Contains(scenarioId.Split(' ')[0]);
}

/// <summary>Everything a scenario needs: the dataset's manifest and the three implementations over one run database.</summary>
public sealed class BenchContext : IAsyncDisposable
{
    public const string AppRole = "chatstore_app";
    public const int PoolSize = 32;

    public required BenchOptions Options { get; init; }
    public required string ConnectionString { get; init; }
    public required Manifest Manifest { get; init; }
    public required VectorQuery[] Queries { get; init; }
    /// <summary>(A) raw Npgsql.</summary>
    public required RawStore Raw { get; init; }
    /// <summary>(B) ChatStore.</summary>
    public required ChatStoreClient Client { get; init; }
    /// <summary>(C) EF Core.</summary>
    public required EfStore Ef { get; init; }
    public required SearchSql Search { get; init; }
    /// <summary>The dataset's embedding space, as ChatStore's search API takes it.</summary>
    public required EmbeddingSpace Space { get; init; }
    public List<string> Notes { get; } = [];
    public List<Cell> Results { get; } = [];

    readonly ConcurrentDictionary<int, TenantScope> _scopes = new();
    NpgsqlDataSource? _efSource;

    public Guid Tenant(int index) => Manifest.Tenants[index];

    public TenantScope Scope(int tenant) => _scopes.GetOrAdd(tenant, t => Client.ForTenant(Manifest.Tenants[t]));

    public Timing Timing => Options.Timing;

    public static async Task<BenchContext> CreateAsync(BenchOptions options, string runConnectionString, CancellationToken ct)
    {
        Manifest manifest;
        VectorQuery[] queries;
        await using (var conn = new NpgsqlConnection(runConnectionString))
        {
            await conn.OpenAsync(ct);
            (manifest, queries) = await DatasetBuilder.LoadAsync(conn, ct);
        }
        var pooled = new NpgsqlConnectionStringBuilder(runConnectionString) { MaxPoolSize = PoolSize, CommandTimeout = 120 }.ConnectionString;

        // (A): the same Npgsql tuning as ChatStore's data source.
        var rawBuilder = new NpgsqlDataSourceBuilder(pooled);
        rawBuilder.ConnectionStringBuilder.NoResetOnClose = true;
        rawBuilder.ConnectionStringBuilder.MaxAutoPrepare = 128;
        rawBuilder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        rawBuilder.ConnectionStringBuilder.ApplicationName = "bench-raw";
        var raw = new RawStore(rawBuilder.Build(), AppRole);

        // (B)
        var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = pooled, MaxPoolSize = PoolSize }, cancellationToken: ct);

        // (C): auto-prepare too (an EF team reading Npgsql's performance docs turns it on); reset on close stays on,
        // because its tenant setting lives in the session.
        var efBuilder = new NpgsqlDataSourceBuilder(pooled);
        efBuilder.ConnectionStringBuilder.MaxAutoPrepare = 128;
        efBuilder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        efBuilder.ConnectionStringBuilder.ApplicationName = "bench-ef";
        var efSource = efBuilder.Build();
        var ef = new EfStore(EfStore.CreateFactory(efSource, AppRole));

        return new BenchContext
        {
            Options = options,
            ConnectionString = runConnectionString,
            Manifest = manifest,
            Queries = queries,
            Raw = raw,
            Client = client,
            Ef = ef,
            Search = new SearchSql(manifest.SpaceId, manifest.Dimensions),
            Space = (await client.Embeddings.ListSpacesAsync(ct)).Single(s => s.Id == manifest.SpaceId),
            _efSource = efSource,
        };
    }

    /// <summary>Runs SQL as the owner (no row-level security): setup and assertions, never measured.</summary>
    public async Task<List<object?[]>> OwnerQueryAsync(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        foreach (var a in args)
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>New empty conversations for a tenant's users (as the owner, outside any measurement).</summary>
    public async Task<Guid[]> NewConversationsAsync(int tenant, int count)
    {
        var users = Manifest.Users[tenant];
        var ids = Enumerable.Range(0, count).Select(_ => Guid.CreateVersion7()).ToArray();
        var owners = Enumerable.Range(0, count).Select(i => users[i % users.Length]).ToArray();
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO conversations (id, tenant_id, user_id, title)
            SELECT id, $3, user_id, 'bench' FROM unnest($1::uuid[], $2::uuid[]) AS u (id, user_id)
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = owners });
        cmd.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Tenant(tenant) });
        await cmd.ExecuteNonQueryAsync();
        return ids;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Raw.DataSource.DisposeAsync();
        if (_efSource is not null)
            await _efSource.DisposeAsync();
    }
}

/// <summary>A benchmark scenario: measured side by side, or checked for equal results (smoke).</summary>
public interface IScenario
{
    /// <summary>"1 append", "2 history", …: the number selects it with --only.</summary>
    string Id { get; }

    Task RunAsync(BenchContext ctx);

    /// <summary>Runs the implementations on the same inputs and throws when their results differ.</summary>
    Task SmokeAsync(BenchContext ctx);
}
