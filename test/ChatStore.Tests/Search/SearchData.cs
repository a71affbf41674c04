using ChatStore.Embeddings;
using Npgsql;

namespace ChatStore.Tests.Search;

/// <summary>
/// Rows for search tests, inserted with SQL as the owner (the stores that create conversations,
/// messages, memories and documents are separate features); text is indexed in the tenant's search
/// language, as those stores do.
/// </summary>
public static class SearchData
{
    static long _seq;

    public static async Task<Guid> UserAsync(Guid tenantId) =>
        await ScalarAsync<Guid>("INSERT INTO users (id, tenant_id, role) VALUES ($1, $2, 'user') RETURNING id", Guid.CreateVersion7(), tenantId);

    public static async Task<Guid> ConversationAsync(Guid tenantId, Guid userId, string title = "") =>
        await ScalarAsync<Guid>("INSERT INTO conversations (id, tenant_id, user_id, title) VALUES ($1, $2, $3, $4) RETURNING id",
            Guid.CreateVersion7(), tenantId, userId, title);

    public static async Task<Guid> MessageAsync(Guid tenantId, Guid conversationId, Guid userId, string content, string role = "user",
        string status = "complete", DateTimeOffset? createdAt = null) =>
        await ScalarAsync<Guid>("""
            INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content, status, language, created_at)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8, t.search_language, $9 FROM tenants t WHERE t.id = $2
            RETURNING id
            """, Guid.CreateVersion7(), tenantId, conversationId, userId, Interlocked.Increment(ref _seq), role, content, status,
            createdAt ?? DateTimeOffset.UtcNow);

    public static async Task<Guid> MemoryAsync(Guid tenantId, Guid userId, string content, Guid? sourceConversation = null)
    {
        var id = await ScalarAsync<Guid>("""
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash, language)
            SELECT $1, $2, $3, $4, sha256(convert_to($4, 'UTF8')), t.search_language FROM tenants t WHERE t.id = $2
            RETURNING id
            """, Guid.CreateVersion7(), tenantId, userId, content);
        if (sourceConversation is Guid c)
            await ExecAsync("INSERT INTO memory_sources (tenant_id, memory_id, conversation_id) VALUES ($1, $2, $3)", tenantId, id, c);
        return id;
    }

    public static async Task<Guid> DocumentAsync(Guid tenantId, Guid userId, string filename, string text, Guid? conversationId = null,
        string status = "ready") =>
        await ScalarAsync<Guid>("""
            INSERT INTO documents (id, tenant_id, user_id, conversation_id, filename, extracted_text, status, language)
            SELECT $1, $2, $3, $4, $5, $6, $7, t.search_language FROM tenants t WHERE t.id = $2
            RETURNING id
            """, Guid.CreateVersion7(), tenantId, userId, (object?)conversationId ?? DBNull.Value, filename, text, status);

    public static async Task<Guid> AnalysisAsync(Guid tenantId, Guid documentId, string summary, string? category = null) =>
        await ScalarAsync<Guid>("""
            INSERT INTO document_analyses (id, tenant_id, document_id, version, category, summary, language)
            SELECT $1, $2, $3, coalesce((SELECT max(version) FROM document_analyses WHERE document_id = $3), 0) + 1, $4, $5, t.search_language
              FROM tenants t WHERE t.id = $2
            RETURNING id
            """, Guid.CreateVersion7(), tenantId, documentId, (object?)category ?? DBNull.Value, summary);

    /// <summary>Many memories at once: returns their ids in insertion order.</summary>
    public static async Task<List<Guid>> MemoriesAsync(Guid tenantId, IReadOnlyList<(Guid UserId, string Content)> rows)
    {
        var ids = rows.Select(_ => Guid.CreateVersion7()).ToArray();
        await ExecAsync("""
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash)
            SELECT r.id, $1, r.user_id, r.content, sha256(convert_to(r.content, 'UTF8'))
              FROM unnest($2::uuid[], $3::uuid[], $4::text[]) AS r(id, user_id, content)
            """, tenantId, ids, rows.Select(r => r.UserId).ToArray(), rows.Select(r => r.Content).ToArray());
        return [.. ids];
    }

    public static Task ExecAsync(string sql, params object[] args) => TestStore.ExecuteAsync(sql, args);

    static Task<T> ScalarAsync<T>(string sql, params object[] args) => TestStore.ScalarAsync<T>(sql, args);

    static readonly SemaphoreSlim SpaceLock = new(1, 1);
    static readonly Dictionary<string, EmbeddingSpace> Spaces = [];

    /// <summary>A space shared by the tests of this run (registered once); tests stay apart by tenant.</summary>
    public static async Task<EmbeddingSpace> SharedSpaceAsync(int dimensions = 64, string model = "test-model", VectorIndexKind index = VectorIndexKind.Hnsw)
    {
        var name = $"test-{model}-{dimensions}-{index}".ToLowerInvariant();
        await SpaceLock.WaitAsync();
        try
        {
            if (!Spaces.TryGetValue(name, out var space))
            {
                var client = await TestStore.ClientAsync();
                space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = name, Model = model, Dimensions = dimensions, IndexKind = index });
                Spaces[name] = space;
            }
            return space;
        }
        finally
        {
            SpaceLock.Release();
        }
    }

    /// <summary>A unit vector pointing mostly along <paramref name="axis"/>.</summary>
    public static float[] Axis(int dimensions, int axis, float noise = 0f, int seed = 0)
    {
        var random = new Random(seed);
        var v = new float[dimensions];
        for (var i = 0; i < dimensions; i++) v[i] = noise * (float)(random.NextDouble() - 0.5);
        v[axis] += 1;
        return Normalise(v);
    }

    public static float[] Normalise(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return [.. v.Select(x => x / norm)];
    }
}
