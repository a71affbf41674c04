using System.Text.RegularExpressions;

namespace ChatStore.Benchmarks.Peers;

/// <summary>
/// Search statements over ChatStore's schema (the generated <c>search_vector</c> columns with their GIN
/// indexes, the embeddings table with one partial HNSW index per embedding space), written the way an
/// expert would for this one question: tenant-scoped, ranked, with snippets; kNN through pgvector 0.8's
/// iterative index scan. They answer exactly what ChatStore's search answers (the same ranking, ties,
/// snippets and fusion), so the smoke test can compare results. Used by the raw peer (positional
/// parameters) and, for what LINQ cannot say, by the EF Core peer.
/// </summary>
public sealed partial class SearchSql(Guid spaceId, int dimensions)
{
    /// <summary>pgvector settings for a filtered kNN, transaction-local.</summary>
    public const string VectorSettingsSql =
        "SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)";

    public const string EfVectorSettingsSql = "SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = relaxed_order";

    /// <summary>The hnsw.ef_search above; ChatStore's queries are given the same.</summary>
    public const int EfSearch = 100;

    /// <summary>ts_headline options: ChatStore's, with its default highlight marks.</summary>
    public const string Headline = "StartSel=\"<b>\", StopSel=\"</b>\", MaxWords=35, MinWords=15, ShortWord=3, MaxFragments=2, FragmentDelimiter=\" … \"";

    // The query ($1) and what snippets highlight: an OR of its distinct words, so a snippet marks every
    // word found (with the AND query, ts_headline only picks fragments that hold all of them).
    const string Query = """
        (SELECT websearch_to_tsquery('english', $1) AS q,
                array_to_string(ARRAY(SELECT '''' || replace(replace(x, '\', '\\'), '''', '''''') || ''''
                                        FROM unnest((tsvector_to_array(to_tsvector('english', $1)))[1:32]) x), ' | ')::tsquery AS h) q
        """;

    /// <summary>
    /// $1 query text → the tenant's top 20 live messages (not in a deleted conversation: ChatStore's NOT IN,
    /// a hash of them), best first (<c>ts_rank_cd</c> normalised by length, then id), with snippets.
    /// ts_headline is costly, so PostgreSQL evaluates it after the sort and limit, for the 20 rows only.
    /// </summary>
    public const string FullTextSql = $"""
        SELECT m.id, m.user_id, m.conversation_id, m.role, m.status, m.created_at, ts_rank_cd(m.search_vector, q.q, 1) AS rank,
               ts_headline('english', left(m.content, 100000), q.h, '{Headline}') AS snippet
          FROM "public".messages m, {Query}
         WHERE m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL AND m.search_vector @@ q.q
           AND m.conversation_id NOT IN (SELECT c.id FROM "public".conversations c WHERE c.tenant_id = current_setting('chatstore.tenant_id')::uuid AND c.deleted_at IS NOT NULL)
         ORDER BY rank DESC, m.id DESC
         LIMIT 20
        """;

    /// <summary>$1 vector, $2 user or null, $3 k → the tenant's k nearest memories: memory id, cosine distance.</summary>
    public string KnnSql { get; } = $"""
        WITH c AS MATERIALIZED (
            SELECT e.memory_id, e.embedding::vector({dimensions}) <=> $1::vector({dimensions}) AS distance
              FROM "public".embeddings e
             WHERE e.space_id = '{spaceId}' AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid AND e.memory_id IS NOT NULL
               AND ($2::uuid IS NULL OR e.user_id = $2::uuid)
             ORDER BY distance
             LIMIT $3)
        SELECT memory_id AS "MemoryId", distance AS "Distance" FROM c ORDER BY distance, memory_id
        """;

    /// <summary>
    /// $1 text, $2 vector, $3 candidates per list, $4 RRF k, $5 limit → the tenant's memories fused by
    /// reciprocal rank: id, score, rank in the full-text list, rank in the vector list, and a snippet for
    /// full-text hits.
    /// </summary>
    public string HybridSql { get; } = $"""
        WITH ft AS MATERIALIZED (
            SELECT m.id, row_number() OVER (ORDER BY ts_rank_cd(m.search_vector, q.q, 1) DESC, m.id DESC) AS r
              FROM "public".memories m, {Query}
             WHERE m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL AND m.superseded_by IS NULL
               AND m.search_vector @@ q.q
             ORDER BY r
             LIMIT $3),
        vec AS MATERIALIZED (
            SELECT e.memory_id AS id, e.embedding::vector({dimensions}) <=> $2::vector({dimensions}) AS distance
              FROM "public".embeddings e
             WHERE e.space_id = '{spaceId}' AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid AND e.memory_id IS NOT NULL
             ORDER BY distance
             LIMIT $3),
        vr AS (SELECT id, row_number() OVER (ORDER BY distance, id) AS r FROM vec),
        p AS (
            SELECT coalesce(ft.id, vr.id) AS id, coalesce(1.0 / ($4 + ft.r), 0) + coalesce(1.0 / ($4 + vr.r), 0) AS score,
                   ft.r AS text_rank, vr.r AS vector_rank
              FROM ft FULL JOIN vr ON vr.id = ft.id
             ORDER BY score DESC, id DESC
             LIMIT $5)
        SELECT p.id, p.score::float8, p.text_rank, p.vector_rank,
               CASE WHEN p.text_rank IS NOT NULL THEN ts_headline('english', left(m.content, 100000), q.h, '{Headline}') END
          FROM p JOIN "public".memories m ON m.id = p.id, {Query}
         ORDER BY p.score DESC, p.id DESC
        """;

    /// <summary>The kNN statement with named parameters (@q, @user, @k) for EF Core's SqlQueryRaw.</summary>
    public string EfKnnSql => KnnSql.Replace("$1", "@q", StringComparison.Ordinal).Replace("$2", "@user", StringComparison.Ordinal).Replace("$3", "@k", StringComparison.Ordinal);

    /// <summary>What a snippet highlights, as to_tsquery text for EF Core: an OR of the query's distinct words.</summary>
    public static string HighlightQuery(string text) =>
        string.Join(" | ", Word().Matches(text).Select(m => m.Value.ToLowerInvariant()).Distinct().Take(32).Select(w => $"'{w}'"));

    [GeneratedRegex(@"[\p{L}\p{Nd}]+")]
    private static partial Regex Word();
}

/// <summary>A full-text hit.</summary>
public sealed record TextHit(Guid Id, Guid UserId, Guid ConversationId, string Role, string Status, DateTimeOffset CreatedAt, float Rank, string Snippet);

/// <summary>A kNN hit (column names match for EF Core's SqlQueryRaw).</summary>
public sealed record KnnHit(Guid MemoryId, double Distance);

/// <summary>A hybrid hit.</summary>
public sealed record FusedHit(Guid Id, double Score, long? TextRank, long? VectorRank, string? Snippet);

/// <summary>PostgreSQL's uuid order (bytes, as the text form reads), for ties broken in .NET as in SQL.</summary>
public static class UuidOrder
{
    public static int Compare(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16], y = stackalloc byte[16];
        a.TryWriteBytes(x, bigEndian: true, out _);
        b.TryWriteBytes(y, bigEndian: true, out _);
        return x.SequenceCompareTo(y);
    }
}
