using ChatStore.Embedded;

namespace ChatStore.Tests.Embedded;

/// <summary>Two processes on one data directory; the other process is a <see cref="ChildProcess"/>.</summary>
public sealed class EmbeddedPostgresProcessTests : IAsyncLifetime
{
    readonly TempDataDirectory _dir = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _dir.DisposeAsync();

    [Fact]
    public async Task Another_process_joins_the_running_server_and_keeps_it_up_after_this_one_leaves()
    {
        var embedded = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        await using var child = await ChildProcess.StartAsync(_dir.DataDirectory);

        Assert.False(child.StartedServer);
        Assert.Equal(embedded.Port, child.Port);

        await embedded.DisposeAsync();
        Assert.True(File.Exists(_dir.PidFile));
        Assert.Equal("ok 42", await child.SendAsync("query"));

        Assert.Equal("disposed", await child.SendAsync("dispose"));
        Assert.False(File.Exists(_dir.PidFile));
        Assert.True(await TempDataDirectory.RefusesConnectionsAsync(embedded.ConnectionString));
    }

    [Fact]
    public async Task This_process_joins_a_server_another_process_started()
    {
        await using var child = await ChildProcess.StartAsync(_dir.DataDirectory);
        await using var embedded = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);

        Assert.True(child.StartedServer);
        Assert.False(embedded.StartedServer);
        Assert.Equal(child.Port, embedded.Port);
        Assert.Equal(42, await TempDataDirectory.ScalarAsync<int>(embedded.ConnectionString, "SELECT 42"));

        await child.ExitWithoutDisposingAsync();
        Assert.Equal(42, await TempDataDirectory.ScalarAsync<int>(embedded.ConnectionString, "SELECT 42"));
    }

    [Fact]
    public async Task A_process_that_exits_without_disposing_stops_its_server()
    {
        await using var child = await ChildProcess.StartAsync(_dir.DataDirectory);
        Assert.True(child.StartedServer);
        Assert.True(File.Exists(_dir.PidFile));

        await child.ExitWithoutDisposingAsync();

        Assert.False(File.Exists(_dir.PidFile));
    }

    [Theory]
    [InlineData("INT")]  // Ctrl+C: Console.CancelKeyPress.
    [InlineData("TERM")] // docker stop, systemd: a PosixSignalRegistration (.NET 10 no longer raises ProcessExit).
    public async Task A_process_ended_by_a_signal_stops_its_server(string signal)
    {
        await using var child = await ChildProcess.StartAsync(_dir.DataDirectory);
        Assert.True(child.StartedServer);

        await child.SignalAsync(signal);

        Assert.False(File.Exists(_dir.PidFile));
    }

    [Fact]
    public async Task A_killed_process_does_not_keep_the_server_up()
    {
        var embedded = await EmbeddedPostgres.StartAsync(_dir.DataDirectory);
        await using var child = await ChildProcess.StartAsync(_dir.DataDirectory);
        await child.SignalAsync("KILL");
        Assert.Equal(2, Directory.GetFiles(_dir.DataDirectory + ".clients").Length);

        await embedded.DisposeAsync();

        Assert.False(File.Exists(_dir.PidFile));
        Assert.Empty(Directory.GetFiles(_dir.DataDirectory + ".clients"));
    }
}
