using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Embeddings
{
    /// <summary>
    /// A tenant's vectors: store one (upsert by space, owner and chunk), bulk-load many through binary
    /// COPY, read back, delete, and embed rows that have none yet (<see cref="ReindexAsync"/>).
    /// Every vector belongs to exactly one message, memory, document chunk, analysis or subject of the
    /// tenant; its user and conversation are copied from the owner for filtering, and deleting the
    /// owner deletes its vectors.
    /// </summary>
    public sealed class EmbeddingStore
    {
        const string Columns = """
            e.id, e.space_id, CASE WHEN e.message_id IS NOT NULL THEN 'message' WHEN e.memory_id IS NOT NULL THEN 'memory'
                 WHEN e.document_id IS NOT NULL THEN 'document' WHEN e.analysis_id IS NOT NULL THEN 'analysis' ELSE 'subject' END,
            coalesce(e.message_id, e.memory_id, e.document_id, e.analysis_id, e.subject_id), e.user_id, e.conversation_id,
            e.chunk_index, e.chunk_text, e.created_at
            """;

        /// <summary>
        /// The owner of kind $1 (text) and id $2 (uuid) as (user_id, conversation_id, created_at), when it is
        /// this tenant's (row-level security hides the others) and not soft-deleted.
        /// </summary>
        internal const string OwnerSql = """
            SELECT m.user_id, m.conversation_id, m.created_at FROM {schema}.messages m
             WHERE $1::text = 'message' AND m.tenant_id = {tenant} AND m.id = $2::uuid AND m.deleted_at IS NULL
            UNION ALL
            SELECT x.user_id, NULL::uuid, x.created_at FROM {schema}.memories x
             WHERE $1::text = 'memory' AND x.tenant_id = {tenant} AND x.id = $2::uuid AND x.deleted_at IS NULL
            UNION ALL
            SELECT d.user_id, d.conversation_id, d.created_at FROM {schema}.documents d
             WHERE $1::text = 'document' AND d.tenant_id = {tenant} AND d.id = $2::uuid AND d.deleted_at IS NULL
            UNION ALL
            SELECT d.user_id, d.conversation_id, a.created_at FROM {schema}.document_analyses a JOIN {schema}.documents d ON d.tenant_id = {tenant} AND d.id = a.document_id
             WHERE $1::text = 'analysis' AND a.tenant_id = {tenant} AND a.id = $2::uuid AND d.deleted_at IS NULL
            UNION ALL
            SELECT s.user_id, NULL::uuid, s.created_at FROM {schema}.subjects s
             WHERE $1::text = 'subject' AND s.tenant_id = {tenant} AND s.id = $2::uuid AND s.deleted_at IS NULL
            """;

        const string OwnerKey = "(tenant_id, space_id, (coalesce(message_id, memory_id, document_id, analysis_id, subject_id)), chunk_index)";

        readonly TenantScope _scope;

        internal EmbeddingStore(TenantScope scope) => _scope = scope;

        /// <summary>A space by name (cached per client; spaces are registered with <c>client.Embeddings</c>).</summary>
        public async Task<EmbeddingSpace> GetSpaceAsync(string name, CancellationToken cancellationToken = default)
        {
            using var op = Telemetry.Start("embeddings.get_space");
            name = Validate.Required(name, "space", 63);
            var cache = SpaceCache.Of(_scope.Context);
            if (cache.TryGetValue(name, out var cached))
                return cached;
            await using var cmd = await _scope.CommandAsync($$"""SELECT {{EmbeddingSpaceStore.Columns}} FROM {schema}.embedding_spaces WHERE name = $1""", cancellationToken)
                .ConfigureAwait(false);
            cmd.Add(name);
            var space = await cmd.ReadSingleAsync(EmbeddingSpaceStore.Map, cancellationToken).ConfigureAwait(false)
                ?? throw new ChatStoreNotFoundException("embedding space", name);
            return cache[name] = space;
        }

        /// <summary>
        /// Stores the vector of <paramref name="owner"/>'s chunk <paramref name="chunkIndex"/> in
        /// <paramref name="space"/>, replacing the one stored before. The owner must be this tenant's
        /// (not found otherwise); the vector must have the space's dimensions and finite components.
        /// </summary>
        public async Task<StoredEmbedding> UpsertAsync(EmbeddingSpace space, EmbeddingOwner owner, ReadOnlyMemory<float> vector, int chunkIndex = 0,
            string? chunkText = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            using var op = Telemetry.Start("embeddings.upsert");
            var kind = EmbeddingKinds.Name(owner.Kind);
            Validate.Id(owner.Id, "owner.id");
            var values = Vectors.Check(vector, space, "vector");
            Validate.NotNegative(chunkIndex, "chunkIndex");
            chunkText = Validate.Text(chunkText, "chunkText", _scope.Limits.MaxContentLength);

            const string sql = $$"""
                WITH o AS ({{OwnerSql}})
                INSERT INTO {schema}.embeddings AS e
                    (id, tenant_id, space_id, user_id, message_id, memory_id, document_id, analysis_id, subject_id, conversation_id,
                     chunk_index, chunk_text, embedding, owner_created_at)
                SELECT $3, {tenant}, $4, o.user_id,
                       CASE WHEN $1 = 'message' THEN $2 END, CASE WHEN $1 = 'memory' THEN $2 END, CASE WHEN $1 = 'document' THEN $2 END,
                       CASE WHEN $1 = 'analysis' THEN $2 END, CASE WHEN $1 = 'subject' THEN $2 END,
                       o.conversation_id, $5, $6, $7::real[]::vector, o.created_at
                  FROM o
                ON CONFLICT {{OwnerKey}} DO UPDATE SET
                    embedding = EXCLUDED.embedding, chunk_text = EXCLUDED.chunk_text, user_id = EXCLUDED.user_id,
                    conversation_id = EXCLUDED.conversation_id, owner_created_at = EXCLUDED.owner_created_at, created_at = EXCLUDED.created_at
                RETURNING {{Columns}}
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(kind).Add(owner.Id).Add(Ids.New()).Add(space.Id).Add(chunkIndex).Add(chunkText).Add(values);
            try
            {
                var stored = await cmd.ReadSingleAsync(r => Map(r, null), cancellationToken).ConfigureAwait(false)
                    ?? throw new ChatStoreNotFoundException(kind, owner.Id);
                return stored with { Vector = values };
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation && e.ConstraintName == "embeddings_space_id_fkey")
            {
                SpaceCache.Of(_scope.Context).TryRemove(space.Name, out _);
                throw new ChatStoreNotFoundException("embedding space", space.Name);
            }
        }

        /// <summary>The vectors stored for <paramref name="owner"/> in <paramref name="space"/>, by chunk, read back as floats.</summary>
        /// <exception cref="ChatStoreNotFoundException">The owner is not this tenant's, or is deleted.</exception>
        public async Task<IReadOnlyList<StoredEmbedding>> ListAsync(EmbeddingSpace space, EmbeddingOwner owner, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            using var op = Telemetry.Start("embeddings.list");
            var kind = EmbeddingKinds.Name(owner.Kind);
            // No row: the owner is not this tenant's. One row of NULLs: the owner has no vectors in the space.
            const string sql = $$"""
                WITH o AS ({{OwnerSql}})
                SELECT {{Columns}}, e.embedding::real[] FROM (SELECT 1 FROM o LIMIT 1) AS owner
                  LEFT JOIN {schema}.embeddings e
                    ON e.tenant_id = {tenant} AND e.space_id = $3 AND coalesce(e.message_id, e.memory_id, e.document_id, e.analysis_id, e.subject_id) = $2
                   AND CASE $1 WHEN 'message' THEN e.message_id WHEN 'memory' THEN e.memory_id WHEN 'document' THEN e.document_id
                       WHEN 'analysis' THEN e.analysis_id ELSE e.subject_id END IS NOT NULL
                 ORDER BY e.chunk_index
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(kind).Add(owner.Id).Add(space.Id);
            var rows = await cmd.ReadListAsync(r => r.IsDBNull(0) ? null : Map(r, r.GetFieldValue<float[]>(9)), cancellationToken).ConfigureAwait(false);
            return rows.Count == 0 ? throw new ChatStoreNotFoundException(kind, owner.Id) : [.. rows.OfType<StoredEmbedding>()];
        }

        /// <summary>Deletes <paramref name="owner"/>'s vectors in <paramref name="space"/>; returns how many there were.</summary>
        /// <exception cref="ChatStoreNotFoundException">The owner is not this tenant's, or is deleted.</exception>
        public async Task<int> DeleteAsync(EmbeddingSpace space, EmbeddingOwner owner, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            using var op = Telemetry.Start("embeddings.delete");
            var kind = EmbeddingKinds.Name(owner.Kind);
            const string sql = $$"""
                WITH o AS ({{OwnerSql}}),
                     d AS (DELETE FROM {schema}.embeddings
                            WHERE tenant_id = {tenant} AND space_id = $3 AND coalesce(message_id, memory_id, document_id, analysis_id, subject_id) = $2 AND EXISTS (SELECT 1 FROM o)
                           RETURNING 1)
                SELECT EXISTS (SELECT 1 FROM o), (SELECT count(*) FROM d)::int
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(kind).Add(owner.Id).Add(space.Id);
            var (found, deleted) = await cmd.ReadSingleAsync(r => (r.GetBoolean(0), r.GetInt32(1)), cancellationToken).ConfigureAwait(false);
            return found ? deleted : throw new ChatStoreNotFoundException(kind, owner.Id);
        }

        /// <summary>Bulk-loads vectors (see the <see cref="IAsyncEnumerable{T}"/> overload).</summary>
        public Task<long> BulkLoadAsync(EmbeddingSpace space, IEnumerable<EmbeddingRow> rows, IProgress<long>? progress = null,
            CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(rows);
            return BulkLoadAsync(space, Async(rows), progress, cancellationToken);

            static async IAsyncEnumerable<EmbeddingRow> Async(IEnumerable<EmbeddingRow> rows)
            {
                foreach (var row in rows)
                    yield return row;
                await Task.CompletedTask.ConfigureAwait(false);
            }
        }

        /// <summary>
        /// Bulk-loads vectors in one transaction: binary COPY (pgvector's wire format written directly)
        /// into a transaction-local staging table, then one INSERT … SELECT that checks every owner is
        /// this tenant's and upserts by (space, owner, chunk). COPY FROM cannot write into a table under
        /// row-level security, hence the staging table. All or nothing: a row with a bad vector, an
        /// unknown owner or a repeated (owner, chunk) fails the whole load and stores nothing.
        /// </summary>
        /// <param name="space">The space the vectors belong to.</param>
        /// <param name="rows">The rows, streamed.</param>
        /// <param name="progress">Receives the number of rows sent so far (every 1,000 rows and at the end).</param>
        /// <param name="cancellationToken">Cancels the load; nothing is stored.</param>
        /// <returns>The number of vectors stored.</returns>
        public async Task<long> BulkLoadAsync(EmbeddingSpace space, IAsyncEnumerable<EmbeddingRow> rows, IProgress<long>? progress = null,
            CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            ArgumentNullException.ThrowIfNull(rows);
            using var op = Telemetry.Start("embeddings.bulk_load");
            var limits = _scope.Limits;
            await using var tx = await _scope.BeginAsync(cancellationToken).ConfigureAwait(false);
            await using (var create = tx.Command("""
                CREATE TEMP TABLE chatstore_embedding_stage (id uuid NOT NULL, owner_kind text NOT NULL, owner_id uuid NOT NULL, chunk_index integer NOT NULL,
                    chunk_text text, embedding vector NOT NULL) ON COMMIT DROP;
                SET LOCAL jit = off
                """))
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            long sent = 0;
            var wire = new byte[Vectors.WireSize(space.Dimensions)];
            await using (var copy = await tx.Connection.BeginBinaryImportAsync(
                "COPY pg_temp.chatstore_embedding_stage (id, owner_kind, owner_id, chunk_index, chunk_text, embedding) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                await foreach (var row in rows.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    var field = $"rows[{sent}]";
                    if (row is null) throw new ChatStoreValidationException(field, "required", "is null.");
                    var kind = EmbeddingKinds.Name(row.Owner.Kind);
                    Validate.Id(row.Owner.Id, field + ".owner.id");
                    Vectors.Check(row.Vector, space, field + ".vector");
                    Validate.NotNegative(row.ChunkIndex, field + ".chunkIndex");
                    var text = Validate.Text(row.ChunkText, field + ".chunkText", limits.MaxContentLength);
                    Vectors.WriteWire(row.Vector.Span, wire);

                    await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(Ids.New(), NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(kind, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(row.Owner.Id, NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                    await copy.WriteAsync(row.ChunkIndex, NpgsqlDbType.Integer, cancellationToken).ConfigureAwait(false);
                    if (text is null)
                        await copy.WriteNullAsync(cancellationToken).ConfigureAwait(false);
                    else
                        await copy.WriteAsync(text, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    // COPY BINARY hands each field's bytes to the column type's receive function
                    // (vector_recv), so the vector goes as raw bytes: a bytea write is length + bytes.
                    await copy.WriteAsync(wire, NpgsqlDbType.Bytea, cancellationToken).ConfigureAwait(false);
                    if (++sent % 1000 == 0)
                        progress?.Report(sent);
                }
                await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
            if (sent == 0)
            {
                progress?.Report(0);
                return 0;
            }

            const string insert = $$"""
                WITH src AS MATERIALIZED (
                    SELECT s.*, o.user_id, o.conversation_id, o.created_at AS owner_created_at, o.user_id IS NOT NULL AS found
                      FROM pg_temp.chatstore_embedding_stage s
                      LEFT JOIN LATERAL (
                          SELECT m.user_id, m.conversation_id, m.created_at FROM {schema}.messages m
                           WHERE s.owner_kind = 'message' AND m.tenant_id = {tenant} AND m.id = s.owner_id AND m.deleted_at IS NULL
                          UNION ALL
                          SELECT x.user_id, NULL::uuid, x.created_at FROM {schema}.memories x
                           WHERE s.owner_kind = 'memory' AND x.tenant_id = {tenant} AND x.id = s.owner_id AND x.deleted_at IS NULL
                          UNION ALL
                          SELECT d.user_id, d.conversation_id, d.created_at FROM {schema}.documents d
                           WHERE s.owner_kind = 'document' AND d.tenant_id = {tenant} AND d.id = s.owner_id AND d.deleted_at IS NULL
                          UNION ALL
                          SELECT d.user_id, d.conversation_id, a.created_at FROM {schema}.document_analyses a JOIN {schema}.documents d ON d.tenant_id = {tenant} AND d.id = a.document_id
                           WHERE s.owner_kind = 'analysis' AND a.tenant_id = {tenant} AND a.id = s.owner_id AND d.deleted_at IS NULL
                          UNION ALL
                          SELECT j.user_id, NULL::uuid, j.created_at FROM {schema}.subjects j
                           WHERE s.owner_kind = 'subject' AND j.tenant_id = {tenant} AND j.id = s.owner_id AND j.deleted_at IS NULL
                      ) o ON true),
                missing AS (SELECT owner_kind, owner_id FROM src WHERE NOT found LIMIT 1),
                ins AS (
                    INSERT INTO {schema}.embeddings
                        (id, tenant_id, space_id, user_id, message_id, memory_id, document_id, analysis_id, subject_id, conversation_id,
                         chunk_index, chunk_text, embedding, owner_created_at)
                    SELECT src.id, {tenant}, $1, src.user_id,
                           CASE WHEN owner_kind = 'message' THEN owner_id END, CASE WHEN owner_kind = 'memory' THEN owner_id END,
                           CASE WHEN owner_kind = 'document' THEN owner_id END, CASE WHEN owner_kind = 'analysis' THEN owner_id END,
                           CASE WHEN owner_kind = 'subject' THEN owner_id END,
                           src.conversation_id, chunk_index, chunk_text, embedding, owner_created_at
                      FROM src
                     WHERE NOT EXISTS (SELECT 1 FROM missing)
                    ON CONFLICT {{OwnerKey}} DO UPDATE SET
                        embedding = EXCLUDED.embedding, chunk_text = EXCLUDED.chunk_text, user_id = EXCLUDED.user_id,
                        conversation_id = EXCLUDED.conversation_id, owner_created_at = EXCLUDED.owner_created_at, created_at = EXCLUDED.created_at
                    RETURNING 1)
                SELECT (SELECT count(*) FROM ins), (SELECT owner_kind FROM missing), (SELECT owner_id FROM missing)
                """;
            await using var cmd = tx.Command(insert);
            cmd.CommandTimeout = 0;
            TenantTransactionAdd(cmd, space.Id);
            long stored;
            try
            {
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (!reader.IsDBNull(1))
                    throw new ChatStoreNotFoundException(reader.GetString(1), reader.GetGuid(2));
                stored = reader.GetInt64(0);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CardinalityViolation)
            {
                throw new ChatStoreValidationException("rows", "duplicate", "names the same owner and chunk index more than once.");
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation && e.ConstraintName == "embeddings_space_id_fkey")
            {
                SpaceCache.Of(_scope.Context).TryRemove(space.Name, out _);
                throw new ChatStoreNotFoundException("embedding space", space.Name);
            }
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report(sent);
            return stored;
        }

        static void TenantTransactionAdd<T>(NpgsqlCommand cmd, T value) => Tenancy.TenantTransaction.Add(cmd, value);

        /// <summary>
        /// Embeds this tenant's rows that have no vector in <paramref name="space"/> yet (messages,
        /// memories, documents in chunks, analyses), in batches, with <paramref name="generator"/>.
        /// Safe to stop and run again: it picks up the rows still missing.
        /// </summary>
        public async Task<ReindexResult> ReindexAsync(EmbeddingSpace space, Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> generator,
            ReindexOptions? options = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            ArgumentNullException.ThrowIfNull(generator);
            using var op = Telemetry.Start("embeddings.reindex");
            options ??= new ReindexOptions();
            Validate.Range(options.BatchSize, "batchSize", 1, 10_000);
            Validate.Range(options.ChunkLength, "chunkLength", 100, 100_000);
            Validate.Range(options.ChunkOverlap, "chunkOverlap", 0, options.ChunkLength / 2);
            var kinds = options.Kinds ?? [EmbeddingOwnerKind.Message, EmbeddingOwnerKind.Memory, EmbeddingOwnerKind.Document, EmbeddingOwnerKind.Analysis];
            var counts = new Dictionary<EmbeddingOwnerKind, long>();
            long owners = 0;
            foreach (var kind in kinds.Distinct())
            {
                var sql = kind switch
                {
                    EmbeddingOwnerKind.Message => ReindexMessages,
                    EmbeddingOwnerKind.Memory => ReindexMemories,
                    EmbeddingOwnerKind.Document => ReindexDocuments,
                    EmbeddingOwnerKind.Analysis => ReindexAnalyses,
                    _ => throw new ChatStoreValidationException("kinds", "enum", "reindex embeds messages, memories, documents and analyses."),
                };
                var batch = kind == EmbeddingOwnerKind.Document ? Math.Max(1, options.BatchSize / 16) : options.BatchSize;
                var after = Guid.Empty;
                long done = 0;
                while (true)
                {
                    List<(Guid Id, string Text)> pending;
                    await using (var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false))
                    {
                        cmd.Add(space.Id).Add(after).Add(batch);
                        pending = await cmd.ReadListAsync(r => (r.GetGuid(0), r.GetString(1)), cancellationToken).ConfigureAwait(false);
                    }
                    if (pending.Count == 0)
                        break;
                    after = pending[^1].Id;
                    var chunks = new List<(EmbeddingOwner Owner, int Index, string Text)>();
                    foreach (var (id, text) in pending)
                    {
                        var owner = new EmbeddingOwner(kind, id);
                        if (kind == EmbeddingOwnerKind.Document)
                        {
                            var i = 0;
                            foreach (var chunk in TextChunks.Split(text, options.ChunkLength, options.ChunkOverlap))
                                chunks.Add((owner, i++, chunk));
                        }
                        else
                        {
                            chunks.Add((owner, 0, text));
                        }
                    }
                    var rows = new List<EmbeddingRow>(chunks.Count);
                    foreach (var slice in chunks.Chunk(options.BatchSize))
                    {
                        var generated = await generator.GenerateAsync(slice.Select(c => c.Text), cancellationToken: cancellationToken).ConfigureAwait(false);
                        if (generated.Count != slice.Length)
                            throw new ChatStoreException($"The embedding generator returned {generated.Count} vectors for {slice.Length} texts.");
                        for (var i = 0; i < slice.Length; i++)
                            rows.Add(new EmbeddingRow(slice[i].Owner, generated[i].Vector, slice[i].Index,
                                options.StoreChunkText || kind == EmbeddingOwnerKind.Document ? slice[i].Text : null));
                    }
                    await BulkLoadAsync(space, rows, null, cancellationToken).ConfigureAwait(false);
                    done += pending.Count;
                    owners += pending.Count;
                    progress?.Report(owners);
                }
                counts[kind] = done;
            }
            return new ReindexResult(owners, counts);
        }

        /// <summary>How many of this tenant's rows <see cref="ReindexAsync"/> would embed (messages, memories, documents and analyses without a vector in the space).</summary>
        public async Task<long> CountMissingAsync(EmbeddingSpace space, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(space);
            using var op = Telemetry.Start("embeddings.count_missing");
            const string sql = $$"""
                SELECT (SELECT count(*) FROM ({{ReindexMessages}}) m) + (SELECT count(*) FROM ({{ReindexMemories}}) x)
                     + (SELECT count(*) FROM ({{ReindexDocuments}}) d) + (SELECT count(*) FROM ({{ReindexAnalyses}}) a)
                """;
            await using var cmd = await _scope.CommandAsync(sql, cancellationToken).ConfigureAwait(false);
            cmd.Add(space.Id).Add(Guid.Empty).Add(long.MaxValue);
            return await cmd.ReadSingleAsync(r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
        }

        // Rows of one kind that have no vector in space $1, after id $2, at most $3. Text is cut to what
        // is indexed for full-text search too (documents are chunked in .NET).
        const string ReindexMessages = """
            SELECT m.id, left(m.content, 100000) FROM {schema}.messages m
             WHERE m.tenant_id = {tenant} AND m.id > $2 AND m.deleted_at IS NULL AND m.content <> ''
               AND NOT EXISTS (SELECT 1 FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.message_id = m.id AND e.space_id = $1)
             ORDER BY m.id LIMIT $3
            """;

        const string ReindexMemories = """
            SELECT m.id, left(m.content, 100000) FROM {schema}.memories m
             WHERE m.tenant_id = {tenant} AND m.id > $2 AND m.deleted_at IS NULL AND m.superseded_by IS NULL
               AND NOT EXISTS (SELECT 1 FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.memory_id = m.id AND e.space_id = $1)
             ORDER BY m.id LIMIT $3
            """;

        const string ReindexDocuments = """
            SELECT d.id, d.filename || E'\n' || d.extracted_text FROM {schema}.documents d
             WHERE d.tenant_id = {tenant} AND d.id > $2 AND d.deleted_at IS NULL
               AND d.extracted_text IS NOT NULL AND d.extracted_text <> ''
               AND NOT EXISTS (SELECT 1 FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.document_id = d.id AND e.space_id = $1)
             ORDER BY d.id LIMIT $3
            """;

        const string ReindexAnalyses = """
            SELECT a.id, left(coalesce(a.category || E'\n', '') || a.summary, 100000) FROM {schema}.document_analyses a
             WHERE a.tenant_id = {tenant} AND a.id > $2 AND a.summary <> ''
               AND NOT EXISTS (SELECT 1 FROM {schema}.embeddings e WHERE e.tenant_id = {tenant} AND e.analysis_id = a.id AND e.space_id = $1)
             ORDER BY a.id LIMIT $3
            """;

        static StoredEmbedding Map(NpgsqlDataReader r, float[]? vector) => new(
            r.GetGuid(0), r.GetGuid(1), new EmbeddingOwner(EmbeddingKinds.Parse(r.GetString(2)), r.GetGuid(3)),
            r.IsDBNull(4) ? null : r.GetGuid(4), r.IsDBNull(5) ? null : r.GetGuid(5), r.GetInt32(6), r.IsDBNull(7) ? null : r.GetString(7),
            vector ?? ReadOnlyMemory<float>.Empty, r.GetFieldValue<DateTimeOffset>(8));
    }

    /// <summary>How <see cref="EmbeddingStore.ReindexAsync"/> works through rows.</summary>
    public sealed record ReindexOptions
    {
        /// <summary>Which kinds of rows to embed (default: messages, memories, documents, analyses).</summary>
        public IReadOnlyList<EmbeddingOwnerKind>? Kinds { get; init; }

        /// <summary>Rows per batch, and texts per generator call (default 128).</summary>
        public int BatchSize { get; init; } = 128;

        /// <summary>Characters per document chunk (default 2,000).</summary>
        public int ChunkLength { get; init; } = 2000;

        /// <summary>Characters shared by neighbouring document chunks (default 200).</summary>
        public int ChunkOverlap { get; init; } = 200;

        /// <summary>Store the embedded text of messages, memories and analyses too (document chunks always are).</summary>
        public bool StoreChunkText { get; init; }
    }

    /// <summary>What <see cref="EmbeddingStore.ReindexAsync"/> embedded.</summary>
    /// <param name="Rows">Rows embedded in all.</param>
    /// <param name="ByKind">Rows embedded per kind.</param>
    public sealed record ReindexResult(long Rows, IReadOnlyDictionary<EmbeddingOwnerKind, long> ByKind);

    /// <summary>Splits long text into overlapping chunks, preferring to cut at whitespace.</summary>
    internal static class TextChunks
    {
        public static IEnumerable<string> Split(string text, int length, int overlap)
        {
            if (text.Length <= length)
            {
                yield return text;
                yield break;
            }
            var start = 0;
            while (start < text.Length)
            {
                var end = Math.Min(text.Length, start + length);
                if (end < text.Length)
                {
                    var cut = text.LastIndexOfAny([' ', '\n', '\t'], end - 1, end - start);
                    if (cut > start + length / 2) end = cut + 1;
                    if (char.IsHighSurrogate(text[end - 1])) end--;
                }
                yield return text[start..end];
                if (end == text.Length) yield break;
                var next = end - overlap;
                if (next <= start) next = end;
                if (char.IsLowSurrogate(text[next])) next++;
                start = next;
            }
        }
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>The tenant's vectors.</summary>
        public Embeddings.EmbeddingStore Embeddings => new(this);
    }
}
