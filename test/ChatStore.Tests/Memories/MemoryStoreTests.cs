using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ChatStore.Memories;
using Npgsql;

namespace ChatStore.Tests.Memories;

public sealed class MemoryStoreTests
{
    static NewMemory Fact(Guid userId, string content, params MemorySourceRef[] sources) =>
        new() { UserId = userId, Content = content, Sources = sources };

    // JsonElement compares by reference, so records holding one are compared field by field.
    static void AssertSame(Memory expected, Memory actual)
    {
        Assert.Equal(expected with { Metadata = default }, actual with { Metadata = default });
        Assert.Equal(expected.Metadata.GetRawText(), actual.Metadata.GetRawText());
    }

    [Fact]
    public async Task Add_stores_the_memory_with_the_tenants_language_and_the_hash_of_the_normalised_content()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync(searchLanguage: "simple");
        var user = await TestStore.NewUserAsync(scope);
        var metadata = JsonDocument.Parse("""{"source":"chat","tags":["pets"]}""").RootElement;
        var added = await scope.Memories.AddAsync(new NewMemory
        {
            UserId = user.Id, Content = "  Has a DOG\tnamed Rex ", Kind = MemoryKinds.Fact, Importance = 0.8f, ExternalId = "m-1", Metadata = metadata,
        });
        Assert.True(added.Created);
        var memory = added.Memory;
        Assert.Equal(("  Has a DOG\tnamed Rex ", "fact", 0.8f, "m-1", "simple"), (memory.Content, memory.Kind, memory.Importance, memory.ExternalId, memory.Language));
        Assert.Equal((tenant.Id, user.Id), (memory.TenantId, memory.UserId));
        Assert.Null(memory.SupersededBy);
        Assert.Equal("pets", memory.Metadata.GetProperty("tags")[0].GetString());
        AssertSame(memory, await scope.Memories.GetAsync(memory.Id));
        var hash = await TestStore.ScalarAsync<byte[]>("SELECT content_hash FROM memories WHERE id = $1", memory.Id);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("has a dog named rex")), hash);
    }

    [Fact]
    public async Task Add_dedupes_case_whitespace_and_NFKC_forms_per_user_but_not_across_users()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);

        var groups = new[]
        {
            // case, whitespace runs and kinds (tab, newline, no-break space, ideographic space), full-width forms
            new[] { "Hello World", "  hello\t\n WORLD  ", "HELLO\u00A0world", "ＨＥＬＬＯ　Ｗｏｒｌｄ" },
            // composed and decomposed accents, compatibility ligatures
            new[] { "Café fish", "CAFE\u0301 ﬁsh", "café\u2003\u2003FISH" },
            // NFKC turning symbols into ASCII capitals that case-folding must still reach (℃ → °C, ™ → TM)
            new[] { "It is 20°c, brand™", "It is 20℃, BRAND™", "it is 20°C, brandTM" },
        };
        foreach (var group in groups)
        {
            var first = await scope.Memories.AddAsync(Fact(user.Id, group[0]));
            Assert.True(first.Created);
            foreach (var variant in group.Skip(1))
            {
                var again = await scope.Memories.AddAsync(Fact(user.Id, variant));
                Assert.False(again.Created, variant);
                Assert.Equal(first.Memory.Id, again.Memory.Id);
                Assert.Equal(group[0], again.Memory.Content);
            }
            var elsewhere = await scope.Memories.AddAsync(Fact(other.Id, group[1]));
            Assert.True(elsewhere.Created);
            Assert.NotEqual(first.Memory.Id, elsewhere.Memory.Id);
        }
        Assert.Equal(6L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes("it is 20°c, brandtm")),
            await TestStore.ScalarAsync<byte[]>("SELECT content_hash FROM memories WHERE user_id = $1 AND content LIKE 'It is%'", user.Id));
        Assert.True((await scope.Memories.AddAsync(Fact(user.Id, "hello world!"))).Created);
    }

    [Fact]
    public async Task Concurrent_adds_of_one_text_store_one_memory_and_link_every_source()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var conversations = new List<Guid>();
        for (var i = 0; i < 16; i++) conversations.Add(await ChatRows.ConversationAsync(tenant.Id, user.Id));

        var results = await Task.WhenAll(conversations.Select((c, i) => Task.Run(() =>
            scope.Memories.AddAsync(Fact(user.Id, i % 2 == 0 ? "Prefers tea over coffee" : "  PREFERS tea over   coffee", new MemorySourceRef(c))))));

        Assert.Single(results, r => r.Created);
        var id = Assert.Single(results.Select(r => r.Memory.Id).Distinct());
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
        var sources = await scope.Memories.ListSourcesAsync(id);
        Assert.Equal(conversations.Order(), sources.Select(s => s.ConversationId).Order());
    }

    [Fact]
    public async Task An_add_racing_an_uncommitted_insert_of_the_same_content_returns_that_memory_once_it_commits()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        await using var owner = new NpgsqlConnection(TestStore.ConnectionString);
        await owner.OpenAsync();
        await using var transaction = await owner.BeginTransactionAsync();
        var racer = Guid.CreateVersion7();
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO memories (id, tenant_id, user_id, content, content_hash) VALUES ($1, $2, $3, 'races', sha256(convert_to('races', 'UTF8')))",
            owner, transaction))
        {
            insert.Parameters.Add(new() { Value = racer });
            insert.Parameters.Add(new() { Value = tenant.Id });
            insert.Parameters.Add(new() { Value = user.Id });
            await insert.ExecuteNonQueryAsync();
        }

        // The add waits on the uncommitted row in the dedupe index; once it commits, the add's statement
        // skips the insert but cannot see the row in its snapshot, so it must read it again.
        var add = Task.Run(() => scope.Memories.AddAsync(Fact(user.Id, " RACES ")));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await TestStore.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))", owner.ProcessID) == 0)
        {
            Assert.False(add.IsCompleted, "the add finished without waiting for the uncommitted insert");
            Assert.True(DateTime.UtcNow < deadline, "the add never waited for the uncommitted insert");
            await Task.Delay(20);
        }
        await transaction.CommitAsync();

        var result = await add;
        Assert.False(result.Created);
        Assert.Equal(racer, result.Memory.Id);
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Sources_are_linked_once_and_a_duplicate_links_its_new_sources_to_the_existing_memory()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var c1 = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        var m1 = await ChatRows.MessageAsync(tenant.Id, c1, user.Id);
        var c2 = await ChatRows.ConversationAsync(tenant.Id, user.Id);

        var first = await scope.Memories.AddAsync(Fact(user.Id, "Lives in Oslo", new MemorySourceRef(c1, m1), new MemorySourceRef(c1, m1)));
        var second = await scope.Memories.AddAsync(Fact(user.Id, "lives in oslo", new MemorySourceRef(c1, m1), new MemorySourceRef(c2)));
        Assert.Equal(first.Memory.Id, second.Memory.Id);
        var sources = await scope.Memories.ListSourcesAsync(first.Memory.Id);
        Assert.Equal(2, sources.Count);
        Assert.Contains(sources, s => s.ConversationId == c1 && s.MessageId == m1);
        Assert.Contains(sources, s => s.ConversationId == c2 && s.MessageId is null);

        var c3 = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        Assert.True(await scope.Memories.LinkSourceAsync(first.Memory.Id, c3));
        Assert.False(await scope.Memories.LinkSourceAsync(first.Memory.Id, c3));
        Assert.Equal(3, (await scope.Memories.ListSourcesAsync(first.Memory.Id)).Count);
    }

    [Fact]
    public async Task A_user_conversation_or_message_outside_the_tenant_or_user_is_not_found_and_nothing_is_stored()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var (_, otherScope, otherTenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var neighbour = await TestStore.NewUserAsync(scope);
        var stranger = await TestStore.NewUserAsync(otherScope);
        var own = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        var ownMessage = await ChatRows.MessageAsync(tenant.Id, own, user.Id);
        var neighbours = await ChatRows.ConversationAsync(tenant.Id, neighbour.Id);
        var neighboursMessage = await ChatRows.MessageAsync(tenant.Id, neighbours, neighbour.Id);
        var strangers = await ChatRows.ConversationAsync(otherTenant.Id, stranger.Id);

        async Task NotFound(string entity, Guid id, NewMemory memory)
        {
            var error = await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.AddAsync(memory));
            Assert.Equal((entity, id.ToString()), (error.Entity, error.Id));
        }
        await NotFound("user", stranger.Id, Fact(stranger.Id, "x"));
        var nobody = Guid.NewGuid();
        await NotFound("user", nobody, Fact(nobody, "x"));
        await NotFound("conversation", neighbours, Fact(user.Id, "x", new MemorySourceRef(own), new MemorySourceRef(neighbours)));
        await NotFound("conversation", strangers, Fact(user.Id, "x", new MemorySourceRef(strangers)));
        await NotFound("message", neighboursMessage, Fact(user.Id, "x", new MemorySourceRef(own, neighboursMessage)));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));

        await scope.Users.DeleteAsync(neighbour.Id);
        await NotFound("user", neighbour.Id, Fact(neighbour.Id, "x"));

        var memory = (await scope.Memories.AddAsync(Fact(user.Id, "x", new MemorySourceRef(own, ownMessage)))).Memory;
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.LinkSourceAsync(memory.Id, neighbours));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.LinkSourceAsync(memory.Id, own, neighboursMessage));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.LinkSourceAsync(Guid.NewGuid(), own));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memory_sources WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Update_makes_a_new_version_carrying_the_sources_and_history_lists_versions_oldest_first()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        var v1 = (await scope.Memories.AddAsync(new NewMemory
        {
            UserId = user.Id, Content = "Has one cat", Kind = MemoryKinds.Fact, Importance = 0.4f, ExternalId = "pets",
            Sources = [new MemorySourceRef(conversation)],
        })).Memory;

        var v2 = await scope.Memories.UpdateAsync(v1.Id, new MemoryUpdate { Content = "Has two cats" });
        Assert.NotEqual(v1.Id, v2.Id);
        Assert.Equal(("Has two cats", "fact", 0.4f, "pets"), (v2.Content, v2.Kind, v2.Importance, v2.ExternalId));
        // Same content, other fields: still a new version, and no duplicate of itself.
        var v3 = await scope.Memories.UpdateAsync(v2.Id, new MemoryUpdate
        {
            Content = "HAS TWO CATS", Kind = MemoryKinds.Episode, Importance = 0.9f, Metadata = JsonDocument.Parse("""{"v":3}""").RootElement,
        });
        Assert.Equal(("HAS TWO CATS", "episode", 0.9f, 3), (v3.Content, v3.Kind, v3.Importance, v3.Metadata.GetProperty("v").GetInt32()));

        Assert.Equal(v2.Id, (await scope.Memories.GetAsync(v1.Id)).SupersededBy);
        Assert.Equal(v3.Id, (await scope.Memories.GetAsync(v2.Id)).SupersededBy);
        Assert.Null((await scope.Memories.GetAsync(v3.Id)).SupersededBy);
        foreach (var id in new[] { v1.Id, v2.Id, v3.Id })
            Assert.Equal([v1.Id, v2.Id, v3.Id], (await scope.Memories.HistoryAsync(id)).Select(m => m.Id));
        Assert.Equal(conversation, Assert.Single(await scope.Memories.ListSourcesAsync(v3.Id)).ConversationId);

        var stale = await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Memories.UpdateAsync(v1.Id, new MemoryUpdate { Content = "Has a dog" }));
        Assert.Contains(v2.Id.ToString(), stale.Message, StringComparison.Ordinal);
        Assert.Equal([v3.Id], (await scope.Memories.ListAsync(user.Id)).Items.Select(m => m.Id));
        Assert.Equal([v3.Id, v2.Id, v1.Id], (await scope.Memories.ListAsync(user.Id, new MemoryQuery { IncludeSuperseded = true })).Items.Select(m => m.Id));
        Assert.False((await scope.Memories.AddAsync(Fact(user.Id, "has two cats"))).Created);
        Assert.True((await scope.Memories.AddAsync(Fact(user.Id, "has one cat"))).Created);
    }

    [Fact]
    public async Task Update_to_the_content_of_another_live_memory_is_a_conflict_and_changes_nothing()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var a = (await scope.Memories.AddAsync(Fact(user.Id, "Likes jazz"))).Memory;
        var b = (await scope.Memories.AddAsync(Fact(user.Id, "Likes rock"))).Memory;
        await Assert.ThrowsAsync<ChatStoreConflictException>(() => scope.Memories.UpdateAsync(b.Id, new MemoryUpdate { Content = " LIKES  JAZZ" }));
        Assert.Null((await scope.Memories.GetAsync(b.Id)).SupersededBy);
        Assert.Equal(2L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.UpdateAsync(Guid.NewGuid(), new MemoryUpdate { Importance = 1 }));
        Assert.Equal(a.Id, (await scope.Memories.HistoryAsync(a.Id)).Single().Id);
    }

    [Fact]
    public async Task Concurrent_updates_of_one_version_make_exactly_one_new_version()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var v1 = (await scope.Memories.AddAsync(Fact(user.Id, "Runs 5 km"))).Memory;
        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            try
            {
                return await scope.Memories.UpdateAsync(v1.Id, new MemoryUpdate { Content = $"Runs {10 + i} km" });
            }
            catch (ChatStoreConflictException)
            {
                return null;
            }
        })));
        var winner = Assert.Single(attempts, m => m is not null)!;
        Assert.Equal([v1.Id, winner.Id], (await scope.Memories.HistoryAsync(v1.Id)).Select(m => m.Id));
        Assert.Equal(2L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task List_is_newest_first_with_kind_and_importance_filters_and_keyset_pages()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var other = await TestStore.NewUserAsync(scope);
        var added = new List<Memory>();
        for (var i = 0; i < 9; i++)
        {
            added.Add((await scope.Memories.AddAsync(new NewMemory
            {
                UserId = user.Id, Content = $"memory {i}", Kind = i % 3 == 0 ? MemoryKinds.Goal : MemoryKinds.Fact, Importance = i / 10f,
            })).Memory);
        }
        await scope.Memories.AddAsync(Fact(other.Id, "not theirs"));
        var newestFirst = added.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Select(m => m.Id).ToList();

        var seen = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await scope.Memories.ListAsync(user.Id, new MemoryQuery { Limit = 4, Cursor = cursor });
            Assert.InRange(page.Items.Count, 1, 4);
            seen.AddRange(page.Items.Select(m => m.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(newestFirst, seen);

        var goals = await scope.Memories.ListAsync(user.Id, new MemoryQuery { Kind = MemoryKinds.Goal });
        Assert.Equal(added.Where(m => m.Kind == "goal").Select(m => m.Id).Order(), goals.Items.Select(m => m.Id).Order());
        var important = await scope.Memories.ListAsync(user.Id, new MemoryQuery { MinImportance = 0.65f });
        Assert.Equal(added.Where(m => m.Importance >= 0.65f).Select(m => m.Id).Order(), important.Items.Select(m => m.Id).Order());

        await scope.Memories.DeleteAsync(added[4].Id);
        Assert.DoesNotContain(added[4].Id, (await scope.Memories.ListAsync(user.Id)).Items.Select(m => m.Id));
        var all = await scope.Memories.ListAsync(user.Id, new MemoryQuery { IncludeDeleted = true, Limit = 100 });
        Assert.Equal(newestFirst, all.Items.Select(m => m.Id));
        Assert.NotNull(all.Items.Single(m => m.Id == added[4].Id).DeletedAt);

        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Memories.ListAsync(user.Id, new MemoryQuery { Limit = 0 }));
        await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Memories.ListAsync(user.Id, new MemoryQuery { Cursor = "nope" }));
        Assert.Equal("kind", (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Memories.ListAsync(user.Id, new MemoryQuery { Kind = "wish" }))).Field);
    }

    [Fact]
    public async Task Delete_is_soft_covers_every_version_and_frees_the_content_for_a_new_memory()
    {
        var (_, scope, _) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var v1 = (await scope.Memories.AddAsync(Fact(user.Id, "Speaks German"))).Memory;
        var v2 = await scope.Memories.UpdateAsync(v1.Id, new MemoryUpdate { Content = "Speaks German and Dutch" });
        await scope.Memories.DeleteAsync(v2.Id);

        foreach (var id in new[] { v1.Id, v2.Id })
        {
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.GetAsync(id));
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.HistoryAsync(id));
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.ListSourcesAsync(id));
            await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => scope.Memories.DeleteAsync(id));
            Assert.True(await TestStore.ScalarAsync<bool>("SELECT deleted_at IS NOT NULL FROM memories WHERE id = $1", id));
        }
        Assert.Empty((await scope.Memories.ListAsync(user.Id, new MemoryQuery { IncludeSuperseded = true })).Items);
        Assert.True((await scope.Memories.AddAsync(Fact(user.Id, "speaks german and dutch"))).Created);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Another_tenant_cannot_read_change_or_link_a_memory(bool bypassRowLevelSecurity)
    {
        var (_, a, tenantA) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var (_, b, tenantB) = await TestStore.NewTenantAsync(bypassRowLevelSecurity: bypassRowLevelSecurity);
        var userA = await TestStore.NewUserAsync(a);
        var userB = await TestStore.NewUserAsync(b);
        var conversationB = await ChatRows.ConversationAsync(tenantB.Id, userB.Id);
        var memory = (await a.Memories.AddAsync(Fact(userA.Id, "Secret of A"))).Memory;

        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.GetAsync(memory.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.HistoryAsync(memory.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.ListSourcesAsync(memory.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.UpdateAsync(memory.Id, new MemoryUpdate { Content = "stolen" }));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.LinkSourceAsync(memory.Id, conversationB));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.DeleteAsync(memory.Id));
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Memories.AddAsync(Fact(userA.Id, "Secret of A")));
        Assert.Empty((await b.Memories.ListAsync(userA.Id, new MemoryQuery { IncludeDeleted = true, IncludeSuperseded = true })).Items);

        AssertSame(memory, await a.Memories.GetAsync(memory.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenantA.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenantB.Id));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memory_sources WHERE memory_id = $1", memory.Id));
    }

    [Theory]
    [InlineData("nul", "content", "nul_character")]
    [InlineData("lone high surrogate", "content", "unpaired_surrogate")]
    [InlineData("lone low surrogate", "content", "unpaired_surrogate")]
    [InlineData("too long", "content", "max_length")]
    [InlineData("white space", "content", "required")]
    [InlineData("kind", "kind", "enum")]
    [InlineData("importance above 1", "importance", "range")]
    [InlineData("importance below 0", "importance", "range")]
    [InlineData("importance NaN", "importance", "range")]
    [InlineData("external id surrogate", "externalId", "unpaired_surrogate")]
    [InlineData("metadata array", "metadata", "json_type")]
    [InlineData("metadata nul", "metadata.note", "nul_character")]
    [InlineData("empty conversation id", "sources[1].conversationId", "required")]
    [InlineData("empty message id", "sources[0].messageId", "required")]
    [InlineData("empty user id", "userId", "required")]
    public async Task Bad_input_is_rejected_naming_the_field_and_nothing_is_stored(string kind, string field, string rule)
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var conversation = await ChatRows.ConversationAsync(tenant.Id, user.Id);
        var good = Fact(user.Id, "fine", new MemorySourceRef(conversation));
        // Built here: xunit's theory data would replace a lone surrogate with U+FFFD.
        var memory = kind switch
        {
            "nul" => good with { Content = "nul\0byte" },
            "lone high surrogate" => good with { Content = "a\ud800b" },
            "lone low surrogate" => good with { Content = "a\udc00" },
            "too long" => good with { Content = new string('x', scope.Limits.MaxContentLength + 1) },
            "white space" => good with { Content = " \t\u3000\n" },
            "kind" => good with { Kind = "wish" },
            "importance above 1" => good with { Importance = 1.01f },
            "importance below 0" => good with { Importance = -0.1f },
            "importance NaN" => good with { Importance = float.NaN },
            "external id surrogate" => good with { ExternalId = "\udfff" },
            "metadata array" => good with { Metadata = JsonDocument.Parse("[1]").RootElement },
            "metadata nul" => good with { Metadata = JsonDocument.Parse("""{"note":"a\u0000b"}""").RootElement },
            "empty conversation id" => good with { Sources = [new MemorySourceRef(conversation), new MemorySourceRef(Guid.Empty)] },
            "empty message id" => good with { Sources = [new MemorySourceRef(conversation, Guid.Empty)] },
            _ => good with { UserId = Guid.Empty },
        };
        var error = await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Memories.AddAsync(memory));
        Assert.Equal((field, rule), (error.Field, error.Rule));
        Assert.Equal(0L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
    }

    [Fact]
    public async Task Bad_updates_are_rejected_naming_the_field_and_change_nothing()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var memory = (await scope.Memories.AddAsync(Fact(user.Id, "Original"))).Memory;
        async Task Rejected(string field, MemoryUpdate update) =>
            Assert.Equal(field, (await Assert.ThrowsAsync<ChatStoreValidationException>(() => scope.Memories.UpdateAsync(memory.Id, update))).Field);
        await Rejected("content", new MemoryUpdate { Content = "x\0" });
        await Rejected("content", new MemoryUpdate { Content = "" });
        await Rejected("kind", new MemoryUpdate { Kind = "FACT" });
        await Rejected("importance", new MemoryUpdate { Importance = 2 });
        await Rejected("metadata", new MemoryUpdate { Metadata = JsonDocument.Parse("\"text\"").RootElement });
        await Rejected("update", new MemoryUpdate());
        AssertSame(memory, await scope.Memories.GetAsync(memory.Id));
        Assert.Equal(1L, await TestStore.ScalarAsync<long>("SELECT count(*) FROM memories WHERE tenant_id = $1", tenant.Id));
    }
}
