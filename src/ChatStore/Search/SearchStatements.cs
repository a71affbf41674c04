using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using System.Text;
using ChatStore.Embeddings;
using NpgsqlTypes;

namespace ChatStore.Search;

/// <summary>
/// The search statements, rendered for one query shape: which statement, which kinds, which filters are
/// set, how neighbours are found and in which space. Only what the shape needs is in the text (the kinds'
/// branches, the filters given), so PostgreSQL plans a small statement: full-text plans are made per
/// query (see <see cref="SearchCommand"/>), and planning a statement with every branch and filter cost
/// more than running it. Nothing from input is pasted: kinds and filters choose fragments, the space contributes its
/// <see cref="Guid"/> and dimension count, and every value is a parameter. A result's kind is its
/// <see cref="SearchKind"/> number (0 message, 1 memory, 2 document, 3 analysis, 4 subject).
/// </summary>
/// <remarks>
/// Fragments name parameters by slot (<c>{user}</c>, <c>{text}</c>, …). Rendering numbers the slots the
/// text uses in <see cref="Slot"/> order, and <see cref="SearchCommand.Add"/> binds the values offered in
/// that order, skipping slots the statement does not use. When a statement has two or more integer slots
/// (k, threshold, limit, …), they are the elements of one int[] parameter after the others
/// (<c>($n)[1]</c>, <c>($n)[2]</c>, …): each parameter object costs about 200 bytes, and a hybrid
/// query has five integers.
/// </remarks>
internal static class SearchStatements
{
    public enum Statement { FullText, Vector, Hybrid }

    /// <summary>Parameter slots, in binding order.</summary>
    public enum Slot { User, Conversation, From, To, Text, Roles, Statuses, Vector, K, Threshold, Limit, CursorRank, CursorId, Headline, RrfK, TextCandidates }

    /// <summary>Filters that are set.</summary>
    [Flags]
    public enum Has { None = 0, User = 1, Conversation = 2, From = 4, To = 8, Roles = 16, Statuses = 32, Cursor = 64 }

    /// <summary>
    /// A query shape. <paramref name="Kinds"/> is a bit set of <see cref="SearchKind"/> values. A statement with a
    /// <paramref name="PlanClass"/> (see <see cref="TenantPlanClasses"/>) names it in a comment, and its plan may be
    /// reused by the tenants of that class.
    /// </summary>
    public readonly record struct Shape(Statement Statement, int Kinds, Has Filters, VectorSearchMode Mode, Guid SpaceId, int Dimensions, DistanceMetric Metric,
        int? PlanClass = null);

    /// <summary>
    /// A rendered statement, the slots it binds, those of them bound as elements of its last parameter (int[]),
    /// and whether one plan serves all its queries (see <see cref="SharedPlan"/>).
    /// </summary>
    public sealed record Rendered(string Sql, int Slots, int Packed, bool SharedPlan);

    static readonly ConcurrentDictionary<Shape, Rendered> Cache = new();

    static readonly string[] SlotNames = Enum.GetNames<Slot>().Select(n => "{" + n.ToLowerInvariant() + "}").ToArray();

    public static int KindBit(SearchKind kind) => 1 << (int)kind;

    public static Rendered For(Shape shape) => Cache.GetOrAdd(shape, static s => Number(NameTenant(Render(s), s), SharedPlan(s)));

    /// <summary>
    /// How the statement names its tenant: as its first parameter (<c>{tenant}</c>: see <see cref="Tenancy.StoreContext.Sql"/>),
    /// unless its plan is shared (<see cref="SharedPlan"/>). A shared plan is made once, and must be made for the
    /// tenant's row estimates, which the planner takes from the tenant setting (<c>current_setting('chatstore.tenant_id')</c>,
    /// a stable value it reads while planning) and not from a parameter (a generic plan knows no parameter's value).
    /// Vector searches in index order lost rows with the tenant as a parameter of a generic plan (in the test suite's
    /// shared space, a small tenant's vectors were found in auto and exact mode and not at all in index order), so they
    /// keep the setting too. Their text is otherwise the same.
    /// </summary>
    static string NameTenant(string sql, Shape s) =>
        !SharedPlan(s) ? sql : sql.Replace(Tenancy.StoreContext.TenantToken, "current_setting('chatstore.tenant_id')::uuid", StringComparison.Ordinal);

    /// <summary>
    /// Whether one plan may serve every query of a shape: it names a plan class, or it is a vector search in index
    /// order, which enable_sort = off leaves one plan (the index's ordered scan, whatever the filters select).
    /// </summary>
    static bool SharedPlan(Shape s) => s.PlanClass is not null || s.Statement == Statement.Vector && s.Mode == VectorSearchMode.Index;

    /// <summary>The integer slots (those <see cref="TypeOf"/> types as integer): bound as one int[] parameter when a statement uses two or more.</summary>
    public static readonly int IntegerSlots = Enum.GetValues<Slot>().Where(s => TypeOf(s) == NpgsqlDbType.Integer).Aggregate(0, (bits, s) => bits | 1 << (int)s);

    /// <summary>
    /// Replaces slot names by $1, $2, … in slot order, over the slots the text uses. When it uses two or
    /// more integer slots, they are instead the elements of one last parameter, in slot order (an int[]
    /// costs more to bind than one int, less than two).
    /// </summary>
    static Rendered Number(string sql, bool sharedPlan)
    {
        var used = 0;
        for (var s = 0; s < SlotNames.Length; s++)
            if (sql.Contains(SlotNames[s], StringComparison.Ordinal))
                used |= 1 << s;
        var packed = BitOperations.PopCount((uint)(used & IntegerSlots)) > 1 ? used & IntegerSlots : 0;
        var others = used & ~packed;
        var array = "$" + (BitOperations.PopCount((uint)others) + 1).ToString(CultureInfo.InvariantCulture);
        var sb = new StringBuilder(sql);
        for (var s = 0; s < SlotNames.Length; s++)
        {
            var bit = 1 << s;
            if ((used & bit) == 0)
                continue;
            sb.Replace(SlotNames[s], (packed & bit) != 0
                ? string.Create(CultureInfo.InvariantCulture, $"({array})[{PackedIndex(packed, bit) + 1}]")
                : "$" + (BitOperations.PopCount((uint)(others & (bit - 1))) + 1).ToString(CultureInfo.InvariantCulture));
        }
        return new Rendered(sb.ToString(), used, packed, sharedPlan);
    }

    /// <summary>The index of a packed slot (<paramref name="bit"/>) in the int[] parameter of a statement that packs <paramref name="packed"/>.</summary>
    public static int PackedIndex(int packed, int bit) => BitOperations.PopCount((uint)(packed & (bit - 1)));

    static bool In(int kinds, SearchKind kind) => (kinds & KindBit(kind)) != 0;

    static string Render(Shape s)
    {
        var sb = new StringBuilder(4096);
        switch (s.Statement)
        {
            case Statement.FullText:
                sb.Append("WITH ").Append(Query).Append('\n');
                var branches = TextBranches(s);
                if (branches.Count == 1)
                {
                    // One kind: a single ranked scan of its table, as one would write it by hand (planning the
                    // union, page and owner join below costs more than running this for rare words).
                    // ts_headline is costly, so PostgreSQL evaluates it after the sort and limit, for the page only.
                    var (kind, select, from, rank) = branches[0];
                    var table = Tables[(int)kind];
                    sb.Append(select).Append(", ").Append(table.Columns).Append(", ").Append(rank).Append(" AS rank,\n")
                      .Append("       ts_headline((SELECT cfg FROM q), ").Append(table.Body).Append(", (SELECT highlight FROM q), {headline})\n")
                      .Append(from).Append("\n   AND (SELECT q.cfg IS NOT NULL FROM q)\n");
                    if (s.Filters.HasFlag(Has.Cursor))
                        sb.Append("   AND (").Append(rank).Append(", ").Append(table.Alias).Append(".id) < ({cursorrank}::real, {cursorid}::uuid)\n");
                    sb.Append(" ORDER BY rank DESC, id DESC\n LIMIT {limit}\n");
                    break;
                }
                sb.Append(',');
                Fts(sb, branches);
                sb.Append("""
                    ,
                    page AS (
                        SELECT kind, id, rank FROM fts
                         WHERE (SELECT q.cfg IS NOT NULL FROM q) -- resolves the language even when nothing matches

                    """);
                if (s.Filters.HasFlag(Has.Cursor))
                    sb.Append("   AND (rank, id) < ({cursorrank}::real, {cursorid}::uuid)\n");
                sb.Append("""
                         ORDER BY rank DESC, id DESC
                         LIMIT {limit})
                    SELECT p.kind, p.id, o.user_id, o.conversation_id, o.document_id, o.role, o.status, o.created_at, p.rank,
                           ts_headline((SELECT cfg FROM q), o.body, (SELECT highlight FROM q), {headline})
                      FROM page p

                    """);
                Owner(sb, s.Kinds);
                sb.Append(" ORDER BY p.rank DESC, p.id DESC\n");
                break;

            case Statement.Vector:
                sb.Append("WITH ");
                Neighbours(sb, s);
                sb.Append("""

                    SELECT kind, owner_id, id, chunk_index, chunk_text, distance, user_id, conversation_id, owner_created_at{{setsize}}
                      FROM knn
                     ORDER BY distance, id
                     LIMIT {k}
                    """);
                break;

            case Statement.Hybrid:
                sb.Append("WITH ").Append(Query).Append(",\n");
                Fts(sb, TextBranches(s));
                sb.Append(",\n");
                Neighbours(sb, s);
                sb.Append("""
                    ,
                    text_list AS MATERIALIZED (
                        SELECT kind, id, rank, row_number() OVER (ORDER BY rank DESC, id DESC) AS r
                          FROM (SELECT kind, id, rank FROM fts WHERE (SELECT q.cfg IS NOT NULL FROM q) ORDER BY rank DESC, id DESC LIMIT {textcandidates}) t),
                    vector_list AS MATERIALIZED (
                        SELECT kind, owner_id AS id, distance, chunk_index, chunk_text, row_number() OVER (ORDER BY distance, owner_id) AS r
                          FROM (SELECT DISTINCT ON (kind, owner_id) kind, owner_id, distance, chunk_index, chunk_text
                                  FROM knn ORDER BY kind, owner_id, distance) best),
                    p AS (
                        SELECT coalesce(t.kind, v.kind) AS kind, coalesce(t.id, v.id) AS id,
                               coalesce(1.0 / ({rrfk} + t.r), 0) + coalesce(1.0 / ({rrfk} + v.r), 0) AS score,
                               t.r AS text_rank, v.r AS vector_rank, t.rank, v.distance, v.chunk_index, v.chunk_text
                          FROM text_list t FULL JOIN vector_list v ON v.kind = t.kind AND v.id = t.id
                         ORDER BY score DESC, id DESC
                         LIMIT {limit})
                    SELECT p.kind, p.id, p.score::float8, p.text_rank::int, p.vector_rank::int, p.rank, p.distance, p.chunk_index, p.chunk_text,
                           CASE WHEN p.text_rank IS NOT NULL THEN ts_headline((SELECT cfg FROM q), o.body, (SELECT highlight FROM q), {headline}) END,
                           o.user_id, o.conversation_id, o.document_id, o.role, o.status, o.created_at{{setsize}}
                      FROM p

                    """);
                Owner(sb, s.Kinds);
                sb.Append(" ORDER BY p.score DESC, p.id DESC\n");
                break;
        }
        // Auto mode reports the set's size (up to the threshold) in a last column.
        sb.Replace("{{setsize}}", s.Mode == VectorSearchMode.Auto ? ", (SELECT n FROM n)" : "");
        if (s.PlanClass is not null)
            sb.Append("\n-- plan class: ").Append(TenantPlanClasses.Describe(s.PlanClass.Value));
        var sql = sb.ToString();
        if (s.Statement != Statement.FullText)
        {
            // The query vector is converted once per execution, in an InitPlan: a plain {vector}::real[]::vector(n)
            // in a generic plan is a per-row expression, and converting 384 floats for every row of an exact
            // scan doubled its cost. An index scan takes the InitPlan's value as its order-by operand.
            var cast = string.Create(CultureInfo.InvariantCulture, $"::vector({s.Dimensions})");
            sql = sql.Replace("{space}", $"'{s.SpaceId:D}'::uuid", StringComparison.Ordinal)
                     .Replace("{distance}", $"e.embedding{cast} {EmbeddingKinds.Operator(s.Metric)} (SELECT {{vector}}::real[]{cast})", StringComparison.Ordinal);
        }
        return sql;
    }

    // The query, in chatstore.search_language: the tenant's search language unless one is given, set by
    // SearchCommand before this statement is planned. The match conditions repeat the websearch_to_tsquery
    // call instead of reading q: the planner folds it to a constant for its estimates, so rare words use
    // the GIN index and common ones a btree (an InitPlan parameter would be a guess). Ranks read q's copy,
    // parsed once. Text beyond 100,000 characters is not indexed (see the tsvector columns), so snippets
    // read the same prefix.
    const string Query = """
        q AS (
            SELECT websearch_to_tsquery(l.cfg, {text}) AS query, l.cfg,
                   -- Snippets highlight an OR of the query's distinct words: ts_headline's cost grows with
                   -- operands × occurrences, so the query itself (phrases, repeats) could take seconds on a long text.
                   array_to_string(ARRAY(
                       SELECT '''' || replace(replace(x, '\', '\\'), '''', '''''') || ''''
                         FROM unnest((tsvector_to_array(to_tsvector(l.cfg, {text})))[1:32]) x), ' | ')::tsquery AS highlight
              FROM (SELECT current_setting('chatstore.search_language')::regconfig AS cfg) l)
        """;

    const string Match = "@@ websearch_to_tsquery(current_setting('chatstore.search_language')::regconfig, {text})";

    // The tenant's deleted conversations, whose messages a search skips. NOT IN over ids (never null) is
    // NOT EXISTS, planned differently: PostgreSQL reads them once into a hash (a hashed SubPlan) and checks
    // each match against it. As NOT EXISTS, a plan made for a tenant with few of them joined each match
    // with the whole list (a nested loop over a Materialize): with 300 of 1,000 conversations deleted, a
    // shared plan's common-word search took 404 ms and a mid-frequency one 10.3 ms, against 49 and 1.9 ms
    // this way, which is also no slower with none deleted. PostgreSQL hashes the list when it estimates that
    // it fits in hash_mem (about 200,000 ids at the default work_mem); beyond that it would scan the list for
    // each match, so a tenant that keeps that many deleted conversations should purge them (RetentionStore).
    const string DeletedConversations =
        "SELECT c.id FROM {schema}.conversations c WHERE c.tenant_id = {tenant} AND c.deleted_at IS NOT NULL";

    /// <summary>
    /// The full-text match of each kind asked for, with the filters given: its select list (kind, id), its
    /// FROM and WHERE, and its rank expression. A kind that lacks a filter that is set (roles: messages
    /// only; statuses: messages and documents) has none.
    /// </summary>
    static List<(SearchKind Kind, string Select, string From, string Rank)> TextBranches(Shape s)
    {
        var f = s.Filters;
        var branches = new List<(SearchKind, string, string, string)>(4);
        void Add(SearchKind kind, string where)
        {
            var t = Tables[(int)kind];
            branches.Add((kind, $"SELECT {(int)kind} AS kind, {t.Alias}.id", $"""
                  FROM {t.From}
                 WHERE {t.Alias}.search_vector {Match}
                   AND {t.Alias}.tenant_id = {Tenancy.StoreContext.TenantToken}{where}
                """, $"ts_rank_cd({t.Alias}.search_vector, (SELECT query FROM q), 1)"));
        }
        if (In(s.Kinds, SearchKind.Message))
            Add(SearchKind.Message, $"""
                 AND m.deleted_at IS NULL{Filter(f, Has.User, "m.user_id = {user}")}{Filter(f, Has.Conversation, "m.conversation_id = {conversation}")}{Filter(f, Has.From, "m.created_at >= {from}")}{Filter(f, Has.To, "m.created_at < {to}")}{Filter(f, Has.Roles, "m.role = ANY ({roles})")}{Filter(f, Has.Statuses, "m.status = ANY ({statuses})")}
                   AND m.conversation_id NOT IN ({DeletedConversations})
                """);
        if (In(s.Kinds, SearchKind.Memory) && (f & (Has.Roles | Has.Statuses)) == 0)
            Add(SearchKind.Memory, $"""
                 AND x.deleted_at IS NULL AND x.superseded_by IS NULL{Filter(f, Has.User, "x.user_id = {user}")}{Filter(f, Has.Conversation, "EXISTS (SELECT 1 FROM {schema}.memory_sources s WHERE s.tenant_id = {tenant} AND s.memory_id = x.id AND s.conversation_id = {conversation})")}{Filter(f, Has.From, "x.created_at >= {from}")}{Filter(f, Has.To, "x.created_at < {to}")}
                """);
        if (In(s.Kinds, SearchKind.Document) && (f & Has.Roles) == 0)
            Add(SearchKind.Document, $"""
                 AND d.deleted_at IS NULL{Filter(f, Has.User, "d.user_id = {user}")}{Filter(f, Has.Conversation, "d.conversation_id = {conversation}")}{Filter(f, Has.From, "d.created_at >= {from}")}{Filter(f, Has.To, "d.created_at < {to}")}{Filter(f, Has.Statuses, "d.status = ANY ({statuses})")}
                """);
        if (In(s.Kinds, SearchKind.Analysis) && (f & (Has.Roles | Has.Statuses)) == 0)
            Add(SearchKind.Analysis, $"""
                 AND d.deleted_at IS NULL{Filter(f, Has.User, "d.user_id = {user}")}{Filter(f, Has.Conversation, "d.conversation_id = {conversation}")}{Filter(f, Has.From, "a.created_at >= {from}")}{Filter(f, Has.To, "a.created_at < {to}")}
                """);
        return branches;
    }

    /// <summary>Every full-text match as "fts" (kind, id, rank).</summary>
    static void Fts(StringBuilder sb, List<(SearchKind Kind, string Select, string From, string Rank)> branches)
    {
        sb.Append("fts (kind, id, rank) AS (\n");
        if (branches.Count == 0)
            sb.Append("SELECT NULL::int AS kind, NULL::uuid AS id, NULL::real AS rank WHERE false");
        for (var i = 0; i < branches.Count; i++)
            sb.Append(i == 0 ? "" : "\nUNION ALL\n").Append(branches[i].Select).Append(", ").Append(branches[i].Rank).Append(" AS rank\n").Append(branches[i].From);
        sb.Append(')');
    }

    static string Filter(Has filters, Has flag, string predicate) => (filters & flag) != 0 ? "\n   AND " + predicate : "";

    /// <summary>
    /// Each kind's table (alias, FROM) and what a result reports of its owner row: user_id, conversation_id,
    /// document_id, role, status, created_at (<see cref="KindTable.Columns"/>), and the indexed text that
    /// snippets read (<see cref="KindTable.Body"/>).
    /// </summary>
    sealed record KindTable(string Alias, string From, string Columns, string Body);

    /// <summary>By <see cref="SearchKind"/> number.</summary>
    static readonly KindTable[] Tables =
    [
        new( // message
            "m", "{schema}.messages m",
            "m.user_id, m.conversation_id, NULL::uuid AS document_id, m.role, m.status, m.created_at", "left(m.content, 100000)"),
        new( // memory
            "x", "{schema}.memories x",
            "x.user_id, NULL::uuid AS conversation_id, NULL::uuid AS document_id, NULL::text AS role, NULL::text AS status, x.created_at", "left(x.content, 100000)"),
        new( // document
            "d", "{schema}.documents d",
            "d.user_id, d.conversation_id, d.id AS document_id, NULL::text AS role, d.status, d.created_at",
            "left(d.filename || ' ' || coalesce(d.extracted_text, ''), 100000)"),
        new( // analysis
            "a", "{schema}.document_analyses a JOIN {schema}.documents d ON d.tenant_id = {tenant} AND d.id = a.document_id",
            "d.user_id, d.conversation_id, d.id AS document_id, NULL::text AS role, NULL::text AS status, a.created_at",
            "left(coalesce(a.category, '') || ' ' || a.summary, 100000)"),
        new( // subject
            "s", "{schema}.subjects s",
            "s.user_id, NULL::uuid AS conversation_id, NULL::uuid AS document_id, NULL::text AS role, NULL::text AS status, s.created_at", "s.name"),
    ];

    /// <summary>A result's owner row for p.kind, p.id: one branch per kind asked for.</summary>
    static void Owner(StringBuilder sb, int kinds)
    {
        sb.Append("CROSS JOIN LATERAL (\n");
        var first = true;
        foreach (var kind in Enum.GetValues<SearchKind>())
        {
            if (!In(kinds, kind))
                continue;
            var t = Tables[(int)kind];
            sb.Append(first ? "" : "\nUNION ALL\n").Append("SELECT ").Append(t.Columns).Append(", ").Append(t.Body)
              .Append("\n  FROM ").Append(t.From).Append(" WHERE p.kind = ").Append((int)kind).Append(" AND ").Append(t.Alias).Append(".tenant_id = {tenant} AND ").Append(t.Alias).Append(".id = p.id");
            first = false;
        }
        sb.Append("\n) o (user_id, conversation_id, document_id, role, status, created_at, body)\n");
    }

    // Vector candidates in the space ({space}: its id; {distance}: the distance expression its partial
    // index serves). No liveness checks: the statements that soft-delete an owner delete its vectors.
    static string VectorFilter(Shape s)
    {
        var f = s.Filters;
        var sb = new StringBuilder("e.space_id = {space} AND e.tenant_id = {tenant}");
        sb.Append(Filter(f, Has.User, "e.user_id = {user}")).Append(Filter(f, Has.Conversation, "e.conversation_id = {conversation}"))
          .Append(Filter(f, Has.From, "e.owner_created_at >= {from}")).Append(Filter(f, Has.To, "e.owner_created_at < {to}"));
        const int all = (1 << 5) - 1;
        if ((s.Kinds & all) != all)
        {
            // Exactly one owner column is set (embeddings_one_owner).
            var owners = Enum.GetValues<SearchKind>().Where(k => In(s.Kinds, k)).Select(k => $"e.{k.ToString().ToLowerInvariant()}_id IS NOT NULL");
            sb.Append("\n   AND (").AppendJoin(" OR ", owners).Append(')');
        }
        return sb.ToString();
    }

    const string VectorColumns = """
        e.id, CASE WHEN e.message_id IS NOT NULL THEN 0 WHEN e.memory_id IS NOT NULL THEN 1
                   WHEN e.document_id IS NOT NULL THEN 2 WHEN e.analysis_id IS NOT NULL THEN 3 ELSE 4 END AS kind,
              coalesce(e.message_id, e.memory_id, e.document_id, e.analysis_id, e.subject_id) AS owner_id,
              e.chunk_index, e.chunk_text, e.user_id, e.conversation_id, e.owner_created_at
        """;

    /// <summary>
    /// The {k} nearest chunks as "knn". Index: a scan in index order with pgvector's iterative scan
    /// (relaxed order), rows that fail the filters skipped until {k} pass, re-sorted. Exact: every
    /// matching row's distance, sorted. Auto counts the user's (or tenant's) rows in the space through the
    /// btree, up to {threshold}: below it, the exact branch runs; at or above, the index branch (each is
    /// gated by a one-time filter, so only one runs).
    /// </summary>
    static void Neighbours(StringBuilder sb, Shape s)
    {
        var filter = VectorFilter(s);
        const string indexOrder = "SELECT " + VectorColumns + ", {distance} AS distance\n  FROM {schema}.embeddings e\n WHERE ";
        // Exact: a subquery that cannot be pulled up (OFFSET 0), so its order is a sort of the filtered rows and
        // never the index's order.
        string Exact(string gate) => "SELECT * FROM (\n" + indexOrder + gate + filter + "\n OFFSET 0) x ORDER BY distance LIMIT {k}";
        switch (s.Mode)
        {
            case VectorSearchMode.Index:
                sb.Append("knn AS MATERIALIZED (\n").Append(indexOrder).Append(filter).Append("\n ORDER BY {distance}\n LIMIT {k})");
                break;
            case VectorSearchMode.Exact:
                sb.Append("knn AS MATERIALIZED (\n").Append(Exact("")).Append(')');
                break;
            default:
                sb.Append("n AS MATERIALIZED (\n    SELECT count(*) AS n FROM (\n        SELECT 1 FROM {schema}.embeddings e\n")
                  .Append("         WHERE e.space_id = {space} AND e.tenant_id = {tenant}")
                  .Append(Filter(s.Filters, Has.User, "e.user_id = {user}")).Append(Filter(s.Filters, Has.Conversation, "e.conversation_id = {conversation}"))
                  .Append("\n         LIMIT {threshold}) c),\n")
                  .Append("knn AS MATERIALIZED (\n    (").Append(indexOrder).Append("(SELECT n FROM n) >= {threshold} AND ").Append(filter)
                  .Append("\n ORDER BY {distance}\n LIMIT {k})\n    UNION ALL\n    (").Append(Exact("(SELECT n FROM n) < {threshold} AND ")).Append("))");
                break;
        }
    }

    /// <summary>The NpgsqlDbType of each slot.</summary>
    public static NpgsqlDbType TypeOf(Slot slot) => slot switch
    {
        Slot.User or Slot.Conversation or Slot.CursorId => NpgsqlDbType.Uuid,
        Slot.From or Slot.To => NpgsqlDbType.TimestampTz,
        Slot.Text or Slot.Headline => NpgsqlDbType.Text,
        Slot.Roles or Slot.Statuses => NpgsqlDbType.Array | NpgsqlDbType.Text,
        Slot.Vector => NpgsqlDbType.Array | NpgsqlDbType.Real,
        Slot.CursorRank => NpgsqlDbType.Real,
        _ => NpgsqlDbType.Integer,
    };
}
