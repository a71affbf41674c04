namespace ChatStore.Benchmarks.Peers;

/// <summary>
/// Search statements over ChatStore's schema (the generated <c>search_vector</c> columns with their GIN
/// indexes, the embeddings table with one partial HNSW index per embedding space), written the way an
/// expert would: tenant-scoped, ranked, with snippets; kNN through pgvector 0.8's iterative index scan.
/// Used by the raw peer (positional parameters) and, for what LINQ cannot say, by the EF Core peer.
/// </summary>
public sealed class SearchSql(Guid spaceId, int dimensions)
{
    /// <summary>pgvector settings for a filtered kNN, transaction-local.</summary>
    public const string VectorSettingsSql =
        "SELECT set_config('hnsw.ef_search', '100', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)";

    public const string EfVectorSettingsSql = "SET LOCAL hnsw.ef_search = 100; SET LOCAL hnsw.iterative_scan = relaxed_order";

    public const string Headline = "MaxFragments=1, MaxWords=20, MinWords=5";

    /// <summary>$1 query text → the tenant's top 20 messages: id, conversation, seq, rank, snippet.</summary>
    public const string FullTextSql = $"""
        SELECT m.id, m.conversation_id, m.seq, ts_rank(m.search_vector, q) AS rank, ts_headline('english', m.content, q, '{Headline}') AS snippet
          FROM "public".messages m, websearch_to_tsquery('english', $1) q
         WHERE m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL AND m.search_vector @@ q
         ORDER BY rank DESC, m.id
         LIMIT 20
        """;

    /// <summary>$1 vector, $2 user or null, $3 k → the tenant's k nearest memories: memory id, cosine distance.</summary>
    public string KnnSql { get; } = $"""
        WITH c AS MATERIALIZED (
            SELECT e.memory_id, e.embedding::vector({dimensions}) <=> $1::vector({dimensions}) AS distance
              FROM "public".embeddings e
             WHERE e.space_id = '{spaceId}' AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid
               AND ($2::uuid IS NULL OR e.user_id = $2::uuid)
             ORDER BY distance
             LIMIT $3)
        SELECT memory_id AS "MemoryId", distance AS "Distance" FROM c ORDER BY distance, memory_id
        """;

    /// <summary>
    /// $1 text, $2 vector, $3 candidates per list, $4 RRF k, $5 limit → memories fused by reciprocal rank:
    /// id, score, rank in the full-text list, rank in the vector list.
    /// </summary>
    public string HybridSql { get; } = $"""
        WITH q AS (SELECT websearch_to_tsquery('english', $1) AS q),
        ft AS (
            SELECT m.id, row_number() OVER (ORDER BY ts_rank(m.search_vector, q.q) DESC, m.id) AS r
              FROM "public".memories m, q
             WHERE m.tenant_id = current_setting('chatstore.tenant_id')::uuid AND m.deleted_at IS NULL AND m.search_vector @@ q.q
             ORDER BY r
             LIMIT $3),
        vec AS MATERIALIZED (
            SELECT e.memory_id AS id, e.embedding::vector({dimensions}) <=> $2::vector({dimensions}) AS distance
              FROM "public".embeddings e
             WHERE e.space_id = '{spaceId}' AND e.tenant_id = current_setting('chatstore.tenant_id')::uuid
             ORDER BY distance
             LIMIT $3),
        vr AS (SELECT id, row_number() OVER (ORDER BY distance, id) AS r FROM vec)
        SELECT coalesce(ft.id, vr.id) AS id,
               coalesce(1.0::float8 / ($4 + ft.r), 0) + coalesce(1.0::float8 / ($4 + vr.r), 0) AS score,
               ft.r AS text_rank, vr.r AS vector_rank
          FROM ft FULL JOIN vr ON vr.id = ft.id
         ORDER BY score DESC, id
         LIMIT $5
        """;

    /// <summary>The kNN statement with named parameters (@q, @user, @k) for EF Core's SqlQueryRaw.</summary>
    public string EfKnnSql => KnnSql.Replace("$1", "@q", StringComparison.Ordinal).Replace("$2", "@user", StringComparison.Ordinal).Replace("$3", "@k", StringComparison.Ordinal);
}

/// <summary>A full-text hit.</summary>
public sealed record TextHit(Guid Id, Guid ConversationId, long Seq, float Rank, string Snippet);

/// <summary>A kNN hit (column names match for EF Core's SqlQueryRaw).</summary>
public sealed record KnnHit(Guid MemoryId, double Distance);

/// <summary>A hybrid hit.</summary>
public sealed record FusedHit(Guid Id, double Score, long? TextRank, long? VectorRank);

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
