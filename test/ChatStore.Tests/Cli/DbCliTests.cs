using ChatStore.Schema;
using Npgsql;

namespace ChatStore.Tests.Cli;

/// <summary><c>chatstore db …</c> with an app's own migration folder, run as a child process.</summary>
public sealed class DbCliTests : IAsyncLifetime
{
    string _connectionString = "";
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"chatstore-app-migrations-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        _connectionString = await TestDatabase.CreateDatabaseAsync("cli");
        Directory.CreateDirectory(_folder);
        for (var v = 1; v <= 3; v++)
        {
            await File.WriteAllTextAsync(Path.Combine(_folder, $"000{v}_notes_{v}.up.sql"), $"CREATE TABLE {{schema}}.app_notes_{v} (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));");
            await File.WriteAllTextAsync(Path.Combine(_folder, $"000{v}_notes_{v}.down.sql"), $"DROP TABLE {{schema}}.app_notes_{v};");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    Task<CliResult> Db(params string[] args) => CliProcess.RunAsync(["db", .. args, "--database-url", _connectionString], null);

    async Task<long> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    static List<string> Steps(CliResult result, string verb) =>
        [.. result.Lines.Where(l => l.StartsWith(verb, StringComparison.Ordinal)).Select(l => l[verb.Length..].Trim().Split(" (")[0])];

    [Fact]
    public async Task An_apps_migration_folder_migrates_shows_verifies_and_rolls_back_with_every_line_in_execution_order()
    {
        var source = $"app={_folder}";
        var chatstore = MigrationSource.ChatStore.Migrations;

        var migrate = await Db("migrate", "--source", source);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        string[] up = [.. chatstore.Select(m => $"chatstore {m.Version:D4}_{m.Name}"), "app 0001_notes_1", "app 0002_notes_2", "app 0003_notes_3"];
        Assert.Equal(up, Steps(migrate, "applied"));
        Assert.Equal(3, await ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'app_notes_%'"));

        var status = await Db("status", "--source", source);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains(status.Lines, l => l.Contains("app", StringComparison.Ordinal) && l.Contains("0003", StringComparison.Ordinal) && l.Contains("applied", StringComparison.Ordinal));
        Assert.True((await Db("verify", "--source", source)).ExitCode == 0);
        var json = System.Text.Json.JsonDocument.Parse((await Db("status", "--source", source, "--json")).Out).RootElement;
        Assert.True(json.GetProperty("upToDate").GetBoolean());
        Assert.Equal(chatstore.Count + 3, json.GetProperty("entries").GetArrayLength());
        // Without the folder the app's applied migrations have no files: status and verify say so.
        var blind = await Db("verify");
        Assert.Equal(1, blind.ExitCode);
        Assert.Contains("app 0001_notes_1", blind.Out, StringComparison.Ordinal);

        // --to counts in the only folder given: back to app version 1, newest first.
        var back = await Db("rollback", "--to", "1", "--source", source);
        Assert.True(back.ExitCode == 0, back.ToString());
        Assert.Equal(["app 0003_notes_3", "app 0002_notes_2"], Steps(back, "rolled back"));

        // Everything, ChatStore's included: the transcript is exactly the reverse of the order applied.
        var all = await Db("rollback", "--to", "0", "--source", "chatstore", "--source", source);
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Equal(up.Take(up.Length - 2).Reverse(), Steps(all, "rolled back"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM chatstore_migrations"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'app_notes_%'"));
    }

    [Fact]
    public async Task Rollback_without_steps_or_to_refuses_with_usage_and_rolls_nothing_back()
    {
        Assert.Equal(0, (await Db("migrate")).ExitCode);
        var applied = await ScalarAsync("SELECT count(*) FROM chatstore_migrations");

        var refused = await Db("rollback");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--steps", refused.Err, StringComparison.Ordinal);
        Assert.Contains("Usage", refused.Out + refused.Err, StringComparison.Ordinal);
        Assert.Equal(applied, await ScalarAsync("SELECT count(*) FROM chatstore_migrations"));
        Assert.NotEqual(0, (await Db("rollback", "--steps", "1", "--to", "3")).ExitCode);
        Assert.Equal(applied, await ScalarAsync("SELECT count(*) FROM chatstore_migrations"));
    }

    [Fact]
    public async Task A_source_that_is_not_NAME_DIR_or_a_missing_folder_is_an_error_that_says_so()
    {
        var missing = await Db("status", "--source", $"app={_folder}-missing");
        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.Configuration, missing.ExitCode);
        Assert.Contains("does not exist", missing.Out + missing.Err, StringComparison.Ordinal);

        var empty = await Db("status", "--source", "app=");
        Assert.Equal(ChatStore.Cli.Commands.ExitCodes.Usage, empty.ExitCode);
        Assert.Contains("NAME=DIR", empty.Out + empty.Err, StringComparison.Ordinal);
    }
}
