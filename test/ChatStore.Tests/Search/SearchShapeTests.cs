using ChatStore.Embeddings;
using ChatStore.Search;

namespace ChatStore.Tests.Search;

/// <summary>
/// Search statements are rendered per shape (kinds × filters × mode): every shape is run here against
/// an answer worked out independently (in .NET for full text, by a plain SQL query for vectors).
/// </summary>
public sealed class SearchShapeTests
{
    const int Dims = 64;

    sealed record Row(Guid Id, SearchKind Kind, Guid User, Guid? Conversation, string? Role, string? Status, DateTimeOffset Created);

    [Fact]
    public async Task Every_kind_and_filter_combination_of_full_text_finds_exactly_the_matching_rows()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var ada = await SearchData.UserAsync(tenant.Id);
        var bob = await SearchData.UserAsync(tenant.Id);
        var c1 = await SearchData.ConversationAsync(tenant.Id, ada);
        var c2 = await SearchData.ConversationAsync(tenant.Id, ada);
        var cb = await SearchData.ConversationAsync(tenant.Id, bob);
        var old = DateTimeOffset.UtcNow.AddDays(-10);
        var now = DateTimeOffset.UtcNow;
        var doc = await SearchData.DocumentAsync(tenant.Id, ada, "okapi.txt", "okapi stripes", c1, status: "processing");
        Row[] rows =
        [
            new(await SearchData.MessageAsync(tenant.Id, c1, ada, "okapi one", "user", createdAt: old), SearchKind.Message, ada, c1, "user", "complete", old),
            new(await SearchData.MessageAsync(tenant.Id, c1, ada, "okapi two", "assistant", "error"), SearchKind.Message, ada, c1, "assistant", "error", now),
            new(await SearchData.MessageAsync(tenant.Id, c2, ada, "okapi three", "assistant"), SearchKind.Message, ada, c2, "assistant", "complete", now),
            new(await SearchData.MessageAsync(tenant.Id, cb, bob, "okapi of bob"), SearchKind.Message, bob, cb, "user", "complete", now),
            new(await SearchData.MemoryAsync(tenant.Id, ada, "okapi memory", sourceConversation: c2), SearchKind.Memory, ada, c2, null, null, now),
            new(await SearchData.MemoryAsync(tenant.Id, bob, "okapi memory of bob"), SearchKind.Memory, bob, null, null, null, now),
            new(doc, SearchKind.Document, ada, c1, null, "processing", now),
            new(await SearchData.AnalysisAsync(tenant.Id, doc, "okapi analysis"), SearchKind.Analysis, ada, c1, null, null, now),
        ];
        var from = old.AddMinutes(1);
        var to = now.AddHours(1);
        SearchKind[] textKinds = [SearchKind.Message, SearchKind.Memory, SearchKind.Document, SearchKind.Analysis];

        var checkedShapes = 0;
        for (var kindBits = 1; kindBits < 1 << textKinds.Length; kindBits++)
        {
            var kinds = textKinds.Where((_, i) => (kindBits & (1 << i)) != 0).ToArray();
            for (var f = 0; f < 1 << 6; f++)
            {
                bool Has(int bit) => (f & (1 << bit)) != 0;
                var query = new SearchQuery
                {
                    Text = "okapi", Kinds = kinds, Limit = 50,
                    UserId = Has(0) ? ada : null, ConversationId = Has(1) ? c1 : null, From = Has(2) ? from : null, To = Has(3) ? to : null,
                    Roles = Has(4) ? ["assistant"] : null, Statuses = Has(5) ? ["error", "processing"] : null,
                };
                var expected = rows.Where(r => kinds.Contains(r.Kind)
                        && (query.UserId is null || r.User == query.UserId) && (query.ConversationId is null || r.Conversation == query.ConversationId)
                        && (query.From is null || r.Created >= query.From) && (query.To is null || r.Created < query.To)
                        && (query.Roles is null || (r.Role is not null && query.Roles.Contains(r.Role)))
                        && (query.Statuses is null || (r.Kind is SearchKind.Message or SearchKind.Document && query.Statuses.Contains(r.Status!))))
                    .Select(r => r.Id).Order().ToArray();
                var hits = (await scope.Search.FullTextAsync(query)).Items;
                Assert.True(expected.SequenceEqual(hits.Select(h => h.Id).Order()),
                    $"kinds {string.Join(",", kinds)}, filters {f:b6}: expected {expected.Length} rows, got {hits.Count}");
                Assert.All(hits, h =>
                {
                    var r = rows.Single(r => r.Id == h.Id);
                    Assert.Equal((r.Kind, r.User, r.Kind == SearchKind.Memory ? null : r.Conversation, r.Role, r.Status),
                        (h.Kind, h.UserId, h.ConversationId, h.Role, h.Status));
                    Assert.Equal(r.Kind is SearchKind.Document or SearchKind.Analysis ? doc : null, h.DocumentId);
                    Assert.Contains("<b>okapi</b>", h.Snippet, StringComparison.Ordinal);
                });
                checkedShapes++;
            }
        }
        Assert.Equal(15 * 64, checkedShapes);
    }

    [Fact]
    public async Task Every_kind_filter_and_mode_combination_of_vector_and_hybrid_search_finds_exactly_the_matching_rows()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync(model: "shape-tests");
        var ada = await SearchData.UserAsync(tenant.Id);
        var bob = await SearchData.UserAsync(tenant.Id);
        var c1 = await SearchData.ConversationAsync(tenant.Id, ada);
        var c2 = await SearchData.ConversationAsync(tenant.Id, ada);
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        var doc = await SearchData.DocumentAsync(tenant.Id, ada, "okapi.txt", "okapi", c1);
        EmbeddingOwner[] owners =
        [
            EmbeddingOwner.Message(await SearchData.MessageAsync(tenant.Id, c1, ada, "okapi a", createdAt: old)),
            EmbeddingOwner.Message(await SearchData.MessageAsync(tenant.Id, c2, ada, "okapi b")),
            EmbeddingOwner.Message(await SearchData.MessageAsync(tenant.Id, await SearchData.ConversationAsync(tenant.Id, bob), bob, "okapi c")),
            EmbeddingOwner.Memory(await SearchData.MemoryAsync(tenant.Id, ada, "okapi d")),
            EmbeddingOwner.Document(doc),
            EmbeddingOwner.Analysis(await SearchData.AnalysisAsync(tenant.Id, doc, "okapi e")),
        ];
        for (var i = 0; i < owners.Length; i++)
            await scope.Embeddings.UpsertAsync(space, owners[i], SearchData.Axis(Dims, 0, 0.3f, i));
        var from = old.AddMinutes(1);
        var to = DateTimeOffset.UtcNow.AddHours(1);
        var allKinds = Enum.GetValues<SearchKind>();
        VectorSearchMode[] modes = [VectorSearchMode.Auto, VectorSearchMode.Index, VectorSearchMode.Exact];

        var checkedShapes = 0;
        for (var kindBits = 1; kindBits < 1 << allKinds.Length; kindBits++)
        {
            var kinds = allKinds.Where((_, i) => (kindBits & (1 << i)) != 0).ToArray();
            for (var f = 0; f < 1 << 4; f++)
            {
                bool Has(int bit) => (f & (1 << bit)) != 0;
                var mode = modes[(kindBits + f) % modes.Length];
                var query = new VectorSearchQuery
                {
                    Space = space, Vector = SearchData.Axis(Dims, 0), Kinds = kinds, K = 50, Mode = mode,
                    UserId = Has(0) ? ada : null, ConversationId = Has(1) ? c1 : null, From = Has(2) ? from : null, To = Has(3) ? to : null,
                };
                // The answer from the embeddings table itself, as the owner.
                var expected = (await TestStore.ScalarAsync<Guid[]>("""
                    SELECT coalesce(array_agg(coalesce(message_id, memory_id, document_id, analysis_id, subject_id)), '{}') FROM embeddings
                     WHERE tenant_id = $1 AND space_id = $2
                       AND ($3::uuid IS NULL OR user_id = $3) AND ($4::uuid IS NULL OR conversation_id = $4)
                       AND ($5::timestamptz IS NULL OR owner_created_at >= $5) AND ($6::timestamptz IS NULL OR owner_created_at < $6)
                       AND CASE WHEN message_id IS NOT NULL THEN 'Message' WHEN memory_id IS NOT NULL THEN 'Memory' WHEN document_id IS NOT NULL THEN 'Document'
                                WHEN analysis_id IS NOT NULL THEN 'Analysis' ELSE 'Subject' END = ANY ($7)
                    """, tenant.Id, space.Id, (object?)query.UserId ?? DBNull.Value, (object?)query.ConversationId ?? DBNull.Value,
                    (object?)query.From ?? DBNull.Value, (object?)query.To ?? DBNull.Value, kinds.Select(k => k.ToString()).ToArray())).Order().ToArray();
                var hits = await scope.Search.VectorAsync(query);
                Assert.True(expected.SequenceEqual(hits.Select(h => h.Id).Order()),
                    $"vector: kinds {string.Join(",", kinds)}, filters {f:b4}, {mode}: expected {expected.Length} rows, got {hits.Count}");

                // Hybrid: the vector list is the same set; every full-text hit is of a kind asked for and passes the filters.
                var hybrid = await scope.Search.HybridAsync(new HybridSearchQuery
                {
                    Space = space, Text = "okapi", Vector = query.Vector, Kinds = kinds, Limit = 50, Candidates = 50, Mode = mode,
                    UserId = query.UserId, ConversationId = query.ConversationId, From = query.From, To = query.To,
                });
                Assert.True(expected.SequenceEqual(hybrid.Where(h => h.VectorRank is not null).Select(h => h.Id).Order()),
                    $"hybrid: kinds {string.Join(",", kinds)}, filters {f:b4}, {mode}");
                Assert.All(hybrid, h => Assert.Contains(h.Kind, kinds));
                Assert.All(hybrid, h => Assert.True(query.UserId is null || h.UserId == ada));
                checkedShapes++;
            }
        }
        Assert.Equal(31 * 16, checkedShapes);
    }

    [Fact]
    public async Task Auto_mode_remembers_whether_a_set_was_below_its_threshold_and_searches_it_the_same_way_without_counting()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync(model: "shape-tests");
        var ada = await SearchData.UserAsync(tenant.Id);
        var bob = await SearchData.UserAsync(tenant.Id);
        for (var i = 0; i < 12; i++)
            await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Memory(await SearchData.MemoryAsync(tenant.Id, i < 8 ? ada : bob, $"m{i}")),
                SearchData.Axis(Dims, 0, 0.3f, i));
        var sets = scope.Context.VectorSetSizes;
        var query = new VectorSearchQuery { Space = space, Vector = SearchData.Axis(Dims, 0), K = 20, ExactThreshold = 5 };

        var exact = await scope.Search.VectorAsync(query with { UserId = ada, Mode = VectorSearchMode.Exact });
        Assert.Equal(VectorSearchMode.Auto, sets.ModeFor(tenant.Id, space.Id, ada, null, 5));
        var first = await scope.Search.VectorAsync(query with { UserId = ada });
        Assert.Equal(VectorSearchMode.Index, sets.ModeFor(tenant.Id, space.Id, ada, null, 5));
        var second = await scope.Search.VectorAsync(query with { UserId = ada });
        Assert.Equal(exact.Select(h => h.Id), first.Select(h => h.Id));
        Assert.Equal(exact.Select(h => h.Id), second.Select(h => h.Id));

        // Bob's 4 rows are below the threshold: searched exactly; another threshold is another set.
        var bobs = await scope.Search.VectorAsync(query with { UserId = bob });
        Assert.Equal(VectorSearchMode.Exact, sets.ModeFor(tenant.Id, space.Id, bob, null, 5));
        Assert.Equal(bobs.Select(h => h.Id), (await scope.Search.VectorAsync(query with { UserId = bob })).Select(h => h.Id));
        Assert.Equal(4, bobs.Count);
        Assert.Equal(VectorSearchMode.Auto, sets.ModeFor(tenant.Id, space.Id, ada, null, 50));
        await scope.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "m1", Vector = query.Vector, ExactThreshold = 5 });
        Assert.Equal(VectorSearchMode.Index, sets.ModeFor(tenant.Id, space.Id, null, null, 5));
    }
}
