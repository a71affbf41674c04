using ChatStore.Embeddings;
using Npgsql;
using NpgsqlTypes;
using Has = ChatStore.Search.SearchStatements.Has;
using Slot = ChatStore.Search.SearchStatements.Slot;

namespace ChatStore.Search
{
    /// <summary>
    /// Search over a tenant's messages, memories, documents and analyses: full text (ranked, with
    /// snippets, keyset-paginated), k-nearest-neighbour vectors in an embedding space, and both fused
    /// by reciprocal rank. Each is one round trip; any query text is valid.
    /// </summary>
    /// <remarks>
    /// Statements are rendered per query shape (see <see cref="SearchStatements"/>): only the kinds
    /// asked for and the filters given are in the text (see <see cref="SearchCommand"/> for plans).
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
        static readonly int TextKindBits = TextKinds.Aggregate(0, (bits, k) => bits | SearchStatements.KindBit(k));

        readonly TenantScope _scope;

        internal SearchStore(TenantScope scope) => _scope = scope;

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

            var shape = new SearchStatements.Shape(SearchStatements.Statement.FullText, filters.Kinds,
                filters.Has | (roles is null ? 0 : Has.Roles) | (statuses is null ? 0 : Has.Statuses) | (afterId is null ? 0 : Has.Cursor),
                VectorSearchMode.Auto, Guid.Empty, 0, default, await PlanClassAsync(filters, filters.Kinds, cancellationToken).ConfigureAwait(false));
            var (items, _) = await RunAsync(shape, null, text, (filters, roles, statuses, limit, afterRank, afterId, headline), static (cmd, text, p) =>
            {
                AddFilters(cmd, p.filters);
                cmd.Add(Slot.Text, text).Add(Slot.Roles, p.roles).Add(Slot.Statuses, p.statuses)
                   .Add(Slot.Limit, p.limit + 1).Add(Slot.CursorRank, p.afterRank.GetValueOrDefault()).Add(Slot.CursorId, p.afterId.GetValueOrDefault())
                   .Add(Slot.Headline, p.headline);
            }, MapText, -1, limit + 1, language, cancellationToken).ConfigureAwait(false);
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
            var (settings, mode, threshold) = ValidateVector(query, k);
            var vector = await QueryVectorAsync(query, cancellationToken).ConfigureAwait(false);
            (settings, mode) = KnownSize(query, filters, settings, mode, threshold);

            // A search in index order has one plan whatever the tenant; the exact scan is planned for the tenant's size.
            var planClass = mode == VectorSearchMode.Index ? null : await PlanClassAsync(filters, TenantPlanClasses.Embeddings, cancellationToken).ConfigureAwait(false);
            await using var cmd = await SearchCommand.CreateAsync(_scope, SearchStatements.For(Shape(SearchStatements.Statement.Vector, query, filters, mode, planClass)),
                settings, false, null, cancellationToken).ConfigureAwait(false);
            AddFilters(cmd, filters);
            cmd.Add(Slot.Vector, vector).Add(Slot.K, k).Add(Slot.Threshold, threshold);
            var hits = await cmd.ReadListAsync(MapVector, k, mode == VectorSearchMode.Auto ? 9 : -1, cancellationToken).ConfigureAwait(false);
            Remember(query, filters, mode, threshold, cmd.SetSize);
            return hits;
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
            var (settings, mode, threshold) = ValidateVector(query, candidates);
            var vector = await QueryVectorAsync(query, cancellationToken).ConfigureAwait(false);
            text = QueryText(text, MaxQueryWords);
            (settings, mode) = KnownSize(query, filters, settings, mode, threshold);

            var planClass = await PlanClassAsync(filters, filters.Kinds & TextKindBits | TenantPlanClasses.Embeddings, cancellationToken).ConfigureAwait(false);
            var (hits, setSize) = await RunAsync(Shape(SearchStatements.Statement.Hybrid, query, filters, mode, planClass), settings, text,
                (filters, vector, candidates, threshold, limit, headline, rrfK), static (cmd, text, p) =>
                {
                    AddFilters(cmd, p.filters);
                    cmd.Add(Slot.Text, text).Add(Slot.Vector, p.vector).Add(Slot.K, p.candidates).Add(Slot.Threshold, p.threshold)
                       .Add(Slot.Limit, p.limit).Add(Slot.Headline, p.headline).Add(Slot.RrfK, p.rrfK).Add(Slot.TextCandidates, p.candidates);
                }, MapHybrid, mode == VectorSearchMode.Auto ? 16 : -1, limit, language, cancellationToken).ConfigureAwait(false);
            Remember(query, filters, mode, threshold, setSize);
            return hits;
        }

        // A search of the whole tenant (no user, conversation or period) names the tenant's plan class over the
        // tables it reads (bits of TenantPlanClasses.Tables), and shares its plan with the tenants of that class.
        // A filter's own rows are estimated for each query.
        ValueTask<int?> PlanClassAsync(Filters filters, int tables, CancellationToken cancellationToken) =>
            filters.Has != Has.None ? ValueTask.FromResult<int?>(null)
                : _scope.Context.PlanClasses.ClassAsync(_scope.Context, _scope.TenantId, tables, cancellationToken);

        // Auto mode counts the filtered set to choose between the exact and the index branch; a set it
        // counted recently is searched the way that count chose (see VectorSetSizes).
        (SearchCommand.VectorSettings, VectorSearchMode) KnownSize(VectorSearchSettings query, Filters filters, SearchCommand.VectorSettings settings,
            VectorSearchMode mode, int threshold)
        {
            if (mode != VectorSearchMode.Auto)
                return (settings, mode);
            mode = _scope.Context.VectorSetSizes.ModeFor(_scope.TenantId, query.Space.Id, filters.UserId, filters.ConversationId, threshold);
            return (settings with { ForceIndexOrder = mode != VectorSearchMode.Exact }, mode);
        }

        void Remember(VectorSearchSettings query, Filters filters, VectorSearchMode mode, int threshold, long setSize)
        {
            if (mode == VectorSearchMode.Auto)
                _scope.Context.VectorSetSizes.Remember(_scope.TenantId, query.Space.Id, filters.UserId, filters.ConversationId, threshold, setSize);
        }

        static SearchStatements.Shape Shape(SearchStatements.Statement statement, VectorSearchSettings query, Filters filters, VectorSearchMode mode, int? planClass) =>
            new(statement, filters.Kinds, filters.Has, mode, query.Space.Id, query.Space.Dimensions, query.Space.Metric, planClass);

        readonly record struct Filters(Guid? UserId, Guid? ConversationId, DateTimeOffset? From, DateTimeOffset? To, int Kinds)
        {
            public Has Has => (UserId is null ? 0 : Has.User) | (ConversationId is null ? 0 : Has.Conversation) | (From is null ? 0 : Has.From) | (To is null ? 0 : Has.To);
        }

        static Filters ValidateFilters(SearchFilters f, SearchKind[] supported)
        {
            if (f.UserId is Guid u) Validate.Id(u, "userId");
            if (f.ConversationId is Guid c) Validate.Id(c, "conversationId");
            if (f.From is { } from && f.To is { } to && from >= to)
                throw new ChatStoreValidationException("to", "range", "must be later than from.");
            var kinds = f.Kinds ?? supported;
            if (kinds.Count == 0)
                throw new ChatStoreValidationException("kinds", "required", "must name at least one kind (or be null for all).");
            var bits = 0;
            for (var i = 0; i < kinds.Count; i++)
            {
                var kind = kinds[i];
                if (!supported.Contains(kind))
                    throw new ChatStoreValidationException("kinds", "enum", $"must be among {string.Join(", ", supported)}; got {kind}.");
                bits |= SearchStatements.KindBit(kind);
            }
            return new Filters(f.UserId, f.ConversationId, f.From, f.To, bits);
        }

        static void AddFilters(SearchCommand cmd, Filters f) =>
            cmd.Add(Slot.User, f.UserId.GetValueOrDefault()).Add(Slot.Conversation, f.ConversationId.GetValueOrDefault())
               .Add(Slot.From, f.From.GetValueOrDefault()).Add(Slot.To, f.To.GetValueOrDefault());

        static string[]? ValidateList(IReadOnlyList<string>? values, string field, string[] allowed)
        {
            if (values is null) return null;
            if (values.Count == 0)
                throw new ChatStoreValidationException(field, "required", "must name at least one value (or be null for all).");
            for (var i = 0; i < values.Count; i++)
                Validate.OneOf(values[i], $"{field}[{i}]", allowed);
            return [.. values.Distinct()];
        }

        static (SearchCommand.VectorSettings Settings, VectorSearchMode Mode, int Threshold) ValidateVector(VectorSearchSettings q, int k)
        {
            var efSearch = Validate.Range(q.EfSearch, "efSearch", 1, 1000);
            var maxScan = Validate.Range(q.MaxScanTuples, "maxScanTuples", 1, 10_000_000);
            var probes = Validate.Range(q.Probes, "probes", 1, 32768);
            var exactThreshold = Validate.Range(q.ExactThreshold, "exactThreshold", 1, 10_000_000);
            if (!Enum.IsDefined(q.Mode))
                throw new ChatStoreValidationException("mode", "enum", $"must be Auto, Index or Exact; got {q.Mode}.");
            var mode = q.Space.IndexKind == VectorIndexKind.None ? VectorSearchMode.Exact : q.Mode;
            var threshold = mode == VectorSearchMode.Auto ? exactThreshold : 0;
            // ef_search below k would cap the results an HNSW scan returns before iterating.
            return (new SearchCommand.VectorSettings(mode != VectorSearchMode.Exact, Math.Max(efSearch, Math.Min(k, 1000)), maxScan, probes), mode, threshold);
        }

        static async ValueTask<float[]> QueryVectorAsync(VectorSearchSettings q, CancellationToken cancellationToken)
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
            // Most queries pass unchanged: a builder is made only at the first character that changes.
            System.Text.StringBuilder? sb = null;
            var words = 0;
            var inWord = false;
            var negated = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                var letter = char.IsLetterOrDigit(text, i);
                if (letter && !inWord && ++words > max)
                    return sb?.ToString() ?? text[..i];
                inWord = letter;
                if (letter)
                {
                    negated = false;
                }
                else if (c == '-')
                {
                    if (negated)
                    {
                        sb ??= new System.Text.StringBuilder(text, 0, i, text.Length);
                        c = ' ';
                    }
                    negated = true;
                }
                sb?.Append(c);
                if (char.IsHighSurrogate(c) && i + 1 < text.Length)
                {
                    i++;
                    sb?.Append(text[i]);
                }
            }
            return sb?.ToString() ?? text;
        }

        static readonly string DefaultHeadline = HeadlineOptions("<b>", "</b>");

        static string Headline(string? start, string? end)
        {
            if (start == "<b>" && end == "</b>")
                return DefaultHeadline;
            start = Validate.Text(start, "highlightStart", 50) ?? "";
            end = Validate.Text(end, "highlightEnd", 50) ?? "";
            if (start.Contains('"', StringComparison.Ordinal)) throw new ChatStoreValidationException("highlightStart", "format", "must not contain a double quote.");
            if (end.Contains('"', StringComparison.Ordinal)) throw new ChatStoreValidationException("highlightEnd", "format", "must not contain a double quote.");
            return HeadlineOptions(start, end);
        }

        static string HeadlineOptions(string start, string end) =>
            $"StartSel=\"{start}\", StopSel=\"{end}\", MaxWords=35, MinWords=15, ShortWord=3, MaxFragments=2, FragmentDelimiter=\" … \"";

        /// <summary>
        /// Runs a text search. Should PostgreSQL's query parser still refuse the text (a limit of
        /// websearch_to_tsquery that <see cref="QueryText"/> does not foresee), runs it again with the
        /// text's plain words only, so no query text is ever an error.
        /// </summary>
        /// <remarks>
        /// <paramref name="parameters"/> binds the slots after the text from <paramref name="state"/> (a static
        /// lambda and a value tuple: no closure per query). Returns the rows and, when
        /// <paramref name="setSizeColumn"/> is not negative, the set size the statement reported.
        /// </remarks>
        async Task<(List<T> Rows, long SetSize)> RunAsync<T, TState>(SearchStatements.Shape shape, SearchCommand.VectorSettings? settings, string text, TState state,
            Action<SearchCommand, string, TState> parameters, Func<NpgsqlDataReader, T> map, int setSizeColumn, int capacity, string? language,
            CancellationToken cancellationToken)
        {
            for (var retried = false; ; retried = true)
            {
                await using var cmd = await SearchCommand.CreateAsync(_scope, SearchStatements.For(shape), settings, true, language, cancellationToken).ConfigureAwait(false);
                parameters(cmd, text, state);
                try
                {
                    return (await cmd.ReadListAsync(map, capacity, setSizeColumn, cancellationToken).ConfigureAwait(false), cmd.SetSize);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject && language is not null)
                {
                    throw new ChatStoreValidationException("language", "regconfig", $"'{language}' is not a text search configuration of this PostgreSQL (try english or simple).");
                }
                catch (PostgresException e) when (!retried && e.SqlState is PostgresErrorCodes.InternalError or PostgresErrorCodes.ProgramLimitExceeded or PostgresErrorCodes.SyntaxError
                    && e.MessageText.Contains("tsquery", StringComparison.OrdinalIgnoreCase))
                {
                    text = string.Join(' ', System.Text.RegularExpressions.Regex.Matches(text, @"[\p{L}\p{N}\p{M}]+").Select(m => m.Value));
                }
            }
        }

        static SearchKind Kind(NpgsqlDataReader r) => (SearchKind)r.GetInt32(0);

        static string? S(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

        static Guid? G(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetGuid(i);

        static SearchHit MapText(NpgsqlDataReader r) => new(
            Kind(r), r.GetGuid(1), r.GetGuid(2), G(r, 3), G(r, 4), S(r, 5), S(r, 6), r.GetFieldValue<DateTimeOffset>(7),
            r.GetFloat(8), S(r, 9) ?? "");

        static VectorHit MapVector(NpgsqlDataReader r) => new(
            Kind(r), r.GetGuid(1), r.GetGuid(2), r.GetInt32(3), S(r, 4), r.GetDouble(5), G(r, 6), G(r, 7),
            r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8));

        static HybridHit MapHybrid(NpgsqlDataReader r) => new(
            Kind(r), r.GetGuid(1), r.GetDouble(2), r.IsDBNull(3) ? null : r.GetInt32(3), r.IsDBNull(4) ? null : r.GetInt32(4),
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
