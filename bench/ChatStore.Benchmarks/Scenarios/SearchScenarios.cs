using ChatStore.Benchmarks.Data;
using ChatStore.Benchmarks.Harness;
using ChatStore.Benchmarks.Peers;
using ChatStore.Search;

namespace ChatStore.Benchmarks.Scenarios;

/// <summary>
/// (B) ChatStore's search API asked the question the raw and EF Core peers answer: a tenant's messages
/// (full text) or memories (kNN, hybrid), with the peers' pgvector settings (index scans, ef_search 100)
/// so the three return the same results. Timed runs use the library's own results; the smoke test turns
/// them into the peers' records (<c>AsPeerHits</c>) to compare.
/// </summary>
public static class LibrarySearch
{
    public static Task<Page<SearchHit>> FullTextAsync(TenantScope scope, string text) =>
        scope.Search.FullTextAsync(new SearchQuery { Text = text, Kinds = [SearchKind.Message], Limit = 20 });

    public static Task<IReadOnlyList<VectorHit>> KnnAsync(BenchContext ctx, TenantScope scope, float[] vector, Guid? user, int k) =>
        scope.Search.VectorAsync(new VectorSearchQuery
        {
            Space = ctx.Space, Vector = vector, UserId = user, Kinds = [SearchKind.Memory], K = k,
            EfSearch = SearchSql.EfSearch,
        });

    public static Task<IReadOnlyList<HybridHit>> HybridAsync(BenchContext ctx, TenantScope scope, string text, float[] vector, int candidates, int rrfK, int limit) =>
        scope.Search.HybridAsync(new HybridSearchQuery
        {
            Space = ctx.Space, Text = text, Vector = vector, Kinds = [SearchKind.Memory], Candidates = candidates, RrfK = rrfK, Limit = limit,
            EfSearch = SearchSql.EfSearch,
        });

    public static List<TextHit> AsPeerHits(Page<SearchHit> page) =>
        page.Items.Select(h => new TextHit(h.Id, h.UserId, h.ConversationId!.Value, h.Role!, h.Status!, h.CreatedAt, h.Rank, h.Snippet)).ToList();

    public static List<KnnHit> AsPeerHits(IReadOnlyList<VectorHit> hits) => hits.Select(h => new KnnHit(h.Id, h.Distance)).ToList();

    public static List<FusedHit> AsPeerHits(IReadOnlyList<HybridHit> hits) =>
        hits.Select(h => new FusedHit(h.Id, h.Score, h.FullTextRank, h.VectorRank, h.Snippet)).ToList();

    /// <summary>The ids of a result list, in order: what every implementation's timed kNN run hands to the recall count.</summary>
    public static List<Guid> Ids<T>(IReadOnlyList<T> hits, Func<T, Guid> id)
    {
        var ids = new List<Guid>(hits.Count);
        for (var i = 0; i < hits.Count; i++)
            ids.Add(id(hits[i]));
        return ids;
    }
}

/// <summary>4. Tenant-scoped full-text top 20 (ranked, with snippets) for rare, mid-frequency and common terms.</summary>
public sealed class FullTextScenario : IScenario
{
    public string Id => "4 full text";

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        var tenant = ctx.Tenant(m.SearchTenant);
        var scope = ctx.Scope(m.SearchTenant);
        foreach (var cls in new[] { "rare", "mid", "common" })
        {
            var terms = m.Terms[cls];
            Impl Make(string name, string label, Func<string, Task<int>> search)
            {
                var picks = Picks.RoundRobin(terms.Length);
                return new Impl(name, label, async () =>
                {
                    await search(terms[picks.Next()].Term);
                    return 1;
                });
            }
            var impls = new[]
            {
                Make("A", "A raw SQL", async t => (await ctx.Raw.FullTextAsync(tenant, t)).Count),
                Make("B", "B ChatStore", async t => (await LibrarySearch.FullTextAsync(scope, t)).Items.Count),
                Make("C", "C EF Core", async t => (await ctx.Ef.FullTextAsync(tenant, t)).Count),
            };
            var docs = string.Join("/", terms.Select(t => t.Documents));
            ctx.Results.AddRange(await Runner.RunAsync(Id, $"{cls} ({docs} docs)", impls, 1, ctx.Timing));
        }
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        var tenant = ctx.Tenant(m.SearchTenant);
        var scope = ctx.Scope(m.SearchTenant);
        foreach (var (cls, terms) in m.Terms)
            foreach (var term in terms.Take(2))
            {
                var a = await ctx.Raw.FullTextAsync(tenant, term.Term);
                var b = LibrarySearch.AsPeerHits(await LibrarySearch.FullTextAsync(scope, term.Term));
                var c = await ctx.Ef.FullTextAsync(tenant, term.Term);
                Smoke.Equal($"4 full text {cls} '{term.Term}' hits", Math.Min(20, term.Documents), a.Count);
                Smoke.AllEqual($"4 full text {cls} '{term.Term}'", [Smoke.Canonical(a), Smoke.Canonical(b), Smoke.Canonical(c)], ["A", "B", "C"]);
            }
    }
}

/// <summary>5. Filtered kNN top 10 over 384-dim memory embeddings at 50%, 5% and 0.5% selectivity, with recall@10 against exact answers.</summary>
public sealed class KnnScenario : IScenario
{
    public string Id => "5 knn";

    public const int K = 10;

    public async Task RunAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        for (var c = 0; c < m.VectorClasses.Length; c++)
        {
            var cls = m.VectorClasses[c];
            var classIndex = c;
            var tenant = ctx.Tenant(cls.Tenant);
            var scope = ctx.Scope(cls.Tenant);
            var recall = new Dictionary<string, (long Found, long Total)>();
            Impl Make(string name, string label, Func<VectorQuery, Task<IReadOnlyList<Guid>>> search)
            {
                var picks = Picks.RoundRobin(ctx.Queries.Length);
                var gate = new object();
                recall[name] = (0, 0);
                return new Impl(name, label, async () =>
                {
                    var q = ctx.Queries[picks.Next()];
                    var ids = await search(q);
                    var found = Overlap(ids, q.Truth[classIndex]);
                    lock (gate)
                        recall[name] = (recall[name].Found + found, recall[name].Total + q.Truth[classIndex].Length);
                    return 1;
                });
            }
            var impls = new[]
            {
                Make("A", "A raw SQL", async q => LibrarySearch.Ids(await ctx.Raw.KnnAsync(ctx.Search, tenant, q.Vector, cls.User, K), h => h.MemoryId)),
                Make("B", "B ChatStore", async q => LibrarySearch.Ids(await LibrarySearch.KnnAsync(ctx, scope, q.Vector, cls.User, K), h => h.Id)),
                Make("C", "C EF Core", async q => LibrarySearch.Ids(await ctx.Ef.KnnAsync(ctx.Search, tenant, q.Vector, cls.User, K), h => h.MemoryId)),
            };
            var cells = await Runner.RunAsync(Id, $"{cls.Name} ({cls.Rows:N0} rows)", impls, 1, ctx.Timing);
            foreach (var cell in cells)
                cell.Recall = recall[cell.Impl].Total == 0 ? null : (double)recall[cell.Impl].Found / recall[cell.Impl].Total;
            ctx.Results.AddRange(cells);
        }
    }

    public static int Overlap(IReadOnlyList<Guid> ids, Guid[] truth)
    {
        var n = 0;
        foreach (var id in ids)
            if (Array.IndexOf(truth, id) >= 0)
                n++;
        return n;
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        var m = ctx.Manifest;
        for (var c = 0; c < m.VectorClasses.Length; c++)
        {
            var cls = m.VectorClasses[c];
            long found = 0, total = 0;
            foreach (var q in ctx.Queries.Take(10))
            {
                var a = await ctx.Raw.KnnAsync(ctx.Search, ctx.Tenant(cls.Tenant), q.Vector, cls.User, K);
                var b = LibrarySearch.AsPeerHits(await LibrarySearch.KnnAsync(ctx, ctx.Scope(cls.Tenant), q.Vector, cls.User, K));
                var e = await ctx.Ef.KnnAsync(ctx.Search, ctx.Tenant(cls.Tenant), q.Vector, cls.User, K);
                Smoke.Equal($"5 knn {cls.Name} q{q.Index} count", K, a.Count);
                Smoke.AllEqual($"5 knn {cls.Name} q{q.Index}", [Smoke.Canonical(a), Smoke.Canonical(b), Smoke.Canonical(e)], ["A", "B", "C"]);
                found += Overlap(a.ConvertAll(h => h.MemoryId), q.Truth[c]);
                total += K;
            }
            // Not a timing: a sanity bound that catches a broken index or filter.
            if ((double)found / total < 0.8)
                throw new Smoke.MismatchException($"5 knn {cls.Name}: recall@10 {(double)found / total:F2} against the exact answers is below 0.8");
        }
    }
}

/// <summary>6. Hybrid search over a tenant's memories: full-text and vector top-50 fused by reciprocal rank (k = 60), top 10.</summary>
public sealed class HybridScenario : IScenario
{
    public string Id => "6 hybrid";

    const int Candidates = 50, RrfK = 60, Limit = 10;

    public async Task RunAsync(BenchContext ctx)
    {
        ctx.Notes.Add("6 hybrid: C runs the two searches (LINQ full text, raw SQL kNN), fuses in .NET, then reads the snippets.");
        var cls = ctx.Manifest.VectorClasses[1];
        var tenant = ctx.Tenant(cls.Tenant);
        var scope = ctx.Scope(cls.Tenant);
        Impl Make(string name, string label, Func<VectorQuery, Task<int>> search)
        {
            var picks = Picks.RoundRobin(ctx.Queries.Length);
            return new Impl(name, label, async () =>
            {
                await search(ctx.Queries[picks.Next()]);
                return 1;
            });
        }
        var impls = new[]
        {
            Make("A", "A raw SQL", async q => (await ctx.Raw.HybridAsync(ctx.Search, tenant, q.Text, q.Vector, Candidates, RrfK, Limit)).Count),
            Make("B", "B ChatStore", async q => (await LibrarySearch.HybridAsync(ctx, scope, q.Text, q.Vector, Candidates, RrfK, Limit)).Count),
            Make("C", "C EF Core", async q => (await ctx.Ef.HybridAsync(ctx.Search, tenant, q.Text, q.Vector, Candidates, RrfK, Limit)).Count),
        };
        ctx.Results.AddRange(await Runner.RunAsync(Id, $"memories of tenant 1 ({cls.Rows:N0})", impls, 1, ctx.Timing));
    }

    public async Task SmokeAsync(BenchContext ctx)
    {
        var cls = ctx.Manifest.VectorClasses[1];
        var tenant = ctx.Tenant(cls.Tenant);
        var scope = ctx.Scope(cls.Tenant);
        foreach (var q in ctx.Queries.Take(10))
        {
            var a = await ctx.Raw.HybridAsync(ctx.Search, tenant, q.Text, q.Vector, Candidates, RrfK, Limit);
            var b = LibrarySearch.AsPeerHits(await LibrarySearch.HybridAsync(ctx, scope, q.Text, q.Vector, Candidates, RrfK, Limit));
            var c = await ctx.Ef.HybridAsync(ctx.Search, tenant, q.Text, q.Vector, Candidates, RrfK, Limit);
            Smoke.Equal($"6 hybrid q{q.Index} count", Limit, a.Count);
            Smoke.AllEqual($"6 hybrid q{q.Index}", [Smoke.Canonical(a), Smoke.Canonical(b), Smoke.Canonical(c)], ["A", "B", "C"]);
        }
    }
}
