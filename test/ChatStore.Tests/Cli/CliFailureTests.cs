using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ChatStore.Cli.Commands;
using ChatStore.Connection;
using ChatStore.Embedded;
using Npgsql;

namespace ChatStore.Tests.Cli;

/// <summary>
/// The <c>chatstore</c> CLI as an operator meets it: a child process, its output and its exit code. Each failure
/// class prints its cause and the next step, exits with its own code, and never shows a password.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class CliFailureTests
{
    [Fact]
    public async Task A_wrong_password_says_so_and_exits_with_the_configuration_code()
    {
        await using var cluster = await PasswordCluster.StartAsync("right-password");

        var run = await Cli.RunAsync(["db", "status", "--database-url", $"postgres://postgres:wrong-s3cret@127.0.0.1:{cluster.Port}/postgres"]);

        Assert.Equal(ExitCodes.Configuration, run.ExitCode);
        Assert.Contains("password authentication failed for user postgres: check DATABASE_URL", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-s3cret", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_port_names_the_endpoint_and_asks_whether_PostgreSQL_runs()
    {
        var port = FreePort();

        var run = await Cli.RunAsync(["db", "status", "--database-url", $"postgres://app:s3cret@127.0.0.1:{port}/chat"]);

        Assert.Equal(ExitCodes.Unreachable, run.ExitCode);
        Assert.Contains($"could not connect to 127.0.0.1:{port}: is PostgreSQL running?", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_database_is_named_with_how_to_create_it()
    {
        var missing = $"nosuch_{Guid.NewGuid():N}"[..20];

        var run = await Cli.RunAsync(["db", "status", "--database-url", Url(missing)]);

        Assert.Equal(ExitCodes.Configuration, run.ExitCode);
        Assert.Contains($"database \"{missing}\" does not exist", run.Output, StringComparison.Ordinal);
        Assert.Contains($"createdb {missing}", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_migration_source_is_a_usage_error_listing_the_known_ones()
    {
        var run = await Cli.RunAsync(["db", "migrate", "--to", "3", "--source", "nosuch", "--database-url", TestStore.ConnectionString]);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("There is no migration source named 'nosuch'. Known: chatstore.", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_size_that_is_not_a_number_names_the_variable_and_the_rule()
    {
        var run = await Cli.RunAsync(["db", "status", "--database-url", TestStore.ConnectionString], ("CHATSTORE_POOL_SIZE", "abc"));

        Assert.Equal(ExitCodes.Configuration, run.ExitCode);
        Assert.Contains("CHATSTORE_POOL_SIZE must be a whole number, 1 or more", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_with_nothing_applied_says_there_is_nothing_to_roll_back()
    {
        var empty = await TestDatabase.CreateDatabaseAsync("cli_empty");

        var run = await Cli.RunAsync(["db", "rollback", "--steps", "1", "--database-url", empty]);

        Assert.Equal(ExitCodes.MigrationConflict, run.ExitCode);
        Assert.Contains("nothing to roll back: no migration is applied in schema public", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_schema_name_names_the_flag()
    {
        var run = await Cli.RunAsync(["db", "status", "--schema", "", "--database-url", TestStore.ConnectionString]);

        Assert.Equal(ExitCodes.Configuration, run.ExitCode);
        Assert.Contains("--schema must not be empty", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_import_file_is_invalid_input_and_names_the_file_and_the_line()
    {
        var (_, _, tenant) = await TestStore.NewTenantAsync();
        var file = Path.Combine(Path.GetTempPath(), $"chatstore-bad-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllTextAsync(file, "{\"type\": \"chatstore-export\", \"vers");
        try
        {
            var run = await Cli.RunAsync(["import", "--tenant", tenant.Id.ToString(), "--in", file, "--database-url", TestStore.ConnectionString]);

            Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
            Assert.Contains($"{file} is not a valid export: header: is not JSON", run.Output, StringComparison.Ordinal);
            Assert.Contains("Nothing was imported", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Importing_a_user_who_exists_is_a_conflict_and_an_unknown_user_on_export_is_not_found()
    {
        var (_, scope, tenant) = await TestStore.NewTenantAsync();
        var user = await TestStore.NewUserAsync(scope);
        var file = Path.Combine(Path.GetTempPath(), $"chatstore-export-{Guid.NewGuid():N}.jsonl");
        try
        {
            var export = await Cli.RunAsync(["export", "--tenant", tenant.Id.ToString(), "--user", user.Id.ToString(), "--out", file, "--database-url", TestStore.ConnectionString]);
            Assert.Equal(ExitCodes.Ok, export.ExitCode);

            var import = await Cli.RunAsync(["import", "--tenant", tenant.Id.ToString(), "--in", file, "--database-url", TestStore.ConnectionString]);
            Assert.Equal(ExitCodes.Conflict, import.ExitCode);
            Assert.Contains($"User {user.Id} already exists in this tenant", import.Output, StringComparison.Ordinal);

            var unknown = Guid.NewGuid();
            var missing = await Cli.RunAsync(["export", "--tenant", tenant.Id.ToString(), "--user", unknown.ToString(), "--out", file, "--database-url", TestStore.ConnectionString]);
            Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
            Assert.Contains($"user {unknown} was not found", missing.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_unknown_verb_is_a_usage_error_and_help_documents_every_exit_code()
    {
        var run = await Cli.RunAsync(["db", "frobnicate"]);
        Assert.Equal(ExitCodes.Usage, run.ExitCode);

        var help = await Cli.RunAsync(["--help"]);
        Assert.Equal(ExitCodes.Ok, help.ExitCode);
        foreach (var line in new[] { "2  usage", "3  configuration", "4  database unreachable", "5  migration conflict", "6  not found" })
            Assert.Contains(line, help.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task As_root_the_embedded_default_of_a_clone_only_root_can_enter_lives_where_postgres_can_reach_it()
    {
        if (!Environment.IsPrivilegedProcess)
            return; // Only root runs the cluster as another user; a regular user's clone is always reachable.
        var home = Path.Combine(Path.GetTempPath(), $"chatstore-root-{Guid.NewGuid():N}");
        var clone = Path.Combine(home, "chatstore");
        Directory.CreateDirectory(clone, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); // like /root: 700
        var relocated = EmbeddedPostgres.RelocatedDataDirectory(Path.Combine(clone, ChatStoreSettings.DefaultEmbeddedDataDirectory));
        try
        {
            var init = await Cli.RunAsync(["db", "init"], workingDirectory: clone, withoutDatabaseUrl: true);
            Assert.True(init.ExitCode == ExitCodes.Ok, init.Output);
            Assert.Contains($"the postgres user cannot enter {home}", init.Output, StringComparison.Ordinal);
            Assert.Contains($"files are in {relocated}", init.Output, StringComparison.Ordinal);
            Assert.Contains("migration(s) applied", init.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(relocated, "PG_VERSION")));

            // The next run finds the same cluster, initialised.
            var again = await Cli.RunAsync(["db", "init"], workingDirectory: clone, withoutDatabaseUrl: true);
            Assert.True(again.ExitCode == ExitCodes.Ok, again.Output);
            Assert.Contains("Already initialised", again.Output, StringComparison.Ordinal);

            // A chosen directory the postgres user cannot reach is not moved: the error says why and what to do.
            var chosen = await Cli.RunAsync(["db", "status", "--data-dir", Path.Combine(clone, "pg")], workingDirectory: clone, withoutDatabaseUrl: true);
            Assert.Equal(ExitCodes.Configuration, chosen.ExitCode);
            Assert.Contains($"the postgres user cannot enter {home}", chosen.Output, StringComparison.Ordinal);
            Assert.Contains("move the data directory (--data-dir or CHATSTORE_DATA_DIR)", chosen.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
            if (Directory.Exists(Path.GetDirectoryName(relocated)))
                Directory.Delete(Path.GetDirectoryName(relocated)!, recursive: true);
        }
    }

    static string Url(string database) =>
        new NpgsqlConnectionStringBuilder(TestStore.ConnectionString) { Database = database }.ConnectionString;

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A cluster of its own that asks for a password (the shared test server trusts every connection).</summary>
    sealed class PasswordCluster : IAsyncDisposable
    {
        readonly string _directory;
        readonly string _bin;

        PasswordCluster(string directory, string bin, int port) => (_directory, _bin, Port) = (directory, bin, port);

        public int Port { get; }

        public static async Task<PasswordCluster> StartAsync(string password)
        {
            var bin = Environment.GetEnvironmentVariable("CHATSTORE_PG_BIN") ?? EmbeddedPostgres.FindBinDirectory()
                ?? throw new InvalidOperationException("PostgreSQL binaries not found: run the tests through scripts/test.sh.");
            var directory = Path.Combine(Path.GetTempPath(), $"chatstore-pw-{Guid.NewGuid():N}");
            Directory.CreateDirectory(directory);
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
            await File.WriteAllTextAsync(Path.Combine(directory, "pwfile"), password + "\n");
            if (Environment.IsPrivilegedProcess)
                await Cli.ProcessAsync("chown", ["-R", "postgres:", directory]);
            var port = FreePort();
            var cluster = new PasswordCluster(directory, bin, port);
            await cluster.AsPostgresAsync("initdb", "-D", Path.Combine(directory, "data"), "-U", "postgres", "--auth-host=scram-sha-256", "--auth-local=trust",
                $"--pwfile={Path.Combine(directory, "pwfile")}", "-E", "UTF8", "--no-locale");
            await cluster.AsPostgresAsync("pg_ctl", "-D", Path.Combine(directory, "data"), "-l", Path.Combine(directory, "server.log"), "-w", "start",
                "-o", $"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c fsync=off");
            return cluster;
        }

        async Task AsPostgresAsync(string tool, params string[] arguments)
        {
            var path = Path.Combine(_bin, tool);
            var run = Environment.IsPrivilegedProcess
                ? await Cli.ProcessAsync("runuser", ["-u", "postgres", "--", path, .. arguments])
                : await Cli.ProcessAsync(path, arguments);
            Assert.True(run.ExitCode == 0, $"{tool} failed: {run.Output}");
        }

        public async ValueTask DisposeAsync()
        {
            await AsPostgresAsync("pg_ctl", "-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop");
            Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>Runs the <c>chatstore</c> CLI (ChatStore.Cli.dll, built beside the tests) as a child process.</summary>
static class Cli
{
    public sealed record Run(int ExitCode, string Output);

    public static Task<Run> RunAsync(string[] args, params (string Name, string Value)[] environment) =>
        RunAsync(args, workingDirectory: null, withoutDatabaseUrl: false, environment);

    public static Task<Run> RunAsync(string[] args, string? workingDirectory, bool withoutDatabaseUrl, params (string Name, string Value)[] environment)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "ChatStore.Cli.dll");
        var variables = new List<(string, string?)> { ("NO_COLOR", "1"), ("COLUMNS", "400") };
        if (withoutDatabaseUrl)
            variables.AddRange([("DATABASE_URL", null), ("CHATSTORE_DATA_DIR", null), ("CHATSTORE_CONFIG", null)]);
        variables.AddRange(environment.Select(e => (e.Name, (string?)e.Value)));
        return ProcessAsync(DotnetHost(), ["exec", dll, .. args], workingDirectory, variables);
    }

    public static async Task<Run> ProcessAsync(string fileName, IEnumerable<string> args, string? workingDirectory = null,
        IEnumerable<(string Name, string? Value)>? environment = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (var a in args)
            startInfo.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? [])
        {
            if (value is null) startInfo.Environment.Remove(name);
            else startInfo.Environment[name] = value;
        }
        using var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        // Spectre wraps long lines at the console width; the assertions read the text, not the layout.
        var output = (await stdout + await stderr).Replace("\r", "", StringComparison.Ordinal);
        return new Run(process.ExitCode, string.Join(' ', output.Split('\n', StringSplitOptions.TrimEntries)));
    }

    static string DotnetHost()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli)) return fromCli;
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }
}
