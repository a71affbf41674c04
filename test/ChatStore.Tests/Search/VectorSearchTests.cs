using ChatStore.Embeddings;
using ChatStore.Search;
using Xunit.Abstractions;

namespace ChatStore.Tests.Search;

public sealed class VectorSearchTests(ITestOutputHelper output)
{
    const int Dims = 64;

    [Fact]
    public async Task Hnsw_recall_at_10_is_at_least_0_95_of_exact_under_a_one_percent_user_filter()
    {
        var client = await TestStore.ClientAsync();
        var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = $"recall-{Guid.NewGuid():N}"[..20], Model = "clustered", Dimensions = Dims },
            deferIndex: true);
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var target = await SearchData.UserAsync(tenant.Id);
        var others = await SearchData.UserAsync(tenant.Id);
        const int total = 20_000, mine = 200; // the user filter keeps 1%
        var random = new Random(1234);
        var centroids = Enumerable.Range(0, 40).Select(_ => Gaussian(random, Dims, 1f)).ToArray();
        float[] Near(float[] c) => SearchData.Normalise([.. c.Zip(Gaussian(random, Dims, 0.35f), (a, b) => a + b)]);
        var owners = Enumerable.Range(0, total).Select(i => (UserId: i % (total / mine) == 0 ? target : others, Content: $"m{i}")).ToList();
        var ids = await SearchData.MemoriesAsync(tenant.Id, owners);
        var vectors = ids.Select(_ => Near(centroids[random.Next(centroids.Length)])).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(total, await scope.Embeddings.BulkLoadAsync(space, ids.Select((id, i) => new EmbeddingRow(EmbeddingOwner.Memory(id), vectors[i]))));
        output.WriteLine($"bulk load of {total} vectors: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = $1", space.IndexName));
        clock.Restart();
        await client.Embeddings.RebuildIndexAsync(space.Name);
        output.WriteLine($"HNSW build over {total} vectors: {clock.ElapsedMilliseconds} ms");
        await SearchData.ExecAsync("ANALYZE embeddings");
        clock.Restart();

        var recall = 0.0;
        const int queries = 30;
        for (var q = 0; q < queries; q++)
        {
            var vector = Near(centroids[random.Next(centroids.Length)]);
            var query = new VectorSearchQuery { Space = space, Vector = vector, UserId = target, K = 10 };
            var exact = await scope.Search.VectorAsync(query with { Mode = VectorSearchMode.Exact });
            var approximate = await scope.Search.VectorAsync(query with { Mode = VectorSearchMode.Index });
            Assert.Equal(10, exact.Count);
            Assert.All(approximate, h => Assert.Equal(target, h.UserId));

            // Exact is the true top 10 of the user's rows, with cosine distances.
            var truth = ids.Select((id, i) => (id, i)).Where(x => owners[x.i].UserId == target)
                .Select(x => (x.id, d: 1 - Dot(vectors[x.i], vector))).OrderBy(x => x.d).Take(10).ToList();
            Assert.Equal(truth.Select(t => t.id), exact.Select(h => h.Id));
            Assert.All(exact.Zip(truth), p => Assert.Equal(p.Second.d, p.First.Distance, 4));
            recall += approximate.Select(h => h.Id).Intersect(exact.Select(h => h.Id)).Count() / 10.0;
        }
        recall /= queries;
        output.WriteLine($"recall@10 {recall:F3}; {2 * queries} searches: {clock.ElapsedMilliseconds} ms");
        Assert.True(recall >= 0.95, $"recall@10 was {recall:F3}");

        // The index path really is the index: with the iterative scan cut to one tuple, the filter
        // leaves it short of 10 rows, while exact search always finds 10.
        var starved = await scope.Search.VectorAsync(new VectorSearchQuery
        {
            Space = space, Vector = vectors[1], UserId = target, K = 10, Mode = VectorSearchMode.Index, EfSearch = 10, MaxScanTuples = 1,
        });
        Assert.True(starved.Count < 10, $"the index path returned {starved.Count} rows");
    }

    static float[] Gaussian(Random random, int dims, float sigma) =>
        [.. Enumerable.Range(0, dims).Select(_ => sigma * (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

    static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    [Fact]
    public async Task Filters_by_kind_conversation_and_date_and_leaves_deleted_owners_out()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var space = await SearchData.SharedSpaceAsync(model: "filter-tests");
        var user = await SearchData.UserAsync(tenant.Id);
        var c1 = await SearchData.ConversationAsync(tenant.Id, user);
        var c2 = await SearchData.ConversationAsync(tenant.Id, user);
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        var m1 = await SearchData.MessageAsync(tenant.Id, c1, user, "a", createdAt: old);
        var m2 = await SearchData.MessageAsync(tenant.Id, c2, user, "b");
        var mem = await SearchData.MemoryAsync(tenant.Id, user, "c");
        var doc = await SearchData.DocumentAsync(tenant.Id, user, "d.txt", "d", c1);
        var i = 0;
        foreach (var owner in new[] { EmbeddingOwner.Message(m1), EmbeddingOwner.Message(m2), EmbeddingOwner.Memory(mem), EmbeddingOwner.Document(doc) })
            await scope.Embeddings.UpsertAsync(space, owner, SearchData.Axis(Dims, 0, 0.3f, i++));
        var q = new VectorSearchQuery { Space = space, Vector = SearchData.Axis(Dims, 0) };
        async Task<Guid[]> Ids(VectorSearchQuery query) => [.. (await scope.Search.VectorAsync(query)).Select(h => h.Id).Order()];
        Guid[] Sorted(params Guid[] ids) => [.. ids.Order()];
        Assert.Equal(Sorted(m1, m2, mem, doc), await Ids(q));
        Assert.Equal(Sorted(m1, m2), await Ids(q with { Kinds = [SearchKind.Message] }));
        Assert.Equal(Sorted(m1, doc), await Ids(q with { ConversationId = c1 }));
        Assert.Equal(Sorted(m1), await Ids(q with { To = old.AddMinutes(1) }));
        Assert.Equal(Sorted(m2, mem, doc), await Ids(q with { From = old.AddMinutes(1), Mode = VectorSearchMode.Index }));
        Assert.Equal(2, (await scope.Search.VectorAsync(q with { K = 2 })).Count);
        var hits = await scope.Search.VectorAsync(q);
        Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Distance <= p.Second.Distance));

        // Deleting through the stores deletes the owners' vectors in the same statement.
        await scope.Memories.DeleteAsync(mem);
        await scope.Conversations.DeleteAsync(c2);
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE memory_id = $1 OR message_id = $2", mem, m2));
        Assert.Equal(Sorted(m1, doc), await Ids(q));
        Assert.Equal(Sorted(m1, doc), await Ids(q with { Mode = VectorSearchMode.Index }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_rows_never_appear_in_any_mode(bool bypassRowLevelSecurity)
    {
        var space = await SearchData.SharedSpaceAsync();
        var (_, a, tenantA) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, tenantB) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var mine = new HashSet<Guid>();
        Guid userB = default;
        foreach (var (scope, tenant) in new[] { (a, tenantA), (b, tenantB) })
        {
            var user = await SearchData.UserAsync(tenant.Id);
            var c = await SearchData.ConversationAsync(tenant.Id, user);
            for (var i = 0; i < 5; i++)
            {
                var message = await SearchData.MessageAsync(tenant.Id, c, user, $"shared words wombat {i}");
                var memory = await SearchData.MemoryAsync(tenant.Id, user, $"wombat memory {i}");
                await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Message(message), SearchData.Axis(Dims, 7, 0.2f, i));
                await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Memory(memory), SearchData.Axis(Dims, 7, 0.2f, 100 + i));
                if (scope == a) mine.UnionWith([message, memory]);
            }
            if (scope == b) userB = user;
        }
        var vector = SearchData.Axis(Dims, 7);
        foreach (var mode in new[] { VectorSearchMode.Auto, VectorSearchMode.Index, VectorSearchMode.Exact })
        {
            var vectorHits = await a.Search.VectorAsync(new VectorSearchQuery { Space = space, Vector = vector, K = 50, Mode = mode });
            Assert.Equal(10, vectorHits.Count);
            Assert.Subset(mine, vectorHits.Select(h => h.Id).ToHashSet());
            var hybrid = await a.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "wombat", Vector = vector, Limit = 50, Mode = mode });
            Assert.Equal(10, hybrid.Count);
            Assert.Subset(mine, hybrid.Select(h => h.Id).ToHashSet());
            Assert.Empty(await a.Search.VectorAsync(new VectorSearchQuery { Space = space, Vector = vector, UserId = userB, Mode = mode }));
            Assert.Empty(await a.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "wombat", Vector = vector, UserId = userB, Mode = mode }));
        }
        var text = await a.Search.FullTextAsync(new SearchQuery { Text = "wombat", Limit = 50 });
        Assert.Equal(10, text.Items.Count);
        Assert.Subset(mine, text.Items.Select(h => h.Id).ToHashSet());
    }

    [Fact]
    public async Task Hybrid_fuses_by_reciprocal_rank_and_reports_sources_and_ranks()
    {
        var space = await SearchData.SharedSpaceAsync();
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var both = await SearchData.MessageAsync(tenant.Id, c, user, "alpha alpha bravo");       // text rank 1, vector rank 1
        var textOnly = await SearchData.MessageAsync(tenant.Id, c, user, "alpha charlie");       // text rank 2, no vector
        var vectorOnly = await SearchData.MemoryAsync(tenant.Id, user, "delta");                 // vector rank 2
        var far = await SearchData.DocumentAsync(tenant.Id, user, "far.txt", "echo foxtrot");    // vector rank 3
        await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Message(both), SearchData.Axis(Dims, 0));
        await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Memory(vectorOnly), SearchData.Axis(Dims, 0, 0.5f, 3));
        await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Document(far), SearchData.Axis(Dims, 30), chunkIndex: 2, chunkText: "echo foxtrot");

        var hits = await scope.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "alpha", Vector = SearchData.Axis(Dims, 0), RrfK = 10 });
        // textOnly and vectorOnly tie at 1/12; ties go by id, descending.
        Guid[] tied = [.. new[] { textOnly, vectorOnly }.OrderDescending()];
        Assert.Equal([both, tied[0], tied[1], far], hits.Select(h => h.Id));
        var h0 = hits[0];
        Assert.Equal((HybridSources.FullText | HybridSources.Vector, 1, 1), (h0.Sources, h0.FullTextRank!.Value, h0.VectorRank!.Value));
        Assert.Equal(2.0 / 11, h0.Score, 10);
        Assert.Contains("<b>alpha</b>", h0.Snippet, StringComparison.Ordinal);
        Assert.Equal(0, h0.Distance!.Value, 5);
        var v = hits.Single(h => h.Id == vectorOnly);
        Assert.Equal((HybridSources.Vector, (int?)null, 2), (v.Sources, v.FullTextRank, v.VectorRank!.Value));
        Assert.Equal(1.0 / 12, v.Score, 10);
        Assert.Null(v.Snippet);
        var t = hits.Single(h => h.Id == textOnly);
        Assert.Equal((HybridSources.FullText, 2, (int?)null), (t.Sources, t.FullTextRank!.Value, t.VectorRank));
        Assert.Equal(1.0 / 12, t.Score, 10);
        Assert.Equal((SearchKind.Document, 3, 2, "echo foxtrot"), (hits[3].Kind, hits[3].VectorRank!.Value, hits[3].ChunkIndex!.Value, hits[3].ChunkText));
        Assert.True(t.TextScore < h0.TextScore);

        // The ranks are those of the two searches on their own.
        var text = (await scope.Search.FullTextAsync(new SearchQuery { Text = "alpha" })).Items;
        Assert.Equal([both, textOnly], text.Select(h => h.Id));
        var vector = await scope.Search.VectorAsync(new VectorSearchQuery { Space = space, Vector = SearchData.Axis(Dims, 0) });
        Assert.Equal([both, vectorOnly, far], vector.Select(h => h.Id));
    }

    [Fact]
    public async Task Query_text_is_embedded_by_the_spaces_built_in_embedder_after_reindex()
    {
        var client = await TestStore.ClientAsync();
        var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = "test-local-hashing-256", Model = LocalHashingEmbeddingGenerator.DefaultModelId, Dimensions = 256 });
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var dog = await SearchData.MessageAsync(tenant.Id, c, user, "Our golden retriever puppy chews every shoe in the house");
        await SearchData.MessageAsync(tenant.Id, c, user, "Quarterly stock market report: bond yields rose again");
        var tea = await SearchData.MemoryAsync(tenant.Id, user, "Drinks jasmine green tea every morning");
        var doc = await SearchData.DocumentAsync(tenant.Id, user, "manual.txt", string.Join(' ', Enumerable.Repeat("Dishwasher manual: clean the filter monthly.", 200)));

        var generator = new LocalHashingEmbeddingGenerator(256);
        Assert.Equal(4, await scope.Embeddings.CountMissingAsync(space));
        var reports = new List<long>();
        var result = await scope.Embeddings.ReindexAsync(space, generator, new ReindexOptions { BatchSize = 2 }, new Progress(reports.Add));
        Assert.Equal(4, result.Rows);
        Assert.Equal((2L, 1L, 1L), (result.ByKind[EmbeddingOwnerKind.Message], result.ByKind[EmbeddingOwnerKind.Memory], result.ByKind[EmbeddingOwnerKind.Document]));
        Assert.Equal(4, reports[^1]);
        Assert.True(await TestStore.ScalarAsync<long>("SELECT count(*) FROM embeddings WHERE document_id = $1", doc) > 1, "the long document is chunked");
        Assert.Equal(0, (await scope.Embeddings.ReindexAsync(space, generator)).Rows); // nothing left to embed
        Assert.Equal(0, await scope.Embeddings.CountMissingAsync(space));

        Assert.Equal(dog, (await scope.Search.VectorAsync(new VectorSearchQuery { Space = space, Text = "golden retriever puppies" }))[0].Id);
        Assert.Equal(tea, (await scope.Search.VectorAsync(new VectorSearchQuery { Space = space, Text = "green tea in the morning", Mode = VectorSearchMode.Index }))[0].Id);
        Assert.Equal(doc, (await scope.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "dishwasher filter" }))[0].Id);

        var other = await client.Embeddings.GetSpaceAsync((await SearchData.SharedSpaceAsync()).Name);
        var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Search.VectorAsync(new VectorSearchQuery { Space = other, Text = "tea" }));
        Assert.Equal("generator", e.Field);
        var dims = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Search.VectorAsync(new VectorSearchQuery { Space = other, Vector = new float[3] }));
        Assert.Equal(("vector", "dimensions"), (dims.Field, dims.Rule));
        var nan = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Search.HybridAsync(new HybridSearchQuery { Space = other, Text = "x", Vector = Enumerable.Repeat(float.NaN, Dims).ToArray() }));
        Assert.Equal(("vector", "nan"), (nan.Field, nan.Rule));
    }

    sealed class Progress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
