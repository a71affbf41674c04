using System.Diagnostics;
using ChatStore.Embedded;

namespace ChatStore.Tests.Embedded;

public sealed class EmbeddedPostgresTests : IAsyncLifetime
{
    readonly TempDataDirectory _dir = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _dir.DisposeAsync();

    [Fact]
    public async Task First_start_creates_a_cluster_that_accepts_connections_and_pgvector()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, _dir.DataDirectory);
        await using var embedded = await EmbeddedPostgres.StartAsync(relative);

        Assert.True(embedded.StartedServer);
        Assert.Equal(_dir.DataDirectory, embedded.DataDirectory);
        Assert.True(File.Exists(Path.Combine(_dir.DataDirectory, "PG_VERSION")));
        Assert.Equal($"Host=127.0.0.1;Port={embedded.Port};Username=postgres;Database=postgres", embedded.ConnectionString);
        Assert.Equal("127.0.0.1", await TempDataDirectory.ScalarAsync<string>(embedded.ConnectionString, "SHOW listen_addresses"));
        Assert.Equal("200", await TempDataDirectory.ScalarAsync<string>(embedded.ConnectionString, "SHOW max_connections"));
        Assert.Equal("UTF8", await TempDataDirectory.ScalarAsync<string>(embedded.ConnectionString, "SHOW server_encoding"));
        await TempDataDirectory.ScalarAsync<object>(embedded.ConnectionString, "CREATE EXTENSION vector");
        Assert.Equal("[1,2,3]", await TempDataDirectory.ScalarAsync<string>(embedded.ConnectionString, "SELECT '[1,2,3]'::vector::text"));
        Assert.Contains("database system is ready", await File.ReadAllTextAsync(embedded.LogFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Second_instance_on_the_same_directory_joins_the_running_server()
    {
        await using var first = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        await using var second = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);

        Assert.True(first.StartedServer);
        Assert.False(second.StartedServer);
        Assert.Equal(first.Port, second.Port);
        Assert.Equal(
            await TempDataDirectory.ScalarAsync<DateTime>(first.ConnectionString, "SELECT pg_postmaster_start_time()"),
            await TempDataDirectory.ScalarAsync<DateTime>(second.ConnectionString, "SELECT pg_postmaster_start_time()"));
    }

    [Fact]
    public async Task Server_stays_up_until_the_last_instance_is_disposed()
    {
        var first = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        var second = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);

        await first.DisposeAsync();
        Assert.True(File.Exists(_dir.PidFile));
        Assert.Equal(1, await TempDataDirectory.ScalarAsync<int>(second.ConnectionString, "SELECT 1"));

        await second.DisposeAsync();
        Assert.False(File.Exists(_dir.PidFile));
        Assert.True(await TempDataDirectory.RefusesConnectionsAsync(second.ConnectionString));
        Assert.Empty(Directory.GetFiles(_dir.DataDirectory + ".clients"));

        await second.DisposeAsync(); // A second dispose does nothing.
    }

    [Fact]
    public async Task Restart_keeps_the_data()
    {
        await using (var embedded = await EmbeddedPostgres.StartAsync(_dir.DataDirectory))
        {
            await TempDataDirectory.ScalarAsync<object>(embedded.ConnectionString, "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')");
        }
        Assert.False(File.Exists(_dir.PidFile));

        await using var again = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        Assert.True(again.StartedServer);
        Assert.Equal("kept", await TempDataDirectory.ScalarAsync<string>(again.ConnectionString, "SELECT body FROM notes"));
    }

    [Fact]
    public async Task Concurrent_starts_on_a_new_directory_create_and_start_one_server()
    {
        var instances = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => EmbeddedPostgres.StartAsync(_dir.DataDirectory))));
        try
        {
            Assert.Single(instances, i => i.StartedServer);
            Assert.Single(instances.Select(i => i.Port).Distinct());
            Assert.Equal(4, Directory.GetFiles(_dir.DataDirectory + ".clients").Length);
        }
        finally
        {
            await Task.WhenAll(instances.Select(i => i.DisposeAsync().AsTask()));
        }
        Assert.False(File.Exists(_dir.PidFile));
    }

    [Fact]
    public async Task A_server_killed_without_shutting_down_does_not_block_the_next_start()
    {
        await using var crashed = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        var postmaster = int.Parse((await File.ReadAllLinesAsync(_dir.PidFile))[0]);
        using (var process = Process.GetProcessById(postmaster)) process.Kill();
        await TempDataDirectory.WaitForProcessToEndAsync(postmaster);
        Assert.True(File.Exists(_dir.PidFile));

        await using var next = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);

        Assert.True(next.StartedServer);
        Assert.Equal(1, await TempDataDirectory.ScalarAsync<int>(next.ConnectionString, "SELECT 1"));
    }

    [Fact]
    public async Task A_stale_postmaster_pid_whose_port_another_server_took_is_not_mistaken_for_ours()
    {
        await using var other = new TempDataDirectory();
        await using var otherServer = await EmbeddedPostgres.StartAsync(other.DataDirectory);
        await (await EmbeddedPostgres.StartAsync(_dir.DataDirectory)).DisposeAsync();

        // What a server that crashed leaves behind: the pid of a process that has gone, and a port now taken.
        using var gone = Process.Start("true");
        await gone.WaitForExitAsync();
        await File.WriteAllLinesAsync(_dir.PidFile,
            [gone.Id.ToString(), _dir.DataDirectory, "1700000000", otherServer.Port.ToString(), _dir.DataDirectory, "127.0.0.1"]);

        await using var embedded = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);

        Assert.True(embedded.StartedServer);
        Assert.NotEqual(otherServer.Port, embedded.Port);
        Assert.Equal(_dir.DataDirectory, await TempDataDirectory.ScalarAsync<string>(embedded.ConnectionString, "SHOW data_directory"));
    }

    [Fact]
    public async Task Missing_binaries_give_an_error_that_says_what_to_do()
    {
        var error = await Assert.ThrowsAsync<ChatStoreConfigurationException>(
            () => EmbeddedPostgres.StartAsync(_dir.DataDirectory, binDirectory: "/nonexistent/postgresql/bin", logger: null, CancellationToken.None));

        Assert.StartsWith(EmbeddedPostgres.BinariesNotFoundMessage, error.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/postgresql/bin", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Root));
    }

    [Fact]
    public async Task Initdb_failure_reports_the_tool_output()
    {
        Directory.CreateDirectory(_dir.DataDirectory);
        await File.WriteAllTextAsync(Path.Combine(_dir.DataDirectory, "not-a-cluster.txt"), "x");

        var error = await Assert.ThrowsAsync<ChatStoreConfigurationException>(() => EmbeddedPostgres.StartAsync(_dir.DataDirectory));

        Assert.StartsWith($"initdb failed (exit code 1) for the embedded PostgreSQL in {_dir.DataDirectory}.", error.Message, StringComparison.Ordinal);
        Assert.Contains("exists but is not empty", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir.DataDirectory, "not-a-cluster.txt")));
    }

    [Fact]
    public async Task A_server_that_fails_to_start_reports_the_log()
    {
        await (await EmbeddedPostgres.StartAsync(_dir.DataDirectory)).DisposeAsync();
        await File.AppendAllTextAsync(Path.Combine(_dir.DataDirectory, "postgresql.conf"), "\nshared_buffers = 'lots'\n");

        var error = await Assert.ThrowsAsync<ChatStoreConfigurationException>(() => EmbeddedPostgres.StartAsync(_dir.DataDirectory));

        Assert.StartsWith($"pg_ctl start failed (exit code 1) for the embedded PostgreSQL in {_dir.DataDirectory}.", error.Message, StringComparison.Ordinal);
        Assert.Contains($"Server log: {Path.Combine(_dir.DataDirectory, "server.log")}", error.Message, StringComparison.Ordinal);
        Assert.Contains("invalid value for parameter \"shared_buffers\"", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.DataDirectory + ".clients"));
    }

    [Fact]
    public void FindBinDirectory_finds_initdb_and_pg_ctl()
    {
        var bin = EmbeddedPostgres.FindBinDirectory();

        Assert.NotNull(bin);
        Assert.True(File.Exists(Path.Combine(bin, "initdb")));
        Assert.True(File.Exists(Path.Combine(bin, "pg_ctl")));
    }
}
