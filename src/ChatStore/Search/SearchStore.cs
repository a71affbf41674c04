using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using ChatStore.Embeddings;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Search
{
    /// <summary>
    /// Search over a tenant's messages, memories, documents and analyses: full text (ranked, with
    /// snippets, keyset-paginated), k-nearest-neighbour vectors in an embedding space, and both fused
    /// by reciprocal rank. Each is one round trip; any query text is valid.
    /// </summary>
    /// <remarks>
    /// Every statement shares one parameter layout, so the SQL fragments compose:
    /// $1 user, $2 conversation, $3 from, $4 to, $5 kinds, $6 language, $7 query text, $8 roles,
    /// $9 statuses, $10 query vector, $11 vector candidates, $12 exact threshold (0 index, −1 exact,
    /// n auto), $13 limit, $14/$15 cursor rank and id, $16 ts_headline options, $17 RRF k,
    /// $18 full-text candidates. Statements run with custom plans (see <see cref="SearchCommand"/>),
    /// so the filters that are null fold away before planning.
    /// <para>
    /// Full text under row-level security: PostgreSQL does not use an index for a condition whose
    /// operator is not leakproof below a row-security policy, and <c>@@</c> (<c>ts_match_vq</c>) is not
    /// marked leakproof. A search filtered by user is served by the user's btree index (the matches are
    /// checked over that user's rows); a tenant-wide search reads the tenant's rows. A superuser can let
    /// the GIN indexes serve every search with
    /// <c>ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF</c> (per database).
    /// </para>
    /// </remarks>
    public sealed class SearchStore
    {
        /// <summary>The longest query text (characters).</summary>
        public const int MaxQueryLength = 10_000;

        /// <summary>Words of the query text that are used; the rest is ignored (it bounds the cost of ranking and snippets).</summary>
        public const int MaxQueryWords = 64;

        static readonly string[] MessageRoles = ["user", "assistant", "system", "tool"];
        static readonly string[] Statuses = ["complete", "streaming", "error", "pending", "processing", "ready", "failed"];
        static readonly SearchKind[] TextKinds = [SearchKind.Message, SearchKind.Memory, SearchKind.Document, SearchKind.Analysis];
        static readonly SearchKind[] AllKinds = [.. TextKinds, SearchKind.Subject];

        readonly TenantScope _scope;

        internal SearchStore(TenantScope scope) => _scope = scope;

        // The query, in chatstore.search_language: the tenant's search language unless one is given, set
        // by SearchCommand before this statement is planned. The match conditions repeat the
        // websearch_to_tsquery call instead of reading q: the planner folds it to a constant for its
        // estimates, so rare words use the GIN index and common ones the user's btree (an InitPlan
        // parameter would be a guess). Ranks read q's copy, parsed once. Text beyond 100,000 characters
        // is not indexed (see the tsvector columns), so snippets read the same prefix.
        const string Query = """
            q AS (
                SELECT websearch_to_tsquery(l.cfg, $7) AS query, l.cfg,
                       -- Snippets highlight an OR of the query's distinct words: ts_headline's cost grows with
                       -- operands × occurrences, so the query itself (phrases, repeats) could take seconds on a long text.
                       array_to_string(ARRAY(
                           SELECT '''' || replace(replace(x, '\', '\\'), '''', '''''') || ''''
                             FROM unnest((tsvector_to_array(to_tsvector(l.cfg, $7)))[1:32]) x), ' | ')::tsquery AS highlight
                  FROM (SELECT current_setting('chatstore.search_language')::regconfig AS cfg) l)
            """;

        // Every full-text match as (kind, id, rank). Each branch is gated by its kind, and filters a
        // kind lacks (roles, statuses) leave the kind out when set.
        const string TextMatches = """
            fts AS (
                SELECT 'message'::text AS kind, m.id, ts_rank_cd(m.search_vector, (SELECT query FROM q), 1) AS rank
                  FROM {schema}.messages m
                 WHERE 'message' = ANY ($5::text[]) AND m.search_vector @@ websearch_to_tsquery(current_setting('chatstore.search_language')::regconfig, $7)
                   AND m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL
                   AND ($1::uuid IS NULL OR m.user_id = $1) AND ($2::uuid IS NULL OR m.conversation_id = $2)
                   AND ($3::timestamptz IS NULL OR m.created_at >= $3) AND ($4::timestamptz IS NULL OR m.created_at < $4)
                   AND ($8::text[] IS NULL OR m.role = ANY ($8)) AND ($9::text[] IS NULL OR m.status = ANY ($9))
                   AND NOT EXISTS (SELECT 1 FROM {schema}.conversations c WHERE c.id = m.conversation_id AND c.deleted_at IS NOT NULL)
                UNION ALL
                SELECT 'memory', x.id, ts_rank_cd(x.search_vector, (SELECT query FROM q), 1)
                  FROM {schema}.memories x
                 WHERE 'memory' = ANY ($5::text[]) AND $8::text[] IS NULL AND $9::text[] IS NULL AND x.search_vector @@ websearch_to_tsquery(current_setting('chatstore.search_language')::regconfig, $7)
                   AND x.tenant_id = current_setting('chatstore.tenant_id')::uuid AND x.deleted_at IS NULL AND x.superseded_by IS NULL
                   AND ($1::uuid IS NULL OR x.user_id = $1)
                   AND ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM {schema}.memory_sources s WHERE s.memory_id = x.id AND s.conversation_id = $2))
                   AND ($3::timestamptz IS NULL OR x.created_at >= $3) AND ($4::timestamptz IS NULL OR x.created_at < $4)
                UNION ALL
                SELECT 'document', d.id, ts_rank_cd(d.search_vector, (SELECT query FROM q), 1)
                  FROM {schema}.documents d
                 WHERE 'document' = ANY ($5::text[]) AND $8::text[] IS NULL AND d.search_vector @@ websearch_to_tsquery(current_setting('chatstore.search_language')::regconfig, $7)
                   AND d.tenant_id = current_setting('chatstore.tenant_id')::uuid AND d.deleted_at IS NULL
                   AND ($1::uuid IS NULL OR d.user_id = $1) AND ($2::uuid IS NULL OR d.conversation_id = $2)
                   AND ($3::timestamptz IS NULL OR d.created_at >= $3) AND ($4::timestamptz IS NULL OR d.created_at < $4)
                   AND ($9::text[] IS NULL OR d.status = ANY ($9))
                UNION ALL
                SELECT 'analysis', a.id, ts_rank_cd(a.search_vector, (SELECT query FROM q), 1)
                  FROM {schema}.document_analyses a JOIN {schema}.documents d ON d.id = a.document_id
                 WHERE 'analysis' = ANY ($5::text[]) AND $8::text[] IS NULL AND $9::text[] IS NULL AND a.search_vector @@ websearch_to_tsquery(current_setting('chatstore.search_language')::regconfig, $7)
                   AND a.tenant_id = current_setting('chatstore.tenant_id')::uuid AND d.deleted_at IS NULL
                   AND ($1::uuid IS NULL OR d.user_id = $1) AND ($2::uuid IS NULL OR d.conversation_id = $2)
                   AND ($3::timestamptz IS NULL OR a.created_at >= $3) AND ($4::timestamptz IS NULL OR a.created_at < $4))
            """;

        // A result's owner row: who, where, when, and the indexed text (for snippets). p.kind, p.id.
        const string Owner = """
            CROSS JOIN LATERAL (
                SELECT m.user_id, m.conversation_id, NULL::uuid AS document_id, m.role, m.status, m.created_at, left(m.content, 100000) AS body
                  FROM {schema}.messages m WHERE p.kind = 'message' AND m.id = p.id
                UNION ALL
                SELECT x.user_id, NULL, NULL, NULL, NULL, x.created_at, left(x.content, 100000)
                  FROM {schema}.memories x WHERE p.kind = 'memory' AND x.id = p.id
                UNION ALL
                SELECT d.user_id, d.conversation_id, d.id, NULL, d.status, d.created_at, left(d.filename || ' ' || coalesce(d.extracted_text, ''), 100000)
                  FROM {schema}.documents d WHERE p.kind = 'document' AND d.id = p.id
                UNION ALL
                SELECT d.user_id, d.conversation_id, d.id, NULL, NULL, a.created_at, left(coalesce(a.category, '') || ' ' || a.summary, 100000)
                  FROM {schema}.document_analyses a JOIN {schema}.documents d ON d.id = a.document_id WHERE p.kind = 'analysis' AND a.id = p.id
                UNION ALL
                SELECT s.user_id, NULL, NULL, NULL, NULL, s.created_at, s.name
                  FROM {schema}.subjects s WHERE p.kind = 'subject' AND s.id = p.id
            ) o
            """;

        const string FullTextSql = $$"""
            WITH {{Query}},
            {{TextMatches}},
            page AS (
                SELECT kind, id, rank FROM fts
                 WHERE (SELECT q.cfg IS NOT NULL FROM q) -- resolves the language even when nothing matches
                   AND ($14::real IS NULL OR (rank, id) < ($14::real, $15::uuid))
                 ORDER BY rank DESC, id DESC
                 LIMIT $13)
            SELECT p.kind, p.id, o.user_id, o.conversation_id, o.document_id, o.role, o.status, o.created_at, p.rank,
                   ts_headline((SELECT cfg FROM q), o.body, (SELECT highlight FROM q), $16)
              FROM page p
              {{Owner}}
             ORDER BY p.rank DESC, p.id DESC
            """;

        // Vector candidates, for a space rendered into {space} (its id) and {distance} (the distance
        // expression that the space's partial index serves); see ForSpace. No liveness checks: soft-deleting
        // an owner deletes its vectors (migration 0008's triggers).
        const string VectorFilter = """
            e.space_id = {space} AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid
               AND ($1::uuid IS NULL OR e.user_id = $1) AND ($2::uuid IS NULL OR e.conversation_id = $2)
               AND ($3::timestamptz IS NULL OR e.owner_created_at >= $3) AND ($4::timestamptz IS NULL OR e.owner_created_at < $4)
               AND CASE WHEN e.message_id IS NOT NULL THEN 'message' WHEN e.memory_id IS NOT NULL THEN 'memory'
                        WHEN e.document_id IS NOT NULL THEN 'document' WHEN e.analysis_id IS NOT NULL THEN 'analysis' ELSE 'subject' END = ANY ($5::text[])
            """;

        const string VectorColumns = """
            e.id, CASE WHEN e.message_id IS NOT NULL THEN 'message' WHEN e.memory_id IS NOT NULL THEN 'memory'
                       WHEN e.document_id IS NOT NULL THEN 'document' WHEN e.analysis_id IS NOT NULL THEN 'analysis' ELSE 'subject' END AS kind,
                  coalesce(e.message_id, e.memory_id, e.document_id, e.analysis_id, e.subject_id) AS owner_id,
                  e.chunk_index, e.chunk_text, e.user_id, e.conversation_id, e.owner_created_at
            """;

        // The $11 nearest chunks. Auto mode ($12 > 0) counts the user's (or tenant's) rows in the space
        // through the btree, up to $12: below it, the exact branch; at or above, the index branch. Only
        // one branch runs (each is gated by a one-time filter). The index branch scans in index order with
        // pgvector's iterative scan (relaxed order), so rows that fail the filters are skipped until $11
        // pass; "knn" re-sorts them.
        const string Neighbours = $$"""
            n AS MATERIALIZED (
                SELECT count(*) AS n FROM (
                    SELECT 1 FROM {schema}.embeddings e
                     WHERE e.space_id = {space} AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid
                       AND ($1::uuid IS NULL OR e.user_id = $1) AND ($2::uuid IS NULL OR e.conversation_id = $2)
                     LIMIT greatest($12::int, 0)) c),
            exact AS MATERIALIZED (
                SELECT {{VectorColumns}}, {distance} AS distance
                  FROM {schema}.embeddings e
                 WHERE ($12::int < 0 OR ($12::int > 0 AND (SELECT n FROM n) < $12::int)) AND {{VectorFilter}}),
            knn AS MATERIALIZED (
                (SELECT {{VectorColumns}}, {distance} AS distance
                   FROM {schema}.embeddings e
                  WHERE ($12::int = 0 OR ($12::int > 0 AND (SELECT n FROM n) >= $12::int)) AND {{VectorFilter}}
                  ORDER BY {distance}
                  LIMIT $11)
                UNION ALL
                (SELECT * FROM exact ORDER BY distance LIMIT $11))
            """;

        const string VectorSql = $$"""
            WITH {{Neighbours}}
            SELECT kind, owner_id, id, chunk_index, chunk_text, distance, user_id, conversation_id, owner_created_at
              FROM knn
             ORDER BY distance, id
             LIMIT $11
            """;

        const string HybridSql = $$"""
            WITH {{Query}},
            {{TextMatches}},
            {{Neighbours}},
            text_list AS MATERIALIZED (
                SELECT kind, id, rank, row_number() OVER (ORDER BY rank DESC, id DESC) AS r
                  FROM (SELECT kind, id, rank FROM fts WHERE (SELECT q.cfg IS NOT NULL FROM q) ORDER BY rank DESC, id DESC LIMIT $18) t),
            vector_list AS MATERIALIZED (
                SELECT kind, owner_id AS id, distance, chunk_index, chunk_text, row_number() OVER (ORDER BY distance, owner_id) AS r
                  FROM (SELECT DISTINCT ON (kind, owner_id) kind, owner_id, distance, chunk_index, chunk_text
                          FROM knn ORDER BY kind, owner_id, distance) best),
            p AS (
                SELECT coalesce(t.kind, v.kind) AS kind, coalesce(t.id, v.id) AS id,
                       coalesce(1.0 / ($17 + t.r), 0) + coalesce(1.0 / ($17 + v.r), 0) AS score,
                       t.r AS text_rank, v.r AS vector_rank, t.rank, v.distance, v.chunk_index, v.chunk_text
                  FROM text_list t FULL JOIN vector_list v ON v.kind = t.kind AND v.id = t.id
                 ORDER BY score DESC, id DESC
                 LIMIT $13)
            SELECT p.kind, p.id, p.score::float8, p.text_rank::int, p.vector_rank::int, p.rank, p.distance, p.chunk_index, p.chunk_text,
                   CASE WHEN p.text_rank IS NOT NULL THEN ts_headline((SELECT cfg FROM q), o.body, (SELECT highlight FROM q), $16) END,
                   o.user_id, o.conversation_id, o.document_id, o.role, o.status, o.created_at
              FROM p
              {{Owner}}
             ORDER BY p.score DESC, p.id DESC
            """;

        /// <summary>
        /// Full-text search, best first (<c>ts_rank_cd</c>), with snippets (<c>ts_headline</c>) and keyset
        /// pagination. Any text is valid: quotes, <c>-</c>, <c>or</c>, operators and unbalanced parentheses
        /// are read by <c>websearch_to_tsquery</c>; text with no searchable words finds nothing.
        /// </summary>
        public async Task<Page<SearchHit>> FullTextAsync(SearchQuery query, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(query);
            using var op = Telemetry.Start("search.full_text");
            var text = Validate.Text(query.Text, "text", MaxQueryLength) ?? throw new ChatStoreValidationException("text", "required", "is required.");
            var filters = ValidateFilters(query, TextKinds);
            var roles = ValidateList(query.Roles, "roles", MessageRoles);
            var statuses = ValidateList(query.Statuses, "statuses", Statuses);
            var language = Validate.Text(query.Language, "language", 63);
            var limit = Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            var headline = Headline(query.HighlightStart, query.HighlightEnd);
            float? afterRank = null;
            Guid? afterId = null;
            if (query.Cursor is not null)
            {
                var (bits, id) = Cursor.Decode(query.Cursor);
                var rank = BitConverter.Int32BitsToSingle(unchecked((int)bits));
                if (bits is < int.MinValue or > int.MaxValue || !float.IsFinite(rank))
                    throw new ChatStoreValidationException("cursor", "cursor", "is not a cursor this store returned.");
                (afterRank, afterId) = (rank, id);
            }
            if (string.IsNullOrWhiteSpace(text))
                return new Page<SearchHit>([], null);
            text = QueryText(text, MaxQueryWords);

            var items = await RunAsync(FullTextSql, null, text, (cmd, text) =>
            {
                AddFilters(cmd, filters);
                cmd.Add(language, NpgsqlDbType.Text).Add(text, NpgsqlDbType.Text).Add(roles, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(statuses, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(null, NpgsqlDbType.Array | NpgsqlDbType.Real).Add(0, NpgsqlDbType.Integer).Add(0, NpgsqlDbType.Integer)
                   .Add(limit + 1, NpgsqlDbType.Integer).Add(afterRank, NpgsqlDbType.Real).Add(afterId, NpgsqlDbType.Uuid).Add(headline, NpgsqlDbType.Text)
                   .Add(0, NpgsqlDbType.Integer).Add(0, NpgsqlDbType.Integer);
            }, MapText, language, cancellationToken).ConfigureAwait(false);
            return Page.Of(items, limit, h => Cursor.Encode(BitConverter.SingleToInt32Bits(h.Rank), h.Id));
        }

        /// <summary>
        /// The <see cref="VectorSearchQuery.K"/> nearest stored vectors to the query vector (or the
        /// embedded query text) in a space, closest first, with their distances; filtered by the tenant and
        /// the filters given. See <see cref="VectorSearchMode"/> for how neighbours are found.
        /// </summary>
        public async Task<IReadOnlyList<VectorHit>> VectorAsync(VectorSearchQuery query, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(query);
            using var op = Telemetry.Start("search.vector");
            ArgumentNullException.ThrowIfNull(query.Space, "space");
            Validate.Text(query.Text, "text", MaxQueryLength);
            var filters = ValidateFilters(query, AllKinds);
            var k = Validate.Range(query.K, "k", 1, 1000);
            var (settings, threshold) = ValidateVector(query, k);
            var vector = await QueryVectorAsync(query, cancellationToken).ConfigureAwait(false);

            return await ReadAsync(ForSpace(query.Space, VectorSql), settings, false, "", (cmd, _) =>
            {
                AddFilters(cmd, filters);
                cmd.Add(null, NpgsqlDbType.Text).Add("", NpgsqlDbType.Text).Add(null, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(null, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(vector, NpgsqlDbType.Array | NpgsqlDbType.Real).Add(k, NpgsqlDbType.Integer).Add(threshold, NpgsqlDbType.Integer)
                   .Add(k, NpgsqlDbType.Integer).Add(null, NpgsqlDbType.Real).Add(null, NpgsqlDbType.Uuid).Add("", NpgsqlDbType.Text)
                   .Add(0, NpgsqlDbType.Integer).Add(0, NpgsqlDbType.Integer);
            }, MapVector, null, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Full-text and vector search in one round trip, fused by reciprocal rank: the top
        /// <see cref="HybridSearchQuery.Candidates"/> of each list (vectors: the best chunk per row), each
        /// result scored Σ 1 / (k + rank) over the lists it is in, and saying which lists and ranks.
        /// </summary>
        public async Task<IReadOnlyList<HybridHit>> HybridAsync(HybridSearchQuery query, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(query);
            using var op = Telemetry.Start("search.hybrid");
            ArgumentNullException.ThrowIfNull(query.Space, "space");
            var text = Validate.Text(query.Text, "text", MaxQueryLength) ?? throw new ChatStoreValidationException("text", "required", "is required.");
            var filters = ValidateFilters(query, AllKinds);
            var language = Validate.Text(query.Language, "language", 63);
            var limit = Validate.PageSize(query.Limit, _scope.Limits.MaxPageSize);
            var candidates = Validate.Range(query.Candidates, "candidates", 1, 1000);
            var rrfK = Validate.Range(query.RrfK, "rrfK", 1, 100_000);
            var headline = Headline(query.HighlightStart, query.HighlightEnd);
            var (settings, threshold) = ValidateVector(query, candidates);
            var vector = await QueryVectorAsync(query, cancellationToken).ConfigureAwait(false);
            text = QueryText(text, MaxQueryWords);

            return await RunAsync(ForSpace(query.Space, HybridSql), settings, text, (cmd, text) =>
            {
                AddFilters(cmd, filters);
                cmd.Add(language, NpgsqlDbType.Text).Add(text, NpgsqlDbType.Text).Add(null, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(null, NpgsqlDbType.Array | NpgsqlDbType.Text)
                   .Add(vector, NpgsqlDbType.Array | NpgsqlDbType.Real).Add(candidates, NpgsqlDbType.Integer).Add(threshold, NpgsqlDbType.Integer)
                   .Add(limit, NpgsqlDbType.Integer).Add(null, NpgsqlDbType.Real).Add(null, NpgsqlDbType.Uuid).Add(headline, NpgsqlDbType.Text)
                   .Add(rrfK, NpgsqlDbType.Integer).Add(candidates, NpgsqlDbType.Integer);
            }, MapHybrid, language, cancellationToken).ConfigureAwait(false);
        }

        sealed record Filters(Guid? UserId, Guid? ConversationId, DateTimeOffset? From, DateTimeOffset? To, string[] Kinds);

        static Filters ValidateFilters(SearchFilters f, SearchKind[] supported)
        {
            if (f.UserId is Guid u) Validate.Id(u, "userId");
            if (f.ConversationId is Guid c) Validate.Id(c, "conversationId");
            if (f.From is { } from && f.To is { } to && from >= to)
                throw new ChatStoreValidationException("to", "range", "must be later than from.");
            var kinds = f.Kinds ?? supported;
            if (kinds.Count == 0)
                throw new ChatStoreValidationException("kinds", "required", "must name at least one kind (or be null for all).");
            foreach (var kind in kinds)
                if (!supported.Contains(kind))
                    throw new ChatStoreValidationException("kinds", "enum", $"must be among {string.Join(", ", supported)}; got {kind}.");
            return new Filters(f.UserId, f.ConversationId, f.From, f.To, [.. kinds.Distinct().Select(KindName)]);
        }

        static void AddFilters(SearchCommand cmd, Filters f) =>
            cmd.Add(f.UserId, NpgsqlDbType.Uuid).Add(f.ConversationId, NpgsqlDbType.Uuid).Add(f.From, NpgsqlDbType.TimestampTz)
               .Add(f.To, NpgsqlDbType.TimestampTz).Add(f.Kinds, NpgsqlDbType.Array | NpgsqlDbType.Text);

        static string[]? ValidateList(IReadOnlyList<string>? values, string field, string[] allowed)
        {
            if (values is null) return null;
            if (values.Count == 0)
                throw new ChatStoreValidationException(field, "required", "must name at least one value (or be null for all).");
            for (var i = 0; i < values.Count; i++)
                Validate.OneOf(values[i], $"{field}[{i}]", allowed);
            return [.. values.Distinct()];
        }

        static (SearchCommand.VectorSettings Settings, int Threshold) ValidateVector(VectorSearchSettings q, int k)
        {
            var efSearch = Validate.Range(q.EfSearch, "efSearch", 1, 1000);
            var maxScan = Validate.Range(q.MaxScanTuples, "maxScanTuples", 1, 10_000_000);
            var probes = Validate.Range(q.Probes, "probes", 1, 32768);
            var exactThreshold = Validate.Range(q.ExactThreshold, "exactThreshold", 1, 10_000_000);
            if (!Enum.IsDefined(q.Mode))
                throw new ChatStoreValidationException("mode", "enum", $"must be Auto, Index or Exact; got {q.Mode}.");
            var mode = q.Space.IndexKind == VectorIndexKind.None ? VectorSearchMode.Exact : q.Mode;
            var threshold = mode switch { VectorSearchMode.Index => 0, VectorSearchMode.Exact => -1, _ => exactThreshold };
            // ef_search below k would cap the results an HNSW scan returns before iterating.
            return (new SearchCommand.VectorSettings(mode != VectorSearchMode.Exact, Math.Max(efSearch, Math.Min(k, 1000)), maxScan, probes), threshold);
        }

        async Task<float[]> QueryVectorAsync(VectorSearchSettings q, CancellationToken cancellationToken)
        {
            if (q.Vector is ReadOnlyMemory<float> given)
                return Vectors.Check(given, q.Space, "vector");
            var text = q.QueryText;
            if (string.IsNullOrWhiteSpace(text))
                throw new ChatStoreValidationException("vector", "required", "is required when there is no text to embed.");
            var generator = q.Generator ?? EmbeddingGenerators.ForSpace(q.Space)
                ?? throw new ChatStoreValidationException("generator", "required",
                    $"is required to embed the query text: space '{q.Space.Name}' holds vectors of model '{q.Space.Model}', which ChatStore cannot make itself. Pass a vector or a generator.");
            var generated = await generator.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (generated.Count != 1)
                throw new ChatStoreException($"The embedding generator returned {generated.Count} vectors for 1 text.");
            return Vectors.Check(generated[0].Vector, q.Space, "vector");
        }

        /// <summary>
        /// The query text as PostgreSQL gets it: cut after its <paramref name="max"/>-th word (a run of letters
        /// or digits; the parser makes at most a few lexemes of each, so the query's size stays bounded), and
        /// with a '-' that follows another '-' with no word between turned into a space: websearch_to_tsquery
        /// stacks such negations and fails with "tsquery stack too small" past 32 of them.
        /// </summary>
        internal static string QueryText(string text, int max)
        {
            var sb = new System.Text.StringBuilder(text.Length);
            var words = 0;
            var inWord = false;
            var negated = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                var letter = char.IsLetterOrDigit(text, i);
                if (letter && !inWord && ++words > max)
                    break;
                inWord = letter;
                if (letter)
                {
                    negated = false;
                }
                else if (c == '-')
                {
                    if (negated) c = ' ';
                    negated = true;
                }
                sb.Append(c);
                if (char.IsHighSurrogate(c) && i + 1 < text.Length)
                    sb.Append(text[++i]);
            }
            return sb.ToString();
        }

        static string Headline(string? start, string? end)
        {
            start = Validate.Text(start, "highlightStart", 50) ?? "";
            end = Validate.Text(end, "highlightEnd", 50) ?? "";
            if (start.Contains('"', StringComparison.Ordinal)) throw new ChatStoreValidationException("highlightStart", "format", "must not contain a double quote.");
            if (end.Contains('"', StringComparison.Ordinal)) throw new ChatStoreValidationException("highlightEnd", "format", "must not contain a double quote.");
            return $"StartSel=\"{start}\", StopSel=\"{end}\", MaxWords=35, MinWords=15, ShortWord=3, MaxFragments=2, FragmentDelimiter=\" … \"";
        }

        /// <summary>
        /// Runs a text search. Should PostgreSQL's query parser still refuse the text (a limit of
        /// websearch_to_tsquery that <see cref="QueryText"/> does not foresee), runs it again with the
        /// text's plain words only, so no query text is ever an error.
        /// </summary>
        async Task<List<T>> RunAsync<T>(string sql, SearchCommand.VectorSettings? settings, string text, Action<SearchCommand, string> parameters,
            Func<NpgsqlDataReader, T> map, string? language, CancellationToken cancellationToken)
        {
            try
            {
                return await ReadAsync(sql, settings, true, text, parameters, map, language, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InternalError or PostgresErrorCodes.ProgramLimitExceeded or PostgresErrorCodes.SyntaxError
                && e.MessageText.Contains("tsquery", StringComparison.OrdinalIgnoreCase))
            {
                var words = string.Join(' ', System.Text.RegularExpressions.Regex.Matches(text, @"[\p{L}\p{N}\p{M}]+").Select(m => m.Value));
                return await ReadAsync(sql, settings, true, words, parameters, map, language, cancellationToken).ConfigureAwait(false);
            }
        }

        async Task<List<T>> ReadAsync<T>(string sql, SearchCommand.VectorSettings? settings, bool textSearch, string text, Action<SearchCommand, string> parameters,
            Func<NpgsqlDataReader, T> map, string? language, CancellationToken cancellationToken)
        {
            await using var cmd = await SearchCommand.CreateAsync(_scope, sql, settings, textSearch, language, cancellationToken).ConfigureAwait(false);
            parameters(cmd, text);
            try
            {
                return await cmd.ReadListAsync(map, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject && language is not null)
            {
                throw new ChatStoreValidationException("language", "regconfig", $"'{language}' is not a text search configuration of this PostgreSQL (try english or simple).");
            }
        }

        /// <summary>
        /// The statement for one space: its id as a uuid literal (so the planner can prove the space's partial
        /// index applies, even in a generic plan) and the distance expression the index serves. Both come from
        /// the space's <see cref="Guid"/> and <see cref="int"/> dimension count: nothing from input is pasted.
        /// </summary>
        static string ForSpace(EmbeddingSpace space, string template) =>
            Rendered.GetOrAdd((space.Id, space.Dimensions, space.Metric, template), static key =>
            {
                var (id, dims, metric, sql) = key;
                var cast = string.Create(CultureInfo.InvariantCulture, $"::vector({dims})");
                return sql.Replace("{space}", $"'{id:D}'::uuid", StringComparison.Ordinal)
                          .Replace("{distance}", $"e.embedding{cast} {EmbeddingKinds.Operator(metric)} $10::real[]{cast}", StringComparison.Ordinal);
            });

        static readonly ConcurrentDictionary<(Guid, int, DistanceMetric, string), string> Rendered = new(new RenderKeyComparer());

        sealed class RenderKeyComparer : IEqualityComparer<(Guid, int, DistanceMetric, string)>
        {
            // Templates are const strings: compare them by reference, not by content.
            public bool Equals((Guid, int, DistanceMetric, string) x, (Guid, int, DistanceMetric, string) y) =>
                x.Item1 == y.Item1 && x.Item2 == y.Item2 && x.Item3 == y.Item3 && ReferenceEquals(x.Item4, y.Item4);

            public int GetHashCode((Guid, int, DistanceMetric, string) key) => HashCode.Combine(key.Item1, RuntimeHelpers.GetHashCode(key.Item4));
        }

        static string KindName(SearchKind kind) => kind switch
        {
            SearchKind.Message => "message",
            SearchKind.Memory => "memory",
            SearchKind.Document => "document",
            SearchKind.Analysis => "analysis",
            _ => "subject",
        };

        static SearchKind ParseKind(string name) => name switch
        {
            "message" => SearchKind.Message,
            "memory" => SearchKind.Memory,
            "document" => SearchKind.Document,
            "analysis" => SearchKind.Analysis,
            _ => SearchKind.Subject,
        };

        static string? S(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

        static Guid? G(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetGuid(i);

        static SearchHit MapText(NpgsqlDataReader r) => new(
            ParseKind(r.GetString(0)), r.GetGuid(1), r.GetGuid(2), G(r, 3), G(r, 4), S(r, 5), S(r, 6), r.GetFieldValue<DateTimeOffset>(7),
            r.GetFloat(8), S(r, 9) ?? "");

        static VectorHit MapVector(NpgsqlDataReader r) => new(
            ParseKind(r.GetString(0)), r.GetGuid(1), r.GetGuid(2), r.GetInt32(3), S(r, 4), r.GetDouble(5), G(r, 6), G(r, 7),
            r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));

        static HybridHit MapHybrid(NpgsqlDataReader r) => new(
            ParseKind(r.GetString(0)), r.GetGuid(1), r.GetDouble(2), r.IsDBNull(3) ? null : r.GetInt32(3), r.IsDBNull(4) ? null : r.GetInt32(4),
            r.IsDBNull(5) ? null : r.GetFloat(5), r.IsDBNull(6) ? null : r.GetDouble(6), r.IsDBNull(7) ? null : r.GetInt32(7), S(r, 8), S(r, 9),
            r.GetGuid(10), G(r, 11), G(r, 12), S(r, 13), S(r, 14), r.GetFieldValue<DateTimeOffset>(15));
    }
}

namespace ChatStore
{
    public sealed partial class TenantScope
    {
        /// <summary>Full-text, vector and hybrid search over the tenant's rows.</summary>
        public Search.SearchStore Search => new(this);
    }
}
