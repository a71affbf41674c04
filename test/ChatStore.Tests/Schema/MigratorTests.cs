using ChatStore.Schema;
using Npgsql;

namespace ChatStore.Tests.Schema;

public sealed class MigratorTests : SchemaTestBase
{
    static int LatestVersion => MigrationSource.ChatStore.Migrations[^1].Version;

    [Fact]
    public async Task Init_applies_every_migration_and_a_second_init_changes_nothing()
    {
        var migrator = NewMigrator();
        var first = await migrator.InitAsync();
        Assert.False(first.AlreadyInitialised);
        Assert.Equal(MigrationSource.ChatStore.Migrations.Count, first.Applied.Count);

        var second = await migrator.InitAsync();
        Assert.True(second.AlreadyInitialised);
        Assert.Empty(second.Applied);

        var status = await migrator.StatusAsync();
        Assert.True(status.UpToDate);
        Assert.Equal(LatestVersion, status.CurrentVersion);
        Assert.True(await ScalarAsync<bool>("SELECT count(*) = 2 FROM pg_extension WHERE extname IN ('vector', 'btree_gin')"));
        Assert.False(await ScalarAsync<bool>("SELECT rolbypassrls FROM pg_roles WHERE rolname = 'chatstore_app'"));
    }

    [Fact]
    public async Task Every_migration_goes_up_down_up_and_down_restores_the_schema_dump()
    {
        var migrator = NewMigrator();
        await migrator.MigrateAsync(to: 0);
        foreach (var m in MigrationSource.ChatStore.Migrations)
        {
            var before = await DumpSchemaAsync("public");
            await migrator.MigrateAsync(to: m.Version);
            Assert.Equal(m.Version, (await migrator.StatusAsync()).CurrentVersion);
            var rolledBack = await migrator.RollbackAsync(steps: 1);
            Assert.Equal(m.Version, Assert.Single(rolledBack.Applied).Version);
            Assert.Equal(before, await DumpSchemaAsync("public"));
            await migrator.MigrateAsync(to: m.Version);
        }
        Assert.True((await migrator.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Rollback_to_zero_then_init_again_gives_a_verified_schema()
    {
        var migrator = NewMigrator("teddy-ai");
        await migrator.InitAsync();
        var undone = await migrator.RollbackAsync(to: 0);
        Assert.Equal(MigrationSource.ChatStore.Migrations.Count, undone.Applied.Count);
        Assert.Equal(0, (await migrator.StatusAsync()).CurrentVersion);
        await migrator.InitAsync();
        Assert.True((await migrator.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Five_migrators_at_once_on_an_empty_database_apply_each_migration_once()
    {
        await RaceAsync();
        Assert.Equal(MigrationSource.ChatStore.Migrations.Count, await ScalarAsync<long>("SELECT count(*) FROM public.chatstore_migrations"));
        Assert.True((await NewMigrator().VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Five_migrators_at_once_on_a_database_a_version_behind_apply_the_rest_once()
    {
        await NewMigrator().MigrateAsync(to: MigrationSource.ChatStore.Migrations[^2].Version);
        var results = await RaceAsync();
        Assert.Equal(1, results.Sum(r => r.Applied.Count));
        Assert.Equal(MigrationSource.ChatStore.Migrations.Count, await ScalarAsync<long>("SELECT count(*) FROM public.chatstore_migrations"));
    }

    async Task<MigrationRun[]> RaceAsync()
    {
        var sources = Enumerable.Range(0, 5).Select(_ => NpgsqlDataSource.Create(ConnectionString)).ToArray();
        try
        {
            using var start = new SemaphoreSlim(0);
            var runs = sources.Select(ds => Task.Run(async () =>
            {
                await start.WaitAsync();
                return await NewMigrator(dataSource: ds).InitAsync();
            })).ToArray();
            start.Release(5);
            return await Task.WhenAll(runs);
        }
        finally
        {
            foreach (var ds in sources) await ds.DisposeAsync();
        }
    }

    [Fact]
    public async Task Schemas_side_by_side_in_one_database_are_independent_stores()
    {
        foreach (var schema in new[] { "public", "teddy-ai", "chat_a", "chat_b" })
        {
            var migrator = NewMigrator(schema);
            await migrator.InitAsync();
            Assert.True((await migrator.VerifyAsync()).Ok, schema);
        }
        await using var a = new ChatStoreClient(DataSource, "chat_a");
        await using var b = new ChatStoreClient(NpgsqlDataSource.Create(ConnectionString), "chat_b");
        var tenant = await a.Tenants.CreateAsync(new() { Name = "Only in chat_a" });
        await Assert.ThrowsAsync<ChatStoreNotFoundException>(() => b.Tenants.GetAsync(tenant.Id));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM chat_a.tenants"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM chat_b.tenants"));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM \"teddy-ai\".tenants"));
        // Rolling one schema back leaves the others untouched.
        await NewMigrator("chat_b").RollbackAsync(to: 0);
        Assert.True((await NewMigrator("chat_a").VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Verify_reports_a_dropped_index_an_added_column_disabled_rls_and_an_edited_checksum()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();
        Assert.Empty((await migrator.VerifyAsync()).Differences);

        await ExecuteAsync("DROP INDEX public.messages_tenant_search_idx");
        await ExecuteAsync("ALTER TABLE public.memories ADD COLUMN mood text");
        await ExecuteAsync("ALTER TABLE public.reminders DISABLE ROW LEVEL SECURITY");
        await ExecuteAsync("DROP POLICY tenant_isolation ON public.sessions");
        await ExecuteAsync("UPDATE public.chatstore_migrations SET checksum = 'edited' WHERE version = 1");

        var report = await migrator.VerifyAsync();
        Assert.False(report.Ok);
        var text = report.Differences.Select(d => d.ToString()).ToList();
        Assert.Contains(report.Differences, d => d is { Kind: "index", Object: "messages.messages_tenant_search_idx", Actual: null });
        Assert.Contains(report.Differences, d => d is { Kind: "column", Object: "memories.mood", Expected: null });
        Assert.Contains(report.Differences, d => d.Kind == "table" && d.Object == "reminders" && d.Actual!.Contains("rls=f ", StringComparison.Ordinal));
        Assert.Contains(report.Differences, d => d is { Kind: "policy", Object: "sessions.tenant_isolation", Actual: null });
        Assert.Contains(report.Differences, d => d is { Kind: "migration", Object: "chatstore 0001_core" });
        Assert.Equal(5, report.Differences.Count);
    }

    [Fact]
    public async Task Verify_accepts_registered_embedding_space_indexes_and_reports_a_missing_one()
    {
        var migrator = NewMigrator();
        await migrator.InitAsync();
        await using var client = new ChatStoreClient(DataSource);
        var space = await client.Embeddings.RegisterSpaceAsync(new ChatStore.Embeddings.NewEmbeddingSpace { Name = "mini", Model = "test", Dimensions = 8 });
        Assert.Empty((await migrator.VerifyAsync()).Differences);

        await ExecuteAsync($"DROP INDEX public.{space.IndexName}");
        var report = await migrator.VerifyAsync();
        Assert.Equal($"embeddings.{space.IndexName}", Assert.Single(report.Differences).Object);
    }

    [Fact]
    public async Task A_failing_migration_leaves_the_previous_version_and_says_which_file()
    {
        var dir = Directory.CreateTempSubdirectory("chatstore-mig");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0001_notes.up.sql"), "CREATE TABLE {schema}.notes (id int PRIMARY KEY);");
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0001_notes.down.sql"), "DROP TABLE {schema}.notes;");
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0002_broken.up.sql"),
                "CREATE TABLE {schema}.tags (id int);\nALTER TABLE {schema}.no_such_table ADD COLUMN x int;");
            var source = MigrationSource.FromDirectory("notes-app", dir.FullName);
            var migrator = NewMigrator(appSources: [source]);

            var error = await Assert.ThrowsAsync<ChatStoreException>(() => migrator.InitAsync());
            Assert.Contains("0002_broken.up.sql", error.Message, StringComparison.Ordinal);
            Assert.Contains("version 1", error.Message, StringComparison.Ordinal);
            Assert.Equal(1, await ScalarAsync<int>("SELECT max(version) FROM public.chatstore_migrations WHERE source = 'notes-app'"));
            Assert.False(await ScalarAsync<bool>("SELECT to_regclass('public.tags') IS NOT NULL"));
            Assert.True(await ScalarAsync<bool>("SELECT to_regclass('public.notes') IS NOT NULL"));

            // An edited, applied migration is refused by name.
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0001_notes.up.sql"), "CREATE TABLE {schema}.notes (id bigint PRIMARY KEY);");
            File.Delete(Path.Combine(dir.FullName, "0002_broken.up.sql"));
            var edited = NewMigrator(appSources: [MigrationSource.FromDirectory("notes-app", dir.FullName)]);
            var refused = await Assert.ThrowsAsync<ChatStoreMigrationConflictException>(() => edited.MigrateAsync());
            Assert.Contains("0001_notes.up.sql", refused.Message, StringComparison.Ordinal);
            Assert.Contains((await edited.StatusAsync()).Entries, e => e is { Source: "notes-app", State: MigrationState.ChecksumMismatch });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task App_migrations_run_after_chatstores_and_roll_back_first()
    {
        var dir = Directory.CreateTempSubdirectory("chatstore-mig");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0001_pets.up.sql"),
                "CREATE TABLE {schema}.pet_profiles (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, user_id uuid NOT NULL, " +
                "FOREIGN KEY (tenant_id, user_id) REFERENCES {schema}.users (tenant_id, id) ON DELETE CASCADE);");
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, "0001_pets.down.sql"), "DROP TABLE {schema}.pet_profiles;");
            var migrator = NewMigrator("pets", [MigrationSource.FromDirectory("pets-app", dir.FullName)]);
            await migrator.InitAsync();
            Assert.True((await migrator.StatusAsync()).UpToDate);
            Assert.True((await migrator.VerifyAsync()).Ok);

            var undone = await migrator.RollbackAsync(to: 0);
            Assert.Equal("pets-app", undone.Applied[0].Source);
            Assert.False(await ScalarAsync<bool>("SELECT to_regclass('pets.pet_profiles') IS NOT NULL"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Reset_drops_every_object_of_the_schema()
    {
        var migrator = NewMigrator("to_reset");
        await migrator.InitAsync();
        await migrator.ResetAsync();
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'to_reset'"));
        await migrator.InitAsync();
        Assert.True((await migrator.VerifyAsync()).Ok);
    }

    [Fact]
    public void Script_fills_in_the_quoted_schema_and_wraps_transactional_migrations()
    {
        var script = NewMigrator("teddy-ai").Script(from: 0, to: 2);
        Assert.Contains("CREATE TABLE \"teddy-ai\".messages", script, StringComparison.Ordinal);
        Assert.DoesNotContain("{schema}", script, StringComparison.Ordinal);
        Assert.Contains("BEGIN;", script, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX CONCURRENTLY", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Statements_split_at_top_level_semicolons_only()
    {
        var parts = Migrator.SplitStatements("""
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT ';');
            DO $$ BEGIN PERFORM 1; END $$;
            /* block; comment */ SELECT "a;b" FROM a
            """).ToList();
        Assert.Equal(3, parts.Count);
        Assert.StartsWith("DO $$", parts[1], StringComparison.Ordinal);
    }
}
