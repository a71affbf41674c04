using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// <c>--vectors</c>: ChatStore's hand-written vector path (a <c>real[]</c> parameter cast in SQL, pgvector's
/// binary format written as bytea into COPY) side by side with the Pgvector package's Npgsql plugin
/// (<c>UseVector()</c>, a <see cref="Vector"/> parameter and COPY field), on one table of 384-dimension vectors
/// with an HNSW index, for kNN, upsert and bulk load. Each operation runs in alternating slices (A, B, A, B…)
/// so that the shared machine's load falls on both; it prints each slice's rate and the median ratio B/A.
/// </summary>
internal static class VectorPathComparison
{
    const int Dimensions = 384;
    const int Rows = 20_000;
    const int BulkRows = 5_000;
    const int Rounds = 5;
    static readonly TimeSpan Slice = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(string serverConnectionString, CancellationToken cancellationToken)
    {
        var database = $"chatstore_vectors_{Environment.ProcessId}";
        await using (var admin = new NpgsqlConnection(serverConnectionString))
        {
            await admin.OpenAsync(cancellationToken);
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            var cs = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = database, Pooling = true, MaxAutoPrepare = 32, AutoPrepareMinUsages = 2 }.ConnectionString;
            await using (var setup = NpgsqlDataSource.Create(cs))
            {
                await using var cmd = setup.CreateCommand("""
                    CREATE EXTENSION IF NOT EXISTS vector;
                    CREATE TABLE items (id int PRIMARY KEY, embedding vector(384) NOT NULL);
                    CREATE TABLE upserts (id int PRIMARY KEY, embedding vector(384) NOT NULL);
                    CREATE TABLE bulk (id int NOT NULL, embedding vector(384) NOT NULL);
                    """);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var hand = NpgsqlDataSource.Create(cs);
            var builder = new NpgsqlDataSourceBuilder(cs);
            builder.UseVector();
            await using var plugin = builder.Build();

            var random = new Random(42);
            var vectors = Enumerable.Range(0, Rows).Select(_ => RandomVector(random)).ToArray();
            await BulkHandAsync(hand, "items", vectors, cancellationToken);
            await using (var index = hand.CreateCommand("SET maintenance_work_mem = '512MB'; CREATE INDEX ON items USING hnsw (embedding vector_cosine_ops); ANALYZE items"))
            {
                index.CommandTimeout = 0;
                await index.ExecuteNonQueryAsync(cancellationToken);
            }
            var queries = Enumerable.Range(0, 256).Select(_ => RandomVector(random)).ToArray();
            var bulk = vectors[..BulkRows];

            Console.WriteLine($"vector paths, {Dimensions} dims, {Rows:N0} rows with HNSW; A = real[] cast / bytea COPY (ChatStore), B = Pgvector 0.3.2 UseVector(); {Rounds} alternating {Slice.TotalSeconds:0} s slices");
            await CompareAsync("kNN top 10", i => KnnHandAsync(hand, queries[i % queries.Length], cancellationToken), i => KnnPluginAsync(plugin, queries[i % queries.Length], cancellationToken), 1, cancellationToken);
            await CompareAsync("upsert", i => UpsertHandAsync(hand, i % 1000, vectors[i % Rows], cancellationToken), i => UpsertPluginAsync(plugin, i % 1000, vectors[i % Rows], cancellationToken), 1, cancellationToken);
            await CompareAsync($"bulk load {BulkRows:N0} rows (rows/s)", _ => BulkHandAsync(hand, "bulk", bulk, cancellationToken), _ => BulkPluginAsync(plugin, "bulk", bulk, cancellationToken), BulkRows, cancellationToken);
            return 0;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(serverConnectionString);
            await admin.OpenAsync(CancellationToken.None);
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    static async Task CompareAsync(string name, Func<int, Task> a, Func<int, Task> b, int unitsPerOperation, CancellationToken cancellationToken)
    {
        // Warm both paths (prepared statements, type loading) before timing.
        for (var i = 0; i < 20; i++)
        {
            await a(i);
            await b(i);
        }
        var ratesA = new List<double>();
        var ratesB = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            ratesA.Add(await RateAsync(a, unitsPerOperation, cancellationToken));
            ratesB.Add(await RateAsync(b, unitsPerOperation, cancellationToken));
        }
        var ratios = ratesA.Zip(ratesB, (x, y) => y / x).Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-32} A {string.Join(" ", ratesA.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}/s | B {string.Join(" ", ratesB.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}/s | B/A per round {string.Join(" ", ratios.Select(r => r.ToString("0.00", CultureInfo.InvariantCulture)))} median {ratios[ratios.Count / 2]:0.00}"));
    }

    static async Task<double> RateAsync(Func<int, Task> operation, int unitsPerOperation, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var count = 0;
        while (watch.Elapsed < Slice && !cancellationToken.IsCancellationRequested)
            await operation(count++);
        return count * unitsPerOperation / watch.Elapsed.TotalSeconds;
    }

    static async Task KnnHandAsync(NpgsqlDataSource source, float[] query, CancellationToken cancellationToken)
    {
        await using var cmd = source.CreateCommand("SELECT id, embedding <=> $1::vector AS d FROM items ORDER BY embedding <=> $1::vector LIMIT 10");
        cmd.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = query });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) { }
    }

    static async Task KnnPluginAsync(NpgsqlDataSource source, float[] query, CancellationToken cancellationToken)
    {
        await using var cmd = source.CreateCommand("SELECT id, embedding <=> $1 AS d FROM items ORDER BY embedding <=> $1 LIMIT 10");
        cmd.Parameters.Add(new NpgsqlParameter<Vector> { TypedValue = new Vector(query) });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) { }
    }

    const string UpsertHand = "INSERT INTO upserts (id, embedding) VALUES ($1, $2::real[]::vector) ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding";
    const string UpsertPlugin = "INSERT INTO upserts (id, embedding) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding";

    static async Task UpsertHandAsync(NpgsqlDataSource source, int id, float[] vector, CancellationToken cancellationToken)
    {
        await using var cmd = source.CreateCommand(UpsertHand);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<float[]> { TypedValue = vector });
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    static async Task UpsertPluginAsync(NpgsqlDataSource source, int id, float[] vector, CancellationToken cancellationToken)
    {
        await using var cmd = source.CreateCommand(UpsertPlugin);
        cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
        cmd.Parameters.Add(new NpgsqlParameter<Vector> { TypedValue = new Vector(vector) });
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    static async Task BulkHandAsync(NpgsqlDataSource source, string table, float[][] vectors, CancellationToken cancellationToken)
    {
        await using var conn = await source.OpenConnectionAsync(cancellationToken);
        await TruncateAsync(conn, table, cancellationToken);
        var wire = new byte[4 + 4 * Dimensions];
        await using var copy = await conn.BeginBinaryImportAsync($"COPY {table} (id, embedding) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = 0; i < vectors.Length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(wire, Dimensions);
            BinaryPrimitives.WriteInt16BigEndian(wire.AsSpan(2), 0);
            for (var j = 0; j < Dimensions; j++)
                BinaryPrimitives.WriteSingleBigEndian(wire.AsSpan(4 + 4 * j), vectors[i][j]);
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken);
            await copy.WriteAsync(wire, NpgsqlDbType.Bytea, cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    static async Task BulkPluginAsync(NpgsqlDataSource source, string table, float[][] vectors, CancellationToken cancellationToken)
    {
        await using var conn = await source.OpenConnectionAsync(cancellationToken);
        await TruncateAsync(conn, table, cancellationToken);
        await using var copy = await conn.BeginBinaryImportAsync($"COPY {table} (id, embedding) FROM STDIN (FORMAT BINARY)", cancellationToken);
        for (var i = 0; i < vectors.Length; i++)
        {
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken);
            await copy.WriteAsync(new Vector(vectors[i]), "vector", cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    static async Task TruncateAsync(NpgsqlConnection conn, string table, CancellationToken cancellationToken)
    {
        if (table == "items")
            return;
        await using var truncate = new NpgsqlCommand($"TRUNCATE {table}", conn);
        await truncate.ExecuteNonQueryAsync(cancellationToken);
    }

    static float[] RandomVector(Random random)
    {
        var v = new float[Dimensions];
        for (var i = 0; i < v.Length; i++)
            v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }
}
