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
/// that order, skipping slots the statement does not use.
/// </remarks>
internal static class SearchStatements
{
    public enum Statement { FullText, Vector, Hybrid }

    /// <summary>Parameter slots, in binding order.</summary>
    public enum Slot { User, Conversation, From, To, Text, Roles, Statuses, Vector, K, Threshold, Limit, CursorRank, CursorId, Headline, RrfK, TextCandidates }

    /// <summary>Filters that are set.</summary>
    [Flags]
    public enum Has { None = 0, User = 1, Conversation = 2, From = 4, To = 8, Roles = 16, Statuses = 32, Cursor = 64 }

    /// <summary>A query shape. <paramref name="Kinds"/> is a bit set of <see cref="SearchKind"/> values.</summary>
    public readonly record struct Shape(Statement Statement, int Kinds, Has Filters, VectorSearchMode Mode, Guid SpaceId, int Dimensions, DistanceMetric Metric);

    /// <summary>A rendered statement and the slots it binds.</summary>
    public sealed record Rendered(string Sql, int Slots);

    static readonly ConcurrentDictionary<Shape, Rendered> Cache = new();

    static readonly string[] SlotNames = Enum.GetNames<Slot>().Select(n => "{" + n.ToLowerInvariant() + "}").ToArray();

    public static int KindBit(SearchKind kind) => 1 << (int)kind;

    public static Rendered For(Shape shape) => Cache.GetOrAdd(shape, static s => Number(Render(s)));

    /// <summary>Replaces slot names by $1, $2, … in slot order, over the slots the text uses.</summary>
    static Rendered Number(string sql)
    {
        var used = 0;
        for (var s = 0; s < SlotNames.Length; s++)
            if (sql.Contains(SlotNames[s], StringComparison.Ordinal))
                used |= 1 << s;
        var sb = new StringBuilder(sql);
        for (var s = 0; s < SlotNames.Length; s++)
            if ((used & (1 << s)) != 0)
                sb.Replace(SlotNames[s], "$" + (BitOperations.PopCount((uint)(used & ((1 << s) - 1))) + 1).ToString(CultureInfo.InvariantCulture));
        return new Rendered(sb.ToString(), used);
    }

    static bool In(int kinds, SearchKind kind) => (kinds & KindBit(kind)) != 0;

    static string Render(Shape s)
    {
        var sb = new StringBuilder(4096);
        switch (s.Statement)
        {
            case Statement.FullText:
                sb.Append("WITH ").Append(Query).Append(",\n");
                TextMatches(sb, s);
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
                TextMatches(sb, s);
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

    /// <summary>
    /// Every full-text match as (kind, id, rank): one branch per kind asked for, each with the filters
    /// given. A kind that lacks a filter that is set (roles: messages only; statuses: messages and
    /// documents) has no branch.
    /// </summary>
    static void TextMatches(StringBuilder sb, Shape s)
    {
        var f = s.Filters;
        var branches = new List<string>(4);
        if (In(s.Kinds, SearchKind.Message))
            branches.Add($"""
                SELECT 0 AS kind, m.id, ts_rank_cd(m.search_vector, (SELECT query FROM q), 1) AS rank
                  FROM {"{schema}"}.messages m
                 WHERE m.search_vector {Match}
                   AND m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL{Filter(f, Has.User, "m.user_id = {user}")}{Filter(f, Has.Conversation, "m.conversation_id = {conversation}")}{Filter(f, Has.From, "m.created_at >= {from}")}{Filter(f, Has.To, "m.created_at < {to}")}{Filter(f, Has.Roles, "m.role = ANY ({roles})")}{Filter(f, Has.Statuses, "m.status = ANY ({statuses})")}
                   AND NOT EXISTS (SELECT 1 FROM {"{schema}"}.conversations c WHERE c.id = m.conversation_id AND c.deleted_at IS NOT NULL)
                """);
        if (In(s.Kinds, SearchKind.Memory) && (f & (Has.Roles | Has.Statuses)) == 0)
            branches.Add($"""
                SELECT 1, x.id, ts_rank_cd(x.search_vector, (SELECT query FROM q), 1)
                  FROM {"{schema}"}.memories x
                 WHERE x.search_vector {Match}
                   AND x.tenant_id = current_setting('chatstore.tenant_id')::uuid AND x.deleted_at IS NULL AND x.superseded_by IS NULL{Filter(f, Has.User, "x.user_id = {user}")}{Filter(f, Has.Conversation, "EXISTS (SELECT 1 FROM {schema}.memory_sources s WHERE s.memory_id = x.id AND s.conversation_id = {conversation})")}{Filter(f, Has.From, "x.created_at >= {from}")}{Filter(f, Has.To, "x.created_at < {to}")}
                """);
        if (In(s.Kinds, SearchKind.Document) && (f & Has.Roles) == 0)
            branches.Add($"""
                SELECT 2, d.id, ts_rank_cd(d.search_vector, (SELECT query FROM q), 1)
                  FROM {"{schema}"}.documents d
                 WHERE d.search_vector {Match}
                   AND d.tenant_id = current_setting('chatstore.tenant_id')::uuid AND d.deleted_at IS NULL{Filter(f, Has.User, "d.user_id = {user}")}{Filter(f, Has.Conversation, "d.conversation_id = {conversation}")}{Filter(f, Has.From, "d.created_at >= {from}")}{Filter(f, Has.To, "d.created_at < {to}")}{Filter(f, Has.Statuses, "d.status = ANY ({statuses})")}
                """);
        if (In(s.Kinds, SearchKind.Analysis) && (f & (Has.Roles | Has.Statuses)) == 0)
            branches.Add($"""
                SELECT 3, a.id, ts_rank_cd(a.search_vector, (SELECT query FROM q), 1)
                  FROM {"{schema}"}.document_analyses a JOIN {"{schema}"}.documents d ON d.id = a.document_id
                 WHERE a.search_vector {Match}
                   AND a.tenant_id = current_setting('chatstore.tenant_id')::uuid AND d.deleted_at IS NULL{Filter(f, Has.User, "d.user_id = {user}")}{Filter(f, Has.Conversation, "d.conversation_id = {conversation}")}{Filter(f, Has.From, "a.created_at >= {from}")}{Filter(f, Has.To, "a.created_at < {to}")}
                """);
        if (branches.Count == 0)
            branches.Add("SELECT NULL::int AS kind, NULL::uuid AS id, NULL::real AS rank WHERE false");
        sb.Append("fts (kind, id, rank) AS (\n").AppendJoin("\nUNION ALL\n", branches).Append(')');
    }

    static string Filter(Has filters, Has flag, string predicate) => (filters & flag) != 0 ? "\n   AND " + predicate : "";

    /// <summary>A result's owner row (who, where, when, and the indexed text for snippets) for p.kind, p.id: one branch per kind asked for.</summary>
    static void Owner(StringBuilder sb, int kinds)
    {
        var branches = new List<string>(5);
        if (In(kinds, SearchKind.Message))
            branches.Add("""
                SELECT m.user_id, m.conversation_id, NULL::uuid AS document_id, m.role, m.status, m.created_at, left(m.content, 100000) AS body
                  FROM {schema}.messages m WHERE p.kind = 0 AND m.id = p.id
                """);
        if (In(kinds, SearchKind.Memory))
            branches.Add("""
                SELECT x.user_id, NULL::uuid, NULL::uuid, NULL::text, NULL::text, x.created_at, left(x.content, 100000)
                  FROM {schema}.memories x WHERE p.kind = 1 AND x.id = p.id
                """);
        if (In(kinds, SearchKind.Document))
            branches.Add("""
                SELECT d.user_id, d.conversation_id, d.id, NULL::text, d.status, d.created_at, left(d.filename || ' ' || coalesce(d.extracted_text, ''), 100000)
                  FROM {schema}.documents d WHERE p.kind = 2 AND d.id = p.id
                """);
        if (In(kinds, SearchKind.Analysis))
            branches.Add("""
                SELECT d.user_id, d.conversation_id, d.id, NULL::text, NULL::text, a.created_at, left(coalesce(a.category, '') || ' ' || a.summary, 100000)
                  FROM {schema}.document_analyses a JOIN {schema}.documents d ON d.id = a.document_id WHERE p.kind = 3 AND a.id = p.id
                """);
        if (In(kinds, SearchKind.Subject))
            branches.Add("""
                SELECT s.user_id, NULL::uuid, NULL::uuid, NULL::text, NULL::text, s.created_at, s.name
                  FROM {schema}.subjects s WHERE p.kind = 4 AND s.id = p.id
                """);
        sb.Append("CROSS JOIN LATERAL (\n").AppendJoin("\nUNION ALL\n", branches).Append("\n) o (user_id, conversation_id, document_id, role, status, created_at, body)\n");
    }

    // Vector candidates in the space ({space}: its id; {distance}: the distance expression its partial
    // index serves). No liveness checks: soft-deleting an owner deletes its vectors (migration 0008's triggers).
    static string VectorFilter(Shape s)
    {
        var f = s.Filters;
        var sb = new StringBuilder("e.space_id = {space} AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid");
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
                  .Append("         WHERE e.space_id = {space} AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid")
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
