using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatStore.Benchmarks.Harness;
using ChatStore.Connection;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Benchmarks.Data;

/// <summary>
/// Builds a dataset into its own database, named by the spec's fingerprint, once: later runs find it
/// and clone it (CREATE DATABASE … TEMPLATE). Everything is written as the superuser with binary COPY,
/// with foreign-key triggers off (session_replication_role = replica: the data is consistent by
/// construction) and the secondary indexes of the big tables dropped during the load and rebuilt after
/// it with the same definitions, which is several times faster than maintaining them row by row.
/// </summary>
public sealed class DatasetBuilder(DatasetSpec spec)
{
    static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    const string Model = "bench-model";

    readonly Words _words = new(spec.Vocabulary);

    /// <summary>Rank of the two topic words of a memory cluster: mid-frequency words.</summary>
    int TopicWord(int cluster, int which) => Math.Min(_words.Count - 1, 300 + 2 * cluster + which);

    public static async Task<string> EnsureAsync(DatasetSpec spec, string serverConnectionString, CancellationToken ct)
    {
        var name = spec.Fingerprint(DatasetSpec.LibraryMigrations());
        await using var server = new NpgsqlConnection(serverConnectionString);
        await server.OpenAsync(ct);
        if (await Exists(server, name, ct))
        {
            Log.Info($"dataset {name} is cached");
            return name;
        }
        Log.Info($"building dataset {name} ({spec.Messages:N0} messages, {spec.Memories:N0} memories × {spec.Dimensions} dims)");
        // Datasets of an older generator or schema for this spec are stale: drop them (and their leftover run clones).
        await using (var stale = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE $1", server))
        {
            stale.Parameters.Add(new NpgsqlParameter<string> { TypedValue = $"chatstore\\_bench\\_{spec.Name}\\_%" });
            var names = new List<string>();
            await using (var reader = await stale.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    names.Add(reader.GetString(0));
            foreach (var old in names.Where(n => !n.StartsWith(name, StringComparison.Ordinal)))
            {
                Log.Info($"dropping the stale dataset {old}");
                await Exec(server, $"DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)", ct);
            }
        }
        var building = name + "_building";
        await Exec(server, $"DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)", ct);
        await Exec(server, $"CREATE DATABASE \"{building}\"", ct);
        var cs = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = building, CommandTimeout = 0, MaxPoolSize = 8 }.ConnectionString;
        await new DatasetBuilder(spec).BuildAsync(cs, ct);
        NpgsqlConnection.ClearAllPools();
        await Exec(server, $"ALTER DATABASE \"{building}\" RENAME TO \"{name}\"", ct);
        Log.Info($"dataset {name} built");
        return name;
    }

    static async Task<bool> Exists(NpgsqlConnection server, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", server);
        cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // ----------------------------------------------------------------------------------------------

    enum ConvKind { Long, Short, Regular }

    sealed record Conv(int Index, Guid Id, int Tenant, int User, int Length, DateTimeOffset CreatedAt, ConvKind Kind, int Rank);

    async Task BuildAsync(string cs, CancellationToken ct)
    {
        if (spec.Tenants < 3)
            throw new InvalidOperationException("A dataset needs at least 3 tenants (the kNN filter classes use tenants 0 and 1).");
        await using (var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = cs }, cancellationToken: ct))
            await client.Migrator.InitAsync(cancellationToken: ct);
        NpgsqlConnection.ClearAllPools();

        var tenants = Enumerable.Range(0, spec.Tenants).Select(t => Rng.For(spec.Seed, "tenant", t).NextId(Epoch.AddDays(-400))).ToArray();
        var users = Enumerable.Range(0, spec.Tenants)
            .Select(t => Enumerable.Range(0, spec.UsersPerTenant).Select(u => Rng.For(spec.Seed, "user", t * spec.UsersPerTenant + u).NextId(Epoch.AddDays(-390))).ToArray())
            .ToArray();
        var convs = MakeConversations();

        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync(ct);
        await Exec(conn, "SET session_replication_role = replica", ct);
        var dropped = await DropSecondaryIndexesAsync(conn, ["messages", "memories", "embeddings"], ct);

        await CopyTenantsUsersConversationsAsync(conn, tenants, users, convs, ct);
        var searchTenant = 1;
        var df = new int[_words.Count];
        await CopyMessagesAsync(cs, tenants, users, convs, searchTenant, df, ct);

        var spaceId = Rng.For(spec.Seed, "space", 0).NextId(Epoch.AddDays(-400));
        var (classes, owners, vectors) = await CopyMemoriesAsync(cs, tenants, users, spaceId, ct);

        await RebuildIndexesAsync(conn, dropped, ct);
        await BuildVectorIndexAsync(cs, spaceId, spec.Dimensions, ct);

        var queries = MakeQueries(classes, owners, vectors);
        await WriteBenchSchemaAsync(conn, tenants, users, convs, searchTenant, df, spaceId, classes, queries, ct);
        await Exec(conn, "SET session_replication_role = origin", ct);

        using (Log.Step("VACUUM ANALYZE", 1))
            await Exec(conn, "VACUUM (ANALYZE)", ct);
    }

    List<Conv> MakeConversations()
    {
        // Long and short conversations go to different users, one each (the first conversation of users
        // 0, 1, 2, … then their second, …), so that appends to either kind are spread alike over users
        // and only the length differs between them.
        var rank = new int[spec.Conversations];
        var r = 0;
        for (var j = 0; j < spec.ConversationsPerUser; j++)
            for (var u = 0; u < spec.Tenants * spec.UsersPerTenant; u++)
                rank[u * spec.ConversationsPerUser + j] = r++;
        var regular = spec.RegularConversations;
        var mean = (double)spec.RegularMessages / regular;
        var lengths = new int[regular];
        var rng = Rng.For(spec.Seed, "lengths", 0);
        long sum = 0;
        for (var i = 0; i < regular; i++)
        {
            lengths[i] = Math.Max(1, (int)Math.Round(mean * (0.2 + 1.6 * rng.NextDouble())));
            sum += lengths[i];
        }
        // Make the total exact.
        for (var i = 0; sum != spec.RegularMessages; i = (i + 1) % regular)
        {
            if (sum < spec.RegularMessages) { lengths[i]++; sum++; }
            else if (lengths[i] > 1) { lengths[i]--; sum--; }
        }
        var perTenant = spec.UsersPerTenant * spec.ConversationsPerUser;
        var convs = new List<Conv>(spec.Conversations);
        for (var k = 0; k < spec.Conversations; k++)
        {
            var c = Rng.For(spec.Seed, "conv", k);
            var created = Epoch.AddDays(-380 + 300 * c.NextDouble());
            var kr = rank[k];
            var (kind, length) = kr < spec.LongConversations ? (ConvKind.Long, spec.LongLength)
                : kr < spec.LongConversations + spec.ShortConversations ? (ConvKind.Short, spec.ShortLength)
                : (ConvKind.Regular, lengths[kr - spec.LongConversations - spec.ShortConversations]);
            convs.Add(new Conv(k, c.NextId(created), k / perTenant, k / spec.ConversationsPerUser % spec.UsersPerTenant, length, created, kind, kr));
        }
        return convs;
    }

    static async Task<List<string>> DropSecondaryIndexesAsync(NpgsqlConnection conn, string[] tables, CancellationToken ct)
    {
        // Indexes that back no constraint: dropped for the load, rebuilt from their definitions after it.
        const string sql = """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
             WHERE n.nspname = 'public' AND t.relname = ANY ($1)
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """;
        var found = new List<(string Name, string Definition)>();
        await using (var cmd = new NpgsqlCommand(sql, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = tables });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                found.Add((reader.GetString(0), reader.GetString(1)));
        }
        foreach (var (name, _) in found)
            await Exec(conn, $"DROP INDEX {name}", ct);
        return found.Select(f => f.Definition).ToList();
    }

    static async Task RebuildIndexesAsync(NpgsqlConnection conn, List<string> definitions, CancellationToken ct)
    {
        await Exec(conn, "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 1", ct);
        using var step = Log.Step("rebuilding indexes", definitions.Count);
        foreach (var definition in definitions)
        {
            await Exec(conn, definition, ct);
            step.Add(1);
        }
    }

    async Task CopyTenantsUsersConversationsAsync(NpgsqlConnection conn, Guid[] tenants, Guid[][] users, List<Conv> convs, CancellationToken ct)
    {
        await using (var w = await conn.BeginBinaryImportAsync("COPY tenants (id, name, created_at, updated_at) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var t = 0; t < tenants.Length; t++)
            {
                await w.StartRowAsync(ct);
                await w.WriteAsync(tenants[t], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync($"bench tenant {t}", NpgsqlDbType.Text, ct);
                await w.WriteAsync(Epoch.AddDays(-400), NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(Epoch.AddDays(-400), NpgsqlDbType.TimestampTz, ct);
            }
            await w.CompleteAsync(ct);
        }
        await using (var w = await conn.BeginBinaryImportAsync("COPY users (id, tenant_id, email, name, role, created_at, updated_at) FROM STDIN (FORMAT BINARY)", ct))
        {
            for (var t = 0; t < tenants.Length; t++)
                for (var u = 0; u < users[t].Length; u++)
                {
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(users[t][u], NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(tenants[t], NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync($"user{u}@tenant{t}.example", NpgsqlDbType.Text, ct);
                    await w.WriteAsync($"User {u}", NpgsqlDbType.Text, ct);
                    await w.WriteAsync("user", NpgsqlDbType.Text, ct);
                    await w.WriteAsync(Epoch.AddDays(-390), NpgsqlDbType.TimestampTz, ct);
                    await w.WriteAsync(Epoch.AddDays(-390), NpgsqlDbType.TimestampTz, ct);
                }
            await w.CompleteAsync(ct);
        }
        await using (var w = await conn.BeginBinaryImportAsync(
            "COPY conversations (id, tenant_id, user_id, title, last_seq, message_count, last_message_at, last_activity_at, created_at, updated_at) FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var c in convs)
            {
                var last = MessageTime(c, c.Length);
                await w.StartRowAsync(ct);
                await w.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(tenants[c.Tenant], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(users[c.Tenant][c.User], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync($"Conversation {c.Index}", NpgsqlDbType.Text, ct);
                await w.WriteAsync((long)c.Length, NpgsqlDbType.Bigint, ct);
                await w.WriteAsync(c.Length, NpgsqlDbType.Integer, ct);
                await w.WriteAsync(last, NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(last, NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(c.CreatedAt, NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(last, NpgsqlDbType.TimestampTz, ct);
            }
            await w.CompleteAsync(ct);
        }
    }

    static DateTimeOffset MessageTime(Conv c, long seq) => c.CreatedAt.AddSeconds(20 * seq);

    /// <summary>The content of message <paramref name="seq"/>: user turns 8–24 words, assistant turns 20–60.</summary>
    public static string MessageText(Words words, ref Rng rng, bool user, StringBuilder sb, HashSet<int>? seen = null)
    {
        sb.Clear();
        words.AppendText(sb, ref rng, user ? rng.Next(8, 25) : rng.Next(20, 61), seen);
        return sb.ToString();
    }

    async Task CopyMessagesAsync(string cs, Guid[] tenants, Guid[][] users, List<Conv> convs, int searchTenant, int[] df, CancellationToken ct)
    {
        // Two streams (the machine has two cores; to_tsvector of the generated column is the server's main cost).
        const int streams = 2;
        using var step = Log.Step("messages", spec.Messages);
        await Task.WhenAll(Enumerable.Range(0, streams).Select(s => Task.Run(async () =>
        {
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync(ct);
            await Exec(conn, "SET session_replication_role = replica", ct);
            await using var w = await conn.BeginBinaryImportAsync("""
                COPY messages (id, tenant_id, conversation_id, user_id, seq, role, content, status, citations, metadata, domains, model,
                               input_tokens, output_tokens, cost_usd, response_ms, created_at, updated_at) FROM STDIN (FORMAT BINARY)
                """, ct);
            var sb = new StringBuilder(1024);
            var seen = new HashSet<int>();
            var pending = 0;
            foreach (var c in convs.Where(c => c.Index % streams == s))
            {
                var rng = Rng.For(spec.Seed, "messages", c.Index);
                var count = c.Tenant == searchTenant;
                for (var seq = 1; seq <= c.Length; seq++)
                {
                    var user = seq % 2 == 1;
                    seen.Clear();
                    var text = MessageText(_words, ref rng, user, sb, count ? seen : null);
                    if (count)
                        foreach (var rank in seen)
                            Interlocked.Increment(ref df[rank]);
                    var time = MessageTime(c, seq);
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(rng.NextId(time), NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(tenants[c.Tenant], NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(c.Id, NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(users[c.Tenant][c.User], NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync((long)seq, NpgsqlDbType.Bigint, ct);
                    await w.WriteAsync(user ? "user" : "assistant", NpgsqlDbType.Text, ct);
                    await w.WriteAsync(text, NpgsqlDbType.Text, ct);
                    await w.WriteAsync("complete", NpgsqlDbType.Text, ct);
                    await w.WriteAsync("[]", NpgsqlDbType.Jsonb, ct);
                    await w.WriteAsync("{}", NpgsqlDbType.Jsonb, ct);
                    await w.WriteAsync(Array.Empty<string>(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                    if (user)
                    {
                        await w.WriteNullAsync(ct);
                        await w.WriteAsync(0, NpgsqlDbType.Integer, ct);
                        await w.WriteAsync(0, NpgsqlDbType.Integer, ct);
                        await w.WriteAsync(0m, NpgsqlDbType.Numeric, ct);
                        await w.WriteNullAsync(ct);
                    }
                    else
                    {
                        var input = rng.Next(50, 4000);
                        var output = rng.Next(20, 800);
                        await w.WriteAsync(Model, NpgsqlDbType.Text, ct);
                        await w.WriteAsync(input, NpgsqlDbType.Integer, ct);
                        await w.WriteAsync(output, NpgsqlDbType.Integer, ct);
                        await w.WriteAsync((input * 3 + output * 15) / 1_000_000m, NpgsqlDbType.Numeric, ct);
                        await w.WriteAsync(rng.Next(200, 9000), NpgsqlDbType.Integer, ct);
                    }
                    await w.WriteAsync(time, NpgsqlDbType.TimestampTz, ct);
                    await w.WriteAsync(time, NpgsqlDbType.TimestampTz, ct);
                    if (++pending == 1000)
                    {
                        step.Add(pending);
                        pending = 0;
                    }
                }
            }
            await w.CompleteAsync(ct);
            step.Add(pending);
        }, ct)));
    }

    /// <summary>Owner of memory <paramref name="m"/>: the filter classes of the kNN scenario.</summary>
    (int Tenant, int User) MemoryOwner(int m)
    {
        var n = spec.Memories;
        int half = n / 2, tiny = n / 200, five = n / 20;
        if (m < tiny)
            return (0, 0);
        if (m < half)
            return (0, 1 + (m - tiny) % (spec.UsersPerTenant - 1));
        if (m < half + five)
            return (1, (m - half) % spec.UsersPerTenant);
        var rest = m - half - five;
        var others = spec.Tenants - 2;
        return (2 + rest % others, rest / others % spec.UsersPerTenant);
    }

    float[] Centers()
    {
        var d = spec.Dimensions;
        var centers = new float[spec.Clusters * d];
        for (var c = 0; c < spec.Clusters; c++)
        {
            var rng = Rng.For(spec.Seed, "center", c);
            var v = centers.AsSpan(c * d, d);
            for (var i = 0; i < d; i++)
                v[i] = (float)rng.NextGaussian();
            Normalize(v);
        }
        return centers;
    }

    const float Noise = 0.03f;

    static void Normalize(Span<float> v)
    {
        var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot<float>(v, v));
        System.Numerics.Tensors.TensorPrimitives.Divide(v, norm, v);
    }

    static void Jitter(ReadOnlySpan<float> center, Span<float> v, ref Rng rng)
    {
        for (var i = 0; i < v.Length; i++)
            v[i] = center[i] + Noise * (float)rng.NextGaussian();
        Normalize(v);
    }

    async Task<(VectorClass[] Classes, (int Tenant, int User)[] Owners, float[] Vectors)> CopyMemoriesAsync(
        string cs, Guid[] tenants, Guid[][] users, Guid spaceId, CancellationToken ct)
    {
        var n = spec.Memories;
        var d = spec.Dimensions;
        var centers = Centers();
        var vectors = new float[(long)n * d];
        var owners = new (int Tenant, int User)[n];
        var ids = new Guid[n];
        var created = new DateTimeOffset[n];

        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync(ct);
        await Exec(conn, "SET session_replication_role = replica", ct);
        await using (var space = new NpgsqlCommand("""
            INSERT INTO embedding_spaces (id, name, model, dimensions, metric, index_kind, index_params)
            VALUES ($1, 'bench-384', 'synthetic-clusters', $2, 'cosine', 'hnsw', '{"m": 16, "ef_construction": 64}')
            """, conn))
        {
            space.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = spaceId });
            space.Parameters.Add(new NpgsqlParameter<int> { TypedValue = d });
            await space.ExecuteNonQueryAsync(ct);
        }

        using (var step = Log.Step("memories", n))
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY memories (id, tenant_id, user_id, content, kind, importance, content_hash, metadata, created_at, updated_at) FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            var sb = new StringBuilder(256);
            var hashes = new HashSet<(int, int, string)>();
            for (var m = 0; m < n; m++)
            {
                var rng = Rng.For(spec.Seed, "memory", m);
                var cluster = rng.Next(0, spec.Clusters);
                owners[m] = MemoryOwner(m);
                created[m] = Epoch.AddDays(-370 + 360 * rng.NextDouble());
                ids[m] = rng.NextId(created[m]);
                sb.Clear();
                sb.Append(_words[TopicWord(cluster, 0)]).Append(' ').Append(_words[TopicWord(cluster, 1)]);
                _words.AppendText(sb, ref rng, rng.Next(6, 15));
                while (!hashes.Add((owners[m].Tenant, owners[m].User, sb.ToString())))
                    _words.AppendText(sb, ref rng, 1);
                var content = sb.ToString();
                Jitter(centers.AsSpan(cluster * d, d), vectors.AsSpan(m * d, d), ref rng);

                await w.StartRowAsync(ct);
                await w.WriteAsync(ids[m], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(tenants[owners[m].Tenant], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(users[owners[m].Tenant][owners[m].User], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(content, NpgsqlDbType.Text, ct);
                await w.WriteAsync("fact", NpgsqlDbType.Text, ct);
                await w.WriteAsync((float)Math.Round(rng.NextDouble(), 2), NpgsqlDbType.Real, ct);
                await w.WriteAsync(SHA256.HashData(Encoding.UTF8.GetBytes(content)), NpgsqlDbType.Bytea, ct);
                await w.WriteAsync("{}", NpgsqlDbType.Jsonb, ct);
                await w.WriteAsync(created[m], NpgsqlDbType.TimestampTz, ct);
                await w.WriteAsync(created[m], NpgsqlDbType.TimestampTz, ct);
                if (m % 1000 == 999)
                    step.Add(1000);
            }
            await w.CompleteAsync(ct);
        }

        using (var step = Log.Step("embeddings", n))
        await using (var w = await conn.BeginBinaryImportAsync("""
            COPY embeddings (id, tenant_id, space_id, user_id, memory_id, chunk_index, embedding, created_at) FROM STDIN (FORMAT BINARY)
            """, ct))
        {
            var buffer = new byte[4 + 4 * d];
            for (var m = 0; m < n; m++)
            {
                var rng = Rng.For(spec.Seed, "embedding", m);
                await w.StartRowAsync(ct);
                await w.WriteAsync(rng.NextId(created[m]), NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(tenants[owners[m].Tenant], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(spaceId, NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(users[owners[m].Tenant][owners[m].User], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(ids[m], NpgsqlDbType.Uuid, ct);
                await w.WriteAsync(0, NpgsqlDbType.Integer, ct);
                // pgvector's binary format: int16 dimensions, int16 unused, big-endian float32s.
                await w.WriteAsync(VectorWire(vectors.AsSpan(m * d, d), buffer), NpgsqlDbType.Bytea, ct);
                await w.WriteAsync(created[m], NpgsqlDbType.TimestampTz, ct);
                if (m % 1000 == 999)
                    step.Add(1000);
            }
            await w.CompleteAsync(ct);
        }

        var classes = new[]
        {
            new VectorClass("50%", 0, null, n / 2),
            new VectorClass("5%", 1, null, n / 20),
            new VectorClass("0.5%", 0, users[0][0], n / 200),
        };
        _memoryIds = ids;
        return (classes, owners, vectors);
    }

    Guid[] _memoryIds = [];

    public static byte[] VectorWire(ReadOnlySpan<float> v, byte[] buffer)
    {
        BinaryPrimitives.WriteInt16BigEndian(buffer, (short)v.Length);
        BinaryPrimitives.WriteInt16BigEndian(buffer.AsSpan(2), 0);
        for (var i = 0; i < v.Length; i++)
            BinaryPrimitives.WriteSingleBigEndian(buffer.AsSpan(4 + 4 * i), v[i]);
        return buffer;
    }

    static async Task BuildVectorIndexAsync(string cs, Guid spaceId, int dimensions, CancellationToken ct)
    {
        // One HNSW index per embedding space: a partial expression index, as the search feature makes them.
        var sql = $"""
            CREATE INDEX embeddings_space_{spaceId:N} ON embeddings
                USING hnsw ((embedding::vector({dimensions})) vector_cosine_ops) WITH (m = 16, ef_construction = 64)
                WHERE space_id = '{spaceId}'
            """;
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync(ct);
        await Exec(conn, "SET maintenance_work_mem = '2GB'; SET max_parallel_maintenance_workers = 1", ct);
        var pid = conn.ProcessID;
        using var step = Log.Step("HNSW index", 100);
        var build = Exec(conn, sql, ct);
        await using (var watch = new NpgsqlConnection(cs))
        {
            await watch.OpenAsync(ct);
            long reported = 0;
            while (!build.IsCompleted)
            {
                await Task.WhenAny(build, Task.Delay(2000, ct));
                await using var cmd = new NpgsqlCommand(
                    "SELECT coalesce(100 * tuples_done / nullif(tuples_total, 0), 100 * blocks_done / nullif(blocks_total, 0), 0) FROM pg_stat_progress_create_index WHERE pid = $1", watch);
                cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = pid });
                if (await cmd.ExecuteScalarAsync(ct) is long pct && pct > reported)
                {
                    step.Add(pct - reported);
                    reported = pct;
                }
            }
        }
        await build;
    }

    VectorQuery[] MakeQueries(VectorClass[] classes, (int Tenant, int User)[] owners, float[] vectors)
    {
        var d = spec.Dimensions;
        var centers = Centers();
        var candidates = classes.Select(c => Enumerable.Range(0, spec.Memories)
            .Where(m => owners[m].Tenant == c.Tenant && (c.User is null || owners[m].User == 0)).ToArray()).ToArray();
        var queries = new VectorQuery[spec.Queries];
        using var step = Log.Step("exact top-10 answers", spec.Queries);
        Parallel.For(0, spec.Queries, q =>
        {
            var rng = Rng.For(spec.Seed, "query", q);
            var cluster = q % spec.Clusters;
            var v = new float[d];
            Jitter(centers.AsSpan(cluster * d, d), v, ref rng);
            var text = $"{_words[TopicWord(cluster, 0)]} {_words[TopicWord(cluster, 1)]}";
            var truth = new Guid[classes.Length][];
            for (var c = 0; c < classes.Length; c++)
            {
                // Cosine distance of unit vectors orders like the negated dot product.
                truth[c] = candidates[c]
                    .Select(m => (m, Distance: 1.0 - System.Numerics.Tensors.TensorPrimitives.Dot<float>(v, vectors.AsSpan(m * d, d))))
                    .OrderBy(x => x.Distance).Take(10).Select(x => _memoryIds[x.m]).ToArray();
            }
            queries[q] = new VectorQuery(q, cluster, text, v, truth);
            step.Add(1);
        });
        return queries;
    }

    async Task WriteBenchSchemaAsync(NpgsqlConnection conn, Guid[] tenants, Guid[][] users, List<Conv> convs, int searchTenant, int[] df,
        Guid spaceId, VectorClass[] classes, VectorQuery[] queries, CancellationToken ct)
    {
        // Search terms: the most common word, mid-frequency words (about 1% of the tenant's messages) and rare ones (a handful).
        var tenantMessages = convs.Where(c => c.Tenant == searchTenant).Sum(c => (long)c.Length);
        TermRef[] Pick(Func<int, bool> keep, int count) => Enumerable.Range(0, _words.Count).Where(r => keep(df[r]))
            .Take(count).Select(r => new TermRef(_words[r], df[r])).ToArray();
        var terms = new Dictionary<string, TermRef[]>
        {
            ["common"] = [new TermRef(_words[0], df[0])],
            ["mid"] = Pick(n => n >= tenantMessages / 200 && n <= tenantMessages / 50, 5),
            ["rare"] = Pick(n => n is >= 3 and <= 12, 5),
        };
        ConversationRef Ref(Conv c) => new(c.Id, c.Tenant, users[c.Tenant][c.User], c.Length);
        var regular = convs.Where(c => c.Kind == ConvKind.Regular).Select(Ref).ToArray();
        // Popularity order for Zipf picks: a fixed shuffle, so the popular ones are spread over tenants.
        var shuffle = Rng.For(spec.Seed, "popularity", 0);
        for (var i = regular.Length - 1; i > 0; i--)
        {
            var j = shuffle.Next(0, i + 1);
            (regular[i], regular[j]) = (regular[j], regular[i]);
        }
        var sb = new StringBuilder();
        var texts = Enumerable.Range(0, 64).Select(i =>
        {
            var rng = Rng.For(spec.Seed, "texts", i);
            return MessageText(_words, ref rng, i % 2 == 0, sb);
        }).ToArray();

        var manifest = new Manifest
        {
            Spec = spec.Name,
            Tenants = tenants,
            Users = users,
            Long = convs.Where(c => c.Kind == ConvKind.Long).OrderBy(c => c.Rank).Select(Ref).ToArray(),
            Short = convs.Where(c => c.Kind == ConvKind.Short).OrderBy(c => c.Rank).Select(Ref).ToArray(),
            Regular = regular,
            LongLength = spec.LongLength,
            ShortLength = spec.ShortLength,
            SearchTenant = searchTenant,
            Terms = terms,
            ImportTenant = 2,
            SpaceId = spaceId,
            Dimensions = spec.Dimensions,
            VectorClasses = classes,
            Queries = queries.Length,
            Texts = texts,
        };
        await Exec(conn, """
            CREATE SCHEMA bench;
            CREATE TABLE bench.manifest (manifest jsonb NOT NULL);
            CREATE TABLE bench.queries (q int PRIMARY KEY, cluster int NOT NULL, text text NOT NULL, vector real[] NOT NULL, truth jsonb NOT NULL);
            COMMENT ON SCHEMA bench IS 'The benchmark dataset''s manifest, kNN queries and their exact answers (not part of ChatStore).';
            """, ct);
        await using (var cmd = new NpgsqlCommand("INSERT INTO bench.manifest VALUES ($1)", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(manifest), NpgsqlDbType = NpgsqlDbType.Jsonb });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await using var w = await conn.BeginBinaryImportAsync("COPY bench.queries (q, cluster, text, vector, truth) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var q in queries)
        {
            await w.StartRowAsync(ct);
            await w.WriteAsync(q.Index, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(q.Cluster, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(q.Text, NpgsqlDbType.Text, ct);
            await w.WriteAsync(q.Vector, NpgsqlDbType.Array | NpgsqlDbType.Real, ct);
            await w.WriteAsync(JsonSerializer.Serialize(q.Truth), NpgsqlDbType.Jsonb, ct);
        }
        await w.CompleteAsync(ct);
    }

    /// <summary>Reads a built dataset's manifest and queries.</summary>
    public static async Task<(Manifest Manifest, VectorQuery[] Queries)> LoadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        Manifest manifest;
        await using (var cmd = new NpgsqlCommand("SELECT manifest::text FROM bench.manifest", conn))
            manifest = JsonSerializer.Deserialize<Manifest>((string)(await cmd.ExecuteScalarAsync(ct))!)!;
        var queries = new List<VectorQuery>();
        await using (var cmd = new NpgsqlCommand("SELECT q, cluster, text, vector, truth::text FROM bench.queries ORDER BY q", conn))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                queries.Add(new VectorQuery(reader.GetInt32(0), reader.GetInt32(1), reader.GetString(2), reader.GetFieldValue<float[]>(3),
                    JsonSerializer.Deserialize<Guid[][]>(reader.GetString(4))!));
        return (manifest, queries.ToArray());
    }
}
