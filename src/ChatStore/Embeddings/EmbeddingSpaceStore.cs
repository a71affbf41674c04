using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using ChatStore.Schema;
using ChatStore.Tenancy;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Embeddings
{
    /// <summary>
    /// Operator operations on embedding spaces: register (with the space's own vector index), look up,
    /// list, rebuild the index, drop. Spaces are shared by every tenant; these run on the client's own
    /// connection (the schema owner), not as a tenant.
    /// </summary>
    /// <remarks>
    /// All spaces share the <c>embeddings</c> table, whose <c>embedding</c> column is an unconstrained
    /// <c>vector</c>. Each space gets a partial expression index,
    /// <c>USING hnsw ((embedding::vector(N)) vector_cosine_ops) WHERE space_id = '…'</c>, so spaces of
    /// 384 and 1024 dimensions coexist, each index holds only its space's rows, and a query that
    /// names the space and casts the same way (which ChatStore's queries do) is served by it. One
    /// table keeps the owner foreign keys, row-level security and tenant filters in one place, and
    /// registering a space needs no migration.
    /// </remarks>
    public sealed partial class EmbeddingSpaceStore
    {
        internal const string Columns = "id, name, model, dimensions, metric, index_kind, index_params::text, created_at";
        static readonly Regex NamePattern = new("^[a-z0-9][a-z0-9_.-]{0,62}$", RegexOptions.CultureInvariant);
        // "ChSp": serialises vector index builds per schema. Two concurrent builds of expression or partial
        // indexes on one table each wait for the other's snapshot (a deadlock), so they take turns.
        const int LockClass = 0x43685370;

        readonly StoreContext _store;

        internal EmbeddingSpaceStore(StoreContext store) => _store = store;

        /// <summary>
        /// Registers a space and builds its vector index (concurrently, so the embeddings table stays
        /// writable; with a raised <c>maintenance_work_mem</c> and no command timeout). Registering the
        /// same definition again returns the space (and rebuilds its index if an earlier build was
        /// interrupted); the same name with another definition is a conflict. Runs on the client's
        /// connection, which must be the schema owner's.
        /// </summary>
        /// <param name="space">The definition.</param>
        /// <param name="maintenanceWorkMem">Memory for the index build (a PostgreSQL size such as <c>1GB</c>).</param>
        /// <param name="deferIndex">
        /// Register without building the index, for a large first load: inserting into an HNSW index row by row
        /// is far slower than building it over loaded rows. Build it afterwards with <see cref="RebuildIndexAsync"/>;
        /// until then every search of the space is exact.
        /// </param>
        /// <param name="cancellationToken">Cancels the registration (an interrupted build is dropped).</param>
        public async Task<EmbeddingSpace> RegisterSpaceAsync(NewEmbeddingSpace space, string maintenanceWorkMem = "1GB", bool deferIndex = false,
            CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            using var op = Telemetry.Start("embedding_spaces.register");
            var name = Validate.Required(space.Name, "name", 63);
            if (!NamePattern.IsMatch(name))
                throw new ChatStoreValidationException("name", "format", "must be 1–63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit.");
            var model = Validate.Required(space.Model, "model", _store.Limits.MaxShortTextLength);
            var metric = EmbeddingKinds.Name(space.Metric);
            var indexKind = EmbeddingKinds.Name(space.IndexKind);
            Validate.Range(space.Dimensions, "dimensions", 1, space.IndexKind == VectorIndexKind.None ? 16000 : 2000);
            var parameters = ValidateParameters(space.IndexKind, space.IndexParameters ?? new VectorIndexParameters());
            maintenanceWorkMem = Validate.Required(maintenanceWorkMem, "maintenanceWorkMem", 20);
            var paramsJson = JsonSerializer.Serialize(new Dictionary<string, int?>
            {
                ["m"] = parameters.M, ["ef_construction"] = parameters.EfConstruction, ["lists"] = parameters.Lists,
            }.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!.Value));

            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            const string insert = $$"""
                INSERT INTO {schema}.embedding_spaces (id, name, model, dimensions, metric, index_kind, index_params)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (name) DO NOTHING
                RETURNING {{Columns}}
                """;
            EmbeddingSpace? created;
            await using (var cmd = Command(conn, insert))
            {
                Add(cmd, Ids.New()).Add(name).Add(model).Add(space.Dimensions).Add(metric).Add(indexKind).Add(paramsJson, NpgsqlDbType.Jsonb);
                try
                {
                    created = await ReadSpaceAsync(cmd, cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
                {
                    throw await SchemaOwner.PermissionErrorAsync(_store.DataSource, _store.Schema, $"Registering embedding space '{name}'", e).ConfigureAwait(false);
                }
            }
            var registered = created ?? await FindAsync(conn, name, cancellationToken).ConfigureAwait(false)
                ?? throw new ChatStoreConflictException($"Embedding space '{name}' was dropped while it was being registered; try again.");
            if (created is null && (registered.Model != model || registered.Dimensions != space.Dimensions || registered.Metric != space.Metric
                || registered.IndexKind != space.IndexKind || registered.IndexParameters != parameters))
                throw new ChatStoreConflictException(
                    $"Embedding space '{name}' already exists with another definition ({registered.Model}, {registered.Dimensions} dimensions, " +
                    $"{EmbeddingKinds.Name(registered.Metric)}, {EmbeddingKinds.Name(registered.IndexKind)}). Register the new model under a new name.");
            try
            {
                if (!deferIndex)
                    await EnsureIndexAsync(conn, registered, maintenanceWorkMem, rebuild: false, cancellationToken).ConfigureAwait(false);
            }
            catch when (created is not null)
            {
                // A failed registration leaves nothing behind.
                await using var undo = Command(conn, "DELETE FROM {schema}.embedding_spaces WHERE id = $1");
                Add(undo, registered.Id);
                await undo.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                throw;
            }
            SpaceCache.Of(_store)[registered.Name] = registered;
            return registered;
        }

        /// <summary>A space by name.</summary>
        public async Task<EmbeddingSpace> GetSpaceAsync(string name, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embedding_spaces.get");
            name = Validate.Required(name, "name", 63);
            if (SpaceCache.Of(_store).TryGetValue(name, out var cached))
                return cached;
            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var space = await FindAsync(conn, name, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("embedding space", name);
            return SpaceCache.Of(_store)[name] = space;
        }

        /// <summary>Every space, by name.</summary>
        public async Task<IReadOnlyList<EmbeddingSpace>> ListSpacesAsync(CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embedding_spaces.list");
            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = Command(conn, $$"""SELECT {{Columns}} FROM {schema}.embedding_spaces ORDER BY name""");
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<EmbeddingSpace>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                list.Add(Map(reader));
            return list;
        }

        /// <summary>
        /// Every space, by name, with the state of its vector index and the rows it holds as PostgreSQL estimates
        /// them (the index's <c>reltuples</c>, set by the build, VACUUM and ANALYZE; null before any of them or
        /// without an index). Reads the catalog only: no scan of the embeddings table.
        /// </summary>
        public async Task<IReadOnlyList<EmbeddingSpaceStats>> ListSpaceStatsAsync(CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embedding_spaces.stats");
            var spaces = await ListSpacesAsync(cancellationToken).ConfigureAwait(false);
            if (spaces.Count == 0) return [];
            // A build in progress (CREATE INDEX CONCURRENTLY) shows in pg_stat_progress_create_index with its phase.
            const string sql = """
                SELECT c.relname, c.reltuples::bigint, i.indisvalid, i.indisready, p.phase
                  FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid
                  LEFT JOIN pg_stat_progress_create_index p ON p.index_relid = c.oid
                 WHERE c.relnamespace = $1::regnamespace AND c.relname = ANY ($2)
                """;
            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var cmd = Command(conn, sql);
            Add(cmd, Sql.QuoteIdentifier(_store.Schema)).Add(spaces.Select(s => s.IndexName).ToArray());
            var found = new Dictionary<string, (long Rows, bool Valid, bool Ready, string? Phase)>(StringComparer.Ordinal);
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    found[reader.GetString(0)] = (reader.GetInt64(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            return spaces.Select(space =>
            {
                if (space.IndexKind == VectorIndexKind.None)
                    return new EmbeddingSpaceStats(space, VectorIndexState.None, null, null);
                if (!found.TryGetValue(space.IndexName, out var index))
                    return new EmbeddingSpaceStats(space, VectorIndexState.Missing, null, null);
                var state = index.Phase is not null ? VectorIndexState.Building
                    : index.Valid ? VectorIndexState.Ready : VectorIndexState.Invalid;
                return new EmbeddingSpaceStats(space, state, index.Rows < 0 ? null : index.Rows, index.Phase);
            }).ToList();
        }

        /// <summary>
        /// Builds or rebuilds a space's vector index concurrently: after a first load into a space registered
        /// with a deferred index, after a large load into an IVFFlat space (whose lists are chosen from the rows
        /// present at build time), or to repair an interrupted build.
        /// </summary>
        public async Task<EmbeddingSpace> RebuildIndexAsync(string name, string maintenanceWorkMem = "1GB", CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embedding_spaces.rebuild_index");
            var space = await GetSpaceAsync(name, cancellationToken).ConfigureAwait(false);
            maintenanceWorkMem = Validate.Required(maintenanceWorkMem, "maintenanceWorkMem", 20);
            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await EnsureIndexAsync(conn, space, maintenanceWorkMem, rebuild: true, cancellationToken).ConfigureAwait(false);
            return space;
        }

        /// <summary>Drops a space, its index and every embedding in it (all tenants').</summary>
        public async Task DropSpaceAsync(string name, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embedding_spaces.drop");
            name = Validate.Required(name, "name", 63);
            await using var conn = await _store.DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var space = await FindAsync(conn, name, cancellationToken).ConfigureAwait(false) ?? throw new ChatStoreNotFoundException("embedding space", name);
            await LockAsync(conn, _store.Schema, cancellationToken).ConfigureAwait(false);
            try
            {
                await ExecuteAsync(conn, $"DROP INDEX CONCURRENTLY IF EXISTS {{schema}}.{Sql.QuoteIdentifier(space.IndexName)}", cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw await SchemaOwner.PermissionErrorAsync(_store.DataSource, _store.Schema, $"Dropping embedding space '{name}'", e).ConfigureAwait(false);
            }
            finally
            {
                await UnlockAsync(conn, _store.Schema).ConfigureAwait(false);
            }
            await using (var delete = Command(conn, "DELETE FROM {schema}.embedding_spaces WHERE id = $1"))
            {
                delete.CommandTimeout = 0;
                Add(delete, space.Id);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            SpaceCache.Of(_store).TryRemove(name, out _);
        }

        /// <summary>
        /// Makes sure the space's index exists and is valid (building it when missing, replacing an
        /// invalid one left by an interrupted build). Holds the schema's index-build advisory lock, polled rather than
        /// waited for: a session blocked in pg_advisory_lock holds a snapshot that a concurrent index
        /// build would wait for.
        /// </summary>
        async Task EnsureIndexAsync(NpgsqlConnection conn, EmbeddingSpace space, string maintenanceWorkMem, bool rebuild, CancellationToken cancellationToken)
        {
            if (space.IndexKind == VectorIndexKind.None)
                return;
            await LockAsync(conn, _store.Schema, cancellationToken).ConfigureAwait(false);
            var index = $"{{schema}}.{Sql.QuoteIdentifier(space.IndexName)}";
            try
            {
                const string state = """
                    SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                     WHERE c.relname = $1 AND c.relnamespace = $2::regnamespace
                    """;
                bool? valid;
                await using (var cmd = Command(conn, state))
                {
                    Add(cmd, space.IndexName).Add(Sql.QuoteIdentifier(_store.Schema));
                    valid = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as bool?;
                }
                if (valid == true && !rebuild)
                    return;
                if (valid is not null)
                    await ExecuteAsync(conn, $"DROP INDEX CONCURRENTLY IF EXISTS {index}", cancellationToken).ConfigureAwait(false);

                await using (var mem = Command(conn, "SELECT set_config('maintenance_work_mem', $1, false), set_config('statement_timeout', '0', false)"))
                {
                    Add(mem, maintenanceWorkMem);
                    try
                    {
                        await mem.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidParameterValue)
                    {
                        throw new ChatStoreValidationException("maintenanceWorkMem", "size", $"'{maintenanceWorkMem}' is not a PostgreSQL memory size such as 512MB or 1GB ({e.MessageText}).");
                    }
                }
                var sw = Stopwatch.StartNew();
                try
                {
                    await ExecuteAsync(conn, IndexDefinition(space), cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    // An interrupted concurrent build leaves an invalid index behind.
                    await ExecuteAsync(conn, $"DROP INDEX CONCURRENTLY IF EXISTS {index}", CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
                Activity.Current?.SetTag("index.build_ms", sw.ElapsedMilliseconds);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw await SchemaOwner.PermissionErrorAsync(_store.DataSource, _store.Schema, $"Building the vector index of space '{space.Name}'", e).ConfigureAwait(false);
            }
            finally
            {
                await UnlockAsync(conn, _store.Schema).ConfigureAwait(false);
                await ExecuteAsync(conn, "RESET maintenance_work_mem; RESET statement_timeout", CancellationToken.None).ConfigureAwait(false);
            }
        }

        /// <summary>
        /// The space's index DDL. The space id and dimension count are formatted from a <see cref="Guid"/>
        /// and an <see cref="int"/>, and the parameters are validated integers, so nothing is pasted from input.
        /// </summary>
        internal static string IndexDefinition(EmbeddingSpace space)
        {
            var p = space.IndexParameters;
            var method = space.IndexKind == VectorIndexKind.IvfFlat ? "ivfflat" : "hnsw";
            var with = space.IndexKind == VectorIndexKind.IvfFlat
                ? $"lists = {p.Lists ?? 100}"
                : $"m = {p.M ?? 16}, ef_construction = {p.EfConstruction ?? 64}";
            return FormattableString.Invariant($"""
                CREATE INDEX CONCURRENTLY {Sql.QuoteIdentifier(space.IndexName)} ON {"{schema}"}.embeddings
                USING {method} ((embedding::vector({space.Dimensions})) {EmbeddingKinds.OperatorClass(space.Metric)}) WITH ({with})
                WHERE space_id = '{space.Id:D}'::uuid
                """);
        }

        static async Task UnlockAsync(NpgsqlConnection conn, string schema)
        {
            await using var cmd = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockClass}, hashtext($1))", conn);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
            await cmd.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        static async Task LockAsync(NpgsqlConnection conn, string schema, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockClass}, hashtext($1))", conn);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
            var delay = 20;
            while (!(bool)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                await Task.Delay(delay + Random.Shared.Next(delay), cancellationToken).ConfigureAwait(false);
                delay = Math.Min(delay * 2, 500);
            }
        }

        static VectorIndexParameters ValidateParameters(VectorIndexKind kind, VectorIndexParameters p)
        {
            if (kind == VectorIndexKind.Hnsw)
            {
                if (p.Lists is not null) throw new ChatStoreValidationException("indexParameters.lists", "not_applicable", "applies to ivfflat indexes only.");
                var m = Validate.Range(p.M ?? 16, "indexParameters.m", 2, 100);
                var ef = Validate.Range(p.EfConstruction ?? 64, "indexParameters.efConstruction", 4, 1000);
                if (ef < 2 * m)
                    throw new ChatStoreValidationException("indexParameters.efConstruction", "range", $"must be at least 2 × m ({2 * m}); got {ef}.");
                return new VectorIndexParameters { M = m, EfConstruction = ef };
            }
            if (kind == VectorIndexKind.IvfFlat)
            {
                if (p.M is not null || p.EfConstruction is not null)
                    throw new ChatStoreValidationException(p.M is not null ? "indexParameters.m" : "indexParameters.efConstruction", "not_applicable", "applies to hnsw indexes only.");
                return new VectorIndexParameters { Lists = Validate.Range(p.Lists ?? 100, "indexParameters.lists", 1, 32768) };
            }
            if (p.M is not null || p.EfConstruction is not null || p.Lists is not null)
                throw new ChatStoreValidationException("indexParameters", "not_applicable", "a space without an index takes no index parameters.");
            return new VectorIndexParameters();
        }

        async Task<EmbeddingSpace?> FindAsync(NpgsqlConnection conn, string name, CancellationToken cancellationToken)
        {
            await using var cmd = Command(conn, $$"""SELECT {{Columns}} FROM {schema}.embedding_spaces WHERE name = $1""");
            Add(cmd, name);
            return await ReadSpaceAsync(cmd, cancellationToken).ConfigureAwait(false);
        }

        static async Task<EmbeddingSpace?> ReadSpaceAsync(NpgsqlCommand cmd, CancellationToken cancellationToken)
        {
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? Map(reader) : null;
        }

        NpgsqlCommand Command(NpgsqlConnection conn, string sql) => new(_store.Sql(sql), conn);

        async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken cancellationToken)
        {
            await using var cmd = new NpgsqlCommand(sql.Replace("{schema}", Sql.QuoteIdentifier(_store.Schema), StringComparison.Ordinal), conn) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        static Parameters Add<T>(NpgsqlCommand cmd, T value) => new Parameters(cmd).Add(value);

        readonly struct Parameters(NpgsqlCommand cmd)
        {
            public Parameters Add<T>(T value, NpgsqlDbType? type = null)
            {
                TenantTransaction.Add(cmd, value, type);
                return this;
            }
        }

        internal static EmbeddingSpace Map(NpgsqlDataReader r)
        {
            using var p = JsonDocument.Parse(r.GetString(6));
            int? Param(string key) => p.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
            return new EmbeddingSpace(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetInt32(3), EmbeddingKinds.ParseMetric(r.GetString(4)),
                EmbeddingKinds.ParseIndex(r.GetString(5)),
                new VectorIndexParameters { M = Param("m"), EfConstruction = Param("ef_construction"), Lists = Param("lists") },
                r.GetFieldValue<DateTimeOffset>(7));
        }
    }

    /// <summary>Spaces by name, per client. Spaces never change once registered; a dropped one is removed.</summary>
    internal static class SpaceCache
    {
        static readonly ConditionalWeakTable<StoreContext, ConcurrentDictionary<string, EmbeddingSpace>> Caches = new();

        public static ConcurrentDictionary<string, EmbeddingSpace> Of(StoreContext store) => Caches.GetOrCreateValue(store);
    }
}

namespace ChatStore
{
    public sealed partial class ChatStoreClient
    {
        /// <summary>Embedding spaces (operator operations; the tenant's vectors are <c>ForTenant(id).Embeddings</c>).</summary>
        public Embeddings.EmbeddingSpaceStore Embeddings => new(Context);
    }
}
