using System.Text;
using ChatStore.Search;

namespace ChatStore.Tests.Search;

public sealed class FullTextSearchTests
{
    [Fact]
    public async Task Ten_thousand_hostile_query_strings_return_without_error()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var conversation = await SearchData.ConversationAsync(tenant.Id, user);
        await SearchData.MessageAsync(tenant.Id, conversation, user, "The quick brown fox jumps over the lazy dog (and the cat) -- \"quoted\" or not");
        await SearchData.MemoryAsync(tenant.Id, user, "User prefers tea over coffee; allergic to peanuts.");
        await SearchData.DocumentAsync(tenant.Id, user, "notes.txt", "Schnell: naïve café résumé 日本語 テキスト 🐶 emoji");

        var queries = HostileQueries(10_000, seed: 20241);
        Assert.Equal(10_000, queries.Count);
        var failures = new System.Collections.Concurrent.ConcurrentBag<(string, Exception)>();
        var searched = 0;
        await Parallel.ForEachAsync(queries, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (q, ct) =>
        {
            try
            {
                await scope.Search.FullTextAsync(new SearchQuery { Text = q, Limit = 5 }, ct);
                Interlocked.Increment(ref searched);
            }
            catch (Exception e)
            {
                failures.Add((q, e));
            }
        });
        Assert.True(failures.IsEmpty, $"{failures.Count} queries failed, e.g. [{failures.FirstOrDefault().Item1}]: {failures.FirstOrDefault().Item2}");
        Assert.Equal(10_000, searched);
        // The corpus is findable through the same path the fuzz used.
        Assert.NotEmpty((await scope.Search.FullTextAsync(new SearchQuery { Text = "\"lazy dog\" -elephant" })).Items);
    }

    /// <summary>Quotes, operators, unbalanced parentheses, unicode, long strings, empty, punctuation, SQL-looking text.</summary>
    static List<string> HostileQueries(int count, int seed)
    {
        var random = new Random(seed);
        string[] pieces =
        [
            "\"", "'", "''", "\"\"", "-", "--", "or", "OR", "and", "&", "|", "!", "!!", ":*", ":", "*", "<->", "<2>", "<-", "->", "(", ")", "((", "))",
            "\\", "\\\\", ";", "/*", "*/", "%", "_", "$1", "$$", "`", "~", "^", "@@", "@>", "::", "::tsquery", "{", "}", "[", "]", ",", ".", "?",
            "' OR 1=1 --", "'; DROP TABLE messages; --", "\"; SELECT pg_sleep(10); --", "UNION SELECT * FROM users", "1' AND '1'='1",
            "fox", "dog", "tea", "coffee", "peanuts", "the", "a", "café", "naïve", "日本語", "テキスト", "🐶", "👩‍👩‍👧", "Ω", "ß", "İ",
            "\u200b", "\u00a0", "\t", "\n", "\r\n", " ", "  ", "\u202e", "\ufeff", "é", "\u0301", "ﬁ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "-fox", "\"lazy dog\"", "fox:*", "!dog",
        ];
        var list = new List<string> { "", " ", "\"", "'", "(", ")", "-", "!", ":*", "<->", "or", "-or", "\"\"\"", "((((((", "))))))", "!!!!", "...", "***",
            new string('(', 5000), new string('"', 9999), string.Concat(Enumerable.Repeat("a ", 5000)), new string('x', 10_000), new string('é', 3000),
            string.Concat(Enumerable.Repeat("or ", 3000)), string.Concat(Enumerable.Repeat("-", 10_000)), string.Concat(Enumerable.Repeat("🐶", 5000)),
            string.Concat(Enumerable.Repeat("fox <-> ", 1200)), string.Concat(Enumerable.Repeat("\"fox ", 2000)),
            string.Concat(Enumerable.Repeat("-&", 100)), string.Concat(Enumerable.Repeat("-|", 100)), string.Concat(Enumerable.Repeat(" -", 100)) + "fox",
            string.Concat(Enumerable.Repeat("-(", 100)), string.Concat(Enumerable.Repeat("- fox ", 500)), string.Concat(Enumerable.Repeat("fox-", 2000)) };
        while (list.Count < count)
        {
            var sb = new StringBuilder();
            var n = random.Next(0, 12);
            for (var i = 0; i < n; i++)
            {
                switch (random.Next(6))
                {
                    case 0:
                        // Random printable or non-ASCII characters (no NUL, no lone surrogates: those are validation errors by design).
                        for (var j = random.Next(1, 6); j > 0; j--)
                            sb.Append((char)random.Next(0x21, 0x7f));
                        break;
                    case 1:
                        sb.Append(char.ConvertFromUtf32(random.Next(0x00a0, 0xd000)));
                        break;
                    default:
                        sb.Append(pieces[random.Next(pieces.Length)]);
                        break;
                }
                if (random.Next(3) == 0) sb.Append(' ');
            }
            if (random.Next(200) == 0)
                sb.Append(new string('(', random.Next(100, 4000)));
            list.Add(sb.Length > SearchStore.MaxQueryLength ? sb.ToString(0, SearchStore.MaxQueryLength - 1) : sb.ToString());
        }
        return list;
    }

    [Fact]
    public async Task The_expected_document_ranks_first_on_a_fixed_corpus()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var corpus = new Dictionary<string, Guid>
        {
            ["dog"] = await SearchData.MessageAsync(tenant.Id, c, user, "My dog, a golden retriever named Max, needs a new diet: he is allergic to chicken and gains weight easily."),
            ["house"] = await SearchData.MessageAsync(tenant.Id, c, user, "The property on Elm Street has three bedrooms, a leaking roof and a large garden.", "assistant"),
            ["math"] = await SearchData.MessageAsync(tenant.Id, c, user, "Quadratic equations: the discriminant tells how many real roots the equation has."),
            ["tea"] = await SearchData.MemoryAsync(tenant.Id, user, "Prefers green tea in the morning and never drinks coffee after noon."),
            ["lease"] = await SearchData.DocumentAsync(tenant.Id, user, "lease.pdf", "Residential lease agreement. The tenant pays rent monthly; the deposit is returned within thirty days."),
            ["mention"] = await SearchData.MessageAsync(tenant.Id, c, user, "Unrelated chat that mentions a dog once."),
        };
        corpus["analysis"] = await SearchData.AnalysisAsync(tenant.Id, corpus["lease"], "Contract risk: the deposit clause favours the landlord.", "legal");

        async Task<Guid> Top(string text) => (await scope.Search.FullTextAsync(new SearchQuery { Text = text, UserId = user })).Items[0].Id;
        Assert.Equal(corpus["dog"], await Top("retriever allergic chicken"));
        Assert.Equal(corpus["house"], await Top("bedrooms roof"));
        Assert.Equal(corpus["math"], await Top("\"real roots\""));
        Assert.Equal(corpus["tea"], await Top("green tea -chicken"));
        Assert.Equal(corpus["lease"], await Top("rent deposit lease"));
        Assert.Equal(corpus["analysis"], await Top("landlord clause"));
        Assert.Equal(corpus["dog"], await Top("diet dog"));
        var hits = (await scope.Search.FullTextAsync(new SearchQuery { Text = "dog" })).Items;
        Assert.Equal(new[] { corpus["dog"], corpus["mention"] }.Order(), hits.Select(h => h.Id).Order());
        Assert.True(hits[0].Rank >= hits[1].Rank);
        var snippet = (await scope.Search.FullTextAsync(new SearchQuery { Text = "garden", HighlightStart = "[[", HighlightEnd = "]]" })).Items.Single();
        Assert.Contains("[[garden]]", snippet.Snippet, StringComparison.Ordinal);
        Assert.Equal(("assistant", "complete", c), (snippet.Role, snippet.Status, snippet.ConversationId!.Value));
    }

    [Fact]
    public async Task Filters_by_user_conversation_role_status_date_and_kind()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var ada = await SearchData.UserAsync(tenant.Id);
        var bob = await SearchData.UserAsync(tenant.Id);
        var c1 = await SearchData.ConversationAsync(tenant.Id, ada);
        var c2 = await SearchData.ConversationAsync(tenant.Id, ada);
        var old = DateTimeOffset.UtcNow.AddDays(-10);
        var m1 = await SearchData.MessageAsync(tenant.Id, c1, ada, "zebra one", "user", createdAt: old);
        var m2 = await SearchData.MessageAsync(tenant.Id, c1, ada, "zebra two", "assistant", "error");
        var m3 = await SearchData.MessageAsync(tenant.Id, c2, ada, "zebra three", "assistant");
        var mem = await SearchData.MemoryAsync(tenant.Id, ada, "zebra memory", sourceConversation: c2);
        var doc = await SearchData.DocumentAsync(tenant.Id, ada, "zebra.txt", "zebra stripes", c1, status: "processing");
        var bobs = await SearchData.MessageAsync(tenant.Id, await SearchData.ConversationAsync(tenant.Id, bob), bob, "zebra of bob");

        async Task<Guid[]> Ids(SearchQuery q) => [.. (await scope.Search.FullTextAsync(q)).Items.Select(h => h.Id).Order()];
        Guid[] Sorted(params Guid[] ids) => [.. ids.Order()];
        Assert.Equal(Sorted(m1, m2, m3, mem, doc, bobs), await Ids(new SearchQuery { Text = "zebra" }));
        Assert.Equal(Sorted(m1, m2, m3, mem, doc), await Ids(new SearchQuery { Text = "zebra", UserId = ada }));
        Assert.Equal(Sorted(m1, m2, doc), await Ids(new SearchQuery { Text = "zebra", ConversationId = c1 }));
        Assert.Equal(Sorted(m3, mem), await Ids(new SearchQuery { Text = "zebra", ConversationId = c2 }));
        Assert.Equal(Sorted(m2, m3), await Ids(new SearchQuery { Text = "zebra", UserId = ada, Roles = ["assistant"] }));
        Assert.Equal(Sorted(m2, doc), await Ids(new SearchQuery { Text = "zebra", Statuses = ["error", "processing"] }));
        Assert.Equal(Sorted(m1), await Ids(new SearchQuery { Text = "zebra", To = old.AddMinutes(1) }));
        Assert.Equal(Sorted(m2, m3, mem, doc), await Ids(new SearchQuery { Text = "zebra", UserId = ada, From = old.AddMinutes(1) }));
        Assert.Equal(Sorted(mem, doc), await Ids(new SearchQuery { Text = "zebra", UserId = ada, Kinds = [SearchKind.Memory, SearchKind.Document] }));

        // Soft-deleted rows and rows of a deleted conversation are not found.
        await SearchData.ExecAsync("UPDATE messages SET deleted_at = now() WHERE id = $1", m3);
        await SearchData.ExecAsync("UPDATE conversations SET deleted_at = now() WHERE id = $1", c1);
        Assert.Equal(Sorted(mem, doc), await Ids(new SearchQuery { Text = "zebra", UserId = ada }));
        Assert.Equal(Sorted(mem, doc, bobs), await Ids(new SearchQuery { Text = "zebra" }));
        Assert.Equal(Sorted(bobs), await Ids(new SearchQuery { Text = "zebra", Kinds = [SearchKind.Message] }));
        var space = await SearchData.SharedSpaceAsync();
        var hybrid = await scope.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "zebra", Vector = SearchData.Axis(space.Dimensions, 0), Kinds = [SearchKind.Message] });
        Assert.Equal([bobs], hybrid.Select(h => h.Id));
    }

    [Fact]
    public async Task Pages_through_every_match_once_best_first()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await SearchData.UserAsync(tenant.Id);
        var c = await SearchData.ConversationAsync(tenant.Id, user);
        var ids = new List<Guid>();
        for (var i = 0; i < 23; i++)
            ids.Add(await SearchData.MessageAsync(tenant.Id, c, user, string.Join(' ', Enumerable.Repeat("kiwi", 1 + i % 4)) + $" filler {i}"));
        // Every kind (a union of the kinds' matches) and messages only (a single scan): two statements.
        foreach (SearchKind[]? kinds in new[] { null, new[] { SearchKind.Message } })
        {
            var seen = new List<SearchHit>();
            string? cursor = null;
            do
            {
                var page = await scope.Search.FullTextAsync(new SearchQuery { Text = "kiwi", Kinds = kinds, Limit = 5, Cursor = cursor });
                Assert.True(page.Items.Count <= 5);
                seen.AddRange(page.Items);
                cursor = page.NextCursor;
            } while (cursor is not null);
            Assert.Equal(ids.Order(), seen.Select(h => h.Id).Order());
            for (var i = 1; i < seen.Count; i++)
                Assert.True(seen[i - 1].Rank > seen[i].Rank || (seen[i - 1].Rank == seen[i].Rank && seen[i - 1].Id.CompareTo(seen[i].Id) > 0));
        }
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Search.FullTextAsync(new SearchQuery { Text = "kiwi", Cursor = "bogus" }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenants_rows_are_never_found(bool bypassRowLevelSecurity)
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, _, tenantB) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var userB = await SearchData.UserAsync(tenantB.Id);
        await SearchData.MessageAsync(tenantB.Id, await SearchData.ConversationAsync(tenantB.Id, userB), userB, "secret platypus");
        await SearchData.MemoryAsync(tenantB.Id, userB, "secret platypus memory");
        await SearchData.DocumentAsync(tenantB.Id, userB, "platypus.txt", "secret platypus");
        Assert.Empty((await a.Search.FullTextAsync(new SearchQuery { Text = "platypus" })).Items);
        Assert.Empty((await a.Search.FullTextAsync(new SearchQuery { Text = "platypus", UserId = userB })).Items);
    }

    [Fact]
    public async Task The_query_is_read_in_the_tenants_search_language_unless_one_is_given()
    {
        async Task<TenantScope> TenantWith(string? language)
        {
            var (_, scope, tenant) = await TestStore.NewTenantAsync(searchLanguage: language);
            var user = await SearchData.UserAsync(tenant.Id);
            await SearchData.MessageAsync(tenant.Id, await SearchData.ConversationAsync(tenant.Id, user), user, "The runners were running");
            return scope;
        }
        var simple = await TenantWith("simple");
        var english = await TenantWith(null);
        async Task<int> Count(TenantScope scope, string text, string? language = null) =>
            (await scope.Search.FullTextAsync(new SearchQuery { Text = text, Language = language })).Items.Count;

        // simple keeps stop words and does not stem; english drops "the" and stems "running" to "run".
        Assert.Equal((1, 0), (await Count(simple, "the"), await Count(simple, "run")));
        Assert.Equal((0, 1), (await Count(english, "the"), await Count(english, "run")));
        // A language given overrides the tenant's: english reads "the" as a stop word (no query at all).
        Assert.Equal(0, await Count(simple, "the", "english"));
    }

    [Fact]
    public async Task A_two_megabyte_message_is_found_by_its_indexed_words_and_stored_whole()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync(searchLanguage: "simple");
        var user = await SearchData.UserAsync(tenant.Id);
        var random = new Random(7);
        var sb = new StringBuilder("needle ");
        while (sb.Length < 2_000_000)
            sb.Append(string.Concat(Enumerable.Range(0, 8).Select(_ => (char)('a' + random.Next(26))))).Append(' ');
        var id = await SearchData.MessageAsync(tenant.Id, await SearchData.ConversationAsync(tenant.Id, user), user, sb.ToString());
        Assert.Equal(id, (await scope.Search.FullTextAsync(new SearchQuery { Text = "needle" })).Items.Single().Id);
        Assert.Equal(sb.Length, await TestStore.ScalarAsync<int>("SELECT length(content) FROM messages WHERE id = $1", id));
    }

    [Fact]
    public async Task Bad_input_is_a_typed_error_naming_the_field()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        async Task Expect(string field, string rule, SearchQuery q)
        {
            var e = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Search.FullTextAsync(q));
            Assert.Equal((field, rule), (e.Field, e.Rule));
        }
        await Expect("text", "nul_character", new SearchQuery { Text = "a\0b" });
        await Expect("text", "unpaired_surrogate", new SearchQuery { Text = "a" + '\ud800' });
        await Expect("text", "max_length", new SearchQuery { Text = new string('a', SearchStore.MaxQueryLength + 1) });
        await Expect("roles[0]", "enum", new SearchQuery { Text = "a", Roles = ["robot"] });
        await Expect("statuses[1]", "enum", new SearchQuery { Text = "a", Statuses = ["ready", "lost"] });
        await Expect("limit", "range", new SearchQuery { Text = "a", Limit = 0 });
        await Expect("kinds", "enum", new SearchQuery { Text = "a", Kinds = [SearchKind.Subject] });
        await Expect("to", "range", new SearchQuery { Text = "a", From = DateTimeOffset.UtcNow, To = DateTimeOffset.UtcNow.AddDays(-1) });
        await Expect("language", "regconfig", new SearchQuery { Text = "a", Language = "klingon" });
        await Expect("highlightStart", "format", new SearchQuery { Text = "a", HighlightStart = "\"" });
        Assert.Empty((await scope.Search.FullTextAsync(new SearchQuery { Text = "   " })).Items);
    }
}
