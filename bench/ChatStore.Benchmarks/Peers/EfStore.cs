using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;
using NpgsqlTypes;

namespace ChatStore.Benchmarks.Peers;

/// <summary>
/// (C) What a .NET team would write with EF Core 10 instead of ChatStore: a pooled DbContext per unit of
/// work (AddDbContextPool), the connection opened once per unit of work (so the tenant interceptor runs
/// once), tracking queries and SaveChanges, optimistic concurrency on xmin for the conversation counters,
/// EF.Functions for full text, raw SQL for vectors (no pgvector EF package works here).
/// </summary>
public sealed class EfStore(IDbContextFactory<ChatDb> factory)
{
    public static IDbContextFactory<ChatDb> CreateFactory(NpgsqlDataSource dataSource, string role) =>
        new PooledDbContextFactory<ChatDb>(new DbContextOptionsBuilder<ChatDb>()
            .UseNpgsql(dataSource)
            .AddInterceptors(new TenantConnectionInterceptor(role))
            .Options);

    async Task<ChatDb> OpenAsync(Guid tenant)
    {
        var db = await factory.CreateDbContextAsync();
        db.TenantId = tenant;
        await db.Database.OpenConnectionAsync();
        return db;
    }

    public async Task<MessageRow> AppendAsync(Guid tenant, Guid conversationId, string role, string content)
    {
        await using var db = await OpenAsync(tenant);
        while (true)
        {
            var conversation = await db.Conversations.SingleOrDefaultAsync(c => c.Id == conversationId && c.DeletedAt == null)
                ?? throw new InvalidOperationException($"conversation {conversationId} not found");
            var now = DateTimeOffset.UtcNow;
            conversation.LastSeq++;
            conversation.MessageCount++;
            conversation.LastMessageAt = now;
            conversation.LastActivityAt = now;
            var message = new MessageRow
            {
                Id = Guid.CreateVersion7(), TenantId = conversation.TenantId, ConversationId = conversation.Id, UserId = conversation.UserId,
                Seq = conversation.LastSeq, Role = role, Content = content,
            };
            db.Messages.Add(message);
            try
            {
                await db.SaveChangesAsync();
                return message;
            }
            catch (DbUpdateException e) when (e is DbUpdateConcurrencyException
                || e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "messages_conversation_seq_key" })
            {
                // Another append took this seq (the xmin check or the unique (conversation, seq) caught it): reload and try again.
                db.ChangeTracker.Clear();
            }
        }
    }

    public async Task<(List<MessageRow> Messages, bool HasMore)> HistoryAsync(Guid tenant, Guid conversationId, int limit)
    {
        await using var db = await OpenAsync(tenant);
        if (!await db.Conversations.AnyAsync(c => c.Id == conversationId && c.DeletedAt == null))
            throw new InvalidOperationException($"conversation {conversationId} not found");
        var rows = await db.Messages.Where(m => m.ConversationId == conversationId && m.DeletedAt == null)
            .OrderByDescending(m => m.Seq).Take(limit + 1).ToListAsync();
        var more = rows.Count > limit;
        if (more)
            rows.RemoveAt(rows.Count - 1);
        rows.Reverse();
        return (rows, more);
    }

    /// <summary>AddRange + SaveChanges in chunks, in one transaction; the conversations' counters at the end.</summary>
    public async Task<long> ImportAsync(Guid tenant, IReadOnlyList<RawStore.ImportRow> rows, int chunk = 2_000)
    {
        await using var db = await OpenAsync(tenant);
        await using var tx = await db.Database.BeginTransactionAsync();
        var ids = rows.Select(r => r.ConversationId).Distinct().ToList();
        var conversations = await db.Conversations.AsNoTracking().Where(c => ids.Contains(c.Id) && c.DeletedAt == null).ToDictionaryAsync(c => c.Id);
        if (conversations.Count != ids.Count)
            throw new InvalidOperationException("unknown conversation");
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        for (var i = 0; i < rows.Count; i += chunk)
        {
            for (var j = i; j < Math.Min(rows.Count, i + chunk); j++)
            {
                var r = rows[j];
                var c = conversations[r.ConversationId];
                c.LastSeq++;
                c.MessageCount++;
                if (c.LastMessageAt is null || r.CreatedAt > c.LastMessageAt)
                    c.LastMessageAt = r.CreatedAt;
                db.Messages.Add(new MessageRow
                {
                    Id = Guid.CreateVersion7(), TenantId = c.TenantId, ConversationId = c.Id, UserId = c.UserId, Seq = c.LastSeq,
                    Role = r.Role, Content = r.Content, CreatedAt = r.CreatedAt, UpdatedAt = r.CreatedAt,
                });
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var c in conversations.Values)
        {
            c.LastActivityAt = now;
            db.Conversations.Update(c);
        }
        await db.SaveChangesAsync();
        await tx.CommitAsync();
        return rows.Count;
    }

    public async Task<List<TextHit>> FullTextAsync(Guid tenant, string text)
    {
        await using var db = await OpenAsync(tenant);
        var highlight = SearchSql.HighlightQuery(text);
        return await db.Messages
            .Where(m => m.DeletedAt == null && m.SearchVector!.Matches(EF.Functions.WebSearchToTsQuery("english", text))
                && !db.Conversations.Any(c => c.Id == m.ConversationId && c.DeletedAt != null))
            .OrderByDescending(m => m.SearchVector!.RankCoverDensity(EF.Functions.WebSearchToTsQuery("english", text), NpgsqlTsRankingNormalization.DivideBy1PlusLogLength))
            .ThenByDescending(m => m.Id)
            .Take(20)
            .Select(m => new TextHit(m.Id, m.UserId, m.ConversationId, m.Role, m.Status, m.CreatedAt,
                m.SearchVector!.RankCoverDensity(EF.Functions.WebSearchToTsQuery("english", text), NpgsqlTsRankingNormalization.DivideBy1PlusLogLength),
                EF.Functions.ToTsQuery("english", highlight).GetResultHeadline(m.Content, SearchSql.Headline)))
            .ToListAsync();
    }

    public async Task<List<KnnHit>> KnnAsync(SearchSql sql, Guid tenant, float[] vector, Guid? user, int k)
    {
        await using var db = await OpenAsync(tenant);
        await using var tx = await db.Database.BeginTransactionAsync();
        await db.Database.ExecuteSqlRawAsync(SearchSql.EfVectorSettingsSql);
        var hits = await Knn(db, sql, vector, user, k);
        await tx.CommitAsync();
        return hits;
    }

    static Task<List<KnnHit>> Knn(ChatDb db, SearchSql sql, float[] vector, Guid? user, int k) =>
        db.Database.SqlQueryRaw<KnnHit>(sql.EfKnnSql,
            new NpgsqlParameter<float[]>("q", vector),
            user is Guid u ? new NpgsqlParameter<Guid>("user", u) : new NpgsqlParameter("user", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = DBNull.Value },
            new NpgsqlParameter<int>("k", k)).ToListAsync();

    /// <summary>
    /// Full-text candidates through LINQ, vector candidates through raw SQL, fused by reciprocal rank in
    /// .NET, then the snippets of the full-text hits that made the cut.
    /// </summary>
    public async Task<List<FusedHit>> HybridAsync(SearchSql sql, Guid tenant, string text, float[] vector, int candidates, int rrfK, int limit)
    {
        await using var db = await OpenAsync(tenant);
        await using var tx = await db.Database.BeginTransactionAsync();
        var textIds = await db.Memories
            .Where(m => m.DeletedAt == null && m.SupersededBy == null && m.SearchVector!.Matches(EF.Functions.WebSearchToTsQuery("english", text)))
            .OrderByDescending(m => m.SearchVector!.RankCoverDensity(EF.Functions.WebSearchToTsQuery("english", text), NpgsqlTsRankingNormalization.DivideBy1PlusLogLength))
            .ThenByDescending(m => m.Id)
            .Take(candidates).Select(m => m.Id).ToListAsync();
        await db.Database.ExecuteSqlRawAsync(SearchSql.EfVectorSettingsSql);
        var vectorHits = await Knn(db, sql, vector, null, candidates);

        var fused = new Dictionary<Guid, (long? Text, long? Vector)>();
        for (var i = 0; i < textIds.Count; i++)
            fused[textIds[i]] = (i + 1, null);
        for (var i = 0; i < vectorHits.Count; i++)
            fused[vectorHits[i].MemoryId] = fused.TryGetValue(vectorHits[i].MemoryId, out var f) ? (f.Text, i + 1) : (null, i + 1);
        var top = fused
            .Select(f => (Id: f.Key, Score: (f.Value.Text is long t ? 1.0 / (rrfK + t) : 0) + (f.Value.Vector is long v ? 1.0 / (rrfK + v) : 0), f.Value.Text, f.Value.Vector))
            .OrderByDescending(h => h.Score).ThenByDescending(h => h.Id, Comparer<Guid>.Create(UuidOrder.Compare))
            .Take(limit).ToList();

        var withText = top.Where(h => h.Text is not null).Select(h => h.Id).ToList();
        var highlight = SearchSql.HighlightQuery(text);
        var snippets = await db.Memories.Where(m => withText.Contains(m.Id))
            .Select(m => new { m.Id, Snippet = EF.Functions.ToTsQuery("english", highlight).GetResultHeadline(m.Content, SearchSql.Headline) })
            .ToDictionaryAsync(m => m.Id, m => m.Snippet);
        await tx.CommitAsync();
        return top.ConvertAll(h => new FusedHit(h.Id, h.Score, h.Text, h.Vector, h.Text is null ? null : snippets[h.Id]));
    }
}
