using System.Text.Json;
using ChatStore.Connection;
using ChatStore.Embeddings;
using ChatStore.Search;
using ChatStore.Tenancy;
using ChatStore.Tenants;
using ChatStore.Tests.Embedded;
using Npgsql;

namespace ChatStore.Tests.Search;

/// <summary>
/// Full-text search finds one tenant's matches through one GIN index that leads with tenant_id: when
/// another tenant uses the same word thousands of times, the index scan still returns the tenant's few
/// rows, and the tenant's other messages are never read.
/// </summary>
public sealed class SearchPlanTests
{
    const int Filler = 4000;

    [Fact]
    public async Task A_rare_word_is_found_among_the_tenants_own_matches_only()
    {
        // A database of its own, so that the statistics the plan is made from hold these two tenants only
        // (in the shared test database they depend on what other tests wrote meanwhile).
        var (cs, client) = await MigratedDatabaseAsync("plan");
        await using var _ = client;
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "searching" });
        var other = await client.Tenants.CreateAsync(new NewTenant { Name = "other" });
        // Tenant: 4,000 messages, 5 with the word. The other tenant: 4,000 messages, all with the word.
        await InsertMessagesAsync(cs, tenant.Id, Filler, every: Filler / 5);
        await InsertMessagesAsync(cs, other.Id, Filler, every: 1);
        await ExecuteAsync(cs, "ANALYZE messages");

        var found = await client.ForTenant(tenant.Id).Search.FullTextAsync(new SearchQuery { Text = "zanzibar", Kinds = [SearchKind.Message] });
        Assert.Equal(5, found.Items.Count);

        var plan = await ExplainAsync(cs, tenant.Id, "zanzibar");
        var nodes = Plans.Nodes(plan).ToList();
        // Bitmap index scans name their index but not their table: messages' indexes are told by name.
        Assert.DoesNotContain(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() is { } name
            && name.StartsWith("messages_", StringComparison.Ordinal) && name != "messages_tenant_search_idx");
        Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() is "Seq Scan" or "BitmapAnd");
        var scan = Assert.Single(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "messages_tenant_search_idx");
        Assert.Equal(5, scan.GetProperty("Actual Rows").GetDouble());
    }

    [Fact]
    public async Task A_large_tenant_among_many_small_ones_searches_its_common_word_through_the_tenant_index()
    {
        // 3,000 tenants of 2 messages and one of 20,000, a third of which hold the word. Estimated as an
        // average tenant (about 9 rows), the large one would be read through the (tenant_id, user_id, created_at)
        // btree with the text as a filter: PostgreSQL must take the tenant's own frequency from the statistics.
        var (cs, client) = await MigratedDatabaseAsync("skew");
        await using var _ = client;
        var large = await client.Tenants.CreateAsync(new NewTenant { Name = "large" });
        await InsertSmallTenantsAsync(cs, mentionZanzibar: false);
        await InsertMessagesAsync(cs, large.Id, 20000, every: 3);
        await ExecuteAsync(cs, "ANALYZE messages");

        // The plan made for this query, and the one made once for every query of the tenant's class (which knows
        // the tenant, not the word).
        foreach (var generic in new[] { false, true })
        {
            var nodes = Plans.Nodes(await ExplainAsync(cs, large.Id, "zanzibar", generic: generic)).ToList();
            Assert.DoesNotContain(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "messages_user_time_idx");
            var scan = Assert.Single(nodes, n => n.TryGetProperty("Index Name", out var i) && i.GetString() == "messages_tenant_search_idx");
            Assert.Equal(20000 / 3, scan.GetProperty("Actual Rows").GetDouble());
        }
    }

    [Fact]
    public async Task Matches_are_checked_against_one_hash_of_the_tenants_deleted_conversations()
    {
        // 200 conversations of 20 messages that all mention the word; half of them are deleted after the
        // statistics were taken, as a shared plan meets a tenant that deleted more than the one it was made for.
        // Joined with NOT EXISTS, that plan compared each match with the whole list of deleted conversations
        // (a nested loop over a Materialize): 4,000 matches times 100. They are read once, into a hash.
        var (cs, client) = await MigratedDatabaseAsync("deletedconversations");
        await using var _ = client;
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "tidy" });
        await InsertMessagesAsync(cs, tenant.Id, 20, every: 1, conversations: 200);
        await ExecuteAsync(cs, "ANALYZE messages");
        await ExecuteAsync(cs, "ANALYZE conversations");
        var deleted = await IdsAsync(cs, """
            UPDATE conversations SET deleted_at = now() WHERE id IN (SELECT id FROM conversations WHERE tenant_id = $1 ORDER BY id LIMIT 100) RETURNING id
            """, tenant.Id);

        foreach (var generic in new[] { false, true })
        {
            var nodes = Plans.Nodes(await ExplainAsync(cs, tenant.Id, "zanzibar", generic: generic)).ToList();
            Assert.DoesNotContain(nodes, n => n.GetProperty("Node Type").GetString() is "Materialize" or "Nested Loop");
            var heap = Assert.Single(nodes, n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "messages");
            Assert.Contains("hashed SubPlan", heap.GetProperty("Filter").GetString(), StringComparison.Ordinal);
            Assert.Equal(2000, heap.GetProperty("Actual Rows").GetDouble());
            var conversations = Assert.Single(nodes, n => n.TryGetProperty("Relation Name", out var r) && r.GetString() == "conversations");
            Assert.Equal((1.0, 100.0), (conversations.GetProperty("Actual Loops").GetDouble(), conversations.GetProperty("Actual Rows").GetDouble()));
        }

        var found = await client.ForTenant(tenant.Id).Search.FullTextAsync(new SearchQuery { Text = "zanzibar", Kinds = [SearchKind.Message], Limit = 100 });
        Assert.Equal(100, found.Items.Count);
        Assert.DoesNotContain(found.Items, h => deleted.Contains(h.ConversationId!.Value));
    }

    [Fact]
    public async Task Messages_and_memories_wait_in_short_pending_lists_of_their_search_indexes()
    {
        // Every search reads an index's whole pending list, so the two indexes that take a stream of single rows
        // keep it to 256 kB (32 pages): 2,000 rows of ten words each are about 90 pages of entries, which the
        // default 4 MB list would still hold.
        var (cs, client) = await MigratedDatabaseAsync("pending");
        await using var _ = client;
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "writing" });
        await ExecuteAsync(cs, """
            WITH u AS (INSERT INTO users (id, tenant_id, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id),
                 c AS (INSERT INTO conversations (id, tenant_id, user_id) SELECT gen_random_uuid(), $1, u.id FROM u RETURNING id, user_id),
                 words AS (SELECT g, (SELECT string_agg('zanzibar' || g || 'w' || w, ' ') FROM generate_series(1, 10) w) AS text
                             FROM generate_series(1, 2000) g),
                 m AS (INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
                       SELECT gen_random_uuid(), $1, c.id, c.user_id, g, 'user', text FROM c, words RETURNING 1)
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash)
            SELECT gen_random_uuid(), $1, c.user_id, text, sha256(convert_to(text, 'UTF8')) FROM c, words
            """, tenant.Id);

        Assert.InRange(await TempDataDirectory.ScalarAsync<long>(cs, "SELECT gin_clean_pending_list('messages_tenant_search_idx')"), 0, 33);
        Assert.InRange(await TempDataDirectory.ScalarAsync<long>(cs, "SELECT gin_clean_pending_list('memories_tenant_search_idx')"), 0, 33);
        var found = await client.ForTenant(tenant.Id).Search.FullTextAsync(
            new SearchQuery { Text = "zanzibar2000w7", Kinds = [SearchKind.Message, SearchKind.Memory] });
        Assert.Equal([SearchKind.Message, SearchKind.Memory], found.Items.Select(h => h.Kind).Order());
    }

    [Fact]
    public async Task A_common_word_is_searched_without_parallel_workers()
    {
        // Parallel plans are made free, so that the planner would search a word in half of 20,000 memories with
        // workers: after the store's settings it does not (workers wait for cores that concurrent requests use).
        // The control allows two workers again and must get them. (A search of messages cannot go parallel: its
        // check against the deleted conversations, a hashed SubPlan, keeps its scan in the leader.)
        var (cs, client) = await MigratedDatabaseAsync("serial");
        await using var _ = client;
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "talkative" });
        await ExecuteAsync(cs, """
            WITH u AS (INSERT INTO users (id, tenant_id, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id),
                 t AS (SELECT g, CASE WHEN g % 2 = 0 THEN 'about zanzibar ' ELSE 'filler text ' END || g AS text FROM generate_series(1, 20000) g)
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash)
            SELECT gen_random_uuid(), $1, u.id, t.text, sha256(convert_to(t.text, 'UTF8')) FROM u, t
            """, tenant.Id);
        await ExecuteAsync(cs, "ANALYZE memories");
        const string free = """
            SELECT set_config('parallel_setup_cost', '0', true), set_config('parallel_tuple_cost', '0', true),
                   set_config('min_parallel_table_scan_size', '0', true), set_config('min_parallel_index_scan_size', '0', true)
            """;

        static bool Parallel(JsonElement plan) => Plans.Nodes(plan).Any(n => n.GetProperty("Node Type").GetString() is "Gather" or "Gather Merge");
        Assert.True(Parallel(await ExplainAsync(cs, tenant.Id, "zanzibar", free + ", set_config('max_parallel_workers_per_gather', '2', true)", kind: SearchKind.Memory)));
        var plan = await ExplainAsync(cs, tenant.Id, "zanzibar", free, kind: SearchKind.Memory);
        Assert.False(Parallel(plan));
        Assert.Equal(21, plan.GetProperty("Actual Rows").GetDouble());

        var found = await client.ForTenant(tenant.Id).Search.FullTextAsync(new SearchQuery { Text = "zanzibar", Kinds = [SearchKind.Memory], Limit = 20 });
        Assert.Equal(20, found.Items.Count);
    }

    [Fact]
    public async Task Tenants_that_the_statistics_make_alike_share_a_plan_and_a_large_one_plans_its_own()
    {
        // 3,000 tenants of 2 messages, one of which holds the word, and one tenant of 20,000, a third of which do.
        // The planner estimates every small tenant at 2 rows (class 0) and the large one at 20,000 (class 7):
        // the small ones run one statement, whose plan PostgreSQL makes once and reuses, and the large one runs
        // its own. One connection, so that its prepared statements tell which plans were made.
        var (cs, client) = await OneConnectionClientAsync("classes");
        await using var _ = client;
        var large = await client.Tenants.CreateAsync(new NewTenant { Name = "large" });
        var small = (await InsertSmallTenantsAsync(cs, mentionZanzibar: true)).Take(10).ToList();
        await InsertMessagesAsync(cs, large.Id, 20000, every: 3);
        await ExecuteAsync(cs, "ANALYZE messages");

        var classes = client.Context.PlanClasses;
        var smallClass = await classes.ClassAsync(client.Context, small[0], SearchStatements.KindBit(SearchKind.Message), default);
        Assert.Equal("messages 0", TenantPlanClasses.Describe(smallClass!.Value));
        Assert.Equal(smallClass, await classes.ClassAsync(client.Context, small[9], SearchStatements.KindBit(SearchKind.Message), default));
        var largeClass = await classes.ClassAsync(client.Context, large.Id, SearchStatements.KindBit(SearchKind.Message), default);
        Assert.Equal("messages 7", TenantPlanClasses.Describe(largeClass!.Value));

        var query = new SearchQuery { Text = "zanzibar", Kinds = [SearchKind.Message] };
        foreach (var tenant in small)
            Assert.Single((await client.ForTenant(tenant).Search.FullTextAsync(query)).Items);
        for (var i = 0; i < 3; i++)
            Assert.Equal(20, (await client.ForTenant(large.Id).Search.FullTextAsync(query)).Items.Count);
        // A user's search is planned for its query: it names no class.
        var user = await TempDataDirectory.ScalarAsync<Guid>(cs, $"SELECT user_id FROM messages WHERE tenant_id = '{large.Id}' LIMIT 1");
        for (var i = 0; i < 3; i++)
            Assert.Equal(20, (await client.ForTenant(large.Id).Search.FullTextAsync(query with { UserId = user })).Items.Count);

        // Each class's statement is planned once and its plan reused; the user's search is planned for each query.
        var plans = await PreparedSearchesAsync(client, "%ts_headline%");
        Assert.Equal(["messages 0", "messages 7", "none"], plans.Select(p => p.Class));
        // (The client prepares a statement at its second use, so the first query of each is not counted.)
        Assert.Equal([(9L, 0L), (2L, 0L), (0L, 2L)], plans.Select(p => (p.Generic, p.Custom)));
    }

    [Fact]
    public async Task A_search_in_index_order_reuses_one_plan_and_an_exact_one_shares_its_tenants_class()
    {
        // Two tenants of 40 vectors and a user each. In index order the plan is the HNSW scan whatever the tenant,
        // user or values, so every such search runs one plan, made once. An exact search of a whole tenant names
        // the tenant's class (its plan depends on the tenant's rows) and is planned once for that class.
        var (cs, client) = await OneConnectionClientAsync("knnplan");
        await using var _ = client;
        var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = "plans", Model = "test", Dimensions = 8 });
        var tenants = new List<(Guid Tenant, Guid User)>();
        for (var t = 0; t < 2; t++)
        {
            var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "neighbourly " + t });
            var user = (await IdsAsync(cs, "INSERT INTO users (id, tenant_id, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id", tenant.Id))[0];
            var subjects = await IdsAsync(cs, """
                INSERT INTO subjects (id, tenant_id, user_id, kind, name) SELECT gen_random_uuid(), $1, $2, 'topic', 'topic ' || g FROM generate_series(1, 40) g RETURNING id
                """, tenant.Id, user);
            for (var i = 0; i < subjects.Count; i++)
                await client.ForTenant(tenant.Id).Embeddings.UpsertAsync(space, EmbeddingOwner.Subject(subjects[i]), SearchData.Axis(8, i % 8, 0.2f, i));
            tenants.Add((tenant.Id, user));
        }
        await ExecuteAsync(cs, "ANALYZE embeddings");

        foreach (var (tenant, user) in tenants)
            for (var i = 0; i < 3; i++)
            {
                var scope = client.ForTenant(tenant);
                var query = new VectorSearchQuery { Space = space, Vector = SearchData.Axis(8, i), K = 5, Mode = VectorSearchMode.Index };
                Assert.Equal(5, (await scope.Search.VectorAsync(query)).Count);
                Assert.Equal(5, (await scope.Search.VectorAsync(query with { UserId = user })).Count);
                Assert.Equal(5, (await scope.Search.VectorAsync(query with { Mode = VectorSearchMode.Exact })).Count);
            }

        var plans = await PreparedSearchesAsync(client, "%<=>%");
        // Index order: one statement without a user and one with, each planned once for both tenants (the client
        // prepares a statement at its second use: 5 of the 6 queries are counted).
        Assert.Equal([(5L, 0L), (5L, 0L)], plans.Where(p => p.Class == "none").Select(p => (p.Generic, p.Custom)));
        // 40 vectors: the base-4 logarithm of 41 is 2; both tenants are of that class.
        var exact = Assert.Single(plans, p => p.Class == "embeddings 2");
        Assert.Equal((5L, 0L), (exact.Generic, exact.Custom));
    }

    [Fact]
    public async Task A_hybrid_search_names_its_class_over_the_text_and_the_vector_tables()
    {
        var (cs, client) = await OneConnectionClientAsync("hybridclass");
        await using var _ = client;
        var space = await client.Embeddings.RegisterSpaceAsync(new NewEmbeddingSpace { Name = "plans", Model = "test", Dimensions = 8 });
        var tenant = await client.Tenants.CreateAsync(new NewTenant { Name = "remembering" });
        var scope = client.ForTenant(tenant.Id);
        await ExecuteAsync(cs, """
            WITH u AS (INSERT INTO users (id, tenant_id, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id)
            INSERT INTO memories (id, tenant_id, user_id, content, content_hash)
            SELECT gen_random_uuid(), $1, u.id, 'wombat memory ' || g, sha256(convert_to('wombat memory ' || g, 'UTF8')) FROM u, generate_series(1, 20) g
            """, tenant.Id);
        // The statistics are read at the first search of a whole tenant, so none runs before ANALYZE.
        var memories = await IdsAsync(cs, "SELECT id FROM memories");
        for (var i = 0; i < memories.Count; i++)
            await scope.Embeddings.UpsertAsync(space, EmbeddingOwner.Memory(memories[i]), SearchData.Axis(8, i % 8, 0.2f, i));
        await ExecuteAsync(cs, "ANALYZE memories");
        await ExecuteAsync(cs, "ANALYZE embeddings");

        for (var i = 0; i < 3; i++)
        {
            var hits = await scope.Search.HybridAsync(new HybridSearchQuery { Space = space, Text = "wombat", Vector = SearchData.Axis(8, 3), Kinds = [SearchKind.Memory] });
            Assert.Equal(10, hits.Count);
        }
        // 20 rows in each table: the base-4 logarithm of 21 is 2.
        Assert.Contains(await PreparedSearchesAsync(client, "%ts_headline%"), p => p.Class == "memories 2, embeddings 2");
    }

    // The statements prepared on the client's one connection whose text is like the pattern: the plan class each
    // names ("none" for none), and how many generic and custom plans PostgreSQL made for it.
    static async Task<List<(string Class, long Generic, long Custom)>> PreparedSearchesAsync(ChatStoreClient client, string like)
    {
        await using var same = await client.DataSource.OpenConnectionAsync();
        await using var statements = new NpgsqlCommand("""
            SELECT coalesce(substring(statement FROM '-- plan class: (.*)$'), 'none'), generic_plans, custom_plans
              FROM pg_prepared_statements WHERE statement LIKE $1 ORDER BY 1
            """, same);
        statements.Parameters.Add(new() { Value = like });
        var plans = new List<(string Class, long Generic, long Custom)>();
        await using var reader = await statements.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            plans.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2)));
        return plans;
    }

    static async Task<(string ConnectionString, ChatStoreClient Client)> MigratedDatabaseAsync(string name)
    {
        var cs = await TestDatabase.CreateDatabaseAsync(name);
        var client = await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = cs });
        await client.Migrator.InitAsync();
        return (cs, client);
    }

    // A migrated database of its own and a client of one connection, so that the connection's prepared statements
    // tell which plans were made.
    static async Task<(string ConnectionString, ChatStoreClient Client)> OneConnectionClientAsync(string name)
    {
        var (cs, setup) = await MigratedDatabaseAsync(name);
        await setup.DisposeAsync();
        return (cs, await ChatStoreClient.CreateAsync(new ChatStoreSettings { ConnectionString = cs + ";Maximum Pool Size=1" }));
    }

    // 3,000 tenants of one user, one conversation and 2 messages ("small talk 1", "small talk 2"; with
    // mentionZanzibar, the first is "about zanzibar"). Returns their ids.
    static Task<List<Guid>> InsertSmallTenantsAsync(string cs, bool mentionZanzibar) => IdsAsync(cs, """
        WITH t AS (INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'small ' || g FROM generate_series(1, 3000) g RETURNING id),
             u AS (INSERT INTO users (id, tenant_id, role) SELECT gen_random_uuid(), t.id, 'user' FROM t RETURNING id, tenant_id),
             c AS (INSERT INTO conversations (id, tenant_id, user_id) SELECT gen_random_uuid(), u.tenant_id, u.id FROM u RETURNING id, tenant_id, user_id),
             m AS (INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
                   SELECT gen_random_uuid(), c.tenant_id, c.id, c.user_id, g, 'user', CASE WHEN $1 AND g = 1 THEN 'about zanzibar' ELSE 'small talk ' || g END
                     FROM c, generate_series(1, 2) AS g)
        SELECT id FROM t
        """, mentionZanzibar);

    static async Task<List<Guid>> IdsAsync(string cs, string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        var ids = new List<Guid>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            ids.Add(reader.GetGuid(0));
        return ids;
    }

    // A user of the tenant with conversations conversations of count messages each; every every-th one mentions zanzibar.
    static Task InsertMessagesAsync(string cs, Guid tenantId, int count, int every, int conversations = 1) => ExecuteAsync(cs, """
        WITH u AS (INSERT INTO users (id, tenant_id, role) VALUES (gen_random_uuid(), $1, 'user') RETURNING id),
             c AS (INSERT INTO conversations (id, tenant_id, user_id) SELECT gen_random_uuid(), $1, u.id FROM u, generate_series(1, $4) RETURNING id, user_id)
        INSERT INTO messages (id, tenant_id, conversation_id, user_id, seq, role, content)
        SELECT gen_random_uuid(), $1, c.id, c.user_id, g, 'user', CASE WHEN g % $3 = 0 THEN 'about zanzibar ' ELSE 'filler text ' END || g
          FROM c, generate_series(1, $2) AS g
        """, tenantId, count, every, conversations);

    static async Task ExecuteAsync(string cs, string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        await cmd.ExecuteNonQueryAsync();
    }

    // EXPLAIN ANALYZE of the single-kind full-text statement (messages unless another kind is given) as the
    // application role in the tenant, after the settings statement the store runs before it
    // (SearchCommand.Settings) and any further settings given, with the parameters the store binds (text,
    // limit, snippet options): planned for them, or (generic) once for every query, as a statement that names a
    // plan class is. Rolled back.
    static async Task<JsonElement> ExplainAsync(string cs, Guid tenantId, string text, string? moreSettings = null, bool generic = false,
        SearchKind kind = SearchKind.Message)
    {
        // A statement planned once names a plan class (as the store's whole-tenant searches do), and the tenant
        // through its setting; one planned per query names the tenant as its first parameter.
        var shape = new SearchStatements.Shape(SearchStatements.Statement.FullText, SearchStatements.KindBit(kind),
            SearchStatements.Has.None, default, default, 0, default, PlanClass: generic ? 1 : null);
        var statement = SearchStatements.For(shape).Sql;
        var tenantFirst = StoreContext.NamesTenant(statement);
        var sql = StoreContext.Render(statement, "\"public\"");
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        foreach (var setting in (string[])["SET LOCAL ROLE chatstore_app", $"SET LOCAL chatstore.tenant_id = '{tenantId}'",
                     .. SearchCommand.Settings(text: true, sharedPlan: generic, vector: null)])
        {
            await using var set = new NpgsqlCommand(setting.Replace("{schema}", "\"public\"", StringComparison.Ordinal), conn, tx);
            if (setting == SearchCommand.LanguageSql)
            {
                set.Parameters.Add(new() { Value = DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
                set.Parameters.Add(new() { Value = tenantId });
            }
            await set.ExecuteNonQueryAsync();
        }
        if (moreSettings is not null)
        {
            await using var more = new NpgsqlCommand(moreSettings, conn, tx);
            await more.ExecuteNonQueryAsync();
        }
        if (generic)
        {
            // A prepared statement: under the shared plans' settings, its plan is made without the values.
            await using var prepare = new NpgsqlCommand($"PREPARE search ({(tenantFirst ? "uuid, " : "")}text, int, text) AS " + sql, conn, tx);
            await prepare.ExecuteNonQueryAsync();
        }
        const string headline = "StartSel=<b>, StopSel=</b>";
        // EXECUTE takes no parameters of the statement around it: its values are literals.
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, FORMAT JSON) "
            + (generic ? $"EXECUTE search ({(tenantFirst ? $"'{tenantId}', " : "")}'{text.Replace("'", "''", StringComparison.Ordinal)}', 21, '{headline}')" : sql), conn, tx);
        if (!generic)
        {
            if (tenantFirst)
                explain.Parameters.Add(new() { Value = tenantId });
            explain.Parameters.Add(new() { Value = text });
            explain.Parameters.Add(new() { Value = 21 });
            explain.Parameters.Add(new() { Value = headline });
        }
        var json = (string)(await explain.ExecuteScalarAsync())!;
        return JsonDocument.Parse(json).RootElement[0].GetProperty("Plan").Clone();
    }
}
